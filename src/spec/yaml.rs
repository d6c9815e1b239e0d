//! The one place the YAML libraries are used: serde_yaml turns text into the typed model,
//! and a yaml-rust2 event pass maps a key path (`parameters[2].pattern`) to its position so
//! checks that run after deserialisation can still point at a line and column.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based position in a YAML text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A deserialisation failure with its position, when the YAML library knows it.
#[derive(Debug)]
pub struct DecodeError {
    pub message: String,
    pub position: Option<Position>,
}

/// Deserialises `text` into `T`.
pub fn decode<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    // Enums with data are written as one-key maps (`trigger: {invalid: {...}}`), the
    // form spec authors expect and the JSON Schema describes, not as YAML `!tags`.
    let de = serde_yaml::Deserializer::from_str(text);
    serde_yaml::with::singleton_map_recursive::deserialize(de).map_err(|e| DecodeError {
        position: e.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        }),
        message: e.to_string(),
    })
}

/// Serialises a value as YAML (used for fixtures and state dumps shown to people).
pub fn encode<T: serde::Serialize>(value: &T) -> Result<String, String> {
    let mut out = Vec::new();
    let mut ser = serde_yaml::Serializer::new(&mut out);
    serde_yaml::with::singleton_map_recursive::serialize(value, &mut ser)
        .map_err(|e| e.to_string())?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Positions of every node in a YAML document, keyed by path (`a.b[0].c`).
#[derive(Debug, Default)]
pub struct PositionIndex {
    positions: HashMap<String, Position>,
}

impl PositionIndex {
    /// Indexes `text`. A text the YAML parser rejects yields an empty index (the typed
    /// decode reports that error with its own position).
    pub fn build(text: &str) -> Self {
        let mut builder = IndexBuilder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return Self::default();
        }
        Self {
            positions: builder.positions,
        }
    }

    /// The position of `path`, or of its nearest indexed ancestor.
    pub fn find(&self, path: &str) -> Option<Position> {
        let mut p = path;
        loop {
            if let Some(pos) = self.positions.get(p) {
                return Some(*pos);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

enum Frame {
    /// A mapping; `key` holds the last key read while its value is pending.
    Map {
        path: String,
        key: Option<String>,
        first: bool,
    },
    Seq {
        path: String,
        index: usize,
    },
}

#[derive(Default)]
struct IndexBuilder {
    stack: Vec<Frame>,
    positions: HashMap<String, Position>,
}

impl IndexBuilder {
    /// The path the next value node gets, or `None` when the next scalar is a mapping key.
    fn next_value_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Map { path, key, .. }) => key.take().map(|k| join(path, &k)),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                Some(p)
            }
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl MarkedEventReceiver for IndexBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let pos = Position {
            line: mark.line(),
            column: mark.col() + 1,
        };
        match event {
            Event::Scalar(value, ..) => match self.next_value_path() {
                Some(path) => {
                    self.positions.entry(path).or_insert(pos);
                }
                None => {
                    if let Some(Frame::Map { path, key, first }) = self.stack.last_mut() {
                        // Point a key's path at the key itself: "unknown key" and
                        // "duplicate" errors read best there. A block mapping's own
                        // start mark is imprecise, so the mapping points at its first key.
                        if std::mem::take(first) {
                            self.positions.insert(path.clone(), pos);
                        }
                        self.positions.insert(join(path, &value), pos);
                        *key = Some(value);
                    }
                }
            },
            Event::MappingStart(..) => {
                let path = self.next_value_path().unwrap_or_default();
                self.positions.entry(path.clone()).or_insert(pos);
                self.stack.push(Frame::Map {
                    path,
                    key: None,
                    first: true,
                });
            }
            Event::SequenceStart(..) => {
                let path = self.next_value_path().unwrap_or_default();
                self.positions.entry(path.clone()).or_insert(pos);
                self.stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_paths_and_falls_back_to_ancestors() {
        let text = "api:\n  id: x\nparameters:\n  - name: A\n    pattern: '['\n  - name: B\n";
        let idx = PositionIndex::build(text);
        assert_eq!(idx.find("api.id"), Some(Position { line: 2, column: 3 }));
        assert_eq!(
            idx.find("parameters[0].pattern"),
            Some(Position { line: 5, column: 5 })
        );
        assert_eq!(
            idx.find("parameters[1].name"),
            Some(Position { line: 6, column: 5 })
        );
        // Not present: nearest ancestor.
        assert_eq!(
            idx.find("parameters[1].length.max"),
            Some(Position { line: 6, column: 5 })
        );
    }
}

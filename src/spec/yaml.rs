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

/// Serialises a JSON value as YAML: the text [`encode`] gives, written directly when every
/// scalar in it has one certain form (see [`Plain`]), through serde_yaml otherwise. The
/// runner writes an answer's snapshot text with it for every case, and libyaml's emitter
/// cost more than the rest of the comparison.
pub fn encode_json(value: &serde_json::Value) -> Result<String, String> {
    match encode_simple(value) {
        Some(text) => Ok(text),
        None => serde_yaml::to_string(value).map_err(|e| e.to_string()),
    }
}

/// Lines longer than this may be folded by libyaml (its default width is 80): a scalar
/// whose line would be longer is left to serde_yaml.
const WIDTH: usize = 80;

/// [`encode_json`]'s direct writer, `None` where a scalar's form is not certain: block
/// mappings indented by two, sequences in a mapping not indented, as libyaml writes them.
fn encode_simple(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let mut out = String::with_capacity(256);
    match v {
        Value::Object(m) if !m.is_empty() => block_map(m, 0, false, &mut out)?,
        Value::Array(a) if !a.is_empty() => block_seq(a, 0, false, &mut out)?,
        other => {
            inline(other, 0, &mut out)?;
            out.push('\n');
        }
    }
    Some(out)
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A mapping's members at `at` columns; the first on the current line when `inline`
/// (a sequence item's mapping).
fn block_map(
    m: &serde_json::Map<String, serde_json::Value>,
    at: usize,
    inline_first: bool,
    out: &mut String,
) -> Option<()> {
    use serde_json::Value;
    for (i, (k, v)) in m.iter().enumerate() {
        if !(inline_first && i == 0) {
            indent(out, at);
        }
        if k.len() > 100 {
            return None;
        }
        scalar_str(k, out)?;
        out.push(':');
        match v {
            Value::Object(c) if !c.is_empty() => {
                out.push('\n');
                block_map(c, at + 2, false, out)?;
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                block_seq(a, at, false, out)?;
            }
            other => {
                out.push(' ');
                let line_start = out.rfind('\n').map_or(0, |p| p + 1);
                let column = out.len() - line_start;
                inline(other, column, out)?;
                out.push('\n');
            }
        }
    }
    Some(())
}

/// A sequence's items at `at` columns; the first on the current line when `inline`.
fn block_seq(
    items: &[serde_json::Value],
    at: usize,
    inline_first: bool,
    out: &mut String,
) -> Option<()> {
    use serde_json::Value;
    for (i, v) in items.iter().enumerate() {
        if !(inline_first && i == 0) {
            indent(out, at);
        }
        out.push_str("- ");
        match v {
            Value::Object(c) if !c.is_empty() => block_map(c, at + 2, true, out)?,
            Value::Array(a) if !a.is_empty() => block_seq(a, at + 2, true, out)?,
            other => {
                inline(other, at + 2, out)?;
                out.push('\n');
            }
        }
    }
    Some(())
}

/// A scalar, or an empty mapping or sequence, starting at `column`.
fn inline(v: &serde_json::Value, column: usize, out: &mut String) -> Option<()> {
    use serde_json::Value;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // Floats have forms of their own (`.inf`, `1.0e+20`): left to serde_yaml.
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            use std::fmt::Write;
            let _ = write!(out, "{n}");
        }
        Value::Number(_) => return None,
        Value::String(s) => {
            if column + s.len() > WIDTH {
                return None;
            }
            scalar_str(s, out)?;
        }
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        _ => return None,
    }
    Some(())
}

/// A string's form, when it is certain: plain, or in single quotes when only its first
/// character is a YAML indicator (`@xmlns`).
enum Plain {
    Plain,
    Quoted,
}

/// A byte table for `set`: the writer asks it once per character of every string.
const fn byte_set(set: &[u8], alphanumeric: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < set.len() {
        table[set[i] as usize] = true;
        i += 1;
    }
    let mut c = 0;
    while c < 128 {
        if alphanumeric && (c as u8).is_ascii_alphanumeric() {
            table[c] = true;
        }
        c += 1;
    }
    table
}

/// Characters a plain or single-quoted scalar may hold here, in any place but the first.
const SAFE: [bool; 256] = byte_set(b"_-./<>@: []{}()^$+&", true);
/// Characters of a number's forms (`0x1f`, `-1.5e+3`, `1_000`).
const NUMERIC: [bool; 256] = byte_set(b"0123456789abcdefABCDEF_xXoObB.eE+-", false);

fn plain(s: &str) -> Option<Plain> {
    let b = s.as_bytes();
    let Some((&first, &last)) = b.first().zip(b.last()) else {
        return Some(Plain::Quoted); // ''
    };
    // `...` first is the end of a document (`---` its start, ruled out by `-` below).
    if last == b' ' || last == b':' || s.starts_with("...") {
        return None;
    }
    // One pass: every character safe, and no `  ` or `: ` (a fold or a mapping).
    let mut prev = 0;
    for &c in b {
        if !SAFE[usize::from(c)] || (c == b' ' && matches!(prev, b' ' | b':')) {
            return None;
        }
        prev = c;
    }
    if first == b' ' {
        // A leading space rules the plain form out; libyaml quotes the rest as it is.
        return Some(Plain::Quoted);
    }
    // serde_yaml quotes what would read back as a number or a boolean or null: digits
    // (`1`, `007`) and its own spellings of those words.
    let spelled = [
        "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL",
    ];
    if b.iter().all(u8::is_ascii_digit) || (b.len() <= 5 && spelled.contains(&s)) {
        return Some(Plain::Quoted);
    }
    // A string a number, a boolean or null could be written as (`0x1f`, `1e5`, `.inf`,
    // `007`, `yes`) is left to serde_yaml, which decides whether it needs quotes.
    let unsigned = s.trim_start_matches(['+', '-']);
    let word = s.trim_start_matches(['+', '-', '.']);
    let words = [
        "inf", "infinity", "nan", "y", "n", "yes", "no", "on", "off", "true", "false", "null",
    ]; // at most 8 letters
    let number_like = (first.is_ascii_digit() || b"+-.".contains(&first))
        && b.iter().all(|&c| NUMERIC[usize::from(c)])
        && b.iter().any(u8::is_ascii_digit);
    // Digits and letters with one of `a c d f` (an id such as `15000004d3`), and no
    // `x` or `o` to make a hexadecimal or octal prefix: no number has that form.
    let id = || {
        first.is_ascii_digit()
            && b.iter().all(u8::is_ascii_alphanumeric)
            && !b.iter().any(|c| b"xXoO".contains(c))
            && b.iter().any(|c| b"acdfACDF".contains(c))
    };
    if (number_like && !id())
        || unsigned.is_empty()
        || (word.len() <= 8 && words.iter().any(|w| w.eq_ignore_ascii_case(word)))
    {
        return None;
    }
    match first {
        // An indicator first: quoted, the rest being plain text.
        b'@' => Some(Plain::Quoted),
        // `-` and `:` are indicators before a space, `>` a folded block, `[` and `{`
        // a flow collection, `&` an anchor: left alone.
        b'-' | b':' | b'>' | b'[' | b']' | b'{' | b'}' | b'&' => None,
        _ => Some(Plain::Plain),
    }
}

fn scalar_str(s: &str, out: &mut String) -> Option<()> {
    match plain(s)? {
        Plain::Plain => out.push_str(s),
        Plain::Quoted => {
            out.push('\'');
            out.push_str(s);
            out.push('\'');
        }
    }
    Some(())
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
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn by_serde_yaml(v: &Value) -> String {
        serde_yaml::to_string(v).unwrap()
    }

    #[test]
    fn the_direct_writer_writes_every_snapshot_as_serde_yaml_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
        let (mut files, mut direct) = (0, 0);
        for api in std::fs::read_dir(dir).unwrap() {
            for file in std::fs::read_dir(api.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                if !text.contains("\nsource: tests/conformance.rs\n") {
                    continue; // another test's snapshot (`specs show`)
                }
                // insta's header, then the body serde_yaml wrote.
                let body = text.splitn(3, "---\n").nth(2).unwrap();
                let v: Value = serde_yaml::from_str(body)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(by_serde_yaml(&v).trim_end(), body.trim_end());
                files += 1;
                if let Some(t) = encode_simple(&v) {
                    assert_eq!(t, by_serde_yaml(&v), "{body}");
                    direct += 1;
                }
            }
        }
        // Nearly every answer takes the direct path; the rest have a float, a string
        // that is not ASCII, or a string libyaml might write in another form.
        assert!(
            files > 1000 && direct * 10 > files * 9,
            "{direct} of {files}"
        );
    }

    #[test]
    fn strings_of_uncertain_form_are_left_to_serde_yaml() {
        for s in [
            "0x1f",
            "1e5",
            ".inf",
            "yes",
            "No",
            "~",
            "-x",
            ":x",
            ">x",
            "a: b",
            "a #b",
            "a ",
            " a:",
            "...",
            "a  b",
            "x:",
            "it's",
            "a,b",
            "[a]",
            "\u{e9}t\u{e9}",
        ] {
            assert_eq!(encode_simple(&json!({ "k": s })), None, "{s:?}");
        }
        let long = "word ".repeat(20);
        assert_eq!(encode_simple(&json!({ "k": long.trim() })), None);
        assert_eq!(encode_simple(&json!({ "k": 1.5 })), None);
        assert_eq!(
            encode_simple(&json!({"'@xmlns'": 1, "@xmlns": "https://x.example/doc/2010-05-08/"})),
            None
        );
        assert_eq!(
            encode_simple(&json!({"@xmlns": "https://x.example/doc/2010-05-08/", "Name": -3})),
            Some("'@xmlns': https://x.example/doc/2010-05-08/\nName: -3\n".into())
        );
        // Forms that are certain: an id of digits and letters, `&` inside, a leading space.
        assert_eq!(
            encode_simple(&json!({"Id": "1500000000000004d3", "Sid": "S-1&d-9f", "Name": " (a)"})),
            Some("Id: 1500000000000004d3\nSid: S-1&d-9f\nName: ' (a)'\n".into())
        );
        assert_eq!(
            encode_simple(&json!(["1", "007", "true", "NULL", "yes"])),
            None,
            "`yes` is a string to serde_yaml, but libyaml's form of it is left to it"
        );
        assert_eq!(
            encode_simple(&json!(["1", "007", "true", "NULL"])),
            Some("- '1'\n- '007'\n- 'true'\n- 'NULL'\n".into())
        );
    }

    fn tree() -> impl Strategy<Value = Value> {
        // Strings from pieces that make YAML choose other forms: indicators, spaces,
        // number and boolean look-alikes, and long text that libyaml would fold.
        let piece = prop_oneof![
            Just("a"),
            Just("Bob"),
            Just("x"),
            Just("e"),
            Just("1"),
            Just("0"),
            Just("-"),
            Just(":"),
            Just("@"),
            Just("."),
            Just("/"),
            Just("<"),
            Just(">"),
            Just(" "),
            Just("#"),
            Just("'"),
            Just("yes"),
            Just("inf"),
            Just("true"),
            Just("long text here"),
            Just("["),
            Just("]"),
            Just("{"),
            Just("}"),
            Just("^"),
            Just("$"),
            Just("+"),
            Just(","),
            Just("<matches [0-9a-f]{64}>"),
            Just("d-9f"),
            Just("0x"),
            Just("1.5"),
            Just("_"),
            Just("("),
            Just(")"),
            Just("&"),
            Just("4d3"),
            Just("c"),
            Just("F"),
            Just("b"),
            Just("o"),
            Just("True"),
            Just("NULL"),
            Just("null"),
            Just("00"),
        ];
        let text = proptest::collection::vec(piece, 0..12).prop_map(|p| p.concat());
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            text.clone().prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((text.clone(), inner), 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn the_direct_writer_agrees_with_serde_yaml(v in tree()) {
            prop_assert_eq!(encode_json(&v).unwrap(), by_serde_yaml(&v));
        }
    }

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

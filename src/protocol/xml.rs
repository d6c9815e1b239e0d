//! XML as trees: specs write XML bodies as JSON-like trees (keys are elements in order,
//! `@name` keys are attributes, strings are text, arrays repeat an element). `write`
//! renders such a tree with quick-xml; `read` turns any XML document back into one, so
//! XML and JSON answers can be compared the same way.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};
use serde_json::{Map, Value};

/// Renders a tree as XML, with an `<?xml?>` declaration when `declaration` is set.
pub fn write_doc(tree: &Value, declaration: bool) -> Vec<u8> {
    let mut w = Writer::new(Vec::with_capacity(256));
    if declaration {
        let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    }
    if let Value::Object(root) = tree {
        for (name, v) in root {
            element(&mut w, name, v);
        }
    }
    w.into_inner()
}

/// Renders a tree as XML without a declaration.
pub fn write(tree: &Value) -> Vec<u8> {
    write_doc(tree, false)
}

fn element(w: &mut Writer<Vec<u8>>, name: &str, v: &Value) {
    match v {
        Value::Null => {}
        Value::Array(items) => items.iter().for_each(|i| element(w, name, i)),
        Value::Object(children) => {
            let mut start = BytesStart::new(name);
            for (k, a) in children {
                if let Some(attr) = k.strip_prefix('@') {
                    start.push_attribute((attr, text_of(a).as_str()));
                }
            }
            let _ = w.write_event(Event::Start(start));
            for (k, c) in children {
                if k == "#text" {
                    let _ = w.write_event(Event::Text(BytesText::new(&text_of(c))));
                } else if !k.starts_with('@') {
                    element(w, k, c);
                }
            }
            let _ = w.write_event(Event::End(BytesEnd::new(name)));
        }
        scalar => {
            let _ = w.write_event(Event::Start(BytesStart::new(name)));
            let _ = w.write_event(Event::Text(BytesText::new(&text_of(scalar))));
            let _ = w.write_event(Event::End(BytesEnd::new(name)));
        }
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Why an XML document could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid XML at byte {position}: {message}")]
pub struct XmlError {
    pub position: u64,
    pub message: String,
}

/// Reads an XML document into a tree. Text-only elements become strings, repeated
/// elements become arrays, attributes become `@name` members (namespace declarations
/// included, so a wrong namespace shows in a comparison).
pub fn read(doc: &[u8]) -> Result<Value, XmlError> {
    let mut reader = Reader::from_reader(doc);
    reader.config_mut().trim_text(true);
    // Stack of (name, children, text).
    let mut stack: Vec<(String, Map<String, Value>, String)> =
        vec![(String::new(), Map::new(), String::new())];
    let mut buf = Vec::new();
    let err = |r: &Reader<&[u8]>, m: String| XmlError {
        position: r.buffer_position(),
        message: m,
    };
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                if stack.len() > 256 {
                    return Err(err(&reader, "elements nested deeper than 256".into()));
                }
                let (name, attrs) = start_of(&e).map_err(|m| err(&reader, m))?;
                stack.push((name, attrs, String::new()));
            }
            Ok(Event::Empty(e)) => {
                let (name, attrs) = start_of(&e).map_err(|m| err(&reader, m))?;
                let value = if attrs.is_empty() {
                    Value::String(String::new())
                } else {
                    Value::Object(attrs)
                };
                if let Some(parent) = stack.last_mut() {
                    add_child(&mut parent.1, name, value);
                }
            }
            Ok(Event::Text(t)) => {
                let s = t.unescape().map_err(|e| err(&reader, e.to_string()))?;
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&s);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::End(_)) => {
                let Some((name, children, text)) = stack.pop() else {
                    return Err(err(&reader, "unbalanced end tag".into()));
                };
                let value = if children.is_empty() {
                    Value::String(text)
                } else {
                    let mut c = children;
                    if !text.trim().is_empty() {
                        c.insert("#text".into(), Value::String(text));
                    }
                    Value::Object(c)
                };
                match stack.last_mut() {
                    Some(parent) => add_child(&mut parent.1, name, value),
                    None => return Err(err(&reader, "unbalanced end tag".into())),
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(err(&reader, e.to_string())),
        }
        buf.clear();
    }
    if stack.len() != 1 {
        return Err(err(&reader, "document ends inside an element".into()));
    }
    let (_, root, text) = stack.pop().unwrap_or_default();
    if root.is_empty() {
        return Err(err(
            &reader,
            if text.trim().is_empty() {
                "no root element".into()
            } else {
                "text outside any element".into()
            },
        ));
    }
    Ok(Value::Object(root))
}

fn start_of(e: &BytesStart) -> Result<(String, Map<String, Value>), String> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Map::new();
    for a in e.attributes() {
        let a = a.map_err(|x| x.to_string())?;
        let key = format!("@{}", String::from_utf8_lossy(a.key.as_ref()));
        let val = a.unescape_value().map_err(|x| x.to_string())?;
        attrs.insert(key, Value::String(val.into_owned()));
    }
    Ok((name, attrs))
}

fn add_child(parent: &mut Map<String, Value>, name: String, value: Value) {
    match parent.get_mut(&name) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            parent.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_attributes_children_and_escapes_text() {
        let tree = json!({"R": {"@xmlns": "urn:x", "A": "1 < 2", "B": {"C": 3}, "M": ["x", "y"], "N": null}});
        let s = String::from_utf8(write(&tree)).unwrap();
        assert_eq!(
            s,
            "<R xmlns=\"urn:x\"><A>1 &lt; 2</A><B><C>3</C></B><M>x</M><M>y</M></R>"
        );
    }

    #[test]
    fn reads_back_what_it_writes() {
        let tree =
            json!({"R": {"@xmlns": "urn:x", "A": "1 < 2", "B": {"C": "3"}, "M": ["x", "y"]}});
        assert_eq!(read(&write(&tree)).unwrap(), tree);
    }

    #[test]
    fn broken_documents_are_errors_not_panics() {
        for doc in [
            "",
            "<a>",
            "<a></b>",
            "text",
            "<a><b></a>",
            "<a x='1></a>",
            "</a>",
        ] {
            assert!(read(doc.as_bytes()).is_err(), "{doc:?} should be rejected");
        }
    }

    #[test]
    fn declaration_is_optional() {
        let s = String::from_utf8(write_doc(&json!({"A": "x"}), true)).unwrap();
        assert_eq!(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><A>x</A>");
    }
}

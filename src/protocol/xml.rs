//! XML as trees: specs write XML bodies as JSON-like trees (keys are elements in order,
//! `@name` keys are attributes, strings are text, arrays repeat an element). `write`
//! renders such a tree with quick-xml; `read` turns any XML document back into one, so
//! XML and JSON answers can be compared the same way.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::spec::template::{Shape, View};

/// A node the XML writer walks, in place: of a JSON value, or of a response template
/// seen through its scope (whose references are JSON values, or text).
#[derive(Clone, Copy)]
pub enum Node<'n> {
    Value(&'n Value),
    Template(Shape<'n>),
}

impl<'n> From<&'n Value> for Node<'n> {
    fn from(v: &'n Value) -> Self {
        Node::Value(v)
    }
}

impl<'n> From<Shape<'n>> for Node<'n> {
    fn from(s: Shape<'n>) -> Self {
        match s {
            Shape::Value(v) => Node::Value(v),
            Shape::Absent => Node::Value(&Value::Null),
            other => Node::Template(other),
        }
    }
}

impl<'n> From<View<'n>> for Node<'n> {
    fn from(v: View<'n>) -> Self {
        v.shape().into()
    }
}

impl<'n> Node<'n> {
    /// Text of a scalar (`None` for null, arrays and objects).
    fn text(self) -> Option<Cow<'n, str>> {
        match self {
            Node::Value(Value::String(s)) => Some(Cow::Borrowed(s)),
            Node::Value(v @ (Value::Number(_) | Value::Bool(_))) => Some(Cow::Owned(v.to_string())),
            Node::Template(Shape::Str(s)) => Some(Cow::Borrowed(s)),
            Node::Template(Shape::Now) => {
                Some(Cow::Owned(crate::spec::template::now().to_string()))
            }
            Node::Template(Shape::Text(t)) => Some(Cow::Owned(t.to_string())),
            _ => None,
        }
    }

    fn is_null(self) -> bool {
        matches!(self, Node::Value(Value::Null))
    }

    /// The items of an array, `None` for anything else.
    fn for_each_item(self, f: &mut dyn FnMut(Node<'n>)) -> Option<()> {
        match self {
            Node::Value(Value::Array(items)) => items.iter().for_each(|v| f(v.into())),
            Node::Template(Shape::Array(items, scope)) => {
                Shape::items(items, scope).for_each(|v| f(v.into()))
            }
            _ => return None,
        }
        Some(())
    }

    /// Whether an object has a member that is an attribute (`@name`), set or not.
    fn has_attributes(self) -> bool {
        let attribute = |k: &str| k.starts_with('@');
        match self {
            Node::Value(Value::Object(m)) => m.keys().any(|k| attribute(k)),
            Node::Template(Shape::Object(m, _)) => m.iter().any(|(k, _)| attribute(k)),
            _ => false,
        }
    }

    /// The members of an object, in order; `None` for anything else.
    fn for_each_member(self, f: &mut dyn FnMut(&'n str, Node<'n>)) -> Option<()> {
        match self {
            Node::Value(Value::Object(m)) => m.iter().for_each(|(k, v)| f(k, v.into())),
            Node::Template(Shape::Object(m, scope)) => {
                Shape::members(m, scope).for_each(|(k, v)| f(k, v.into()))
            }
            _ => return None,
        }
        Some(())
    }
}

/// Renders a tree as XML, with an `<?xml?>` declaration when `declaration` is set.
pub fn write_doc<'n>(tree: impl Into<Node<'n>>, declaration: bool) -> Vec<u8> {
    write_doc_sized(tree, declaration, 512)
}

/// [`write_doc`] into a buffer of `capacity` bytes to start with.
///
/// The bytes are the ones quick-xml's `Writer` writes for the same events (a test holds
/// the two together); they are written straight into the buffer, with an escape that looks
/// for the five special characters with `memchr` first, since quick-xml's escape tests
/// each byte in turn, which was a third of an IAM answer's cost.
pub fn write_doc_sized<'n>(
    tree: impl Into<Node<'n>>,
    declaration: bool,
    capacity: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    if declaration {
        out.extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?>"#);
    }
    tree.into()
        .for_each_member(&mut |name, v| element(&mut out, name, v));
    out
}

/// Renders a tree as XML without a declaration.
pub fn write(tree: &Value) -> Vec<u8> {
    write_doc(tree, false)
}

fn element(out: &mut Vec<u8>, name: &str, v: Node<'_>) {
    if v.is_null() || v.for_each_item(&mut |i| element(out, name, i)).is_some() {
        return;
    }
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    if let Some(text) = v.text() {
        out.push(b'>');
        escape_into(out, &text);
        end_tag(out, name);
        return;
    }
    // Attributes first, in a pass of their own, taken only when a member names one:
    // the pass looks up every member's value, which most elements (none of whose
    // members is an attribute) would do for nothing.
    if v.has_attributes() {
        v.for_each_member(&mut |k, a| {
            if let Some(attr) = k.strip_prefix('@') {
                out.push(b' ');
                out.extend_from_slice(attr.as_bytes());
                out.extend_from_slice(b"=\"");
                escape_into(out, &a.text().unwrap_or_default());
                out.push(b'"');
            }
        });
    }
    out.push(b'>');
    v.for_each_member(&mut |k, c| {
        if k == "#text" {
            escape_into(out, &c.text().unwrap_or_default());
        } else if !k.starts_with('@') {
            element(out, k, c);
        }
    });
    end_tag(out, name);
}

fn end_tag(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

/// Appends `text` with `<`, `>`, `&`, `'` and `"` escaped, as quick-xml's `escape` does
/// for text and attribute values.
fn escape_into(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let special = |b: &[u8]| {
        memchr::memchr3(b'<', b'>', b'&', b).is_some() || memchr::memchr2(b'\'', b'"', b).is_some()
    };
    if !special(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let entity: &[u8] = match b {
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'&' => b"&amp;",
            b'\'' => b"&apos;",
            b'"' => b"&quot;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[from..i]);
        out.extend_from_slice(entity);
        from = i + 1;
    }
    out.extend_from_slice(&bytes[from..]);
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
                let s = xml_chars(s.into_owned()).map_err(|m| err(&reader, m))?;
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&s);
                }
            }
            Ok(Event::CData(t)) => {
                let s = xml_chars(String::from_utf8_lossy(&t).into_owned())
                    .map_err(|m| err(&reader, m))?;
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&s);
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
    let name = xml_name(e.name().as_ref())?;
    let mut attrs = Map::new();
    for a in e.attributes() {
        let a = a.map_err(|x| x.to_string())?;
        let key = format!("@{}", xml_name(a.key.as_ref())?);
        let val = a.unescape_value().map_err(|x| x.to_string())?;
        attrs.insert(key, Value::String(xml_chars(val.into_owned())?));
    }
    Ok((name, attrs))
}

/// An element or attribute name, checked against XML 1.0's `Name` production (quick-xml
/// takes any bytes up to a space, `/` or `>`; a name such as `a\0` or `a/` would not
/// survive being written out again, and no XML parser accepts it).
fn xml_name(raw: &[u8]) -> Result<String, String> {
    let name = std::str::from_utf8(raw).map_err(|_| "a name that is not UTF-8".to_string())?;
    let start = |c: char| {
        matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
            | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
            | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
            | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
            | '\u{10000}'..='\u{EFFFF}')
    };
    let rest = |c: char| {
        start(c)
            || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}'
                | '\u{203F}'..='\u{2040}')
    };
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if start(c) && chars.all(rest) => Ok(name.to_string()),
        _ => Err(format!("{name:?} is not an XML name")),
    }
}

/// Text, checked against XML 1.0's `Char` production (no NUL, no C0 controls but tab,
/// newline and carriage return, no U+FFFE/U+FFFF).
fn xml_chars(text: String) -> Result<String, String> {
    match text.chars().find(|&c| {
        !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}'
            | '\u{10000}'..='\u{10FFFF}')
    }) {
        None => Ok(text),
        Some(c) => Err(format!(
            "character U+{:04X} is not allowed in XML",
            u32::from(c)
        )),
    }
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

/// The tree as XML clients read it: element names without their prefixes, each element's
/// namespace URI given as `@xmlns` where it differs from its parent's, and no namespace
/// declarations. Two documents that differ only in their choice of prefixes (or of a
/// default namespace against a prefix) read the same; a different URI does not.
pub fn resolve_namespaces(tree: &Value) -> Value {
    let mut scope = Scope::default();
    match tree {
        Value::Object(root) => {
            let mut out = Map::new();
            for (name, v) in root {
                resolve_element(name, v, &mut scope, "", &mut out);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Prefix → namespace URI ("" is the default namespace), innermost last.
#[derive(Default)]
struct Scope(Vec<(String, String)>);

impl Scope {
    fn lookup(&self, prefix: &str) -> &str {
        self.0
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map_or("", |(_, uri)| uri.as_str())
    }
}

fn resolve_element(
    name: &str,
    v: &Value,
    scope: &mut Scope,
    parent_ns: &str,
    out: &mut Map<String, Value>,
) {
    if let Value::Array(items) = v {
        for item in items {
            resolve_element(name, item, scope, parent_ns, out);
        }
        return;
    }
    let mark = scope.0.len();
    if let Value::Object(m) = v {
        for (k, a) in m {
            let uri = a.as_str().unwrap_or_default().to_string();
            if k == "@xmlns" {
                scope.0.push((String::new(), uri));
            } else if let Some(p) = k.strip_prefix("@xmlns:") {
                scope.0.push((p.to_string(), uri));
            }
        }
    }
    let (prefix, local) = name.split_once(':').unwrap_or(("", name));
    let ns = scope.lookup(prefix).to_string();
    let value = match v {
        Value::Object(m) => {
            let mut o = Map::new();
            if ns != parent_ns {
                o.insert("@xmlns".into(), Value::String(ns.clone()));
            }
            for (k, c) in m {
                if k == "@xmlns" || k.starts_with("@xmlns:") {
                    continue;
                }
                if let Some(attr) = k.strip_prefix('@') {
                    // Prefixed attributes name their namespace; unprefixed ones have none.
                    let key = match attr.split_once(':') {
                        Some((p, l)) => format!("@{{{}}}{l}", scope.lookup(p)),
                        None => k.clone(),
                    };
                    o.insert(key, c.clone());
                } else if k == "#text" {
                    o.insert(k.clone(), c.clone());
                } else {
                    resolve_element(k, c, scope, &ns, &mut o);
                }
            }
            if o.len() == 1 && o.contains_key("#text") {
                o.remove("#text").unwrap_or_default()
            } else if o.is_empty() {
                Value::String(String::new())
            } else {
                Value::Object(o)
            }
        }
        scalar if ns != parent_ns => {
            let mut o = Map::new();
            o.insert("@xmlns".into(), Value::String(ns.clone()));
            if !scalar.as_str().is_some_and(str::is_empty) {
                o.insert("#text".into(), scalar.clone());
            }
            Value::Object(o)
        }
        scalar => scalar.clone(),
    };
    scope.0.truncate(mark);
    add_child(out, local.to_string(), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_attributes_children_and_escapes_text() {
        let tree = json!({"R": {"@xmlns": "urn:x", "@q": "a\"b&<'", "A": "1 < 2", "B": {"C": 3}, "M": ["x", "y"], "N": null}});
        let s = String::from_utf8(write(&tree)).unwrap();
        assert_eq!(
            s,
            "<R xmlns=\"urn:x\" q=\"a&quot;b&amp;&lt;&apos;\"><A>1 &lt; 2</A><B><C>3</C></B><M>x</M><M>y</M></R>"
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
            // Found by the cargo-fuzz campaign: quick-xml takes `\0\0a/` as a name.
            "<\0\0a/>x",
            "<\0a></\0a>",
            "<a>\0</a>",
            "<a x='\u{1}'/>",
            "<1a/>",
        ] {
            assert!(read(doc.as_bytes()).is_err(), "{doc:?} should be rejected");
        }
    }

    #[test]
    fn what_reads_writes_and_reads_again() {
        // The cargo-fuzz campaign's crash input (response_decoder, 2026-11-25), the status
        // byte dropped: it used to read as an element named "\0\0\0\0\0\02oodoc/".
        let doc = b".c\0\0\0\0\0\0\0\0\0\0\0\0\xef\xbb\xbf\0\0\0\x04\0\0\0\0\0\0\x003sta333333-<\0\0\0\0\0\x002oodoc//>amo0E";
        let e = read(doc).expect_err("NUL characters are not XML");
        assert!(e.message.contains("U+0000"), "{e}");
        // The name alone, in an otherwise clean document.
        let e = read(b"<a><\0\0\x02oodoc//>x</a>").expect_err("not a name");
        assert!(e.message.contains("not an XML name"), "{e}");
    }

    #[test]
    fn namespaces_compare_by_uri_not_prefix() {
        let default = read(br#"<R xmlns="urn:a"><A>1</A><B><C>2</C></B></R>"#).unwrap();
        let prefixed =
            read(br#"<p:R xmlns:p="urn:a"><p:A>1</p:A><p:B><p:C>2</p:C></p:B></p:R>"#).unwrap();
        assert_eq!(resolve_namespaces(&default), resolve_namespaces(&prefixed));
        assert_eq!(
            resolve_namespaces(&default),
            json!({"R": {"@xmlns": "urn:a", "A": "1", "B": {"C": "2"}}})
        );
        let other =
            read(br#"<p:R xmlns:p="urn:b"><p:A>1</p:A><p:B><p:C>2</p:C></p:B></p:R>"#).unwrap();
        assert_ne!(resolve_namespaces(&default), resolve_namespaces(&other));
        // A child in another namespace says so; one without any namespace is not silent.
        let mixed =
            read(br#"<R xmlns="urn:a"><x:A xmlns:x="urn:x">1</x:A><B xmlns="">2</B></R>"#).unwrap();
        assert_eq!(
            resolve_namespaces(&mixed),
            json!({"R": {"@xmlns": "urn:a", "A": {"@xmlns": "urn:x", "#text": "1"}, "B": {"@xmlns": "", "#text": "2"}}})
        );
    }

    /// The writer as it was, through quick-xml's `Writer`: what `write_doc` must match.
    fn through_quick_xml(tree: &Value, declaration: bool) -> Vec<u8> {
        use quick_xml::events::{BytesDecl, BytesEnd, BytesText};
        use quick_xml::Writer;
        fn element(w: &mut Writer<Vec<u8>>, name: &str, v: Node<'_>) {
            if v.is_null() || v.for_each_item(&mut |i| element(w, name, i)).is_some() {
                return;
            }
            if let Some(text) = v.text() {
                w.write_event(Event::Start(BytesStart::new(name))).unwrap();
                w.write_event(Event::Text(BytesText::new(&text))).unwrap();
                w.write_event(Event::End(BytesEnd::new(name))).unwrap();
                return;
            }
            let mut start = BytesStart::new(name);
            v.for_each_member(&mut |k, a| {
                if let Some(attr) = k.strip_prefix('@') {
                    start.push_attribute((attr, a.text().unwrap_or_default().as_ref()));
                }
            });
            w.write_event(Event::Start(start)).unwrap();
            v.for_each_member(&mut |k, c| {
                if k == "#text" {
                    let text = c.text().unwrap_or_default();
                    w.write_event(Event::Text(BytesText::new(&text))).unwrap();
                } else if !k.starts_with('@') {
                    element(w, k, c);
                }
            });
            w.write_event(Event::End(BytesEnd::new(name))).unwrap();
        }
        let mut w = Writer::new(Vec::new());
        if declaration {
            w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
                .unwrap();
        }
        Node::from(tree).for_each_member(&mut |name, v| element(&mut w, name, v));
        w.into_inner()
    }

    fn tree() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        // Names from a small set (so that `@` and `#text` keys come up), text with every
        // character the escape treats specially, and non-ASCII.
        let name = prop_oneof![
            Just("A".to_string()),
            Just("B".to_string()),
            Just("@xmlns".to_string()),
            Just("@q".to_string()),
            Just("#text".to_string()),
            "[a-z]{1,3}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a<>&'\"é \t\n]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((name.clone(), inner), 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn writes_what_quick_xml_writes(
            members in proptest::collection::vec(("[A-Z][a-z]{0,3}", tree()), 0..4),
            declaration: bool,
        ) {
            let doc = Value::Object(members.into_iter().collect());
            proptest::prop_assert_eq!(
                String::from_utf8(write_doc(&doc, declaration)).unwrap(),
                String::from_utf8(through_quick_xml(&doc, declaration)).unwrap()
            );
        }
    }

    #[test]
    fn declaration_is_optional() {
        let s = String::from_utf8(write_doc(&json!({"A": "x"}), true)).unwrap();
        assert_eq!(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><A>x</A>");
    }
}

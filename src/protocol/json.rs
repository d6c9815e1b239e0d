//! JSON answers written straight from a compiled template into their buffer.
//!
//! The bytes are serde_json's (a test holds them to `serde_json::to_vec` over random
//! trees and over every embedded spec's answer). What changes is the common case: a
//! template's member names were escaped (by serde_json) when it was compiled, and are
//! copied as they are; a string with nothing to escape (nearly every value) is tested
//! eight bytes at a time and copied whole, where serde_json looks each byte up in its
//! escape table and goes through its serializer's layers for each member. A string that
//! does need escaping is still escaped by serde_json: there is no second escaper.

use serde_json::Value;

use crate::spec::template::{Shape, View};

/// Writes a template's view as serde_json would serialize it.
pub(crate) fn write_view(view: &View<'_>, out: &mut Vec<u8>) {
    write_shape(view.shape(), out);
}

fn write_shape(shape: Shape<'_>, out: &mut Vec<u8>) {
    match shape {
        Shape::Value(v) => write_value(v, out),
        Shape::Str(s) => write_str(s, out),
        Shape::Now => out.extend_from_slice(
            itoa::Buffer::new()
                .format(crate::spec::template::now())
                .as_bytes(),
        ),
        Shape::Text(t) => write_str(&t.to_string(), out),
        Shape::Array(items, scope) => write_array(Shape::items(items, scope), write_shape, out),
        Shape::Object(members, scope) => write_object(
            Shape::keyed_members(members, scope),
            |k, out| out.extend_from_slice(k.json()),
            write_shape,
            out,
        ),
        Shape::Absent => out.extend_from_slice(b"null"),
    }
}

/// Writes a JSON value as serde_json does.
fn write_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::String(s) => write_str(s, out),
        Value::Number(n) => {
            if let Some(i) = n.as_u64() {
                out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
            } else if let Some(i) = n.as_i64() {
                out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
            } else {
                // Floats (and whatever else a number holds) as serde_json writes them.
                serialized(n, out);
            }
        }
        Value::Array(items) => write_array(items.iter(), write_value, out),
        Value::Object(m) => write_object(
            m.iter(),
            |k: &String, out: &mut Vec<u8>| write_key(k, out),
            write_value,
            out,
        ),
    }
}

/// `[item,item]`, each item written by `write`.
fn write_array<T>(
    items: impl Iterator<Item = T>,
    write: impl Fn(T, &mut Vec<u8>),
    out: &mut Vec<u8>,
) {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(item, out);
    }
    out.push(b']');
}

/// `{"name":value,...}`, each `"name":` written by `key` and each value by `write`.
fn write_object<K, T>(
    members: impl Iterator<Item = (K, T)>,
    key: impl Fn(K, &mut Vec<u8>),
    write: impl Fn(T, &mut Vec<u8>),
    out: &mut Vec<u8>,
) {
    out.push(b'{');
    for (i, (k, v)) in members.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        key(k, out);
        write(v, out);
    }
    out.push(b'}');
}

/// `"name":`
fn write_key(k: &str, out: &mut Vec<u8>) {
    write_str(k, out);
    out.push(b':');
}

/// A JSON string: copied between quotes when nothing in it needs escaping, escaped by
/// serde_json otherwise.
fn write_str(s: &str, out: &mut Vec<u8>) {
    if needs_escape(s.as_bytes()) {
        serialized(s, out);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Whether JSON escapes anything in `b`: a control character, a quote or a backslash.
/// Eight bytes are tested at a time, with the usual word tricks: `w - 0x20…` borrows into
/// a byte's top bit exactly where some byte is under 0x20 (bytes of 0x80 and up have that
/// bit already, and `!w` clears it), and `x - 0x01…` where some byte of `x` is zero, for
/// `x` the word with quote or backslash bytes made zero. The test is exact as to whether
/// any byte matches, which is all that is asked.
fn needs_escape(b: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const TOPS: u64 = ONES * 0x80;
    let mut chunks = b.chunks_exact(8);
    let mut found = 0;
    for c in &mut chunks {
        let w = u64::from_ne_bytes(c.try_into().unwrap_or_default());
        let quote = w ^ (ONES * u64::from(b'"'));
        let slash = w ^ (ONES * u64::from(b'\\'));
        let control = w.wrapping_sub(ONES * 0x20) & !w;
        let quote = quote.wrapping_sub(ONES) & !quote;
        let slash = slash.wrapping_sub(ONES) & !slash;
        found |= (control | quote | slash) & TOPS;
    }
    found != 0
        || chunks
            .remainder()
            .iter()
            .any(|&c| c < 0x20 || c == b'"' || c == b'\\')
}

fn serialized(v: &(impl serde::Serialize + ?Sized), out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail, and a string or a number always serializes.
    let _ = serde_json::to_writer(out, v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            // Any text, and text made mostly of what JSON escapes.
            any::<String>().prop_map(Value::String),
            "[\"\\\\\\x00-\\x1f\\x7f a-zé€😀]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec(("[\"\\\\\\x00-\\x1fa-z]{0,12}", inner), 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A template's member names are escaped when it is compiled as serde_json escapes
    /// them when it writes the same tree.
    #[test]
    fn template_member_names_are_written_as_serde_json_writes_them() {
        use crate::spec::template::{Scope, Template};
        let src = serde_json::json!({
            "plain": 1,
            "quo\"te": {"back\\slash": "x", "ctl\u{1}": true},
            "é😀": [{"new\nline": null}],
            "": {}
        });
        let template = Template::compile(&src);
        let params = serde_json::Map::new();
        let scope = Scope {
            params: &params,
            resource: None,
            request_id: "",
            detail: "",
            list: None,
        };
        let mut out = Vec::new();
        write_view(&View::new(&template, &scope), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&src).unwrap()
        );
    }

    /// Every embedded spec's answer, over a stored row whose values need escaping or are
    /// of every JSON type, and over a list page, is written as serde_json writes it.
    #[test]
    fn every_embedded_answer_is_written_as_serde_json_writes_it() {
        use crate::spec::template::{Fields, Scope, Template};
        use serde_json::{json, Map};
        let odd = [
            json!("plain"),
            json!("quote \" slash \\ tab \t nul \u{0} del \u{7f} é 😀"),
            json!(-17),
            json!(1.5e300),
            json!(true),
            json!({"Key": "a\nb", "Nested": [1, "\u{1f}", null]}),
            Value::Null,
        ];
        let params = json!({"UserName": "bob \"the\" builder", "MaxResults": 3})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut list = Map::new();
        list.insert(
            "items".into(),
            json!([{"UserName": "a\u{2}"}, {"UserName": "b"}]),
        );
        list.insert("next".into(), json!("tok\\en"));
        list.insert("truncated".into(), json!(true));
        let (mut written, mut escaped) = (0, 0);
        for spec in crate::spec::embedded().expect("embedded specs") {
            let fields = &spec.resource.fields;
            let values: Vec<Value> = (0..fields.len())
                .map(|i| odd[i % odd.len()].clone())
                .collect();
            let template = Template::compile_for(&spec.response.body, fields);
            let scope = Scope {
                params: &params,
                resource: Some(Fields::Row(fields, &values)),
                request_id: "req-1",
                detail: "",
                list: Some(&list),
            };
            let view = View::new(&template, &scope);
            let mut out = Vec::new();
            write_view(&view, &mut out);
            let out = String::from_utf8(out).unwrap();
            assert_eq!(
                out,
                serde_json::to_string(&view).unwrap(),
                "{}",
                spec.api.id
            );
            written += 1;
            escaped += usize::from(out.contains(r#"\""#));
        }
        // Every API's answers, and the escaping path taken by those that show the user
        // (IAM's update answers nothing of it).
        assert!(written >= 20, "only {written} specs");
        assert!(escaped >= 10, "only {escaped} answers escaped anything");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn the_word_test_finds_what_a_byte_test_finds(
            b in prop::collection::vec(prop_oneof![any::<u8>(), 0x1e..0x24u8, 0x5a..0x5eu8], 0..40)
        ) {
            let naive = b.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\');
            prop_assert_eq!(needs_escape(&b), naive);
        }

        #[test]
        fn a_value_is_written_as_serde_json_writes_it(v in value()) {
            let mut out = Vec::new();
            write_value(&v, &mut out);
            prop_assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&v).unwrap()
            );
        }
    }
}

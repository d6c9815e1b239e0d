//! What every codec reads and writes the same way: form and query pairs, JSON bodies,
//! path templates, labels and headers, percent-encoding, response headers.

use std::borrow::Cow;

use bytes::Bytes;
use http::{header, HeaderValue, Response};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};
use smallvec::SmallVec;

use super::{Malformed, Request};
use crate::spec::model::{Location, ParamType, Parameter, Spec};

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn enc(s: &str) -> String {
    utf8_percent_encode(s, STRICT).to_string()
}

/// A value as the text a form, query string, path or header carries.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Walks a path template (`/api/v1/users/{UserId}`) beside a raw path, calling `label`
/// with each `{Label}`'s name and raw (still percent-encoded) segment; `false` when the
/// path does not match (another segment count, a literal that differs, an empty label).
fn walk_path<'t, 'p>(
    template: &'t str,
    path: &'p str,
    label: impl FnMut(&'t str, &'p str),
) -> bool {
    // A path that matches begins with the template's text up to its first `{` (every
    // segment before it is literal, and equal). Routing asks every REST spec of a method
    // about a request: most are told no by this one comparison.
    let trimmed = template.trim_end_matches('/');
    let literal = &trimmed[..crate::text::find(b'{', trimmed.as_bytes()).unwrap_or(trimmed.len())];
    if !path.starts_with(literal) {
        return false;
    }
    if literal.ends_with('/') {
        // The segments the literal covers are equal: only what follows is walked (the
        // labels and what comes after them). A path with nothing but `/` after it has
        // fewer segments than the template, as the whole walk would find.
        return match path.trim_end_matches('/').get(literal.len()..) {
            Some(rest) => walk_segments(&trimmed[literal.len()..], rest, label),
            None => false,
        };
    }
    walk_segments(template, path, label)
}

/// [`walk_path`], segment by segment.
fn walk_segments<'t, 'p>(
    template: &'t str,
    path: &'p str,
    mut label: impl FnMut(&'t str, &'p str),
) -> bool {
    let mut t = crate::text::split(template.trim_end_matches('/'), b'/');
    let mut p = crate::text::split(path.trim_end_matches('/'), b'/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) => match ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(_) if ps.is_empty() => return false,
                Some(name) => label(name, ps),
                None if ts == ps => {}
                None => return false,
            },
            _ => return false,
        }
    }
}

/// Whether a path template matches a raw path, and with how many `{Label}` segments:
/// what routing needs, without allocating.
pub fn path_fits(template: &str, path: &str) -> Option<usize> {
    let mut labels = 0;
    walk_path(template, path, |_, _| labels += 1).then_some(labels)
}

/// Matches a path template (`/api/v1/users/{UserId}`) against a raw path; returns the
/// raw (still percent-encoded) label values.
pub fn match_path(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut labels = Vec::new();
    walk_path(template, path, |name, value| {
        labels.push((name.to_string(), value.to_string()))
    })
    .then_some(labels)
}

/// The path template with each `{Label}` replaced by its parameter's value.
pub fn fill_path(spec: &Spec, template: &str, params: &Map<String, Value>) -> String {
    spec.parameters
        .iter()
        .filter(|q| q.location == Some(Location::Path))
        .filter_map(|q| params.get(&q.name).map(|v| (q.wire(), v)))
        .fold(template.to_string(), |t, (k, v)| {
            t.replace(&format!("{{{k}}}"), &enc(&text(v)))
        })
}

/// The parameters at `loc` as (wire name, value), in spec order; at `body_loc`, the
/// members no parameter names follow (cases that check a service refuses them send
/// them).
pub fn params_at(
    spec: &Spec,
    params: &Map<String, Value>,
    loc: Location,
    body_loc: Location,
) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = spec
        .parameters
        .iter()
        .filter(|q| q.location == Some(loc))
        .filter_map(|q| {
            params
                .get(&q.name)
                .map(|v| (q.wire().to_string(), v.clone()))
        })
        .collect();
    if loc == body_loc {
        v.extend(
            params
                .iter()
                .filter(|(k, _)| !spec.parameters.iter().any(|q| &q.name == *k))
                .map(|(k, x)| (k.clone(), x.clone())),
        );
    }
    v
}

/// The parameters a request's JSON object gives, by spec name; unknown members too for a
/// spec that refuses them (so that validation can name them).
pub fn body_params(spec: &Spec, mut body: Map<String, Value>) -> Map<String, Value> {
    let mut body_params = spec
        .parameters
        .iter()
        .filter(|p| p.location == Some(Location::Body));
    if body_params.all(|p| p.wire() == p.name) {
        // Each member is named as its parameter: the request's own map is the parameters'
        // map, less the members that are not body parameters. Nothing is moved or hashed
        // again (the members' order is the request's; nothing reads the map in order but
        // the unknown members, which keep theirs).
        body.retain(
            |k, _| match spec.parameters.iter().find(|p| p.wire() == k) {
                Some(p) => p.location == Some(Location::Body),
                None => spec.validation.reject_unknown,
            },
        );
        return body;
    }
    let mut out = Map::with_capacity(spec.parameters.len());
    take_members(spec, body, &mut out);
    out
}

/// The body members of `params` as the request's JSON object.
fn take_members(spec: &Spec, mut body: Map<String, Value>, out: &mut Map<String, Value>) {
    for p in spec
        .parameters
        .iter()
        .filter(|p| p.location == Some(Location::Body))
    {
        // Taken, not copied: no two parameters read one wire name (the loader checks).
        // The member keeps its order among the rest (reported in order when unknown), and
        // its name's text when that is the parameter's name too.
        if let Some((k, v)) = body.shift_remove_entry(p.wire()) {
            out.insert(if k == p.name { k } else { p.name.clone() }, v);
        }
    }
    // A spec that refuses unknown members sees them, so that validation can.
    if spec.validation.reject_unknown {
        for (k, v) in body {
            if !spec.parameters.iter().any(|p| p.wire() == k) {
                out.insert(k, v);
            }
        }
    }
}

/// Path labels, headers and query parameters of a REST request.
pub fn take_labels_and_headers(
    spec: &Spec,
    template: &str,
    req: &Request,
    out: &mut Map<String, Value>,
) -> Result<(), Malformed> {
    // Labels are read only from a path that matches the template as a whole: they are
    // held until the walk has seen all of it.
    let mut labels: SmallVec<[(&str, &str); 4]> = SmallVec::new();
    if walk_path(template, req.uri().path(), |name, raw| {
        labels.push((name, raw))
    }) {
        for (name, raw) in labels {
            let p = spec
                .parameters
                .iter()
                .find(|p| p.location == Some(Location::Path) && p.wire() == name);
            let Some(p) = p else { continue };
            let v = decode_label(raw)
                .ok_or_else(|| Malformed(format!("path label '{name}' is not UTF-8")))?;
            out.insert(p.name.clone(), Value::String(v));
        }
    }
    let mut query = None;
    for p in &spec.parameters {
        match p.location {
            Some(Location::Header) => {
                if let Some(v) = header_value(req.headers(), p.wire()) {
                    let s = v
                        .to_str()
                        .map_err(|_| Malformed(format!("header '{}' is not ASCII", p.wire())))?;
                    out.insert(p.name.clone(), Value::String(s.to_string()));
                }
            }
            Some(Location::Query) => {
                let pairs = query.get_or_insert_with(|| query_pairs(req));
                if let Some((_, v)) = pairs.iter().find(|(k, _)| k == p.wire()) {
                    out.insert(p.name.clone(), Value::String(v.to_string()));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A path label percent-decoded, as `percent_encoding` decodes it (a `%` not followed by
/// two hex digits stays as it is); `None` when the bytes it stands for are not UTF-8.
/// A label with no `%` is its own text, copied as it is (the usual id). Any other is
/// copied a run at a time between its `%`s into one buffer of the raw label's size, the
/// most it takes, where the crate's decoder yields a byte at a time (a WorkDocs user id
/// always has its `&` escaped).
fn decode_label(raw: &str) -> Option<String> {
    let mut rest = raw.as_bytes();
    let Some(first) = crate::text::find(b'%', rest) else {
        return Some(raw.to_owned());
    };
    let mut bytes = Vec::with_capacity(rest.len());
    let mut at = Some(first);
    while let Some(i) = at {
        bytes.extend_from_slice(&rest[..i]);
        let hex = |k: usize| rest.get(i + k).and_then(|&d| char::from(d).to_digit(16));
        match (hex(1), hex(2)) {
            (Some(hi), Some(lo)) => {
                // Two hex digits make one byte: `hi * 16 + lo` is under 256.
                bytes.push((hi * 16 + lo) as u8);
                rest = &rest[i + 3..];
            }
            _ => {
                bytes.push(b'%');
                rest = &rest[i + 1..];
            }
        }
        at = crate::text::find(b'%', rest);
    }
    bytes.extend_from_slice(rest);
    String::from_utf8(bytes).ok()
}

/// The first value of the header `name`, in any case: what `HeaderMap::get` finds, by
/// comparing the few names a request has with it rather than parsing and hashing it.
fn header_value<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h HeaderValue> {
    headers
        .iter()
        .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A JSON object body (an empty body is an empty object).
pub fn json_body(body: &[u8]) -> Result<Map<String, Value>, Malformed> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Malformed("the request body must be a JSON object".into())),
        Err(e) if e.is_eof() => Err(Malformed(format!("the JSON body ends early: {e}"))),
        Err(e) => Err(Malformed(format!("the body is not valid JSON: {e}"))),
    }
}

/// Decoded name/value pairs, borrowed from the request where nothing needed decoding.
pub type Pairs<'r> = Vec<(Cow<'r, str>, Cow<'r, str>)>;

pub fn query_pairs(req: &Request) -> Pairs<'_> {
    req.uri()
        .query()
        .map(|q| crate::text::pairs(q).collect())
        .unwrap_or_default()
}

fn is_form(req: &Request) -> bool {
    const FORM: &[u8] = b"application/x-www-form-urlencoded";
    req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        // The type's bytes first: a JSON request (asked on every routing) is told apart
        // without `to_str` checking its whole value, which it still does for a form's.
        v.as_bytes()
            .get(..FORM.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(FORM))
            && v.to_str().is_ok()
    })
}

/// The form body, when the request has one (a form content type and a non-empty body).
fn form_body(req: &Request) -> Option<&[u8]> {
    (is_form(req) && !req.body().is_empty()).then(|| req.body().as_ref())
}

/// The form body as text: `Err` when there is one that is not UTF-8.
fn form_text(req: &Request) -> Result<&str, std::str::Utf8Error> {
    form_body(req).map_or(Ok(""), std::str::from_utf8)
}

/// Whether the request has a form body that cannot be read (it is not UTF-8).
pub fn form_body_undecodable(req: &Request) -> bool {
    form_text(req).is_err()
}

/// Query-string pairs followed by form-body pairs (query protocols accept both), decoded
/// as they are read; `Malformed` when the form body is not UTF-8.
fn form_pairs_read(
    req: &Request,
) -> Result<impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)>, Malformed> {
    let body = form_text(req).map_err(|_| Malformed("the form body is not UTF-8".into()))?;
    let pairs = crate::text::pairs;
    Ok(pairs(req.uri().query().unwrap_or("")).chain(pairs(body)))
}

/// [`form_pairs_read`], held.
pub fn form_pairs(req: &Request) -> Result<Pairs<'_>, Malformed> {
    Ok(form_pairs_read(req)?.collect())
}

/// The first value of `key` in the query string or the form body (what [`form_pairs`]
/// would find first), decoding pairs only until it is found.
/// Borrowed from the request where nothing needed decoding (routing allocates nothing).
pub fn form_value<'r>(req: &'r Request, key: &str) -> Option<std::borrow::Cow<'r, str>> {
    form_pairs_read(req)
        .ok()?
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Sets a response header (names and values that are not valid HTTP are skipped).
pub fn set(resp: &mut Response<Bytes>, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        header::HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        resp.headers_mut().insert(n, v);
    }
}

/// Parameters of a query request, by spec name, as the strings the wire gives.
pub fn query_params(spec: &Spec, req: &Request) -> Result<Map<String, Value>, Malformed> {
    if spec
        .parameters
        .iter()
        .all(|p| !matches!(p.ty, ParamType::List | ParamType::Structure))
    {
        // Every parameter is one pair: read as the pairs come, without holding them,
        // each value moved when decoding already copied it. The first pair of a name
        // counts, as `find_text` reads it.
        let mut out = Map::with_capacity(spec.parameters.len());
        let mut seen: SmallVec<[usize; 8]> = SmallVec::new();
        for (k, v) in form_pairs_read(req)? {
            let Some(i) = spec.parameters.iter().position(|p| p.wire() == k) else {
                continue;
            };
            if !seen.contains(&i) {
                seen.push(i);
                let name = spec.parameters[i].name.clone();
                out.insert(name, Value::String(v.into_owned()));
            }
        }
        return Ok(out);
    }
    query_params_nested(spec, req)
}

/// [`query_params`] for operations with list or structure parameters: the pairs held, and
/// each parameter looked for among them.
fn query_params_nested(spec: &Spec, req: &Request) -> Result<Map<String, Value>, Malformed> {
    let pairs = form_pairs(req)?;
    let mut out = Map::with_capacity(spec.parameters.len());
    for p in &spec.parameters {
        if let Some(v) = query_value(p, p.wire(), &pairs) {
            out.insert(p.name.clone(), v);
        }
    }
    Ok(out)
}

/// One parameter from awsQuery pairs: text as sent; a list from `Name.member.N` (an
/// empty one from `Name=`), a structure from `Name.Member` (AWS's query serialisation).
fn query_value(p: &Parameter, name: &str, pairs: &[(Cow<str>, Cow<str>)]) -> Option<Value> {
    let nested = |k: &str| {
        k.strip_prefix(name)
            .and_then(|r| r.strip_prefix('.'))
            .is_some()
    };
    match p.ty {
        ParamType::List if pairs.iter().any(|(k, _)| nested(k)) => {
            let member = p.member.as_deref()?;
            let prefix = format!("{name}.{}.", member.wire());
            let mut numbers: Vec<u64> = pairs
                .iter()
                .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split('.').next()?.parse().ok())
                .collect();
            numbers.sort_unstable();
            numbers.dedup();
            let items = numbers
                .iter()
                .filter_map(|n| query_value(member, &format!("{prefix}{n}"), pairs))
                .collect();
            Some(Value::Array(items))
        }
        ParamType::List => pairs
            .iter()
            .find(|(k, v)| k == name && v.is_empty())
            .map(|_| Value::Array(Vec::new()))
            .or_else(|| find_text(name, pairs)),
        ParamType::Structure if pairs.iter().any(|(k, _)| nested(k)) => {
            let mut o = Map::new();
            for m in &p.members {
                if let Some(v) = query_value(m, &format!("{name}.{}", m.wire()), pairs) {
                    o.insert(m.name.clone(), v);
                }
            }
            Some(Value::Object(o))
        }
        _ => find_text(name, pairs),
    }
}

fn find_text(name: &str, pairs: &[(Cow<str>, Cow<str>)]) -> Option<Value> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| Value::String(v.as_ref().to_owned()))
}

/// The awsQuery pairs of one parameter's value: lists as `Name.member.N`, structures as
/// `Name.Member`, an empty list as `Name=`, anything else as its text.
pub fn query_pairs_of(
    p: Option<&Parameter>,
    name: &str,
    v: &Value,
    out: &mut Vec<(String, String)>,
) {
    match (p, v) {
        (Some(p), Value::Array(items)) if p.ty == ParamType::List => {
            if items.is_empty() {
                out.push((name.to_string(), String::new()));
            }
            let member = p.member.as_deref();
            let seg = member.map_or("member", |m| m.wire());
            for (i, item) in items.iter().enumerate() {
                query_pairs_of(member, &format!("{name}.{seg}.{}", i + 1), item, out);
            }
        }
        (Some(p), Value::Object(o)) if matches!(p.ty, ParamType::Structure) => {
            for (k, mv) in o {
                let m = p.members.iter().find(|m| &m.name == k);
                let wire = m.map_or(k.as_str(), |m| m.wire());
                query_pairs_of(m, &format!("{name}.{wire}"), mv, out);
            }
        }
        _ => out.push((name.to_string(), text(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map's entries by name: what two readings must agree on, order apart.
    fn sorted(m: &Map<String, Value>) -> Vec<(String, Value)> {
        let mut v: Vec<_> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Every embedded query spec reads a form the same way through the pairs as they come
    /// and through the held pairs: first pair of a name wins, query before body, names that
    /// are no parameter's skipped, escapes decoded.
    #[test]
    fn query_parameters_read_as_they_come_are_the_held_pairs_reading() {
        for spec in crate::spec::embedded().expect("embedded specs") {
            if !matches!(spec.protocol, crate::spec::model::Protocol::AwsQuery(_)) {
                continue;
            }
            let mut body = String::from("Action=X&Version=1&Unknown=u&");
            for (i, p) in spec.parameters.iter().enumerate() {
                body.push_str(&format!("{}=v{i}%2Fa+b&{}=second&", p.wire(), p.wire()));
            }
            let first = spec.parameters.first().map_or("none", |p| p.wire());
            let req = http::Request::builder()
                .method("POST")
                .uri(format!("/?{first}=from-query"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Bytes::from(body))
                .unwrap();
            let fast = query_params(&spec, &req).unwrap();
            let held = query_params_nested(&spec, &req).unwrap();
            assert_eq!(sorted(&fast), sorted(&held), "{}", spec.api.id);
        }
    }

    /// Every embedded spec's body read in place gives the parameters, values and unknown
    /// members that moving each member into a new map gives (order apart: nothing reads
    /// the map in order but the unknown members, which keep theirs).
    #[test]
    fn a_body_read_in_place_gives_what_moving_its_members_gives() {
        for spec in crate::spec::embedded().expect("embedded specs") {
            let mut body = Map::new();
            for (i, p) in spec.parameters.iter().enumerate() {
                body.insert(p.wire().to_string(), Value::from(i));
            }
            body.insert("NotAParameter".into(), Value::from("x"));
            body.insert("AlsoUnknown".into(), Value::Null);
            let mut moved = Map::new();
            take_members(&spec, body.clone(), &mut moved);
            let in_place = body_params(&spec, body);
            assert_eq!(sorted(&in_place), sorted(&moved), "{}", spec.api.id);
            let unknown = |m: &Map<String, Value>| {
                m.keys()
                    .filter(|k| !spec.parameters.iter().any(|p| &p.name == *k))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(unknown(&in_place), unknown(&moved), "{}", spec.api.id);
        }
    }

    #[test]
    fn a_path_fits_its_template_with_its_labels_read_raw() {
        for (t, p, fits, labels) in [
            (
                "/api/v1/users/{UserId}",
                "/api/v1/users/S-1%26x",
                Some(1),
                &[("UserId", "S-1%26x")][..],
            ),
            ("/api/v1/users/{UserId}", "/api/v1/users/", None, &[]),
            ("/api/v1/users/{UserId}", "/api/v1/users/a/b", None, &[]),
            ("/v1/users/detail", "/v1/users/detail", Some(0), &[]),
            ("/v1/users/detail", "/v1/users/details", None, &[]),
            ("/v1/users", "/v1/users/", Some(0), &[]),
            ("/", "/", Some(0), &[]),
            ("/{a}/x/{b}", "/1/x/2", Some(2), &[("a", "1"), ("b", "2")]),
        ] {
            assert_eq!(path_fits(t, p), fits, "{t} against {p}");
            assert_eq!(match_path(t, p).map(|l| l.len()), fits, "{t} against {p}");
            let mut seen = Vec::new();
            if walk_path(t, p, |name, raw| seen.push((name.to_owned(), raw))) {
                let seen: Vec<(&str, &str)> = seen.iter().map(|(n, r)| (n.as_str(), *r)).collect();
                assert_eq!(seen, labels, "{t} against {p}");
            }
        }
    }

    proptest::proptest! {
        /// A header is found, in any case, as the map finds it: its first value, and
        /// none for a name that is not a header name.
        #[test]
        fn a_header_value_is_the_one_the_map_gets(
            sent in proptest::collection::vec(("[a-cA-C-]{1,3}", "[a-z]{0,3}"), 0..8),
            name in "[a-cA-C-]{0,3}|[a-c ]{1,3}|é",
        ) {
            let mut headers = http::HeaderMap::new();
            for (n, v) in &sent {
                let n = http::HeaderName::from_bytes(n.as_bytes()).unwrap();
                headers.append(n, HeaderValue::from_str(v).unwrap());
            }
            proptest::prop_assert_eq!(header_value(&headers, &name), headers.get(name.as_str()));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]
        /// The quick refusal by the literal text before the first label changes no
        /// answer: a path fits, with the same labels, as the segment walk alone says.
        #[test]
        fn a_path_walk_answers_as_the_segment_walk_alone(
            t in "(/([ab]{0,2}|\\{[xy]{0,1}\\}|[a{}]{0,3})){0,4}/?",
            p in "(/[ab{}]{0,2}){0,4}/?",
        ) {
            let (mut quick, mut slow) = (Vec::new(), Vec::new());
            let fits = walk_path(&t, &p, |n, r| quick.push((n, r)));
            let fits_slow = walk_segments(&t, &p, |n, r| slow.push((n, r)));
            proptest::prop_assert_eq!(fits, fits_slow);
            if fits {
                proptest::prop_assert_eq!(quick, slow);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]
        /// A label decodes as `percent_encoding` decodes it, with or without a `%`: the
        /// same text (a `%` without two hex digits after it kept), and `None` where the
        /// bytes are not UTF-8 (`%C3%A9` is `é`, `%C3` alone is not UTF-8).
        #[test]
        fn a_label_decodes_as_percent_encoding_decodes_it(
            raw in "([a-z0-9._~-]|é|%[0-9a-fA-F]{0,2}|%[g-z]|%[cC]3|%[aA]9){0,6}"
        ) {
            let slow = percent_encoding::percent_decode_str(&raw)
                .decode_utf8()
                .ok()
                .map(|s| s.into_owned());
            proptest::prop_assert_eq!(decode_label(&raw), slow);
        }
    }

    proptest::proptest! {
        /// A request has a form body exactly when its content type reads as text and
        /// begins with the form type, in any case (what `to_str` and a text compare say).
        #[test]
        fn a_form_is_told_as_the_text_of_its_content_type_tells(
            head in "(application/x-www-form-urlencoded|APPLICATION/X-WWW-FORM-URLENCODED|application/json|application/x-amz-json-1.1|)",
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4),
        ) {
            let mut value = head.into_bytes();
            value.extend(tail);
            let Ok(v) = HeaderValue::from_bytes(&value) else { return Ok(()) };
            let text = v.to_str().ok().map(str::to_owned);
            let mut req = http::Request::new(Bytes::new());
            req.headers_mut().insert(header::CONTENT_TYPE, v);
            let want = text.is_some_and(|ct| {
                ct.get(..33).is_some_and(|t| t.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
            });
            proptest::prop_assert_eq!(is_form(&req), want);
        }
    }
}

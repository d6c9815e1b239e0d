//! Judging an answer the way the protocol's clients read it. The answer is reduced to a
//! tree (status, media type, error code, body) with what varies between runs masked
//! after its format is checked, then compared with the recorded snapshot as a tree:
//! object members by name (order never matters), arrays and repeated XML elements in
//! order, XML names by namespace URI (not prefix), error codes as AWS clients read them
//! (`ns#Code:suffix` is `Code`). Members the snapshot does not have are warnings (clients
//! ignore them) unless strict; missing or different members are failures. The diff is a
//! unified diff of both trees with their members sorted, so it shows only what differs.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use similar::TextDiff;

use smallvec::SmallVec;

use crate::spec::model::{CompareMode, CompareRule, Spec};

use super::client::Observed;

use crate::protocol::clean_code;

/// The media type alone, lower-case: `Text/XML; charset=UTF-8` is `text/xml`.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The answer reduced to what must not vary: the snapshot's content. Values that vary
/// are masked (`<uuid>`, `<present>` ...) when they have the format the spec gives, and
/// left as they are when they do not, so the comparison shows them.
pub fn normalise(spec: &Spec, o: &Observed) -> Value {
    let xml = spec.protocol.is_xml();
    // Read with namespaces resolved (`protocol::read_body`).
    let mut body = o.body.clone();
    if o.status < 300 {
        for rule in &spec.response.compare {
            apply_rule(&mut body, rule, xml);
        }
    } else {
        mask_error(spec, &mut body, xml, true);
    }
    let mut top = Map::new();
    top.insert("status".into(), Value::from(o.status));
    top.insert(
        "content_type".into(),
        Value::from(media_type(&o.content_type)),
    );
    if let Some(c) = &o.code {
        top.insert("code".into(), Value::from(c.as_str()));
    }
    top.insert("body".into(), body);
    Value::Object(top)
}

/// The YAML a snapshot file holds for a normalised answer.
pub fn snapshot_text(v: &Value) -> String {
    crate::spec::yaml::encode_json(v).unwrap_or_default()
}

/// What a masked value is replaced with, and whether `v` may be masked.
fn mask(rule: &CompareRule, v: &Value, xml: bool) -> Option<Value> {
    match &rule.mode {
        CompareMode::Exact => None,
        CompareMode::Ignored => Some(Value::Null),
        CompareMode::Present => Some(Value::from("<present>")),
        CompareMode::Pattern(p) => {
            // Compiled by the loader; a rule built by hand is compiled here.
            let ok = v.as_str().is_some_and(|s| match &rule.compiled {
                Some(re) => re.is_match(s),
                None => crate::spec::pattern::whole_match(p).is_ok_and(|re| re.is_match(s)),
            });
            ok.then(|| Value::from(format!("<matches {p}>")))
        }
        CompareMode::Format(f) => f
            .accepts(v, xml)
            .then(|| Value::from(format!("<{}>", f.name()))),
    }
}

fn apply_rule(body: &mut Value, rule: &CompareRule, xml: bool) {
    let keys: SmallVec<[&str; 8]> = rule.path.split('/').collect();
    apply_at(body, &keys, rule, xml);
}

/// Applies a rule at `keys` below `cur`; a list on the way applies it to each item (the
/// items of a list answer).
fn apply_at(cur: &mut Value, keys: &[&str], rule: &CompareRule, xml: bool) {
    if let Value::Array(items) = cur {
        for item in items {
            apply_at(item, keys, rule, xml);
        }
        return;
    }
    let Some((first, rest)) = keys.split_first() else {
        return;
    };
    if !rest.is_empty() {
        if let Some(next) = cur.get_mut(*first) {
            apply_at(next, rest, rule, xml);
        }
        return;
    }
    let Some(obj) = cur.as_object_mut() else {
        return;
    };
    if let CompareMode::Ignored = rule.mode {
        obj.remove(*first);
        return;
    }
    if let Some(v) = obj.get_mut(*first) {
        if let Some(m) = mask(rule, v, xml) {
            *v = m;
        }
    }
}

/// Error bodies: message text is compared loosely (present, any words), request ids by
/// the spec's format, `__type` as clients read it; JSON `message` is `Message` (botocore
/// reads either).
fn mask_error(spec: &Spec, v: &mut Value, xml: bool, top: bool) {
    match v {
        Value::Object(m) => {
            if top && !xml {
                if let Some(msg) = m.remove("message") {
                    m.entry("Message").or_insert(msg);
                }
            }
            for (k, val) in m.iter_mut() {
                match k.as_str() {
                    "Message" | "message" | "text" if val.is_string() => {
                        *val = Value::from("<message>")
                    }
                    "RequestId" | "RequestID" | "requestId" => {
                        if spec.response.request_id.accepts(val, xml) {
                            *val = Value::from("<request-id>");
                        }
                    }
                    "__type" => {
                        if let Some(s) = val.as_str() {
                            *val = Value::from(clean_code(s));
                        }
                    }
                    _ => mask_error(spec, val, xml, false),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| mask_error(spec, i, xml, false)),
        _ => {}
    }
}

/// How an answer compares with its snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judgement {
    /// Members missing or different: failures.
    pub differences: Vec<String>,
    /// Members the snapshot does not have (paths): warnings, or failures when strict.
    pub extra: Vec<String>,
    /// Unified diff of the sorted trees (extra members left out unless strict), when
    /// anything fails.
    pub diff: Option<String>,
}

/// Compares a normalised answer with the expected one (both as [`normalise`] makes them).
pub fn judge(expected: &Value, actual: &Value, strict: bool) -> Judgement {
    let mut j = Judgement::default();
    walk(expected, actual, String::new(), &mut j);
    // Outside the body (status, media type, code) nothing is extra: it differs.
    let (body_extra, other): (Vec<String>, Vec<String>) =
        j.extra.drain(..).partition(|p| p.starts_with("body"));
    j.differences
        .extend(other.into_iter().map(|p| format!("{p}: not expected")));
    j.extra = body_extra;
    // Another kind of answer altogether (another status or code): its members are not a
    // newer version's additions to tolerate but part of what is wrong.
    let other_answer = j.differences.iter().any(|d| !d.starts_with("body"));
    if other_answer {
        j.differences
            .extend(j.extra.drain(..).map(|p| format!("{p}: not expected")));
    }
    if !j.differences.is_empty() || (strict && !j.extra.is_empty()) {
        let shown = if strict || other_answer {
            actual.clone()
        } else {
            without(actual, &j.extra)
        };
        j.diff = Some(diff(
            &snapshot_text(&sorted(expected)),
            &snapshot_text(&sorted(&shown)),
        ));
    }
    j
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}/{key}")
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a structure",
    }
}

fn walk(e: &Value, a: &Value, path: String, j: &mut Judgement) {
    match (e, a) {
        (Value::Object(em), Value::Object(am)) => {
            for (k, ev) in em {
                let p = join(&path, k);
                match am.get(k) {
                    Some(av) => walk(ev, av, p, j),
                    None => j.differences.push(format!("{p}: missing")),
                }
            }
            for k in am.keys().filter(|k| !em.contains_key(*k)) {
                j.extra.push(join(&path, k));
            }
        }
        (Value::Array(ea), Value::Array(aa)) => {
            for (i, (ev, av)) in ea.iter().zip(aa).enumerate() {
                walk(ev, av, join(&path, &i.to_string()), j);
            }
            if ea.len() != aa.len() {
                j.differences.push(format!(
                    "{path}: {} items (expected {})",
                    aa.len(),
                    ea.len()
                ));
            }
        }
        (Value::String(es), other) if is_mask(es) && other != e => j
            .differences
            .push(format!("{path}: {} is not {es}", short(other))),
        (e, a) if e == a => {}
        (e, a) if std::mem::discriminant(e) != std::mem::discriminant(a) => {
            j.differences.push(format!(
                "{path}: {} {} (expected {} {})",
                kind(a),
                short(a),
                kind(e),
                short(e)
            ))
        }
        (e, a) => j
            .differences
            .push(format!("{path}: {} (expected {})", short(a), short(e))),
    }
}

/// A masked value in a snapshot: `<uuid>`, `<present>`, `<matches ...>`.
fn is_mask(s: &str) -> bool {
    s.len() > 2 && s.starts_with('<') && s.ends_with('>') && !s.contains('\n')
}

/// `v` without the members at `paths` (slash-separated, as [`judge`] reports them).
fn without(v: &Value, paths: &[String]) -> Value {
    let mut out = v.clone();
    for p in paths {
        remove_at(&mut out, &p.split('/').collect::<Vec<_>>());
    }
    out
}

fn remove_at(v: &mut Value, keys: &[&str]) {
    match (keys, v) {
        ([last], Value::Object(m)) => {
            m.remove(*last);
        }
        ([first, rest @ ..], Value::Object(m)) => {
            if let Some(next) = m.get_mut(*first) {
                remove_at(next, rest);
            }
        }
        ([first, rest @ ..], Value::Array(a)) => {
            if let Some(next) = first.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                remove_at(next, rest);
            }
        }
        _ => {}
    }
}

/// The tree with every object's members in name order (the diff's canonical form).
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Reads a snapshot's content back into a tree.
pub fn parse_snapshot(text: &str) -> Result<Value, String> {
    crate::spec::decode_yaml(text)
}

/// Where a case's snapshot lives: `snapshots/<api>/<case path with / as __>.snap`.
pub fn snapshot_path(dir: &Path, case_name: &str) -> PathBuf {
    let (api, rest) = case_name.split_once('/').unwrap_or(("", case_name));
    dir.join(api).join(format!("{}.snap", snapshot_name(rest)))
}

/// Snapshot files under `dir` that no case in `cases` reads: left behind when a case
/// was renamed or a parameter removed. Only the folders of the cases' APIs are looked at.
pub fn orphan_snapshots<'c>(
    dir: &Path,
    cases: impl IntoIterator<Item = &'c str>,
) -> std::io::Result<Vec<PathBuf>> {
    let mut wanted = std::collections::BTreeSet::new();
    let mut apis = std::collections::BTreeSet::new();
    for name in cases {
        let path = snapshot_path(dir, name);
        if let Some(parent) = path.parent() {
            apis.insert(parent.to_path_buf());
        }
        wanted.insert(path);
    }
    let mut orphans = Vec::new();
    for api_dir in apis {
        let entries = match std::fs::read_dir(&api_dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|x| x == "snap") && !wanted.contains(&path) {
                orphans.push(path);
            }
        }
    }
    orphans.sort();
    Ok(orphans)
}

/// The insta snapshot name of a case (without the API).
pub fn snapshot_name(rest: &str) -> String {
    rest.chars()
        .map(|c| match c {
            '/' => '_',
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+') => c,
            _ => '~',
        })
        .collect()
}

/// The content of an insta `.snap` file (after its `---` header).
///
/// Read into one buffer that becomes the answer: the runner reads a snapshot for every
/// case. Through `take`, the read does not ask the file's size first (`fs::read`'s
/// `statx`), which a 4 KiB buffer makes needless for all but the largest snapshots.
pub fn read_snapshot(path: &Path) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut text = String::with_capacity(4096);
    file.take(u64::MAX).read_to_string(&mut text).ok()?;
    let end = text.strip_prefix("---\n")?.find("\n---\n")?;
    let start = 4 + end + 5;
    let keep = text.trim_end().len().max(start);
    text.truncate(keep);
    text.drain(..start);
    text.push('\n');
    Some(text)
}

/// Writes a snapshot in insta's format, so `cargo insta review` and the CLI share it.
pub fn write_snapshot(path: &Path, case_name: &str, content: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(
        path,
        format!(
            "---\nsource: tests/conformance.rs\nexpression: \"{}\"\n---\n{}",
            case_name.replace('"', "'"),
            content.trim_end()
        ) + "\n",
    )
}

/// A unified diff, expected (the snapshot) against actual.
pub fn diff(expected: &str, actual: &str) -> String {
    TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("expected (snapshot)", "actual")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: Value) -> Value {
        json!({"status": status, "content_type": "application/json", "body": body})
    }

    #[test]
    fn member_order_does_not_matter_and_arrays_keep_theirs() {
        let e = answer(200, json!({"A": 1, "B": {"C": [1, 2]}}));
        let a = answer(200, json!({"B": {"C": [1, 2]}, "A": 1}));
        assert_eq!(judge(&e, &a, false), Judgement::default());
        let swapped = answer(200, json!({"B": {"C": [2, 1]}, "A": 1}));
        assert_eq!(
            judge(&e, &swapped, false).differences,
            ["body/B/C/0: 2 (expected 1)", "body/B/C/1: 1 (expected 2)"]
        );
    }

    #[test]
    fn a_value_of_another_type_differs() {
        let e = answer(200, json!({"N": 0}));
        let a = answer(200, json!({"N": "0"}));
        assert_eq!(
            judge(&e, &a, false).differences,
            [r#"body/N: a string "0" (expected a number 0)"#]
        );
    }

    #[test]
    fn extra_members_are_tolerated_unless_strict() {
        let e = answer(200, json!({"A": 1}));
        let a = answer(200, json!({"A": 1, "New": true}));
        let j = judge(&e, &a, false);
        assert!(j.differences.is_empty() && j.diff.is_none());
        assert_eq!(j.extra, ["body/New"]);
        let j = judge(&e, &a, true);
        assert!(j
            .diff
            .as_deref()
            .is_some_and(|d| d.contains("+  New: true")));
    }

    #[test]
    fn another_kind_of_answer_shows_all_its_members() {
        let e = answer(400, json!({"Message": "<message>"}));
        let a = answer(200, json!({"Listing": [1]}));
        let j = judge(&e, &a, false);
        assert!(j.extra.is_empty(), "{:?}", j.extra);
        assert!(j
            .differences
            .contains(&"body/Listing: not expected".to_string()));
        assert!(j.diff.as_deref().is_some_and(|d| d.contains("+  Listing:")));
    }

    #[test]
    fn a_masked_value_that_is_not_masked_names_its_format() {
        let e = answer(200, json!({"RequestId": "<uuid>"}));
        let a = answer(200, json!({"RequestId": "req-7"}));
        assert_eq!(
            judge(&e, &a, false).differences,
            [r#"body/RequestId: "req-7" is not <uuid>"#]
        );
    }

    #[test]
    fn a_snapshot_reads_back_as_written_whatever_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.snap");
        // Larger than the first read's buffer, and with trailing blank lines.
        let long = format!("status: 200\nbody: {}\n", "x".repeat(9000));
        for content in ["status: 200\n", "status: 200\n\n\n", long.as_str(), ""] {
            write_snapshot(&path, "api/case", content).unwrap();
            let expected = content.trim_end().to_string() + "\n";
            assert_eq!(read_snapshot(&path).as_deref(), Some(expected.as_str()));
        }
        std::fs::write(&path, "no insta header\n").unwrap();
        assert_eq!(read_snapshot(&path), None);
        assert_eq!(read_snapshot(&dir.path().join("none.snap")), None);
    }
}

//! Comparing an answer with what the spec and the recorded snapshot expect: status and
//! error code exactly; the body as a tree after normalising what varies between runs
//! (the spec's `compare` rules, request ids, message text), against an insta snapshot
//! under `snapshots/<api>/`, shown as a unified diff when it differs.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use similar::TextDiff;

use crate::spec::model::{CompareMode, Spec};

use super::client::Observed;

/// The answer reduced to what must not vary: the snapshot's content.
pub fn normalise(spec: &Spec, o: &Observed) -> String {
    let mut body = o.body.clone();
    if o.status < 300 {
        for rule in &spec.response.compare {
            apply_rule(&mut body, &rule.path, &rule.mode);
        }
    } else {
        mask_error(&mut body);
    }
    let mut top = Map::new();
    top.insert("status".into(), Value::from(o.status));
    top.insert(
        "content_type".into(),
        Value::from(o.content_type.split(';').next().unwrap_or("").trim()),
    );
    if let Some(c) = &o.code {
        top.insert("code".into(), Value::from(c.as_str()));
    }
    top.insert("body".into(), body);
    crate::spec::to_yaml(&Value::Object(top)).unwrap_or_default()
}

fn apply_rule(body: &mut Value, path: &str, mode: &CompareMode) {
    let keys: Vec<&str> = path.split('/').collect();
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut cur = body;
    for k in parents {
        match cur.get_mut(*k) {
            Some(next) => cur = next,
            None => return,
        }
    }
    let Some(obj) = cur.as_object_mut() else {
        return;
    };
    match mode {
        CompareMode::Exact => {}
        CompareMode::Ignored => {
            obj.remove(*last);
        }
        CompareMode::Present => {
            if obj.contains_key(*last) {
                obj.insert(last.to_string(), Value::from("<present>"));
            }
        }
        CompareMode::Pattern(p) => {
            let matches = regex::Regex::new(&format!("^(?:{p})$"))
                .ok()
                .is_some_and(|re| {
                    obj.get(*last)
                        .map(|v| match v {
                            Value::String(s) => re.is_match(s),
                            other => re.is_match(&other.to_string()),
                        })
                        .unwrap_or(false)
                });
            if matches {
                obj.insert(last.to_string(), Value::from(format!("<matches {p}>")));
            }
        }
    }
}

/// Error bodies: message text is compared loosely (only its presence), request ids vary.
fn mask_error(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                match k.as_str() {
                    "Message" | "message" | "text" => *val = Value::from("<message>"),
                    "RequestId" | "RequestID" | "requestId" => *val = Value::from("<request-id>"),
                    _ => mask_error(val),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_error),
        _ => {}
    }
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
pub fn read_snapshot(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some(rest[end + 5..].trim_end().to_string() + "\n")
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

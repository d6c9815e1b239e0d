//! `apiconform snapshots diff A B`: where two snapshot sets disagree, case by case, judged
//! as the runner judges an answer (trees, members by name, masks), every member counted
//! (as `--strict`). A is the reference: a recording of the real service against the
//! shipped snapshots shows where the documents and reality part.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::compare;
use super::redact::{self, Redactor};

/// How one case's snapshots compare.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Same,
    /// Both exist and differ: the differences (paths), and a unified diff.
    Differs {
        differences: Vec<String>,
        diff: String,
    },
    OnlyInA,
    OnlyInB,
    /// One of them cannot be read.
    Unreadable(String),
}

/// One case of either set.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The case's name (from the snapshot's header, else from its path).
    pub case: String,
    pub state: State,
}

/// `<api>/<file>.snap` → path, under `dir`, for the APIs asked (all when empty).
fn snapshots(dir: &Path, apis: &[String]) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut out = BTreeMap::new();
    let top = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for api_dir in top.filter_map(Result::ok).map(|e| e.path()) {
        let Some(api) = api_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
        else {
            continue;
        };
        if !api_dir.is_dir() || (!apis.is_empty() && !apis.contains(&api)) {
            continue;
        }
        let files =
            std::fs::read_dir(&api_dir).map_err(|e| format!("{}: {e}", api_dir.display()))?;
        for f in files.filter_map(Result::ok).map(|e| e.path()) {
            if f.extension().is_some_and(|x| x == "snap") {
                let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
                if let Some(name) = name {
                    out.insert(format!("{api}/{name}"), f);
                }
            }
        }
    }
    Ok(out)
}

/// The case a snapshot file is of: its header's `expression`.
fn case_name(path: &Path, key: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| {
            t.lines()
                .take_while(|l| !l.is_empty())
                .skip(1)
                .take_while(|l| *l != "---")
                .find_map(|l| l.strip_prefix("expression: "))
                .map(|e| e.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| key.trim_end_matches(".snap").to_string())
}

fn read(path: &Path) -> Result<serde_json::Value, String> {
    compare::read_snapshot(path)
        .ok_or_else(|| format!("{}: not a snapshot", path.display()))
        .and_then(|t| compare::parse_snapshot(&t).map_err(|e| format!("{}: {e}", path.display())))
}

/// Compares the snapshot sets in `a` and `b` (only the APIs in `apis`, all when empty).
pub fn diff_dirs(a: &Path, b: &Path, apis: &[String]) -> Result<Vec<Entry>, String> {
    let (sa, sb) = (snapshots(a, apis)?, snapshots(b, apis)?);
    let mut keys: Vec<&String> = sa.keys().chain(sb.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let (pa, pb) = (sa.get(key), sb.get(key));
        let case = case_name(pa.or(pb).map(PathBuf::as_path).unwrap_or(a), key);
        let state = match (pa, pb) {
            (Some(_), None) => State::OnlyInA,
            (None, Some(_)) => State::OnlyInB,
            (Some(pa), Some(pb)) => match (read(pa), read(pb)) {
                (Ok(va), Ok(vb)) => {
                    // A redacted recording on either side: both redacted alike.
                    let (va, vb) = if redact::has_markers(&va) || redact::has_markers(&vb) {
                        let r = Redactor::new();
                        (r.tree(&va), r.tree(&vb))
                    } else {
                        (va, vb)
                    };
                    let j = compare::judge(&va, &vb, true);
                    let mut differences = j.differences;
                    differences.extend(j.extra.iter().map(|p| format!("{p}: only in B")));
                    if differences.is_empty() {
                        State::Same
                    } else {
                        State::Differs {
                            differences,
                            diff: j.diff.unwrap_or_default(),
                        }
                    }
                }
                (Err(e), _) | (_, Err(e)) => State::Unreadable(e),
            },
            (None, None) => continue,
        };
        out.push(Entry { case, state });
    }
    Ok(out)
}

/// The listing: one line per case that is not the same (with `diffs`, the unified diff
/// under it), then the counts.
pub fn render(a: &Path, b: &Path, entries: &[Entry], diffs: bool) -> String {
    let mut out = String::new();
    let width = entries
        .iter()
        .map(|e| e.case.len())
        .max()
        .unwrap_or(0)
        .min(70);
    let (mut same, mut differ, mut only_a, mut only_b, mut bad) = (0, 0, 0, 0, 0);
    for e in entries {
        match &e.state {
            State::Same => same += 1,
            State::Differs { differences, diff } => {
                differ += 1;
                let mut shown: Vec<&str> = differences.iter().take(4).map(String::as_str).collect();
                let more;
                if differences.len() > 4 {
                    more = format!("{} more", differences.len() - 4);
                    shown.push(&more);
                }
                let _ = writeln!(out, "{:<width$}  differs: {}", e.case, shown.join("; "));
                if diffs {
                    for line in diff.lines() {
                        let _ = writeln!(out, "    {line}");
                    }
                }
            }
            State::OnlyInA => {
                only_a += 1;
                let _ = writeln!(out, "{:<width$}  only in A", e.case);
            }
            State::OnlyInB => {
                only_b += 1;
                let _ = writeln!(out, "{:<width$}  only in B", e.case);
            }
            State::Unreadable(why) => {
                bad += 1;
                let _ = writeln!(out, "{:<width$}  unreadable: {why}", e.case);
            }
        }
    }
    let _ = writeln!(
        out,
        "A = {}, B = {}: {same} same, {differ} differ, {only_a} only in A, {only_b} only in B{}",
        a.display(),
        b.display(),
        if bad > 0 {
            format!(", {bad} unreadable")
        } else {
            String::new()
        }
    );
    out
}

/// Whether the sets agree.
pub fn agree(entries: &[Entry]) -> bool {
    entries.iter().all(|e| e.state == State::Same)
}

//! The console's view of a finished run: a table per API of passed, failed and skipped
//! cases by category, failures grouped by cause (what the target answered: status, media
//! type, error code and the shape of the body), so that 82 cases failing for one reason
//! read as one line, and the first case of each group in full with the commands that
//! re-run it. While the run goes on, [`Progress`] prints each failure as one line and, on a
//! terminal, a progress line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::cases::Case;
use super::replay::Invocation;
use super::Outcome;

/// The categories of the per-API table, in order.
pub const CATEGORIES: [&str; 6] = [
    "examples",
    "constraints",
    "errors",
    "auth",
    "state",
    "suites",
];

/// The category of a case, from the kind in its name (`api/<kind>/...`).
pub fn category(case: &Case) -> &'static str {
    match case.name.split('/').nth(1).unwrap_or_default() {
        "example" => "examples",
        "required" | "length" | "pattern" | "enum" | "range" | "type" | "items" | "unknown"
        | "rule" => "constraints",
        "not-found" | "conflict" | "injected" | "malformed" => "errors",
        "auth" | "forbidden" => "auth",
        "effect" => "state",
        "suite" => "suites",
        _ => "other",
    }
}

/// `passed`, `failed` or `skipped`.
pub fn result(o: &Outcome) -> &'static str {
    if o.skipped.is_some() {
        "skipped"
    } else if o.failures.is_empty() {
        "passed"
    } else {
        "failed"
    }
}

/// Why a failed case failed, as seen from outside, stable across runs: the status, the
/// media type, the error code and the shape of the body the target answered (member names,
/// no values), e.g. `404 text/xml NoSuchEntity ErrorResponse{Error{Code,Message,Type},RequestId}`
/// or `500 text/html "500 Internal Server Error"`; for a case that got no answer, what
/// stopped it (`no answer`, `target stalled`, `before_each 1` ...). `None` for a case that
/// passed or was skipped.
pub fn cause(o: &Outcome) -> Option<String> {
    if o.failures.is_empty() || o.skipped.is_some() {
        return None;
    }
    let Some(obs) = &o.observed else {
        let first = o
            .failures
            .first()
            .map_or_else(|| "failed".to_string(), ToString::to_string);
        return Some(first.split(':').next().unwrap_or(&first).trim().to_string());
    };
    let media = super::compare::media_type(&obs.content_type);
    let mut s = format!(
        "{} {}",
        obs.status,
        if media.is_empty() {
            "(no content type)"
        } else {
            &media
        }
    );
    if let Some(code) = &obs.code {
        s.push(' ');
        s.push_str(code);
    }
    s.push(' ');
    s.push_str(&body_signature(&obs.body));
    Some(clip(&s, 160))
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The shape of a body: member names in order of name, nested, without values; a text
/// body by its first words (an HTML page by its title).
pub fn body_signature(body: &Value) -> String {
    match body {
        Value::Null => "(empty body)".into(),
        Value::String(s) => {
            // A document in another format than the protocol's (XML where JSON was due):
            // its shape all the same.
            let t = s.trim_start();
            let parsed = if t.starts_with('<') && !t.to_ascii_lowercase().contains("<html") {
                crate::protocol::xml::read(t.as_bytes()).ok()
            } else if t.starts_with('{') || t.starts_with('[') {
                serde_json::from_str(t).ok()
            } else {
                None
            };
            if let Some(tree @ (Value::Object(_) | Value::Array(_))) = parsed {
                return body_signature(&tree);
            }
            let lower = s.to_ascii_lowercase();
            let title = lower
                .find("<title>")
                .and_then(|a| lower[a..].find("</title>").map(|b| (a + 7, a + b)))
                .map(|(a, b)| &s[a..b]);
            let text = title.unwrap_or_else(|| {
                s.lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or_default()
            });
            let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
            format!("{:?}", clip(&words, 60))
        }
        Value::Object(m) if m.len() == 1 => {
            // One root element (XML): its name and shape, without the braces around it.
            let s = shape(body);
            s[1..s.len() - 1].to_string()
        }
        other => shape(other),
    }
}

fn shape(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().filter(|k| !k.starts_with('@')).collect();
            keys.sort();
            let inner: Vec<String> = keys
                .into_iter()
                .map(|k| match &m[k] {
                    Value::Object(_) | Value::Array(_) => format!("{k}{}", shape(&m[k])),
                    _ => k.clone(),
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => match a.first() {
            Some(first @ (Value::Object(_) | Value::Array(_))) => format!("[{}]", shape(first)),
            _ => "[]".into(),
        },
        Value::Null => "null".into(),
        _ => "value".into(),
    }
}

/// Failed cases with the same cause, most frequent first.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub cause: String,
    pub outcomes: Vec<&'a Outcome>,
}

/// The failed outcomes grouped by [`cause`]: the largest group first, then in run order.
pub fn groups(outcomes: &[Outcome]) -> Vec<Group<'_>> {
    let mut out: Vec<Group> = Vec::new();
    for o in outcomes {
        let Some(c) = cause(o) else { continue };
        match out.iter_mut().find(|g| g.cause == c) {
            Some(g) => g.outcomes.push(o),
            None => out.push(Group {
                cause: c,
                outcomes: vec![o],
            }),
        }
    }
    // Stable: equal counts keep the order of their first case.
    out.sort_by_key(|g| std::cmp::Reverse(g.outcomes.len()));
    out
}

/// Counts of passed, failed and skipped cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Counts {
    pub fn add(&mut self, o: &Outcome) {
        match result(o) {
            "passed" => self.passed += 1,
            "failed" => self.failed += 1,
            _ => self.skipped += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }
}

/// Per API, per category: the counts (categories in [`CATEGORIES`] order, then `other`).
pub fn by_api(outcomes: &[Outcome]) -> BTreeMap<String, Vec<(&'static str, Counts)>> {
    let mut m: BTreeMap<String, BTreeMap<&'static str, Counts>> = BTreeMap::new();
    for o in outcomes {
        m.entry(o.case.api.clone())
            .or_default()
            .entry(category(&o.case))
            .or_default()
            .add(o);
    }
    m.into_iter()
        .map(|(api, cats)| {
            let mut rows: Vec<(&'static str, Counts)> = CATEGORIES
                .iter()
                .chain(std::iter::once(&"other"))
                .filter_map(|c| cats.get(c).map(|n| (*c, *n)))
                .collect();
            let mut all = Counts::default();
            for (_, n) in &rows {
                all.passed += n.passed;
                all.failed += n.failed;
                all.skipped += n.skipped;
            }
            rows.push(("all", all));
            (api, rows)
        })
        .collect()
}

/// The per-API tables.
pub fn tables(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for (api, rows) in by_api(outcomes) {
        let _ = writeln!(
            out,
            "{api:<24} {:>7} {:>7} {:>8}",
            "passed", "failed", "skipped"
        );
        for (cat, n) in rows {
            let _ = writeln!(
                out,
                "  {cat:<22} {:>7} {:>7} {:>8}",
                n.passed, n.failed, n.skipped
            );
        }
    }
    out
}

/// How many case names a group lists before "… and N more".
const LISTED: usize = 5;

/// The console report: each cause's first case in full (reasons, request, diff, notes, the
/// commands that re-run it), warnings grouped, the per-API tables, the causes with their
/// counts and first cases, and the summary line.
pub fn console(outcomes: &[Outcome], inv: &Invocation) -> String {
    let mut out = String::new();
    let groups = groups(outcomes);
    for g in &groups {
        let Some(first) = g.outcomes.first() else {
            continue;
        };
        out.push_str(&super::report::text_block(first));
        let _ = writeln!(out, "  rerun:  {}", inv.rerun(&first.case.name));
        let _ = writeln!(out, "  replay: {}", inv.replay(&first.case.name));
        if g.outcomes.len() > 1 {
            let _ = writeln!(
                out,
                "  (+{} more case(s) with this cause: listed below; each in full in --report, --json, --junit)",
                g.outcomes.len() - 1
            );
        }
    }
    // Warnings of passing cases, by text.
    let mut warned: Vec<(&str, Vec<&str>)> = Vec::new();
    for o in outcomes.iter().filter(|o| o.failures.is_empty()) {
        for w in &o.warnings {
            match warned.iter_mut().find(|(t, _)| *t == w.as_str()) {
                Some((_, names)) => names.push(&o.case.name),
                None => warned.push((w, vec![&o.case.name])),
            }
        }
    }
    for (w, names) in &warned {
        let _ = writeln!(out, "WARN {} case(s): {w}", names.len());
        let _ = writeln!(out, "  {}", listed(names));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&tables(outcomes));
    if !groups.is_empty() {
        let failed: usize = groups.iter().map(|g| g.outcomes.len()).sum();
        let _ = writeln!(
            out,
            "\nFailures by cause ({failed} failed case(s), {} cause(s)):",
            groups.len()
        );
        for g in &groups {
            let _ = writeln!(out, "  {} case(s): {}", g.outcomes.len(), g.cause);
            let _ = writeln!(out, "    expected: {}", expected_breakdown(&g.outcomes));
            let names: Vec<&str> = g.outcomes.iter().map(|o| o.case.name.as_str()).collect();
            let _ = writeln!(out, "    {}", listed(&names));
        }
    }
    let _ = writeln!(out, "\n{}", super::report::summary(outcomes));
    out
}

/// What the cases of a group expected: `success (12), ValidationError (15)`.
pub fn expected_breakdown(outcomes: &[&Outcome]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for o in outcomes {
        let e = match &o.case.expect {
            super::cases::Expect::Success => "success".to_string(),
            super::cases::Expect::Error(c) => c.clone(),
        };
        match counts.iter_mut().find(|(k, _)| *k == e) {
            Some((_, n)) => *n += 1,
            None => counts.push((e, 1)),
        }
    }
    counts
        .iter()
        .map(|(k, n)| format!("{k} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn listed(names: &[&str]) -> String {
    let mut s = names
        .iter()
        .take(LISTED)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED {
        let _ = write!(s, ", … and {} more", names.len() - LISTED);
    }
    s
}

/// What is printed while the cases run: one line per failure on stderr (unless quiet),
/// and on a terminal (not in CI, not quiet) a progress line rewritten in place.
pub struct Progress {
    total: usize,
    quiet: bool,
    line: bool,
    failed: AtomicUsize,
    last: Mutex<Option<Instant>>,
}

impl Progress {
    /// `quiet`: no failure lines and no progress line. The progress line is drawn only
    /// when stderr is a terminal and `CI` is not set.
    pub fn new(total: usize, quiet: bool) -> Self {
        let line = !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Self {
            total,
            quiet,
            line,
            failed: AtomicUsize::new(0),
            last: Mutex::new(None),
        }
    }

    /// After each case (`done` cases so far).
    pub fn tick(&self, o: &Outcome, done: usize) {
        let failed = !o.failures.is_empty();
        if failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        let mut err = std::io::stderr().lock();
        if failed && !self.quiet {
            if self.line {
                let _ = write!(err, "\r\x1b[K");
            }
            let _ = writeln!(
                err,
                "FAIL {}: {}",
                o.case.name,
                super::failure::join(&o.failures, "; ")
            );
        }
        if !self.line {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        let due = last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
        if due || failed || done == self.total {
            *last = Some(Instant::now());
            // Within 80 columns: a line that wraps could not be rewritten in place.
            let line = format!(
                "[{done}/{}] {} failed  {}",
                self.total,
                self.failed.load(Ordering::Relaxed),
                o.case.name
            );
            let _ = write!(err, "\r\x1b[K{}", clip(&line, 79));
            let _ = err.flush();
        }
    }

    /// Clears the progress line.
    pub fn finish(&self) {
        if self.line {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

//! `--ctrf FILE`: the Common Test Report Format (<https://ctrf.io>), a JSON document that
//! CI dashboards and PR commenters read. One test per case: its name, status (`passed`,
//! `failed`, `skipped`), duration in milliseconds, suite path (API, category), the failure
//! reasons as the message and the request, diff and notes as the trace. apiconform's own
//! facts (cause, category, what the case covers, the baseline's verdict, the commands that
//! re-run it) are under `extra`, with keys prefixed `apiconform.` as CTRF asks of
//! producers. `tests/fixtures/ctrf/` holds the JSON Schema it is validated against.

use serde_json::{json, Map, Value};

use super::super::baseline::Comparison;
use super::super::replay::Invocation;
use super::super::summary;
use super::super::Outcome;

/// The CTRF specification version these documents follow (the schema in
/// `tests/fixtures/ctrf/`).
pub const SPEC_VERSION: &str = "0.0.0";

/// When the run started and ended (milliseconds since the Unix epoch), and where.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Run {
    pub start_ms: i64,
    pub stop_ms: i64,
    /// `target` of the reports' header: a profile, or the embedded fake.
    pub target: String,
    /// `--shard K/N`, when the run was one part.
    pub shard: Option<String>,
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The CTRF document of a run.
pub fn render(
    outcomes: &[Outcome],
    run: &Run,
    invocation: &Invocation,
    baseline: Option<&Comparison>,
) -> String {
    let mut tests = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        let status = summary::result(o);
        let mut t = Map::new();
        t.insert("name".into(), json!(o.case.name));
        t.insert("status".into(), json!(status));
        t.insert("duration".into(), json!(ms(o.elapsed)));
        t.insert(
            "suite".into(),
            json!([o.case.api, summary::category(&o.case)]),
        );
        t.insert("type".into(), json!("conformance"));
        let mut extra = Map::new();
        extra.insert("apiconform.covers".into(), json!(o.case.covers));
        if let Some(why) = &o.skipped {
            t.insert("message".into(), json!(why));
        }
        if !o.failures.is_empty() {
            t.insert(
                "message".into(),
                json!(crate::runner::failure::join(&o.failures, "; ")),
            );
            let mut trace = format!("request:\n{}\n", o.request);
            for d in [&o.diff, &o.state_diff].into_iter().flatten() {
                trace.push('\n');
                trace.push_str(d);
            }
            for n in &o.notes {
                trace.push('\n');
                trace.push_str(n);
            }
            t.insert("trace".into(), json!(trace));
            if let Some(c) = summary::cause(o) {
                extra.insert("apiconform.cause".into(), json!(c));
            }
            extra.insert(
                "apiconform.rerun".into(),
                json!(invocation.rerun(&o.case.name)),
            );
            extra.insert(
                "apiconform.replay".into(),
                json!(invocation.replay(&o.case.name)),
            );
            if let Some(b) = baseline {
                let outside = b.regressions.iter().any(|r| r.case == o.case.name);
                extra.insert(
                    "apiconform.baseline".into(),
                    json!(if outside { "outside" } else { "accepted" }),
                );
            }
        }
        if !o.warnings.is_empty() {
            t.insert("stdout".into(), json!(o.warnings));
        }
        if let Some(obs) = &o.observed {
            extra.insert("apiconform.status".into(), json!(obs.status));
            if let Some(c) = &obs.code {
                extra.insert("apiconform.code".into(), json!(c));
            }
        }
        t.insert("extra".into(), Value::Object(extra));
        tests.push(Value::Object(t));
    }
    let count = |s: &str| outcomes.iter().filter(|o| summary::result(o) == s).count();
    let suites: std::collections::BTreeSet<&str> =
        outcomes.iter().map(|o| o.case.api.as_str()).collect();
    let mut env = Map::new();
    env.insert("appName".into(), json!(run.target));
    env.insert("testEnvironment".into(), json!(run.target));
    let mut env_extra = Map::new();
    if let Some(s) = &run.shard {
        env_extra.insert("apiconform.shard".into(), json!(s));
    }
    env_extra.insert("apiconform.options".into(), json!(invocation.args));
    env.insert("extra".into(), Value::Object(env_extra));
    let mut extra = Map::new();
    if let Some(b) = baseline {
        extra.insert(
            "apiconform.baseline".into(),
            json!({
                "file": b.file,
                "accepted_seen": b.known.len(),
                "outside": b.regressions.iter().map(|r| &r.case).collect::<Vec<_>>(),
                "fixed": b.fixed.iter().map(|e| &e.case).collect::<Vec<_>>(),
            }),
        );
    }
    let timestamp =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(run.stop_ms) * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            });
    let mut doc = json!({
        "reportFormat": "CTRF",
        "specVersion": SPEC_VERSION,
        "reportId": uuid::Uuid::new_v4().to_string(),
        "generatedBy": format!("apiconform {}", env!("CARGO_PKG_VERSION")),
        "results": {
            "tool": {"name": "apiconform", "version": env!("CARGO_PKG_VERSION")},
            "summary": {
                "tests": outcomes.len(),
                "passed": count("passed"),
                "failed": count("failed"),
                "skipped": count("skipped"),
                "pending": 0,
                "other": 0,
                "suites": suites.len(),
                "start": run.start_ms,
                "stop": run.stop_ms,
                "duration": (run.stop_ms - run.start_ms).max(0),
            },
            "tests": tests,
            "environment": env,
        },
    });
    if let Some(ts) = timestamp {
        doc["timestamp"] = json!(ts);
    }
    if !extra.is_empty() {
        doc["results"]["extra"] = Value::Object(extra);
    }
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

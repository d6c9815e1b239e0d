//! Reports: one block per failure (case, request, reasons, diff), a summary line, JUnit
//! XML for CI systems, JSON for tools, and the coverage table of constraints and error rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use crate::spec::model::Spec;

use super::cases::Case;
use super::Outcome;

pub mod badge;
pub mod ctrf;
pub mod html;
pub mod markdown;
pub mod matrix;
pub mod publish;

/// Failures in full (reasons, the request, the diffs, the spec's notes), then the
/// warnings of passing cases, then `N passed, M failed, K skipped`.
pub fn text(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes.iter().filter(|o| !o.failures.is_empty()) {
        out.push_str(&text_block(o));
    }
    for o in outcomes
        .iter()
        .filter(|o| o.failures.is_empty() && !o.warnings.is_empty())
    {
        let _ = writeln!(out, "WARN {}", o.case.name);
        for w in &o.warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
    let _ = writeln!(out, "{}", summary(outcomes));
    out
}

/// One failure in full: `FAIL case`, the reasons, warnings, the request, the diffs and
/// the spec's notes.
pub fn text_block(o: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "FAIL {}", o.case.name);
    for f in &o.failures {
        let _ = writeln!(out, "  - {f}");
    }
    for w in &o.warnings {
        let _ = writeln!(out, "  warning: {w}");
    }
    let _ = writeln!(out, "  request:");
    for line in o.request.lines() {
        let _ = writeln!(out, "    {line}");
    }
    for d in [&o.diff, &o.state_diff].into_iter().flatten() {
        for line in d.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    for n in &o.notes {
        let _ = writeln!(out, "  {n}");
    }
    out
}

pub fn summary(outcomes: &[Outcome]) -> String {
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let skipped = outcomes.iter().filter(|o| o.skipped.is_some()).count();
    let failed = outcomes.len() - passed - skipped;
    let secs: f64 = outcomes.iter().map(|o| o.elapsed.as_secs_f64()).sum();
    let warned = outcomes.iter().filter(|o| !o.warnings.is_empty()).count();
    let warned = if warned == 0 {
        String::new()
    } else {
        format!(", {warned} with warnings")
    };
    format!(
        "{passed} passed, {failed} failed, {skipped} skipped ({} cases{warned}, {secs:.2} s in cases)",
        outcomes.len()
    )
}

fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// JUnit XML: one `<testsuite>` per API, one `<testcase>` per case.
pub fn junit(outcomes: &[Outcome]) -> String {
    let mut by_api: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        by_api.entry(o.case.api.as_str()).or_default().push(o);
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"apiconform\">\n",
    );
    for (api, os) in by_api {
        let failures = os.iter().filter(|o| !o.failures.is_empty()).count();
        let skipped = os.iter().filter(|o| o.skipped.is_some()).count();
        let time: f64 = os.iter().map(|o| o.elapsed.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{time:.3}\">",
            esc(api),
            os.len()
        );
        for o in os {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                esc(api),
                esc(&o.case.name),
                o.elapsed.as_secs_f64()
            );
            if let Some(s) = &o.skipped {
                let _ = writeln!(out, "><skipped message=\"{}\"/></testcase>", esc(s));
            } else if o.failures.is_empty() && o.warnings.is_empty() {
                out.push_str("/>\n");
            } else if o.failures.is_empty() {
                let _ = writeln!(
                    out,
                    "><system-out>{}</system-out></testcase>",
                    esc(&o
                        .warnings
                        .iter()
                        .map(|w| format!("warning: {w}"))
                        .collect::<Vec<_>>()
                        .join("\n"))
                );
            } else {
                let detail = format!(
                    "{}\n\nrequest:\n{}\n\n{}{}\n{}",
                    super::failure::join(&o.failures, "\n"),
                    o.request,
                    o.diff.as_deref().unwrap_or(""),
                    o.state_diff.as_deref().unwrap_or(""),
                    o.notes.join("\n")
                );
                let _ = writeln!(
                    out,
                    "><failure message=\"{}\">{}</failure></testcase>",
                    esc(&super::failure::join(&o.failures, "; ")),
                    esc(&detail)
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// A JSON document for tools.
pub fn json(outcomes: &[Outcome]) -> String {
    let cases: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            json!({
                "name": o.case.name,
                "api": o.case.api,
                "category": super::summary::category(&o.case),
                "cause": super::summary::cause(o),
                "result": if o.skipped.is_some() { "skipped" } else if o.failures.is_empty() { "passed" } else { "failed" },
                "failures": o.failures.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "failure_kinds": o.failures.iter().map(|f| f.kind()).collect::<Vec<_>>(),
                "skipped": o.skipped,
                "request": o.request,
                "status": o.observed.as_ref().map(|x| x.status),
                "code": o.observed.as_ref().and_then(|x| x.code.clone()),
                "diff": o.diff,
                "state_diff": o.state_diff,
                "warnings": o.warnings,
                "notes": o.notes,
                "seconds": o.elapsed.as_secs_f64(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({ "summary": summary(outcomes), "cases": cases }))
        .unwrap_or_default()
}

/// Every constraint of every parameter and every error row, with the cases covering it;
/// rows without a case are marked `MISSING`.
pub fn coverage(spec: &Spec, cases: &[Case]) -> String {
    let items = documented_items(spec);
    let mut out = String::new();
    let _ = writeln!(out, "{} coverage", spec.api.id);
    let mut missing = 0;
    for item in &items {
        let n = cases.iter().filter(|c| c.covers.contains(item)).count();
        if n == 0 {
            missing += 1;
        }
        let _ = writeln!(
            out,
            "  {item:<55} {}",
            if n == 0 {
                "MISSING".to_string()
            } else {
                format!("{n} case(s)")
            }
        );
    }
    let _ = writeln!(out, "  {} items, {missing} without a case", items.len());
    out
}

/// What the spec documents, as the keys cases cover: every constraint of every parameter
/// (nested members as `Param.Member`), every rule and every error row.
pub fn documented_items(spec: &Spec) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    fn walk(prefix: &str, params: &[crate::spec::model::Parameter], items: &mut Vec<String>) {
        for p in params {
            let name = if prefix.is_empty() {
                p.name.clone()
            } else {
                format!("{prefix}.{}", p.name)
            };
            // A path label is always on the wire: its absence cannot be sent.
            if p.required && p.location != Some(crate::spec::model::Location::Path) {
                items.push(format!("constraint:{name}:required"));
            }
            if p.length.is_some() {
                items.push(format!("constraint:{name}:length"));
            }
            if p.range.is_some() {
                items.push(format!("constraint:{name}:range"));
            }
            if p.pattern.is_some() {
                items.push(format!("constraint:{name}:pattern"));
            }
            if p.allowed.is_some() {
                items.push(format!("constraint:{name}:enum"));
            }
            if p.items.is_some() {
                items.push(format!("constraint:{name}:items"));
            }
            walk(&name, &p.members, items);
            if let Some(m) = &p.member {
                walk(&name, &m.members, items);
            }
        }
    }
    walk("", &spec.parameters, &mut items);
    for r in &spec.rules {
        items.push(format!("rule:{}", r.name));
    }
    for e in &spec.errors {
        items.push(format!("error:{}", e.code));
    }
    items
}

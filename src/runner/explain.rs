//! Deliberate departures: where the spec follows the real service instead of the document
//! (a spec `note`), a vendor who followed the document fails a case with good reason to
//! be puzzled. A failing case that touches a noted point quotes the note: what the
//! document says, what the spec does, and the evidence, so the vendor can decide.

use crate::spec::model::{Note, Spec};

use super::cases::{Case, Expect};
use super::Outcome;

/// The notes a failing case touches, rendered for the report.
pub fn departures(spec: &Spec, case: &Case, outcome: &Outcome) -> Vec<String> {
    let mut subjects: Vec<String> = Vec::new();
    // What the case covers (not every parameter it sends: the base request carries many).
    for c in &case.covers {
        let mut parts = c.split(':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("constraint"), Some(p), kind) => {
                let top = p.split('.').next().unwrap_or(p);
                subjects.push(format!("parameters.{top}"));
                if let Some(k) = kind {
                    subjects.push(format!("parameters.*.{k}"));
                }
            }
            (Some("effect"), Some(p), _) => subjects.push(format!("parameters.{p}")),
            (Some("example"), Some(name), _) => subjects.push(format!("examples.{name}")),
            (Some("rule"), Some(name), _) => subjects.push(format!("rules.{name}")),
            (Some("error"), Some(code), _) => subjects.push(format!("errors.{code}")),
            _ => {}
        }
    }
    if let Expect::Error(code) = &case.expect {
        subjects.push(format!("errors.{code}"));
    }
    if let Some(code) = outcome.observed.as_ref().and_then(|o| o.code.as_ref()) {
        subjects.push(format!("errors.{code}"));
    }
    if case.expect == Expect::Success && outcome.diff.is_some() {
        subjects.push("response.body".into());
    }
    if case.name.contains("/auth/") || case.name.contains("/forbidden/") {
        subjects.push("auth".into());
    }
    let touches = |n: &Note| {
        subjects.iter().any(|s| {
            // `parameters.Type.enum` is about `parameters.Type`; a general note such as
            // `errors` is left out (it would be quoted on every case).
            n.about == *s
                || n.about
                    .strip_prefix(s.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    };
    spec.notes
        .iter()
        .filter(|n| touches(n))
        .map(|n| {
            let mut s = format!(
                "spec note ({}): the document says: {} The spec: {}",
                n.about,
                n.document.trim(),
                n.spec.trim()
            );
            if let Some(src) = &n.source {
                s.push_str(&format!(" (source: {})", src.trim()));
            }
            s
        })
        .collect()
}

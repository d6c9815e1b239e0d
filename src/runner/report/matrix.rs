//! The conformance matrix of one API: every constraint of every parameter, every rule and
//! every error row the spec documents, every example, and the effects and extra
//! constraints the cases check, each with the cases that cover it and a verdict: proven
//! (cases ran and passed, none failed), failed (a case failed), or not tested, with why
//! (no case can be generated, the target could not run them, or this run left them out).
//! The score is the share of rows proven.

use std::collections::BTreeMap;

use crate::spec::model::{Bounds, ParamType, Parameter, Range, RuleCheck, Spec};

use super::super::cases::Case;
use super::super::summary::result;
use super::super::Outcome;

/// A row's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Proven,
    Failed,
    NotTested,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Proven => "proven",
            Verdict::Failed => "failed",
            Verdict::NotTested => "not tested",
        }
    }
}

/// A case covering a row, with its result in this run (`passed`, `failed`, `skipped`, or
/// `not run` when the run left it out).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRef {
    pub name: String,
    pub result: &'static str,
}

/// One documented item.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The key cases cover: `constraint:NewUserName:length`, `error:NoSuchEntity` ...
    pub item: String,
    /// `constraint`, `rule`, `error`, `example` or `effect`.
    pub kind: &'static str,
    /// What it is about: a parameter and a constraint, a rule, an error code, an example.
    pub subject: String,
    /// What the spec says: `length 1..64`, `404: The request was rejected because ...`.
    pub detail: String,
    pub cases: Vec<CaseRef>,
    pub verdict: Verdict,
    /// Why the verdict: `3 cases passed`, `1 of 4 cases failed`, `needs a control plane …`.
    pub why: String,
}

/// The matrix of one API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiMatrix {
    pub api: String,
    pub title: String,
    pub operation: String,
    pub rows: Vec<Row>,
}

impl ApiMatrix {
    pub fn count(&self, v: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == v).count()
    }

    /// Rows proven, in per cent of all rows (0 without rows).
    pub fn score(&self) -> f64 {
        score(self.count(Verdict::Proven), self.rows.len())
    }
}

/// `proven` of `total`, in per cent.
pub fn score(proven: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * proven as f64 / total as f64
    }
}

/// The matrix of `spec`: `all` is every case the specs and suites give for it (whether or
/// not this run selected it), `outcomes` what this run did.
pub fn matrix(spec: &Spec, all: &[Case], outcomes: &[Outcome]) -> ApiMatrix {
    let api = &spec.api.id;
    let cases: Vec<&Case> = all.iter().filter(|c| &c.api == api).collect();
    let by_name: BTreeMap<&str, &Outcome> = outcomes
        .iter()
        .filter(|o| &o.case.api == api)
        .map(|o| (o.case.name.as_str(), o))
        .collect();

    // Documented items first, then what the cases check beyond them.
    let mut items = super::documented_items(spec);
    items.extend(spec.examples.iter().map(|e| format!("example:{}", e.name)));
    for c in &cases {
        for k in &c.covers {
            let extra = k.starts_with("constraint:") || k.starts_with("effect:");
            if extra && !items.contains(k) {
                items.push(k.clone());
            }
        }
    }
    let order = |i: &String| match i.split(':').next().unwrap_or_default() {
        "constraint" => 0,
        "rule" => 1,
        "error" => 2,
        "example" => 3,
        _ => 4,
    };
    items.sort_by_key(order); // stable: the spec's order within each kind

    let rows = items
        .iter()
        .map(|item| {
            let refs: Vec<CaseRef> = cases
                .iter()
                .filter(|c| c.covers.contains(item))
                .map(|c| CaseRef {
                    name: c.name.clone(),
                    result: by_name
                        .get(c.name.as_str())
                        .map_or("not run", |o| result(o)),
                })
                .collect();
            let (verdict, why) = judge(&refs, &by_name);
            let (kind, subject, detail) = describe(spec, item);
            Row {
                item: item.clone(),
                kind,
                subject,
                detail,
                cases: refs,
                verdict,
                why,
            }
        })
        .collect();
    ApiMatrix {
        api: api.clone(),
        title: spec.api.title.clone(),
        operation: spec.api.operation.clone(),
        rows,
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn judge(refs: &[CaseRef], by_name: &BTreeMap<&str, &Outcome>) -> (Verdict, String) {
    if refs.is_empty() {
        return (
            Verdict::NotTested,
            "no case: the spec gives nothing to build one from".into(),
        );
    }
    let n = |r: &str| refs.iter().filter(|c| c.result == r).count();
    let (passed, failed, skipped, not_run) = (n("passed"), n("failed"), n("skipped"), n("not run"));
    let mut reasons: Vec<String> = Vec::new();
    for c in refs.iter().filter(|c| c.result == "skipped") {
        if let Some(why) = by_name.get(c.name.as_str()).and_then(|o| o.skipped.clone()) {
            if !reasons.contains(&why) {
                reasons.push(why);
            }
        }
    }
    let mut rest = Vec::new();
    if skipped > 0 {
        rest.push(format!("{skipped} skipped ({})", reasons.join("; ")));
    }
    if not_run > 0 {
        rest.push(format!("{not_run} not in this run"));
    }
    let rest = if rest.is_empty() {
        String::new()
    } else {
        format!("; {}", rest.join(", "))
    };
    if failed > 0 {
        (
            Verdict::Failed,
            format!("{failed} of {} failed{rest}", plural(refs.len(), "case")),
        )
    } else if passed > 0 {
        (
            Verdict::Proven,
            format!("{} passed{rest}", plural(passed, "case")),
        )
    } else if skipped > 0 {
        (
            Verdict::NotTested,
            format!("the target could not run its cases: {}", reasons.join("; ")),
        )
    } else {
        (
            Verdict::NotTested,
            format!(
                "{} not in this run (--api, --case or --shard left them out)",
                plural(not_run, "case")
            ),
        )
    }
}

/// The parameter at a dotted path (`HomeDirectoryMappings.Entry`: a list's item member).
fn find_param<'s>(params: &'s [Parameter], path: &str) -> Option<&'s Parameter> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let p = params.iter().find(|p| p.name == head)?;
    match rest {
        None => Some(p),
        Some(r) => find_param(&p.members, r)
            .or_else(|| p.member.as_deref().and_then(|m| find_param(&m.members, r))),
    }
}

fn bounds(b: Bounds) -> String {
    match (b.min, b.max) {
        (Some(a), Some(z)) if a == z => format!("exactly {a}"),
        (Some(a), Some(z)) => format!("{a} to {z}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(z)) => format!("at most {z}"),
        (None, None) => "any".into(),
    }
}

fn range(r: Range) -> String {
    match (r.min, r.max) {
        (Some(a), Some(z)) => format!("{a} to {z}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(z)) => format!("at most {z}"),
        (None, None) => "any".into(),
    }
}

fn first_sentence(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.find(". ") {
        Some(i) => s[..=i].to_string(),
        None => s,
    }
}

/// Kind, subject and detail of an item, from the spec.
fn describe(spec: &Spec, item: &str) -> (&'static str, String, String) {
    let mut parts = item.splitn(3, ':');
    let (kind, a, b) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    match kind {
        "constraint" => {
            let p = find_param(&spec.parameters, a);
            let detail = match (b, p) {
                ("required", _) => "required".to_string(),
                ("length", Some(p)) => format!(
                    "length {} characters",
                    p.length.map(bounds).unwrap_or_default()
                ),
                ("range", Some(p)) => format!("value {}", p.range.map(range).unwrap_or_default()),
                ("pattern", Some(p)) => {
                    format!("pattern {}", p.pattern.clone().unwrap_or_default())
                }
                ("enum", Some(p)) => format!(
                    "one of {}",
                    p.allowed.clone().unwrap_or_default().join(", ")
                ),
                ("items", Some(p)) => {
                    format!("{} items", p.items.map(bounds).unwrap_or_default())
                }
                ("type", Some(p)) => format!("of type {}", type_name(p.ty)),
                ("unknown", _) => "members the spec does not define are refused".to_string(),
                (other, _) => other.to_string(),
            };
            let subject = if a == "*" {
                "(any member)".to_string()
            } else {
                a.to_string()
            };
            ("constraint", subject, detail)
        }
        "rule" => {
            let detail = spec
                .rules
                .iter()
                .find(|r| r.name == a)
                .map(|r| {
                    let check = match &r.check {
                        RuleCheck::RequiresValue {
                            parameter,
                            other,
                            equals,
                        } => format!("{parameter} requires {other} = {equals}"),
                        RuleCheck::RequiresRole {
                            role,
                            when_present,
                            unless_self,
                        } => {
                            let mut s = format!("needs role {role}");
                            if !when_present.is_empty() {
                                s.push_str(&format!(" when {} is sent", when_present.join("/")));
                            }
                            if *unless_self {
                                s.push_str(", unless updating oneself");
                            }
                            s
                        }
                    };
                    format!("{check}; else {}", r.error)
                })
                .unwrap_or_default();
            ("rule", a.to_string(), detail)
        }
        "error" => {
            let detail = spec
                .errors
                .iter()
                .find(|e| e.code == a)
                .map(|e| format!("{}: {}", e.status, first_sentence(&e.meaning)))
                .unwrap_or_default();
            ("error", a.to_string(), detail)
        }
        "example" => {
            let detail = spec
                .examples
                .iter()
                .find(|e| e.name == a)
                .map(|e| match &e.expect {
                    crate::spec::model::Expectation::Success { .. } => {
                        "the document's example, answered with success".to_string()
                    }
                    crate::spec::model::Expectation::Error(c) => {
                        format!("the document's example, answered with {c}")
                    }
                })
                .unwrap_or_default();
            ("example", a.to_string(), detail)
        }
        "effect" => {
            let detail = find_param(&spec.parameters, a)
                .and_then(|p| {
                    p.sets
                        .as_ref()
                        .map(|f| format!("sets {f}, read back after a success"))
                        .or_else(|| {
                            p.renames
                                .as_ref()
                                .map(|f| format!("renames {f}, read back after a success"))
                        })
                })
                .unwrap_or_default();
            ("effect", a.to_string(), detail)
        }
        _ => ("other", item.to_string(), String::new()),
    }
}

fn type_name(t: ParamType) -> &'static str {
    match t {
        ParamType::String => "string",
        ParamType::Integer => "integer",
        ParamType::Unsigned => "unsigned integer",
        ParamType::Boolean => "boolean",
        ParamType::List => "list",
        ParamType::Structure => "structure",
        ParamType::JsonString => "JSON string",
        ParamType::Document => "document",
    }
}

//! The cases: every document example, and cases generated from the spec so that no
//! constraint and no error row goes untested. Each case's expected outcome comes from the
//! spec itself (the validator, the error rows' triggers), never from an implementation.
//! Generation is split by kind: [`constraints`] (every bound, pattern, enum, type and
//! nested member), [`resource`] (effects, not found, conflict), [`rules`] (cross-field
//! rules and roles), [`access`] (authentication), [`errors`] (injected rows, undecodable
//! bodies); [`values`] makes the values they send.

mod access;
mod constraints;
mod errors;
mod resource;
mod rules;
mod values;

use serde_json::{Map, Value};

use crate::spec::model::{Expectation, OpKind, Spec, Trigger};
use crate::spec::validate;

use super::client::Signing;

/// What a case expects.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    Success,
    /// The error row with this code.
    Error(String),
}

/// One request and its expected outcome.
#[derive(Debug, Clone)]
pub struct Case {
    /// `api/kind/detail`, stable across runs (snapshot file names derive from it).
    pub name: String,
    pub api: String,
    pub params: Map<String, Value>,
    /// Sent instead of the encoded parameters (an undecodable document request).
    pub raw_body: Option<String>,
    pub signing: Signing,
    /// Inject this error row first (targets with a control plane only).
    pub inject: Option<String>,
    pub expect: Expect,
    /// What the case covers: `constraint:<param>:<kind>`, `error:<code>`, `example:<name>`,
    /// `suite:<name>`.
    pub covers: Vec<String>,
    /// Setup and follow-up steps (hand-written suite cases).
    pub around: Option<Box<super::suite::Around>>,
}

impl Case {
    pub fn needs_control_plane(&self) -> bool {
        self.inject.is_some()
    }

    /// The steps before the request (none for generated cases).
    pub fn setup(&self) -> &[super::suite::Step] {
        self.around.as_deref().map_or(&[], |a| a.setup.as_slice())
    }

    /// The steps after the request.
    pub fn then(&self) -> &[super::suite::Step] {
        self.around.as_deref().map_or(&[], |a| a.then.as_slice())
    }
}

/// The outcome the spec gives for `params` sent validly signed: success, or the row the
/// validator and the request-only rules select. State-dependent rows (not found,
/// conflict) are the caller's to know.
pub fn expected_for(spec: &Spec, params: &Map<String, Value>) -> Expect {
    let e = expected_valid(spec, params);
    if e != Expect::Success {
        return e;
    }
    let kind = spec.api.kind;
    // A page token the target did not give (every generated one): the list's row. A row
    // number (`paging: offset`) is never refused.
    if let Some(token) = spec
        .list
        .as_ref()
        .filter(|l| l.paging == crate::spec::model::Paging::Key)
        .and_then(|l| l.token.as_ref())
    {
        if params.contains_key(token) {
            return Expect::Error(crate::fake::engine::bad_token_row(spec).code.clone());
        }
    }
    // A valid selector that names no fixture: not found (a create: the key is free; a
    // key taken: conflict).
    let key_taken = spec.resource.fixtures.iter().any(|f| {
        spec.parameters
            .iter()
            .filter_map(|q| q.selects.as_ref().map(|field| (q, field)))
            .all(|(q, field)| match (params.get(&q.name), f.get(field)) {
                (Some(v), Some(fv)) => super::state::same_key_value(spec, v, fv),
                (None, _) => true,
                _ => false,
            })
    });
    if kind == OpKind::Create {
        // Within a parent no fixture names: not found.
        if let Some(parent) = &spec.resource.parent {
            let named = |f: &Map<String, Value>| {
                spec.parameters.iter().all(|q| match &q.selects {
                    Some(field) if parent.key.contains(field) => {
                        match (params.get(&q.name), f.get(field)) {
                            (Some(v), Some(fv)) => super::state::same_key_value(spec, v, fv),
                            _ => false,
                        }
                    }
                    _ => true,
                })
            };
            if !spec.resource.fixtures.iter().any(named) {
                return Expect::Error(spec.not_found_row().code.clone());
            }
        }
        let selects = spec
            .parameters
            .iter()
            .any(|q| q.selects.is_some() && params.contains_key(&q.name));
        return match spec
            .errors
            .iter()
            .find(|e| e.triggers().any(|t| *t == Trigger::Conflict))
        {
            Some(row) if key_taken && selects => Expect::Error(row.code.clone()),
            _ => Expect::Success,
        };
    }
    if !key_taken {
        if let Some(row) = spec
            .errors
            .iter()
            .find(|e| e.triggers().any(|t| *t == Trigger::NotFound))
        {
            return Expect::Error(row.code.clone());
        }
    }
    Expect::Success
}

pub(super) fn expected_valid(spec: &Spec, params: &Map<String, Value>) -> Expect {
    let (coerced, violations) = validate::validate(spec, params);
    if !violations.is_empty() {
        let (row, _) = validate::row_for_violations(spec, &violations);
        return Expect::Error(row.code.clone());
    }
    // The stored resource may already hold the value a rule needs: generated rule cases
    // send it explicitly.
    // A create's resource has nothing stored yet: the request alone decides.
    let nothing = Map::new();
    let current = (spec.api.kind == OpKind::Create).then_some((&nothing).into());
    match crate::spec::effect::broken_rule(spec, &coerced, current) {
        Some(r) => Expect::Error(r.error.clone()),
        None => Expect::Success,
    }
}

/// The success example's parameters: the base every generated case varies.
fn base(spec: &Spec) -> Map<String, Value> {
    let mut p = spec
        .examples
        .iter()
        .find(|e| matches!(e.expect, Expectation::Success { .. }))
        .map(|e| e.params.clone())
        .unwrap_or_default();
    // A rename in the base would change the key each case selects by; keep it out.
    for q in &spec.parameters {
        if q.renames.is_some() {
            p.remove(&q.name);
        }
    }
    p
}

/// The cases of one spec being generated: the spec, the base request every case varies
/// (the success example's parameters), and the cases so far.
pub(super) struct Gen<'s> {
    spec: &'s Spec,
    api: String,
    base: Map<String, Value>,
    out: Vec<Case>,
}

impl Gen<'_> {
    /// Adds a validly signed case `api/<name>`.
    fn push(
        &mut self,
        name: String,
        params: Map<String, Value>,
        expect: Expect,
        covers: Vec<String>,
    ) {
        self.out.push(Case {
            name: format!("{}/{name}", self.api),
            api: self.api.clone(),
            params,
            raw_body: None,
            signing: Signing::Signed,
            inject: None,
            expect,
            covers,
            around: None,
        });
    }
}

/// Every case of a spec: the generated ones, then its embedded suite's.
pub fn cases(spec: &Spec) -> Vec<Case> {
    let mut out = generated(spec);
    out.extend(super::suite::embedded_cases(spec));
    out
}

/// The cases generated from a spec: examples, constraints, rules, effects and state
/// errors, authentication, every error row.
pub fn generated(spec: &Spec) -> Vec<Case> {
    let mut g = Gen {
        spec,
        api: spec.api.id.clone(),
        base: base(spec),
        out: Vec::new(),
    };
    examples(&mut g);
    constraints::each_parameter(&mut g);
    constraints::unknown_members(&mut g);
    rules::cross_field(&mut g);
    resource::effects(&mut g);
    resource::not_found(&mut g);
    resource::conflict(&mut g);
    resource::create_conflict(&mut g);
    access::authentication(&mut g);
    rules::roles(&mut g);
    errors::injected(&mut g);
    errors::malformed(&mut g);
    verbatim_examples(&mut g);
    g.out
}

/// Every example of the document.
pub(super) fn examples(g: &mut Gen) {
    let spec = g.spec;
    // Examples.
    for ex in &spec.examples {
        let expect = match &ex.expect {
            Expectation::Success { .. } => Expect::Success,
            Expectation::Error(c) => Expect::Error(c.clone()),
        };
        g.push(
            format!("example/{}", ex.name),
            ex.params.clone(),
            expect,
            vec![format!("example:{}", ex.name)],
        );
    }
}

/// Examples whose document request cannot be decoded are sent as the document wrote it.
pub(super) fn verbatim_examples(g: &mut Gen) {
    let spec = g.spec;
    // Examples whose document request cannot be decoded are sent verbatim.
    for case in g.out.iter_mut() {
        if let Some(name) = case.name.strip_prefix(&format!("{}/example/", case.api)) {
            if let Some(ex) = spec.examples.iter().find(|e| e.name == name) {
                if let Expectation::Error(code) = &ex.expect {
                    let malformed = spec
                        .errors
                        .iter()
                        .any(|e| &e.code == code && e.triggers().any(|t| *t == Trigger::Malformed));
                    if malformed {
                        case.raw_body = ex.document_request.clone();
                    }
                }
            }
        }
    }
}

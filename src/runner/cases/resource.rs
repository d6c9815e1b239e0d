//! Cases about the resource: each settable field set alone (read back by the runner), a
//! selector no resource has (not found), a rename onto another resource's key (conflict).

use serde_json::{Map, Value};

use super::values::*;
use super::{expected_for, expected_valid, Expect, Gen};
use crate::spec::model::{OpKind, Parameter, RuleCheck, Trigger};

/// Each field a parameter sets, set alone to a new value, so that reading the resource
/// back shows the change (or its absence).
pub(super) fn effects(g: &mut Gen) {
    let spec = g.spec;
    let base = g.base.clone();
    // Effects: each field a parameter sets, set alone to a new value, so that reading the
    // resource back shows the change (or its absence).
    let fixture = spec.resource.fixtures.iter().find(|f| {
        spec.parameters
            .iter()
            .filter_map(|q| Some((base.get(&q.name)?, q.selects.as_ref()?)))
            .all(|(v, field)| f.get(field) == Some(v))
    });
    if let Some(fixture) = fixture {
        let minimal: Map<String, Value> = base
            .iter()
            .filter(|(k, _)| {
                spec.parameters
                    .iter()
                    .any(|q| &q.name == *k && (q.selects.is_some() || q.required))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for p in &spec.parameters {
            let Some(field) = p.sets.as_ref().or(p.renames.as_ref()) else {
                // A parameter whose members set fields (Nexfs `Description`): the example's
                // value alone, so the read-back shows each member's field.
                if members_set(p) {
                    if let Some(v) = base.get(&p.name) {
                        let mut request = minimal.clone();
                        request.insert(p.name.clone(), v.clone());
                        push_effect(g, p, request);
                    }
                }
                continue;
            };
            let default = spec
                .resource
                .fields
                .iter()
                .find(|f| &f.name == field)
                .and_then(|f| f.default.as_ref());
            let current = fixture.get(field).or(default);
            // Not a value another resource holds (a rename there would be a conflict).
            let taken = |v: &Value| {
                spec.resource.fixtures.iter().any(|f| {
                    f.get(field).is_some_and(|x| {
                        x == v
                            || x.as_str()
                                .zip(v.as_str())
                                .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
                    })
                })
            };
            let Some(value) =
                another_value(spec, p, current).filter(|v| p.renames.is_none() || !taken(v))
            else {
                continue;
            };
            let mut request = minimal.clone();
            request.insert(p.name.clone(), value.clone());
            // A rule that needs another value with this one: send that value too.
            for r in &spec.rules {
                if let RuleCheck::RequiresValue {
                    parameter,
                    other,
                    equals,
                } = &r.check
                {
                    if parameter == &p.name {
                        request.insert(other.clone(), equals.clone());
                    }
                }
            }
            let request = if expected_for(spec, &request) == Expect::Success {
                request
            } else {
                let mut m = base.clone();
                m.insert(p.name.clone(), value);
                m
            };
            push_effect(g, p, request);
        }
    }
}

/// The `effect/<parameter>` case, when its request is one the spec expects to succeed.
fn push_effect(g: &mut Gen, p: &Parameter, request: Map<String, Value>) {
    if expected_for(g.spec, &request) == Expect::Success {
        g.push(
            format!("effect/{}", p.name),
            request,
            Expect::Success,
            vec![format!("effect:{}", p.name)],
        );
    }
}

/// Whether some nested member of `p` sets or renames a field.
fn members_set(p: &Parameter) -> bool {
    p.members
        .iter()
        .chain(p.member.as_deref())
        .any(|m| m.sets.is_some() || m.renames.is_some() || members_set(m))
}

/// A valid selector no fixture has.
pub(super) fn not_found(g: &mut Gen) {
    let spec = g.spec;
    // A create's free key is its success, not a missing resource.
    if spec.api.kind == OpKind::Create {
        return;
    }
    let base = g.base.clone();
    // Not found: a valid selector no fixture has.
    for p in spec.parameters.iter().filter(|p| p.selects.is_some()) {
        let seed = base
            .get(&p.name)
            .and_then(Value::as_str)
            .unwrap_or("a")
            .to_string();
        let taken: Vec<String> = spec
            .resource
            .fixtures
            .iter()
            .filter_map(|f| f.get(p.selects.as_deref().unwrap_or_default()))
            .map(|v| v.as_str().unwrap_or_default().to_lowercase())
            .collect();
        let candidate = ["Nobody", "nobody", "zzz", "0", "f"]
            .iter()
            .map(|c| c.to_string())
            .chain((0..seed.len()).map(|i| {
                let mut c: Vec<char> = seed.chars().collect();
                if let Some(ch) = c.get_mut(i) {
                    *ch = if *ch == 'f' { 'e' } else { 'f' };
                }
                c.into_iter().collect()
            }))
            .find(|c| {
                let mut m = base.clone();
                m.insert(p.name.clone(), Value::String(c.clone()));
                !taken.contains(&c.to_lowercase()) && expected_valid(spec, &m) == Expect::Success
            });
        if let Some(c) = candidate {
            let mut m = base.clone();
            m.insert(p.name.clone(), Value::String(c));
            if let Some(row) = spec
                .errors
                .iter()
                .find(|e| e.triggers().any(|t| *t == Trigger::NotFound))
            {
                g.push(
                    format!("not-found/{}", p.name),
                    m,
                    Expect::Error(row.code.clone()),
                    vec![format!("error:{}", row.code)],
                );
            }
        }
    }
}

/// A rename onto another fixture's key (in another letter case where case does not count).
pub(super) fn conflict(g: &mut Gen) {
    let spec = g.spec;
    let base = g.base.clone();
    // Conflict: rename onto another fixture's key, in another case where case does not count.
    if let Some(row) = spec
        .errors
        .iter()
        .find(|e| e.triggers().any(|t| *t == Trigger::Conflict))
    {
        for p in spec
            .parameters
            .iter()
            .filter(|p| p.renames.is_some() || p.sets.is_some())
        {
            let field = p
                .renames
                .as_deref()
                .or(p.sets.as_deref())
                .unwrap_or_default();
            let in_key = spec.resource.key.iter().any(|k| k == field);
            let Some(u) = spec
                .resource
                .unique
                .iter()
                .find(|u| u.fields.iter().any(|f| f == field))
                .map(|u| u.case_insensitive)
                .or_else(|| (p.renames.is_some()).then_some(false))
                .map(|u| u || (in_key && spec.resource.key_case_insensitive))
            else {
                continue;
            };
            let is_selected = |f: &Map<String, Value>| {
                spec.parameters.iter().all(|q| match &q.selects {
                    Some(k) => base.get(&q.name) == f.get(k),
                    None => true,
                })
            };
            let other = spec.resource.fixtures.iter().find_map(|f| {
                let v = f.get(field)?.as_str()?.to_string();
                (!is_selected(f)).then_some(v)
            });
            if let Some(other) = other {
                let variant = if u { other.to_uppercase() } else { other };
                let m = {
                    let mut m = base.clone();
                    m.insert(p.name.clone(), Value::String(variant));
                    m
                };
                if expected_for(spec, &m) == Expect::Success {
                    g.push(
                        format!("conflict/{}", p.name),
                        m,
                        Expect::Error(row.code.clone()),
                        vec![format!("error:{}", row.code)],
                    );
                }
            }
        }
    }
}

/// A create with the key of a fixture (in another letter case where case does not count).
pub(super) fn create_conflict(g: &mut Gen) {
    let spec = g.spec;
    if spec.api.kind != OpKind::Create {
        return;
    }
    let Some(row) = spec
        .errors
        .iter()
        .find(|e| e.triggers().any(|t| *t == Trigger::Conflict))
    else {
        return;
    };
    let Some(fixture) = spec.resource.fixtures.first() else {
        return;
    };
    let mut m = g.base.clone();
    for q in &spec.parameters {
        let Some(field) = &q.selects else { continue };
        let Some(v) = fixture.get(field) else {
            continue;
        };
        let v = match v.as_str() {
            Some(s) if spec.resource.key_case_insensitive => Value::String(s.to_uppercase()),
            _ => v.clone(),
        };
        m.insert(q.name.clone(), v);
    }
    if expected_for(spec, &m) == Expect::Error(row.code.clone()) {
        g.push(
            "conflict/existing-key".into(),
            m,
            Expect::Error(row.code.clone()),
            vec![format!("error:{}", row.code)],
        );
    }
}

//! Cases from the spec's cross-field rules: each rule broken and kept, and each required
//! role missing.

use serde_json::Value;

use super::super::client::Signing;
use super::super::target::Credentials;
use super::values::*;
use super::Case;
use super::{expected_for, Expect, Gen};
use crate::spec::model::RuleCheck;

/// Each `requires-value` rule broken and kept.
pub(super) fn cross_field(g: &mut Gen) {
    let spec = g.spec;
    let base = g.base.clone();
    // Rules.
    for r in &spec.rules {
        if let RuleCheck::RequiresValue {
            parameter,
            other,
            equals,
        } = &r.check
        {
            let Some(value) = example_value(spec, parameter) else {
                continue;
            };
            let other_p = spec.parameters.iter().find(|q| &q.name == other);
            let wrong = other_p
                .and_then(|q| q.allowed.as_ref())
                .and_then(|vals| vals.iter().find(|v| Value::String((*v).clone()) != *equals))
                .cloned();
            if let Some(wrong) = wrong {
                let mut m = base.clone();
                m.insert(parameter.clone(), value.clone());
                m.insert(other.clone(), Value::String(wrong));
                g.push(
                    format!("rule/{}/broken", r.name),
                    m,
                    Expect::Error(r.error.clone()),
                    vec![format!("rule:{}", r.name), format!("error:{}", r.error)],
                );
                let mut m = base.clone();
                m.insert(parameter.clone(), value);
                m.insert(other.clone(), equals.clone());
                let e = expected_for(spec, &m);
                g.push(
                    format!("rule/{}/kept", r.name),
                    m,
                    e,
                    vec![format!("rule:{}", r.name)],
                );
            }
        }
    }
}

/// Each `requires-role` rule, by an identity without the role.
pub(super) fn roles(g: &mut Gen) {
    let spec = g.spec;
    let api = g.api.clone();
    let base = g.base.clone();
    // Roles (Nexfs): the limited session lacks the secret roles.
    for r in &spec.rules {
        if let RuleCheck::RequiresRole {
            when_present,
            unless_self,
            ..
        } = &r.check
        {
            let mut m = base.clone();
            let identity = match when_present.first() {
                None => Credentials::no_roles_fake(),
                Some(param) => {
                    let Some(value) = example_value(spec, param) else {
                        continue;
                    };
                    m.insert(param.clone(), value);
                    Credentials::limited_fake()
                }
            };
            if *unless_self {
                // Select another user than the limited session's own.
                if let Some(sel) = spec.parameters.iter().find(|q| q.selects.is_some()) {
                    if let Some(other) = spec.resource.fixtures.iter().find_map(|f| {
                        let v = f
                            .get(sel.selects.as_deref().unwrap_or_default())?
                            .as_str()?;
                        (v != "LimitedUser" && Some(&Value::from(v)) != base.get(&sel.name))
                            .then(|| v.to_string())
                    }) {
                        m.insert(sel.name.clone(), Value::String(other));
                    }
                }
            }
            g.out.push(Case {
                name: format!("{api}/forbidden/{}", r.name),
                api: g.api.clone(),
                params: m,
                raw_body: None,
                signing: Signing::SignedAs(identity),
                inject: None,
                expect: Expect::Error(r.error.clone()),
                covers: vec![format!("rule:{}", r.name), format!("error:{}", r.error)],
                around: None,
            });
        }
    }
}

//! What a valid call does to its resource, as the spec says: the key it selects and the
//! fields it sets (`selects`, `sets`, `renames`, nested members included). The fake
//! applies these changes; the runner reads the resource back and expects them.

use std::borrow::Cow;

use serde_json::{Map, Value};
use smallvec::SmallVec;

use super::model::{ParamType, Parameter, Rule, RuleCheck, Spec};

/// The key a call selects (field → value) and the fields it sets, in parameter order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effect {
    pub key: Map<String, Value>,
    pub set: Vec<(String, Value)>,
}

/// [`Effect`] borrowed from the spec (field names) and the request (values): what the
/// fake applies on every call, built without copying either (the set values are `Cow`s,
/// as the store takes them, always borrowed here).
#[derive(Debug, Default)]
pub struct Borrowed<'a> {
    pub key: SmallVec<[(&'a str, &'a Value); 2]>,
    pub set: Sets<'a>,
}

/// The fields a call sets: on the stack for up to four.
pub type Sets<'a> = SmallVec<[(&'a str, Cow<'a, Value>); 4]>;

/// The effect of `params` (already validated and coerced by [`super::validate::validate`]).
pub fn of(spec: &Spec, params: &Map<String, Value>) -> Effect {
    let b = borrowed(spec, params);
    Effect {
        key: b
            .key
            .into_iter()
            .map(|(f, v)| (f.to_owned(), v.clone()))
            .collect(),
        set: b
            .set
            .into_iter()
            .map(|(f, v)| (f.to_owned(), v.into_owned()))
            .collect(),
    }
}

/// [`of`] without copies.
pub fn borrowed<'a>(spec: &'a Spec, params: &'a Map<String, Value>) -> Borrowed<'a> {
    let mut e = Borrowed::default();
    for p in &spec.parameters {
        let Some(v) = super::member(params, &p.name) else {
            continue;
        };
        if let Some(f) = &p.selects {
            // A key field named twice keeps the later value, as a map would.
            match e.key.iter_mut().find(|(k, _)| k == f) {
                Some(slot) => slot.1 = v,
                None => e.key.push((f, v)),
            }
        }
        collect_sets(p, v, &mut e.set);
    }
    e
}

fn collect_sets<'a>(p: &'a Parameter, v: &'a Value, set: &mut Sets<'a>) {
    for f in [&p.sets, &p.renames].into_iter().flatten() {
        set.push((f, Cow::Borrowed(v)));
    }
    if matches!(p.ty, ParamType::Structure | ParamType::JsonString) {
        if let Value::Object(o) = v {
            for m in &p.members {
                if let Some(mv) = o.get(&m.name) {
                    collect_sets(m, mv, set);
                }
            }
        }
    }
}

/// The first `requires-value` rule `params` break: a parameter sent without the value
/// another must have. The other's value is the request's, else the resource's current
/// one (`current`: the fake deciding, under the store's lock); with no `current` (the
/// runner expecting, the state unknown) a rule whose other value is not in the request
/// is taken to hold. One evaluator for the fake and the runner.
pub fn broken_rule<'s>(
    spec: &'s Spec,
    params: &Map<String, Value>,
    current: Option<crate::spec::template::Fields<'_>>,
) -> Option<&'s Rule> {
    spec.rules.iter().find(|rule| {
        let RuleCheck::RequiresValue {
            parameter,
            other,
            equals,
        } = &rule.check
        else {
            return false;
        };
        if super::member(params, parameter).is_none() {
            return false;
        }
        let stored = || {
            let field = spec
                .parameters
                .iter()
                .find(|p| &p.name == other)?
                .sets
                .as_ref()?;
            current?.get(field)
        };
        match (super::member(params, other).or_else(stored), current) {
            (Some(v), _) => v != equals,
            (None, Some(_)) => true,
            (None, None) => false,
        }
    })
}

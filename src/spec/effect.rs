//! What a valid call does to its resource, as the spec says: the key it selects and the
//! fields it sets (`selects`, `sets`, `renames`, nested members included). The fake
//! applies these changes; the runner reads the resource back and expects them.

use serde_json::{Map, Value};

use super::model::{ParamType, Parameter, Spec};

/// The key a call selects (field → value) and the fields it sets, in parameter order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effect {
    pub key: Map<String, Value>,
    pub set: Vec<(String, Value)>,
}

/// The effect of `params` (already validated and coerced by [`super::validate::validate`]).
pub fn of(spec: &Spec, params: &Map<String, Value>) -> Effect {
    let mut e = Effect::default();
    for p in &spec.parameters {
        let Some(v) = params.get(&p.name) else {
            continue;
        };
        if let Some(f) = &p.selects {
            e.key.insert(f.clone(), v.clone());
        }
        collect_sets(p, v, &mut e.set);
    }
    e
}

fn collect_sets(p: &Parameter, v: &Value, set: &mut Vec<(String, Value)>) {
    for f in [&p.sets, &p.renames].into_iter().flatten() {
        set.push((f.clone(), v.clone()));
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

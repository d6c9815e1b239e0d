//! Cases from each parameter's constraints: required, length bounds, pattern, enum (and
//! another letter case), integer range, wrong JSON type, list bounds and nested members,
//! and unknown members where the spec refuses them.

use serde_json::{Map, Value};

use super::values::*;
use super::{expected_for, Gen};
use crate::spec::model::{ParamType, Parameter, Spec};

/// The constraint cases of every parameter.
pub(super) fn each_parameter(g: &mut Gen) {
    let spec = g.spec;
    let base = g.base.clone();
    for p in &spec.parameters {
        let pattern_ok = |s: &str| p.compiled.as_ref().is_none_or(|re| re.is_match(s));
        let with = |v: Value| {
            let mut m = base.clone();
            m.insert(p.name.clone(), v);
            m
        };
        let seed = base
            .get(&p.name)
            .and_then(Value::as_str)
            .unwrap_or("a")
            .to_string();

        // A path label cannot be absent or empty on the wire: no such case.
        let in_path = p.location == Some(crate::spec::model::Location::Path);
        // Required.
        if p.required && !in_path {
            let mut m = base.clone();
            m.remove(&p.name);
            let e = expected_for(spec, &m);
            g.push(
                format!("required/{}/missing", p.name),
                m,
                e,
                vec![format!("constraint:{}:required", p.name)],
            );
        }

        // Length bounds.
        if p.ty == ParamType::String || p.ty == ParamType::JsonString {
            if let Some(b) = p.length {
                let mut lens: Vec<(String, usize)> = Vec::new();
                if let Some(min) = b.min {
                    let min = min as usize;
                    if min > 0 && !(in_path && min == 1) {
                        lens.push(("min-1".into(), min - 1));
                    }
                    lens.push(("min".into(), min));
                }
                if let Some(max) = b.max {
                    let max = max as usize;
                    lens.push(("max".into(), max));
                    lens.push(("max+1".into(), max + 1));
                }
                for (label, len) in lens {
                    // Prefer a value the pattern accepts, so the case isolates the length.
                    let v = string_of_len(&seed, len, pattern_ok)
                        .or_else(|| string_of_len(&seed, len, |_| true));
                    if let Some(v) = v {
                        debug_assert_eq!(utf16_len(&v), len);
                        let m = with(Value::String(v));
                        let e = expected_for(spec, &m);
                        g.push(
                            format!("length/{}/{label}", p.name),
                            m,
                            e,
                            vec![format!("constraint:{}:length", p.name)],
                        );
                    }
                }
            }
            // Pattern: a matching value (the base) and violations.
            if p.compiled.is_some() {
                let len_ok = |s: &str| {
                    let n = utf16_len(s) as u64;
                    p.length.is_none_or(|b| {
                        b.min.is_none_or(|m| n >= m) && b.max.is_none_or(|m| n <= m)
                    })
                };
                let min = p.length.and_then(|b| b.min).unwrap_or(1).max(1) as usize;
                let seed = if pattern_ok(&seed) && len_ok(&seed) {
                    seed.clone()
                } else {
                    string_of_len(&seed, min, |s| pattern_ok(s)).unwrap_or(seed.clone())
                };
                let before = g.out.len();
                // Beyond these three, a character outside Latin-1 (`[\u0020-\u00FF]+`),
                // then a control character (`[\u0020-\uFFFF]+`), only for a pattern that
                // takes all that came before.
                let extra = [
                    ("beyond-latin-1", '\u{100}'),
                    ("control-character", '\u{1}'),
                ];
                for (i, (label, bad)) in [("space", ' '), ("non-ascii-letter", 'é'), ("bang", '!')]
                    .into_iter()
                    .chain(extra)
                    .enumerate()
                {
                    if i >= 3 && g.out.len() > before {
                        break;
                    }
                    let chars: Vec<char> = seed.chars().collect();
                    let n = chars.len();
                    let mut variants: Vec<String> = Vec::new();
                    for at in [n / 2, n.saturating_sub(1), 0] {
                        let mut ins: Vec<char> = chars.clone();
                        ins.insert(at.min(n), bad);
                        variants.push(ins.into_iter().collect());
                        if at < n {
                            let mut rep = chars.clone();
                            rep[at] = bad;
                            variants.push(rep.into_iter().collect());
                        }
                    }
                    if let Some(v) = variants.into_iter().find(|v| !pattern_ok(v) && len_ok(v)) {
                        let m = with(Value::String(v));
                        let e = expected_for(spec, &m);
                        g.push(
                            format!("pattern/{}/{label}", p.name),
                            m,
                            e,
                            vec![format!("constraint:{}:pattern", p.name)],
                        );
                    }
                }
            }
            // Enum.
            if let Some(values) = &p.allowed {
                for v in values {
                    let m = with(Value::String(v.clone()));
                    let e = expected_for(spec, &m);
                    g.push(
                        format!("enum/{}/{v}", p.name),
                        m,
                        e,
                        vec![format!("constraint:{}:enum", p.name)],
                    );
                }
                let m = with(Value::String("NOT_A_VALUE".into()));
                let e = expected_for(spec, &m);
                g.push(
                    format!("enum/{}/outside", p.name),
                    m,
                    e,
                    vec![format!("constraint:{}:enum", p.name)],
                );
                // The listed values are exact: another letter case is outside the list.
                if let Some((label, v)) = other_case(values) {
                    let m = with(Value::String(v));
                    let e = expected_for(spec, &m);
                    g.push(
                        format!("enum/{}/{label}", p.name),
                        m,
                        e,
                        vec![format!("constraint:{}:enum", p.name)],
                    );
                }
            }
        }

        // Integer ranges.
        if matches!(p.ty, ParamType::Integer | ParamType::Unsigned) {
            let mut values: Vec<(String, Value)> = Vec::new();
            let (min, max) = match (p.ty, p.range) {
                (ParamType::Unsigned, r) => (
                    Some(r.and_then(|r| r.min).unwrap_or(0)),
                    r.and_then(|r| r.max),
                ),
                (_, Some(r)) => (r.min, r.max),
                _ => (None, None),
            };
            if let Some(min) = min {
                values.push(("min".into(), Value::from(min)));
                values.push(("min-1".into(), Value::from(min - 1)));
            }
            if let Some(max) = max {
                values.push(("max".into(), Value::from(max)));
                values.push(("max+1".into(), Value::from(max + 1)));
            }
            for (label, v) in values {
                let m = with(v);
                let e = expected_for(spec, &m);
                g.push(
                    format!("range/{}/{label}", p.name),
                    m,
                    e,
                    vec![format!("constraint:{}:range", p.name)],
                );
            }
        }

        // Wrong JSON types (JSON protocols only: forms carry only strings).
        let json = !spec.protocol.is_xml();
        // Any value is a document: there is no wrong type to send.
        let json = json && p.ty != ParamType::Document;
        if json && p.location == Some(crate::spec::model::Location::Body) {
            let wrong = match p.ty {
                ParamType::String | ParamType::JsonString => Value::from(12345),
                ParamType::Integer | ParamType::Unsigned => Value::from("12"),
                ParamType::Boolean => Value::from("yes"),
                ParamType::List => Value::from("item"),
                ParamType::Structure | ParamType::Document => Value::from(7),
            };
            let m = with(wrong);
            let e = expected_for(spec, &m);
            g.push(
                format!("type/{}/wrong", p.name),
                m,
                e,
                vec![format!("constraint:{}:type", p.name)],
            );
        }

        // Lists and structures: bounds and nested members from the example's value.
        nested_cases(spec, p, &base, g);
    }
}

/// A member no parameter names, where the spec refuses unknown members.
pub(super) fn unknown_members(g: &mut Gen) {
    let spec = g.spec;
    let base = g.base.clone();
    // Unknown members (where the spec rejects them).
    if spec.validation.reject_unknown {
        let mut m = base.clone();
        m.insert("not_a_parameter".into(), Value::from("x"));
        let e = expected_for(spec, &m);
        g.push(
            "unknown/not_a_parameter".into(),
            m,
            e,
            vec!["constraint:*:unknown".into()],
        );
    }
}

/// Cases on the members of an object (a structure, or a list's item): each member's
/// required, length, range, enum, pattern and item bounds, the object put back in place by
/// `wrap`.
fn member_cases(
    spec: &Spec,
    label: &str,
    members: &[Parameter],
    obj: &Map<String, Value>,
    wrap: &dyn Fn(Map<String, Value>) -> Map<String, Value>,
    g: &mut Gen,
) {
    for q in members {
        let key = |kind: &str| vec![format!("constraint:{label}.{}:{kind}", q.name)];
        let mut emit = |name: String, v: Option<Value>, kind: &str| {
            let mut o = obj.clone();
            match v {
                Some(v) => o.insert(q.name.clone(), v),
                None => o.remove(&q.name),
            };
            let m = wrap(o);
            let e = expected_for(spec, &m);
            g.push(format!("{kind}/{label}.{}/{name}", q.name), m, e, key(kind));
        };
        if q.required {
            emit("missing".into(), None, "required");
        }
        let pattern_ok = |s: &str| q.compiled.as_ref().is_none_or(|re| re.is_match(s));
        if q.ty == ParamType::String {
            if let Some(max) = q.length.and_then(|b| b.max) {
                let seed = obj
                    .get(&q.name)
                    .and_then(Value::as_str)
                    .unwrap_or("a")
                    .to_string();
                for (n, len) in [("max", max as usize), ("max+1", max as usize + 1)] {
                    if let Some(v) = string_of_len(&seed, len, pattern_ok) {
                        emit(n.into(), Some(Value::from(v)), "length");
                    }
                }
            }
            if q.compiled.is_some() {
                emit(
                    "violated".into(),
                    Some(Value::from("no-leading-slash é")),
                    "pattern",
                );
            }
            if let Some(values) = &q.allowed {
                for v in values {
                    emit(v.clone(), Some(Value::from(v.as_str())), "enum");
                }
                emit("outside".into(), Some(Value::from("NOT_A_VALUE")), "enum");
                if let Some((label, v)) = other_case(values) {
                    emit(label, Some(Value::from(v)), "enum");
                }
            }
        }
        if matches!(q.ty, ParamType::Integer | ParamType::Unsigned) {
            if let Some(r) = q.range {
                if let Some(min) = r.min {
                    emit(
                        "min-1".into(),
                        Some(Value::from(min.saturating_sub(1))),
                        "range",
                    );
                }
                if let Some(max) = r.max {
                    emit("max".into(), Some(Value::from(max)), "range");
                    emit(
                        "max+1".into(),
                        Some(Value::from(max.saturating_add(1))),
                        "range",
                    );
                }
            }
        }
        if q.ty == ParamType::List {
            if let (Some(b), Some(member)) = (q.items, q.member.as_deref()) {
                if let Some(max) = b.max.filter(|m| *m <= 1000) {
                    let items = vec![synth(member); max as usize + 1];
                    emit("max+1".into(), Some(Value::Array(items)), "items");
                    let items = vec![synth(member); max as usize];
                    emit("max".into(), Some(Value::Array(items)), "items");
                }
            }
        }
    }
}

fn nested_cases(spec: &Spec, p: &Parameter, base: &Map<String, Value>, g: &mut Gen) {
    if p.ty == ParamType::JsonString {
        json_string_cases(spec, p, base, g);
        return;
    }
    if !matches!(p.ty, ParamType::List | ParamType::Structure) {
        return;
    }
    let example = example_value(spec, &p.name).unwrap_or_else(|| synth(p));
    let with = |v: Value| {
        let mut m = base.clone();
        m.insert(p.name.clone(), v);
        m
    };
    match (p.ty, &example) {
        (ParamType::List, Value::Array(items)) => {
            if let Some(b) = p.items {
                if b.min == Some(1) {
                    let m = with(Value::Array(Vec::new()));
                    let e = expected_for(spec, &m);
                    g.push(
                        format!("items/{}/empty", p.name),
                        m,
                        e,
                        vec![format!("constraint:{}:items", p.name)],
                    );
                }
                // The most items allowed, and one more (each a copy of the example's first).
                let one = items
                    .first()
                    .cloned()
                    .or_else(|| p.member.as_deref().map(synth));
                if let (Some(max), Some(one)) = (b.max.filter(|m| *m <= 1000), one) {
                    for (name, n) in [("max", max), ("max+1", max + 1)] {
                        let m = with(Value::Array(vec![one.clone(); n as usize]));
                        let e = expected_for(spec, &m);
                        g.push(
                            format!("items/{}/{name}", p.name),
                            m,
                            e,
                            vec![format!("constraint:{}:items", p.name)],
                        );
                    }
                }
            }
            if let (Some(member), Some(Value::Object(first))) = (&p.member, items.first()) {
                let wrap = |o: Map<String, Value>| with(Value::Array(vec![Value::Object(o)]));
                member_cases(spec, &p.name, &member.members, first, &wrap, g);
            }
        }
        (ParamType::Structure, Value::Object(obj)) => {
            let wrap = |o: Map<String, Value>| with(Value::Object(o));
            member_cases(spec, &p.name, &p.members, obj, &wrap, g);
        }
        _ => {}
    }
}

/// A json-string's members (Nexfs `AssumeRolePolicyDocument`'s `Roles`), checked once the
/// text is decoded: the example's object varied member by member, then sent encoded again.
fn json_string_cases(spec: &Spec, p: &Parameter, base: &Map<String, Value>, g: &mut Gen) {
    let text = base
        .get(&p.name)
        .cloned()
        .or_else(|| example_value(spec, &p.name));
    let Some(Value::Object(obj)) = text
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
    else {
        return;
    };
    let wrap = |o: Map<String, Value>| {
        let mut m = base.clone();
        m.insert(p.name.clone(), Value::String(Value::Object(o).to_string()));
        m
    };
    member_cases(spec, &p.name, &p.members, &obj, &wrap, g);
}

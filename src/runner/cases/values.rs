//! The values generated cases send: strings of a given length that a pattern accepts, a
//! valid value for a parameter, another valid value than the current one, an enum value in
//! another letter case, the documents' example values.

use serde_json::{Map, Value};

use crate::spec::model::{ParamType, Parameter, Spec};
use crate::spec::validate;

/// One value of an exact enum in another letter case (`en` → `EN`, `ADMIN` → `admin`),
/// labelled `case-<value>`, when the list does not itself hold that spelling.
pub(super) fn other_case(values: &[String]) -> Option<(String, String)> {
    values.iter().find_map(|v| {
        let flipped = if v.chars().any(|c| c.is_lowercase()) {
            v.to_uppercase()
        } else {
            v.to_lowercase()
        };
        (flipped != *v && !values.contains(&flipped)).then(|| (format!("case-{flipped}"), flipped))
    })
}

/// A valid value for `p` other than `current` (so that setting it is a visible change).
pub(super) fn another_value(spec: &Spec, p: &Parameter, current: Option<&Value>) -> Option<Value> {
    let differs = |v: &Value| Some(v) != current;
    let accept = |v: &Value| {
        let mut m = Map::new();
        m.insert(p.name.clone(), v.clone());
        let (_, violations) = validate::validate(spec, &m);
        !violations.iter().any(|x| x.parameter == p.name)
    };
    let mut candidates: Vec<Value> = Vec::new();
    if let Some(values) = &p.allowed {
        candidates.extend(values.iter().map(|v| Value::from(v.as_str())));
    }
    candidates.extend(example_value(spec, &p.name));
    candidates.push(synth(p));
    match p.ty {
        ParamType::Boolean => candidates.extend([Value::Bool(true), Value::Bool(false)]),
        ParamType::Integer | ParamType::Unsigned => {
            let (lo, hi) = (
                p.range.and_then(|r| r.min).unwrap_or(0).max(0),
                p.range.and_then(|r| r.max).unwrap_or(i64::MAX),
            );
            candidates.extend([lo, lo.saturating_add(1), hi].map(Value::from));
        }
        ParamType::String => {
            let seed = current.and_then(Value::as_str).unwrap_or("a");
            // The example's value (or the current one) with one letter or digit changed.
            let example = example_value(spec, &p.name);
            for from in [example.as_ref().and_then(Value::as_str), Some(seed)]
                .into_iter()
                .flatten()
            {
                let chars: Vec<char> = from.chars().collect();
                for i in (0..chars.len()).rev() {
                    let swap = match chars[i] {
                        '0'..='8' => char::from_u32(chars[i] as u32 + 1),
                        '9' => Some('0'),
                        'a'..='y' | 'A'..='Y' => char::from_u32(chars[i] as u32 + 1),
                        'z' => Some('a'),
                        'Z' => Some('A'),
                        _ => None,
                    };
                    if let Some(c) = swap {
                        let mut v = chars.clone();
                        v[i] = c;
                        candidates.push(Value::from(v.into_iter().collect::<String>()));
                        break;
                    }
                }
            }
            let pattern_ok = |s: &str| p.compiled.as_ref().is_none_or(|re| re.is_match(s));
            let min = p.length.and_then(|b| b.min).unwrap_or(1).max(1) as usize;
            let max = p.length.and_then(|b| b.max).unwrap_or(64).min(64) as usize;
            candidates.push(Value::from("apiconform@example.com"));
            for len in [min.max(8).min(max), min, max] {
                if let Some(v) = string_of_len("apiconform", len, |s| pattern_ok(s) && s != seed) {
                    candidates.push(Value::from(v));
                }
            }
        }
        _ => {}
    }
    candidates.into_iter().find(|v| differs(v) && accept(v))
}

/// The first value a document example gives `param`.
pub(super) fn example_value(spec: &Spec, param: &str) -> Option<Value> {
    spec.examples
        .iter()
        .find_map(|e| e.params.get(param))
        .cloned()
}

/// A valid value for `p` built from its constraints (when no example shows one).
pub(super) fn synth(p: &Parameter) -> Value {
    let pattern_ok = |s: &str| p.compiled.as_ref().is_none_or(|re| re.is_match(s));
    match p.ty {
        ParamType::String | ParamType::JsonString => {
            if let Some(v) = p.allowed.as_ref().and_then(|a| a.first()) {
                return Value::from(v.as_str());
            }
            let len = p.length.and_then(|b| b.min).unwrap_or(1).max(1) as usize;
            Value::from(string_of_len("a", len, pattern_ok).unwrap_or_else(|| "a".repeat(len)))
        }
        ParamType::Integer | ParamType::Unsigned => {
            Value::from(p.range.and_then(|r| r.min).unwrap_or(0).max(0))
        }
        ParamType::Boolean => Value::Bool(false),
        ParamType::Document => Value::from("apiconform"),
        ParamType::List => Value::Array(p.member.as_deref().map(synth).into_iter().collect()),
        ParamType::Structure => Value::Object(
            p.members
                .iter()
                .map(|m| (m.name.clone(), synth(m)))
                .collect(),
        ),
    }
}

/// Candidate strings of exactly `len` characters built from `seed` (a valid value) and
/// filler characters; the first that `accept` takes wins.
pub(super) fn string_of_len(
    seed: &str,
    len: usize,
    accept: impl Fn(&str) -> bool,
) -> Option<String> {
    let chars: Vec<char> = seed.chars().collect();
    let fillers = ['a', 'A', '0', 'b', '_', '/', '-', 'f'];
    let mut candidates: Vec<String> = Vec::new();
    for f in fillers {
        candidates.push(std::iter::repeat_n(f, len).collect());
    }
    if chars.len() >= len {
        candidates.push(chars[..len].iter().collect());
        if len >= 1 && !chars.is_empty() {
            let mut c: Vec<char> = chars[..len - 1].to_vec();
            c.push(*chars.last().unwrap_or(&'a'));
            candidates.push(c.into_iter().collect());
        }
    } else {
        let extra = len - chars.len();
        for f in fillers {
            let pad: String = std::iter::repeat_n(f, extra).collect();
            let s: String = chars.iter().collect();
            candidates.push(format!("{s}{pad}"));
            if let Some((first, rest)) = chars.split_first() {
                candidates.push(format!("{first}{pad}{}", rest.iter().collect::<String>()));
            }
            if let Some((last, init)) = chars.split_last() {
                candidates.push(format!("{}{pad}{last}", init.iter().collect::<String>()));
            }
        }
    }
    candidates
        .into_iter()
        .find(|c| c.chars().count() == len && accept(c))
}

pub(super) fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

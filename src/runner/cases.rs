//! The cases: every document example, and cases generated from the spec so that no
//! constraint and no error row goes untested. Each case's expected outcome comes from the
//! spec itself (the validator, the error rows' triggers), never from an implementation.

use serde_json::{Map, Value};

use crate::spec::model::{
    Auth, Expectation, ParamType, Parameter, Protocol, RuleCheck, Spec, Trigger,
};
use crate::spec::validate;

use super::client::Signing;
use super::target::Credentials;

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
    // A valid selector that names no fixture: not found.
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

fn expected_valid(spec: &Spec, params: &Map<String, Value>) -> Expect {
    let (coerced, violations) = validate::validate(spec, params);
    if !violations.is_empty() {
        let (row, _) = validate::row_for_violations(spec, &violations);
        return Expect::Error(row.code.clone());
    }
    for r in &spec.rules {
        if let RuleCheck::RequiresValue {
            parameter,
            other,
            equals,
        } = &r.check
        {
            if coerced.contains_key(parameter) && coerced.get(other) != Some(equals) {
                // The stored resource may already hold `equals`; generated rule cases
                // send `other` explicitly.
                if coerced.contains_key(other) {
                    return Expect::Error(r.error.clone());
                }
            }
        }
    }
    Expect::Success
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

/// Candidate strings of exactly `len` characters built from `seed` (a valid value) and
/// filler characters; the first that `accept` takes wins.
fn string_of_len(seed: &str, len: usize, accept: impl Fn(&str) -> bool) -> Option<String> {
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

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// All cases of one spec: generated from it, then the embedded suite's scenarios.
pub fn cases(spec: &Spec) -> Vec<Case> {
    let mut out = generated(spec);
    out.extend(super::suite::embedded_cases(spec));
    out
}

/// The cases generated from a spec: examples, constraints, error rows.
pub fn generated(spec: &Spec) -> Vec<Case> {
    let api = spec.api.id.clone();
    let mut out = Vec::new();
    let mut push =
        |name: String, params: Map<String, Value>, expect: Expect, covers: Vec<String>| {
            out.push(Case {
                name: format!("{api}/{name}"),
                api: api.clone(),
                params,
                raw_body: None,
                signing: Signing::Signed,
                inject: None,
                expect,
                covers,
                around: None,
            });
        };
    let base = base(spec);

    // Examples.
    for ex in &spec.examples {
        let expect = match &ex.expect {
            Expectation::Success { .. } => Expect::Success,
            Expectation::Error(c) => Expect::Error(c.clone()),
        };
        push(
            format!("example/{}", ex.name),
            ex.params.clone(),
            expect,
            vec![format!("example:{}", ex.name)],
        );
    }

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
            push(
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
                        push(
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
                for (label, bad) in [("space", ' '), ("non-ascii-letter", 'é'), ("bang", '!')] {
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
                        push(
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
                    push(
                        format!("enum/{}/{v}", p.name),
                        m,
                        e,
                        vec![format!("constraint:{}:enum", p.name)],
                    );
                }
                let m = with(Value::String("NOT_A_VALUE".into()));
                let e = expected_for(spec, &m);
                push(
                    format!("enum/{}/outside", p.name),
                    m,
                    e,
                    vec![format!("constraint:{}:enum", p.name)],
                );
                // The listed values are exact: another letter case is outside the list.
                if let Some((label, v)) = other_case(values) {
                    let m = with(Value::String(v));
                    let e = expected_for(spec, &m);
                    push(
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
                push(
                    format!("range/{}/{label}", p.name),
                    m,
                    e,
                    vec![format!("constraint:{}:range", p.name)],
                );
            }
        }

        // Wrong JSON types (JSON protocols only: forms carry only strings).
        let json = !matches!(
            spec.protocol,
            Protocol::AwsQuery { .. } | Protocol::NexfsQuery { .. }
        );
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
            push(
                format!("type/{}/wrong", p.name),
                m,
                e,
                vec![format!("constraint:{}:type", p.name)],
            );
        }

        // Lists and structures: bounds and nested members from the example's value.
        nested_cases(spec, p, &base, &mut push);
    }

    // Unknown members (where the spec rejects them).
    if spec.validation.reject_unknown {
        let mut m = base.clone();
        m.insert("not_a_parameter".into(), Value::from("x"));
        let e = expected_for(spec, &m);
        push(
            "unknown/not_a_parameter".into(),
            m,
            e,
            vec!["constraint:*:unknown".into()],
        );
    }

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
                push(
                    format!("rule/{}/broken", r.name),
                    m,
                    Expect::Error(r.error.clone()),
                    vec![format!("rule:{}", r.name), format!("error:{}", r.error)],
                );
                let mut m = base.clone();
                m.insert(parameter.clone(), value);
                m.insert(other.clone(), equals.clone());
                let e = expected_for(spec, &m);
                push(
                    format!("rule/{}/kept", r.name),
                    m,
                    e,
                    vec![format!("rule:{}", r.name)],
                );
            }
        }
    }

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
            if expected_for(spec, &request) == Expect::Success {
                push(
                    format!("effect/{}", p.name),
                    request,
                    Expect::Success,
                    vec![format!("effect:{}", p.name)],
                );
            }
        }
    }

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
                push(
                    format!("not-found/{}", p.name),
                    m,
                    Expect::Error(row.code.clone()),
                    vec![format!("error:{}", row.code)],
                );
            }
        }
    }

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
                    push(
                        format!("conflict/{}", p.name),
                        m,
                        Expect::Error(row.code.clone()),
                        vec![format!("error:{}", row.code)],
                    );
                }
            }
        }
    }

    // Authentication.
    let auth_cases: Vec<(&str, Signing, String)> = match &spec.auth {
        Auth::Sigv4 { errors, .. } => vec![
            ("unsigned", Signing::None, errors.missing.clone()),
            ("tampered", Signing::Tampered, errors.bad_signature.clone()),
            (
                "unknown-key",
                Signing::SignedAs(Credentials {
                    access_key: "AKIDUNKNOWNEXAMPLE".into(),
                    ..Credentials::default_fake()
                }),
                errors.unknown_key.clone(),
            ),
        ],
        Auth::NimbleToken {
            unauthenticated, ..
        } => vec![
            ("no-token", Signing::None, unauthenticated.clone()),
            ("bad-token", Signing::Tampered, unauthenticated.clone()),
        ],
    };
    for (label, signing, code) in auth_cases {
        out.push(Case {
            name: format!("{api}/auth/{label}"),
            api: api.clone(),
            params: base.clone(),
            raw_body: None,
            signing,
            inject: None,
            expect: Expect::Error(code.clone()),
            covers: vec![format!("error:{code}")],
            around: None,
        });
    }

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
            out.push(Case {
                name: format!("{api}/forbidden/{}", r.name),
                api: api.clone(),
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

    // Every row can be injected (a target with a control plane).
    for row in &spec.errors {
        out.push(Case {
            name: format!("{api}/injected/{}", row.code),
            api: api.clone(),
            params: base.clone(),
            raw_body: None,
            signing: Signing::Signed,
            inject: Some(row.code.clone()),
            expect: Expect::Error(row.code.clone()),
            covers: vec![format!("error:{}", row.code), "injected".into()],
            around: None,
        });
    }

    // An undecodable body (JSON protocols; forms decode leniently, Nexfs has no body).
    if let Some(row) = spec
        .errors
        .iter()
        .find(|e| e.triggers().any(|t| *t == Trigger::Malformed))
    {
        if matches!(
            spec.protocol,
            Protocol::AwsJson { .. } | Protocol::RestJson { .. } | Protocol::NimbleRest { .. }
        ) {
            out.push(Case {
                name: format!("{api}/malformed/truncated-body"),
                api: api.clone(),
                params: base.clone(),
                raw_body: Some("{\"truncated\": ".to_string()),
                signing: Signing::Signed,
                inject: None,
                expect: Expect::Error(row.code.clone()),
                covers: vec![format!("error:{}", row.code)],
                around: None,
            });
        }
    }
    // Examples whose document request cannot be decoded are sent verbatim.
    for case in out.iter_mut() {
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
    out
}

/// One value of an exact enum in another letter case (`en` → `EN`, `ADMIN` → `admin`),
/// labelled `case-<value>`, when the list does not itself hold that spelling.
fn other_case(values: &[String]) -> Option<(String, String)> {
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
fn another_value(spec: &Spec, p: &Parameter, current: Option<&Value>) -> Option<Value> {
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
fn example_value(spec: &Spec, param: &str) -> Option<Value> {
    spec.examples
        .iter()
        .find_map(|e| e.params.get(param))
        .cloned()
}

/// A valid value for `p` built from its constraints (when no example shows one).
fn synth(p: &Parameter) -> Value {
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

/// Cases on the members of an object (a structure, or a list's item): each member's
/// required, length, range, enum, pattern and item bounds, the object put back in place by
/// `wrap`.
fn member_cases(
    spec: &Spec,
    label: &str,
    members: &[Parameter],
    obj: &Map<String, Value>,
    wrap: &dyn Fn(Map<String, Value>) -> Map<String, Value>,
    push: &mut impl FnMut(String, Map<String, Value>, Expect, Vec<String>),
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
            push(format!("{kind}/{label}.{}/{name}", q.name), m, e, key(kind));
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

fn nested_cases(
    spec: &Spec,
    p: &Parameter,
    base: &Map<String, Value>,
    push: &mut impl FnMut(String, Map<String, Value>, Expect, Vec<String>),
) {
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
                    push(
                        format!("items/{}/empty", p.name),
                        m,
                        e,
                        vec![format!("constraint:{}:items", p.name)],
                    );
                }
            }
            if let (Some(member), Some(Value::Object(first))) = (&p.member, items.first()) {
                let wrap = |o: Map<String, Value>| with(Value::Array(vec![Value::Object(o)]));
                member_cases(spec, &p.name, &member.members, first, &wrap, push);
            }
        }
        (ParamType::Structure, Value::Object(obj)) => {
            let wrap = |o: Map<String, Value>| with(Value::Object(o));
            member_cases(spec, &p.name, &p.members, obj, &wrap, push);
        }
        _ => {}
    }
}

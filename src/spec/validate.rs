//! Checks a call's parameters against the spec's constraints, the way AWS's Coral
//! validation does: every violated constraint of every member is reported, members are
//! named in the service's style (`newUserName`, `homeDirectoryMappings.1.member.entry`),
//! and lengths are counted in UTF-16 code units as Java does.
//!
//! Used by the fake for every request and by the loader to replay each spec example.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};
use smallvec::SmallVec;

use super::model::{
    Constraint, ErrorRow, MemberNames, ParamType, Parameter, Spec, Trigger, ValidationStyle,
};

/// One violated constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The top-level spec parameter the violation is under.
    pub parameter: String,
    /// Member path in the service's naming style.
    pub path: String,
    pub constraint: Constraint,
    /// The offending value as shown in messages (`None`: absent, or a secret).
    pub value: Option<String>,
    /// The requirement, e.g. `Member must have length less than or equal to 64`.
    pub requirement: String,
}

/// Parameters after validation: values coerced to their declared types (form and query
/// values arrive as strings), JSON strings parsed.
pub type Params = Map<String, Value>;

/// Validates `params` (keyed by spec parameter name) against `spec`. Returns the coerced
/// parameters and every violation, in parameter order.
pub fn validate(spec: &Spec, params: &Params) -> (Params, Vec<Violation>) {
    let mut out = Params::new();
    let violations = check_all(spec, params, |i, v| {
        out.insert(spec.parameters[i].name.clone(), v.into_owned());
    });
    (out, violations)
}

/// [`validate`] for a caller that no longer needs `params` once they are valid (the fake):
/// the valid parameters are `params` itself, kept in the request's order, with the values
/// coercion changed replaced and the unset (null) ones left out; nothing is copied. With
/// violations, `params` is left as it was (the error answer quotes it).
pub fn validate_taking(spec: &Spec, params: &mut Params) -> Result<Params, Vec<Violation>> {
    // The parameters checked (by position in the spec), and the values coercion changed,
    // which are few: only these are kept aside, not every checked value.
    let mut checked: SmallVec<[usize; 16]> = SmallVec::new();
    let mut coerced: SmallVec<[(usize, Value); 2]> = SmallVec::new();
    let violations = check_all(spec, params, |i, v| {
        checked.push(i);
        if let Cow::Owned(v) = v {
            coerced.push((i, v));
        }
    });
    if !violations.is_empty() {
        return Err(violations);
    }
    let mut out = std::mem::take(params);
    // Each parameter checked is a member whose value is not null, each of another name.
    // So when as many members are not null, those members are the parameters checked, and
    // no name needs comparing.
    if out.values().filter(|v| !v.is_null()).count() == checked.len() {
        out.retain(|_, v| !v.is_null());
    } else {
        out.retain(|k, _| checked.iter().any(|&i| spec.parameters[i].name == *k));
    }
    for (i, v) in coerced {
        if let Some(slot) = out.get_mut(&spec.parameters[i].name) {
            *slot = v;
        }
    }
    Ok(out)
}

/// Checks every parameter, giving each checked one to `each` (its position in the spec,
/// and its value coerced to its type, borrowed when coercion did not change it); returns
/// the violations.
fn check_all<'v>(
    spec: &Spec,
    params: &'v Params,
    mut each: impl FnMut(usize, Cow<'v, Value>),
) -> Vec<Violation> {
    let mut v = Validator {
        names: spec.validation.member_names,
        violations: Vec::new(),
        top: "",
    };
    for (i, p) in spec.parameters.iter().enumerate() {
        let given = super::member(params, &p.name);
        if !p.required && given.is_none_or(Value::is_null) {
            // Nothing to check, and nothing to name.
            continue;
        }
        v.top = &p.name;
        if let Some(value) = v.check(p, given, &Path::Top(&p.name)) {
            each(i, value);
        }
    }
    if spec.validation.reject_unknown {
        for (k, value) in params {
            if !spec.parameters.iter().any(|p| &p.name == k) {
                v.violations.push(Violation {
                    parameter: k.clone(),
                    path: v.member_name(k).into_owned(),
                    constraint: Constraint::Unknown,
                    value: Some(display(value)),
                    requirement: "Member is not a parameter of this operation".into(),
                });
            }
        }
    }
    v.violations
}

/// The error row a request with these violations gets (the most specific `invalid` row
/// matching the first violation; a wrong JSON type with no row of its own is the
/// malformed row, as AWS's JSON protocols answer it), and the violations its message
/// names. Shared by the fake (to answer) and the runner (to expect).
pub fn row_for_violations<'s>(
    spec: &'s Spec,
    violations: &[Violation],
) -> (&'s ErrorRow, Vec<Violation>) {
    let malformed_row = || spec.malformed_row();
    let Some(first) = violations.first() else {
        return (malformed_row(), Vec::new());
    };
    let matches = |row: &ErrorRow, v: &Violation| match &row.trigger {
        Trigger::Invalid {
            constraints,
            parameters,
        } => {
            (constraints.is_empty() || constraints.contains(&v.constraint))
                && (parameters.is_empty() || parameters.contains(&v.parameter))
        }
        _ => false,
    };
    let specificity = |row: &ErrorRow| match &row.trigger {
        Trigger::Invalid {
            constraints,
            parameters,
        } => 2 * usize::from(!parameters.is_empty()) + usize::from(!constraints.is_empty()),
        _ => 0,
    };
    let best = spec
        .errors
        .iter()
        .filter(|r| matches(r, first))
        .max_by_key(|r| specificity(r));
    // AWS's JSON protocols refuse a member of the wrong JSON type while decoding
    // (Coral's SerializationException), before any validation.
    let json_protocol = !spec.protocol.is_xml() && spec.protocol.aws_errors();
    let row = match best {
        Some(r) if first.constraint == Constraint::Type && specificity(r) == 0 && json_protocol => {
            malformed_row()
        }
        Some(r) => r,
        None => malformed_row(),
    };
    let same: Vec<Violation> = violations
        .iter()
        .filter(|v| matches(row, v) || row.trigger == Trigger::Malformed)
        .cloned()
        .collect();
    let shown = if same.is_empty() {
        violations.to_vec()
    } else {
        same
    };
    (row, shown)
}

/// Words the violations as the spec's validation style says.
pub fn describe(style: ValidationStyle, violations: &[Violation]) -> String {
    let one = |x: &Violation| match &x.value {
        Some(val) => format!(
            "Value '{val}' at '{}' failed to satisfy constraint: {}",
            x.path, x.requirement
        ),
        None if x.constraint == Constraint::Required => format!(
            "Value null at '{}' failed to satisfy constraint: {}",
            x.path, x.requirement
        ),
        None => format!(
            "Value at '{}' failed to satisfy constraint: {}",
            x.path, x.requirement
        ),
    };
    match style {
        ValidationStyle::Aws => {
            let n = violations.len();
            let parts: Vec<String> = violations.iter().map(one).collect();
            format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                parts.join("; ")
            )
        }
        ValidationStyle::Plain => match violations.first() {
            Some(x) => {
                let req = x
                    .requirement
                    .strip_prefix("Member ")
                    .unwrap_or(&x.requirement);
                format!("Invalid value for '{}': {req}", x.path)
            }
            None => "Invalid request".into(),
        },
    }
}

/// Where a value sits in the request, written out (in the service's member-name style)
/// only when a violation names it: a valid request builds no path text.
enum Path<'a> {
    Top(&'a str),
    Member(&'a Path<'a>, &'a str),
    /// Item `i` (from 0) of a list, written `.{i + 1}.member`.
    Item(&'a Path<'a>, usize),
}

struct Validator<'s> {
    names: MemberNames,
    violations: Vec<Violation>,
    /// The top-level parameter being checked.
    top: &'s str,
}

impl Validator<'_> {
    /// A member's name as the service's messages write it (borrowed when unchanged).
    fn member_name<'n>(&self, name: &'n str) -> Cow<'n, str> {
        match self.names {
            MemberNames::LowerCamel if name.starts_with(|c: char| !c.is_lowercase()) => {
                let mut c = name.chars();
                match c.next() {
                    Some(f) => Cow::Owned(f.to_lowercase().chain(c).collect()),
                    None => Cow::Borrowed(name),
                }
            }
            _ => Cow::Borrowed(name),
        }
    }

    fn path_text(&self, path: &Path<'_>) -> String {
        match path {
            Path::Top(name) => self.member_name(name).into_owned(),
            Path::Member(parent, name) => {
                format!("{}.{}", self.path_text(parent), self.member_name(name))
            }
            Path::Item(parent, i) => format!("{}.{}.member", self.path_text(parent), i + 1),
        }
    }

    fn push(
        &mut self,
        path: &Path<'_>,
        p: &Parameter,
        c: Constraint,
        value: Option<&Value>,
        req: String,
    ) {
        self.violations.push(Violation {
            parameter: self.top.to_owned(),
            path: self.path_text(path),
            constraint: c,
            value: if p.sensitive {
                None
            } else {
                value.map(display)
            },
            requirement: req,
        });
    }

    /// Checks one value; returns it coerced to its type, or `None` when absent/unusable.
    fn check<'v>(
        &mut self,
        p: &Parameter,
        value: Option<&'v Value>,
        path: &Path<'_>,
    ) -> Option<Cow<'v, Value>> {
        let value = match value {
            None | Some(Value::Null) => {
                if p.required {
                    self.push(
                        path,
                        p,
                        Constraint::Required,
                        None,
                        "Member must not be null".into(),
                    );
                }
                return None;
            }
            Some(v) => v,
        };
        let value = self.coerce(p, value, path)?;
        match p.ty {
            ParamType::String => self.check_string(p, &value, path),
            ParamType::Integer | ParamType::Unsigned => self.check_number(p, &value, path),
            ParamType::Boolean | ParamType::Document => {}
            ParamType::List => {
                return Some(Cow::Owned(self.check_list(p, value.into_owned(), path)))
            }
            ParamType::Structure | ParamType::JsonString => {
                return Some(Cow::Owned(self.check_members(p, value.into_owned(), path)))
            }
        }
        Some(value)
    }

    /// Brings a value to the parameter's type (strings from forms and query strings are
    /// parsed); a value of the wrong type is a `type` violation.
    fn coerce<'v>(
        &mut self,
        p: &Parameter,
        value: &'v Value,
        path: &Path<'_>,
    ) -> Option<Cow<'v, Value>> {
        let expected = match (p.ty, value) {
            (ParamType::String, Value::String(_))
            | (ParamType::Document, _)
            | (ParamType::Boolean, Value::Bool(_))
            | (ParamType::List, Value::Array(_))
            | (ParamType::Structure | ParamType::JsonString, Value::Object(_)) => {
                return Some(Cow::Borrowed(value))
            }
            (ParamType::Integer, Value::Number(n)) if n.is_i64() => {
                return Some(Cow::Borrowed(value))
            }
            (ParamType::Unsigned, Value::Number(n)) if n.is_u64() => {
                return Some(Cow::Borrowed(value))
            }
            (ParamType::Integer, Value::String(s)) => {
                if let Ok(i) = s.trim().parse::<i64>() {
                    return Some(Cow::Owned(Value::Number(i.into())));
                }
                "an integer"
            }
            (ParamType::Unsigned, Value::String(s)) => {
                if let Ok(i) = s.trim().parse::<u64>() {
                    return Some(Cow::Owned(Value::Number(i.into())));
                }
                "an unsigned 64-bit integer"
            }
            (ParamType::Boolean, Value::String(s)) => match s.as_str() {
                "true" => return Some(Cow::Owned(Value::Bool(true))),
                "false" => return Some(Cow::Owned(Value::Bool(false))),
                _ => "a boolean",
            },
            (ParamType::JsonString, Value::String(s)) => {
                if let Some(obj) = parse_json_string(s) {
                    return Some(Cow::Owned(Value::Object(obj)));
                }
                "a JSON object (URI-encoded)"
            }
            (ParamType::String, _) => "a string",
            (ParamType::Integer, _) => "an integer",
            (ParamType::Unsigned, _) => "an unsigned 64-bit integer",
            (ParamType::Boolean, _) => "a boolean",
            (ParamType::List, _) => "a list",
            (ParamType::Structure, _) => "a structure",
            (ParamType::JsonString, _) => "a JSON object (URI-encoded)",
        };
        self.push(
            path,
            p,
            Constraint::Type,
            Some(value),
            format!("Member must be {expected}"),
        );
        None
    }

    fn check_string(&mut self, p: &Parameter, value: &Value, path: &Path<'_>) {
        let Value::String(s) = value else { return };
        if let Some(b) = p.length {
            let len = utf16_len(s) as u64;
            if let Some(max) = b.max.filter(|m| len > *m) {
                self.push(
                    path,
                    p,
                    Constraint::Length,
                    Some(value),
                    format!("Member must have length less than or equal to {max}"),
                );
            }
            if let Some(min) = b.min.filter(|m| len < *m) {
                self.push(
                    path,
                    p,
                    Constraint::Length,
                    Some(value),
                    format!("Member must have length greater than or equal to {min}"),
                );
            }
        }
        if let Some(pat) = &p.compiled {
            if !pat.is_match(s) {
                self.push(
                    path,
                    p,
                    Constraint::Pattern,
                    Some(value),
                    format!(
                        "Member must satisfy regular expression pattern: {}",
                        pat.source
                    ),
                );
            }
        }
        if let Some(allowed) = &p.allowed {
            if !allowed.iter().any(|a| a == s) {
                self.push(
                    path,
                    p,
                    Constraint::Enum,
                    Some(value),
                    format!(
                        "Member must satisfy enum value set: [{}]",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn check_number(&mut self, p: &Parameter, value: &Value, path: &Path<'_>) {
        let (Some(r), Value::Number(n)) = (p.range, value) else {
            return;
        };
        let n: i128 = number_as_i128(n);
        if let Some(max) = r.max.filter(|m| n > i128::from(*m)) {
            self.push(
                path,
                p,
                Constraint::Range,
                Some(value),
                format!("Member must have value less than or equal to {max}"),
            );
        }
        if let Some(min) = r.min.filter(|m| n < i128::from(*m)) {
            self.push(
                path,
                p,
                Constraint::Range,
                Some(value),
                format!("Member must have value greater than or equal to {min}"),
            );
        }
    }

    fn check_list(&mut self, p: &Parameter, value: Value, path: &Path<'_>) -> Value {
        let Value::Array(items) = value else {
            return value;
        };
        if let Some(b) = p.items {
            let n = items.len() as u64;
            // Copied for the violation's value only when there is one.
            let shown = || Value::Array(items.clone());
            if let Some(max) = b.max.filter(|m| n > *m) {
                self.push(
                    path,
                    p,
                    Constraint::Items,
                    Some(&shown()),
                    format!("Member must have length less than or equal to {max}"),
                );
            }
            if let Some(min) = b.min.filter(|m| n < *m) {
                self.push(
                    path,
                    p,
                    Constraint::Items,
                    Some(&shown()),
                    format!("Member must have length greater than or equal to {min}"),
                );
            }
        }
        let Some(member) = p.member.as_deref() else {
            return Value::Array(items);
        };
        let out = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                self.check(member, Some(item), &Path::Item(path, i))
                    .map(Cow::into_owned)
                    .unwrap_or(Value::Null)
            })
            .collect();
        Value::Array(out)
    }

    fn check_members(&mut self, p: &Parameter, value: Value, path: &Path<'_>) -> Value {
        let Value::Object(obj) = value else {
            return value;
        };
        let mut out = Map::new();
        for m in &p.members {
            if let Some(v) = self
                .check(m, obj.get(&m.name), &Path::Member(path, &m.name))
                .map(Cow::into_owned)
            {
                out.insert(m.name.clone(), v);
            }
        }
        Value::Object(out)
    }
}

/// A string's length as the AWS models count it, in UTF-16 code units. ASCII text (most
/// values) is one unit a byte, told by `is_ascii` a word at a time; other text is counted
/// a character at a time.
fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

fn number_as_i128(n: &Number) -> i128 {
    if let Some(u) = n.as_u64() {
        i128::from(u)
    } else if let Some(i) = n.as_i64() {
        i128::from(i)
    } else {
        // Fractions and out-of-range floats: saturate so range checks still apply.
        n.as_f64().map_or(0, |f| f as i128)
    }
}

/// Parses a JSON object carried in a string, URI-encoded or not (Nexfs `Description`).
fn parse_json_string(s: &str) -> Option<Map<String, Value>> {
    if let Ok(Value::Object(o)) = serde_json::from_str(s) {
        return Some(o);
    }
    let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
    match serde_json::from_str(&decoded) {
        Ok(Value::Object(o)) => Some(o),
        _ => None,
    }
}

/// A value as AWS shows it in messages.
pub fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::model::{Bounds, Range};
    use crate::spec::pattern::Pattern;
    use serde_json::json;

    proptest::proptest! {
        /// Lengths are UTF-16 code units, ASCII or not (`😀` counts two).
        #[test]
        fn a_length_counts_utf16_code_units(s in "[a-z]{0,12}|[a-zé😀]{0,6}") {
            proptest::prop_assert_eq!(utf16_len(&s), s.encode_utf16().count());
        }
    }

    fn param(name: &str, ty: ParamType) -> Parameter {
        serde_json::from_value(json!({"name": name, "type": ty})).unwrap()
    }

    fn one(p: Parameter, value: Value) -> Vec<Violation> {
        let mut v = Validator {
            names: MemberNames::LowerCamel,
            violations: vec![],
            top: &p.name,
        };
        v.check(&p, Some(&value), &Path::Top(&p.name));
        v.violations
    }

    #[test]
    fn taking_gives_what_validating_gives_and_takes_nothing_from_a_refused_request() {
        let specs = crate::spec::embedded().expect("embedded specs");
        let spec = specs
            .iter()
            .find(|s| s.api.id == "aws-iam")
            .expect("aws-iam");
        let mut params: Params = serde_json::from_value(json!({
            "UserName": "Bob", "NewPath": "/a/", "NewUserName": "Rob"
        }))
        .unwrap();
        let (copied, violations) = validate(spec, &params);
        assert!(violations.is_empty());
        assert_eq!(validate_taking(spec, &mut params), Ok(copied));
        assert!(
            params.is_empty(),
            "every valid parameter was taken: {params:?}"
        );
        // An unset member is left out, and a member that is no parameter (a spec that does
        // not refuse them), whichever way the members are counted.
        for given in [
            json!({"UserName": "Bob", "NewPath": null, "NewUserName": "Rob"}),
            json!({"NewPath": null, "UserName": "Bob"}),
            json!({"UserName": "Bob", "Unknown": "x"}),
            json!({"Unknown": null, "UserName": "Bob", "Other": 1}),
        ] {
            let mut params: Params = serde_json::from_value(given.clone()).unwrap();
            let (copied, violations) = validate(spec, &params);
            match validate_taking(spec, &mut params) {
                Ok(taken) => {
                    assert!(violations.is_empty(), "{given}");
                    assert_eq!(taken, copied, "{given}");
                }
                Err(v) => assert_eq!(v, violations, "{given}"),
            }
        }
        let mut bad: Params =
            serde_json::from_value(json!({"UserName": "Bob", "NewPath": "no"})).unwrap();
        let kept = bad.clone();
        assert!(validate_taking(spec, &mut bad).is_err());
        assert_eq!(bad, kept);
    }

    #[test]
    fn length_is_counted_in_utf16_units_like_java() {
        let mut p = param("NewUserName", ParamType::String);
        p.length = Some(Bounds {
            min: Some(1),
            max: Some(2),
        });
        // One astral character is two UTF-16 units.
        assert!(one(p.clone(), json!("\u{1F600}")).is_empty());
        let v = one(p, json!("\u{1F600}x"));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].path, "newUserName");
        assert_eq!(
            v[0].requirement,
            "Member must have length less than or equal to 2"
        );
    }

    #[test]
    fn every_violated_constraint_is_reported_in_aws_words() {
        let mut p = param("NewUserName", ParamType::String);
        p.length = Some(Bounds {
            min: Some(1),
            max: Some(3),
        });
        p.pattern = Some(r"[\w]+".into());
        p.compiled = Some(Pattern::compile(r"[\w]+").unwrap());
        let v = one(p, json!("a b c"));
        let msg = describe(ValidationStyle::Aws, &v);
        assert_eq!(
            msg,
            "2 validation errors detected: Value 'a b c' at 'newUserName' failed to satisfy \
             constraint: Member must have length less than or equal to 3; Value 'a b c' at \
             'newUserName' failed to satisfy constraint: Member must satisfy regular \
             expression pattern: [\\w]+"
        );
    }

    #[test]
    fn strings_from_forms_are_coerced_and_bad_ones_are_type_violations() {
        let mut p = param("Uid", ParamType::Integer);
        p.range = Some(Range {
            min: Some(0),
            max: Some(4_294_967_295),
        });
        assert!(one(p.clone(), json!("1000")).is_empty());
        let v = one(p.clone(), json!("12x"));
        assert_eq!(v[0].constraint, Constraint::Type);
        let v = one(p, json!(4_294_967_296u64));
        assert_eq!(
            v[0].requirement,
            "Member must have value less than or equal to 4294967295"
        );
    }

    #[test]
    fn nested_list_members_use_one_based_member_paths() {
        let mut entry = param("Entry", ParamType::String);
        entry.required = true;
        let mut map = param("Map", ParamType::Structure);
        map.members = vec![entry];
        let mut list = param("HomeDirectoryMappings", ParamType::List);
        list.member = Some(Box::new(map));
        let v = one(list, json!([{"Entry": "/"}, {}]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].path, "homeDirectoryMappings.2.member.entry");
        assert_eq!(v[0].constraint, Constraint::Required);
    }

    #[test]
    fn secrets_are_not_echoed() {
        let mut p = param("Password", ParamType::String);
        p.sensitive = true;
        p.length = Some(Bounds {
            min: Some(8),
            max: None,
        });
        let v = one(p, json!("short"));
        assert_eq!(v[0].value, None);
        assert!(!describe(ValidationStyle::Aws, &v).contains("short"));
    }

    #[test]
    fn json_strings_may_be_uri_encoded() {
        assert!(parse_json_string("%7B%22UserDescription2%22%3A%22x%22%7D").is_some());
        assert!(parse_json_string("{\"a\":1}").is_some());
        assert!(parse_json_string("not json").is_none());
    }
}

//! Spec templates: `${Param}`, `${resource.Field}`, `${request_id}`, `${detail}` and
//! `${now}` in messages, error members and response bodies. A response body is compiled
//! once when its spec loads ([`Template`]); the fake renders the compiled tree.

use serde_json::{Map, Value};

use crate::spec::load::template_refs;
use crate::spec::validate::display;

/// A template tree parsed once (when its spec loads): literals kept as they are,
/// references resolved to what they name, so rendering does no parsing.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// No reference inside.
    Literal(Value),
    /// A string that is exactly one reference: the value keeps its type, and the member is
    /// dropped when it is unset.
    Ref(Ref),
    /// Text with references in it.
    Text(Vec<Piece>),
    Array(Vec<Template>),
    Object(Vec<(String, Template)>),
}

/// What a reference names.
#[derive(Debug, Clone, PartialEq)]
pub enum Ref {
    RequestId,
    Detail,
    Now,
    Resource(String),
    /// A list operation's page: `list.items`, `list.next`, `list.truncated`.
    List(String),
    Param(String),
}

/// A piece of a text template.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Lit(String),
    Ref(Ref),
}

impl Ref {
    fn parse(name: &str) -> Self {
        match name {
            "request_id" => Self::RequestId,
            "detail" => Self::Detail,
            "now" => Self::Now,
            _ => match (name.strip_prefix("resource."), name.strip_prefix("list.")) {
                (Some(f), _) => Self::Resource(f.to_string()),
                (_, Some(f)) => Self::List(f.to_string()),
                _ => Self::Param(name.to_string()),
            },
        }
    }
}

impl Template {
    /// Parses a template tree.
    pub fn compile(v: &Value) -> Self {
        match v {
            Value::String(s) if s.contains("${") => {
                if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    if !name.contains("${") && !name.contains('}') {
                        return Self::Ref(Ref::parse(name));
                    }
                }
                let mut pieces = Vec::new();
                let mut rest = s.as_str();
                while let Some(i) = rest.find("${") {
                    let after = &rest[i + 2..];
                    let Some(j) = after.find('}') else { break };
                    if i > 0 {
                        pieces.push(Piece::Lit(rest[..i].to_string()));
                    }
                    pieces.push(Piece::Ref(Ref::parse(&after[..j])));
                    rest = &after[j + 1..];
                }
                if !rest.is_empty() {
                    pieces.push(Piece::Lit(rest.to_string()));
                }
                Self::Text(pieces)
            }
            Value::Array(items) => Self::Array(items.iter().map(Self::compile).collect()),
            Value::Object(m) => Self::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Self::compile(v)))
                    .collect(),
            ),
            other => Self::Literal(other.clone()),
        }
    }
}

/// A resource's fields by name: a map, or a stored row (values in the order of the spec's
/// fields), read in place without building a map.
#[derive(Clone, Copy, Debug)]
pub enum Fields<'a> {
    Map(&'a Map<String, Value>),
    Row(&'a [crate::spec::model::Field], &'a [Value]),
    /// Name and value pairs, as [`crate::spec::effect::Borrowed`] gives a key.
    Pairs(&'a [(&'a str, &'a Value)]),
}

impl<'a> Fields<'a> {
    /// The field's value (`None` when it is unset).
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        match *self {
            Fields::Map(m) => m.get(name),
            Fields::Row(fields, values) => fields
                .iter()
                .position(|f| f.name == name)
                .and_then(|i| values.get(i))
                .filter(|v| !v.is_null()),
            Fields::Pairs(pairs) => pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v),
        }
    }
}

impl<'a> From<&'a [(&'a str, &'a Value)]> for Fields<'a> {
    fn from(p: &'a [(&'a str, &'a Value)]) -> Self {
        Fields::Pairs(p)
    }
}

impl<'a> From<&'a Map<String, Value>> for Fields<'a> {
    fn from(m: &'a Map<String, Value>) -> Self {
        Fields::Map(m)
    }
}

/// A rendered response body: member names borrowed from the compiled template, values
/// from the request and the resource where they can be, so an answer is written without
/// copying what it shows. Serialized as JSON through serde, as XML by
/// [`crate::protocol::xml::write_doc`].
#[derive(Debug, Clone, PartialEq)]
pub enum Rendered<'a> {
    Value(&'a Value),
    Str(&'a str),
    Owned(Value),
    Array(Vec<Rendered<'a>>),
    Object(Vec<(&'a str, Rendered<'a>)>),
}

impl Rendered<'_> {
    /// The same tree as a JSON value.
    pub fn to_value(&self) -> Value {
        match self {
            Rendered::Value(v) => (*v).clone(),
            Rendered::Str(s) => Value::String((*s).to_owned()),
            Rendered::Owned(v) => v.clone(),
            Rendered::Array(items) => Value::Array(items.iter().map(Rendered::to_value).collect()),
            Rendered::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl serde::Serialize for Rendered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Rendered::Value(v) => v.serialize(s),
            Rendered::Str(t) => s.serialize_str(t),
            Rendered::Owned(v) => v.serialize(s),
            Rendered::Array(items) => s.collect_seq(items),
            Rendered::Object(members) => s.collect_map(members.iter().map(|(k, v)| (k, v))),
        }
    }
}

/// What a template can refer to.
pub struct Scope<'a> {
    pub params: &'a Map<String, Value>,
    pub resource: Option<Fields<'a>>,
    pub request_id: &'a str,
    pub detail: &'a str,
    /// A list operation's page: `${list.items}`, `${list.next}`, `${list.truncated}`.
    pub list: Option<&'a Map<String, Value>>,
}

impl<'a> Scope<'a> {
    fn lookup(&self, name: &str) -> Option<Value> {
        match name {
            "request_id" => Some(Value::String(self.request_id.into())),
            "detail" => Some(Value::String(self.detail.into())),
            "now" => Some(Value::Number(
                time::OffsetDateTime::now_utc().unix_timestamp().into(),
            )),
            _ => match (name.strip_prefix("resource."), name.strip_prefix("list.")) {
                (Some(f), _) => self.resource.and_then(|r| r.get(f)).cloned(),
                (_, Some(f)) => self.list.and_then(|l| l.get(f)).cloned(),
                _ => super::member(self.params, name).cloned(),
            },
        }
        .filter(|v| !v.is_null())
    }

    fn resolve(&self, r: &Ref) -> Option<Value> {
        match r {
            Ref::RequestId => Some(Value::String(self.request_id.into())),
            Ref::Detail => Some(Value::String(self.detail.into())),
            Ref::Now => Some(Value::Number(
                time::OffsetDateTime::now_utc().unix_timestamp().into(),
            )),
            _ => self.stored(r).cloned(),
        }
        .filter(|v| !v.is_null())
    }

    /// What a reference to a parameter, a resource field or the page names, in place.
    fn stored(&self, r: &Ref) -> Option<&'a Value> {
        match r {
            Ref::Resource(f) => self.resource.and_then(|m| m.get(f)),
            Ref::List(f) => self.list.and_then(|m| m.get(f)),
            Ref::Param(p) => super::member(self.params, p),
            _ => None,
        }
    }

    /// Whether a reference names a value (without copying it).
    fn is_set(&self, r: &Ref) -> bool {
        match r {
            Ref::RequestId | Ref::Detail | Ref::Now => true,
            _ => self.stored(r).is_some_and(|v| !v.is_null()),
        }
    }

    /// Appends a reference's text (nothing when unset).
    fn push_text(&self, out: &mut String, r: &Ref) {
        match r {
            Ref::RequestId => out.push_str(self.request_id),
            Ref::Detail => out.push_str(self.detail),
            _ => match self.stored(r) {
                Some(Value::String(s)) => out.push_str(s),
                Some(Value::Null) | None if !matches!(r, Ref::Now) => {}
                _ => {
                    if let Some(v) = self.resolve(r) {
                        use std::fmt::Write;
                        let _ = write!(out, "{v}");
                    }
                }
            },
        }
    }

    /// Renders a compiled template, as [`Scope::value`] renders its source.
    pub fn render<'t>(&self, t: &'t Template) -> Option<Rendered<'t>>
    where
        'a: 't,
    {
        match t {
            Template::Literal(v) => Some(Rendered::Value(v)),
            Template::Ref(r) => match r {
                Ref::RequestId => Some(Rendered::Str(self.request_id)),
                Ref::Detail => Some(Rendered::Str(self.detail)),
                Ref::Now => self.resolve(r).map(Rendered::Owned),
                _ => self.stored(r).filter(|v| !v.is_null()).map(Rendered::Value),
            },
            Template::Text(pieces) => {
                let mut out = String::new();
                for p in pieces {
                    match p {
                        Piece::Lit(s) => out.push_str(s),
                        Piece::Ref(r) => self.push_text(&mut out, r),
                    }
                }
                Some(Rendered::Owned(Value::String(out)))
            }
            Template::Array(items) => Some(Rendered::Array(
                items.iter().filter_map(|i| self.render(i)).collect(),
            )),
            Template::Object(members) => {
                // An object whose every reference is unset describes nothing (a structure
                // with a constant member and an unset one): left out, as [`Scope::value`].
                let mut refs = members.iter().filter_map(|(_, t)| match t {
                    Template::Ref(r) => Some(r),
                    _ => None,
                });
                let first = refs.next();
                if first.is_some() && first.into_iter().chain(refs).all(|r| !self.is_set(r)) {
                    return None;
                }
                Some(Rendered::Object(
                    members
                        .iter()
                        .filter_map(|(k, v)| self.render(v).map(|v| (k.as_str(), v)))
                        .collect(),
                ))
            }
        }
    }

    /// Substitutes every reference in `s` with its text (empty when unset).
    pub fn text(&self, s: &str) -> String {
        if !s.contains("${") {
            return s.to_string();
        }
        let mut out = s.to_string();
        for name in template_refs(s) {
            let v = self.lookup(&name).map(|v| display(&v)).unwrap_or_default();
            out = out.replace(&format!("${{{name}}}"), &v);
        }
        out
    }

    /// Renders a tree. A string that is exactly one reference takes the referenced
    /// value's type, and its member is dropped when the value is unset.
    pub fn value(&self, v: &Value) -> Option<Value> {
        match v {
            Value::String(s) => {
                if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    if !name.contains("${") && !name.contains('}') {
                        return self.lookup(name);
                    }
                }
                Some(Value::String(self.text(s)))
            }
            Value::Array(items) => Some(Value::Array(
                items.iter().filter_map(|i| self.value(i)).collect(),
            )),
            Value::Object(m) => {
                let out = self.members(m);
                // An object whose every reference is unset describes nothing (a structure
                // with a constant member and an unset one): left out.
                let refs: Vec<&Value> = m.values().filter(|v| is_reference(v)).collect();
                let unset = !refs.is_empty() && refs.iter().all(|v| self.value(v).is_none());
                (!unset).then_some(Value::Object(out))
            }
            other => Some(other.clone()),
        }
    }

    /// Renders each member of a map, dropping unset ones.
    pub fn members(&self, m: &Map<String, Value>) -> Map<String, Value> {
        m.iter()
            .filter_map(|(k, v)| self.value(v).map(|v| (k.clone(), v)))
            .collect()
    }
}

/// Whether a template value is exactly one `${...}` reference.
fn is_reference(v: &Value) -> bool {
    v.as_str()
        .and_then(|s| s.strip_prefix("${").and_then(|r| r.strip_suffix('}')))
        .is_some_and(|n| !n.contains("${") && !n.contains('}'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exact_references_keep_their_type_and_unset_ones_vanish() {
        let params = json!({"UserName": "bob"}).as_object().cloned().unwrap();
        let res = json!({"Uid": 1000, "Path": "/"})
            .as_object()
            .cloned()
            .unwrap();
        let s = Scope {
            params: &params,
            resource: Some((&res).into()),
            request_id: "r1",
            detail: "",
            list: None,
        };
        let out = s.value(&json!({
            "Uid": "${resource.Uid}", "Gone": "${resource.Missing}",
            "Msg": "User ${UserName} at ${resource.Path} (${request_id})", "Ids": ["${UserName}"]
        }));
        assert_eq!(
            out,
            Some(json!({"Uid": 1000, "Msg": "User bob at / (r1)", "Ids": ["bob"]}))
        );
    }

    #[test]
    fn a_compiled_template_renders_as_its_source() {
        let params = json!({"UserName": "bob"}).as_object().cloned().unwrap();
        let res = json!({"Uid": 1000, "Path": "/", "Flag": false})
            .as_object()
            .cloned()
            .unwrap();
        let s = Scope {
            params: &params,
            resource: Some((&res).into()),
            request_id: "r1",
            detail: "d",
            list: None,
        };
        let source = json!({
            "Uid": "${resource.Uid}", "Gone": "${resource.Missing}", "Flag": "${resource.Flag}",
            "Msg": "User ${UserName} at ${resource.Path} (${request_id}) ${resource.Missing}!",
            "Ids": ["${UserName}", 1, null], "Detail": "${detail}", "Plain": "no refs", "Broken": "${open",
            "Boundary": {"Type": "Policy", "Arn": "${resource.Missing}"}, "Kept": {"Type": "T", "Uid": "${resource.Uid}"}
        });
        let compiled = Template::compile(&source);
        assert_eq!(s.render(&compiled).map(|r| r.to_value()), s.value(&source));
    }
}

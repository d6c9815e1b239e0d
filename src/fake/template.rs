//! Spec templates: `${Param}`, `${resource.Field}`, `${request_id}`, `${detail}` and
//! `${now}` in messages, error members and response bodies.

use serde_json::{Map, Value};

use crate::spec::load::template_refs;
use crate::spec::validate::display;

/// What a template can refer to.
pub struct Scope<'a> {
    pub params: &'a Map<String, Value>,
    pub resource: Option<&'a Map<String, Value>>,
    pub request_id: &'a str,
    pub detail: &'a str,
    /// A list operation's page: `${list.items}`, `${list.next}`, `${list.truncated}`.
    pub list: Option<&'a Map<String, Value>>,
}

impl Scope<'_> {
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
                _ => self.params.get(name).cloned(),
            },
        }
        .filter(|v| !v.is_null())
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
                // An object whose every reference is unset describes nothing (IAM's
                // PermissionsBoundary with its constant type and unset ARN): left out.
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
            resource: Some(&res),
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
}

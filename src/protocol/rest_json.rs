//! The `rest-json` codec: a method and a path template with `{Label}`s, headers and query
//! parameters, a JSON body. Settings: a body envelope (`{"data": {...}}`), the error
//! format (AWS restJson1's `x-amzn-ErrorType`, or a `messages` list) and the error for
//! another method on the path.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::wire::{self, json_body, text};
use super::{clean_code, Codec, Encoded, ErrorParts, Fit, Malformed, Probe, Request, WireRequest};
use crate::spec::model::{Location, RestErrors, RestProtocol, Spec};
use crate::spec::template::View;

impl Codec for RestProtocol {
    fn fit(&self, _spec: &Spec, probe: &Probe<'_>) -> Fit {
        let req = probe.req;
        match wire::path_fits(&self.path, req.uri().path()) {
            None => Fit::No,
            Some(_) if !self.method.eq_ignore_ascii_case(req.method().as_str()) => {
                Fit::OtherOperation
            }
            // A path whose every segment is literal wins over a `{Label}` that would take
            // the same segment (`GET /v1/users/detail` is not `GET /v1/users/{id}`).
            Some(0) => Fit::Yes,
            Some(_) => Fit::Alias,
        }
    }

    fn decode(&self, spec: &Spec, req: &Request) -> Result<Map<String, Value>, Malformed> {
        let mut body = json_body(req.body())?;
        let body = match &self.envelope {
            None => body,
            // Moved out of the envelope, not copied.
            Some(env) => match body.swap_remove(env) {
                Some(Value::Object(d)) => d,
                None if body.is_empty() => Map::new(),
                Some(_) => return Err(Malformed(format!("member '{env}' must be a JSON object"))),
                None => {
                    return Err(Malformed(format!(
                        "request body must be a JSON object with a '{env}' member"
                    )))
                }
            },
        };
        let mut out = wire::body_params(spec, body);
        wire::take_labels_and_headers(spec, &self.path, req, &mut out)?;
        Ok(out)
    }

    fn success_body(&self, body: &View<'_>, capacity: usize) -> Bytes {
        super::json_bytes(body, capacity)
    }

    fn error(&self, _spec: Option<&Spec>, e: ErrorParts<'_>) -> Encoded {
        match self.errors {
            RestErrors::Aws => {
                let mut m = Map::new();
                m.insert("Message".into(), Value::String(e.message.into()));
                m.extend(e.members.clone());
                Encoded {
                    content_type: "application/json".into(),
                    body: Bytes::from(serde_json::to_vec(&Value::Object(m)).unwrap_or_default()),
                    headers: vec![
                        ("x-amzn-ErrorType", e.code.to_string()),
                        ("x-amzn-RequestId", e.request_id.to_string()),
                    ],
                }
            }
            RestErrors::Messages => {
                let mut msg = Map::new();
                msg.insert("code".into(), Value::String(e.code.into()));
                msg.insert("severity".into(), Value::String("error".into()));
                msg.insert("text".into(), Value::String(e.message.into()));
                if !e.members.is_empty() {
                    msg.insert("arguments".into(), Value::Object(e.members.clone()));
                }
                Encoded {
                    content_type: "application/json".into(),
                    body: Bytes::from(
                        serde_json::to_vec(&json!({ "messages": [Value::Object(msg)] }))
                            .unwrap_or_default(),
                    ),
                    headers: Vec::new(),
                }
            }
        }
    }

    fn unknown_operation(&self, what: &str) -> (String, u16, String) {
        match &self.unknown_operation {
            Some(u) => (
                u.code.clone(),
                u.status,
                format!("Method not allowed: {what}"),
            ),
            None => (
                "UnknownOperationException".into(),
                404,
                format!("Unknown operation {what}"),
            ),
        }
    }

    fn encode_request(
        &self,
        spec: &Spec,
        params: &Map<String, Value>,
        raw_body: Option<&str>,
    ) -> WireRequest {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        for (k, v) in wire::params_at(spec, params, Location::Header, Location::Body) {
            headers.push((k.to_ascii_lowercase(), text(&v)));
        }
        let mut uri = wire::fill_path(spec, &self.path, params);
        let query = wire::params_at(spec, params, Location::Query, Location::Body);
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", wire::enc(k), wire::enc(&text(v))))
                .collect();
            uri = format!("{uri}?{}", q.join("&"));
        }
        let members = Value::Object(
            wire::params_at(spec, params, Location::Body, Location::Body)
                .into_iter()
                .collect(),
        );
        let body = match &self.envelope {
            Some(env) => json!({ env.as_str(): members }),
            None => members,
        };
        WireRequest {
            method: self.method.clone(),
            uri,
            headers,
            body: raw_body
                .map(str::to_string)
                .unwrap_or_else(|| body.to_string()),
        }
    }

    fn error_code(&self, headers: &http::HeaderMap, tree: &Value) -> Option<String> {
        match self.errors {
            RestErrors::Aws => headers
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(|s| clean_code(s).to_string())
                .or_else(|| {
                    ["code", "Code", "__type"]
                        .iter()
                        .find_map(|k| tree.get(*k).and_then(Value::as_str))
                        .map(|s| clean_code(s).to_string())
                }),
            RestErrors::Messages => tree
                .pointer("/messages/0/code")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }
}

//! The `aws-json` codec (awsJson 1.0/1.1): `POST /` with `X-Amz-Target`, JSON both ways,
//! errors as `{"__type": code, "Message": ...}`.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::wire::{self, json_body};
use super::{clean_code, Codec, Encoded, ErrorParts, Fit, Malformed, Probe, Request, WireRequest};
use crate::spec::model::{JsonProtocol, Location, Spec};
use crate::spec::template::View;

impl JsonProtocol {
    fn content_type(&self) -> String {
        format!("application/x-amz-json-{}", self.json_version)
    }
}

impl Codec for JsonProtocol {
    fn fit(&self, _spec: &Spec, probe: &Probe<'_>) -> Fit {
        let Some(t) = probe.target().and_then(|v| v.to_str().ok()) else {
            return Fit::No;
        };
        let prefix = self.target.split('.').next().unwrap_or_default();
        if t == self.target {
            Fit::Yes
        } else if t.split('.').next() == Some(prefix) {
            Fit::OtherOperation
        } else {
            Fit::No
        }
    }

    fn decode(&self, spec: &Spec, req: &Request) -> Result<Map<String, Value>, Malformed> {
        let body = json_body(req.body())?;
        Ok(wire::body_params(spec, body))
    }

    fn success_body(&self, body: &View<'_>, capacity: usize) -> Bytes {
        super::json_bytes(body, capacity)
    }

    fn error(&self, _spec: Option<&Spec>, e: ErrorParts<'_>) -> Encoded {
        let mut m = Map::new();
        m.insert("__type".into(), Value::String(e.code.into()));
        m.insert("Message".into(), Value::String(e.message.into()));
        m.extend(e.members.clone());
        Encoded {
            content_type: if self.json_version == "1.0" {
                "application/x-amz-json-1.0".into()
            } else {
                "application/x-amz-json-1.1".into()
            },
            body: Bytes::from(serde_json::to_vec(&Value::Object(m)).unwrap_or_default()),
            headers: vec![("x-amzn-RequestId", e.request_id.to_string())],
        }
    }

    fn unknown_operation(&self, what: &str) -> (String, u16, String) {
        (
            "UnknownOperationException".into(),
            400,
            format!("Unknown operation {what}"),
        )
    }

    fn encode_request(
        &self,
        spec: &Spec,
        params: &Map<String, Value>,
        raw_body: Option<&str>,
    ) -> WireRequest {
        let members = wire::params_at(spec, params, Location::Body, Location::Body);
        WireRequest {
            method: "POST".into(),
            uri: "/".into(),
            headers: vec![
                ("content-type".into(), self.content_type()),
                ("x-amz-target".into(), self.target.clone()),
            ],
            body: raw_body
                .map(str::to_string)
                .unwrap_or_else(|| Value::Object(members.into_iter().collect()).to_string()),
        }
    }

    fn error_code(&self, _headers: &http::HeaderMap, tree: &Value) -> Option<String> {
        tree.get("__type")
            .and_then(Value::as_str)
            .map(|s| clean_code(s).to_string())
    }
}

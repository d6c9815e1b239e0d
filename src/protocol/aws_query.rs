//! The `aws-query` codec: `Action=<action>` (and `Version=`) in a form body or the query
//! string, answers in XML. Settings: the path, whether requests carry a version, the XML
//! declaration, the error envelope (AWS's `ErrorResponse` or a bare `Error`), and whether
//! the runner sends a form POST or a GET.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::wire::{self, enc, form_value};
use super::{Codec, Encoded, ErrorParts, Fit, Malformed, Probe, Request, WireRequest};
use crate::spec::model::{Fault, Location, QueryErrors, QueryProtocol, QuerySend, Spec};
use crate::spec::template::View;

impl QueryProtocol {
    fn write<'n>(&self, tree: impl Into<super::xml::Node<'n>>) -> Bytes {
        Bytes::from(super::xml::write_doc(tree, self.xml_declaration))
    }
}

impl Codec for QueryProtocol {
    fn fit(&self, _spec: &Spec, probe: &Probe<'_>) -> Fit {
        let req = probe.req;
        let path = req.uri().path();
        let primary = path == self.path;
        if !(primary || self.aliases.iter().any(|a| a == path))
            || !matches!(req.method().as_str(), "POST" | "GET")
            || probe.target().is_some()
        {
            return Fit::No;
        }
        if self.version.is_some() && probe.form_undecodable() {
            // An undecodable form body: ours to refuse as malformed.
            return Fit::Yes;
        }
        match probe.action() {
            Some(a) if a == self.action && primary => Fit::Yes,
            Some(a) if a == self.action => Fit::Alias,
            Some(_) => Fit::OtherOperation,
            None => Fit::No,
        }
    }

    fn carries_version(&self, req: &Request) -> bool {
        form_value(req, "Version").as_deref() == self.version.as_deref()
    }

    fn decode(&self, spec: &Spec, req: &Request) -> Result<Map<String, Value>, Malformed> {
        wire::query_params(spec, req)
    }

    fn success_body(&self, body: &View<'_>, capacity: usize) -> Bytes {
        Bytes::from(super::xml::write_doc_sized(
            *body,
            self.xml_declaration,
            capacity,
        ))
    }

    fn error(&self, spec: Option<&Spec>, e: ErrorParts<'_>) -> Encoded {
        let content_type = spec.map_or("text/xml", |s| s.response.content_type.as_str());
        match &self.errors {
            QueryErrors::Aws => {
                let mut root = Map::new();
                if let Some(ns) = &self.xml_namespace {
                    root.insert("@xmlns".into(), Value::String(ns.clone()));
                }
                let kind = match e.fault {
                    Fault::Client => "Sender",
                    Fault::Server => "Receiver",
                };
                root.insert(
                    "Error".into(),
                    json!({ "Type": kind, "Code": e.code, "Message": e.message }),
                );
                root.insert("RequestId".into(), Value::String(e.request_id.into()));
                Encoded {
                    content_type: content_type.into(),
                    body: self.write(&json!({ "ErrorResponse": Value::Object(root) })),
                    headers: vec![("x-amzn-RequestId", e.request_id.to_string())],
                }
            }
            QueryErrors::Bare { resource } => Encoded {
                content_type: content_type.into(),
                body: self.write(&json!({ "Error": {
                    "Code": e.code,
                    "Message": e.message,
                    "Resource": resource,
                    "RequestId": e.request_id,
                }})),
                headers: Vec::new(),
            },
        }
    }

    fn unknown_operation(&self, what: &str) -> (String, u16, String) {
        (
            "InvalidAction".into(),
            400,
            format!("The action or operation requested is invalid. Verify that the action is typed correctly. ({what})"),
        )
    }

    fn encode_request(
        &self,
        spec: &Spec,
        params: &Map<String, Value>,
        raw_body: Option<&str>,
    ) -> WireRequest {
        let loc = match self.send_as {
            QuerySend::Form => Location::Form,
            QuerySend::Query => Location::Query,
        };
        let mut pairs = format!("Action={}", enc(&self.action));
        if let Some(v) = &self.version {
            pairs.push_str(&format!("&Version={}", enc(v)));
        }
        // Form and query parameters travel together: the service reads both.
        let mut members = wire::params_at(spec, params, Location::Form, loc);
        members.extend(wire::params_at(spec, params, Location::Query, loc));
        for (k, v) in members {
            let p = spec.parameters.iter().find(|p| p.wire() == k);
            let mut flat = Vec::new();
            wire::query_pairs_of(p, &k, &v, &mut flat);
            for (k, v) in flat {
                pairs.push_str(&format!("&{}={}", enc(&k), enc(&v)));
            }
        }
        match self.send_as {
            QuerySend::Form => WireRequest {
                method: "POST".into(),
                uri: self.path.clone(),
                headers: vec![(
                    "content-type".into(),
                    "application/x-www-form-urlencoded; charset=utf-8".into(),
                )],
                body: raw_body.map(str::to_string).unwrap_or(pairs),
            },
            QuerySend::Query => WireRequest {
                method: "GET".into(),
                uri: format!("{}?{pairs}", self.path),
                headers: Vec::new(),
                body: String::new(),
            },
        }
    }

    fn error_code(&self, _headers: &http::HeaderMap, tree: &Value) -> Option<String> {
        // `tree` is read as clients read it (`read_body`): names without their prefixes.
        tree.pointer("/ErrorResponse/Error/Code")
            .or_else(|| tree.pointer("/Response/Errors/Error/Code"))
            .or_else(|| tree.pointer("/Error/Code"))
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}

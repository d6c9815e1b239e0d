//! Wire protocols: one codec per kind of API (awsQuery, awsJson, restJson1, NimbleOS REST,
//! Nexfs console API). The fake uses them to route and decode requests and to encode
//! answers; everything API-specific comes from the spec's `protocol` section.

pub mod xml;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use serde_json::{Map, Value};

use crate::spec::model::{ErrorRow, Fault, Location, Parameter, Protocol, Spec};

/// A request as the codecs see it: parts plus the whole body.
pub type Request = http::Request<Bytes>;

/// How well a request matches a spec's protocol shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fit {
    No,
    /// The request's shape belongs to this API's protocol, but names another operation
    /// (answered with the protocol's "unknown operation" error).
    OtherOperation,
    /// The request names this operation at one of the protocol's alias paths: it is this
    /// API's unless another API claims it.
    Alias,
    Yes,
}

/// Decides whether `req` is addressed to `spec`'s operation.
pub fn fit(spec: &Spec, req: &Request) -> Fit {
    let path = req.uri().path();
    let method = req.method().as_str();
    match &spec.protocol {
        Protocol::AwsQuery { action, .. } => {
            if path != "/"
                || !matches!(method, "POST" | "GET")
                || req.headers().contains_key("x-amz-target")
            {
                return Fit::No;
            }
            if form_body_undecodable(req) {
                // An undecodable form body: ours to refuse as malformed.
                return Fit::Yes;
            }
            match form_value(req, "Action") {
                Some(a) if &a == action => Fit::Yes,
                Some(_) => Fit::OtherOperation,
                None => Fit::No,
            }
        }
        Protocol::NexfsQuery {
            action,
            path: p,
            aliases,
        } => {
            let primary = path == p;
            if !(primary || aliases.iter().any(|a| a == path))
                || !matches!(method, "POST" | "GET")
                || req.headers().contains_key("x-amz-target")
            {
                return Fit::No;
            }
            match form_value(req, "Action") {
                Some(a) if &a == action && primary => Fit::Yes,
                Some(a) if &a == action => Fit::Alias,
                Some(_) => Fit::OtherOperation,
                None => Fit::No,
            }
        }
        Protocol::AwsJson { target, .. } => {
            let Some(t) = req
                .headers()
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
            else {
                return Fit::No;
            };
            let prefix = target.split('.').next().unwrap_or_default();
            if t == target {
                Fit::Yes
            } else if t.split('.').next() == Some(prefix) {
                Fit::OtherOperation
            } else {
                Fit::No
            }
        }
        Protocol::RestJson { method: m, path: p }
        | Protocol::NimbleRest {
            method: m, path: p, ..
        } => {
            if match_path(p, path).is_some() {
                if m.eq_ignore_ascii_case(method) {
                    Fit::Yes
                } else {
                    Fit::OtherOperation
                }
            } else {
                Fit::No
            }
        }
    }
}

/// Whether `req` names `spec`'s API version the way its protocol does: `Version=<version>`
/// for awsQuery, no `Version` at all for the Nexfs console API. Tells apart unsigned
/// requests to two APIs that share an action name.
pub fn carries_version(spec: &Spec, req: &Request) -> bool {
    let version = form_value(req, "Version");
    match &spec.protocol {
        Protocol::AwsQuery { version: v, .. } => version.as_deref() == Some(v.as_str()),
        Protocol::NexfsQuery { .. } => version.is_none(),
        _ => false,
    }
}

/// Why a request's parameters could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed(pub String);

/// Reads the operation's parameters (by spec parameter name) out of a routed request.
/// Values arrive as the wire gives them (strings from forms, JSON types from JSON);
/// validation coerces them.
pub fn decode(spec: &Spec, req: &Request) -> Result<Map<String, Value>, Malformed> {
    let mut out = Map::new();
    match &spec.protocol {
        Protocol::AwsQuery { .. } | Protocol::NexfsQuery { .. } => {
            let pairs = form_pairs(req)?;
            for p in &spec.parameters {
                if let Some((_, v)) = pairs.iter().find(|(k, _)| k == p.wire()) {
                    out.insert(p.name.clone(), Value::String(v.clone()));
                }
            }
        }
        Protocol::AwsJson { .. } => {
            let body = json_body(req.body())?;
            take_members(&spec.parameters, &body, &mut out);
        }
        Protocol::RestJson { path, .. } => {
            let body = json_body(req.body())?;
            take_members(&spec.parameters, &body, &mut out);
            take_labels_and_headers(spec, path, req, &mut out)?;
        }
        Protocol::NimbleRest { path, .. } => {
            let body = json_body(req.body())?;
            let data = match body.get("data") {
                Some(Value::Object(d)) => d.clone(),
                None if body.is_empty() => Map::new(),
                Some(_) => return Err(Malformed("member 'data' must be a JSON object".into())),
                None => {
                    return Err(Malformed(
                        "request body must be a JSON object with a 'data' member".into(),
                    ))
                }
            };
            // NimbleOS rejects members it does not know: keep them for validation.
            for (k, v) in data {
                if spec
                    .parameters
                    .iter()
                    .any(|p| p.name == k && p.location == Some(Location::Path))
                {
                    continue;
                }
                out.insert(k, v);
            }
            take_labels_and_headers(spec, path, req, &mut out)?;
        }
    }
    Ok(out)
}

fn take_members(params: &[Parameter], body: &Map<String, Value>, out: &mut Map<String, Value>) {
    for p in params.iter().filter(|p| p.location == Some(Location::Body)) {
        if let Some(v) = body.get(p.wire()) {
            out.insert(p.name.clone(), v.clone());
        }
    }
}

fn take_labels_and_headers(
    spec: &Spec,
    template: &str,
    req: &Request,
    out: &mut Map<String, Value>,
) -> Result<(), Malformed> {
    let labels = match_path(template, req.uri().path()).unwrap_or_default();
    for p in &spec.parameters {
        match p.location {
            Some(Location::Path) => {
                if let Some((_, raw)) = labels.iter().find(|(l, _)| l == p.wire()) {
                    let v = percent_encoding::percent_decode_str(raw)
                        .decode_utf8()
                        .map_err(|_| {
                            Malformed(format!("path label '{}' is not UTF-8", p.wire()))
                        })?;
                    out.insert(p.name.clone(), Value::String(v.into_owned()));
                }
            }
            Some(Location::Header) => {
                if let Some(v) = req.headers().get(p.wire()) {
                    let s = v
                        .to_str()
                        .map_err(|_| Malformed(format!("header '{}' is not ASCII", p.wire())))?;
                    out.insert(p.name.clone(), Value::String(s.to_string()));
                }
            }
            Some(Location::Query) => {
                if let Some(v) = query_pairs(req).into_iter().find(|(k, _)| k == p.wire()) {
                    out.insert(p.name.clone(), Value::String(v.1));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Matches a path template (`/api/v1/users/{UserId}`) against a raw path; returns the
/// raw (still percent-encoded) label values.
pub fn match_path(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut labels = Vec::new();
    for (ts, ps) in t.iter().zip(&p) {
        match ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(label) => {
                if ps.is_empty() {
                    return None;
                }
                labels.push((label.to_string(), ps.to_string()));
            }
            None if ts == ps => {}
            None => return None,
        }
    }
    Some(labels)
}

fn json_body(body: &[u8]) -> Result<Map<String, Value>, Malformed> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Malformed("the request body must be a JSON object".into())),
        Err(e) if e.is_eof() => Err(Malformed(format!("the JSON body ends early: {e}"))),
        Err(e) => Err(Malformed(format!("the body is not valid JSON: {e}"))),
    }
}

fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn is_form(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// The form body, when the request has one (a form content type and a non-empty body).
fn form_body(req: &Request) -> Option<&[u8]> {
    (is_form(req) && !req.body().is_empty()).then(|| req.body().as_ref())
}

/// Whether the request has a form body that cannot be read (it is not UTF-8).
fn form_body_undecodable(req: &Request) -> bool {
    form_body(req).is_some_and(|b| std::str::from_utf8(b).is_err())
}

/// Query-string pairs followed by form-body pairs (awsQuery accepts both).
fn form_pairs(req: &Request) -> Result<Vec<(String, String)>, Malformed> {
    if form_body_undecodable(req) {
        return Err(Malformed("the form body is not UTF-8".into()));
    }
    let mut pairs = query_pairs(req);
    if let Some(body) = form_body(req) {
        pairs.extend(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    }
    Ok(pairs)
}

/// The first value of `key` in the query string or the form body (what [`form_pairs`]
/// would find first), decoding pairs only until it is found.
fn form_value(req: &Request, key: &str) -> Option<String> {
    if form_body_undecodable(req) {
        return None;
    }
    let query = req.uri().query().unwrap_or("").as_bytes();
    form_urlencoded::parse(query)
        .chain(form_urlencoded::parse(form_body(req).unwrap_or(&[])))
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Encodes a success response whose body tree was rendered from the spec's template.
pub fn encode_success(spec: &Spec, body: &Value, request_id: &str) -> Response<Bytes> {
    let bytes = match &spec.protocol {
        Protocol::AwsQuery { .. } => Bytes::from(xml::write(body)),
        Protocol::NexfsQuery { .. } => Bytes::from(xml::write_doc(body, true)),
        _ => Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
    };
    let mut resp = Response::new(bytes);
    *resp.status_mut() = StatusCode::from_u16(spec.response.status).unwrap_or(StatusCode::OK);
    set(
        &mut resp,
        header::CONTENT_TYPE.as_str(),
        &spec.response.content_type,
    );
    for (k, v) in &spec.response.headers {
        set(&mut resp, k, &v.replace("${request_id}", request_id));
    }
    request_id_header(spec, &mut resp, request_id);
    resp
}

/// Encodes an error row in the protocol's own error format.
pub fn encode_error(
    spec: &Spec,
    row: &ErrorRow,
    message: &str,
    members: &Map<String, Value>,
    request_id: &str,
) -> Response<Bytes> {
    encode_error_parts(
        &spec.protocol,
        &row.code,
        row.status,
        row.fault,
        message,
        members,
        request_id,
    )
}

/// Encodes an error that is not in a spec's table (unknown operation, control plane) in
/// the protocol's format.
pub fn encode_error_parts(
    protocol: &Protocol,
    code: &str,
    status: u16,
    fault: Fault,
    message: &str,
    members: &Map<String, Value>,
    request_id: &str,
) -> Response<Bytes> {
    let (content_type, body) = match protocol {
        Protocol::AwsQuery { xml_namespace, .. } => {
            let tree = query_error_tree(xml_namespace, code, fault, message, request_id);
            ("text/xml", Bytes::from(xml::write(&tree)))
        }
        Protocol::NexfsQuery { path, .. } => {
            // The console API's "REST Error Responses": no ErrorResponse wrapper, no Type;
            // `<Resource>` names the console API's path.
            let tree = serde_json::json!({ "Error": {
                "Code": code,
                "Message": message,
                "Resource": path,
                "RequestId": request_id,
            }});
            ("application/xml", Bytes::from(xml::write_doc(&tree, true)))
        }
        Protocol::AwsJson { json_version, .. } => {
            let mut m = Map::new();
            m.insert("__type".into(), Value::String(code.into()));
            m.insert("Message".into(), Value::String(message.into()));
            m.extend(members.clone());
            (
                if json_version == "1.0" {
                    "application/x-amz-json-1.0"
                } else {
                    "application/x-amz-json-1.1"
                },
                Bytes::from(serde_json::to_vec(&Value::Object(m)).unwrap_or_default()),
            )
        }
        Protocol::RestJson { .. } => {
            let mut m = Map::new();
            m.insert("Message".into(), Value::String(message.into()));
            m.extend(members.clone());
            (
                "application/json",
                Bytes::from(serde_json::to_vec(&Value::Object(m)).unwrap_or_default()),
            )
        }
        Protocol::NimbleRest { .. } => {
            let mut msg = Map::new();
            msg.insert("code".into(), Value::String(code.into()));
            msg.insert("severity".into(), Value::String("error".into()));
            msg.insert("text".into(), Value::String(message.into()));
            if !members.is_empty() {
                msg.insert("arguments".into(), Value::Object(members.clone()));
            }
            let body = serde_json::json!({ "messages": [Value::Object(msg)] });
            (
                "application/json",
                Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
            )
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    set(&mut resp, header::CONTENT_TYPE.as_str(), content_type);
    if matches!(protocol, Protocol::RestJson { .. }) {
        set(&mut resp, "x-amzn-ErrorType", code);
    }
    if matches!(
        protocol,
        Protocol::AwsQuery { .. } | Protocol::AwsJson { .. } | Protocol::RestJson { .. }
    ) {
        set(&mut resp, "x-amzn-RequestId", request_id);
    }
    resp
}

/// A new request id in the style of `protocol` (a UUID when no protocol is known):
/// the Nexfs console API numbers its requests ("a requestid number", `<RequestId>2345`),
/// AWS services give UUIDs.
pub fn request_id(protocol: Option<&Protocol>, seq: u64) -> String {
    match protocol {
        Some(Protocol::NexfsQuery { .. }) => seq.to_string(),
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

fn query_error_tree(ns: &str, code: &str, fault: Fault, message: &str, request_id: &str) -> Value {
    let mut root = Map::new();
    root.insert("@xmlns".into(), Value::String(ns.into()));
    let kind = match fault {
        Fault::Client => "Sender",
        Fault::Server => "Receiver",
    };
    root.insert(
        "Error".into(),
        serde_json::json!({ "Type": kind, "Code": code, "Message": message }),
    );
    root.insert("RequestId".into(), Value::String(request_id.into()));
    serde_json::json!({ "ErrorResponse": Value::Object(root) })
}

fn request_id_header(spec: &Spec, resp: &mut Response<Bytes>, request_id: &str) {
    if matches!(
        spec.protocol,
        Protocol::AwsQuery { .. } | Protocol::AwsJson { .. } | Protocol::RestJson { .. }
    ) {
        set(resp, "x-amzn-RequestId", request_id);
    }
}

fn set(resp: &mut Response<Bytes>, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (
        header::HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        resp.headers_mut().insert(n, v);
    }
}

/// The error a protocol answers for an operation no spec serves.
pub fn unknown_operation(protocol: &Protocol, what: &str, request_id: &str) -> Response<Bytes> {
    let (code, status, message) = match protocol {
        Protocol::AwsQuery { .. } | Protocol::NexfsQuery { .. } => (
            "InvalidAction",
            400,
            format!("The action or operation requested is invalid. Verify that the action is typed correctly. ({what})"),
        ),
        Protocol::AwsJson { .. } => ("UnknownOperationException", 400, format!("Unknown operation {what}")),
        Protocol::RestJson { .. } => ("UnknownOperationException", 404, format!("Unknown operation {what}")),
        Protocol::NimbleRest { .. } => ("SM_http_method_not_allowed", 405, format!("Method not allowed: {what}")),
    };
    encode_error_parts(
        protocol,
        code,
        status,
        Fault::Client,
        &message,
        &Map::new(),
        request_id,
    )
}

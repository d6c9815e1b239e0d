//! Builds a case's request in the API's wire protocol, signs it as the real clients do,
//! sends it, and decodes the answer into status, error code and body tree.

use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use crate::auth::sigv4;
use crate::protocol::xml;
use crate::spec::model::{Auth, Location, Protocol, Spec};

use super::target::Credentials;

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub(crate) fn enc(s: &str) -> String {
    utf8_percent_encode(s, STRICT).to_string()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// How a case's request leaves the runner.
#[derive(Debug, Clone, PartialEq)]
pub enum Signing {
    /// Signed with the target's credentials (or its Nimble token).
    Signed,
    /// Signed with these credentials instead (unknown key, limited roles).
    SignedAs(Credentials),
    /// Signed, then the signature altered.
    Tampered,
    /// No signature, no token.
    None,
}

/// The request of one case, before signing: method, path and query, headers, body.
#[derive(Debug, Clone)]
pub struct WireRequest {
    pub method: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Encodes `params` (by spec parameter name) in the spec's protocol. `raw_body`, when
/// given, is sent as the body instead (a document request that cannot be decoded).
pub fn encode(spec: &Spec, params: &Map<String, Value>, raw_body: Option<&str>) -> WireRequest {
    // Parameters the spec does not define travel where the body (or form) is: cases that
    // check a service rejects unknown members send them.
    let body_loc = match spec.protocol {
        Protocol::AwsQuery { .. } => Location::Form,
        Protocol::NexfsQuery { .. } => Location::Query,
        _ => Location::Body,
    };
    let at = |loc: Location| -> Vec<(String, Value)> {
        let mut v: Vec<(String, Value)> = spec
            .parameters
            .iter()
            .filter(|q| q.location == Some(loc))
            .filter_map(|q| {
                params
                    .get(&q.name)
                    .map(|v| (q.wire().to_string(), v.clone()))
            })
            .collect();
        if loc == body_loc {
            v.extend(
                params
                    .iter()
                    .filter(|(k, _)| !spec.parameters.iter().any(|q| &q.name == *k))
                    .map(|(k, x)| (k.clone(), x.clone())),
            );
        }
        v
    };
    let json = |members: Vec<(String, Value)>| -> String {
        raw_body
            .map(str::to_string)
            .unwrap_or_else(|| Value::Object(members.into_iter().collect()).to_string())
    };
    let path_of = |template: &str| -> String {
        at(Location::Path)
            .iter()
            .fold(template.to_string(), |t, (k, v)| {
                t.replace(&format!("{{{k}}}"), &enc(&text(v)))
            })
    };
    let h = |k: &str, v: &str| (k.to_string(), v.to_string());
    match &spec.protocol {
        Protocol::AwsQuery {
            action, version, ..
        } => {
            let mut form = format!("Action={}&Version={}", enc(action), enc(version));
            for (k, v) in at(Location::Form) {
                form.push_str(&format!("&{}={}", enc(&k), enc(&text(&v))));
            }
            WireRequest {
                method: "POST".into(),
                uri: "/".into(),
                headers: vec![h(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                )],
                body: raw_body.map(str::to_string).unwrap_or(form),
            }
        }
        Protocol::AwsJson {
            json_version,
            target,
        } => WireRequest {
            method: "POST".into(),
            uri: "/".into(),
            headers: vec![
                h(
                    "content-type",
                    &format!("application/x-amz-json-{json_version}"),
                ),
                h("x-amz-target", target),
            ],
            body: json(at(Location::Body)),
        },
        Protocol::RestJson { method, path } => {
            let mut headers = vec![h("content-type", "application/json")];
            for (k, v) in at(Location::Header) {
                headers.push((k.to_ascii_lowercase(), text(&v)));
            }
            WireRequest {
                method: method.clone(),
                uri: path_of(path),
                headers,
                body: json(at(Location::Body)),
            }
        }
        Protocol::NimbleRest { method, path, .. } => {
            let data = Value::Object(at(Location::Body).into_iter().collect());
            WireRequest {
                method: method.clone(),
                uri: path_of(path),
                headers: vec![h("content-type", "application/json")],
                body: raw_body
                    .map(str::to_string)
                    .unwrap_or_else(|| serde_json::json!({ "data": data }).to_string()),
            }
        }
        Protocol::NexfsQuery { action, path, .. } => {
            let mut q = format!("{path}?Action={}", enc(action));
            for (k, v) in at(Location::Query) {
                q.push_str(&format!("&{}={}", enc(&k), enc(&text(&v))));
            }
            WireRequest {
                method: "GET".into(),
                uri: q,
                headers: Vec::new(),
                body: String::new(),
            }
        }
    }
}

/// Turns a wire request into an `http` request for `host`, signed as `auth` says.
pub fn prepare(
    spec: &Spec,
    wire: &WireRequest,
    host: &str,
    creds: &Credentials,
    nimble_token: Option<&str>,
    auth: &Signing,
) -> Result<http::Request<Bytes>, String> {
    let mut b = http::Request::builder()
        .method(wire.method.as_str())
        .uri(wire.uri.as_str())
        .header("host", host);
    for (k, v) in &wire.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let req = b
        .body(Bytes::from(wire.body.clone()))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let (mut parts, body) = req.into_parts();
    match &spec.auth {
        Auth::Sigv4 {
            service, region, ..
        } => {
            let use_creds = match auth {
                Signing::None => None,
                Signing::SignedAs(c) => Some(c),
                Signing::Signed | Signing::Tampered => Some(creds),
            };
            if let Some(c) = use_creds {
                let region = region.as_deref().unwrap_or(c.region.as_str());
                sigv4::sign(
                    &mut parts,
                    &body,
                    &c.sigv4(),
                    region,
                    service,
                    time::OffsetDateTime::now_utc(),
                    &[],
                );
            }
            if *auth == Signing::Tampered {
                if let Some(v) = parts
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                {
                    let mut s = v.to_string();
                    let last = if s.ends_with('0') { '1' } else { '0' };
                    s.pop();
                    s.push(last);
                    if let Ok(v) = http::HeaderValue::from_str(&s) {
                        parts.headers.insert("authorization", v);
                    }
                }
            }
        }
        Auth::NimbleToken { header, .. } => {
            let token = match auth {
                Signing::None => None,
                Signing::Tampered => Some("0000000000000000000000000000dead".to_string()),
                _ => nimble_token.map(str::to_string),
            };
            if let Some(t) = token {
                if let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(header.as_bytes()),
                    http::HeaderValue::from_str(&t),
                ) {
                    parts.headers.insert(n, v);
                }
            }
        }
    }
    Ok(http::Request::from_parts(parts, body))
}

/// What came back.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub status: u16,
    pub content_type: String,
    /// The error code, read where the protocol puts it.
    pub code: Option<String>,
    /// The body as a tree (XML through quick-xml, JSON through serde_json); a body that is
    /// neither is kept as a string.
    pub body: Value,
}

/// Reads a response the way the API's clients do.
pub fn observe(spec: &Spec, status: u16, headers: &http::HeaderMap, body: &[u8]) -> Observed {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let tree = match spec.protocol {
        Protocol::AwsQuery { .. } | Protocol::NexfsQuery { .. } => xml::read(body).ok(),
        _ => serde_json::from_slice(body).ok(),
    }
    .unwrap_or_else(|| {
        if body.is_empty() {
            Value::Null
        } else {
            Value::String(String::from_utf8_lossy(body).into_owned())
        }
    });
    let code = if status >= 300 {
        error_code(spec, headers, &tree)
    } else {
        None
    };
    Observed {
        status,
        content_type,
        code,
        body: tree,
    }
}

fn error_code(spec: &Spec, headers: &http::HeaderMap, tree: &Value) -> Option<String> {
    let clean = |s: &str| super::compare::clean_code(s).to_string();
    match spec.protocol {
        // Element names as clients read them: without their namespace prefixes.
        Protocol::AwsQuery { .. } | Protocol::NexfsQuery { .. } => xml::resolve_namespaces(tree)
            .pointer("/ErrorResponse/Error/Code")
            .or_else(|| tree.pointer("/Response/Errors/Error/Code"))
            .or_else(|| tree.pointer("/Error/Code"))
            .and_then(Value::as_str)
            .map(str::to_string),
        Protocol::AwsJson { .. } => tree.get("__type").and_then(Value::as_str).map(clean),
        Protocol::RestJson { .. } => headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(clean)
            .or_else(|| {
                ["code", "Code", "__type"]
                    .iter()
                    .find_map(|k| tree.get(*k).and_then(Value::as_str).map(clean))
            }),
        Protocol::NimbleRest { .. } => tree
            .pointer("/messages/0/code")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

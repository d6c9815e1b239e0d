//! Builds a case's request in the API's wire protocol, signs it as the real clients do,
//! sends it, and decodes the answer into status, error code and body tree.

use bytes::Bytes;
use serde_json::Value;

use crate::auth::sigv4;
use crate::spec::model::{Auth, Spec};

use super::target::Credentials;

pub(crate) use crate::protocol::wire::enc;
pub use crate::protocol::WireRequest;

/// How a case's request leaves the runner.
#[derive(Debug, Clone, PartialEq)]
pub enum Signing {
    /// Signed with the target's credentials (or its session token).
    Signed,
    /// Signed with these credentials instead (unknown key, limited roles).
    SignedAs(Credentials),
    /// Signed, then the signature altered.
    Tampered,
    /// No signature, no token.
    None,
}

/// Turns a wire request into an `http` request for `host`, signed as `auth` says.
pub fn prepare(
    spec: &Spec,
    wire: &WireRequest,
    host: &str,
    creds: &Credentials,
    session_token: Option<&str>,
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
        Auth::Token { header, .. } => {
            let token = match auth {
                Signing::None => None,
                Signing::Tampered => Some("0000000000000000000000000000dead".to_string()),
                _ => session_token.map(str::to_string),
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
    /// The body as a tree (XML through quick-xml with its namespaces resolved, JSON
    /// through serde_json); a body that is neither is kept as a string.
    pub body: Value,
}

/// Reads a response the way the API's clients do.
pub fn observe(spec: &Spec, status: u16, headers: &http::HeaderMap, body: &[u8]) -> Observed {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let tree = crate::protocol::read_body(spec, body);
    let code = if status >= 300 {
        crate::protocol::error_code(spec, headers, &tree)
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

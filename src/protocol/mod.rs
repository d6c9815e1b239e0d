//! Wire protocols: one codec per kind of API, behind [`Codec`], in four directions: the
//! fake decodes requests and encodes answers, the runner encodes requests and reads
//! answers, with the same code. A kind's variations between vendors (an error envelope,
//! a body envelope, where the API is served) are settings the spec's `protocol` section
//! chooses ([`crate::spec::model::Protocol`]); no codec knows a particular API.

mod aws_json;
mod aws_query;
mod json;
mod rest_json;
pub mod routes;
pub mod wire;
pub mod xml;

use bytes::Bytes;
use http::{header, Response, StatusCode};
use serde_json::{Map, Value};

use crate::spec::model::{ErrorRow, Fault, Spec, ValueFormat};
use crate::spec::template::View;

pub use wire::match_path;

/// A request as the codecs see it: parts plus the whole body.
pub type Request = http::Request<Bytes>;

/// How well a request matches a spec's protocol shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fit {
    No,
    /// The request's shape belongs to this API's protocol, but names another operation
    /// (answered with the protocol's "unknown operation" error).
    OtherOperation,
    /// The request names this operation at one of the protocol's alias paths, or through
    /// a path `{Label}`: it is this API's unless another API claims it (a literal path).
    Alias,
    Yes,
}

/// Why a request's parameters could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed(pub String);

/// A request before signing: method, path and query, headers, body.
#[derive(Debug, Clone)]
pub struct WireRequest {
    pub method: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// An error to encode: a row of the spec's table, or one the protocol itself answers.
#[derive(Debug, Clone, Copy)]
pub struct ErrorParts<'a> {
    pub code: &'a str,
    pub status: u16,
    pub fault: Fault,
    pub message: &'a str,
    pub members: &'a Map<String, Value>,
    pub request_id: &'a str,
}

/// An encoded body with its content type and extra headers.
pub struct Encoded {
    pub content_type: String,
    pub body: Bytes,
    pub headers: Vec<(&'static str, String)>,
}

/// What routing reads of a request, each read once however many specs ask: the form's
/// `Action` (the body is checked and parsed once, not once per spec) and the
/// `X-Amz-Target` header.
pub struct Probe<'r> {
    pub req: &'r Request,
    action: std::cell::OnceCell<Option<std::borrow::Cow<'r, str>>>,
    form_undecodable: std::cell::OnceCell<bool>,
    target: std::cell::OnceCell<Option<&'r http::HeaderValue>>,
}

impl<'r> Probe<'r> {
    pub fn new(req: &'r Request) -> Self {
        Self {
            req,
            action: Default::default(),
            form_undecodable: Default::default(),
            target: Default::default(),
        }
    }

    /// [`wire::form_value`] of `Action`.
    pub fn action(&self) -> Option<&str> {
        self.action
            .get_or_init(|| wire::form_value(self.req, "Action"))
            .as_deref()
    }

    /// [`wire::form_body_undecodable`].
    pub fn form_undecodable(&self) -> bool {
        *self
            .form_undecodable
            .get_or_init(|| wire::form_body_undecodable(self.req))
    }

    /// The `X-Amz-Target` header, as sent.
    pub fn target(&self) -> Option<&'r http::HeaderValue> {
        static NAME: http::HeaderName = http::HeaderName::from_static("x-amz-target");
        *self.target.get_or_init(|| self.req.headers().get(&NAME))
    }
}

/// One wire protocol. `spec` carries the operation's parameters and answers; the codec
/// itself is the protocol's settings.
pub trait Codec {
    /// Whether the probed request is addressed to `spec`'s operation.
    fn fit(&self, spec: &Spec, probe: &Probe<'_>) -> Fit;

    /// Tells apart unsigned requests to two APIs that share a shape (the same `Action`):
    /// whether `req` carries what this one's requests carry.
    fn carries_version(&self, _req: &Request) -> bool {
        false
    }

    /// The operation's parameters (by spec name) out of a routed request, as the wire
    /// gives them (validation coerces them).
    fn decode(&self, spec: &Spec, req: &Request) -> Result<Map<String, Value>, Malformed>;

    /// The success body rendered from the spec's template.
    /// `capacity`: the buffer to start with (what such a body usually takes).
    fn success_body(&self, body: &View<'_>, capacity: usize) -> Bytes;

    /// An error in the protocol's own format.
    fn error(&self, spec: Option<&Spec>, e: ErrorParts<'_>) -> Encoded;

    /// The error code, status and message for an operation no spec serves (`what`
    /// names what was asked for).
    fn unknown_operation(&self, what: &str) -> (String, u16, String);

    /// A request for `params` (by spec name); `raw_body`, when given, is sent as the body
    /// instead (a document request that cannot be decoded).
    fn encode_request(
        &self,
        spec: &Spec,
        params: &Map<String, Value>,
        raw_body: Option<&str>,
    ) -> WireRequest;

    /// The error code of an answer, read where the protocol's clients read it.
    fn error_code(&self, headers: &http::HeaderMap, tree: &Value) -> Option<String>;
}

/// The codec of `spec`'s protocol.
pub fn codec(spec: &Spec) -> &dyn Codec {
    use crate::spec::model::Protocol;
    match &spec.protocol {
        Protocol::AwsQuery(q) => q,
        Protocol::AwsJson(j) => j,
        Protocol::RestJson(r) => r,
    }
}

/// Decides whether the probed request is addressed to `spec`'s operation.
pub fn fit(spec: &Spec, probe: &Probe<'_>) -> Fit {
    codec(spec).fit(spec, probe)
}

/// A JSON answer, written into a buffer of `capacity` bytes, sized for a usual answer (one
/// allocation, where `serde_json::to_vec` grows its buffer four or five times).
pub(crate) fn json_bytes(v: &View<'_>, capacity: usize) -> Bytes {
    let mut out = Vec::with_capacity(capacity);
    json::write_view(v, &mut out);
    Bytes::from(out)
}

/// See [`Codec::carries_version`].
pub fn carries_version(spec: &Spec, req: &Request) -> bool {
    codec(spec).carries_version(req)
}

/// Reads the operation's parameters out of a routed request.
pub fn decode(spec: &Spec, req: &Request) -> Result<Map<String, Value>, Malformed> {
    codec(spec).decode(spec, req)
}

/// Encodes a success response whose body tree was rendered from the spec's template.
pub fn encode_success(spec: &Spec, body: &View<'_>, request_id: &str) -> Response<Bytes> {
    // A 204 answer has no content (RFC 9110 §15.3.5), whatever the template renders.
    let content = if spec.response.status == 204 {
        Bytes::new()
    } else {
        let size = &spec.response.body_size;
        let content = codec(spec).success_body(body, size.get().max(256));
        size.note(content.len());
        content
    };
    let mut resp = Response::new(content);
    *resp.status_mut() = StatusCode::from_u16(spec.response.status).unwrap_or(StatusCode::OK);
    if let Some(v) = spec.response.content_type_header() {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    for (k, v) in &spec.response.headers {
        if v.contains("${request_id}") {
            wire::set(&mut resp, k, &v.replace("${request_id}", request_id));
        } else {
            wire::set(&mut resp, k, v);
        }
    }
    if spec.protocol.aws_errors() {
        // A constant: `from_static` outside a const context checks the name on every call.
        const REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-amzn-requestid");
        if let Ok(v) = http::HeaderValue::from_str(request_id) {
            resp.headers_mut().insert(REQUEST_ID, v);
        }
    }
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
    let parts = ErrorParts {
        code: &row.code,
        status: row.status,
        fault: row.fault,
        message,
        members,
        request_id,
    };
    respond(codec(spec).error(Some(spec), parts), row.status)
}

fn respond(e: Encoded, status: u16) -> Response<Bytes> {
    let mut resp = Response::new(e.body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    wire::set(&mut resp, header::CONTENT_TYPE.as_str(), &e.content_type);
    for (k, v) in &e.headers {
        wire::set(&mut resp, k, v);
    }
    resp
}

/// A new request id in the format the spec gives (`response.request_id`): a number for
/// APIs that number their requests, a UUID otherwise (and when no spec is known).
pub fn request_id(spec: Option<&Spec>, seq: u64) -> RequestId {
    let mut id = RequestId {
        text: [0; 36],
        len: 0,
    };
    let len = match spec.map(|s| s.response.request_id) {
        Some(ValueFormat::Integer) => {
            use std::io::Write;
            let mut at = &mut id.text[..];
            // A u64 has at most 20 digits: it fits.
            let _ = write!(at, "{seq}");
            36 - at.len()
        }
        _ => uuid::Uuid::new_v4()
            .hyphenated()
            .encode_lower(&mut id.text)
            .len(),
    };
    id.len = len as u8;
    id
}

/// A request id (a hyphenated UUID or a sequence number), kept inline: giving one to every
/// request allocates nothing. Reads as a `&str`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId {
    text: [u8; 36],
    len: u8,
}

impl std::ops::Deref for RequestId {
    type Target = str;
    fn deref(&self) -> &str {
        // Written from ASCII digits and hex only.
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

/// The error `spec`'s protocol answers for an operation no spec serves.
pub fn unknown_operation(spec: &Spec, what: &str, request_id: &str) -> Response<Bytes> {
    let c = codec(spec);
    let (code, status, message) = c.unknown_operation(what);
    let parts = ErrorParts {
        code: &code,
        status,
        fault: Fault::Client,
        message: &message,
        members: &Map::new(),
        request_id,
    };
    respond(c.error(Some(spec), parts), status)
}

/// A request for `params` in `spec`'s protocol (see [`Codec::encode_request`]).
pub fn encode_request(
    spec: &Spec,
    params: &Map<String, Value>,
    raw_body: Option<&str>,
) -> WireRequest {
    codec(spec).encode_request(spec, params, raw_body)
}

/// An answer's body as a tree (XML through quick-xml, namespaces resolved; JSON through
/// serde_json); a body that is neither is kept as a string, an empty one is null.
pub fn read_body(spec: &Spec, body: &[u8]) -> Value {
    let tree = if spec.protocol.is_xml() {
        xml::read(body).ok().map(|t| xml::resolve_namespaces(&t))
    } else {
        serde_json::from_slice(body).ok()
    };
    tree.unwrap_or_else(|| {
        if body.is_empty() {
            Value::Null
        } else {
            Value::String(String::from_utf8_lossy(body).into_owned())
        }
    })
}

/// The error code of an answer, as the protocol's clients read it.
pub fn error_code(spec: &Spec, headers: &http::HeaderMap, tree: &Value) -> Option<String> {
    codec(spec).error_code(headers, tree)
}

/// An error code as AWS clients read it: `aws.protocoltests#Code:http://...` is `Code`.
pub fn clean_code(s: &str) -> &str {
    let s = s.split(':').next().unwrap_or(s);
    s.rsplit('#').next().unwrap_or(s)
}

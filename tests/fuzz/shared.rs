//! What the stable proptest targets (`tests/fuzz.rs`) and the cargo-fuzz targets
//! (`fuzz/fuzz_targets/`) share: the corpus's raw-request format and the SigV4 setting
//! the signature fuzzers verify against. Included by path from both.

use apiconform::auth::sigv4::{self, Credentials, Expected, SigV4Error, Verified};
use apiconform::fake::Engine;
use bytes::Bytes;

/// A request in the corpus's text format: `METHOD URI`, `Name: value` header lines, a
/// blank line, then the body. `None` when the bytes are not such a request.
pub fn parse_request(raw: &[u8]) -> Option<http::Request<Bytes>> {
    let text_end = raw.windows(2).position(|w| w == b"\n\n")?;
    let head = std::str::from_utf8(&raw[..text_end]).ok()?;
    let body = raw[text_end + 2..].to_vec();
    let mut lines = head.lines();
    let (method, uri) = lines.next()?.split_once(' ')?;
    let mut b = http::Request::builder().method(method).uri(uri);
    for line in lines {
        let (k, v) = line.split_once(": ")?;
        b = b.header(k, v);
    }
    b.body(Bytes::from(body)).ok()
}

/// The IAM setting every fuzzed signature is checked against, at [`sigv4_now`].
pub fn sigv4_expected() -> Expected<'static> {
    Expected {
        service: "iam",
        region: None,
        session_token_required: false,
        max_skew: time::Duration::minutes(15),
        double_encode_path: true,
    }
}

/// The verifier's clock: the seeds' dates are around it.
pub fn sigv4_now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-11-24 12:00:00 UTC)
}

/// The one known key, `AKIDEXAMPLE` (secret `secret`).
pub fn sigv4_lookup(key: &str) -> Option<Credentials> {
    (key == "AKIDEXAMPLE").then(|| Credentials {
        access_key: key.into(),
        secret_key: "secret".into(),
        session_token: None,
    })
}

/// Verifies a POST whose `Authorization` and `X-Amz-Date` headers are the given bytes
/// (each left out when it is not a valid header value) against the IAM setting above.
/// `None` when no request can be built.
pub fn sigv4_verify(auth: &[u8], date: &[u8]) -> Option<Result<Verified<'static>, SigV4Error>> {
    let mut b = http::Request::builder()
        .method("POST")
        .uri("/?a=b&c=%ZZ")
        .header("host", "h");
    if let Ok(v) = http::HeaderValue::from_bytes(auth) {
        b = b.header("authorization", v);
    }
    if let Ok(v) = http::HeaderValue::from_bytes(date) {
        b = b.header("x-amz-date", v);
    }
    let (parts, ()) = b.body(()).ok()?.into_parts();
    Some(
        sigv4::verify(
            &parts,
            b"body",
            &sigv4_expected(),
            sigv4_now(),
            sigv4_lookup,
        )
        .map(Verified::into_owned),
    )
}

/// Hands `req` to the engine and says what is wrong with its answer, if anything: the
/// protocol decoders' property is no 5xx, and no error answer without a body.
pub fn engine_answer_problem(e: &Engine, req: http::Request<Bytes>) -> Option<String> {
    let what = format!("{} {}", req.method(), req.uri());
    let resp = e.handle(req);
    if resp.status().is_server_error() {
        return Some(format!(
            "{what}: {} {}",
            resp.status(),
            String::from_utf8_lossy(resp.body())
        ));
    }
    if resp.body().is_empty() && !resp.status().is_success() {
        return Some(format!("{what}: empty error ({})", resp.status()));
    }
    None
}

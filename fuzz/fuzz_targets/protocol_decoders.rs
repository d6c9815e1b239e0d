//! The protocol decoders behind the engine (mirrors `fuzz_protocol_decoders` in
//! tests/fuzz.rs): any request in the corpus's text format must never get a 5xx, and an
//! error response must carry a body.
//!
//! Input format (as tests/fuzz/corpus/requests/*): `METHOD URI` line, `Name: value`
//! header lines, a blank line, then the body bytes.
#![no_main]

use std::sync::OnceLock;

use apiconform::fake::{Engine, Fake};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fn parse_request(raw: &[u8]) -> Option<http::Request<Bytes>> {
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

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Fake::builder().no_auth().engine().expect("embedded specs"))
}

fuzz_target!(|data: &[u8]| {
    let e = engine();
    let Some(req) = parse_request(data) else {
        return; // not even an HTTP request
    };
    let what = format!("{} {}", req.method(), req.uri());
    let resp = e.handle(req);
    assert!(
        !resp.status().is_server_error(),
        "{what}: {} {}",
        resp.status(),
        String::from_utf8_lossy(resp.body())
    );
    assert!(
        !resp.body().is_empty() || resp.status().is_success(),
        "{what}: empty error ({})",
        resp.status()
    );
    e.reset();
});

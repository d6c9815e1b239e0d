//! The SigV4 parser and verifier (mirrors `fuzz_sigv4_parser_and_verifier` in
//! tests/fuzz.rs): no input may panic, and none may verify (the seeds' signatures are not
//! valid for this request, and the fuzzer cannot forge an HMAC).
//!
//! Input format: the Authorization header value, `\n`, then the X-Amz-Date value (the
//! whole input is the Authorization value when there is no newline).
#![no_main]

use apiconform::auth::sigv4;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz/shared.rs"]
#[allow(dead_code)]
mod shared;
use shared::{sigv4_expected, sigv4_lookup, sigv4_now};

fuzz_target!(|data: &[u8]| {
    let (auth, date) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
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
    let Ok(req) = b.body(()) else {
        return;
    };
    let (parts, ()) = req.into_parts();
    let r = sigv4::verify(
        &parts,
        b"body",
        &sigv4_expected(),
        sigv4_now(),
        sigv4_lookup,
    );
    assert!(
        r.is_err(),
        "a fuzzed signature verified: {:?}",
        String::from_utf8_lossy(auth)
    );
});

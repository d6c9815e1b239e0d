//! The SigV4 parser and verifier (mirrors `fuzz_sigv4_parser_and_verifier` in
//! tests/fuzz.rs): no input may panic, and none may verify (the seeds' signatures are not
//! valid for this request, and the fuzzer cannot forge an HMAC).
//!
//! Input format: the Authorization header value, `\n`, then the X-Amz-Date value (the
//! whole input is the Authorization value when there is no newline).
#![no_main]

use apiconform::auth::sigv4::{self, Credentials, Expected};
use libfuzzer_sys::fuzz_target;

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
    let expected = Expected {
        service: "iam",
        region: None,
        session_token_required: false,
        max_skew: time::Duration::minutes(15),
        double_encode_path: true,
    };
    let now = time::macros::datetime!(2026-11-24 12:00:00 UTC);
    let lookup = |k: &str| {
        (k == "AKIDEXAMPLE").then(|| Credentials {
            access_key: k.into(),
            secret_key: "secret".into(),
            session_token: None,
        })
    };
    let r = sigv4::verify(&parts, b"body", &expected, now, lookup);
    assert!(
        r.is_err(),
        "a fuzzed signature verified: {:?}",
        String::from_utf8_lossy(auth)
    );
});

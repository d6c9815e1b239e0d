//! The SigV4 parser and verifier (mirrors `fuzz_sigv4_parser_and_verifier` in
//! tests/fuzz.rs): no input may panic, and none may verify (the seeds' signatures are not
//! valid for this request, and the fuzzer cannot forge an HMAC).
//!
//! Input format: the Authorization header value, `\n`, then the X-Amz-Date value (the
//! whole input is the Authorization value when there is no newline).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz/shared.rs"]
#[allow(dead_code)]
mod shared;
use shared::sigv4_verify;

fuzz_target!(|data: &[u8]| {
    let (auth, date) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Some(r) = sigv4_verify(auth, date) else {
        return;
    };
    assert!(
        r.is_err(),
        "a fuzzed signature verified: {:?}",
        String::from_utf8_lossy(auth)
    );
});

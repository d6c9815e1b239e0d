//! The protocol decoders behind the engine (mirrors `fuzz_protocol_decoders` in
//! tests/fuzz.rs): any request in the corpus's text format must never get a 5xx, and an
//! error response must carry a body.
//!
//! Input format (as tests/fuzz/corpus/requests/*): `METHOD URI` line, `Name: value`
//! header lines, a blank line, then the body bytes.
#![no_main]

use std::sync::OnceLock;

use apiconform::fake::{Engine, Fake};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz/shared.rs"]
#[allow(dead_code)]
mod shared;
use shared::{engine_answer_problem, parse_request};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Fake::builder().no_auth().engine().expect("embedded specs"))
}

fuzz_target!(|data: &[u8]| {
    let e = engine();
    let Some(req) = parse_request(data) else {
        return; // not even an HTTP request
    };
    if let Some(problem) = engine_answer_problem(e, req) {
        panic!("{problem}");
    }
    e.reset();
});

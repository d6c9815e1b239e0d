//! The runner's response decoder (mirrors `fuzz_runner_response_decoder` in
//! tests/fuzz.rs): every embedded spec's decoder (XML through quick-xml, JSON through
//! serde_json, error-code lookup) and the normaliser take any body; whatever
//! `xml::read` accepts must write and read again.
//!
//! Input format: the first byte picks the status (200/400/404/500, modulo 4) when the
//! input does not start with `<`, `{` or `[`; otherwise status 200 and the whole input is
//! the body. This keeps the committed response corpus usable as seeds as-is.
#![no_main]

use std::sync::OnceLock;

use apiconform::protocol::xml;
use apiconform::runner::{client, compare};
use apiconform::spec::Spec;
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 4] = [200, 400, 404, 500];

fn specs() -> &'static [Spec] {
    static SPECS: OnceLock<Vec<Spec>> = OnceLock::new();
    SPECS.get_or_init(|| apiconform::spec::embedded().expect("specs"))
}

fuzz_target!(|data: &[u8]| {
    let (status, doc) = match data.first() {
        None => (200, data),
        Some(b'<' | b'{' | b'[') => (200, data),
        Some(&b) => (STATUSES[usize::from(b) % STATUSES.len()], &data[1..]),
    };
    if let Ok(tree) = xml::read(doc) {
        // Whatever reads back must write and read again.
        let again = xml::write(&tree);
        assert!(xml::read(&again).is_ok(), "round trip failed for {tree}");
    }
    let mut headers = http::HeaderMap::new();
    headers.insert("x-amzn-errortype", http::HeaderValue::from_static("X:y"));
    for spec in specs() {
        let o = client::observe(spec, status, &headers, doc);
        let _ = compare::normalise(spec, &o);
    }
});

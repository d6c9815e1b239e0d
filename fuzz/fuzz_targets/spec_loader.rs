//! The spec loader (mirrors `fuzz_spec_loader` in tests/fuzz.rs): any text (read as lossy
//! UTF-8) loads into a spec or into a non-empty list of positioned errors whose message
//! renders; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(errors) = apiconform::spec::load_str("fuzz.yaml", &text) {
        assert!(!errors.0.is_empty(), "load failed with no error");
        let _ = errors.to_string();
    }
});

//! Fuzz targets (proptest-driven mutation of a committed corpus, on stable Rust): the
//! protocol decoders behind the engine, the SigV4 parser and verifier, the spec loader,
//! and the runner's response decoder (XML and JSON, error codes, normalisation). Each
//! must never panic; the engine must never answer a 5xx nor change state on a request it
//! refuses.
//!
//! `cargo test --test fuzz` runs a short pass (CI). A campaign:
//! `APICONFORM_FUZZ_SECS=600 cargo test --release --test fuzz -- --nocapture` runs each
//! target for that many seconds and prints how many inputs it tried.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use apiconform::fake::{Engine, Fake};
use apiconform::protocol::xml;
use apiconform::runner::{client, compare};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

#[path = "fuzz/shared.rs"]
mod shared;
use shared::{engine_answer_problem, parse_request, sigv4_verify};

fn corpus(dir: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("corpus file");
            (p, bytes)
        })
        .collect()
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let interesting = prop_oneof![
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"[".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"%".to_vec()),
        Just(b"%ZZ".to_vec()),
        Just(b"&".to_vec()),
        Just(b"=".to_vec()),
        Just(b"<".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"99999999999999999999999".to_vec()),
        Just(b"-1".to_vec()),
        Just(b"null".to_vec()),
        Just("é\u{1F600}".as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    let edit = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), interesting).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 1usize..32).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ];
    proptest::collection::vec(edit, 1..6)
}

fn apply(mut data: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = data.len().max(1);
        match e {
            Edit::Flip(i, b) => {
                if !data.is_empty() {
                    let i = i % data.len();
                    data[i] ^= b | 1;
                }
            }
            Edit::Insert(i, b) => {
                let i = i % (data.len() + 1);
                data.splice(i..i, b.iter().copied());
            }
            Edit::Delete(i, n) => {
                let i = i % len;
                let end = (i + n).min(data.len());
                if i < end {
                    data.drain(i..end);
                }
            }
            Edit::Duplicate(i, n) => {
                let i = i % len;
                let end = (i + n).min(data.len());
                if i < end && data.len() < 1 << 20 {
                    let piece: Vec<u8> = data[i..end].to_vec();
                    data.splice(end..end, piece);
                }
            }
            Edit::Truncate(i) => data.truncate(i % len),
        }
    }
    data
}

/// Runs `check` on generated inputs: a fixed number of cases, or for
/// `APICONFORM_FUZZ_SECS` seconds. Returns the number of inputs tried.
fn campaign<S: Strategy>(
    name: &str,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> u64
where
    S::Value: std::fmt::Debug,
{
    let secs: Option<u64> = std::env::var("APICONFORM_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok());
    let cases = if secs.is_some() { 10_000 } else { 300 };
    let deadline = secs.map(|s| Instant::now() + Duration::from_secs(s));
    let mut tried = 0u64;
    let mut round = 0u64;
    loop {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&round.to_le_bytes());
        seed[8..16].copy_from_slice(&(name.len() as u64).to_le_bytes());
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        if let Err(e) = runner.run(&strategy, &check) {
            panic!("fuzz target {name} failed: {e}");
        }
        tried += u64::from(cases);
        round += 1;
        match deadline {
            Some(d) if Instant::now() < d => continue,
            _ => break,
        }
    }
    eprintln!("fuzz {name}: {tried} inputs, no failure");
    tried
}

fn engine() -> Engine {
    Fake::builder().no_auth().engine().expect("embedded specs")
}

#[test]
fn fuzz_protocol_decoders() {
    let seeds = corpus("requests");
    let e = engine();
    let seeds_for = seeds.clone();
    campaign(
        "protocol decoders",
        (0..seeds.len(), edits(), any::<bool>()),
        move |(i, ed, body_only)| {
            let raw = &seeds_for[i].1;
            let req = if body_only {
                // Mutate the body, keep the head.
                let split = raw.windows(2).position(|w| w == b"\n\n").unwrap_or(0) + 2;
                let mut mutated = raw[..split].to_vec();
                mutated.extend(apply(raw[split..].to_vec(), &ed));
                parse_request(&mutated)
            } else {
                parse_request(&apply(raw.clone(), &ed))
            };
            let Some(req) = req else {
                return Ok(()); // not even an HTTP request
            };
            let problem = engine_answer_problem(&e, req);
            prop_assert!(problem.is_none(), "{}", problem.unwrap_or_default());
            e.reset();
            Ok(())
        },
    );
}

#[test]
fn fuzz_sigv4_parser_and_verifier() {
    let seeds: Vec<Vec<u8>> = corpus("sigv4")
        .into_iter()
        .flat_map(|(_, b)| {
            String::from_utf8_lossy(&b)
                .lines()
                .map(|l| l.as_bytes().to_vec())
                .collect::<Vec<_>>()
        })
        .collect();
    campaign(
        "sigv4",
        (0..seeds.len(), edits(), edits()),
        move |(i, ed, date_ed)| {
            let auth = apply(seeds[i].clone(), &ed);
            let date = apply(b"20261124T120000Z".to_vec(), &date_ed);
            let Some(r) = sigv4_verify(&auth, &date) else {
                return Ok(());
            };
            prop_assert!(
                r.is_err(),
                "a mutated signature verified: {:?}",
                String::from_utf8_lossy(&auth)
            );
            Ok(())
        },
    );
}

#[test]
fn fuzz_spec_loader() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<String> = apiconform::spec::EMBEDDED
        .iter()
        .map(|(_, t)| t.to_string())
        .collect();
    seeds.push(
        std::fs::read_to_string(dir.join("tests/fixtures/specs/minimal.yaml")).expect("minimal"),
    );
    campaign("spec loader", (0..seeds.len(), edits()), move |(i, ed)| {
        let text = String::from_utf8_lossy(&apply(seeds[i].clone().into_bytes(), &ed)).into_owned();
        // Loading must end in a spec or in positioned errors, never in a panic.
        if let Err(errors) = apiconform::spec::load_str("fuzz.yaml", &text) {
            prop_assert!(!errors.0.is_empty());
            let _ = errors.to_string();
        }
        Ok(())
    });
}

#[test]
fn fuzz_runner_response_decoder() {
    // The runner reads whatever a target answers: every spec's decoder (XML through
    // quick-xml, JSON through serde_json, error-code lookup) and the normaliser that
    // turns it into a snapshot must take any bytes.
    let seeds: Vec<Vec<u8>> = corpus("responses").into_iter().map(|(_, b)| b).collect();
    let specs = apiconform::spec::embedded().expect("specs");
    let statuses = [200u16, 400, 404, 500];
    campaign(
        "runner response decoder",
        (0..seeds.len(), edits(), 0..statuses.len()),
        move |(i, ed, s)| {
            let doc = apply(seeds[i].clone(), &ed);
            if let Ok(tree) = xml::read(&doc) {
                // Whatever reads back must write and read again.
                let again = xml::write(&tree);
                prop_assert!(xml::read(&again).is_ok(), "round trip failed for {tree}");
            }
            let mut headers = http::HeaderMap::new();
            headers.insert("x-amzn-errortype", http::HeaderValue::from_static("X:y"));
            for spec in &specs {
                let o = client::observe(spec, statuses[s], &headers, &doc);
                let _ = compare::normalise(spec, &o);
            }
            Ok(())
        },
    );
}

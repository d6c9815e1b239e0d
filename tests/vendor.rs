//! The vendor workflow through the `apiconform` binary, against real sockets: an
//! implementation built from the fake behind wiremock, broken on purpose in ways that can
//! be switched while the server runs. Console summary and causes, the published report
//! (parsed, and opened in Chromium when it is installed), CTRF validated against its JSON
//! Schema, the baseline catching a new failure and reporting a fixed one, replay, redacted
//! recordings graded and diffed, and shards that are disjoint and complete.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use apiconform::fake::{Engine, Fake};
use bytes::Bytes;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

type Response = http::Response<Bytes>;
/// What the implementation does wrong: rewrites the answer to a request (`uri`, body).
type Flaw = Arc<dyn Fn(&str, &str, &mut Response) + Send + Sync>;

/// The fake behind wiremock, its answers passed through the current flaw. The control
/// plane (reset, seed, faults) stays honest.
#[derive(Clone)]
struct Vendor {
    engine: Arc<Engine>,
    flaw: Arc<Mutex<Flaw>>,
}

impl wiremock::Respond for Vendor {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let uri = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_string(),
        };
        let mut b = http::Request::builder()
            .method(request.method.clone())
            .uri(&uri);
        if let Some(h) = b.headers_mut() {
            *h = request.headers.clone();
        }
        let req = b.body(Bytes::from(request.body.clone())).expect("request");
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let mut resp = self.engine.handle(req);
        if !uri.starts_with("/_apiconform/") {
            let flaw = self.flaw.lock().expect("flaw").clone();
            flaw(&uri, &body, &mut resp);
        }
        let (parts, body) = resp.into_parts();
        let mut t = wiremock::ResponseTemplate::new(parts.status.as_u16());
        for (k, v) in &parts.headers {
            if k != "content-length" {
                t = t.append_header(k.clone(), v.clone());
            }
        }
        t.set_body_bytes(body.to_vec())
    }
}

fn honest() -> Flaw {
    Arc::new(|_, _, _| {})
}

/// Answers 400 where the document says 404 (NoSuchEntity).
fn not_found_is_400() -> Flaw {
    Arc::new(|_, _, resp| {
        if resp.status() == 404 {
            *resp.status_mut() = http::StatusCode::BAD_REQUEST;
        }
    })
}

/// Accepts a NewUserName longer than 64 characters (answers the success the fake gives a
/// valid rename).
fn no_length_check() -> Flaw {
    Arc::new(|_, body, resp| {
        let long = body
            .split('&')
            .any(|kv| kv.starts_with("NewUserName=") && kv.len() > "NewUserName=".len() + 64);
        if long {
            *resp.status_mut() = http::StatusCode::OK;
            *resp.body_mut() = Bytes::from_static(
                b"<UpdateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata></UpdateUserResponse>",
            );
        }
    })
}

fn both(a: Flaw, b: Flaw) -> Flaw {
    Arc::new(move |u, body, r| {
        a(u, body, r);
        b(u, body, r);
    })
}

struct Target {
    _server: MockServer,
    flaw: Arc<Mutex<Flaw>>,
    profile: PathBuf,
    dir: tempfile::TempDir,
}

impl Target {
    fn set(&self, f: Flaw) {
        *self.flaw.lock().expect("flaw") = f;
    }
}

/// A vendor's IAM implementation on a real socket, and a profile for it.
async fn vendor(flaw: Flaw) -> Target {
    let server = MockServer::start().await;
    let engine = Arc::new(Fake::builder().engine().expect("engine"));
    let flaw = Arc::new(Mutex::new(flaw));
    Mock::given(any())
        .respond_with(Vendor {
            engine,
            flaw: flaw.clone(),
        })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let profile = dir.path().join("vendor.yaml");
    std::fs::write(
        &profile,
        format!(
            "timeout_secs: 10\napis:\n  aws-iam:\n    base_url: {}\n    control_plane: true\n",
            server.uri()
        ),
    )
    .expect("profile");
    Target {
        _server: server,
        flaw,
        profile,
        dir,
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary from the repository root (where `snapshots/` is), off the runtime's
/// threads so that the wiremock server keeps answering.
async fn apiconform(args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_apiconform"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("APICONFORM_TARGET")
            .env("CI", "1")
            .output()
            .expect("apiconform runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("join")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_groups_failures_by_cause_and_prints_reproducers() {
    let t = vendor(not_found_is_400()).await;
    let profile = s(&t.profile);
    let r = apiconform(&[
        "test",
        "--target",
        &profile,
        "--case",
        "aws-iam/*",
        "--quiet",
    ])
    .await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.is_empty(), "--quiet: {}", r.stderr);
    // The per-API table by category.
    let table = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("aws-iam "))
        .take(8)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(table.contains("passed  failed  skipped"), "{}", r.stdout);
    for cat in [
        "examples",
        "constraints",
        "errors",
        "auth",
        "state",
        "suites",
        "all",
    ] {
        assert!(
            table.lines().any(|l| l.trim_start().starts_with(cat)),
            "{cat} missing: {table}"
        );
    }
    // Every 404 became a 400: one cause, counted once, its cases listed.
    let cause = "400 text/xml NoSuchEntity ErrorResponse{Error{Code,Message,Type},RequestId}";
    let line = r
        .stdout
        .lines()
        .find(|l| l.ends_with(cause))
        .unwrap_or_else(|| panic!("no cause line: {}", r.stdout));
    let n: usize = line
        .trim()
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(n >= 2, "{line}");
    assert!(r.stdout.contains("aws-iam/not-found/UserName"));
    // The first case of the cause in full, with the commands that re-run it.
    let first = r
        .stdout
        .lines()
        .find(|l| l.starts_with("  rerun:  apiconform test --target "))
        .expect("a rerun line");
    assert!(
        first.contains(&profile) && first.contains(" --case aws-iam/"),
        "{first}"
    );
    assert!(r.stdout.contains("  replay: apiconform replay aws-iam/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_sends_one_case_again_and_prints_the_exchange() {
    let t = vendor(not_found_is_400()).await;
    let profile = s(&t.profile);
    let r = apiconform(&["replay", "aws-iam/not-found/UserName", "--target", &profile]).await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    for want in [
        "--- request, as sent",
        "POST / HTTP/1.1",
        "Signature=<redacted:signature>",
        "UserName=Nobody",
        "--- answer",
        "HTTP/1.1 400 Bad Request",
        "<Code>NoSuchEntity</Code>",
        "FAIL aws-iam/not-found/UserName",
        "status 400 (expected 404)",
    ] {
        assert!(r.stdout.contains(want), "{want}: {}", r.stdout);
    }
    assert!(
        !r.stdout.contains("wJalrXUtnFEMI"),
        "the secret key is never printed"
    );
    t.set(honest());
    let r = apiconform(&["replay", "aws-iam/not-found/UserName", "--target", &profile]).await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("HTTP/1.1 404 Not Found") && r.stdout.contains("PASS "));
    let r = apiconform(&["replay", "aws-iam/not-found/Nobody", "--target", &profile]).await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no case is named"), "{}", r.stderr);
}

/// An element's name and its attributes.
type Element = (String, Vec<(String, String)>);

/// The elements of a well-formed (XHTML-compatible) page, and its text.
fn parse_page(html: &str) -> (Vec<Element>, String) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(html);
    let mut elements = Vec::new();
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("attribute");
                        (
                            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                            a.unescape_value().expect("value").into_owned(),
                        )
                    })
                    .collect();
                elements.push((name, attrs));
            }
            Ok(Event::Text(t)) => text.push_str(&t.unescape().expect("text")),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "index.html is not well-formed at {}: {e}",
                reader.buffer_position()
            ),
        }
    }
    (elements, text)
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Chromium's DOM of a page, and what it logged (a blocked load is logged).
fn open_in_chromium(browser: &str, page: &Path) -> (String, String) {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--log-level=0",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_is_self_contained_with_a_matrix_of_every_documented_row() {
    let t = vendor(both(not_found_is_400(), no_length_check())).await;
    let (profile, dir) = (s(&t.profile), t.dir.path().join("report"));
    let r = apiconform(&["test", "--target", &profile, "--report", &s(&dir), "-q"]).await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    let (elements, text) = parse_page(&html);

    // Nothing is fetched: no script, no external reference, and a policy that forbids it.
    let names: BTreeSet<&str> = elements.iter().map(|(n, _)| n.as_str()).collect();
    for banned in ["script", "link", "img", "iframe", "object", "embed"] {
        assert!(!names.contains(banned), "<{banned}> in the report");
    }
    for (name, attrs) in &elements {
        for (k, v) in attrs {
            if k == "href" || k == "src" {
                assert!(v.starts_with('#'), "<{name} {k}={v}> leaves the page");
            }
        }
    }
    // CSS and SVG may refer only to the page itself (`url(#gradient)`).
    assert!(
        html.match_indices("url(")
            .all(|(i, _)| html[i + 4..].starts_with('#')),
        "an external url() in the report"
    );
    assert!(!html.contains("@import"));
    assert!(elements.iter().any(|(n, a)| n == "meta"
        && a.iter()
            .any(|(k, v)| k == "content" && v.starts_with("default-src 'none'"))));

    // The matrix: every documented constraint and error row of IAM, with a verdict.
    let specs = apiconform::spec::embedded().expect("specs");
    let iam = specs.iter().find(|s| s.api.id == "aws-iam").expect("iam");
    assert!(names.contains("svg"), "the badge is inline");
    assert!(elements
        .iter()
        .any(|(n, a)| n == "section" && a.contains(&("id".into(), "matrix-aws-iam".into()))));
    for e in &iam.errors {
        assert!(text.contains(&e.code), "error row {} missing", e.code);
    }
    for p in &iam.parameters {
        assert!(text.contains(&p.name), "parameter {} missing", p.name);
    }
    for v in ["proven", "failed", "not tested"] {
        assert!(text.contains(v), "no row is {v}");
    }
    // NoSuchEntity is broken (400 for 404); NewUserName's length too; injected rows need
    // no control plane here, so they ran.
    let row = |item: &str| {
        let start = html.find(&format!("<code>{item}</code>")).expect(item);
        let end = html[start..].find("</tr>").expect("row end");
        html[start..start + end].to_string()
    };
    assert!(
        row("NoSuchEntity").contains("v failed"),
        "{}",
        row("NoSuchEntity")
    );
    assert!(
        row("ServiceFailure").contains("v proven"),
        "{}",
        row("ServiceFailure")
    );
    // The spec's hash, the version, the target, the date.
    let sha = {
        use sha2::Digest;
        let text = apiconform::spec::EMBEDDED
            .iter()
            .find(|(n, _)| n.starts_with("aws-iam"))
            .expect("iam")
            .1;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    assert!(text.contains(&sha), "spec hash");
    assert!(text.contains(env!("CARGO_PKG_VERSION")) && text.contains(&profile));
    // Every failure has its section with the raw request as sent, redacted.
    let failed = elements
        .iter()
        .filter(|(n, a)| n == "article" && a.iter().any(|(k, _)| k == "id"))
        .count();
    assert!(failed >= 3, "{failed} failure sections");
    assert!(text.contains("Signature=<redacted:signature>"));
    assert!(!html.contains("wJalrXUtnFEMI"), "no secret in the report");
    assert!(text.contains("apiconform replay aws-iam/"));

    // report.md and the badges.
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(md.starts_with("# Conformance report\n"));
    assert!(md.contains("### Error rows") && md.contains("| `NoSuchEntity` |"));
    for badge in ["badge.svg", "badge-aws-iam.svg"] {
        let svg = std::fs::read_to_string(dir.join(badge)).expect(badge);
        let tree = apiconform::protocol::xml::read(svg.as_bytes()).expect("SVG is XML");
        assert!(tree.get("svg").is_some() && svg.contains('%'), "{svg}");
    }

    // In a real browser engine, when one is installed: it renders the page and blocks
    // nothing (a load the policy refuses is logged, as the control page shows).
    if let Some(browser) = chromium() {
        let (dom, log) = open_in_chromium(browser, &dir.join("index.html"));
        assert!(
            dom.contains("Conformance report") && dom.contains("matrix-aws-iam"),
            "{dom:.500}"
        );
        assert!(!log.contains("Content Security Policy"), "{log}");
        let control = t.dir.path().join("control.html");
        std::fs::write(
            &control,
            html.replace("</body>", "<img src=\"http://192.0.2.1/x.png\"/></body>"),
        )
        .expect("control page");
        let (_, log) = open_in_chromium(browser, &control);
        assert!(
            log.contains("violates the following Content Security Policy directive"),
            "the control page was not blocked: {log}"
        );
    } else {
        eprintln!("chromium is not installed: the report was checked by parsing only");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrf_validates_against_the_ctrf_json_schema() {
    let t = vendor(not_found_is_400()).await;
    let out = t.dir.path().join("ctrf.json");
    let r = apiconform(&["test", "--target", &s(&t.profile), "--ctrf", &s(&out), "-q"]).await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ctrf/ctrf.schema.json"),
        )
        .expect("schema"),
    )
    .expect("schema JSON");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("ctrf")).expect("JSON");
    // boon (draft-07 here) with the `format` keyword asserted, as the schema's date-time
    // and uuid fields intend.
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    let url = "https://ctrf.io/ctrf.schema.json";
    compiler
        .add_resource(url, schema)
        .expect("the schema loads");
    let ctrf = compiler
        .compile(url, &mut schemas)
        .expect("the schema compiles");
    if let Err(e) = schemas.validate(&doc, ctrf) {
        panic!("the CTRF report does not validate:\n{e:#}");
    }
    // The schema does catch a bad document (the check is not vacuous).
    let mut bad = doc.clone();
    bad["results"]["tests"][0]["status"] = "broken".into();
    assert!(schemas.validate(&bad, ctrf).is_err());
    // And the formats are asserted: a time that is not RFC 3339 is refused.
    let mut bad = doc.clone();
    bad["timestamp"] = "yesterday at noon".into();
    assert!(schemas.validate(&bad, ctrf).is_err());

    let summary = &doc["results"]["summary"];
    let tests = doc["results"]["tests"].as_array().expect("tests");
    assert_eq!(summary["tests"], tests.len());
    let failed = tests.iter().filter(|t| t["status"] == "failed").count();
    assert_eq!(summary["failed"], failed);
    let t0 = tests
        .iter()
        .find(|t| t["name"] == "aws-iam/not-found/UserName")
        .expect("the case");
    assert_eq!(t0["status"], "failed");
    assert_eq!(t0["suite"], serde_json::json!(["aws-iam", "errors"]));
    assert!(t0["message"]
        .as_str()
        .is_some_and(|m| m.contains("status 400 (expected 404)")));
    assert!(t0["extra"]["apiconform.cause"]
        .as_str()
        .is_some_and(|c| c.starts_with("400 text/xml NoSuchEntity")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_baseline_fails_only_on_new_failures_and_lists_the_fixed() {
    let t = vendor(not_found_is_400()).await;
    let (profile, baseline) = (s(&t.profile), s(&t.dir.path().join("baseline.yaml")));
    let select = ["--case", "aws-iam/*", "-q"];
    // Today's deviations, accepted.
    let mut args = vec!["test", "--target", &profile, "--write-baseline", &baseline];
    args.extend(select);
    let r = apiconform(&args).await;
    assert_eq!(
        r.code, 0,
        "writing a baseline accepts: {}{}",
        r.stdout, r.stderr
    );
    let written = std::fs::read_to_string(&baseline).expect("baseline");
    assert!(
        written.contains(
            "  - case: \"aws-iam/not-found/UserName\"\n    cause: \"400 text/xml NoSuchEntity"
        ),
        "{written}"
    );
    // The same implementation: nothing new.
    let mut args = vec!["test", "--target", &profile, "--baseline", &baseline];
    args.extend(select);
    let r = apiconform(&args).await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("0 outside the baseline, 0 fixed"),
        "{}",
        r.stdout
    );

    // A new release: the 404s are fixed, and the length of NewUserName is no longer checked.
    t.set(no_length_check());
    let r = apiconform(&args).await;
    assert_eq!(
        r.code, 1,
        "a new failure fails the run: {}{}",
        r.stdout, r.stderr
    );
    assert!(
        r.stdout
            .contains("  NEW   aws-iam/length/NewUserName/max+1: 200 text/xml UpdateUserResponse"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  FIXED aws-iam/not-found/UserName: passes now"),
        "{}",
        r.stdout
    );
    // The same case failing for another cause is not the accepted deviation.
    t.set(Arc::new(|_, _, resp: &mut Response| {
        if resp.status() == 404 {
            *resp.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        }
    }));
    let r = apiconform(&args).await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("  NEW   aws-iam/not-found/UserName: fails with another cause: 500"),
        "{}",
        r.stdout
    );
    // A baseline that does not read is a usage error.
    std::fs::write(&baseline, "accepted: [{case: x}]").expect("write");
    let r = apiconform(&args).await;
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
}

/// The case names a CTRF report holds.
fn ctrf_names(path: &Path) -> Vec<String> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("ctrf")).expect("JSON");
    doc["results"]["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_are_disjoint_and_together_the_whole_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let whole = dir.path().join("whole.json");
    let r = apiconform(&[
        "test",
        "--api",
        "aws-iam",
        "--ctrf",
        &s(&whole),
        "-q",
        "-j",
        "2",
    ])
    .await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let whole = ctrf_names(&whole);
    assert!(whole.len() > 40, "{}", whole.len());
    let mut union: Vec<String> = Vec::new();
    let mut parts: Vec<BTreeSet<String>> = Vec::new();
    for k in 1..=3 {
        let out = dir.path().join(format!("part{k}.json"));
        let shard = format!("{k}/3");
        let r = apiconform(&[
            "test",
            "--api",
            "aws-iam",
            "--shard",
            &shard,
            "--ctrf",
            &s(&out),
            "-q",
            "-j",
            "1",
        ])
        .await;
        assert_eq!(r.code, 0, "{shard}: {}{}", r.stdout, r.stderr);
        let names = ctrf_names(&out);
        assert!(
            names.len().abs_diff(whole.len() / 3) <= 1,
            "{shard}: {}",
            names.len()
        );
        union.extend(names.iter().cloned());
        parts.push(names.into_iter().collect());
    }
    for (i, a) in parts.iter().enumerate() {
        for b in &parts[i + 1..] {
            assert!(a.is_disjoint(b), "shards overlap: {:?}", a.intersection(b));
        }
    }
    union.sort();
    let mut whole = whole;
    whole.sort();
    assert_eq!(union, whole, "the shards together are the whole run");
    let r = apiconform(&["test", "--shard", "4/3"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is not K/N"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_are_redacted_graded_and_diffed() {
    // A "real service": its answers carry an account id, a user id and the caller's key.
    let real: Flaw = Arc::new(|_, _, resp: &mut Response| {
        if resp.status() == 200 {
            let text = String::from_utf8_lossy(resp.body()).replace(
                "<ResponseMetadata>",
                "<UpdateUserResult><User><Arn>arn:aws:iam::123456789012:user/Robert</Arn><UserId>AIDACKCEVSQ6C2EXAMPLE</UserId><Caller>AKIDEXAMPLE</Caller></User></UpdateUserResult><ResponseMetadata>",
            );
            *resp.body_mut() = Bytes::from(text);
        }
    });
    let t = vendor(real).await;
    let profile = s(&t.profile);
    let recorded = t.dir.path().join("recorded");
    let r = apiconform(&[
        "test",
        "--target",
        &profile,
        "--case",
        "aws-iam/example/*",
        "--update",
        "--snapshots",
        &s(&recorded),
        "-q",
    ])
    .await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let snap = std::fs::read_to_string(recorded.join("aws-iam/example_rename-bob-to-robert.snap"))
        .expect("recorded");
    for want in [
        "Arn: arn:aws:iam::<redacted:account-id>:user/Robert",
        "UserId: <redacted:key-id>",
        "Caller: <redacted:access-key>",
    ] {
        assert!(snap.contains(want), "{want}: {snap}");
    }
    assert!(
        !snap.contains("123456789012") && !snap.contains("AKIDEXAMPLE"),
        "{snap}"
    );

    // Another implementation, another account: graded against the recording, it passes.
    t.set(Arc::new(|_, _, resp: &mut Response| {
        if resp.status() == 200 {
            let text = String::from_utf8_lossy(resp.body()).replace(
                "<ResponseMetadata>",
                "<UpdateUserResult><User><Arn>arn:aws:iam::210987654321:user/Robert</Arn><UserId>AIDAZZZZZZZZZZZZZZZZZ</UserId><Caller>AKIDEXAMPLE</Caller></User></UpdateUserResult><ResponseMetadata>",
            );
            *resp.body_mut() = Bytes::from(text);
        }
    }));
    let grade = [
        "test",
        "--target",
        &profile,
        "--case",
        "aws-iam/example/*",
        "--snapshots",
    ];
    let mut args = grade.to_vec();
    let rec = s(&recorded);
    args.extend([rec.as_str(), "-q"]);
    let r = apiconform(&args).await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // One that leaves the user out of its answer does not.
    t.set(honest());
    let r = apiconform(&args).await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("UpdateUserResult: missing"),
        "{}",
        r.stdout
    );

    // Where the recording and the shipped snapshots part, case by case.
    let r = apiconform(&["snapshots", "diff", "snapshots", &rec, "--api", "aws-iam"]).await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("aws-iam/example/rename-bob-to-robert "))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(
        line.contains("differs: body/UpdateUserResponse/UpdateUserResult: only in B"),
        "{line}"
    );
    assert!(r
        .stdout
        .lines()
        .any(|l| l.starts_with("aws-iam/length/") && l.ends_with("only in A")));
    let r = apiconform(&["snapshots", "diff", &rec, &rec]).await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(" 0 differ, 0 only in A, 0 only in B"),
        "{}",
        r.stdout
    );
    let r = apiconform(&["snapshots", "diff", &rec, "/nonexistent/apiconform"]).await;
    assert_eq!(r.code, 2);
}

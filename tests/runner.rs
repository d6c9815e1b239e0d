//! The conformance runner itself (the cases run one test each in `tests/conformance.rs`):
//! coverage of every constraint and error row, the suites' format, and proofs against
//! deliberately wrong implementations and hostile targets: each mistake must be reported
//! as a failure of the right case, with the right diff.

use std::sync::Arc;

use apiconform::fake::{Engine, Fake};
use apiconform::runner::target::Profile;
use apiconform::runner::{report, suite, Outcome, Runner, Selection};
use bytes::Bytes;
use rstest::rstest;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

#[rstest]
#[case("aws-iam")]
#[case("aws-transfer")]
#[case("aws-workdocs")]
#[case("hpe-nimble")]
#[case("nexfs")]
fn every_constraint_and_error_row_has_a_case(#[case] api: &str) {
    let specs = apiconform::spec::embedded().expect("specs");
    let spec = specs.iter().find(|s| s.api.id == api).expect("spec");
    let cases = apiconform::runner::cases::cases(spec);
    let table = report::coverage(spec, &cases);
    assert!(!table.contains("MISSING"), "{table}");
    assert!(
        cases.iter().any(|c| c.name.contains("/suite/")),
        "{api} has no suite case"
    );
}

#[test]
fn embedded_suites_read() {
    let specs = apiconform::spec::embedded().expect("specs");
    let n = suite::check_embedded(&specs).expect("suites");
    assert!(n >= 30, "only {n} suite cases");
}

#[rstest]
#[case("cases: []", "missing field `api`")]
#[case("api: nope\ncases: []", "no spec has api id 'nope'")]
#[case(
    "api: aws-iam\ncases: [{name: a, request: {UserName: Bob}, expect: NoSuchUser}]",
    "expect 'NoSuchUser' is neither `success` nor a code in the error table of aws-iam"
)]
#[case(
    "api: aws-iam\ncases: [{name: a, expect: success}, {name: a, expect: success}]",
    "case 'a': the name is used twice"
)]
#[case(
    "api: aws-iam\ncases: [{name: a, expect: success, setup: [{request: {UserName: Bob}, raw: {}}]}]",
    "case 'a', setup step 1: a step has exactly one of `fixture`, `request`, `raw`"
)]
#[case(
    "api: aws-iam\ncases: [{name: a, expect: success, setup: [{fixture: {Nickname: x}}]}]",
    "fixture field 'Nickname' is not a field of user"
)]
#[case(
    "api: aws-iam\ncases: [{name: a, expect: success, then: [{fixture: {UserName: x}}]}]",
    "case 'a': fixtures belong in `setup`"
)]
#[case(
    "api: aws-iam\ncases: [{name: a, expect: success, inject: Nope}]",
    "inject 'Nope' is not in the error table"
)]
#[case(
    "api: aws-iam\ncases: [{name: a, expect: success, colour: red}]",
    "unknown field `colour`"
)]
fn a_broken_suite_is_refused_with_a_reason(#[case] text: &str, #[case] why: &str) {
    let specs = apiconform::spec::embedded().expect("specs");
    let e = suite::parse("suites/x.yaml", text, &specs).expect_err("refused");
    assert!(e.starts_with("suites/x.yaml"), "{e}");
    assert!(e.contains(why), "{e}");
}

#[test]
fn fixture_templates_escape_per_context() {
    let raw = suite::RawRequest {
        path: "/users/{UserName}".into(),
        body: "Action=CreateUser&UserName={UserName}&Path={Path}".into(),
        ..Default::default()
    };
    let f = serde_json::json!({"UserName": "a b&c", "Path": "/x/"});
    let filled = raw.filled(f.as_object().expect("object"));
    assert_eq!(filled.path, "/users/a%20b%26c");
    assert_eq!(
        filled.body,
        "Action=CreateUser&UserName=a%20b%26c&Path=%2Fx%2F"
    );
    let json = suite::RawRequest {
        body: r#"{"UserName": "{UserName}"}"#.into(),
        ..Default::default()
    };
    let f = serde_json::json!({"UserName": "say \"hi\""});
    assert_eq!(
        json.filled(f.as_object().expect("object")).body,
        r#"{"UserName": "say \"hi\""}"#
    );
}

type Request = http::Request<Bytes>;
type Response = http::Response<Bytes>;
type RewriteRequest = Arc<dyn Fn(&mut Request) + Send + Sync>;
type RewriteResponse = Arc<dyn Fn(&mut Request, &mut Response) + Send + Sync>;

/// A wrong implementation: the fake, with `mutate` applied to each request and answer.
#[derive(Clone)]
struct Broken {
    engine: Arc<Engine>,
    mutate: RewriteResponse,
    /// Rewrites the request before the fake sees it (e.g. drops the change it asks for).
    before: RewriteRequest,
}

impl wiremock::Respond for Broken {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let uri = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_string(),
        };
        let mut b = http::Request::builder()
            .method(request.method.clone())
            .uri(uri);
        if let Some(h) = b.headers_mut() {
            *h = request.headers.clone();
        }
        let mut req = b.body(Bytes::from(request.body.clone())).expect("request");
        let original = req.clone();
        (self.before)(&mut req);
        let mut resp = self.engine.handle(req);
        let mut original = original;
        (self.mutate)(&mut original, &mut resp);
        let (parts, body) = resp.into_parts();
        let mut t = wiremock::ResponseTemplate::new(parts.status.as_u16());
        for (k, v) in &parts.headers {
            t = t.append_header(k.clone(), v.clone());
        }
        t.set_body_bytes(body.to_vec())
    }
}

fn replace_body(resp: &mut http::Response<Bytes>, from: &str, to: &str) {
    let text = String::from_utf8_lossy(resp.body()).replace(from, to);
    *resp.body_mut() = Bytes::from(text);
    resp.headers_mut().remove("content-length");
}

/// Runs the cases matching `glob` against the fake broken by `mutate`; returns outcomes.
async fn against_broken(
    glob: &str,
    before: impl Fn(&mut http::Request<Bytes>) + Send + Sync + 'static,
    mutate: impl Fn(&mut http::Request<Bytes>, &mut http::Response<Bytes>) + Send + Sync + 'static,
) -> Vec<Outcome> {
    let server = MockServer::start().await;
    // Auth off: the broken implementations rewrite signed requests.
    let engine = Arc::new(Fake::builder().no_auth().engine().expect("engine"));
    Mock::given(any())
        .respond_with(Broken {
            engine,
            mutate: Arc::new(mutate),
            before: Arc::new(before),
        })
        .mount(&server)
        .await;
    let mut r = Runner::with_profile(Profile::fake(&server.uri())).expect("runner");
    r.snapshot_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    // Compare only: a deliberate mistake must not leave .snap.new files behind.
    let tmp = tempfile::tempdir().expect("tmp");
    copy_snapshots(&r.snapshot_dir, tmp.path());
    r.snapshot_dir = tmp.path().to_path_buf();
    let out = r
        .run(&Selection {
            apis: Vec::new(),
            case_glob: Some(glob.into()),
        })
        .await;
    assert!(!out.is_empty(), "no case matches {glob}");
    out
}

fn copy_snapshots(from: &std::path::Path, to: &std::path::Path) {
    for api in std::fs::read_dir(from).expect("snapshots") {
        let api = api.expect("entry").path();
        if !api.is_dir() {
            continue;
        }
        let dest = to.join(api.file_name().expect("name"));
        std::fs::create_dir_all(&dest).expect("mkdir");
        for f in std::fs::read_dir(&api).expect("dir") {
            let f = f.expect("entry").path();
            if f.extension().is_some_and(|e| e == "snap") {
                std::fs::copy(&f, dest.join(f.file_name().expect("name"))).expect("copy");
            }
        }
    }
}

fn failure_of<'a>(out: &'a [Outcome], case: &str) -> &'a Outcome {
    let o = out
        .iter()
        .find(|o| o.case.name == case)
        .unwrap_or_else(|| panic!("no case {case}"));
    assert!(
        !o.failures.is_empty(),
        "{case} passed against a wrong implementation"
    );
    o
}

fn no_op(_: &mut http::Request<Bytes>) {}

/// An IAM implementation that answers a rename with success and never applies it.
fn drop_rename(req: &mut http::Request<Bytes>) {
    let body = String::from_utf8_lossy(req.body()).into_owned();
    let kept: Vec<&str> = body
        .split('&')
        .filter(|kv| !kv.starts_with("NewUserName="))
        .collect();
    *req.body_mut() = Bytes::from(kept.join("&"));
}

#[tokio::test]
async fn catches_a_wrong_status() {
    let out = against_broken("aws-iam/not-found/*", no_op, |_, resp| {
        if resp.status() == 404 {
            *resp.status_mut() = http::StatusCode::BAD_REQUEST;
        }
    })
    .await;
    let o = failure_of(&out, "aws-iam/not-found/UserName");
    assert!(
        o.failures.iter().any(|f| f == "status 400 (expected 404)"),
        "{:?}",
        o.failures
    );
    assert!(
        report::text(&out).contains("POST /"),
        "the report shows the request"
    );
}

#[tokio::test]
async fn catches_a_wrong_error_code() {
    let out = against_broken("aws-iam/not-found/*", no_op, |_, resp| {
        replace_body(
            resp,
            "<Code>NoSuchEntity</Code>",
            "<Code>NoSuchEntityException</Code>",
        );
    })
    .await;
    let o = failure_of(&out, "aws-iam/not-found/UserName");
    assert!(
        o.failures
            .iter()
            .any(|f| f == "error code NoSuchEntityException (expected NoSuchEntity)"),
        "{:?}",
        o.failures
    );
}

#[tokio::test]
async fn catches_a_missing_element() {
    let out = against_broken("aws-iam/example/*", no_op, |_, resp| {
        if resp.status() == 200 {
            let text = String::from_utf8_lossy(resp.body()).into_owned();
            if let (Some(a), Some(b)) = (
                text.find("<ResponseMetadata>"),
                text.find("</ResponseMetadata>"),
            ) {
                let cut = format!("{}{}", &text[..a], &text[b + "</ResponseMetadata>".len()..]);
                *resp.body_mut() = Bytes::from(cut);
            }
        }
    })
    .await;
    let o = failure_of(&out, "aws-iam/example/rename-bob-to-robert");
    let diff = o.diff.as_deref().expect("a diff");
    assert!(diff.contains("-    ResponseMetadata:"), "{diff}");
}

#[tokio::test]
async fn catches_an_extra_element() {
    let out = against_broken(
        "aws-transfer/example/document-request-corrected",
        no_op,
        |_, resp| {
            if resp.status() == 200 {
                replace_body(resp, "{", r#"{"Extra":"surprise","#);
            }
        },
    )
    .await;
    let o = failure_of(&out, "aws-transfer/example/document-request-corrected");
    let diff = o.diff.as_deref().expect("a diff");
    assert!(diff.contains("+  Extra: surprise"), "{diff}");
}

#[tokio::test]
async fn catches_a_wrong_xml_namespace() {
    let out = against_broken("aws-iam/example/*", no_op, |_, resp| {
        replace_body(
            resp,
            "https://iam.amazonaws.com/doc/2010-05-08/",
            "https://iam.example.com/",
        );
    })
    .await;
    let o = failure_of(&out, "aws-iam/example/rename-bob-to-robert");
    let diff = o.diff.as_deref().expect("a diff");
    assert!(
        diff.contains("+    '@xmlns': https://iam.example.com/"),
        "{diff}"
    );
}

#[tokio::test]
async fn catches_a_wrong_content_type() {
    let out = against_broken(
        "aws-transfer/example/document-request-corrected",
        no_op,
        |_, resp| {
            resp.headers_mut()
                .insert("content-type", http::HeaderValue::from_static("text/html"));
        },
    )
    .await;
    let o = failure_of(&out, "aws-transfer/example/document-request-corrected");
    assert!(
        o.failures
            .iter()
            .any(|f| f.starts_with("content type \"text/html\"")),
        "{:?}",
        o.failures
    );
}

#[tokio::test]
async fn catches_a_constraint_not_enforced() {
    // This implementation accepts a 65-character NewUserName (it truncates it).
    let out = against_broken(
        "aws-iam/length/NewUserName/max+1",
        |req| {
            let body = String::from_utf8_lossy(req.body()).into_owned();
            if let Some(i) = body.find("NewUserName=") {
                let start = i + "NewUserName=".len();
                let end = body[start..].find('&').map_or(body.len(), |e| start + e);
                let name: String = body[start..end].chars().take(64).collect();
                *req.body_mut() = Bytes::from(format!("{}{name}{}", &body[..start], &body[end..]));
            }
        },
        |_, _| {},
    )
    .await;
    let o = failure_of(&out, "aws-iam/length/NewUserName/max+1");
    assert!(
        o.failures
            .iter()
            .any(|f| f.starts_with("error code") || f.starts_with("status")),
        "{:?}",
        o.failures
    );
}

#[tokio::test]
async fn catches_state_not_changed_by_a_successful_update() {
    // Answers the rename with success, but never applies it.
    let out = against_broken("aws-iam/example/*", drop_rename, |_, _| {}).await;
    let o = failure_of(&out, "aws-iam/example/rename-bob-to-robert");
    assert!(
        o.failures
            .iter()
            .any(|f| f.starts_with("state: after the rename")),
        "{:?}",
        o.failures
    );
}

#[test]
fn junit_and_json_reports_are_well_formed() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let out = rt.block_on(against_broken("aws-iam/not-found/*", no_op, |_, resp| {
        if resp.status() == 404 {
            *resp.status_mut() = http::StatusCode::IM_A_TEAPOT;
        }
    }));
    let junit = report::junit(&out);
    let tree = apiconform::protocol::xml::read(junit.as_bytes()).expect("JUnit is XML");
    assert!(tree["testsuites"]["testsuite"].is_object(), "{junit}");
    assert!(
        junit.contains("<failure message=\"status 418 (expected 404)"),
        "{junit}"
    );
    let json: serde_json::Value = serde_json::from_str(&report::json(&out)).expect("JSON");
    assert_eq!(json["cases"][0]["result"], "failed");
}

#[tokio::test]
async fn then_steps_catch_state_a_success_did_not_change() {
    // Answers every rename with success and never applies it: the suite's follow-up
    // request for the new name is refused.
    let out = against_broken(
        "aws-iam/suite/created-user-can-be-renamed",
        drop_rename,
        |_, _| {},
    )
    .await;
    let o = failure_of(&out, "aws-iam/suite/created-user-can-be-renamed");
    assert!(
        o.failures
            .iter()
            .any(|f| f.starts_with("then step 1: status 404 (expected 200)")),
        "{:?}",
        o.failures
    );
}

/// Hostile targets: each misbehaviour is a clear failure of each case, within the
/// profile's timeout, and the run goes on to the next case.
mod hostile_targets {
    use super::*;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[derive(Clone, Copy, Debug)]
    enum Behaviour {
        /// Reads the request, closes the connection.
        Closes,
        /// Answers bytes that are not HTTP.
        Garbage,
        /// Sends a head promising a body, then stalls.
        StallsMidBody,
        /// Reads and never answers.
        Silent,
        /// An HTTP answer whose body is not XML at all.
        NotXml,
    }

    async fn serve(b: Behaviour) -> String {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = l.local_addr().expect("addr");
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let _ = s.read(&mut buf).await;
                    match b {
                        Behaviour::Closes => {}
                        Behaviour::Garbage => {
                            let _ = s.write_all(b"\x00\xffNOT HTTP AT ALL\r\n\r\n").await;
                        }
                        Behaviour::StallsMidBody => {
                            let _ = s
                                .write_all(
                                    b"HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 1000\r\n\r\n<Upd",
                                )
                                .await;
                            tokio::time::sleep(Duration::from_secs(60)).await;
                        }
                        Behaviour::Silent => tokio::time::sleep(Duration::from_secs(60)).await,
                        Behaviour::NotXml => {
                            let _ = s
                                .write_all(
                                    b"HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 11\r\n\r\n{not: xml}!",
                                )
                                .await;
                        }
                    }
                });
            }
        });
        format!("http://{addr}")
    }

    async fn run_against(b: Behaviour) -> Vec<Outcome> {
        let base = serve(b).await;
        let mut profile = Profile::fake(&base);
        profile.timeout_secs = 0.5;
        for t in profile.apis.values_mut() {
            t.control_plane = false;
        }
        let mut r = Runner::with_profile(profile).expect("runner");
        let tmp = tempfile::tempdir().expect("tmp");
        copy_snapshots(&r.snapshot_dir.clone(), tmp.path());
        r.snapshot_dir = tmp.path().to_path_buf();
        let started = Instant::now();
        let out = r
            .run(&Selection {
                apis: vec!["aws-iam".into()],
                case_glob: Some("aws-iam/length/*".into()),
            })
            .await;
        assert!(out.len() >= 4, "{b:?}: {} cases", out.len());
        assert!(
            started.elapsed() < Duration::from_secs_f64(0.5 * out.len() as f64 + 5.0),
            "{b:?}: the run took {:?}",
            started.elapsed()
        );
        for o in &out {
            assert!(!o.passed(), "{b:?}: {} passed", o.case.name);
            assert!(o.skipped.is_none(), "{b:?}: {} skipped", o.case.name);
        }
        out
    }

    fn first_failure(out: &[Outcome]) -> String {
        out[0].failures.join("; ")
    }

    #[tokio::test]
    async fn a_target_that_closes_the_connection() {
        let out = run_against(Behaviour::Closes).await;
        let f = first_failure(&out);
        assert!(f.starts_with("no answer:"), "{f}");
    }

    #[tokio::test]
    async fn a_target_that_answers_garbage() {
        let out = run_against(Behaviour::Garbage).await;
        let f = first_failure(&out);
        assert!(f.starts_with("no answer:"), "{f}");
    }

    #[tokio::test]
    async fn a_target_that_stalls_mid_body() {
        let out = run_against(Behaviour::StallsMidBody).await;
        let f = first_failure(&out);
        assert!(f.starts_with("body cut short:"), "{f}");
        assert!(f.contains("timed out") || f.contains("timeout"), "{f}");
    }

    #[tokio::test]
    async fn a_target_that_never_answers() {
        let out = run_against(Behaviour::Silent).await;
        let f = first_failure(&out);
        assert!(f.starts_with("no answer:"), "{f}");
        assert!(f.contains("timed out") || f.contains("timeout"), "{f}");
    }

    #[tokio::test]
    async fn a_target_that_answers_what_is_not_xml() {
        let out = run_against(Behaviour::NotXml).await;
        // Read as text; the snapshot diff shows it.
        let o = &out[0];
        assert!(
            o.diff.as_deref().is_some_and(|d| d.contains("{not: xml}!")),
            "{:?}",
            o
        );
    }
}

//! The conformance runner itself (the cases run one test each in `tests/conformance.rs`):
//! coverage of every constraint and error row, the suites' format, and proofs against
//! deliberately wrong implementations and hostile targets: each mistake must be reported
//! as a failure of the right case, with the right diff.

use std::sync::Arc;

use apiconform::fake::{Engine, Fake};
use apiconform::runner::target::Profile;
use apiconform::runner::{report, suite, Failure, Observations, Outcome, Runner, Selection};
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

/// Every embedded spec, the companion operations (create, read, list, delete) included:
/// the coverage table has no constraint or error row without a case.
#[test]
fn every_embedded_spec_has_a_case_for_each_row_of_its_coverage_table() {
    let specs = apiconform::spec::embedded().expect("specs");
    for spec in &specs {
        let cases = apiconform::runner::cases::cases(spec);
        let table = report::coverage(spec, &cases);
        assert!(!table.contains("MISSING"), "{}:\n{table}", spec.api.id);
    }
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
        let control = req.uri().path().starts_with("/_apiconform/");
        let mut original = req.clone();
        if !control {
            (self.before)(&mut req);
        }
        let mut resp = self.engine.handle(req);
        // The control plane (reset, seed, state) stays honest: only the API misbehaves.
        if !control {
            (self.mutate)(&mut original, &mut resp);
        }
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
/// Signatures are not verified (the broken implementations rewrite signed requests).
async fn against_broken(
    glob: &str,
    before: impl Fn(&mut http::Request<Bytes>) + Send + Sync + 'static,
    mutate: impl Fn(&mut http::Request<Bytes>, &mut http::Response<Bytes>) + Send + Sync + 'static,
) -> Vec<Outcome> {
    against(glob, false, false, before, mutate).await
}

/// The cases matching `glob` against the fake seen through `before` and `mutate`, on a
/// real socket (wiremock). `auth`: the fake verifies signatures (the request is left as
/// signed); `strict`: the runner's `--strict`.
async fn against(
    glob: &str,
    auth: bool,
    strict: bool,
    before: impl Fn(&mut http::Request<Bytes>) + Send + Sync + 'static,
    mutate: impl Fn(&mut http::Request<Bytes>, &mut http::Response<Bytes>) + Send + Sync + 'static,
) -> Vec<Outcome> {
    against_with(glob, auth, strict, |_| {}, before, mutate).await
}

/// As [`against`], with the target profile changed by `profile` first.
async fn against_with(
    glob: &str,
    auth: bool,
    strict: bool,
    profile: impl FnOnce(&mut Profile),
    before: impl Fn(&mut http::Request<Bytes>) + Send + Sync + 'static,
    mutate: impl Fn(&mut http::Request<Bytes>, &mut http::Response<Bytes>) + Send + Sync + 'static,
) -> Vec<Outcome> {
    let server = MockServer::start().await;
    let builder = if auth {
        Fake::builder()
    } else {
        Fake::builder().no_auth()
    };
    let engine = Arc::new(builder.engine().expect("engine"));
    Mock::given(any())
        .respond_with(Broken {
            engine,
            mutate: Arc::new(mutate),
            before: Arc::new(before),
        })
        .mount(&server)
        .await;
    let mut p = Profile::fake(&server.uri());
    profile(&mut p);
    grade(p, glob, strict).await
}

/// The cases matching `glob` against the target `p` describes, graded against
/// `snapshots/`; `strict`: the runner's `--strict`.
async fn grade(p: Profile, glob: &str, strict: bool) -> Vec<Outcome> {
    let mut r = Runner::with_profile(p).expect("runner");
    r.snapshot_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    // Compare only: grading another implementation writes nothing beside the snapshots.
    r.observed = Observations::Nowhere;
    r.strict = strict;
    let out = r
        .run(&Selection {
            apis: Vec::new(),
            case_glob: Some(glob.into()),
        })
        .await;
    assert!(!out.is_empty(), "no case matches {glob}");
    out
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
        o.failures.contains(&Failure::Status {
            got: 400,
            expected: 404
        }),
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
            .any(|f| f.to_string() == "error code NoSuchEntityException (expected NoSuchEntity)"),
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
            .any(|f| matches!(f, Failure::ContentType { got, .. } if got == "text/html")),
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
            .any(|f| matches!(f, Failure::Code { .. } | Failure::Status { .. })),
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
        o.failures.iter().any(|f| f
            .to_string()
            .starts_with("state: after the update, no user has UserName=\"Robert\"")),
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
        o.failures.iter().any(|f| f
            .to_string()
            .starts_with("then step 1: status 404 (expected 200)")),
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

    /// IAM's length cases against a target at `base` without a control plane; the
    /// outcomes and how long the run took.
    async fn length_cases(base: &str, timeout: f64, stall_after: u32) -> (Vec<Outcome>, Duration) {
        let mut profile = Profile::fake(base);
        profile.timeout_secs = timeout;
        profile.stall_after = stall_after;
        for t in profile.apis.values_mut() {
            t.control_plane = false;
        }
        let mut r = Runner::with_profile(profile).expect("runner");
        r.observed = Observations::Nowhere;
        let started = Instant::now();
        let out = r
            .run(&Selection {
                apis: vec!["aws-iam".into()],
                case_glob: Some("aws-iam/length/*".into()),
            })
            .await;
        (out, started.elapsed())
    }

    async fn run_against(b: Behaviour) -> Vec<Outcome> {
        let base = serve(b).await;
        let (out, took) = length_cases(&base, 0.5, 3).await;
        assert!(out.len() >= 4, "{b:?}: {} cases", out.len());
        assert!(
            took < Duration::from_secs_f64(0.5 * out.len() as f64 + 5.0),
            "{b:?}: the run took {took:?}"
        );
        for o in &out {
            assert!(!o.passed(), "{b:?}: {} passed", o.case.name);
            assert!(o.skipped.is_none(), "{b:?}: {} skipped", o.case.name);
        }
        out
    }

    #[tokio::test]
    async fn a_stalled_target_fails_the_rest_of_its_api_at_once() {
        let base = serve(Behaviour::Silent).await;
        let (out, took) = length_cases(&base, 0.3, 3).await;
        assert!(out.len() >= 10, "{} cases", out.len());
        // The first three time out: reading the state back through GetUser (the target
        // has no control plane) or the request itself.
        for o in &out[..3] {
            assert!(
                o.failures[0].to_string().contains("no answer:"),
                "{:?}",
                o.failures
            );
        }
        for o in &out[3..] {
            assert!(
                o.failures[0]
                    == Failure::Stalled {
                        api: "aws-iam".into(),
                        timeouts: 3
                    }
                    && o.failures[0]
                        .to_string()
                        .starts_with("target stalled: 3 requests to aws-iam in a row timed out"),
                "{:?}",
                o.failures
            );
        }
        assert!(took < Duration::from_secs(3), "took {took:?}");
        // Turned off: every case waits out its timeout.
        let (out, _) = length_cases(&base, 0.3, 0).await;
        assert!(out
            .iter()
            .all(|o| o.failures[0].to_string().contains("no answer:")));
    }

    fn first_failure(out: &[Outcome]) -> String {
        apiconform::runner::failure::join(&out[0].failures, "; ")
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

/// The runner as a judge, right both ways: named implementations that differ from the
/// fake only in ways the protocols' clients accept must pass every case of their API;
/// named implementations with a plausible bug must fail the case that shows it. Each runs
/// through a real socket (the fake behind wiremock, its answers or requests rewritten).
mod judge {
    use super::*;
    use serde_json::Value;

    /// Every case of `api`, the fake verifying signatures, its answers passed through
    /// `mutate`; every case must pass.
    async fn all_pass(
        api: &str,
        mutate: impl Fn(&mut Request, &mut Response) + Send + Sync + 'static,
    ) -> Vec<Outcome> {
        let out = against(&format!("{api}/*"), true, false, no_op, mutate).await;
        let failed: Vec<&Outcome> = out.iter().filter(|o| !o.passed()).collect();
        assert!(
            failed.is_empty(),
            "{} of {} cases of {api} failed a legitimate implementation:\n{}",
            failed.len(),
            out.len(),
            report::text(&failed.into_iter().cloned().collect::<Vec<_>>())
        );
        out
    }

    fn rewrite_json(resp: &mut Response, f: impl Fn(&mut Value)) {
        if let Ok(mut v) = serde_json::from_slice::<Value>(resp.body()) {
            f(&mut v);
            *resp.body_mut() = Bytes::from(v.to_string());
            resp.headers_mut().remove("content-length");
        }
    }

    fn rewrite_text(resp: &mut Response, re: &str, to: &str) {
        let re = regex::Regex::new(re).expect("regex");
        let text = String::from_utf8_lossy(resp.body()).into_owned();
        *resp.body_mut() = Bytes::from(re.replace_all(&text, to).into_owned());
        resp.headers_mut().remove("content-length");
    }

    /// Object members in reverse order, at every depth.
    fn reversed(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .rev()
                    .map(|(k, x)| (k.clone(), reversed(x)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(reversed).collect()),
            other => other.clone(),
        }
    }

    fn header(resp: &mut Response, name: &'static str, value: &str) {
        resp.headers_mut()
            .insert(name, http::HeaderValue::from_str(value).expect("header"));
    }

    /// Drops one parameter from the request wherever the protocol carries it (query,
    /// form, JSON member or Nimble's `data` member): an implementation that answers
    /// success and never applies that change.
    fn swallow(param: &'static str) -> impl Fn(&mut Request) + Send + Sync + 'static {
        move |req| {
            let keep = |kv: &&str| !kv.starts_with(&format!("{param}="));
            if let Some(q) = req.uri().query() {
                let kept: Vec<&str> = q.split('&').filter(keep).collect();
                let uri = format!("{}?{}", req.uri().path(), kept.join("&"));
                *req.uri_mut() = uri.parse().expect("uri");
            }
            let body = String::from_utf8_lossy(req.body()).into_owned();
            if let Ok(mut v) = serde_json::from_str::<Value>(&body) {
                if let Some(o) = v.as_object_mut() {
                    o.remove(param);
                }
                if let Some(o) = v.get_mut("data").and_then(Value::as_object_mut) {
                    o.remove(param);
                }
                *req.body_mut() = Bytes::from(v.to_string());
            } else if !body.is_empty() {
                let kept: Vec<&str> = body.split('&').filter(keep).collect();
                *req.body_mut() = Bytes::from(kept.join("&"));
            }
        }
    }

    fn failing_with<'a>(out: &'a [Outcome], case: &str, what: &str) -> &'a Outcome {
        let o = failure_of(out, case);
        assert!(
            o.failures.iter().any(|f| f.to_string().contains(what)),
            "{case}: no failure mentions {what:?}: {:?}",
            o.failures
        );
        o
    }

    /// Every case matching `glob` against a front server that answers each API request
    /// with `307` to the same path on a second server, where the fake answers (the
    /// control plane is served in front). Auth is verified: Nimble's token survives the
    /// hop (a SigV4 signature would not, as the host changes, but AWS clients never get
    /// that far).
    async fn behind_a_redirect(glob: &str) -> Vec<Outcome> {
        redirected(glob, 307, "/_apiconform/", false).await.0
    }

    /// As [`behind_a_redirect`], answering `status`, with the paths under `in_front`
    /// served in front too, and with `to_itself`, every redirect to the same URL on the
    /// front server. Also gives the number of redirects the front server answered.
    async fn redirected(
        glob: &str,
        status: u16,
        in_front: &'static str,
        to_itself: bool,
    ) -> (Vec<Outcome>, usize) {
        let engine = Arc::new(Fake::builder().engine().expect("engine"));
        let honest = Broken {
            engine,
            mutate: Arc::new(|_, _| {}),
            before: Arc::new(|_| {}),
        };
        let behind = MockServer::start().await;
        Mock::given(any())
            .respond_with(honest.clone())
            .mount(&behind)
            .await;
        let front = MockServer::start().await;
        let to = if to_itself { front.uri() } else { behind.uri() };
        let redirects = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = redirects.clone();
        Mock::given(any())
            .respond_with(move |req: &wiremock::Request| {
                let path = req.url.path();
                if path.starts_with("/_apiconform/") || path.starts_with(in_front) {
                    return wiremock::Respond::respond(&honest, req);
                }
                counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let query = req.url.query().map(|q| format!("?{q}"));
                wiremock::ResponseTemplate::new(status).insert_header(
                    "location",
                    format!("{to}{path}{}", query.unwrap_or_default()),
                )
            })
            .mount(&front)
            .await;
        let out = grade(Profile::fake(&front.uri()), glob, false).await;
        (out, redirects.load(std::sync::atomic::Ordering::Relaxed))
    }

    // ---- legitimate variations: every case passes ----

    #[tokio::test]
    async fn json_members_in_another_order() {
        for api in ["aws-transfer", "aws-workdocs", "hpe-nimble"] {
            all_pass(api, |_, resp| {
                rewrite_json(resp, |v| *v = reversed(v));
            })
            .await;
        }
    }

    #[tokio::test]
    async fn a_namespaced_json_error_type() {
        // As AWS sends it: `com.amazonaws.transfer#ResourceNotFoundException`.
        all_pass("aws-transfer", |_, resp| {
            rewrite_text(
                resp,
                r#""__type":"([A-Za-z]+)""#,
                r#""__type":"com.amazonaws.transfer#$1""#,
            );
        })
        .await;
    }

    #[tokio::test]
    async fn the_coral_suffix_on_error_types() {
        all_pass("aws-workdocs", |_, resp| {
            if let Some(t) = resp.headers().get("x-amzn-errortype").cloned() {
                let v = format!(
                    "{}:http://internal.amazon.com/coral/com.amazonaws.workdocs/",
                    t.to_str().expect("ascii")
                );
                header(resp, "x-amzn-errortype", &v);
            }
        })
        .await;
        all_pass("aws-transfer", |_, resp| {
            rewrite_text(
                resp,
                r#""__type":"([A-Za-z]+)""#,
                r#""__type":"$1:http://internal.amazon.com/coral/com.amazonaws.transfer/""#,
            );
        })
        .await;
    }

    #[tokio::test]
    async fn json_error_message_in_lower_case() {
        // botocore reads `message` and `Message` alike.
        all_pass("aws-transfer", |_, resp| {
            rewrite_text(resp, r#""Message":"#, r#""message":"#);
        })
        .await;
    }

    #[tokio::test]
    async fn re_indented_xml() {
        for api in ["aws-iam", "nexfs"] {
            all_pass(api, |_, resp| {
                rewrite_text(resp, "><", ">\n    <");
            })
            .await;
        }
    }

    #[tokio::test]
    async fn an_xml_namespace_prefix_instead_of_the_default() {
        all_pass("aws-iam", |_, resp| {
            rewrite_text(resp, r"<(/?)([A-Za-z])", "<${1}iam:$2");
            rewrite_text(resp, r#" xmlns=""#, r#" xmlns:iam=""#);
        })
        .await;
    }

    #[tokio::test]
    async fn a_charset_parameter_and_extra_headers() {
        for api in [
            "aws-iam",
            "aws-transfer",
            "aws-workdocs",
            "hpe-nimble",
            "nexfs",
        ] {
            all_pass(api, |_, resp| {
                if let Some(ct) = resp.headers().get("content-type").cloned() {
                    let v = format!("{}; charset=UTF-8", ct.to_str().expect("ascii"));
                    header(resp, "content-type", &v);
                }
                header(resp, "x-vendor-trace", "trace-1234");
                header(resp, "server", "VendorOS/9.1");
            })
            .await;
        }
    }

    #[tokio::test]
    async fn an_extra_member_is_a_warning_and_fails_when_strict() {
        let extra = |_: &mut Request, resp: &mut Response| {
            if resp.status() == 200 {
                rewrite_json(resp, |v| {
                    if let Some(o) = v.as_object_mut() {
                        o.insert("ServiceVersionMember".into(), Value::from("2027"));
                    }
                });
            }
        };
        let out = all_pass("aws-transfer", extra).await;
        let o = out
            .iter()
            .find(|o| o.case.name == "aws-transfer/example/document-request-corrected")
            .expect("case");
        assert!(
            o.warnings
                .iter()
                .any(|w| w.starts_with("body/ServiceVersionMember: not in the expected answer")),
            "{:?}",
            o.warnings
        );
        assert!(report::text(&out).contains("WARN aws-transfer/example/document-request-corrected"));
        let strict = against(
            "aws-transfer/example/document-request-corrected",
            true,
            true,
            no_op,
            extra,
        )
        .await;
        let o = failing_with(
            &strict,
            "aws-transfer/example/document-request-corrected",
            "body/ServiceVersionMember: not in the expected answer (--strict)",
        );
        let diff = o.diff.as_deref().expect("a diff");
        assert!(diff.contains("+  ServiceVersionMember: '2027'"), "{diff}");
    }

    #[tokio::test]
    async fn a_redirect_followed_where_the_apis_clients_follow_it() {
        // nimble-sdk sends through requests, which follows a 307 with its method and body.
        let out = behind_a_redirect("hpe-nimble/*").await;
        let failed: Vec<Outcome> = out.iter().filter(|o| !o.passed()).cloned().collect();
        assert!(failed.is_empty(), "{}", report::text(&failed));
        assert!(out.iter().filter(|o| o.skipped.is_none()).count() > 20);
    }

    #[tokio::test]
    async fn redirects_are_followed_thirty_times_as_requests_does() {
        // Every request redirected to itself: the login stops at the 31st redirect.
        let (out, redirects) =
            redirected("hpe-nimble/effect/description", 307, "/_apiconform/", true).await;
        let o = failing_with(
            &out,
            "hpe-nimble/effect/description",
            "more than 30 redirects",
        );
        assert!(o.failures.iter().any(|f| f.to_string().contains("login")));
        assert_eq!(redirects, 31);
    }

    // ---- plausible bugs: the case that shows each one fails ----

    #[tokio::test]
    async fn a_302_after_an_update_is_followed_with_a_get_as_requests_does() {
        // requests turns the PUT into a GET of the other URL: nothing is updated there, so
        // the update is not applied (reqwest would have repeated the PUT, and passed it).
        let (out, redirects) =
            redirected("hpe-nimble/effect/description", 302, "/v1/tokens", false).await;
        failing_with(
            &out,
            "hpe-nimble/effect/description",
            "state: description is",
        );
        assert!(redirects > 0);
    }

    #[tokio::test]
    async fn a_redirect_where_the_apis_clients_take_it_as_the_answer() {
        // botocore hands a 307 back as the answer: an AWS implementation that redirects
        // its operation does not work with the SDKs, whatever the other end answers.
        // WorkDocs shares its codec (rest-json) with Nimble, which follows.
        for api in ["aws-iam", "aws-workdocs"] {
            let out = behind_a_redirect(&format!("{api}/*")).await;
            let sent: Vec<&Outcome> = out.iter().filter(|o| o.skipped.is_none()).collect();
            assert!(!sent.is_empty(), "{api}: no case was sent");
            for o in sent {
                assert!(
                    o.failures.iter().any(|f| f.to_string().contains("307")),
                    "{}: not failed on the redirect: {:?}",
                    o.case.name,
                    o.failures
                );
            }
        }
    }

    #[rstest]
    #[case("aws-iam/effect/NewPath", "NewPath", "state: Path is")]
    #[case(
        "aws-transfer/effect/HomeDirectory",
        "HomeDirectory",
        "state: HomeDirectory is"
    )]
    #[case("aws-workdocs/effect/GivenName", "GivenName", "state: GivenName is")]
    #[case(
        "hpe-nimble/effect/description",
        "description",
        "state: description is"
    )]
    #[case(
        "nexfs/effect/Description",
        "Description",
        "state: UserDescription2 is"
    )]
    #[tokio::test]
    async fn an_update_that_was_not_applied(
        #[case] case: &str,
        #[case] param: &'static str,
        #[case] failure: &str,
    ) {
        let out = against_broken(case, swallow(param), |_, _| {}).await;
        failing_with(&out, case, failure);
    }

    #[tokio::test]
    async fn timestamps_as_iso_strings_instead_of_epoch_numbers() {
        let out = against_broken("aws-workdocs/example/*", no_op, |_, resp| {
            rewrite_json(resp, |v| {
                if let Some(u) = v.get_mut("User").and_then(Value::as_object_mut) {
                    u.insert(
                        "ModifiedTimestamp".into(),
                        Value::from("2026-11-25T14:00:00Z"),
                    );
                }
            })
        })
        .await;
        failing_with(
            &out,
            "aws-workdocs/example/request-syntax",
            r#"body/User/ModifiedTimestamp: "2026-11-25T14:00:00Z" is not <epoch-seconds>"#,
        );
    }

    #[tokio::test]
    async fn a_request_id_that_is_not_a_number() {
        let out = against_broken("nexfs/example/*", no_op, |_, resp| {
            rewrite_text(
                resp,
                r"<RequestId>\d+</RequestId>",
                "<RequestId>req-7</RequestId>",
            );
        })
        .await;
        failing_with(
            &out,
            "nexfs/example/update-example-user",
            r#"RequestId: "req-7" is not <integer>"#,
        );
    }

    #[tokio::test]
    async fn an_empty_request_id() {
        let out = against_broken("aws-iam/not-found/*", no_op, |_, resp| {
            rewrite_text(
                resp,
                r"<RequestId>[^<]*</RequestId>",
                "<RequestId></RequestId>",
            );
        })
        .await;
        failing_with(
            &out,
            "aws-iam/not-found/UserName",
            r#"body/ErrorResponse/RequestId: "" is not <request-id>"#,
        );
        let out = against_broken("aws-iam/example/*", no_op, |_, resp| {
            rewrite_text(
                resp,
                r"<RequestId>[^<]*</RequestId>",
                "<RequestId></RequestId>",
            );
        })
        .await;
        failing_with(
            &out,
            "aws-iam/example/rename-bob-to-robert",
            r#"RequestId: "" is not <uuid>"#,
        );
    }

    #[tokio::test]
    async fn a_last_modified_time_that_never_changes() {
        let out = against_broken("hpe-nimble/effect/description", no_op, |_, resp| {
            rewrite_json(resp, |v| {
                if let Some(d) = v.get_mut("data").and_then(Value::as_object_mut) {
                    d.insert("last_modified".into(), Value::from(1426801552));
                }
            })
        })
        .await;
        failing_with(
            &out,
            "hpe-nimble/effect/description",
            "data/last_modified did not change with the update",
        );
    }

    #[tokio::test]
    async fn a_number_sent_as_a_string() {
        let out = against_broken("hpe-nimble/example/*", no_op, |_, resp| {
            rewrite_json(resp, |v| {
                if let Some(d) = v.get_mut("data").and_then(Value::as_object_mut) {
                    if let Some(n) = d.get("inactivity_timeout").cloned() {
                        d.insert("inactivity_timeout".into(), Value::from(n.to_string()));
                    }
                }
            })
        })
        .await;
        let o = out.iter().find(|o| !o.passed()).expect("a case fails");
        assert!(
            o.failures.iter().any(|f| f
                .to_string()
                .contains("body/data/inactivity_timeout: a string")
                && f.to_string().contains("(expected a number")),
            "{:?}",
            o.failures
        );
    }

    #[tokio::test]
    async fn an_enum_that_ignores_letter_case() {
        // Takes `EN` as `en`.
        let out = against_broken(
            "aws-workdocs/enum/Locale/case-EN",
            |req| {
                let body = String::from_utf8_lossy(req.body()).replace(r#""EN""#, r#""en""#);
                *req.body_mut() = Bytes::from(body);
            },
            |_, _| {},
        )
        .await;
        failing_with(
            &out,
            "aws-workdocs/enum/Locale/case-EN",
            "status 200 (expected 400)",
        );
    }

    #[tokio::test]
    async fn a_console_api_served_only_at_the_root() {
        // Answers `/` only, as the fake once did: the vendor's `/nexfsconsoleapi` is a 404.
        let out = against_broken("nexfs/example/*", no_op, |req, resp| {
            if req.uri().path() != "/" {
                *resp.status_mut() = http::StatusCode::NOT_FOUND;
                *resp.body_mut() = Bytes::from_static(b"not found");
                resp.headers_mut().remove("content-length");
            }
        })
        .await;
        failing_with(
            &out,
            "nexfs/example/update-example-user",
            "status 404 (expected 200)",
        );
    }

    #[tokio::test]
    async fn user_names_looked_up_in_their_exact_case_only() {
        // Finds `Bob` but not `BOB`, as a case-sensitive store does.
        let out = against_broken(
            "aws-iam/suite/lookup-in-other-case",
            |req| {
                let body =
                    String::from_utf8_lossy(req.body()).replace("UserName=BOB&", "UserName=BOB_&");
                *req.body_mut() = Bytes::from(body);
            },
            |_, _| {},
        )
        .await;
        failing_with(
            &out,
            "aws-iam/suite/lookup-in-other-case",
            "status 404 (expected 200)",
        );
    }

    #[tokio::test]
    async fn a_case_only_rename_that_goes_through() {
        // Takes Bob -> BOB as a change of nothing, as the fake once did.
        let out = against_broken(
            "aws-iam/suite/rename-to-own-name-in-other-case",
            |req| {
                let body = String::from_utf8_lossy(req.body())
                    .replace("NewUserName=BOB", "NewUserName=Bob");
                *req.body_mut() = Bytes::from(body);
            },
            |_, _| {},
        )
        .await;
        failing_with(
            &out,
            "aws-iam/suite/rename-to-own-name-in-other-case",
            "status 200 (expected 409)",
        );
    }

    #[tokio::test]
    async fn an_unknown_server_reported_as_an_unknown_user() {
        // Names the user for a server that does not exist, as the fake once did.
        let out = against_broken("aws-transfer/suite/unknown-server", no_op, |_, resp| {
            if resp.status() != 404 {
                return;
            }
            rewrite_json(resp, |v| {
                if let Some(o) = v.as_object_mut() {
                    o.insert("Resource".into(), Value::from("my_user"));
                    o.insert("ResourceType".into(), Value::from("User"));
                }
            })
        })
        .await;
        let o = failing_with(
            &out,
            "aws-transfer/suite/unknown-server",
            "body/ResourceType",
        );
        let diff = o.diff.as_deref().expect("a diff");
        assert!(diff.contains("+  ResourceType: User"), "{diff}");
    }

    #[tokio::test]
    async fn an_update_applied_to_another_user() {
        // The answer is the documented success, but a new path lands on the other
        // fixture user: the selected one is unchanged and another one changed.
        let out = against_broken(
            "aws-iam/effect/NewPath",
            |req| {
                let body = String::from_utf8_lossy(req.body()).into_owned();
                let swapped = if body.contains("UserName=Bob") {
                    body.replace("UserName=Bob", "UserName=Alice")
                } else {
                    body.replace("UserName=Alice", "UserName=Bob")
                };
                assert_ne!(swapped, body, "the case names a fixture user: {body}");
                // A path the other user does not have already (the case sets `/`).
                let moved = swapped.replace("NewPath=%2F", "NewPath=%2Fmoved%2F");
                assert_ne!(moved, swapped, "the case sets NewPath to /: {body}");
                *req.body_mut() = Bytes::from(moved);
            },
            |_, _| {},
        )
        .await;
        failing_with(
            &out,
            "aws-iam/effect/NewPath",
            "state: the update changed another user",
        );
    }

    #[tokio::test]
    async fn a_refused_request_that_changed_the_state() {
        // Applies a truncated NewUserName, then answers the ValidationError the spec asks
        // for: the answer is right, the state is not.
        let out = against_broken(
            "aws-iam/length/NewUserName/max+1",
            |req| {
                let body = String::from_utf8_lossy(req.body()).into_owned();
                let re = regex::Regex::new(r"NewUserName=([^&]{64})[^&]*").expect("regex");
                *req.body_mut() = Bytes::from(re.replace(&body, "NewUserName=$1").into_owned());
            },
            |_, resp| {
                *resp.status_mut() = http::StatusCode::BAD_REQUEST;
                *resp.body_mut() = Bytes::from(
                    "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>\
                     <Type>Sender</Type><Code>ValidationError</Code><Message>too long</Message>\
                     </Error><RequestId>0b6d7c1e-5c1e-4c55-9a38-4c9f1e2d3a4b</RequestId></ErrorResponse>",
                );
                resp.headers_mut().remove("content-length");
            },
        )
        .await;
        let o = failing_with(
            &out,
            "aws-iam/length/NewUserName/max+1",
            "state: the refused request changed the users",
        );
        assert_eq!(o.failures.len(), 1, "{:?}", o.failures);
        assert!(
            o.state_diff
                .as_deref()
                .is_some_and(|d| d.contains("+  UserName: aaaa")),
            "{:?}",
            o.state_diff
        );
    }

    #[tokio::test]
    async fn a_failure_at_a_deliberate_departure_quotes_the_spec_note() {
        // An implementation that follows the document's two-value Type enum.
        let out = against_broken("aws-workdocs/enum/Type/*", no_op, |req, resp| {
            let body = String::from_utf8_lossy(req.body()).into_owned();
            if body.contains("POWERUSER") {
                *resp.status_mut() = http::StatusCode::BAD_REQUEST;
                header(resp, "x-amzn-errortype", "InvalidArgumentException");
                *resp.body_mut() = Bytes::from(r#"{"Message":"Type must be USER or ADMIN"}"#);
                resp.headers_mut().remove("content-length");
            }
        })
        .await;
        let o = failure_of(&out, "aws-workdocs/enum/Type/POWERUSER");
        assert!(
            o.notes.iter().any(|n| n.starts_with(
                "spec note (parameters.Type.enum): the document says: Valid values USER | ADMIN."
            )),
            "{:?}",
            o.notes
        );
        assert!(report::text(&out).contains("spec note (parameters.Type.enum)"));
    }

    /// NimbleOS without our control plane: reset by a raw request before each case, read
    /// back with the profile's `read_back` (an empty update answers the whole user).
    fn nimble_read_back(p: &mut Profile) {
        let t = p.apis.get_mut("hpe-nimble").expect("nimble");
        t.control_plane = false;
        t.before_each = vec![suite::RawRequest {
            path: "/_apiconform/reset".into(),
            sign: false,
            ..Default::default()
        }];
        t.read_back = Some(apiconform::runner::target::ReadBack {
            request: suite::RawRequest {
                method: "PUT".into(),
                path: "/v1/users/{id}".into(),
                headers: [("content-type".to_string(), "application/json".to_string())].into(),
                body: r#"{"data": {}}"#.into(),
                sign: true,
                status: None,
            },
            fields: [
                ("name", "data/name"),
                ("description", "data/description"),
                ("full_name", "data/full_name"),
                ("disabled", "data/disabled"),
                ("inactivity_timeout", "data/inactivity_timeout"),
            ]
            .into_iter()
            .map(|(f, p)| (f.to_string(), p.to_string()))
            .collect(),
            absent: vec![404],
        });
    }

    #[tokio::test]
    async fn a_profile_read_back_passes_an_honest_target() {
        let out = against_with(
            "hpe-nimble/effect/*",
            true,
            false,
            nimble_read_back,
            no_op,
            |_, _| {},
        )
        .await;
        let failed: Vec<&Outcome> = out.iter().filter(|o| !o.passed()).collect();
        assert!(
            failed.is_empty(),
            "{}",
            report::text(&failed.into_iter().cloned().collect::<Vec<_>>())
        );
    }

    #[tokio::test]
    async fn a_profile_read_back_catches_an_update_that_was_not_applied() {
        let out = against_with(
            "hpe-nimble/effect/description",
            false,
            false,
            nimble_read_back,
            swallow("description"),
            |_, _| {},
        )
        .await;
        failing_with(
            &out,
            "hpe-nimble/effect/description",
            "state: description is",
        );
    }

    #[tokio::test]
    async fn a_read_back_path_that_leads_nowhere_is_a_profile_mistake() {
        let out = against_with(
            "hpe-nimble/effect/description",
            true,
            false,
            |p| {
                nimble_read_back(p);
                let rb = p
                    .apis
                    .get_mut("hpe-nimble")
                    .and_then(|t| t.read_back.as_mut())
                    .expect("rb");
                rb.fields
                    .insert("description".into(), "dta/description".into());
            },
            no_op,
            |_, _| {},
        )
        .await;
        failing_with(
            &out,
            "hpe-nimble/effect/description",
            "read-back: the answer has nothing at dta/description",
        );
    }

    /// A create whose key the service makes is read back under the key its answer gives:
    /// a target that answers the create but does not store a field fails on the state.
    #[tokio::test]
    async fn a_create_that_drops_a_field_is_caught_under_the_key_it_answered() {
        let case = "aws-workdocs-create-user/effect/TimeZoneId";
        let out = against_broken(case, swallow("TimeZoneId"), |_, _| {}).await;
        failing_with(&out, case, "state: TimeZoneId is unset after the create");
        let out = against_broken(case, no_op, |_, _| {}).await;
        assert!(out.iter().all(Outcome::passed), "{}", report::text(&out));
    }

    /// `api` as a foreign target: no control plane and no profile `read_back` (reset by a
    /// raw request before each case, as a peer's own reset endpoint would).
    fn no_control_plane(api: &'static str) -> impl FnOnce(&mut Profile) {
        move |p| {
            for (id, t) in p.apis.iter_mut() {
                if id == api || id.starts_with(&format!("{api}-")) {
                    t.control_plane = false;
                    t.read_back = None;
                    t.before_each = vec![suite::RawRequest {
                        path: "/_apiconform/reset".into(),
                        sign: false,
                        ..Default::default()
                    }];
                }
            }
        }
    }

    /// Without a control plane or a profile `read_back`, the state is read back through
    /// the API's own read operation (IAM GetUser, Transfer DescribeUser) or, where it has
    /// none, its list (WorkDocs DescribeUsers narrowed by UserIds): an honest target passes
    /// every effect case, and one that drops the change fails on the read-back state.
    #[rstest]
    #[case("aws-iam", "aws-iam/effect/NewPath", "NewPath", "state: Path is")]
    #[case(
        "aws-transfer",
        "aws-transfer/effect/HomeDirectory",
        "HomeDirectory",
        "state: HomeDirectory is"
    )]
    #[case(
        "aws-workdocs",
        "aws-workdocs/effect/GivenName",
        "GivenName",
        "state: GivenName is"
    )]
    #[tokio::test]
    async fn without_a_control_plane_the_read_operation_reads_the_state_back(
        #[case] api: &'static str,
        #[case] case: &str,
        #[case] param: &'static str,
        #[case] failure: &str,
    ) {
        // The requests the target sees, so that the read-back is seen to go through the API.
        let seen: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
        let log = seen.clone();
        let out = against_with(
            &format!("{api}/effect/*"),
            true,
            false,
            no_control_plane(api),
            move |req| {
                let line = format!("{} {}", req.method(), req.uri());
                let target = req
                    .headers()
                    .get("x-amz-target")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let body = String::from_utf8_lossy(req.body()).into_owned();
                log.lock()
                    .expect("log")
                    .push(format!("{line} {target} {body}"));
            },
            |_, _| {},
        )
        .await;
        let failed: Vec<&Outcome> = out.iter().filter(|o| !o.passed()).collect();
        assert!(
            failed.is_empty(),
            "{}",
            report::text(&failed.into_iter().cloned().collect::<Vec<_>>())
        );
        let reads = seen
            .lock()
            .expect("log")
            .iter()
            .filter(|r| {
                r.contains("Action=GetUser")
                    || r.contains("TransferService.DescribeUser")
                    || r.starts_with("GET /api/v1/users?")
            })
            .count();
        assert!(
            reads >= 2 * out.len(),
            "{reads} reads for {} cases: the state was not read back through the API",
            out.len()
        );
        let out = against_with(
            case,
            false,
            false,
            no_control_plane(api),
            swallow(param),
            |_, _| {},
        )
        .await;
        failing_with(&out, case, failure);
    }

    #[tokio::test]
    async fn a_foreign_target_is_recorded_under_the_output_folder_not_the_snapshots() {
        let server = MockServer::start().await;
        let engine = Arc::new(Fake::builder().engine().expect("engine"));
        Mock::given(any())
            .respond_with(Broken {
                engine,
                mutate: Arc::new(|_: &mut Request, resp: &mut Response| {
                    if resp.status() == 404 {
                        *resp.status_mut() = http::StatusCode::BAD_REQUEST;
                    }
                }),
                before: Arc::new(no_op),
            })
            .mount(&server)
            .await;
        let snapshots = tempfile::tempdir().expect("tmp");
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/aws-iam");
        std::fs::create_dir_all(snapshots.path().join("aws-iam")).expect("mkdir");
        for f in std::fs::read_dir(&src).expect("snapshots") {
            let f = f.expect("entry").path();
            if f.extension().is_some_and(|e| e == "snap") {
                let to = snapshots
                    .path()
                    .join("aws-iam")
                    .join(f.file_name().expect("name"));
                std::fs::copy(&f, to).expect("copy");
            }
        }
        let out_dir = tempfile::tempdir().expect("tmp");
        let mut r = Runner::with_profile(Profile::fake(&server.uri())).expect("runner");
        r.snapshot_dir = snapshots.path().to_path_buf();
        r.observed = Observations::Dir(out_dir.path().to_path_buf());
        let out = r
            .run(&Selection {
                apis: vec!["aws-iam".into()],
                case_glob: Some("aws-iam/not-found/*".into()),
            })
            .await;
        failure_of(&out, "aws-iam/not-found/UserName");
        let recorded = out_dir.path().join("aws-iam/not-found_UserName.snap");
        let text = std::fs::read_to_string(&recorded).expect("the observed answer is recorded");
        assert!(text.contains("status: 400"), "{text}");
        let pending: Vec<_> = std::fs::read_dir(snapshots.path().join("aws-iam"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".snap.new"))
            .collect();
        assert!(pending.is_empty(), "{pending:?}");
    }
}

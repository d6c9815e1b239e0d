//! The conformance runner in `cargo test`: every case of every API against the embedded
//! fake (or, with `APICONFORM_TARGET=profile.yaml`, against that target), compared with the
//! snapshots in `snapshots/<api>/` (`cargo insta review` accepts the `.snap.new` files a
//! difference leaves). Then the runner is proved against deliberately wrong
//! implementations: each mistake must be reported as a failure of the right case.

use std::sync::Arc;

use apiconform::fake::{Engine, Fake};
use apiconform::runner::target::Profile;
use apiconform::runner::{report, Outcome, Runner, Selection};
use bytes::Bytes;
use rstest::rstest;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

async fn runner() -> Runner {
    match std::env::var_os("APICONFORM_TARGET") {
        Some(p) => Profile::load(std::path::Path::new(&p))
            .and_then(Runner::with_profile)
            .expect("target profile"),
        None => Runner::in_process().await.expect("in-process fake"),
    }
}

#[rstest]
#[case("aws-iam")]
#[case("aws-transfer")]
#[case("aws-workdocs")]
#[case("hpe-nimble")]
#[case("nexfs")]
#[tokio::test]
async fn every_case_passes(#[case] api: &str) {
    let r = runner().await;
    let outcomes = r
        .run(&Selection {
            apis: vec![api.into()],
            case_glob: None,
        })
        .await;
    assert!(outcomes.len() > 20, "{api}: only {} cases", outcomes.len());
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.failures.is_empty()).collect();
    assert!(failed.is_empty(), "{}", report::text(&outcomes));
}

#[test]
fn every_constraint_and_error_row_has_a_case() {
    for spec in apiconform::spec::embedded().expect("specs") {
        let cases = apiconform::runner::cases::cases(&spec);
        let table = report::coverage(&spec, &cases);
        assert!(!table.contains("MISSING"), "{table}");
    }
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
    let out = against_broken(
        "aws-iam/example/*",
        |req| {
            let body = String::from_utf8_lossy(req.body()).into_owned();
            if body.contains("NewUserName=") {
                let kept: Vec<&str> = body
                    .split('&')
                    .filter(|kv| !kv.starts_with("NewUserName="))
                    .collect();
                *req.body_mut() = Bytes::from(kept.join("&"));
            }
        },
        |_, _| {},
    )
    .await;
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

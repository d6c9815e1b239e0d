//! The fake over real sockets: `Fake::start()` in-process, the wiremock adapter, HTTPS, the
//! control plane over HTTP, body limits, and the `apiconform serve` binary itself.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use apiconform::auth::sigv4::{self, Credentials};
use apiconform::auth::{DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
use apiconform::fake::{Fake, FakeResponder, ServerOptions};
use bytes::Bytes;
use serde_json::{json, Value};

fn creds() -> Credentials {
    Credentials {
        access_key: DEFAULT_ACCESS_KEY.into(),
        secret_key: DEFAULT_SECRET_KEY.into(),
        session_token: None,
    }
}

/// Sends a SigV4-signed IAM UpdateUser to `base` with reqwest.
async fn iam_update(client: &reqwest::Client, base: &str, form: &str) -> (u16, String) {
    let url: reqwest::Url = base.parse().expect("base URI");
    let host = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port_or_known_default().expect("port")
    );
    let (mut parts, ()) = http::Request::builder()
        .method("POST")
        .uri("/")
        .header("host", &host)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(())
        .expect("request")
        .into_parts();
    sigv4::sign(
        &mut parts,
        form.as_bytes(),
        &creds(),
        "us-east-1",
        "iam",
        time::OffsetDateTime::now_utc(),
        &[],
    );
    let mut req = client.post(base).body(form.to_string());
    for (k, v) in &parts.headers {
        if k != "host" {
            req = req.header(k, v);
        }
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

async fn state(client: &reqwest::Client, base: &str, api: &str) -> Value {
    client
        .get(format!("{base}/_apiconform/state?api={api}"))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("state JSON")
}

fn has_user(state: &Value, api: &str, field: &str, name: &str) -> bool {
    state[api]
        .as_array()
        .is_some_and(|rows| rows.iter().any(|r| r[field] == name))
}

/// Starts `apiconform serve --port 0 ARGS` and reads its URI from the first stdout line.
fn spawn_serve(args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apiconform"))
        .args(["serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn apiconform serve");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("first line");
    let uri = first
        .trim()
        .strip_prefix("apiconform listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    (child, uri)
}

#[tokio::test]
async fn in_process_fake_renames_an_iam_user_over_a_socket() {
    let fake = Fake::start().await.expect("fake starts");
    let client = reqwest::Client::new();
    let (status, body) = iam_update(
        &client,
        &fake.uri(),
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewUserName=Robert",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<UpdateUserResponse"), "{body}");
    let s = state(&client, &fake.uri(), "aws-iam").await;
    assert!(has_user(&s, "aws-iam", "UserName", "Robert"), "{s}");
    assert!(!has_user(&s, "aws-iam", "UserName", "Bob"), "{s}");
    fake.stop().await;
}

#[tokio::test]
async fn control_plane_injects_a_fault_resets_state_and_keeps_a_journal() {
    let fake = Fake::start().await.expect("fake starts");
    let base = fake.uri();
    let client = reqwest::Client::new();

    let health: Value = client
        .get(format!("{base}/_apiconform/health"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("health JSON");
    assert_eq!(health["status"], "ok", "{health}");

    let r = client
        .post(format!("{base}/_apiconform/faults"))
        .json(&json!({"api": "aws-iam", "code": "ServiceFailure", "count": 1}))
        .send()
        .await
        .expect("faults");
    assert_eq!(r.status(), 200);
    let form = "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewPath=/x/";
    let (status, body) = iam_update(&client, &base, form).await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("<Code>ServiceFailure</Code>"), "{body}");
    assert!(body.contains("<Type>Receiver</Type>"), "{body}");
    // Only the next request fails.
    let (status, body) = iam_update(&client, &base, form).await;
    assert_eq!(status, 200, "{body}");

    let journal: Value = client
        .get(format!("{base}/_apiconform/journal"))
        .send()
        .await
        .expect("journal")
        .json()
        .await
        .expect("journal JSON");
    let entries = journal.as_array().expect("journal is a list");
    assert_eq!(entries.len(), 2, "{journal}");

    let (status, _) = iam_update(
        &client,
        &base,
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewUserName=Bobby",
    )
    .await;
    assert_eq!(status, 200);
    client
        .post(format!("{base}/_apiconform/reset"))
        .send()
        .await
        .expect("reset");
    let s = state(&client, &base, "aws-iam").await;
    assert!(has_user(&s, "aws-iam", "UserName", "Bob"), "{s}");
    assert!(!has_user(&s, "aws-iam", "UserName", "Bobby"), "{s}");

    let unknown = client
        .post(format!("{base}/_apiconform/faults"))
        .json(&json!({"api": "aws-iam", "code": "NoSuchRow"}))
        .send()
        .await
        .expect("faults");
    assert_eq!(unknown.status(), 404);
    fake.stop().await;
}

#[tokio::test]
async fn wiremock_mock_server_answers_with_the_fake() {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer};

    let server = MockServer::start().await;
    let engine = Fake::builder().api("aws-iam").engine().expect("engine");
    Mock::given(any())
        .respond_with(FakeResponder::new(engine))
        .mount(&server)
        .await;
    let client = reqwest::Client::new();
    let (status, body) = iam_update(
        &client,
        &server.uri(),
        "Action=UpdateUser&Version=2010-05-08&UserName=Nobody&NewPath=/x/",
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("<Code>NoSuchEntity</Code>"), "{body}");
    assert!(
        body.contains("The user with name Nobody cannot be found."),
        "{body}"
    );
}

#[tokio::test]
async fn https_with_a_certificate_made_at_start() {
    let fake = Fake::builder().tls().start().await.expect("fake starts");
    assert!(fake.uri().starts_with("https://"), "{}", fake.uri());
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let (status, body) = iam_update(
        &client,
        &fake.uri(),
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewPath=/tls/",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    fake.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413_and_the_server_carries_on() {
    let fake = Fake::builder()
        .options(ServerOptions {
            body_limit: 1024,
            ..ServerOptions::default()
        })
        .start()
        .await
        .expect("fake starts");
    let client = reqwest::Client::new();
    let big = format!(
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewPath=/{}/",
        "a".repeat(4096)
    );
    let resp = client
        .post(fake.uri())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 413);
    let (status, body) = iam_update(
        &client,
        &fake.uri(),
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewPath=/ok/",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    fake.stop().await;
}

#[tokio::test]
async fn concurrent_swaps_keep_names_unique_and_lose_nothing() {
    // `APICONFORM_STRESS_ROUNDS` (default 10) lengthens the run: the longer stress test of
    // docs/robustness.md. Clients beyond 8 with `APICONFORM_STRESS_CLIENTS`.
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (clients, rounds) = (
        env("APICONFORM_STRESS_CLIENTS", 8),
        env("APICONFORM_STRESS_ROUNDS", 10),
    );
    let fake = Fake::builder()
        .config(apiconform::fake::Config {
            journal_cap: clients * rounds + 10,
            ..Default::default()
        })
        .start()
        .await
        .expect("fake starts");
    let base = fake.uri();
    let client = reqwest::Client::new();
    let seed = json!({"api": "aws-iam", "resources":
        (0..clients).map(|i| json!({"UserName": format!("u{i}")})).collect::<Vec<_>>()});
    let r = client
        .post(format!("{base}/_apiconform/seed"))
        .json(&seed)
        .send()
        .await
        .expect("seed");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    fake.engine().clear_journal();
    let mut tasks = Vec::new();
    for i in 0..clients {
        let client = client.clone();
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            // Each client renames only its own user: to the shared name "hot" or its
            // case-variant "HOT" (IAM names are unique case-insensitively, so at most one
            // user holds either), and back. It knows its user's name from its own
            // successful answers, so nothing else may have moved it.
            let mine = format!("u{i}");
            let mut holds = mine.clone();
            let mut ok = 0;
            for round in 0..rounds {
                let to = if holds != mine {
                    mine.clone()
                } else if round % 4 == 2 {
                    "HOT".to_string()
                } else {
                    "hot".to_string()
                };
                let form = format!(
                    "Action=UpdateUser&Version=2010-05-08&UserName={holds}&NewUserName={to}"
                );
                let (status, body) = iam_update(&client, &base, &form).await;
                assert!(matches!(status, 200 | 409), "unexpected {status}: {body}");
                if status == 200 {
                    holds = to;
                    ok += 1;
                }
            }
            (mine, holds, ok)
        }));
    }
    let mut expected = Vec::new();
    let mut succeeded = 0;
    for t in tasks {
        let (_, holds, ok) = t.await.expect("task");
        expected.push(holds.to_lowercase());
        succeeded += ok;
    }
    let s = state(&client, &base, "aws-iam").await;
    let mut names: Vec<String> = s["aws-iam"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["UserName"].as_str().unwrap_or_default().to_lowercase())
        .collect();
    names.sort();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(unique, names, "duplicate names");
    // No update lost: every client's user is where its last successful answer put it,
    // and the fixtures are untouched.
    expected.extend(["alice".to_string(), "bob".to_string()]);
    expected.sort();
    assert_eq!(names, expected);
    // The journal agrees: as many successful UpdateUser entries as successes seen.
    let journal = fake.engine().journal();
    let ok_in_journal = journal
        .iter()
        .filter(|e| e.api.as_deref() == Some("aws-iam") && e.status == 200)
        .count();
    assert_eq!(ok_in_journal, succeeded, "journal and clients disagree");
    assert_eq!(
        journal.len(),
        clients * rounds,
        "a request went unjournaled"
    );
    assert!(
        journal.windows(2).all(|w| w[0].seq < w[1].seq),
        "journal out of arrival order"
    );
    fake.stop().await;
}

#[test]
fn serve_binary_prints_its_uri_answers_and_stops_on_sigterm() {
    let (mut child, uri) = spawn_serve(&[]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let health = rt.block_on(async {
        reqwest::get(format!("{uri}/_apiconform/health"))
            .await
            .expect("health")
            .status()
    });
    assert_eq!(health, 200);
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "serve exited with {status}");
}

/// `Bytes` is the engine's body type; a direct call needs no socket at all.
#[test]
fn engine_answers_without_any_socket() {
    let engine = Fake::builder()
        .api("aws-iam")
        .no_auth()
        .engine()
        .expect("engine");
    let req = http::Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from_static(
            b"Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewPath=/direct/",
        ))
        .expect("request");
    let resp = engine.handle(req);
    assert_eq!(resp.status(), 200);
}

#[test]
fn serve_reads_credentials_and_seed_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("creds.yaml");
    std::fs::write(
        &config,
        "credentials:\n  - {access_key: AKIDCUSTOM, secret_key: customSecret}\nlogins: []\n",
    )
    .expect("write config");
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, "aws-iam:\n  - {UserName: carol, Path: /team/}\n").expect("seed");
    let (mut child, uri) = spawn_serve(&[
        "--spec".as_ref(),
        "aws-iam".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
        "--seed".as_ref(),
        seed.as_os_str(),
    ]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::new();
        // The default key is gone...
        let (status, body) = iam_update(
            &client,
            &uri,
            "Action=UpdateUser&Version=2010-05-08&UserName=carol&NewPath=/x/",
        )
        .await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("InvalidClientTokenId"), "{body}");
        // ...and the configured one works on the seeded user.
        let url: reqwest::Url = uri.parse().expect("uri");
        let form = "Action=UpdateUser&Version=2010-05-08&UserName=carol&NewPath=%2Fx%2F";
        let (mut parts, ()) = http::Request::builder()
            .method("POST")
            .uri("/")
            .header("host", format!("127.0.0.1:{}", url.port().expect("port")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(())
            .expect("request")
            .into_parts();
        let custom = Credentials {
            access_key: "AKIDCUSTOM".into(),
            secret_key: "customSecret".into(),
            session_token: None,
        };
        sigv4::sign(
            &mut parts,
            form.as_bytes(),
            &custom,
            "eu-west-1",
            "iam",
            time::OffsetDateTime::now_utc(),
            &[],
        );
        let mut req = client.post(&uri).body(form);
        for (k, v) in &parts.headers {
            if k != "host" {
                req = req.header(k, v);
            }
        }
        let resp = req.send().await.expect("send");
        assert_eq!(
            resp.status(),
            200,
            "{}",
            resp.text().await.unwrap_or_default()
        );
        let s = state(&client, &uri, "aws-iam").await;
        assert!(has_user(&s, "aws-iam", "UserName", "carol"), "{s}");
    });
    let _ = child.kill();
    let _ = child.wait();
}

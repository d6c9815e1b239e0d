//! Hostile and malformed input, every protocol: each request gets a 4xx in the protocol's
//! own error format (never a panic, a 5xx, or a changed state). Driven through the engine
//! with auth off, so the bodies reach the decoders; signed variants are in fake_engine.rs.

use apiconform::fake::{Engine, Fake};
use apiconform::protocol::xml;
use bytes::Bytes;
use serde_json::Value;

fn engine() -> Engine {
    Fake::builder()
        .no_auth()
        .engine()
        .expect("embedded specs load")
}

const WORKDOCS_PATH: &str =
    "/api/v1/users/S-1-1-11-1111111111-2222222222-3333333333-3333%26d-90670b3d16";
const NIMBLE_PATH: &str = "/v1/users/1000000000000004d3000000000000000000000003";

fn req(method: &str, uri: &str, headers: &[(&str, &str)], body: Vec<u8>) -> http::Request<Bytes> {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Bytes::from(body)).expect("test request")
}

/// What an error body must look like in each protocol.
#[derive(Clone, Copy, Debug)]
enum Format {
    QueryXml,
    NexfsXml,
    AwsJson,
    RestJson,
    Nimble,
}

fn error_code(format: Format, resp: &http::Response<Bytes>) -> String {
    let text = String::from_utf8_lossy(resp.body()).into_owned();
    match format {
        Format::QueryXml => {
            let tree = xml::read(resp.body()).unwrap_or_else(|e| panic!("{e}: {text}"));
            tree["ErrorResponse"]["Error"]["Code"]
                .as_str()
                .unwrap_or_else(|| panic!("no <Code>: {text}"))
                .to_string()
        }
        Format::NexfsXml => {
            let tree = xml::read(resp.body()).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(tree["Error"]["Resource"], "/nexfsconsoleapi", "{text}");
            tree["Error"]["Code"]
                .as_str()
                .unwrap_or_else(|| panic!("no <Code>: {text}"))
                .to_string()
        }
        Format::AwsJson => {
            let v: Value =
                serde_json::from_slice(resp.body()).unwrap_or_else(|e| panic!("{e}: {text}"));
            v["__type"]
                .as_str()
                .unwrap_or_else(|| panic!("no __type: {text}"))
                .to_string()
        }
        Format::RestJson => resp
            .headers()
            .get("x-amzn-errortype")
            .unwrap_or_else(|| panic!("no x-amzn-ErrorType: {text}"))
            .to_str()
            .expect("ascii")
            .to_string(),
        Format::Nimble => {
            let v: Value =
                serde_json::from_slice(resp.body()).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(v["messages"][0]["severity"], "error", "{text}");
            v["messages"][0]["code"]
                .as_str()
                .unwrap_or_else(|| panic!("no code: {text}"))
                .to_string()
        }
    }
}

fn refused(e: &Engine, format: Format, r: http::Request<Bytes>, want: &[&str]) {
    let what = format!(
        "{} {} {:?}",
        r.method(),
        r.uri(),
        String::from_utf8_lossy(r.body())
            .chars()
            .take(80)
            .collect::<String>()
    );
    let before = e.state(None).expect("state");
    let resp = e.handle(r);
    assert!(
        resp.status().is_client_error(),
        "{what}: status {} {}",
        resp.status(),
        String::from_utf8_lossy(resp.body())
    );
    let code = error_code(format, &resp);
    assert!(
        want.contains(&code.as_str()),
        "{what}: code {code}, wanted one of {want:?}"
    );
    assert_eq!(
        e.state(None).expect("state"),
        before,
        "{what}: state changed"
    );
}

fn deep_json(depth: usize) -> Vec<u8> {
    let mut s = String::new();
    for _ in 0..depth {
        s.push_str("{\"a\":");
    }
    s.push('1');
    for _ in 0..depth {
        s.push('}');
    }
    s.into_bytes()
}

fn json_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "truncated",
            br#"{"ServerId": "s-01234567890abcdef", "UserName": "my_"#.to_vec(),
        ),
        ("not json", b"HomeDirectoryType: PATH".to_vec()),
        ("invalid utf-8", b"{\"UserName\": \"\xff\xfe\"}".to_vec()),
        ("array", b"[1, 2, 3]".to_vec()),
        ("string", b"\"hello\"".to_vec()),
        ("10 000 deep", deep_json(10_000)),
        ("huge number", br#"{"ServerId": 1e999999}"#.to_vec()),
        ("doc sample", br#"{"HomeDirectoryType:" "PATH"}"#.to_vec()),
    ]
}

#[test]
fn aws_json_malformed_bodies_are_serialization_exceptions() {
    let e = engine();
    for (name, body) in json_bodies() {
        let r = req(
            "POST",
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "TransferService.UpdateUser"),
            ],
            body,
        );
        eprintln!("aws-json: {name}");
        refused(&e, Format::AwsJson, r, &["SerializationException"]);
    }
    // Wrong JSON types and out-of-range numbers.
    for body in [
        r#"{"ServerId": 5, "UserName": "my_user"}"#,
        r#"{"ServerId": "s-01234567890abcdef", "UserName": "my_user", "PosixProfile": {"Uid": 99999999999999999999, "Gid": 1}}"#,
        r#"{"ServerId": "s-01234567890abcdef", "UserName": "my_user", "HomeDirectoryMappings": {"Entry": "/"}}"#,
    ] {
        let r = req(
            "POST",
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "TransferService.UpdateUser"),
            ],
            body.as_bytes().to_vec(),
        );
        refused(
            &e,
            Format::AwsJson,
            r,
            &["SerializationException", "ValidationException"],
        );
    }
    // An unknown operation of the same service.
    let r = req(
        "POST",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TransferService.DeleteEverything"),
        ],
        b"{}".to_vec(),
    );
    refused(&e, Format::AwsJson, r, &["UnknownOperationException"]);
}

#[test]
fn rest_json_malformed_bodies_and_paths() {
    let e = engine();
    for (name, body) in json_bodies() {
        let r = req(
            "PATCH",
            WORKDOCS_PATH,
            &[("content-type", "application/json")],
            body,
        );
        eprintln!("rest-json: {name}");
        refused(&e, Format::RestJson, r, &["SerializationException"]);
    }
    // Invalid percent-encoding and non-UTF-8 in the label.
    for path in ["/api/v1/users/%ZZ", "/api/v1/users/%FF%FE"] {
        let r = req(
            "PATCH",
            path,
            &[("content-type", "application/json")],
            b"{}".to_vec(),
        );
        refused(
            &e,
            Format::RestJson,
            r,
            &["SerializationException", "InvalidArgumentException"],
        );
    }
    // A label far beyond its 256 characters.
    let long = format!("/api/v1/users/{}", "a".repeat(5000));
    let r = req(
        "PATCH",
        &long,
        &[("content-type", "application/json")],
        b"{}".to_vec(),
    );
    refused(&e, Format::RestJson, r, &["InvalidArgumentException"]);
    // A method no operation serves on the operation's path (PATCH updates, DELETE
    // deletes).
    let r = req("PUT", WORKDOCS_PATH, &[], Vec::new());
    refused(&e, Format::RestJson, r, &["UnknownOperationException"]);
}

#[test]
fn nimble_malformed_bodies_unknown_members_and_wrong_types() {
    let e = engine();
    let h = [("content-type", "application/json")];
    for (name, body) in json_bodies() {
        eprintln!("nimble: {name}");
        refused(
            &e,
            Format::Nimble,
            req("PUT", NIMBLE_PATH, &h, body),
            &["SM_http_bad_request"],
        );
    }
    for (body, want) in [
        (r#"{"data": "name"}"#, "SM_http_bad_request"),
        (r#"{"name": "x"}"#, "SM_http_bad_request"),
        (r#"{"data": {"colour": "blue"}}"#, "SM_unexpected_arg"),
        (r#"{"data": {"disabled": "yes"}}"#, "SM_invalid_arg_value"),
        (
            r#"{"data": {"inactivity_timeout": -1}}"#,
            "SM_invalid_arg_value",
        ),
        (
            r#"{"data": {"inactivity_timeout": 18446744073709551616}}"#,
            "SM_invalid_arg_value",
        ),
        (r#"{"data": {"name": "1abc"}}"#, "SM_invalid_arg_value"),
        (
            r#"{"data": {"password": "has&amp"}}"#,
            "SM_invalid_arg_value",
        ),
    ] {
        refused(
            &e,
            Format::Nimble,
            req("PUT", NIMBLE_PATH, &h, body.as_bytes().to_vec()),
            &[want],
        );
    }
    let r = req("PUT", "/v1/users/not-hex", &h, br#"{"data": {}}"#.to_vec());
    refused(&e, Format::Nimble, r, &["SM_invalid_arg_value"]);
    let r = req("POST", NIMBLE_PATH, &h, br#"{"data": {}}"#.to_vec());
    refused(&e, Format::Nimble, r, &["SM_http_method_not_allowed"]);
    // A garbage login body is a failed login, not a crash.
    let r = req("POST", "/v1/tokens", &h, b"\x00\x01garbage".to_vec());
    refused(&e, Format::Nimble, r, &["SM_http_unauthorized"]);
}

#[test]
fn query_protocols_malformed_forms() {
    let e = engine();
    let form = [("content-type", "application/x-www-form-urlencoded")];
    for body in [
        b"Action=UpdateUser&Version=2010-05-08&UserName=%ZZ".to_vec(),
        b"Action=UpdateUser&Version=2010-05-08&UserName=\xff\xfe".to_vec(),
        b"Action=UpdateUser&Version=2010-05-08&UserName=Bob&UserName=Alice&NewUserName=".to_vec(),
        b"Action=UpdateUser&Version=2010-05-08&&&==&NewPath=no-slashes&UserName=Bob".to_vec(),
        format!(
            "Action=UpdateUser&Version=2010-05-08&UserName={}",
            "B".repeat(100_000)
        )
        .into_bytes(),
    ] {
        refused(
            &e,
            Format::QueryXml,
            req("POST", "/", &form, body),
            &["ValidationError", "MalformedQueryString"],
        );
    }
    let r = req(
        "POST",
        "/",
        &form,
        b"Action=DeleteGroup&Version=2010-05-08&GroupName=Admins".to_vec(),
    );
    refused(&e, Format::QueryXml, r, &["InvalidAction"]);
    // Nexfs: parameters in the query string.
    for uri in [
        "/nexfsconsoleapi?Action=UpdateUser&UserId=ExampleUser&NewSecretHash=xyz",
        "/nexfsconsoleapi?Action=UpdateUser&UserId=ExampleUser&Description=%7Bnot-json",
        "/nexfsconsoleapi?Action=UpdateUser&UserId=ExampleUser&Description=%5B1%2C2%5D",
        "/nexfsconsoleapi?Action=UpdateUser&UserId=ExampleUser&UserPOSIXUID=-5",
        "/nexfsconsoleapi?Action=UpdateUser&UserId=ExampleUser&UserPOSIXUID=abc",
        "/nexfsconsoleapi?Action=UpdateUser&UserName=x",
    ] {
        refused(
            &e,
            Format::NexfsXml,
            req("GET", uri, &[], Vec::new()),
            &["BadRequest"],
        );
    }
}

#[test]
fn requests_for_no_api_get_a_clear_404() {
    let e = engine();
    for (m, uri) in [
        ("GET", "/nothing/here"),
        ("POST", "/api/v2/users/x"),
        ("GET", "/"),
    ] {
        let resp = e.handle(req(m, uri, &[], Vec::new()));
        assert!(
            resp.status().is_client_error(),
            "{m} {uri}: {}",
            resp.status()
        );
        assert!(!resp.body().is_empty(), "{m} {uri}: empty body");
    }
}

mod limits {
    //! The server's limits over a raw socket: each answers cleanly and the server goes on.

    use std::time::Duration;

    use apiconform::fake::{Fake, ServerOptions};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn fake() -> Fake {
        Fake::builder()
            .options(ServerOptions {
                body_limit: 4096,
                max_header_bytes: 8192,
                header_timeout: Duration::from_millis(300),
                body_timeout: Duration::from_millis(300),
                ..ServerOptions::default()
            })
            .start()
            .await
            .expect("fake starts")
    }

    async fn connect(fake: &Fake) -> TcpStream {
        TcpStream::connect(fake.uri().trim_start_matches("http://"))
            .await
            .expect("connect")
    }

    /// Reads until the server closes or 5 s pass; returns what came.
    async fn read_all(s: &mut TcpStream) -> String {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    async fn healthy(fake: &Fake) {
        let resp = reqwest::get(format!("{}/_apiconform/health", fake.uri()))
            .await
            .expect("health");
        assert_eq!(resp.status(), 200);
    }

    #[tokio::test]
    async fn a_stalled_body_gets_408() {
        let fake = fake().await;
        let mut s = connect(&fake).await;
        s.write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nAction=Upd",
        )
        .await
        .expect("write");
        let answer = read_all(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        healthy(&fake).await;
    }

    #[tokio::test]
    async fn a_huge_request_head_gets_431() {
        let fake = fake().await;
        let mut s = connect(&fake).await;
        let head = format!(
            "GET /_apiconform/health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(64 * 1024)
        );
        let _ = s.write_all(head.as_bytes()).await;
        let answer = read_all(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
        healthy(&fake).await;
    }

    #[tokio::test]
    async fn a_stalled_head_is_closed() {
        let fake = fake().await;
        let mut s = connect(&fake).await;
        s.write_all(b"GET /_apiconform/health HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        let started = std::time::Instant::now();
        let answer = read_all(&mut s).await;
        assert!(started.elapsed() < Duration::from_secs(4), "not closed");
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
        healthy(&fake).await;
    }

    #[tokio::test]
    async fn many_idle_connections_do_not_starve_others() {
        let fake = fake().await;
        let mut idle = Vec::new();
        for _ in 0..200 {
            idle.push(connect(&fake).await);
        }
        healthy(&fake).await;
        drop(idle);
    }
}

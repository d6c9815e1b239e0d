//! The fake's engine, driven directly (no socket): routing, validation, state, errors in
//! each protocol's format, auth and the control plane, against the embedded specs.

use apiconform::auth::sigv4::{self, Credentials};
use apiconform::auth::{DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, DEFAULT_SESSION_TOKEN};
use apiconform::fake::{Config, Engine, Fake};
use apiconform::protocol::xml;
use bytes::Bytes;
use serde_json::{json, Value};

fn engine() -> Engine {
    Fake::builder().engine().expect("embedded specs load")
}

fn creds() -> Credentials {
    Credentials {
        access_key: DEFAULT_ACCESS_KEY.into(),
        secret_key: DEFAULT_SECRET_KEY.into(),
        session_token: None,
    }
}

/// A request signed as botocore signs it.
fn signed(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
    service: &str,
    creds: &Credentials,
) -> http::Request<Bytes> {
    let mut b = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:4580");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let (mut parts, ()) = b.body(()).unwrap().into_parts();
    let also: Vec<&str> = headers
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| k.eq_ignore_ascii_case("authentication"))
        .collect();
    sigv4::sign(
        &mut parts,
        body.as_bytes(),
        creds,
        "us-east-1",
        service,
        time::OffsetDateTime::now_utc(),
        &also,
    );
    http::Request::from_parts(parts, Bytes::from(body.to_string()))
}

fn iam(body: &str) -> http::Request<Bytes> {
    signed(
        "POST",
        "/",
        &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        body,
        "iam",
        &creds(),
    )
}

fn transfer(body: Value) -> http::Request<Bytes> {
    signed(
        "POST",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TransferService.UpdateUser"),
        ],
        &body.to_string(),
        "transfer",
        &creds(),
    )
}

fn xml_body(resp: &http::Response<Bytes>) -> Value {
    xml::read(resp.body())
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(resp.body())))
}

/// Asserts a 200 answer (`what` and the body name a failure); gives its XML body.
fn ok_xml(resp: &http::Response<Bytes>, what: &str) -> Value {
    assert_ok(resp, what);
    xml_body(resp)
}

fn assert_ok(resp: &http::Response<Bytes>, what: &str) {
    assert_eq!(
        resp.status(),
        200,
        "{what}: {}",
        String::from_utf8_lossy(resp.body())
    );
}

fn json_body(resp: &http::Response<Bytes>) -> Value {
    serde_json::from_slice(resp.body())
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(resp.body())))
}

fn iam_user(e: &Engine, name: &str) -> Option<Value> {
    let state = e.state(Some("aws-iam")).unwrap();
    state["aws-iam"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["UserName"] == name)
        .cloned()
}

#[test]
fn iam_rename_answers_response_metadata_and_moves_the_user() {
    let e = engine();
    let resp = e.handle(iam(
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewUserName=Robert",
    ));
    let body = ok_xml(&resp, "");
    let rid = &body["UpdateUserResponse"]["ResponseMetadata"]["RequestId"];
    assert!(rid.as_str().is_some_and(|s| s.len() == 36), "{body}");
    assert_eq!(
        body["UpdateUserResponse"]["@xmlns"],
        "https://iam.amazonaws.com/doc/2010-05-08/"
    );
    assert!(iam_user(&e, "Bob").is_none());
    let robert = iam_user(&e, "Robert").expect("renamed");
    assert!(
        robert["Arn"]
            .as_str()
            .unwrap()
            .ends_with("/division_abc/subdivision_xyz/Robert"),
        "{robert}"
    );
}

#[test]
fn iam_rename_onto_a_name_differing_only_in_case_is_entity_already_exists() {
    let e = engine();
    let resp = e.handle(iam(
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewUserName=ALICE",
    ));
    assert_eq!(resp.status(), 409);
    let body = xml_body(&resp);
    assert_eq!(
        body["ErrorResponse"]["Error"]["Code"],
        "EntityAlreadyExists"
    );
    assert_eq!(body["ErrorResponse"]["Error"]["Type"], "Sender");
    assert!(iam_user(&e, "Bob").is_some(), "state unchanged");
}

#[test]
fn iam_unknown_user_is_no_such_entity() {
    let e = engine();
    let resp = e.handle(iam(
        "Action=UpdateUser&Version=2010-05-08&UserName=nobody&NewPath=%2F",
    ));
    assert_eq!(resp.status(), 404);
    let body = xml_body(&resp);
    assert_eq!(body["ErrorResponse"]["Error"]["Code"], "NoSuchEntity");
    assert!(body["ErrorResponse"]["Error"]["Message"]
        .as_str()
        .unwrap()
        .contains("nobody"));
}

#[test]
fn iam_validation_error_is_worded_like_aws() {
    let e = engine();
    let long = "a".repeat(65);
    let resp = e.handle(iam(&format!(
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewUserName={long}"
    )));
    assert_eq!(resp.status(), 400);
    let body = xml_body(&resp);
    assert_eq!(body["ErrorResponse"]["Error"]["Code"], "ValidationError");
    assert_eq!(
        body["ErrorResponse"]["Error"]["Message"],
        format!("1 validation error detected: Value '{long}' at 'newUserName' failed to satisfy constraint: Member must have length less than or equal to 64")
    );
    // Missing required parameter.
    let resp = e.handle(iam("Action=UpdateUser&Version=2010-05-08"));
    let body = xml_body(&resp);
    assert_eq!(
        body["ErrorResponse"]["Error"]["Message"],
        "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"
    );
    // Non-ASCII letters do not match \w.
    let resp = e.handle(iam(
        "Action=UpdateUser&Version=2010-05-08&UserName=B%C3%A9b",
    ));
    assert_eq!(resp.status(), 400);
}

#[test]
fn iam_unknown_action_is_invalid_action() {
    let e = engine();
    let resp = e.handle(iam("Action=DeleteEverything&Version=2010-05-08"));
    assert_eq!(resp.status(), 400);
    assert_eq!(
        xml_body(&resp)["ErrorResponse"]["Error"]["Code"],
        "InvalidAction"
    );
}

#[test]
fn tampered_and_unsigned_requests_are_refused() {
    let e = engine();
    let mut req = iam("Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewUserName=Robert");
    *req.body_mut() =
        Bytes::from("Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewUserName=Mallory");
    let resp = e.handle(req);
    assert_eq!(resp.status(), 403);
    assert_eq!(
        xml_body(&resp)["ErrorResponse"]["Error"]["Code"],
        "SignatureDoesNotMatch"
    );

    let unsigned = http::Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(
            "Action=UpdateUser&Version=2010-05-08&UserName=Bob",
        ))
        .unwrap();
    let resp = e.handle(unsigned);
    assert_eq!(resp.status(), 403);
    assert_eq!(
        xml_body(&resp)["ErrorResponse"]["Error"]["Code"],
        "MissingAuthenticationToken"
    );

    let stranger = Credentials {
        access_key: "AKIDUNKNOWN".into(),
        ..creds()
    };
    let req = signed(
        "POST",
        "/",
        &[("content-type", "application/x-www-form-urlencoded")],
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob",
        "iam",
        &stranger,
    );
    assert_eq!(
        xml_body(&e.handle(req))["ErrorResponse"]["Error"]["Code"],
        "InvalidClientTokenId"
    );
    assert!(iam_user(&e, "Bob").is_some(), "nothing changed");
}

#[test]
fn transfer_update_returns_ids_and_enforces_the_logical_rule() {
    let e = engine();
    let ok = e.handle(transfer(json!({
        "ServerId": "s-01234567890abcdef", "UserName": "my_user",
        "HomeDirectoryType": "LOGICAL",
        "HomeDirectoryMappings": [{"Entry": "/", "Target": "/bucket/home"}],
        "PosixProfile": {"Uid": 1000, "Gid": 1000, "SecondaryGids": [10]}
    })));
    assert_eq!(ok.status(), 200, "{}", String::from_utf8_lossy(ok.body()));
    assert_eq!(
        json_body(&ok),
        json!({"ServerId": "s-01234567890abcdef", "UserName": "my_user"})
    );

    let e = engine();
    let bad = e.handle(transfer(json!({
        "ServerId": "s-01234567890abcdef", "UserName": "my_user",
        "HomeDirectoryType": "PATH",
        "HomeDirectoryMappings": [{"Entry": "/", "Target": "/bucket/home"}]
    })));
    assert_eq!(bad.status(), 400);
    assert_eq!(json_body(&bad)["__type"], "InvalidRequestException");
}

#[test]
fn transfer_errors_use_the_json_error_shape() {
    let e = engine();
    let missing = e.handle(transfer(
        json!({"ServerId": "s-01234567890abcdef", "UserName": "nobody"}),
    ));
    let body = json_body(&missing);
    assert_eq!(body["__type"], "ResourceNotFoundException");
    assert_eq!(body["Resource"], "nobody", "{body}");
    assert_eq!(body["ResourceType"], "User", "{body}");
    // An unknown server is the missing resource, whichever user is named.
    for user in ["my_user", "nobody"] {
        let resp = e.handle(transfer(
            json!({"ServerId": "s-11112222333344444", "UserName": user}),
        ));
        assert_eq!(resp.status(), 404);
        assert_eq!(
            json_body(&resp),
            json!({
                "__type": "ResourceNotFoundException",
                "Message": "Unknown server",
                "Resource": "s-11112222333344444",
                "ResourceType": "Server"
            })
        );
    }
    // Seeding a user on a new server brings the server into being.
    e.seed(
        "aws-transfer",
        vec![
            json!({"ServerId": "s-11112222333344444", "UserName": "new_user"})
                .as_object()
                .cloned()
                .unwrap(),
        ],
    )
    .unwrap();
    let resp = e.handle(transfer(
        json!({"ServerId": "s-11112222333344444", "UserName": "nobody"}),
    ));
    assert_eq!(json_body(&resp)["ResourceType"], "User");

    let invalid = e.handle(transfer(json!({"ServerId": "s-1", "UserName": "my_user"})));
    let body = json_body(&invalid);
    assert_eq!(body["__type"], "ValidationException");
    assert!(
        body["Message"].as_str().unwrap().contains("at 'serverId'"),
        "{body}"
    );

    let mut req = transfer(json!({}));
    *req.body_mut() = Bytes::from_static(b"{\"ServerId\": ");
    // Body changed after signing: re-sign the broken body.
    let req2 = signed(
        "POST",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TransferService.UpdateUser"),
        ],
        "{\"ServerId\": ",
        "transfer",
        &creds(),
    );
    drop(req);
    let resp = e.handle(req2);
    assert_eq!(resp.status(), 400);
    assert_eq!(json_body(&resp)["__type"], "SerializationException");
}

/// A Nexfs console API request as botocore signs it (scope `nexfs/nexfsconsoleapi`, with
/// the session token).
fn nexfs(uri: &str) -> http::Request<Bytes> {
    let (mut parts, ()) = http::Request::builder()
        .method("GET")
        .uri(uri)
        .header("host", "127.0.0.1:4580")
        .body(())
        .unwrap()
        .into_parts();
    let creds = Credentials {
        session_token: Some(DEFAULT_SESSION_TOKEN.into()),
        ..creds()
    };
    sigv4::sign(
        &mut parts,
        b"",
        &creds,
        "nexfs",
        "nexfsconsoleapi",
        time::OffsetDateTime::now_utc(),
        &[],
    );
    http::Request::from_parts(parts, Bytes::new())
}

#[test]
fn nexfs_is_served_at_the_console_api_path_and_still_at_the_root() {
    let e = engine();
    for (uri, name) in [
        (
            "/nexfsconsoleapi?Action=UpdateUser&UserId=ExampleUser&UserName=A",
            "A",
        ),
        ("/?Action=UpdateUser&UserId=ExampleUser&UserName=B", "B"),
    ] {
        let resp = e.handle(nexfs(uri));
        let body = ok_xml(&resp, uri);
        assert_eq!(
            body["RequestCompleted"]["Resource"], "/nexfsconsoleapi",
            "{uri}"
        );
        let user = &body["RequestCompleted"]["UpdateUserResponse"]["UpdateUserResult"]["User"];
        assert_eq!(user["UserName"], name, "{uri}");
        assert_eq!(e.journal().last().unwrap().api.as_deref(), Some("nexfs"));
    }
    // Errors name the console API's path, wherever the request came in.
    for uri in [
        "/nexfsconsoleapi?Action=UpdateUser&UserId=Nobody",
        "/?Action=UpdateUser&UserId=Nobody",
    ] {
        let resp = e.handle(nexfs(uri));
        assert_eq!(resp.status(), 409, "{uri}");
        let body = xml_body(&resp);
        assert_eq!(body["Error"]["Code"], "NoSuchEntity", "{uri}");
        assert_eq!(body["Error"]["Resource"], "/nexfsconsoleapi", "{uri}");
    }
    // An action no spec serves at the console API's path (ChangePassword is documented
    // but not encoded): its own InvalidAction.
    let resp = e.handle(nexfs(
        "/nexfsconsoleapi?Action=ChangePassword&NewSecretHash=00",
    ));
    assert_eq!(resp.status(), 400);
    assert_eq!(xml_body(&resp)["Error"]["Code"], "InvalidAction");
    // `/nexfsconsoleapi` is Nexfs's alone: an unsigned request with an IAM `Version` there
    // is refused by Nexfs (401), not taken for IAM; at `/` the same request is IAM's.
    let unsigned = |uri: &str| {
        http::Request::builder()
            .method("GET")
            .uri(uri)
            .body(Bytes::new())
            .unwrap()
    };
    let resp = e.handle(unsigned(
        "/nexfsconsoleapi?Action=UpdateUser&Version=2010-05-08&UserId=ExampleUser",
    ));
    assert_eq!(resp.status(), 401);
    assert_eq!(xml_body(&resp)["Error"]["Code"], "Unauthorized");
    let resp = e.handle(unsigned(
        "/?Action=UpdateUser&Version=2010-05-08&UserName=Bob",
    ));
    assert_eq!(resp.status(), 403);
    assert_eq!(
        xml_body(&resp)["ErrorResponse"]["Error"]["Code"],
        "MissingAuthenticationToken"
    );
    // IAM's own signed requests at `/` stay IAM's.
    let resp = e.handle(iam(
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewPath=%2Fx%2F",
    ));
    assert_ok(&resp, "");
    assert_eq!(e.journal().last().unwrap().api.as_deref(), Some("aws-iam"));
}

#[test]
fn faults_answer_the_next_n_requests_then_stop() {
    let e = engine();
    e.fail_next("aws-iam", "ServiceFailure", 2).unwrap();
    for _ in 0..2 {
        let resp = e.handle(iam(
            "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewPath=%2F",
        ));
        assert_eq!(resp.status(), 500);
        let body = xml_body(&resp);
        assert_eq!(body["ErrorResponse"]["Error"]["Code"], "ServiceFailure");
        assert_eq!(body["ErrorResponse"]["Error"]["Type"], "Receiver");
    }
    let resp = e.handle(iam(
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewPath=%2F",
    ));
    assert_eq!(resp.status(), 200);
    assert!(e.fail_next("aws-iam", "NotARow", 1).is_err());
    assert!(e.fail_next("nope", "ServiceFailure", 1).is_err());
}

#[test]
fn every_row_of_every_error_table_can_be_injected() {
    let e = engine();
    let rows: Vec<(String, String, u16)> = e
        .specs()
        .flat_map(|s| {
            s.errors
                .iter()
                .map(move |r| (s.api.id.clone(), r.code.clone(), r.status))
        })
        .collect();
    assert!(rows.len() >= 30, "five tables: {}", rows.len());
    for (api, code, status) in rows {
        e.fail_next(&api, &code, 1).unwrap();
        let req = example_request(&e, &api);
        let resp = e.handle(req);
        assert_eq!(
            resp.status(),
            status,
            "{api} {code}: {}",
            String::from_utf8_lossy(resp.body())
        );
        let journal = e.journal();
        assert_eq!(
            journal.last().unwrap().error_code.as_deref(),
            Some(code.as_str()),
            "{api}"
        );
    }
}

/// Any request routed to `api` (faults are taken before auth and decoding).
fn example_request(_e: &Engine, api: &str) -> http::Request<Bytes> {
    let b = http::Request::builder();
    let b = match api {
        "aws-iam" => b
            .method("POST")
            .uri("/?Action=UpdateUser&Version=2010-05-08"),
        "aws-iam-create-user"
        | "aws-iam-get-user"
        | "aws-iam-list-users"
        | "aws-iam-delete-user" => {
            let action = match api {
                "aws-iam-create-user" => "CreateUser",
                "aws-iam-get-user" => "GetUser",
                "aws-iam-list-users" => "ListUsers",
                _ => "DeleteUser",
            };
            b.method("POST")
                .uri(format!("/?Action={action}&Version=2010-05-08"))
        }
        "aws-transfer-create-user"
        | "aws-transfer-describe-user"
        | "aws-transfer-list-users"
        | "aws-transfer-delete-user" => {
            let op = match api {
                "aws-transfer-create-user" => "CreateUser",
                "aws-transfer-describe-user" => "DescribeUser",
                "aws-transfer-list-users" => "ListUsers",
                _ => "DeleteUser",
            };
            b.method("POST")
                .uri("/")
                .header("x-amz-target", format!("TransferService.{op}"))
        }
        "nexfs" | "nexfs-create-user" | "nexfs-get-user" | "nexfs-list-users"
        | "nexfs-delete-user" => {
            let action = match api {
                "nexfs-create-user" => "CreateUser",
                "nexfs-get-user" => "GetUser",
                "nexfs-list-users" => "ListUsers",
                "nexfs-delete-user" => "DeleteUser",
                _ => "UpdateUser",
            };
            b.method("GET")
                .uri(format!("/nexfsconsoleapi?Action={action}"))
                .header(
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/nexfs/nexfsconsoleapi/aws4_request",
                )
        }
        "aws-transfer" => b
            .method("POST")
            .uri("/")
            .header("x-amz-target", "TransferService.UpdateUser"),
        "aws-workdocs" => b.method("PATCH").uri("/api/v1/users/u1"),
        "aws-workdocs-create-user" => b.method("POST").uri("/api/v1/users"),
        "aws-workdocs-describe-users" => b.method("GET").uri("/api/v1/users"),
        "aws-workdocs-delete-user" => b.method("DELETE").uri("/api/v1/users/u1"),
        "hpe-nimble" => b
            .method("PUT")
            .uri("/v1/users/1000000000000004d3000000000000000000000003"),
        "hpe-nimble-create-user" => b.method("POST").uri("/v1/users"),
        "hpe-nimble-get-user" => b
            .method("GET")
            .uri("/v1/users/1000000000000004d3000000000000000000000003"),
        "hpe-nimble-list-users" => b.method("GET").uri("/v1/users"),
        "hpe-nimble-list-users-detail" => b.method("GET").uri("/v1/users/detail"),
        "hpe-nimble-delete-user" => b
            .method("DELETE")
            .uri("/v1/users/1000000000000004d3000000000000000000000003"),
        other => panic!("unknown api {other}"),
    };
    b.body(Bytes::new()).unwrap()
}

#[test]
fn reset_restores_fixtures_and_clears_journal() {
    let e = engine();
    e.handle(iam(
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewUserName=Robert",
    ));
    assert!(!e.journal().is_empty());
    e.reset();
    assert!(iam_user(&e, "Bob").is_some());
    assert!(e.journal().is_empty());
}

#[test]
fn a_json_seed_is_stored_as_read_and_kept_as_fixtures() {
    let e = engine();
    let doc = br#"{
        "aws-iam": [{"UserName": "carol", "Path": "/team/"}, {"UserName": "dave"}],
        "aws-transfer": [{"ServerId": "s-11112222333344444", "UserName": "erin"}]
    }"#;
    assert_eq!(e.seed_fixtures_json(doc).unwrap(), 3);
    let carol = iam_user(&e, "carol").expect("seeded");
    assert_eq!(carol["Arn"], "arn:aws:iam::123456789012:user/team/carol");
    assert_eq!(iam_user(&e, "dave").expect("seeded")["Path"], "/");
    // A reset brings the seeded users back as they were.
    let resp = e.handle(iam(
        "Action=UpdateUser&Version=2010-05-08&UserName=carol&NewPath=%2Fmoved%2F",
    ));
    assert_eq!(resp.status(), 200);
    assert_eq!(iam_user(&e, "carol").unwrap()["Path"], "/moved/");
    e.reset();
    assert_eq!(iam_user(&e, "carol").unwrap()["Path"], "/team/");
    assert!(
        iam_user(&e, "Bob").is_some(),
        "the spec's own fixtures stay"
    );

    // Refusals name the place in the document.
    let refusal = |doc: &[u8]| e.seed_fixtures_json(doc).unwrap_err().to_string();
    let msg = refusal(
        br#"{"aws-iam": [{"UserName": "x"},
        {"UserName": "y", "Colour": "red"}]}"#,
    );
    assert!(
        msg.contains("'Colour' is not a field of user") && msg.contains("line 2"),
        "{msg}"
    );
    for (doc, says) in [
        (&br#"{"aws-nope": []}"#[..], "no API 'aws-nope'"),
        (br#"{"aws-iam": [{}]}"#, "key field 'UserName' is missing"),
        (br#"{"aws-iam": []} x"#, "trailing characters"),
        (br#"["aws-iam"]"#, "an object of API ids"),
    ] {
        let msg = refusal(doc);
        assert!(msg.contains(says), "{msg}");
    }
}

#[test]
fn routing_among_more_specs_than_its_bits_still_breaks_ties_by_the_signature() {
    // 130 other specs first: IAM and Nexfs (both `Action=UpdateUser` at `/`) sit beyond
    // the 128 positions routing keeps as bits, so the tie is broken by asking again.
    let specs = apiconform::spec::embedded().expect("embedded specs");
    let filler = specs
        .iter()
        .find(|s| s.api.id == "aws-workdocs")
        .expect("workdocs")
        .clone();
    let mut all: Vec<_> = (0..130)
        .map(|i| {
            let mut s = filler.clone();
            s.api.id = format!("filler-{i}");
            s
        })
        .collect();
    all.extend(specs);
    let e = Engine::new(all, Config::default());
    let resp = e.handle(iam(
        "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewPath=%2Fbeyond%2F",
    ));
    let body = ok_xml(&resp, "");
    assert_eq!(
        body["UpdateUserResponse"]["@xmlns"],
        "https://iam.amazonaws.com/doc/2010-05-08/"
    );
    assert_eq!(iam_user(&e, "Bob").unwrap()["Path"], "/beyond/");
}

#[test]
fn the_journal_is_bounded() {
    let config = Config {
        journal_cap: 5,
        ..Config::default()
    };
    let e = Fake::builder().config(config).engine().unwrap();
    for _ in 0..20 {
        e.handle(iam(
            "Action=UpdateUser&Version=2010-05-08&UserName=Bob&NewPath=%2F",
        ));
    }
    let j = e.journal();
    assert_eq!(j.len(), 5);
    assert_eq!(j.last().unwrap().seq, 20);
}

#[test]
fn control_plane_speaks_json() {
    let e = engine();
    let get = |path: &str| e.handle(http::Request::get(path).body(Bytes::new()).unwrap());
    let health = json_body(&get("/_apiconform/health"));
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["apis"].as_array().unwrap().len(),
        apiconform::spec::EMBEDDED.len()
    );
    let post = |path: &str, body: Value| {
        e.handle(
            http::Request::post(path)
                .body(Bytes::from(body.to_string()))
                .unwrap(),
        )
    };
    assert_eq!(
        post(
            "/_apiconform/faults",
            json!({"api": "aws-iam", "code": "LimitExceeded", "count": 1})
        )
        .status(),
        200
    );
    assert_eq!(
        json_body(&get("/_apiconform/faults"))[0]["code"],
        "LimitExceeded"
    );
    assert_eq!(
        post(
            "/_apiconform/faults",
            json!({"api": "aws-iam", "code": "Nope"})
        )
        .status(),
        404
    );
    assert_eq!(
        post(
            "/_apiconform/seed",
            json!({"api": "aws-iam", "resources": [{"UserName": "carol"}]})
        )
        .status(),
        200
    );
    let state = json_body(&get("/_apiconform/state?api=aws-iam"));
    let carol = state["aws-iam"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["UserName"] == "carol")
        .unwrap()
        .clone();
    assert!(carol["UserId"].as_str().unwrap().starts_with("AIDA"));
    assert_eq!(
        post(
            "/_apiconform/seed",
            json!({"api": "aws-iam", "resources": [{"Bogus": 1}]})
        )
        .status(),
        400
    );
    assert_eq!(
        e.handle(
            http::Request::post("/_apiconform/seed")
                .body(Bytes::from_static(b"{"))
                .unwrap()
        )
        .status(),
        400
    );
    assert_eq!(get("/_apiconform/nothing").status(), 404);
}

#[test]
fn an_update_stamps_the_time_the_journal_gives_its_request() {
    let e = engine();
    let path = "/api/v1/users/S-1-1-11-1111111111-2222222222-3333333333-3333%26d-90670b3d16";
    let resp = e.handle(signed(
        "PATCH",
        path,
        &[("content-type", "application/json")],
        r#"{"GivenName": "Stamped"}"#,
        "workdocs",
        &creds(),
    ));
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    let user = &json_body(&resp)["User"];
    assert_eq!(user["GivenName"], "Stamped");
    let journal = e.journal();
    let entry = journal.last().expect("the request is in the journal");
    assert_eq!(entry.path, path);
    let at =
        time::OffsetDateTime::parse(&entry.time, &time::format_description::well_known::Rfc3339)
            .expect("an RFC 3339 time");
    // Stored to the second: the journal's time, its fraction dropped.
    assert_eq!(user["ModifiedTimestamp"], json!(at.unix_timestamp()));
}

#[test]
fn a_spec_changed_after_loading_answers_by_its_fields_as_they_are() {
    // WorkDocs's `GivenName` and `Surname` swapped after the loader compiled the answer
    // template for the fields in their first order: the engine answers by the order the
    // spec has when it is given, as it answers for the spec unchanged.
    let mut specs = apiconform::spec::embedded().expect("embedded specs");
    let workdocs = specs
        .iter_mut()
        .find(|s| s.api.id == "aws-workdocs")
        .expect("workdocs");
    let at = |name: &str| {
        workdocs
            .resource
            .fields
            .iter()
            .position(|f| f.name == name)
            .expect(name)
    };
    let (given, surname) = (at("GivenName"), at("Surname"));
    workdocs.resource.fields.swap(given, surname);
    let update = |e: &Engine| {
        let resp = e.handle(signed(
            "PATCH",
            "/api/v1/users/S-1-1-11-1111111111-2222222222-3333333333-3333%26d-90670b3d16",
            &[("content-type", "application/json")],
            r#"{"GivenName": "Swapped"}"#,
            "workdocs",
            &creds(),
        ));
        assert_eq!(resp.status(), 200, "{:?}", resp.body());
        let mut user = json_body(&resp)["User"].clone();
        // Made by each engine (random folder ids) or by the clock.
        let user_fields = user.as_object_mut().expect("a user");
        for made in ["RootFolderId", "RecycleBinFolderId", "ModifiedTimestamp"] {
            assert!(user_fields.remove(made).is_some(), "{made}");
        }
        user
    };
    let user = update(&Engine::new(specs, Config::default()));
    assert_eq!(user["GivenName"], "Swapped");
    assert_eq!(user, update(&engine()));
}

//! Every example of every document, replayed against a fresh fake with real auth: the
//! request built from the example's parameters in the API's wire protocol (or, for an
//! example whose document request cannot be decoded, sent verbatim), signed as the real
//! clients sign, and the answer checked against the example's expectation: the error row
//! by code, or success with the expected body after the spec's `compare` rules.

use apiconform::auth::sigv4::{self, Credentials};
use apiconform::auth::{DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, DEFAULT_SESSION_TOKEN};
use apiconform::fake::{Engine, Fake};
use apiconform::protocol::xml;
use apiconform::spec::model::{Auth, CompareMode, Example, Expectation, Spec, Trigger};
use bytes::Bytes;
use serde_json::{Map, Value};

/// The example's request in the spec's protocol (unsigned), encoded by the same codec
/// the runner uses; an example whose document request cannot be decoded is sent as the
/// document wrote it.
fn build(spec: &Spec, ex: &Example, token: Option<&str>) -> http::Request<Bytes> {
    let malformed = match &ex.expect {
        Expectation::Error(code) => spec
            .errors
            .iter()
            .any(|e| &e.code == code && e.triggers().any(|t| *t == Trigger::Malformed)),
        Expectation::Success { .. } => false,
    };
    let raw = malformed.then(|| ex.document_request.clone().unwrap_or_default());
    let wire = apiconform::protocol::encode_request(spec, &ex.params, raw.as_deref());
    let mut b = http::Request::builder()
        .method(wire.method.as_str())
        .uri(wire.uri.as_str())
        .header("host", "127.0.0.1:4580");
    for (k, v) in &wire.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    if let (Auth::Token { header, .. }, Some(t)) = (&spec.auth, token) {
        b = b.header(header.as_str(), t);
    }
    b.body(Bytes::from(wire.body)).expect("example request")
}

fn sign(spec: &Spec, req: http::Request<Bytes>) -> http::Request<Bytes> {
    let Auth::Sigv4 {
        service,
        region,
        session_token_required,
        ..
    } = &spec.auth
    else {
        return req;
    };
    let (mut parts, body) = req.into_parts();
    let creds = Credentials {
        access_key: DEFAULT_ACCESS_KEY.into(),
        secret_key: DEFAULT_SECRET_KEY.into(),
        session_token: session_token_required.then(|| DEFAULT_SESSION_TOKEN.into()),
    };
    let region = region.as_deref().unwrap_or("us-east-1");
    sigv4::sign(
        &mut parts,
        &body,
        &creds,
        region,
        service,
        time::OffsetDateTime::now_utc(),
        &[],
    );
    http::Request::from_parts(parts, body)
}

fn session_token(engine: &Engine, spec: &Spec) -> Option<String> {
    let Auth::Token { login_path, .. } = &spec.auth else {
        return None;
    };
    let req = http::Request::builder()
        .method("POST")
        .uri(login_path)
        .header("content-type", "application/json")
        .body(Bytes::from_static(
            br#"{"data": {"username": "admin", "password": "password-91"}}"#,
        ))
        .expect("login");
    let resp = engine.handle(req);
    let v: Value = serde_json::from_slice(resp.body()).ok()?;
    v["data"]["session_token"].as_str().map(str::to_string)
}

fn decode(spec: &Spec, body: &[u8]) -> Value {
    match spec.protocol.is_xml() {
        true => {
            xml::read(body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
        }
        _ => serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body))),
    }
}

fn error_code(spec: &Spec, resp: &http::Response<Bytes>) -> String {
    if let Some(h) = resp.headers().get("x-amzn-errortype") {
        return h.to_str().unwrap_or_default().to_string();
    }
    let v = decode(spec, resp.body());
    for path in [
        &["ErrorResponse", "Error", "Code"][..],
        &["Error", "Code"][..],
        &["__type"][..],
        &["messages", "0", "code"][..],
    ] {
        let mut cur = &v;
        for p in path {
            cur = match p.parse::<usize>() {
                Ok(i) => &cur[i],
                Err(_) => &cur[*p],
            };
        }
        if let Some(s) = cur.as_str() {
            return s.to_string();
        }
    }
    panic!("no error code in {v}")
}

fn parent<'a>(v: &'a mut Value, keys: &[&str]) -> Option<&'a mut Map<String, Value>> {
    let mut cur = v;
    for k in keys {
        cur = cur.get_mut(*k)?;
    }
    cur.as_object_mut()
}

/// Applies the spec's compare rules to a body tree: `present` and `pattern` parts are
/// checked on `actual` and replaced by a marker in both, `ignored` parts removed.
fn normalise(spec: &Spec, expected: &mut Value, actual: &mut Value) {
    for rule in &spec.response.compare {
        let keys: Vec<&str> = rule.path.split('/').collect();
        let Some((last, parents)) = keys.split_last() else {
            continue;
        };
        let marker = match &rule.mode {
            CompareMode::Exact => continue,
            CompareMode::Ignored => None,
            CompareMode::Present => Some("<present>"),
            CompareMode::Pattern(_) => Some("<pattern>"),
            CompareMode::Format(_) => Some("<format>"),
        };
        if let Some(a) = parent(actual, parents) {
            let got = a.get(*last).map(apiconform::protocol::wire::text);
            match &rule.mode {
                CompareMode::Present => {
                    assert!(got.is_some(), "{}: missing {}", spec.api.id, rule.path)
                }
                CompareMode::Format(f) => {
                    let raw = a.get(*last).cloned().unwrap_or_default();
                    let xml = spec.protocol.is_xml();
                    assert!(
                        f.accepts(&raw, xml),
                        "{}: {} = {raw} is not {}",
                        spec.api.id,
                        rule.path,
                        f.name()
                    );
                }
                CompareMode::Pattern(p) => {
                    let re = regex::Regex::new(&format!("^(?:{p})$")).expect("compare pattern");
                    let got = got.unwrap_or_default();
                    assert!(
                        re.is_match(&got),
                        "{}: {} = {got:?}",
                        spec.api.id,
                        rule.path
                    );
                }
                _ => {}
            }
        }
        for tree in [&mut *expected, &mut *actual] {
            if let Some(m) = parent(tree, parents) {
                match marker {
                    Some(mk) => {
                        m.insert(last.to_string(), Value::from(mk));
                    }
                    None => {
                        m.remove(*last);
                    }
                }
            }
        }
    }
}

#[test]
fn every_document_example_replays_with_its_documented_result() {
    let specs = apiconform::spec::embedded().expect("embedded specs");
    let mut replayed = 0;
    for spec in &specs {
        for ex in &spec.examples {
            let engine = Fake::builder().engine().expect("engine");
            let token = session_token(&engine, spec);
            let req = sign(spec, build(spec, ex, token.as_deref()));
            let what = format!("{} example '{}'", spec.api.id, ex.name);
            let resp = engine.handle(req);
            let body = String::from_utf8_lossy(resp.body()).into_owned();
            match &ex.expect {
                Expectation::Error(code) => {
                    let row = spec.errors.iter().find(|e| &e.code == code).expect("row");
                    assert_eq!(resp.status().as_u16(), row.status, "{what}: {body}");
                    assert_eq!(&error_code(spec, &resp), code, "{what}: {body}");
                }
                Expectation::Success { body: expected } => {
                    assert_eq!(
                        resp.status().as_u16(),
                        spec.response.status,
                        "{what}: {body}"
                    );
                    if let Some(expected) = expected {
                        let mut expected = expected.clone();
                        let mut actual = decode(spec, resp.body());
                        normalise(spec, &mut expected, &mut actual);
                        assert_eq!(actual, expected, "{what}");
                    }
                }
            }
            replayed += 1;
        }
    }
    assert!(replayed >= 8, "only {replayed} examples");
}

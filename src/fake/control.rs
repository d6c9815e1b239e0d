//! The control plane under `/_apiconform/`, in the style of moto's `/moto-api` and
//! LocalStack's `/_localstack`: health, reset, seed, state, journal and fault injection,
//! as JSON, for tests written in any language. The same operations are methods of
//! [`Engine`](super::Engine).

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::engine::{json_response, ControlError, Engine};
use crate::protocol::Request;

/// Path prefix of the control plane.
pub const PREFIX: &str = "/_apiconform/";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    api: String,
    code: String,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRequest {
    api: String,
    resources: Vec<Map<String, Value>>,
}

fn bad_request(message: impl Into<String>) -> Response<Bytes> {
    json_response(StatusCode::BAD_REQUEST, &json!({ "error": message.into() }))
}

fn control_error(e: ControlError) -> Response<Bytes> {
    let status = match e {
        ControlError::UnknownApi(..) | ControlError::UnknownCode { .. } => StatusCode::NOT_FOUND,
        ControlError::BadResource(_) => StatusCode::BAD_REQUEST,
    };
    json_response(status, &json!({ "error": e.to_string() }))
}

/// The JSON body, or the 400 that says why it is not one.
fn parse<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, Box<Response<Bytes>>> {
    serde_json::from_slice(req.body())
        .map_err(|e| Box::new(bad_request(format!("invalid JSON body: {e}"))))
}

fn query_param(req: &Request, name: &str) -> Option<String> {
    form_urlencoded::parse(req.uri().query()?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Answers a control-plane request.
pub fn handle(engine: &Engine, req: &Request) -> Response<Bytes> {
    let path = req
        .uri()
        .path()
        .strip_prefix(PREFIX)
        .unwrap_or("")
        .trim_end_matches('/');
    let m = req.method();
    match (m, path) {
        (&Method::GET, "health") => {
            let apis: Vec<Value> = engine
                .specs()
                .map(|s| json!({ "id": s.api.id, "operation": s.api.operation, "resources": engine.count(&s.api.id) }))
                .collect();
            json_response(
                StatusCode::OK,
                &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "apis": apis }),
            )
        }
        (&Method::POST, "reset") => {
            engine.reset();
            json_response(StatusCode::OK, &json!({ "status": "reset" }))
        }
        (&Method::GET, "state") => match engine.state(query_param(req, "api").as_deref()) {
            Ok(s) => json_response(StatusCode::OK, &Value::Object(s)),
            Err(e) => control_error(e),
        },
        (&Method::POST, "seed") => {
            let body: SeedRequest = match parse(req) {
                Ok(b) => b,
                Err(r) => return *r,
            };
            match engine.seed(&body.api, body.resources) {
                Ok(n) => json_response(StatusCode::OK, &json!({ "seeded": n })),
                Err(e) => control_error(e),
            }
        }
        (&Method::GET, "journal") => json_response(StatusCode::OK, &json!(engine.journal())),
        (&Method::DELETE, "journal") => {
            engine.clear_journal();
            json_response(StatusCode::OK, &json!({ "status": "cleared" }))
        }
        (&Method::GET, "faults") => json_response(StatusCode::OK, &json!(engine.faults())),
        (&Method::POST, "faults") => {
            let body: FaultRequest = match parse(req) {
                Ok(b) => b,
                Err(r) => return *r,
            };
            match engine.fail_next(&body.api, &body.code, body.count) {
                Ok(()) => json_response(StatusCode::OK, &json!(engine.faults())),
                Err(e) => control_error(e),
            }
        }
        (&Method::DELETE, "faults") => {
            engine.clear_faults();
            json_response(StatusCode::OK, &json!({ "status": "cleared" }))
        }
        (_, "health" | "reset" | "state" | "seed" | "journal" | "faults") => json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({ "error": format!("{m} is not allowed on {PREFIX}{path}") }),
        ),
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({ "error": format!("no control endpoint {PREFIX}{path}; see README (health, reset, state, seed, journal, faults)") }),
        ),
    }
}

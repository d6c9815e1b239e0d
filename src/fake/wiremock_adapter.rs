//! The wiremock adapter: mount the fake on a `MockServer` a test already has.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wiremock::{matchers::any, Mock, MockServer};
//! let server = MockServer::start().await;
//! let responder = apiconform::fake::FakeResponder::new(apiconform::fake::Fake::builder().engine()?);
//! Mock::given(any()).respond_with(responder.clone()).mount(&server).await;
//! // Point a client at server.uri(); responder.engine() shows state and journal.
//! # Ok(()) }
//! ```

use std::sync::Arc;

use bytes::Bytes;

use super::engine::Engine;

/// A wiremock `Respond` that answers with the fake engine.
#[derive(Clone)]
pub struct FakeResponder {
    engine: Arc<Engine>,
}

impl FakeResponder {
    pub fn new(engine: Engine) -> Self {
        Self {
            engine: Arc::new(engine),
        }
    }

    pub fn from_arc(engine: Arc<Engine>) -> Self {
        Self { engine }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }
}

impl wiremock::Respond for FakeResponder {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let path_and_query = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_string(),
        };
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(path_and_query);
        if let Some(h) = builder.headers_mut() {
            *h = request.headers.clone();
        }
        let resp = match builder.body(Bytes::from(request.body.clone())) {
            Ok(req) => self.engine.handle(req),
            Err(e) => {
                return wiremock::ResponseTemplate::new(400)
                    .set_body_string(format!("unreadable request: {e}"))
            }
        };
        let (parts, body) = resp.into_parts();
        let mut template = wiremock::ResponseTemplate::new(parts.status.as_u16());
        for (name, value) in &parts.headers {
            template = template.append_header(name.clone(), value.clone());
        }
        template.set_body_bytes(body.to_vec())
    }
}

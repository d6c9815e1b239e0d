//! The reference fake: an [`Engine`] interpreted from the specs, served over HTTP by
//! [`Server`] or mounted on a wiremock `MockServer` through [`FakeResponder`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), apiconform::fake::FakeError> {
//! let fake = apiconform::fake::Fake::start().await?;
//! println!("IAM, Transfer, WorkDocs, Nimble and Nexfs at {}", fake.uri());
//! fake.engine().fail_next("aws-iam", "ServiceFailure", 1)?;
//! # Ok(()) }
//! ```

mod control;
pub(crate) mod engine;
mod faults;
mod journal;
mod server;
mod store;

mod wiremock_adapter;

use std::sync::Arc;

pub use engine::{Config, ControlError, Engine, StoredRows};
pub use faults::FaultRule;
pub use journal::JournalEntry;
pub use server::{ServeError, Server, ServerOptions, TlsOptions};
pub use wiremock_adapter::FakeResponder;

use crate::spec::{self, Spec, SpecErrors};

/// Why a fake could not start.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    #[error("spec error:\n{0}")]
    Spec(#[from] SpecErrors),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error("no embedded spec '{0}'")]
    UnknownApi(String),
}

/// A fake running in-process on a random loopback port.
pub struct Fake {
    engine: Arc<Engine>,
    server: Server,
}

impl Fake {
    /// Every embedded spec, default credentials, on `127.0.0.1:<random>`.
    pub async fn start() -> Result<Self, FakeError> {
        Self::builder().start().await
    }

    pub fn builder() -> FakeBuilder {
        FakeBuilder::default()
    }

    /// Base URI, e.g. `http://127.0.0.1:40123`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The engine: seed, state, journal, faults, reset.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Stops the server and waits for open requests.
    pub async fn stop(self) {
        self.server.shutdown().await;
    }
}

/// Options for [`Fake`].
#[derive(Default)]
pub struct FakeBuilder {
    apis: Vec<String>,
    specs: Vec<Spec>,
    config: Config,
    options: ServerOptions,
}

impl FakeBuilder {
    /// Serve only this embedded API (may be repeated); all when never called.
    pub fn api(mut self, id: &str) -> Self {
        self.apis.push(id.to_string());
        self
    }

    /// Serve this spec too (e.g. one loaded from a file).
    pub fn spec(mut self, spec: Spec) -> Self {
        self.specs.push(spec);
        self
    }

    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Accept requests without checking signatures or tokens.
    pub fn no_auth(mut self) -> Self {
        self.config.no_auth = true;
        self
    }

    pub fn options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }

    /// Serve HTTPS with a certificate made now.
    pub fn tls(mut self) -> Self {
        self.options.tls = Some(TlsOptions::default());
        self
    }

    /// The engine alone, without a server (for wiremock or direct calls).
    pub fn engine(self) -> Result<Engine, FakeError> {
        let specs = select(self.apis, self.specs)?;
        Ok(Engine::new(specs, self.config))
    }

    pub async fn start(self) -> Result<Fake, FakeError> {
        let options = self.options.clone();
        let engine = Arc::new(self.engine()?);
        let server = Server::start(engine.clone(), options).await?;
        Ok(Fake { engine, server })
    }
}

/// The embedded specs named in `apis` (all when empty), plus `extra`.
pub fn select(apis: Vec<String>, extra: Vec<Spec>) -> Result<Vec<Spec>, FakeError> {
    let mut specs = if apis.is_empty() && !extra.is_empty() {
        Vec::new()
    } else {
        spec::embedded()?
    };
    if !apis.is_empty() {
        if let Some(a) = apis.iter().find(|a| !specs.iter().any(|s| &s.api.id == *a)) {
            return Err(FakeError::UnknownApi(a.clone()));
        }
        specs.retain(|s| apis.contains(&s.api.id));
    }
    specs.extend(extra);
    Ok(specs)
}

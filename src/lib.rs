//! apiconform turns API documents into a reference fake server and a conformance runner.
//!
//! Data flows one way: `specs/*.yaml` → [`spec::load_str`] / [`spec::gather`] →
//! [`Spec`] (typed and checked, its error rows resolved). The fake ([`fake`]) decodes an
//! HTTP request with the spec's [`protocol`] codec, verifies it with [`auth`], validates
//! it ([`spec::validate`]), applies it to its store and encodes the answer; the runner
//! ([`runner`]) sends cases generated from the same specs through the same codecs to any
//! target, reads the resource back, and judges each answer against its snapshot.
//!
//! The fake in a test, in one line, and a real client pointed at it:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let fake = apiconform::Fake::start().await?;
//! let state = fake.engine().state(Some("aws-iam"))?;
//! assert_eq!(state["aws-iam"].as_array().map(Vec::len), Some(2)); // Bob and Alice
//! fake.engine().fail_next("aws-iam", "ServiceFailure", 1)?; // the next call fails so
//! # Ok(()) }
//! ```
//!
//! The runner against the embedded fake:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), String> {
//! use apiconform::{Runner, Selection};
//! let runner = Runner::in_process().await?;
//! let sel = Selection { case_glob: Some("aws-iam/length/*".into()), ..Selection::default() };
//! let outcomes = runner.run(&sel).await;
//! assert!(!outcomes.is_empty() && outcomes.iter().all(|o| o.passed()));
//! # Ok(()) }
//! ```

pub mod auth;
pub mod fake;
pub mod protocol;
pub mod runner;
pub mod spec;
mod text;

pub use fake::{Engine, Fake, FakeBuilder, FakeResponder};
pub use runner::target::Profile;
pub use runner::{Observations, Outcome, Runner, Selection};
pub use spec::{gather, Sources, Spec};

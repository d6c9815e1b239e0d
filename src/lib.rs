//! apiconform turns API documents into a reference fake server and a conformance runner.
//!
//! Data flows one way: `specs/*.yaml` → [`spec::load_str`] → [`spec::Spec`] (typed and
//! checked). The fake ([`fake`]) decodes an HTTP request with the spec's [`protocol`]
//! codec, verifies it with [`auth`], validates it ([`spec::validate`]), applies it to the
//! store and encodes the answer; the runner sends the same calls through the same codecs
//! to any target and compares the answers with snapshots.

pub mod auth;
pub mod fake;
pub mod protocol;
pub mod runner;
pub mod spec;

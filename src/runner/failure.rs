//! Why a case failed, by kind: what the reports count and group by, and what a reader
//! sees (each kind displays as one line).

use std::fmt;

/// One reason a case failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Another status than the spec gives.
    Status { got: u16, expected: u16 },
    /// Another error code than the spec gives (`None`: no code, i.e. a success).
    Code {
        got: Option<String>,
        expected: Option<String>,
    },
    /// A success in another media type than the spec's.
    ContentType { got: String, expected: String },
    /// The answer differs from its snapshot: the first differences (paths and values),
    /// and how many more there are.
    Answer {
        differences: Vec<String>,
        more: usize,
    },
    /// A member the expected answer does not have, under `--strict`.
    ExtraMember { path: String },
    /// No snapshot to compare with, or one that cannot be read or written.
    Snapshot(String),
    /// What reading the state back shows (an update not applied, a refused request that
    /// changed something, a field that did not change), or why it could not be read.
    State(String),
    /// The target did not answer: connection refused or closed, a timeout, not HTTP.
    Transport(String),
    /// The target stalled on this API: the case was not sent.
    Stalled { api: String, timeouts: u32 },
    /// A setup step, an injected fault or a follow-up step did not go as the case says.
    Step(String),
}

impl Failure {
    /// A short name of the kind, for reports (`status`, `answer`, `state` ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Status { .. } => "status",
            Self::Code { .. } => "code",
            Self::ContentType { .. } => "content-type",
            Self::Answer { .. } => "answer",
            Self::ExtraMember { .. } => "extra-member",
            Self::Snapshot(_) => "snapshot",
            Self::State(_) => "state",
            Self::Transport(_) => "transport",
            Self::Stalled { .. } => "stalled",
            Self::Step(_) => "step",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status { got, expected } => write!(f, "status {got} (expected {expected})"),
            Self::Code { got, expected } => write!(
                f,
                "error code {} (expected {})",
                got.as_deref().unwrap_or("none"),
                expected.as_deref().unwrap_or("none")
            ),
            Self::ContentType { got, expected } => {
                write!(f, "content type {got:?} (expected {expected})")
            }
            Self::Answer { differences, more } => {
                write!(
                    f,
                    "answer differs from the snapshot: {}",
                    differences.join("; ")
                )?;
                if *more > 0 {
                    write!(f, "; {more} more")?;
                }
                Ok(())
            }
            Self::ExtraMember { path } => {
                write!(f, "{path}: not in the expected answer (--strict)")
            }
            Self::Snapshot(m) | Self::State(m) | Self::Transport(m) | Self::Step(m) => {
                f.write_str(m)
            }
            Self::Stalled { api, timeouts } => write!(
                f,
                "target stalled: {timeouts} requests to {api} in a row timed out; the case was not sent \
                 (`stall_after: 0` in the profile, or --stall-after 0, sends every case)"
            ),
        }
    }
}

/// Failures joined for one line (`a; b`).
pub fn join(failures: &[Failure], sep: &str) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

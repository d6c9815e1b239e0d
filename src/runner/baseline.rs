//! A baseline: the deviations a vendor knows of and accepts, each a case and the cause it
//! fails with (see [`super::summary::cause`]), with a reason. A run against a baseline fails
//! only on failures outside it (a case not listed, or failing with another cause), and lists
//! the entries whose case now passes, so the baseline can be tightened.
//!
//! ```yaml
//! accepted:
//!   - case: aws-iam/length/NewUserName/max+1
//!     cause: "200 text/xml UpdateUserResponse{ResponseMetadata{RequestId}}"
//!     reason: "moto does not validate UpdateUser's input"
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use super::summary::cause;
use super::Outcome;

/// One accepted deviation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The case's full name.
    pub case: String,
    /// The cause it fails with, as the console's "Failures by cause" prints it.
    pub cause: String,
    /// Why the deviation is accepted.
    #[serde(default)]
    pub reason: String,
}

/// A baseline file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    #[serde(default)]
    pub accepted: Vec<Entry>,
    /// The comment lines the file starts with (kept when it is rewritten).
    #[serde(skip)]
    pub header: Vec<String>,
}

/// A failure outside the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regression {
    pub case: String,
    pub cause: String,
    /// The cause the baseline accepts for this case, when it fails otherwise now.
    pub accepted: Option<String>,
}

/// A run held against a baseline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// The baseline file, for messages.
    pub file: String,
    /// Failures the baseline accepts (case, entry).
    pub known: Vec<Entry>,
    /// Failures outside it: these fail the run.
    pub regressions: Vec<Regression>,
    /// Entries whose case passed: the baseline can drop them.
    pub fixed: Vec<Entry>,
    /// Entries naming no case the specs and suites give (renamed or removed).
    pub unknown: Vec<Entry>,
}

fn quoted(s: &str) -> String {
    // A JSON string is a YAML double-quoted scalar.
    serde_json::to_string(s).unwrap_or_default()
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let header: Vec<String> = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(str::to_string)
            .collect();
        let mut b: Self = if text
            .lines()
            .all(|l| l.trim().is_empty() || l.starts_with('#'))
        {
            Self::default()
        } else {
            crate::spec::decode_yaml(&text).map_err(|e| format!("{}: {e}", path.display()))?
        };
        b.header = header;
        Ok(b)
    }

    /// Whether `case` failing with `cause` is accepted.
    pub fn accepts(&self, case: &str, cause: &str) -> bool {
        self.accepted
            .iter()
            .any(|e| e.case == case && e.cause == cause)
    }

    /// Holds `outcomes` against the baseline; `known_cases` are every case name the specs
    /// and suites give (entries for others are reported as unknown). Entries of cases that
    /// were skipped or not in this run are neither fixed nor regressions.
    pub fn compare(&self, file: &str, outcomes: &[Outcome], known_cases: &[String]) -> Comparison {
        let mut c = Comparison {
            file: file.to_string(),
            ..Default::default()
        };
        for o in outcomes {
            let Some(cause) = cause(o) else { continue };
            if self.accepts(&o.case.name, &cause) {
                if let Some(e) = self
                    .accepted
                    .iter()
                    .find(|e| e.case == o.case.name && e.cause == cause)
                {
                    c.known.push(e.clone());
                }
            } else {
                c.regressions.push(Regression {
                    case: o.case.name.clone(),
                    cause,
                    accepted: self
                        .accepted
                        .iter()
                        .find(|e| e.case == o.case.name)
                        .map(|e| e.cause.clone()),
                });
            }
        }
        let passed: BTreeSet<&str> = outcomes
            .iter()
            .filter(|o| o.passed())
            .map(|o| o.case.name.as_str())
            .collect();
        let known: BTreeSet<&str> = known_cases.iter().map(String::as_str).collect();
        for e in &self.accepted {
            if passed.contains(e.case.as_str()) {
                c.fixed.push(e.clone());
            } else if !known.contains(e.case.as_str()) {
                c.unknown.push(e.clone());
            }
        }
        c
    }

    /// The baseline accepting every failure of `outcomes`. Reasons are kept from
    /// `previous` where the case and cause are the same; entries of `previous` for cases
    /// this run did not run are kept as they are (a run of some cases does not forget the
    /// others). A new entry's reason is its first failure, to be edited.
    pub fn from_run(outcomes: &[Outcome], previous: Option<&Baseline>) -> Self {
        let ran: BTreeSet<&str> = outcomes
            .iter()
            .filter(|o| o.skipped.is_none())
            .map(|o| o.case.name.as_str())
            .collect();
        let mut accepted: Vec<Entry> = Vec::new();
        for o in outcomes {
            let Some(cause) = cause(o) else { continue };
            let reason = previous
                .and_then(|b| {
                    b.accepted
                        .iter()
                        .find(|e| e.case == o.case.name && e.cause == cause)
                })
                .map(|e| e.reason.clone())
                .unwrap_or_else(|| {
                    let first = o
                        .failures
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    let first: String = first.chars().take(200).collect();
                    format!("TODO why this is accepted (found: {first})")
                });
            accepted.push(Entry {
                case: o.case.name.clone(),
                cause,
                reason,
            });
        }
        if let Some(b) = previous {
            for e in &b.accepted {
                if !ran.contains(e.case.as_str()) && !accepted.contains(e) {
                    accepted.push(e.clone());
                }
            }
        }
        accepted.sort_by(|a, b| (&a.case, &a.cause).cmp(&(&b.case, &b.cause)));
        Self {
            accepted,
            header: previous.map(|b| b.header.clone()).unwrap_or_default(),
        }
    }

    /// The file: a comment saying what it is (the one it was read with, if any), then one
    /// entry per accepted deviation.
    pub fn render(&self) -> String {
        let mut out = if self.header.is_empty() {
            String::from(
                "# apiconform baseline: deviations known and accepted. `apiconform test --baseline\n\
                 # FILE` fails only on failures not listed here (a case failing with another\n\
                 # cause is not listed) and names the entries whose case passes now.\n\
                 # Written by `apiconform test --write-baseline FILE`; edit the reasons.\n",
            )
        } else {
            self.header.iter().map(|l| format!("{l}\n")).collect()
        };
        if self.accepted.is_empty() {
            out.push_str("accepted: []\n");
            return out;
        }
        out.push_str("accepted:\n");
        for e in &self.accepted {
            let _ = writeln!(out, "  - case: {}", quoted(&e.case));
            let _ = writeln!(out, "    cause: {}", quoted(&e.cause));
            let _ = writeln!(out, "    reason: {}", quoted(&e.reason));
        }
        out
    }
}

impl Comparison {
    /// Whether the run fails: a failure outside the baseline.
    pub fn failed(&self) -> bool {
        !self.regressions.is_empty()
    }

    /// The console's account of it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Baseline {}: {} accepted failure(s) seen, {} outside the baseline, {} fixed",
            self.file,
            self.known.len(),
            self.regressions.len(),
            self.fixed.len()
        );
        for r in &self.regressions {
            match &r.accepted {
                Some(was) => {
                    let _ = writeln!(
                        out,
                        "  NEW   {}: fails with another cause: {} (accepted: {was})",
                        r.case, r.cause
                    );
                }
                None => {
                    let _ = writeln!(out, "  NEW   {}: {}", r.case, r.cause);
                }
            }
        }
        for e in &self.fixed {
            let _ = writeln!(
                out,
                "  FIXED {}: passes now; drop it from the baseline (--write-baseline rewrites it)",
                e.case
            );
        }
        for e in &self.unknown {
            let _ = writeln!(
                out,
                "  STALE {}: no such case (renamed or removed); drop it from the baseline",
                e.case
            );
        }
        out
    }
}

//! What `apiconform test` does once the cases have run: holds the run against its
//! baseline, writes the reports asked for (`--junit`, `--json`, `--ctrf`, `--report DIR`,
//! `--write-baseline`) and decides the exit code.

use std::path::PathBuf;

use crate::spec::Spec;

use super::baseline::{Baseline, Comparison};
use super::cases::Case;
use super::redact::Redactor;
use super::replay::Invocation;
use super::report::{self, ctrf, publish};
use super::Outcome;

/// The reports and the baseline of one run.
pub struct Outputs<'a> {
    pub specs: &'a [Spec],
    /// Every case the specs and suites give (not only this run's): the matrix tells
    /// "not in this run" from "no case", and a baseline entry for no case is stale.
    pub all_cases: &'a [Case],
    pub invocation: &'a Invocation,
    pub redactor: Redactor,
    pub meta: publish::Meta,
    pub run: ctrf::Run,
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub ctrf: Option<PathBuf>,
    pub report: Option<PathBuf>,
    /// `--baseline`: its path and content.
    pub baseline: Option<(PathBuf, Baseline)>,
    pub write_baseline: Option<PathBuf>,
}

impl Outputs<'_> {
    /// Prints the baseline's account, writes every file asked for, and returns the exit
    /// code: 1 when a case failed outside the baseline (with `--baseline`), or failed at all
    /// (without a baseline, unless `--write-baseline` just accepted every failure); 0
    /// otherwise. `Err`: a file could not be written (exit code 2).
    pub fn finish(&self, outcomes: &[Outcome]) -> Result<u8, String> {
        let names: Vec<String> = self.all_cases.iter().map(|c| c.name.clone()).collect();
        let comparison: Option<Comparison> = self
            .baseline
            .as_ref()
            .map(|(p, b)| b.compare(&p.display().to_string(), outcomes, &names));
        if let Some(c) = &comparison {
            print!("{}", c.text());
        }
        let write = |p: &PathBuf, content: String| {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(p, content).map_err(|e| format!("{}: {e}", p.display()))
        };
        if let Some(p) = &self.junit {
            write(p, report::junit(outcomes))?;
        }
        if let Some(p) = &self.json {
            write(p, report::json(outcomes))?;
        }
        if let Some(p) = &self.ctrf {
            write(
                p,
                ctrf::render(outcomes, &self.run, self.invocation, comparison.as_ref()),
            )?;
        }
        if let Some(dir) = &self.report {
            let mut publication = publish::Publication::new(
                &self.meta,
                self.specs,
                self.all_cases,
                outcomes,
                self.invocation,
                &self.redactor,
            );
            publication.baseline = comparison.as_ref();
            publication
                .write_dir(dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            println!(
                "report: {} ({} of the documented rows proven)",
                dir.join("index.html").display(),
                report::badge::percent(publication.score())
            );
        }
        if let Some(p) = &self.write_baseline {
            let previous = self.baseline.as_ref().map(|(_, b)| b);
            let b = Baseline::from_run(outcomes, previous);
            write(p, b.render())?;
            println!(
                "baseline: {} ({} accepted deviation(s))",
                p.display(),
                b.accepted.len()
            );
        }
        let failed = outcomes.iter().any(|o| !o.failures.is_empty());
        Ok(match (&comparison, &self.write_baseline) {
            (Some(c), _) => u8::from(c.failed()),
            (None, Some(_)) => 0,
            (None, None) => u8::from(failed),
        })
    }
}

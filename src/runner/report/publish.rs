//! What a published report says about its run (apiconform's version, the date, the
//! target and its endpoints, each spec's file and SHA-256), and `--report DIR`: writes
//! `index.html`, `report.md`, `badge.svg` and `badge-<api>.svg` there.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::spec::Spec;

use super::super::baseline::Comparison;
use super::super::cases::Case;
use super::super::redact::Redactor;
use super::super::replay::Invocation;
use super::super::Outcome;
use super::matrix::{self, ApiMatrix, Verdict};

/// Where a spec came from: its file and the SHA-256 of the file's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecOrigin {
    pub file: String,
    pub sha256: String,
}

/// The run a report describes.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// apiconform's version.
    pub version: String,
    /// When the run ended, RFC 3339, UTC.
    pub date: String,
    /// The target: a profile file, or the embedded fake.
    pub target: String,
    /// Per API: where its cases were sent.
    pub endpoints: BTreeMap<String, String>,
    /// Per API: the spec's file and hash.
    pub specs: BTreeMap<String, SpecOrigin>,
    /// `--shard K/N`, if the run was one part.
    pub shard: Option<String>,
    /// The options of the run (`apiconform test` and these): as typed when the command
    /// line sets them, else those a reproducer repeats.
    pub options: String,
}

impl Meta {
    /// For a run that ends now.
    pub fn now(
        target: Option<&Path>,
        endpoints: BTreeMap<String, String>,
        specs: BTreeMap<String, SpecOrigin>,
        invocation: &Invocation,
    ) -> Self {
        let date = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        Self {
            version: env!("CARGO_PKG_VERSION").to_string(),
            date,
            target: target.map_or_else(
                || "the embedded fake (in-process)".to_string(),
                |p| p.display().to_string(),
            ),
            endpoints,
            specs,
            shard: None,
            options: invocation
                .args
                .iter()
                .map(|a| super::super::replay::quote(a))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The file and hash of each spec `sources` gives (the embedded ones by their name under
/// `specs/`), by api id.
pub fn spec_origins(sources: &crate::spec::Sources) -> BTreeMap<String, SpecOrigin> {
    let mut out = BTreeMap::new();
    if !sources.only_files {
        if let Ok(specs) = crate::spec::embedded() {
            for ((name, text), spec) in crate::spec::EMBEDDED.iter().zip(specs) {
                out.insert(
                    spec.api.id,
                    SpecOrigin {
                        file: format!("specs/{name} (embedded)"),
                        sha256: sha256(text.as_bytes()),
                    },
                );
            }
        }
    }
    let mut files = sources.files.clone();
    for dir in &sources.dirs {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut found: Vec<_> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            found.sort();
            files.extend(found);
        }
    }
    for f in files {
        if let (Ok(bytes), Ok(spec)) = (std::fs::read(&f), crate::spec::load_file(&f)) {
            out.insert(
                spec.api.id,
                SpecOrigin {
                    file: f.display().to_string(),
                    sha256: sha256(&bytes),
                },
            );
        }
    }
    out
}

/// Everything a published report shows.
pub struct Publication<'a> {
    pub meta: &'a Meta,
    pub outcomes: &'a [Outcome],
    /// One per API of the run, in the order of the specs.
    pub matrices: Vec<ApiMatrix>,
    pub invocation: &'a Invocation,
    /// Applied to raw exchanges and diffs.
    pub redactor: &'a Redactor,
    /// The run against its baseline, when it had one.
    pub baseline: Option<&'a Comparison>,
}

impl<'a> Publication<'a> {
    /// The matrices of the APIs that had cases in this run.
    pub fn new(
        meta: &'a Meta,
        specs: &[Spec],
        all: &[Case],
        outcomes: &'a [Outcome],
        invocation: &'a Invocation,
        redactor: &'a Redactor,
    ) -> Self {
        let matrices = specs
            .iter()
            .filter(|s| outcomes.iter().any(|o| o.case.api == s.api.id))
            .map(|s| matrix::matrix(s, all, outcomes))
            .collect();
        Self {
            meta,
            outcomes,
            matrices,
            invocation,
            redactor,
            baseline: None,
        }
    }

    /// Rows proven and rows in all, over every API.
    pub fn totals(&self) -> (usize, usize) {
        self.matrices.iter().fold((0, 0), |(p, t), m| {
            (p + m.count(Verdict::Proven), t + m.rows.len())
        })
    }

    /// The overall score: rows proven of all rows, in per cent.
    pub fn score(&self) -> f64 {
        let (p, t) = self.totals();
        matrix::score(p, t)
    }

    /// Writes `index.html`, `report.md`, `badge.svg` and one `badge-<api>.svg` per API in
    /// `dir` (made if missing); returns the files written.
    pub fn write_dir(&self, dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        let mut put = |name: &str, content: String| -> std::io::Result<()> {
            let p = dir.join(name);
            std::fs::write(&p, content)?;
            written.push(p);
            Ok(())
        };
        put("index.html", super::html::render(self))?;
        put("report.md", super::markdown::render(self))?;
        let score = self.score();
        put(
            "badge.svg",
            super::badge::svg("conformance", &super::badge::percent(score), score),
        )?;
        for m in &self.matrices {
            let s = m.score();
            put(
                &format!("badge-{}.svg", m.api),
                super::badge::svg(&m.api, &super::badge::percent(s), s),
            )?;
        }
        Ok(written)
    }

    /// The failed outcomes, in run order.
    pub fn failures(&self) -> impl Iterator<Item = &'a Outcome> {
        self.outcomes.iter().filter(|o| !o.failures.is_empty())
    }

    /// The anchor of a case in the HTML report.
    pub fn anchor(case: &str) -> String {
        format!(
            "case-{}",
            case.chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                })
                .collect::<String>()
        )
    }

    /// The raw exchange of a failure, redacted, the answer's body cut at `keep` bytes.
    pub fn exchange(&self, o: &Outcome, keep: usize) -> Option<(String, String)> {
        let x = o.exchange.as_ref()?;
        let mut response = self.redactor.http(&x.response());
        if response.len() > keep {
            let mut cut = keep;
            while !response.is_char_boundary(cut) {
                cut -= 1;
            }
            let more = response.len() - cut;
            response.truncate(cut);
            response.push_str(&format!("\n[… {more} more bytes]"));
        }
        Some((self.redactor.http(&x.request()), response))
    }
}

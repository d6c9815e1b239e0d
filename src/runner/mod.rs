//! The conformance runner: [`cases`] from the specs, sent by [`client`] to a [`target`]
//! (the embedded fake by default), compared by [`compare`] with the spec and the recorded
//! snapshots, reported by [`report`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! use apiconform::runner::{Runner, Selection};
//! let runner = Runner::in_process().await?;
//! let outcomes = runner.run(&Selection::default()).await;
//! assert!(outcomes.iter().all(|o| o.passed()));
//! # Ok(()) }
//! ```

pub mod cases;
pub mod client;
pub mod compare;
pub mod report;
pub mod target;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::fake::Fake;
use crate::spec::model::{Auth, Protocol, Spec};

use cases::{Case, Expect};
use client::{Observed, Signing};
use target::{ApiTarget, Profile};

/// Which cases to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// API ids; all when empty.
    pub apis: Vec<String>,
    /// A glob over case names (`*` and `?`), e.g. `aws-iam/length/*`.
    pub case_glob: Option<String>,
}

impl Selection {
    fn matches(&self, case: &Case) -> bool {
        (self.apis.is_empty() || self.apis.contains(&case.api))
            && self
                .case_glob
                .as_deref()
                .is_none_or(|g| glob(g).is_match(&case.name))
    }
}

fn glob(g: &str) -> regex::Regex {
    let mut re = String::from("^");
    for c in g.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).unwrap_or_else(|_| regex::Regex::new("^$").expect("constant"))
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub case: Case,
    /// `METHOD URI` and body of the request sent.
    pub request: String,
    pub observed: Option<Observed>,
    /// Why the case failed (empty: passed).
    pub failures: Vec<String>,
    /// Snapshot diff, when the body differs.
    pub diff: Option<String>,
    /// Why the case did not run.
    pub skipped: Option<String>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.skipped.is_none()
    }
}

/// Sends cases to a target and checks the answers.
pub struct Runner {
    specs: Vec<Spec>,
    profile: Profile,
    client: reqwest::Client,
    /// Kept alive while the runner runs against the in-process fake.
    _fake: Option<Fake>,
    /// Where snapshots are read (and written with `update`).
    pub snapshot_dir: PathBuf,
    /// Record snapshots instead of comparing them.
    pub update: bool,
}

impl Runner {
    /// Against the embedded fake, started in-process on a random port.
    pub async fn in_process() -> Result<Self, String> {
        let fake = Fake::start().await.map_err(|e| e.to_string())?;
        let profile = Profile::fake(&fake.uri());
        let mut r = Self::with_profile(profile)?;
        r._fake = Some(fake);
        Ok(r)
    }

    pub fn with_profile(profile: Profile) -> Result<Self, String> {
        let insecure = profile.apis.values().any(|a| a.tls_insecure);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs_f64(
                profile.timeout_secs.clamp(0.1, 3600.0),
            ))
            .danger_accept_invalid_certs(insecure)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            specs: crate::spec::embedded().map_err(|e| e.to_string())?,
            profile,
            client,
            _fake: None,
            snapshot_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
            update: false,
        })
    }

    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    /// Every case of every spec the target serves, filtered.
    pub fn cases(&self, sel: &Selection) -> Vec<Case> {
        self.specs
            .iter()
            .filter(|s| self.profile.apis.contains_key(&s.api.id))
            .flat_map(cases::cases)
            .filter(|c| sel.matches(c))
            .collect()
    }

    /// Runs the selected cases one after another (each from a reset state when the target
    /// has a control plane).
    pub async fn run(&self, sel: &Selection) -> Vec<Outcome> {
        let mut out = Vec::new();
        for case in self.cases(sel) {
            out.push(self.run_case(&case).await);
        }
        out
    }

    pub async fn run_case(&self, case: &Case) -> Outcome {
        let started = std::time::Instant::now();
        let mut outcome = Outcome {
            case: case.clone(),
            request: String::new(),
            observed: None,
            failures: Vec::new(),
            diff: None,
            skipped: None,
            elapsed: Duration::ZERO,
        };
        let (Some(spec), Some(t)) = (
            self.specs.iter().find(|s| s.api.id == case.api),
            self.profile.apis.get(&case.api),
        ) else {
            outcome.skipped = Some("the target does not serve this API".into());
            return outcome;
        };
        if case.needs_control_plane() && !t.control_plane {
            outcome.skipped = Some("needs a control plane to inject the error".into());
            return outcome;
        }
        let signing = match &case.signing {
            Signing::SignedAs(c)
                if c.access_key == "AKIDLIMITED" || c.access_key == "AKIDNOROLES" =>
            {
                let (which, id) = if c.access_key == "AKIDLIMITED" {
                    ("limited", &t.limited)
                } else {
                    ("unprivileged", &t.unprivileged)
                };
                match id {
                    Some(l) => Signing::SignedAs(l.clone()),
                    None => {
                        outcome.skipped = Some(format!("the profile has no `{which}` identity"));
                        return outcome;
                    }
                }
            }
            other => other.clone(),
        };
        match self.exchange(spec, t, case, &signing, true).await {
            Ok((request, observed)) => {
                outcome.request = request;
                self.check(spec, case, &observed, &mut outcome);
                if observed.status < 300 && case.expect == Expect::Success {
                    self.check_state(spec, t, case, &mut outcome).await;
                }
                outcome.observed = Some(observed);
            }
            Err(e) => outcome.failures.push(e),
        }
        outcome.elapsed = started.elapsed();
        outcome
    }

    async fn exchange(
        &self,
        spec: &Spec,
        t: &ApiTarget,
        case: &Case,
        signing: &Signing,
        fresh: bool,
    ) -> Result<(String, Observed), String> {
        let base = t.base_url.trim_end_matches('/');
        if t.control_plane && fresh {
            self.control(base, "reset", None).await?;
            if let Some(code) = &case.inject {
                self.control(
                    base,
                    "faults",
                    Some(json!({"api": case.api, "code": code, "count": 1})),
                )
                .await?;
            }
        }
        let token = match (&spec.auth, &spec.protocol, &t.login) {
            (Auth::NimbleToken { .. }, Protocol::NimbleRest { login_path, .. }, Some(l)) => {
                Some(self.nimble_login(base, login_path, l).await?)
            }
            _ => None,
        };
        let wire = client::encode(spec, &case.params, case.raw_body.as_deref());
        let url: reqwest::Url = format!("{base}{}", wire.uri)
            .parse()
            .map_err(|e| format!("bad URL {base}{}: {e}", wire.uri))?;
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let req = client::prepare(
            spec,
            &wire,
            &host,
            &t.credentials,
            token.as_deref(),
            signing,
        )?;
        let summary = format!(
            "{} {}{}",
            wire.method,
            wire.uri,
            if wire.body.is_empty() {
                String::new()
            } else {
                format!("\n{}", wire.body.chars().take(2000).collect::<String>())
            }
        );
        let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
            .map_err(|e| e.to_string())?;
        let mut rb = self.client.request(method, url);
        for (k, v) in req.headers() {
            if k != "host" {
                rb = rb.header(k.as_str(), v.as_bytes());
            }
        }
        let resp = rb
            .body(req.body().clone())
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = resp.status().as_u16();
        let mut headers = http::HeaderMap::new();
        for (k, v) in resp.headers() {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(k.as_str().as_bytes()),
                http::HeaderValue::from_bytes(v.as_bytes()),
            ) {
                headers.append(n, v);
            }
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("body cut short: {e}"))?;
        Ok((summary, client::observe(spec, status, &headers, &body)))
    }

    async fn control(
        &self,
        base: &str,
        what: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(), String> {
        let mut rb = self.client.post(format!("{base}/_apiconform/{what}"));
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let r = rb
            .send()
            .await
            .map_err(|e| format!("control plane {what}: {e}"))?;
        if r.status().is_success() {
            Ok(())
        } else {
            Err(format!("control plane {what}: {}", r.status()))
        }
    }

    async fn nimble_login(
        &self,
        base: &str,
        path: &str,
        l: &target::Login,
    ) -> Result<String, String> {
        let body = json!({"data": {"username": l.username, "password": l.password, "app_name": "apiconform"}});
        let r = self
            .client
            .post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| format!("login: {e}"))?;
        let v: serde_json::Value = r.json().await.map_err(|e| format!("login answer: {e}"))?;
        v.pointer("/data/session_token")
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("login refused: {v}"))
    }

    /// After a successful rename, the resource must answer to its new key and no longer
    /// to the old one: a target that answers success without changing state fails here.
    async fn check_state(&self, spec: &Spec, t: &ApiTarget, case: &Case, outcome: &mut Outcome) {
        let Some(renamer) = spec
            .parameters
            .iter()
            .find(|p| p.renames.is_some() && case.params.contains_key(&p.name))
        else {
            return;
        };
        let field = renamer.renames.as_deref().unwrap_or_default();
        let Some(selector) = spec
            .parameters
            .iter()
            .find(|p| p.selects.as_deref() == Some(field))
        else {
            return;
        };
        let (Some(new), Some(old)) = (
            case.params.get(&renamer.name),
            case.params.get(&selector.name),
        ) else {
            return;
        };
        if new == old {
            return;
        }
        let probe = |key: &serde_json::Value| {
            let mut params = serde_json::Map::new();
            for p in spec.parameters.iter().filter(|p| p.selects.is_some()) {
                if let Some(v) = case.params.get(&p.name) {
                    params.insert(p.name.clone(), v.clone());
                }
            }
            params.insert(selector.name.clone(), key.clone());
            Case {
                name: format!("{}#state", case.name),
                params,
                raw_body: None,
                inject: None,
                ..case.clone()
            }
        };
        let not_found = spec
            .errors
            .iter()
            .find(|e| {
                e.triggers()
                    .any(|t| *t == crate::spec::model::Trigger::NotFound)
            })
            .map(|e| e.code.clone());
        for (key, want_found) in [(new, true), (old, false)] {
            match self
                .exchange(spec, t, &probe(key), &case.signing, false)
                .await
            {
                Ok((_, o)) => {
                    let found = o.status < 300;
                    let gone = o.code.is_some() && o.code == not_found;
                    if want_found && !found {
                        outcome.failures.push(format!(
                            "state: after the rename, {} {} answers {} {}",
                            selector.name,
                            key,
                            o.status,
                            o.code.as_deref().unwrap_or("")
                        ));
                    }
                    if !want_found && !gone {
                        outcome.failures.push(format!(
                            "state: after the rename, the old {} {} still answers {}",
                            selector.name, key, o.status
                        ));
                    }
                }
                Err(e) => outcome.failures.push(format!("state check: {e}")),
            }
        }
    }

    fn check(&self, spec: &Spec, case: &Case, o: &Observed, outcome: &mut Outcome) {
        let (want_status, want_code) = match &case.expect {
            Expect::Success => (spec.response.status, None),
            Expect::Error(code) => (
                spec.errors
                    .iter()
                    .find(|e| &e.code == code)
                    .map_or(0, |e| e.status),
                Some(code.clone()),
            ),
        };
        if o.status != want_status {
            outcome
                .failures
                .push(format!("status {} (expected {want_status})", o.status));
        }
        if o.code != want_code {
            outcome.failures.push(format!(
                "error code {} (expected {})",
                o.code.as_deref().unwrap_or("none"),
                want_code.as_deref().unwrap_or("none")
            ));
        }
        if o.status < 300 {
            let want_ct = spec.response.content_type.as_str();
            if !o.content_type.starts_with(want_ct) {
                outcome.failures.push(format!(
                    "content type {:?} (expected {want_ct})",
                    o.content_type
                ));
            }
        }
        let actual = compare::normalise(spec, o);
        let path = compare::snapshot_path(&self.snapshot_dir, &case.name);
        if self.update {
            if let Err(e) = compare::write_snapshot(&path, &case.name, &actual) {
                outcome
                    .failures
                    .push(format!("cannot write {}: {e}", path.display()));
            }
            return;
        }
        let pending = path.with_extension("snap.new");
        match compare::read_snapshot(&path) {
            None => {
                outcome.failures.push(format!(
                    "no snapshot at {} (record with `apiconform test --update`, or `cargo insta review`)",
                    path.display()
                ));
                let _ = compare::write_snapshot(&pending, &case.name, &actual);
            }
            Some(expected) if expected != actual => {
                outcome
                    .failures
                    .push("body differs from the snapshot".into());
                outcome.diff = Some(compare::diff(&expected, &actual));
                // What `cargo insta review` offers to accept.
                let _ = compare::write_snapshot(&pending, &case.name, &actual);
            }
            Some(_) => {}
        }
    }
}

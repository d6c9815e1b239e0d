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

pub mod baseline;
pub mod cases;
pub mod client;
pub mod compare;
mod direct;
mod explain;
pub mod failure;
pub mod outputs;
pub mod redact;
mod redirect;
pub mod replay;
pub mod report;
pub mod shard;
pub mod snapdiff;
mod state;
pub mod suite;
pub mod summary;
pub mod target;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::fake::Fake;
use crate::spec::model::{Auth, Spec};

use cases::{Case, Expect};
use client::{Observed, Signing};
pub use failure::Failure;
use suite::{RawRequest, Step};
use target::{ApiTarget, Profile};

/// Runs `cases` spread over `runners` (each with its own target state, e.g. from
/// [`Runner::in_process_pool`]), concurrently; outcomes in the order of `cases`.
/// `progress` is called after each case with the number done.
pub async fn run_parallel(
    runners: Vec<Runner>,
    cases: Vec<Case>,
    progress: impl Fn(&Outcome, usize) + Send + Sync + 'static,
) -> Vec<Outcome> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let cases = Arc::new(cases);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let slots: Arc<Mutex<Vec<Option<Outcome>>>> = Arc::new(Mutex::new(vec![None; cases.len()]));
    let progress = Arc::new(progress);
    let mut tasks = tokio::task::JoinSet::new();
    for runner in runners {
        let (cases, next, done, slots, progress) = (
            cases.clone(),
            next.clone(),
            done.clone(),
            slots.clone(),
            progress.clone(),
        );
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let o = runner.run_case(case).await;
                progress(&o, done.fetch_add(1, Ordering::Relaxed) + 1);
                if let Ok(mut s) = slots.lock() {
                    s[i] = Some(o);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let mut slots = slots
        .lock()
        .map(|mut s| std::mem::take(&mut *s))
        .unwrap_or_default();
    slots.drain(..).flatten().collect()
}

/// Status, error code and (on success) content type against what the spec expects.
fn verdict(spec: &Spec, expect: &Expect, o: &Observed, failures: &mut Vec<Failure>) {
    let (want_status, want_code) = match expect {
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
        failures.push(Failure::Status {
            got: o.status,
            expected: want_status,
        });
    }
    if o.code != want_code {
        failures.push(Failure::Code {
            got: o.code.clone(),
            expected: want_code.clone(),
        });
    }
    if o.status < 300 {
        let want_ct = spec.response.content_type.as_str();
        if compare::media_type(&o.content_type) != compare::media_type(want_ct) {
            failures.push(Failure::ContentType {
                got: o.content_type.clone(),
                expected: want_ct.to_string(),
            });
        }
    }
}

/// An error with its causes (reqwest's top line alone says only "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// An answer as it came back: status, headers, body.
type Answer = (u16, http::HeaderMap, bytes::Bytes);

/// Why a request has no answer to judge, through either client.
#[derive(Debug)]
enum Failed {
    /// No response head (refused, reset, timed out, too many redirects): the message, and
    /// whether it timed out.
    NoAnswer(String, bool),
    /// A head, then the body stopped.
    CutShort(String, bool),
}

/// What [`Runner::send_full`] sent and got back.
struct Sent {
    /// `METHOD URI` and the body (cut at 2000 characters), for the text report.
    summary: String,
    observed: Observed,
    exchange: replay::Exchange,
}

/// Why a step did not complete.
enum StepError {
    /// The target cannot do it (the case is skipped).
    Skip(String),
    Fail(String),
}

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
    pub failures: Vec<Failure>,
    /// Snapshot diff (sorted trees), when the answer differs.
    pub diff: Option<String>,
    /// Diff of the state before and after, when a refused request changed it.
    pub state_diff: Option<String>,
    /// What does not fail the case but a vendor should know (members the snapshot does
    /// not have, tolerated because the protocol's clients ignore them).
    pub warnings: Vec<String>,
    /// The spec's notes on where it departs from the document, for a failing case that
    /// touches one: the vendor may have followed the document.
    pub notes: Vec<String>,
    /// Why the case did not run.
    pub skipped: Option<String>,
    pub elapsed: Duration,
    /// The request under test as signed and sent, and the answer as received.
    pub exchange: Option<replay::Exchange>,
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
    /// Sends the control plane's calls, and the cases to HTTPS targets or through a
    /// proxy: it follows no redirect (the runner follows them itself where the API's
    /// clients do, see [`redirect`]).
    client: reqwest::Client,
    /// Sends the cases to plain-HTTP targets when no proxy is set: hyper's client without
    /// reqwest's layers ([`direct`]).
    direct: Option<direct::Direct>,
    /// Kept alive while the runner runs against the in-process fake, with its base URL:
    /// requests to that URL reset, seed and read it through its Rust API.
    _fake: Option<(Fake, String)>,
    /// Where snapshots are read (and written with `update`).
    pub snapshot_dir: PathBuf,
    /// Record snapshots instead of comparing them.
    pub update: bool,
    /// Cases run after the embedded ones (suites read from disk).
    pub extra: Vec<Case>,
    /// Members the snapshot does not have fail the case (default: a warning).
    pub strict: bool,
    /// Where the answers observed are written.
    pub observed: Observations,
    /// Redact what is recorded (`update`, [`Observations::Dir`]): set for a foreign target,
    /// whose answers may carry account ids, keys and tokens.
    pub redact: Option<redact::Redactor>,
    /// Timeouts in a row per API, shared by the runners of one run.
    stalls: Arc<Mutex<HashMap<String, u32>>>,
}

/// Where a run writes what it observed (never into the snapshots it compares against,
/// unless it is grading the embedded fake, where insta's workflow applies).
#[derive(Debug, Clone, PartialEq)]
pub enum Observations {
    /// `<snapshot>.snap.new` beside each snapshot that differs, for `cargo insta review`
    /// (the embedded fake).
    Pending,
    /// Every answer as `DIR/<api>/<case>.snap` (a foreign target: a recording).
    Dir(PathBuf),
    /// Nothing.
    Nowhere,
}

/// Why a runner could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("spec error:\n{0}")]
    Spec(#[from] crate::spec::SpecErrors),
    #[error("cannot start the fake: {0}")]
    Fake(#[from] crate::fake::FakeError),
    #[error("cannot make the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("{path}: {message}")]
    Profile { path: String, message: String },
}

impl From<RunnerError> for String {
    fn from(e: RunnerError) -> Self {
        e.to_string()
    }
}

impl Runner {
    /// Against the embedded fake, started in-process on a random port.
    pub async fn in_process() -> Result<Self, RunnerError> {
        Self::in_process_with(crate::spec::embedded()?).await
    }

    /// Against a fake serving exactly `specs`, started in-process on a random port.
    pub async fn in_process_with(specs: Vec<Spec>) -> Result<Self, RunnerError> {
        let fake = specs
            .iter()
            .cloned()
            .fold(Fake::builder(), |b, s| b.spec(s))
            .start()
            .await?;
        let profile = Profile::fake_for(&fake.uri(), &specs);
        let mut r = Self::with_specs(profile, specs)?;
        let uri = fake.uri();
        r._fake = Some((fake, uri));
        r.observed = Observations::Pending;
        Ok(r)
    }

    /// Against the target `profile` describes, with the embedded specs.
    pub fn with_profile(profile: Profile) -> Result<Self, RunnerError> {
        Self::with_specs(profile, crate::spec::embedded()?)
    }

    /// Against the target `profile` describes, with `specs` (e.g. from
    /// [`crate::spec::gather`]).
    pub fn with_specs(profile: Profile, specs: Vec<Spec>) -> Result<Self, RunnerError> {
        let insecure = profile.apis.values().any(|a| a.tls_insecure);
        let timeout = Duration::from_secs_f64(profile.timeout_secs.clamp(0.1, 3600.0));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .danger_accept_invalid_certs(insecure)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            specs,
            profile,
            client,
            direct: direct::Direct::new(timeout),
            _fake: None,
            snapshot_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
            update: false,
            extra: Vec::new(),
            strict: false,
            observed: Observations::Dir(PathBuf::from("target/apiconform/observed")),
            redact: None,
            stalls: Arc::default(),
        })
    }

    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    /// The target profile the runner sends cases to.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Every case of every spec the target serves, filtered.
    pub fn cases(&self, sel: &Selection) -> Vec<Case> {
        self.specs
            .iter()
            .filter(|s| self.profile.apis.contains_key(&s.api.id))
            .flat_map(cases::cases)
            .chain(self.extra.iter().cloned())
            .filter(|c| sel.matches(c))
            .collect()
    }

    /// `jobs` runners, each against its own in-process fake, for [`run_parallel`].
    pub async fn in_process_pool(jobs: usize) -> Result<Vec<Self>, RunnerError> {
        Self::in_process_pool_with(jobs, crate::spec::embedded()?).await
    }

    /// `jobs` runners, each against its own in-process fake serving `specs`.
    pub async fn in_process_pool_with(
        jobs: usize,
        specs: Vec<Spec>,
    ) -> Result<Vec<Self>, RunnerError> {
        let mut out = Vec::with_capacity(jobs.max(1));
        for _ in 0..jobs.max(1) {
            out.push(Self::in_process_with(specs.clone()).await?);
        }
        Ok(out)
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
            state_diff: None,
            warnings: Vec::new(),
            notes: Vec::new(),
            skipped: None,
            elapsed: Duration::ZERO,
            exchange: None,
        };
        if let Some(why) = self.skip_reason(case) {
            outcome.skipped = Some(why);
            return outcome;
        }
        if let Some(why) = self.stalled(&case.api) {
            outcome.failures.push(why);
            return outcome;
        }
        let (Some(spec), Some(t)) = (
            self.specs.iter().find(|s| s.api.id == case.api),
            self.profile.apis.get(&case.api),
        ) else {
            outcome.skipped = Some("the target does not serve this API".into());
            return outcome;
        };
        let signing = match self.resolve(t, &case.signing) {
            Ok(s) => s,
            Err(skip) => {
                outcome.skipped = Some(skip);
                return outcome;
            }
        };
        if let Err(e) = self.fresh_state(spec, t, case).await {
            match e {
                StepError::Skip(why) => outcome.skipped = Some(why),
                StepError::Fail(why) => outcome.failures.push(Failure::Step(why)),
            }
            outcome.elapsed = started.elapsed();
            return outcome;
        }
        // The state the request starts from, read before any fault is injected.
        let before = if self.can_read_back(spec, t) {
            let expected = state::Expected::of(spec, case);
            match self.read_state(spec, t, &expected.effect.key).await {
                Ok(s) => Some((s, expected)),
                Err(e) => {
                    outcome
                        .failures
                        .push(Failure::State(format!("state before the request: {e}")));
                    outcome.elapsed = started.elapsed();
                    return outcome;
                }
            }
        } else {
            None
        };
        if let Err(e) = self.inject(t, case).await {
            outcome.failures.push(Failure::Step(e));
            outcome.elapsed = started.elapsed();
            return outcome;
        }
        match self.exchange_full(spec, t, case, &signing).await {
            Ok(Sent {
                summary: request,
                observed,
                exchange,
            }) => {
                outcome.request = request;
                outcome.exchange = Some(exchange);
                self.check(spec, case, &observed, &mut outcome);
                match before {
                    Some((before, expected)) => {
                        self.verify_state(spec, t, expected, &before, &observed, &mut outcome)
                            .await
                    }
                    None if observed.status < 300 && case.expect == Expect::Success => {
                        self.check_state(spec, t, case, &mut outcome).await
                    }
                    None => {}
                }
                outcome.observed = Some(observed);
                for (i, step) in case.then().iter().enumerate() {
                    if let Err(StepError::Fail(e) | StepError::Skip(e)) =
                        self.step(spec, t, step).await
                    {
                        outcome
                            .failures
                            .push(Failure::Step(format!("then step {}: {e}", i + 1)));
                    }
                }
            }
            Err(e) => outcome.failures.push(Failure::Transport(e)),
        }
        if !outcome.failures.is_empty() {
            outcome.notes = explain::departures(spec, case, &outcome);
        }
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// Why the case is not sent: the API's target stopped answering (too many timeouts in
    /// a row, `stall_after` in the profile).
    fn stalled(&self, api: &str) -> Option<Failure> {
        let limit = self.profile.stall_after;
        let n = self.stalls.lock().ok()?.get(api).copied().unwrap_or(0);
        (limit > 0 && n >= limit).then(|| Failure::Stalled {
            api: api.to_string(),
            timeouts: n,
        })
    }

    fn note_answer(&self, api: &str, timed_out: bool) {
        if let Ok(mut m) = self.stalls.lock() {
            let n = m.entry(api.to_string()).or_default();
            *n = if timed_out { *n + 1 } else { 0 };
        }
    }

    /// Why the target cannot run `case` (an API it does not serve, no control plane to
    /// inject a fault or create a fixture, no identity for a role case), if it cannot.
    pub fn skip_reason(&self, case: &Case) -> Option<String> {
        let Some(t) = self.profile.apis.get(&case.api) else {
            return Some("the target does not serve this API".into());
        };
        if case.needs_control_plane() && !t.control_plane {
            return Some("needs a control plane to inject the error".into());
        }
        if !t.control_plane
            && t.create_fixture.is_none()
            && case.setup().iter().any(|s| s.fixture.is_some())
        {
            return Some(
                "creates a fixture: the target needs a control plane or `create_fixture`".into(),
            );
        }
        let steps = case.setup().iter().chain(case.then());
        std::iter::once(case.signing.clone())
            .chain(steps.map(|s| s.identity.signing()))
            .find_map(|s| self.resolve(t, &s).err())
    }

    /// The profile's identity for a case's signing (the fake's limited and role-less
    /// keys stand for the profile's `limited` and `unprivileged`); `Err` says why the case
    /// cannot run.
    fn resolve(&self, t: &ApiTarget, signing: &Signing) -> Result<Signing, String> {
        match signing {
            Signing::SignedAs(c)
                if c.access_key == "AKIDLIMITED" || c.access_key == "AKIDNOROLES" =>
            {
                let (which, id) = if c.access_key == "AKIDLIMITED" {
                    ("limited", &t.limited)
                } else {
                    ("unprivileged", &t.unprivileged)
                };
                id.clone()
                    .map(Signing::SignedAs)
                    .ok_or_else(|| format!("the profile has no `{which}` identity"))
            }
            other => Ok(other.clone()),
        }
    }

    /// Brings the target to the case's starting state: reset (control plane) or the
    /// profile's `before_each` requests, then the case's setup steps.
    async fn fresh_state(&self, spec: &Spec, t: &ApiTarget, case: &Case) -> Result<(), StepError> {
        let base = t.base_url.trim_end_matches('/');
        if t.control_plane {
            self.control(base, "reset", None)
                .await
                .map_err(StepError::Fail)?;
        } else {
            for (i, raw) in t.before_each.iter().enumerate() {
                self.raw(spec, t, raw)
                    .await
                    .map_err(|e| StepError::Fail(format!("before_each {}: {e}", i + 1)))?;
            }
        }
        for (i, step) in case.setup().iter().enumerate() {
            self.step(spec, t, step).await.map_err(|e| match e {
                StepError::Fail(e) => StepError::Fail(format!("setup step {}: {e}", i + 1)),
                skip => skip,
            })?;
        }
        Ok(())
    }

    /// Injects the case's error row, if it has one (control plane only).
    async fn inject(&self, t: &ApiTarget, case: &Case) -> Result<(), String> {
        let Some(code) = &case.inject else {
            return Ok(());
        };
        self.control(
            t.base_url.trim_end_matches('/'),
            "faults",
            Some(json!({"api": case.api, "code": code, "count": 1})),
        )
        .await
    }

    /// Runs one setup or follow-up step.
    async fn step(&self, spec: &Spec, t: &ApiTarget, step: &Step) -> Result<(), StepError> {
        if let Some(fixture) = &step.fixture {
            let base = t.base_url.trim_end_matches('/');
            return if t.control_plane {
                self.control(
                    base,
                    "seed",
                    Some(json!({"api": spec.api.id, "resources": [fixture]})),
                )
                .await
                .map_err(StepError::Fail)
            } else if let Some(template) = &t.create_fixture {
                let raw = template.filled(fixture);
                self.raw(spec, t, &raw).await.map_err(StepError::Fail)
            } else {
                Err(StepError::Skip(
                    "creates a fixture: the target needs a control plane or `create_fixture`"
                        .into(),
                ))
            };
        }
        if let Some(raw) = &step.raw {
            return self.raw(spec, t, raw).await.map_err(StepError::Fail);
        }
        let params = step.request.clone().unwrap_or_default();
        let expect = step.expected(spec).map_err(StepError::Fail)?;
        let signing = self
            .resolve(t, &step.identity.signing())
            .map_err(StepError::Skip)?;
        let probe = Case {
            name: "step".into(),
            api: spec.api.id.clone(),
            params,
            raw_body: None,
            signing: signing.clone(),
            inject: None,
            expect: expect.clone(),
            covers: Vec::new(),
            around: None,
        };
        let (request, o) = self
            .exchange(spec, t, &probe, &signing)
            .await
            .map_err(StepError::Fail)?;
        let mut problems = Vec::new();
        verdict(spec, &expect, &o, &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(StepError::Fail(format!(
                "{} (request: {})",
                failure::join(&problems, "; "),
                request.lines().next().unwrap_or_default()
            )))
        }
    }

    /// Sends a raw request, signed when it says so; its status must be 2xx or the one it
    /// names.
    async fn raw(&self, spec: &Spec, t: &ApiTarget, raw: &RawRequest) -> Result<(), String> {
        let wire = self.raw_wire(raw);
        let signing = if raw.sign {
            Signing::Signed
        } else {
            Signing::None
        };
        let (request, o) = self.send(spec, t, wire, &signing).await?;
        let ok = match raw.status {
            Some(s) => o.status == s,
            None => (200..300).contains(&o.status),
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{} answered {} {}",
                request.lines().next().unwrap_or_default(),
                o.status,
                o.code.as_deref().unwrap_or_default()
            ))
        }
    }

    fn raw_wire(&self, raw: &RawRequest) -> client::WireRequest {
        client::WireRequest {
            method: raw.method.clone(),
            uri: raw.path.clone(),
            headers: raw
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
            body: raw.body.clone(),
        }
    }

    async fn exchange(
        &self,
        spec: &Spec,
        t: &ApiTarget,
        case: &Case,
        signing: &Signing,
    ) -> Result<(String, Observed), String> {
        self.exchange_full(spec, t, case, signing)
            .await
            .map(|s| (s.summary, s.observed))
    }

    async fn exchange_full(
        &self,
        spec: &Spec,
        t: &ApiTarget,
        case: &Case,
        signing: &Signing,
    ) -> Result<Sent, String> {
        let wire = crate::protocol::encode_request(spec, &case.params, case.raw_body.as_deref());
        self.send_full(spec, t, wire, signing).await
    }

    /// Signs `wire` (logging in first for token APIs), sends it, reads the answer.
    async fn send(
        &self,
        spec: &Spec,
        t: &ApiTarget,
        wire: client::WireRequest,
        signing: &Signing,
    ) -> Result<(String, Observed), String> {
        self.send_full(spec, t, wire, signing)
            .await
            .map(|s| (s.summary, s.observed))
    }

    /// As [`Self::send`], keeping the raw exchange.
    async fn send_full(
        &self,
        spec: &Spec,
        t: &ApiTarget,
        wire: client::WireRequest,
        signing: &Signing,
    ) -> Result<Sent, String> {
        self.send_for(spec, t, wire, signing, &spec.api.id).await
    }

    /// As [`Self::send_full`], a timeout counted against the API `stalls` (the API under
    /// test, when another operation of it reads its state back).
    async fn send_for(
        &self,
        spec: &Spec,
        t: &ApiTarget,
        wire: client::WireRequest,
        signing: &Signing,
        stalls: &str,
    ) -> Result<Sent, String> {
        let base = t.base_url.trim_end_matches('/');
        let token = match (&spec.auth, &t.login) {
            (Auth::Token { login_path, .. }, Some(l)) => {
                Some(self.login(spec, base, login_path, l).await?)
            }
            _ => None,
        };
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
        // The request line, and the body's first 2000 characters.
        let body = match wire.body.char_indices().nth(2000) {
            Some((cut, _)) => &wire.body[..cut],
            None => &wire.body,
        };
        let mut summary =
            String::with_capacity(wire.method.len() + wire.uri.len() + body.len() + 2);
        summary.push_str(&wire.method);
        summary.push(' ');
        summary.push_str(&wire.uri);
        if !body.is_empty() {
            summary.push('\n');
            summary.push_str(body);
        }
        let (status, headers, body) = match self.transfer(spec, url, &req).await {
            Ok(a) => a,
            Err(Failed::NoAnswer(e, timeout)) => {
                self.note_answer(stalls, timeout);
                return Err(format!("no answer: {e}"));
            }
            Err(Failed::CutShort(e, timeout)) => {
                self.note_answer(stalls, timeout);
                return Err(format!("body cut short: {e}"));
            }
        };
        self.note_answer(stalls, false);
        Ok(Sent {
            summary,
            observed: client::observe(spec, status, &headers, &body),
            exchange: replay::Exchange::new(req, status, headers, &body),
        })
    }

    /// Sends `req` to `url` and reads the answer, following redirects where the API's
    /// clients follow them ([`redirect`]); otherwise a redirect is the answer, as AWS
    /// SDKs take it.
    async fn transfer(
        &self,
        spec: &Spec,
        mut url: reqwest::Url,
        req: &http::Request<bytes::Bytes>,
    ) -> Result<Answer, Failed> {
        let follows = spec.protocol.follows_redirects();
        let mut req = std::borrow::Cow::Borrowed(req);
        let mut followed = 0;
        loop {
            let answer = self.hop(&url, &req).await?;
            let location = match follows.then(|| redirect::target(answer.0, &answer.1)) {
                Some(Some(location)) => location,
                _ => return Ok(answer),
            };
            if followed == redirect::MAX_REDIRECTS {
                let e = format!("more than {} redirects", redirect::MAX_REDIRECTS);
                return Err(Failed::NoAnswer(e, false));
            }
            let (to, next) = redirect::follow(&url, &req, answer.0, location)
                .map_err(|e| Failed::NoAnswer(e, false))?;
            (url, req) = (to, std::borrow::Cow::Owned(next));
            followed += 1;
        }
    }

    /// One request and its answer: through hyper directly where nothing of reqwest's is
    /// needed, else through reqwest (TLS, a proxy, a URL with credentials in it, which
    /// the direct client would have to strip from the authority first).
    async fn hop(
        &self,
        url: &reqwest::Url,
        req: &http::Request<bytes::Bytes>,
    ) -> Result<Answer, Failed> {
        let plain = url.scheme() == "http" && url.username().is_empty() && url.password().is_none();
        if let Some(d) = self.direct.as_ref().filter(|_| plain) {
            return d.send(url.as_str(), req.clone()).await;
        }
        // reqwest's types are http's: the prepared request's headers go over as they are,
        // without naming each one again (reqwest writes Host from the URL).
        let mut out = reqwest::Request::new(req.method().clone(), url.clone());
        *out.headers_mut() = req.headers().clone();
        out.headers_mut().remove(http::header::HOST);
        *out.body_mut() = Some(req.body().clone().into());
        let resp = self
            .client
            .execute(out)
            .await
            .map_err(|e| Failed::NoAnswer(error_chain(&e), e.is_timeout()))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| Failed::CutShort(error_chain(&e), e.is_timeout()))?;
        Ok((status, headers, body))
    }

    /// The in-process fake, when `base` is its URL.
    fn fake_at(&self, base: &str) -> Option<&Fake> {
        self._fake
            .as_ref()
            .filter(|(_, uri)| uri == base)
            .map(|(f, _)| f)
    }

    async fn control(
        &self,
        base: &str,
        what: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(), String> {
        // The in-process fake is driven through its Rust API: no round trip per case.
        if let Some(fake) = self.fake_at(base) {
            let engine = fake.engine();
            let field = |k: &str| {
                body.as_ref()
                    .and_then(|b| b.get(k))
                    .cloned()
                    .unwrap_or_default()
            };
            return match what {
                "reset" => {
                    engine.reset();
                    Ok(())
                }
                "faults" => engine
                    .fail_next(
                        field("api").as_str().unwrap_or_default(),
                        field("code").as_str().unwrap_or_default(),
                        field("count").as_u64().unwrap_or(1) as u32,
                    )
                    .map_err(|e| format!("control plane {what}: {e}")),
                "seed" => {
                    let resources = match field("resources") {
                        serde_json::Value::Array(a) => a
                            .into_iter()
                            .filter_map(|v| match v {
                                serde_json::Value::Object(m) => Some(m),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    engine
                        .seed(field("api").as_str().unwrap_or_default(), resources)
                        .map(|_| ())
                        .map_err(|e| format!("control plane {what}: {e}"))
                }
                other => Err(format!("control plane: no operation {other}")),
            };
        }
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

    /// Logs in for a session token: `POST login_path` with the username and password (in
    /// the protocol's envelope, if it has one); the token is the answer's
    /// `session_token`. The in-process fake is logged in through its Rust API, as it is
    /// reset and seeded (its login endpoint is exercised by the token APIs' own clients).
    async fn login(
        &self,
        spec: &Spec,
        base: &str,
        path: &str,
        l: &target::Login,
    ) -> Result<String, String> {
        let envelope = spec.protocol.envelope();
        if let Some(fake) = self.fake_at(base) {
            return fake
                .engine()
                .login(&l.username, &l.password, "apiconform")
                .map(|s| s.session_token)
                .ok_or_else(|| format!("login refused for {}", l.username));
        }
        let creds =
            json!({"username": l.username, "password": l.password, "app_name": "apiconform"});
        let body = match envelope {
            Some(env) => json!({ env: creds }),
            None => creds,
        };
        let url: reqwest::Url = format!("{base}{path}")
            .parse()
            .map_err(|e| format!("login: bad URL {base}{path}: {e}"))?;
        let req = http::Request::post(path)
            .header("content-type", "application/json")
            .body(bytes::Bytes::from(body.to_string()))
            .map_err(|e| format!("login: {e}"))?;
        let answer = match self.transfer(spec, url, &req).await {
            Ok((_, _, answer)) => answer,
            Err(Failed::NoAnswer(e, _) | Failed::CutShort(e, _)) => {
                return Err(format!("login: {e}"))
            }
        };
        let v: serde_json::Value =
            serde_json::from_slice(&answer).map_err(|e| format!("login answer: {e}"))?;
        let session = match envelope {
            Some(env) => v.get(env),
            None => Some(&v),
        };
        session
            .and_then(|s| s.get("session_token"))
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
                around: None,
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
            match self.exchange(spec, t, &probe(key), &case.signing).await {
                Ok((_, o)) => {
                    let found = o.status < 300;
                    let gone = o.code.is_some() && o.code == not_found;
                    if want_found && !found {
                        outcome.failures.push(Failure::State(format!(
                            "state: after the rename, {} {} answers {} {}",
                            selector.name,
                            key,
                            o.status,
                            o.code.as_deref().unwrap_or("")
                        )));
                    }
                    if !want_found && !gone {
                        outcome.failures.push(Failure::State(format!(
                            "state: after the rename, the old {} {} still answers {}",
                            selector.name, key, o.status
                        )));
                    }
                }
                Err(e) => outcome
                    .failures
                    .push(Failure::State(format!("state check: {e}"))),
            }
        }
    }

    fn check(&self, spec: &Spec, case: &Case, o: &Observed, outcome: &mut Outcome) {
        verdict(spec, &case.expect, o, &mut outcome.failures);
        let actual = compare::normalise(spec, o);
        let redacted;
        let text = compare::snapshot_text(match &self.redact {
            Some(r) => {
                redacted = r.tree(&actual);
                &redacted
            }
            None => &actual,
        });
        let path = compare::snapshot_path(&self.snapshot_dir, &case.name);
        if self.update {
            if let Err(e) = compare::write_snapshot(&path, &case.name, &text) {
                outcome.failures.push(Failure::Snapshot(format!(
                    "cannot write {}: {e}",
                    path.display()
                )));
            }
            return;
        }
        if let Observations::Dir(dir) = &self.observed {
            let _ = compare::write_snapshot(
                &compare::snapshot_path(dir, &case.name),
                &case.name,
                &text,
            );
        }
        let pending = |outcome: &Outcome| {
            if self.observed == Observations::Pending && !outcome.failures.is_empty() {
                // What `cargo insta review` offers to accept.
                let _ =
                    compare::write_snapshot(&path.with_extension("snap.new"), &case.name, &text);
            }
        };
        let recorded = compare::read_snapshot(&path);
        if recorded.as_deref() == Some(text.as_str()) {
            // The same text is the same tree: nothing to judge.
            return;
        }
        let expected = match recorded.map(|t| compare::parse_snapshot(&t)) {
            None => {
                outcome.failures.push(Failure::Snapshot(format!(
                    "no snapshot at {} (record with `apiconform test --update`, or `cargo insta review`)",
                    path.display()
                )));
                return pending(outcome);
            }
            Some(Err(e)) => {
                outcome.failures.push(Failure::Snapshot(format!(
                    "snapshot {} cannot be read: {e}",
                    path.display()
                )));
                return;
            }
            Some(Ok(v)) => v,
        };
        // A recording with redacted values: the answer is redacted the same way first.
        let actual = if redact::has_markers(&expected) {
            self.redact.clone().unwrap_or_default().tree(&actual)
        } else {
            actual
        };
        let j = compare::judge(&expected, &actual, self.strict);
        for p in &j.extra {
            if self.strict {
                outcome
                    .failures
                    .push(Failure::ExtraMember { path: p.clone() });
            } else {
                outcome.warnings.push(format!(
                    "{p}: not in the expected answer (tolerated: clients ignore unknown members; --strict fails it)"
                ));
            }
        }
        if !j.differences.is_empty() {
            const SHOWN: usize = 6;
            outcome.failures.push(Failure::Answer {
                differences: j.differences.iter().take(SHOWN).cloned().collect(),
                more: j.differences.len().saturating_sub(SHOWN),
            });
        }
        outcome.diff = j.diff;
        pending(outcome);
    }
}

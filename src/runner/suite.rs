//! Hand-written scenarios: `suites/<api>.yaml`. Where the generated cases vary one
//! parameter of one request, a scenario strings requests together: setup steps (fixtures
//! created, earlier requests, raw HTTP), the request under test, and follow-up requests
//! that check what the first one did to the state. The format is in `suites/README.md`.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::spec::model::Spec;

use super::cases::{Case, Expect};
use super::client::Signing;
use super::target::Credentials;

/// The suites compiled into the binary, so the runner works without the source tree.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("aws-iam.yaml", include_str!("../../suites/aws-iam.yaml")),
    (
        "aws-transfer.yaml",
        include_str!("../../suites/aws-transfer.yaml"),
    ),
    (
        "aws-workdocs.yaml",
        include_str!("../../suites/aws-workdocs.yaml"),
    ),
    (
        "hpe-nimble.yaml",
        include_str!("../../suites/hpe-nimble.yaml"),
    ),
    ("nexfs.yaml", include_str!("../../suites/nexfs.yaml")),
];

/// One suite file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// The spec's `api.id`.
    pub api: String,
    #[serde(default)]
    pub about: Option<String>,
    pub cases: Vec<Scenario>,
}

/// Who signs a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// The target's credentials (or Nimble token).
    #[default]
    Default,
    /// The identity holding only the basic role (profile `limited`).
    Limited,
    /// The identity holding no role (profile `unprivileged`).
    Unprivileged,
    /// No signature, no token.
    Unsigned,
    /// Signed, then the signature altered.
    Tampered,
}

impl Identity {
    pub fn signing(self) -> Signing {
        match self {
            Self::Default => Signing::Signed,
            Self::Limited => Signing::SignedAs(Credentials::limited_fake()),
            Self::Unprivileged => Signing::SignedAs(Credentials::no_roles_fake()),
            Self::Unsigned => Signing::None,
            Self::Tampered => Signing::Tampered,
        }
    }
}

/// One scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique in the file; the case is named `<api>/suite/<name>`.
    pub name: String,
    #[serde(default)]
    pub about: Option<String>,
    #[serde(default)]
    pub setup: Vec<Step>,
    /// The request under test, by spec parameter name.
    #[serde(default)]
    pub request: Map<String, Value>,
    /// Sent as the body instead of the encoded parameters.
    #[serde(default)]
    pub raw_body: Option<String>,
    #[serde(default)]
    pub identity: Identity,
    /// Make this error row answer the request (targets with a control plane only).
    #[serde(default)]
    pub inject: Option<String>,
    /// `success`, or the code of one of the spec's error rows.
    pub expect: String,
    /// Requests sent afterwards, each checked against its own `expect`.
    #[serde(default)]
    pub then: Vec<Step>,
}

/// A setup or follow-up step: exactly one of `fixture`, `request`, `raw`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// A resource to create (through the control plane, or the profile's `create_fixture`).
    #[serde(default)]
    pub fixture: Option<Map<String, Value>>,
    /// A request by spec parameter name, sent like the case's own.
    #[serde(default)]
    pub request: Option<Map<String, Value>>,
    /// An HTTP request sent as written.
    #[serde(default)]
    pub raw: Option<RawRequest>,
    #[serde(default)]
    pub identity: Identity,
    /// For `request` steps: `success` (the default) or an error code.
    #[serde(default)]
    pub expect: Option<String>,
}

/// An HTTP request written out: setup the protocol cannot express (other actions, a
/// peer's reset endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    #[serde(default = "post")]
    pub method: String,
    #[serde(default = "slash")]
    pub path: String,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
    /// Sign with the API's credentials (SigV4 APIs) or send its token (Nimble).
    #[serde(default = "yes")]
    pub sign: bool,
    /// The status the answer must have; any 2xx when absent.
    #[serde(default)]
    pub status: Option<u16>,
}

/// The same defaults as an omitted YAML key: a signed `POST /`.
impl Default for RawRequest {
    fn default() -> Self {
        Self {
            method: post(),
            path: slash(),
            headers: Default::default(),
            body: String::new(),
            sign: true,
            status: None,
        }
    }
}

impl RawRequest {
    /// This request with `{Field}` replaced by `fixture`'s values: URL-encoded in the path
    /// and in form bodies, JSON-escaped in JSON bodies.
    pub fn filled(&self, fixture: &Map<String, Value>) -> Self {
        let json_body = self.body.trim_start().starts_with(['{', '['])
            || self
                .headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.contains("json"));
        let mut out = self.clone();
        for (k, v) in fixture {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let hole = format!("{{{k}}}");
            out.path = out.path.replace(&hole, &super::client::enc(&text));
            let in_body = if json_body {
                let quoted = Value::String(text).to_string();
                quoted[1..quoted.len() - 1].to_string()
            } else {
                super::client::enc(&text)
            };
            out.body = out.body.replace(&hole, &in_body);
        }
        out
    }
}

fn post() -> String {
    "POST".into()
}
fn slash() -> String {
    "/".into()
}
fn yes() -> bool {
    true
}

/// What a case does around its request (suite cases only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Around {
    pub about: Option<String>,
    pub setup: Vec<Step>,
    pub then: Vec<Step>,
}

fn parse_expect(spec: &Spec, what: &str, s: &str) -> Result<Expect, String> {
    if s == "success" {
        return Ok(Expect::Success);
    }
    if spec.errors.iter().any(|e| e.code == s) {
        return Ok(Expect::Error(s.to_string()));
    }
    Err(format!(
        "{what}: expect '{s}' is neither `success` nor a code in the error table of {}",
        spec.api.id
    ))
}

impl Step {
    /// The outcome a `request` step expects.
    pub fn expected(&self, spec: &Spec) -> Result<Expect, String> {
        parse_expect(spec, "step", self.expect.as_deref().unwrap_or("success"))
    }

    fn check(&self, spec: &Spec, what: &str) -> Result<(), String> {
        let kinds = [
            self.fixture.is_some(),
            self.request.is_some(),
            self.raw.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(format!(
                "{what}: a step has exactly one of `fixture`, `request`, `raw`"
            ));
        }
        if self.expect.is_some() && self.request.is_none() {
            return Err(format!(
                "{what}: `expect` belongs to `request` steps (raw steps use `status`)"
            ));
        }
        if let Some(f) = &self.fixture {
            if let Some(k) = f
                .keys()
                .find(|k| !spec.resource.fields.iter().any(|x| &x.name == *k))
            {
                return Err(format!(
                    "{what}: fixture field '{k}' is not a field of {}",
                    spec.resource.name
                ));
            }
        }
        self.expected(spec)
            .map(|_| ())
            .map_err(|e| format!("{what}: {e}"))
    }
}

/// Reads a suite; `origin` names it in errors.
pub fn parse(origin: &str, text: &str, specs: &[Spec]) -> Result<Vec<Case>, String> {
    let suite: Suite = crate::spec::decode_yaml(text).map_err(|e| format!("{origin}: {e}"))?;
    let spec = specs
        .iter()
        .find(|s| s.api.id == suite.api)
        .ok_or_else(|| format!("{origin}: no spec has api id '{}'", suite.api))?;
    cases_of(origin, &suite, spec)
}

fn cases_of(origin: &str, suite: &Suite, spec: &Spec) -> Result<Vec<Case>, String> {
    let mut names = std::collections::HashSet::new();
    let mut out = Vec::new();
    for sc in &suite.cases {
        let what = format!("{origin}: case '{}'", sc.name);
        if sc.name.is_empty() || sc.name.contains(['*', '?', ' ']) {
            return Err(format!(
                "{what}: a name is non-empty, without spaces or globs"
            ));
        }
        if !names.insert(sc.name.clone()) {
            return Err(format!("{what}: the name is used twice"));
        }
        for (i, s) in sc.setup.iter().enumerate() {
            s.check(spec, &format!("{what}, setup step {}", i + 1))?;
        }
        for (i, s) in sc.then.iter().enumerate() {
            s.check(spec, &format!("{what}, then step {}", i + 1))?;
        }
        if sc.then.iter().any(|s| s.fixture.is_some()) {
            return Err(format!("{what}: fixtures belong in `setup`"));
        }
        let expect = parse_expect(spec, &what, &sc.expect)?;
        if let Some(code) = &sc.inject {
            if !spec.errors.iter().any(|e| &e.code == code) {
                return Err(format!("{what}: inject '{code}' is not in the error table"));
            }
        }
        out.push(Case {
            name: format!("{}/suite/{}", suite.api, sc.name),
            api: suite.api.clone(),
            params: sc.request.clone(),
            raw_body: sc.raw_body.clone(),
            signing: sc.identity.signing(),
            inject: sc.inject.clone(),
            covers: match &expect {
                Expect::Success => vec![format!("suite:{}", sc.name)],
                Expect::Error(c) => vec![format!("suite:{}", sc.name), format!("error:{c}")],
            },
            expect,
            around: Some(Box::new(Around {
                about: sc.about.clone(),
                setup: sc.setup.clone(),
                then: sc.then.clone(),
            })),
        });
    }
    Ok(out)
}

/// The embedded suites' cases for `spec`. A suite that does not read is reported by
/// [`check_embedded`] (and its test), and yields no case here.
pub fn embedded_cases(spec: &Spec) -> Vec<Case> {
    // Read once per process: cases are made for each spec, and each would read them all.
    static SUITES: std::sync::OnceLock<Vec<(&str, Suite)>> = std::sync::OnceLock::new();
    let suites = SUITES.get_or_init(|| {
        EMBEDDED
            .iter()
            .filter_map(|(name, text)| Some((*name, crate::spec::decode_yaml(text).ok()?)))
            .collect()
    });
    suites
        .iter()
        .filter(|(_, suite)| suite.api == spec.api.id)
        .filter_map(|(name, suite)| cases_of(&format!("suites/{name}"), suite, spec).ok())
        .flatten()
        .collect()
}

/// Checks every embedded suite against the embedded specs; returns the number of cases.
pub fn check_embedded(specs: &[Spec]) -> Result<usize, String> {
    let mut n = 0;
    for (name, text) in EMBEDDED {
        n += parse(&format!("suites/{name}"), text, specs)?.len();
    }
    Ok(n)
}

/// Reads every `*.yaml` suite in `dir`.
pub fn load_dir(dir: &Path, specs: &[Spec]) -> Result<Vec<Case>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        out.extend(parse(&f.display().to_string(), &text, specs)?);
    }
    Ok(out)
}

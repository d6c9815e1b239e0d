//! Where the cases go: the embedded fake started in-process (the default), or a target
//! profile (YAML) naming, per API, a base URL and the credentials to sign with.
//!
//! ```yaml
//! apis:
//!   aws-iam:
//!     base_url: http://127.0.0.1:5000          # e.g. moto_server
//!     credentials: {access_key: AKID, secret_key: SECRET, region: us-east-1}
//!     limited: {access_key: AKIDLIMITED, secret_key: S}   # optional: basic role only
//!     unprivileged: {access_key: AKIDNOROLES, secret_key: S}   # optional: no role
//!     control_plane: false                     # true: an apiconform fake (reset, faults)
//!   hpe-nimble:
//!     base_url: https://array:5392
//!     login: {username: admin, password: password-91}
//!     tls_insecure: true
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::auth::{self, sigv4};

use super::suite::RawRequest;

/// Credentials to sign with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    #[serde(default)]
    pub session_token: Option<String>,
    /// Region for the credential scope when the spec does not fix one.
    #[serde(default = "default_region")]
    pub region: String,
}

fn default_region() -> String {
    "us-east-1".into()
}

impl Credentials {
    pub fn sigv4(&self) -> sigv4::Credentials {
        sigv4::Credentials {
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
            session_token: self.session_token.clone(),
        }
    }

    /// The fake's default key (with the Nexfs session token).
    pub fn default_fake() -> Self {
        Self {
            access_key: auth::DEFAULT_ACCESS_KEY.into(),
            secret_key: auth::DEFAULT_SECRET_KEY.into(),
            session_token: Some(auth::DEFAULT_SESSION_TOKEN.into()),
            region: default_region(),
        }
    }

    /// The fake's Nexfs session without any role.
    pub fn no_roles_fake() -> Self {
        Self {
            access_key: "AKIDNOROLES".into(),
            secret_key: "noRolesSecretKeyEXAMPLE".into(),
            session_token: Some("NOROLESSESSIONTOKEN".into()),
            region: default_region(),
        }
    }

    /// The fake's limited Nexfs session (role iam/UpdateUsers only).
    pub fn limited_fake() -> Self {
        Self {
            access_key: "AKIDLIMITED".into(),
            secret_key: "limitedSecretKeyEXAMPLE".into(),
            session_token: Some("LIMITEDSESSIONTOKEN".into()),
            region: default_region(),
        }
    }
}

/// A token login (the same shape the fake accepts in its `--config`).
pub use crate::auth::Login;

/// One API of a target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiTarget {
    pub base_url: String,
    #[serde(default = "Credentials::default_fake")]
    pub credentials: Credentials,
    /// An identity holding only the basic role (for `forbidden` cases on the extra
    /// roles); those cases are skipped when absent.
    #[serde(default)]
    pub limited: Option<Credentials>,
    /// An identity holding no role at all (for `forbidden` cases on the basic role).
    #[serde(default)]
    pub unprivileged: Option<Credentials>,
    #[serde(default)]
    pub login: Option<Login>,
    #[serde(default)]
    pub tls_insecure: bool,
    /// The target is an apiconform fake: reset before each case, seed fixtures, inject
    /// faults.
    #[serde(default)]
    pub control_plane: bool,
    /// Without a control plane: requests sent before every case to bring the target to
    /// the document's starting state (a peer's reset endpoint, creating the fixtures).
    #[serde(default)]
    pub before_each: Vec<RawRequest>,
    /// Without a control plane: the request that creates a suite's fixture, `{Field}` in
    /// its path and body replaced by the fixture's values (URL-encoded in the path and in
    /// form bodies, JSON-escaped in JSON bodies).
    #[serde(default)]
    pub create_fixture: Option<RawRequest>,
    /// Without a control plane: how to read one resource back, so the runner can check
    /// that an update took effect and that a refused request changed nothing.
    #[serde(default)]
    pub read_back: Option<ReadBack>,
}

/// A request that reads one resource (IAM `GetUser`, Transfer `DescribeUser` ...), and
/// where the spec's resource fields are in its answer.
///
/// ```yaml
/// read_back:
///   request:
///     headers: {content-type: application/x-www-form-urlencoded; charset=utf-8}
///     body: Action=GetUser&Version=2010-05-08&UserName={UserName}
///   fields:
///     UserName: GetUserResponse/GetUserResult/User/UserName
///     Path: GetUserResponse/GetUserResult/User/Path
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadBack {
    /// `{Field}` is replaced by the resource's key fields (as in `create_fixture`).
    pub request: RawRequest,
    /// Spec field → slash-separated path in the answer's tree (XML names without
    /// prefixes). Only these fields are checked.
    pub fields: BTreeMap<String, String>,
    /// Statuses that mean "no such resource" (default 400 and 404); any other non-2xx
    /// answer is a failure of the read-back.
    #[serde(default = "absent_statuses")]
    pub absent: Vec<u16>,
}

fn absent_statuses() -> Vec<u16> {
    vec![400, 404]
}

/// A target profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub apis: BTreeMap<String, ApiTarget>,
    /// Seconds to wait for each answer.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// After this many timeouts in a row on one API, its remaining cases fail at once as
    /// "target stalled" instead of each waiting out the timeout; 0 never gives up.
    #[serde(default = "default_stall_after")]
    pub stall_after: u32,
}

fn default_stall_after() -> u32 {
    3
}

fn default_timeout() -> f64 {
    10.0
}

impl Profile {
    /// Reads a profile (YAML); the error names the file and, for bad YAML, the line.
    pub fn load(path: &Path) -> Result<Self, super::RunnerError> {
        let err = |message: String| super::RunnerError::Profile {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        crate::spec::decode_yaml(&text).map_err(err)
    }

    /// Every embedded API served by one apiconform fake at `base_url`, with its defaults.
    pub fn fake(base_url: &str) -> Self {
        Self::fake_for(base_url, &crate::spec::embedded().unwrap_or_default())
    }

    /// Every API of `specs` served by one apiconform fake at `base_url`, with the fake's
    /// default credentials (and its default login where the API logs in for a token).
    pub fn fake_for(base_url: &str, specs: &[crate::spec::Spec]) -> Self {
        let default_login = auth::AuthConfig::default().logins.into_iter().next();
        let api = |spec: &crate::spec::Spec| {
            let token = matches!(spec.auth, crate::spec::model::Auth::Token { .. });
            (
                spec.api.id.clone(),
                ApiTarget {
                    base_url: base_url.to_string(),
                    credentials: Credentials::default_fake(),
                    limited: Some(Credentials::limited_fake()),
                    unprivileged: Some(Credentials::no_roles_fake()),
                    login: default_login.clone().filter(|_| token),
                    tls_insecure: true,
                    control_plane: true,
                    before_each: Vec::new(),
                    create_fixture: None,
                    read_back: None,
                },
            )
        };
        Self {
            apis: specs.iter().map(api).collect(),
            timeout_secs: default_timeout(),
            stall_after: default_stall_after(),
        }
    }
}

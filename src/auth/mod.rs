//! Authentication: the credentials the fake accepts (SigV4 keys with optional session
//! tokens and Nexfs roles, NimbleOS logins), and the SigV4 verifier/signer in [`sigv4`].

pub mod sigv4;

use serde::{Deserialize, Serialize};

/// One SigV4 identity the fake accepts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub access_key: String,
    pub secret_key: String,
    /// Session token; required on requests to APIs whose spec says
    /// `session_token_required` (Nexfs), checked whenever a request carries one.
    #[serde(default)]
    pub session_token: Option<String>,
    /// Roles the session holds (Nexfs `iam/...` roles).
    #[serde(default)]
    pub roles: Vec<String>,
    /// The user the session belongs to (Nexfs: a user may change its own secret).
    #[serde(default)]
    pub user: Option<String>,
}

/// A NimbleOS login.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// Everything the fake accepts as proof of identity. `--config FILE` loads one from YAML.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default)]
    pub credentials: Vec<Credential>,
    #[serde(default)]
    pub logins: Vec<Login>,
}

/// The default access key (AWS's documentation example key).
pub const DEFAULT_ACCESS_KEY: &str = "AKIDEXAMPLE";
/// The default secret key.
pub const DEFAULT_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// The default Nexfs session token (belongs to the default key).
pub const DEFAULT_SESSION_TOKEN: &str = "EXAMPLESESSIONTOKEN";
/// The Nexfs roles the documentation names.
pub const NEXFS_ROLES: [&str; 3] = [
    "iam/UpdateUsers",
    "iam/UpdateOtherUserSecret",
    "iam/UpdateOtherUserContentSecret",
];

impl Default for AuthConfig {
    /// `AKIDEXAMPLE` with every role (session token `EXAMPLESESSIONTOKEN`, user `admin`),
    /// `AKIDLIMITED` with only `iam/UpdateUsers` (token `LIMITEDSESSIONTOKEN`, user
    /// `LimitedUser`), `AKIDNOROLES` with no role (token `NOROLESSESSIONTOKEN`), and the
    /// NimbleOS login `admin` / `password-91`.
    fn default() -> Self {
        Self {
            credentials: vec![
                Credential {
                    access_key: DEFAULT_ACCESS_KEY.into(),
                    secret_key: DEFAULT_SECRET_KEY.into(),
                    session_token: Some(DEFAULT_SESSION_TOKEN.into()),
                    roles: NEXFS_ROLES.iter().map(|r| r.to_string()).collect(),
                    user: Some("admin".into()),
                },
                Credential {
                    access_key: "AKIDLIMITED".into(),
                    secret_key: "limitedSecretKeyEXAMPLE".into(),
                    session_token: Some("LIMITEDSESSIONTOKEN".into()),
                    roles: vec!["iam/UpdateUsers".into()],
                    user: Some("LimitedUser".into()),
                },
                Credential {
                    access_key: "AKIDNOROLES".into(),
                    secret_key: "noRolesSecretKeyEXAMPLE".into(),
                    session_token: Some("NOROLESSESSIONTOKEN".into()),
                    roles: Vec::new(),
                    user: Some("NoRolesUser".into()),
                },
            ],
            logins: vec![Login {
                username: "admin".into(),
                password: "password-91".into(),
            }],
        }
    }
}

impl AuthConfig {
    pub fn credential(&self, access_key: &str) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.access_key == access_key)
    }
}

//! Authentication: the credentials the fake accepts (SigV4 keys with optional session
//! tokens and roles, logins for token sessions), the SigV4 verifier/signer in [`sigv4`]
//! and the live sessions of token-auth APIs in [`token`].

pub mod sigv4;
pub mod token;

use serde::{Deserialize, Serialize};

/// One SigV4 identity the fake accepts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub access_key: String,
    pub secret_key: String,
    /// Session token; required on requests to APIs whose spec says
    /// `session_token_required`, checked whenever a request carries one.
    #[serde(default)]
    pub session_token: Option<String>,
    /// Roles the session holds (what specs' `requires-role` rules ask for).
    #[serde(default)]
    pub roles: Vec<String>,
    /// The user the session belongs to (a rule may exempt a user's own resource).
    #[serde(default)]
    pub user: Option<String>,
}

/// A username and password that open a token session.
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
/// The default key's session token.
pub const DEFAULT_SESSION_TOKEN: &str = "EXAMPLESESSIONTOKEN";

/// The identities the fake accepts by default, in the `--config` format.
pub const DEFAULT_IDENTITIES: &str = include_str!("../../specs/identities.yaml");

impl Default for AuthConfig {
    /// `specs/identities.yaml`: `AKIDEXAMPLE` with every role (session token
    /// `EXAMPLESESSIONTOKEN`, user `admin`), `AKIDLIMITED` with the basic role only,
    /// `AKIDNOROLES` with no role, and the login `admin` / `password-91`.
    fn default() -> Self {
        crate::spec::decode_yaml(DEFAULT_IDENTITIES)
            .expect("specs/identities.yaml is valid (checked by the auth tests)")
    }
}

impl sigv4::Secret for Credential {
    fn secret_key(&self) -> &str {
        &self.secret_key
    }
    fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl AuthConfig {
    pub fn credential(&self, access_key: &str) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.access_key == access_key)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_identities_read() {
        let c = super::AuthConfig::default();
        assert_eq!(c.credentials.len(), 3);
        assert_eq!(c.credentials[0].access_key, super::DEFAULT_ACCESS_KEY);
        assert_eq!(c.logins.len(), 1);
    }
}

//! Redaction, for what leaves the machine: recordings of a real service (`test --target
//! --update`, the observed answers) and the raw exchanges in published reports. Secrets
//! become markers such as `<redacted:secret-key>`:
//!
//! - the profile's own credentials, session tokens and passwords, wherever they appear;
//! - AWS access key ids and the ids that share their form (`AKIA…`, `ASIA…`, `AIDA…` …);
//! - the account id in ARNs (`arn:aws:iam::<redacted:account-id>:user/Bob`) and in
//!   members named `Account`, `AccountId`, `OwnerId`;
//! - request ids (members named `RequestId`, `request_id` …) not already masked by the
//!   spec's compare rules;
//! - members whose name says token, secret, password, credential or access key;
//! - in raw HTTP: the SigV4 credential and signature, and token and cookie headers.
//!
//! A snapshot with markers is compared with an answer redacted the same way, so a
//! recording still grades another implementation (`test --snapshots DIR`).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::target::Profile;

/// What marks a redacted value.
pub const MARKER: &str = "<redacted:";

static KEY_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|APKA|ABIA|ACCA|AIPA)[A-Z0-9]{12,}\b")
        .expect("constant")
});
static ARN_ACCOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(arn:[A-Za-z0-9-]*:[A-Za-z0-9-]*:[A-Za-z0-9-]*:)([0-9]{12})\b")
        .expect("constant")
});
static SIGV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(Credential=)[^/,\s]+(/)|(Signature=)[0-9a-fA-F]+").expect("constant")
});

/// Redacts the secrets of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Redactor {
    /// Exact strings to hide, longest first, with the marker's label.
    secrets: Vec<(String, &'static str)>,
}

impl Redactor {
    /// The patterns alone (no profile secrets).
    pub fn new() -> Self {
        Self::default()
    }

    /// The patterns and every credential, session token and password of `profile`.
    pub fn with_profile(profile: &Profile) -> Self {
        let mut r = Self::new();
        for t in profile.apis.values() {
            for c in std::iter::once(&t.credentials)
                .chain(t.limited.as_ref())
                .chain(t.unprivileged.as_ref())
            {
                r.add(&c.access_key, "access-key");
                r.add(&c.secret_key, "secret-key");
                if let Some(tok) = &c.session_token {
                    r.add(tok, "session-token");
                }
            }
            if let Some(l) = &t.login {
                r.add(&l.password, "password");
            }
        }
        r
    }

    /// Hides `secret` (strings shorter than 6 characters are left: they would hide words).
    pub fn add(&mut self, secret: &str, label: &'static str) {
        if secret.chars().count() >= 6 && !self.secrets.iter().any(|(s, _)| s == secret) {
            self.secrets.push((secret.to_string(), label));
            self.secrets
                .sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        }
    }

    /// A text with every secret and pattern replaced.
    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (secret, label) in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), &format!("{MARKER}{label}>"));
            }
        }
        let out = KEY_ID.replace_all(&out, "<redacted:key-id>");
        ARN_ACCOUNT
            .replace_all(&out, "${1}<redacted:account-id>")
            .into_owned()
    }

    /// A tree (an answer, as normalised) with its secrets replaced.
    pub fn tree(&self, v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), self.member(k, v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(|v| self.tree(v)).collect()),
            Value::String(s) => Value::String(self.text(s)),
            other => other.clone(),
        }
    }

    fn member(&self, name: &str, v: &Value) -> Value {
        let masked = |s: &str| s.starts_with('<') && s.ends_with('>');
        let lower = name.trim_start_matches('@').to_ascii_lowercase();
        let label = match lower.replace(['_', '-'], "").as_str() {
            "requestid" | "xamznrequestid" => Some("request-id"),
            "account" | "accountid" | "ownerid" => Some("account-id"),
            n if ["token", "secret", "password", "credential", "accesskey"]
                .iter()
                .any(|w| n.contains(w)) =>
            {
                Some("secret")
            }
            _ => None,
        };
        match (label, v) {
            (Some(l), Value::String(s)) if !masked(s) && !s.is_empty() => {
                if l == "account-id" && !(s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())) {
                    Value::String(self.text(s))
                } else {
                    Value::String(format!("{MARKER}{l}>"))
                }
            }
            (Some("account-id"), Value::Number(n)) if n.to_string().len() == 12 => {
                Value::String(format!("{MARKER}account-id>"))
            }
            _ => self.tree(v),
        }
    }

    /// Raw HTTP text (a request or an answer): the SigV4 credential and signature, token
    /// and cookie headers, then every secret and pattern.
    pub fn http(&self, raw: &str) -> String {
        let (head, body) = raw.split_once("\n\n").unwrap_or((raw, ""));
        let mut out = String::new();
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            let name = lower.split(':').next().unwrap_or_default().trim();
            let line = match name {
                "authorization" => SIGV4
                    .replace_all(line, |c: &regex::Captures| {
                        if c.get(1).is_some() {
                            format!("{}<redacted:access-key>/", &c[1])
                        } else {
                            "Signature=<redacted:signature>".to_string()
                        }
                    })
                    .into_owned(),
                "x-amz-security-token" | "x-auth-token" | "cookie" | "set-cookie" | "x-api-key" => {
                    format!("{}: <redacted:token>", &line[..name.len()])
                }
                _ => line.to_string(),
            };
            out.push_str(&self.text(&line));
            out.push('\n');
        }
        if raw.contains("\n\n") {
            out.push('\n');
            out.push_str(&self.text(body));
        }
        out
    }
}

/// Whether a tree holds a redaction marker (then the answer it is compared with is
/// redacted the same way first).
pub fn has_markers(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains(MARKER),
        Value::Array(a) => a.iter().any(has_markers),
        Value::Object(m) => m.iter().any(|(_, v)| has_markers(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_ids_and_accounts_are_redacted() {
        let mut r = Redactor::new();
        r.add("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "secret-key");
        let v = json!({
            "User": {"Arn": "arn:aws:iam::123456789012:user/Bob", "UserId": "AIDACKCEVSQ6C2EXAMPLE"},
            "ResponseMetadata": {"RequestId": "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE"},
            "Masked": {"RequestId": "<uuid>"},
            "SessionToken": "FQoGZXIvYXdzEXAMPLE",
            "Echo": "key wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "OwnerId": "210987654321",
        });
        let got = r.tree(&v);
        assert_eq!(
            got,
            json!({
                "User": {"Arn": "arn:aws:iam::<redacted:account-id>:user/Bob", "UserId": "<redacted:key-id>"},
                "ResponseMetadata": {"RequestId": "<redacted:request-id>"},
                "Masked": {"RequestId": "<uuid>"},
                "SessionToken": "<redacted:secret>",
                "Echo": "key <redacted:secret-key>",
                "OwnerId": "<redacted:account-id>",
            })
        );
        assert!(has_markers(&got) && !has_markers(&v));
    }

    #[test]
    fn raw_http_loses_its_signature_and_tokens() {
        let raw = "POST / HTTP/1.1\nhost: x\nauthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=0a1b2c3d\nx-amz-security-token: EXAMPLESESSIONTOKEN\n\nAction=UpdateUser";
        let got = Redactor::new().http(raw);
        assert!(
            got.contains("Credential=<redacted:access-key>/20260101/us-east-1/iam/aws4_request"),
            "{got}"
        );
        assert!(got.contains("Signature=<redacted:signature>"), "{got}");
        assert!(
            got.contains("x-amz-security-token: <redacted:token>"),
            "{got}"
        );
        assert!(got.ends_with("\n\nAction=UpdateUser"), "{got}");
        assert!(!got.contains("0a1b2c3d") && !got.contains("EXAMPLESESSIONTOKEN"));
    }
}

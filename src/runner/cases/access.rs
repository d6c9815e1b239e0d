//! Authentication cases: unsigned, tampered and unknown-key requests (SigV4), a missing
//! and a bad token (token sessions).

use super::super::client::Signing;
use super::super::target::Credentials;
use super::{Case, Expect, Gen};
use crate::spec::model::Auth;

/// Each way authentication fails, with the row the spec gives it.
pub(super) fn authentication(g: &mut Gen) {
    let spec = g.spec;
    let api = g.api.clone();
    let base = g.base.clone();
    // Authentication.
    let auth_cases: Vec<(&str, Signing, String)> = match &spec.auth {
        Auth::Sigv4 { errors, .. } => vec![
            ("unsigned", Signing::None, errors.missing.clone()),
            ("tampered", Signing::Tampered, errors.bad_signature.clone()),
            (
                "unknown-key",
                Signing::SignedAs(Credentials {
                    access_key: "AKIDUNKNOWNEXAMPLE".into(),
                    ..Credentials::default_fake()
                }),
                errors.unknown_key.clone(),
            ),
        ],
        Auth::Token {
            unauthenticated, ..
        } => vec![
            ("no-token", Signing::None, unauthenticated.clone()),
            ("bad-token", Signing::Tampered, unauthenticated.clone()),
        ],
    };
    for (label, signing, code) in auth_cases {
        g.out.push(Case {
            name: format!("{api}/auth/{label}"),
            api: g.api.clone(),
            params: base.clone(),
            raw_body: None,
            signing,
            inject: None,
            expect: Expect::Error(code.clone()),
            covers: vec![format!("error:{code}")],
            around: None,
        });
    }
}

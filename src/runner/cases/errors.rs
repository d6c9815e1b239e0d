//! Cases for error rows no request can provoke by itself: every row injected (targets
//! with a control plane), and an undecodable body.

use super::super::client::Signing;
use super::{Case, Expect, Gen};
use crate::spec::model::Trigger;

/// Every row, injected.
pub(super) fn injected(g: &mut Gen) {
    let spec = g.spec;
    let api = g.api.clone();
    let base = g.base.clone();
    // Every row can be injected (a target with a control plane).
    for row in &spec.errors {
        g.out.push(Case {
            name: format!("{api}/injected/{}", row.code),
            api: g.api.clone(),
            params: base.clone(),
            raw_body: None,
            signing: Signing::Signed,
            inject: Some(row.code.clone()),
            expect: Expect::Error(row.code.clone()),
            covers: vec![format!("error:{}", row.code), "injected".into()],
            around: None,
        });
    }
}

/// A body that cannot be decoded (JSON protocols; forms decode leniently).
pub(super) fn malformed(g: &mut Gen) {
    let spec = g.spec;
    let api = g.api.clone();
    let base = g.base.clone();
    // An undecodable body (JSON protocols; forms decode leniently, Nexfs has no body).
    if let Some(row) = spec
        .errors
        .iter()
        .find(|e| e.triggers().any(|t| *t == Trigger::Malformed))
    {
        if !spec.protocol.is_xml() {
            g.out.push(Case {
                name: format!("{api}/malformed/truncated-body"),
                api: g.api.clone(),
                params: base.clone(),
                raw_body: Some("{\"truncated\": ".to_string()),
                signing: Signing::Signed,
                inject: None,
                expect: Expect::Error(row.code.clone()),
                covers: vec![format!("error:{}", row.code)],
                around: None,
            });
        }
    }
}

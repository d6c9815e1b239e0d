//! Injected failures: "the next N requests to this API answer with that error row", for
//! tests of how code copes with throttling, service faults or any other documented row.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

/// A queued injected failure: the next `remaining` requests to `api` answer with `code`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FaultRule {
    pub api: String,
    pub code: String,
    pub remaining: u32,
}

/// The queued failures. A request costs one atomic load while none is queued.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
    count: AtomicUsize,
}

impl Faults {
    fn rules(&self) -> MutexGuard<'_, Vec<FaultRule>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `rule` (the caller checked that its code is a row of its API).
    pub fn push(&self, rule: FaultRule) {
        let mut f = self.rules();
        f.push(rule);
        self.count.store(f.len(), Ordering::Relaxed);
    }

    /// The code the next request to `api` must answer with, if one is queued.
    pub fn take(&self, api: &str) -> Option<String> {
        if self.count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut f = self.rules();
        let i = f.iter().position(|r| r.api == api && r.remaining > 0)?;
        let code = f[i].code.clone();
        f[i].remaining -= 1;
        if f[i].remaining == 0 {
            f.remove(i);
        }
        self.count.store(f.len(), Ordering::Relaxed);
        Some(code)
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules().clone()
    }

    pub fn clear(&self) {
        self.rules().clear();
        self.count.store(0, Ordering::Relaxed);
    }
}

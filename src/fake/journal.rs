//! The journal: the requests the fake received, oldest first, bounded (`journal_cap`),
//! for tests that check what their code sent.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

/// One request the fake received, as the journal keeps it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JournalEntry {
    pub seq: u64,
    pub time: String,
    pub api: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub error_code: Option<String>,
    pub request_id: String,
}

/// One request as recorded: what [`JournalEntry`] shows, with its time and method kept
/// as they are and written out only when the journal is read (not on every request).
#[derive(Debug)]
pub struct Recorded {
    pub seq: u64,
    pub time: time::OffsetDateTime,
    /// The API's position among the engine's specs (named when the journal is read).
    pub api: Option<usize>,
    pub method: http::Method,
    /// The path's text, inline up to 128 bytes: any path of the five APIs, a WorkDocs
    /// path with its escaped user id included (about 80 bytes), where 64 bytes left it to
    /// an allocation on every request. The journal keeps 1 000 entries by default: the
    /// 64 bytes more cost 62.5 KiB.
    pub path: smallvec::SmallVec<[u8; 128]>,
    pub status: u16,
    pub error_code: Option<String>,
    pub request_id: crate::protocol::RequestId,
}

impl Recorded {
    fn entry(&self, api_name: &dyn Fn(usize) -> String) -> JournalEntry {
        JournalEntry {
            seq: self.seq,
            time: self
                .time
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            api: self.api.map(api_name),
            method: self.method.to_string(),
            path: String::from_utf8_lossy(&self.path).into_owned(),
            status: self.status,
            error_code: self.error_code.clone(),
            request_id: self.request_id.to_string(),
        }
    }
}

/// The last `cap` requests, in arrival order.
#[derive(Debug, Default)]
pub struct Journal {
    cap: usize,
    entries: Mutex<VecDeque<Recorded>>,
}

impl Journal {
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            entries: Mutex::default(),
        }
    }

    fn entries(&self) -> MutexGuard<'_, VecDeque<Recorded>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `entry` (request `entry.seq` in arrival order), dropping the oldest past the
    /// cap; a cap of 0 keeps nothing.
    pub fn record(&self, entry: Recorded) {
        if self.cap == 0 {
            return;
        }
        let mut j = self.entries();
        while j.len() >= self.cap {
            j.pop_front();
        }
        // Numbered on arrival, recorded on completion: keep the journal in arrival order
        // when a later request finished first (almost always this is the back).
        let at = j
            .iter()
            .rposition(|e| e.seq < entry.seq)
            .map_or(0, |i| i + 1);
        j.insert(at, entry);
    }

    /// The requests kept, oldest first, their APIs named by `api_name`.
    pub fn list(&self, api_name: &dyn Fn(usize) -> String) -> Vec<JournalEntry> {
        self.entries().iter().map(|e| e.entry(api_name)).collect()
    }

    pub fn clear(&self) {
        self.entries().clear();
    }
}

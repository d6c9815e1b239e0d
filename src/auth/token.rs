//! Session tokens for APIs whose auth scheme is `token`: a login with a username and a
//! password makes a session, whose token the client then sends in a header. The fake
//! keeps the live sessions here; the endpoints that make, read and end them are served
//! at the scheme's `login_path`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

/// A live session.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    /// The session's object id (42 hex digits).
    pub id: String,
    /// What the client sends in the token header (32 hex digits).
    pub session_token: String,
    pub username: String,
    pub app_name: String,
    pub creation_time: i64,
    pub last_modified: i64,
}

/// The live sessions, by token.
#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

fn hex(n: usize) -> String {
    let mut s = String::new();
    while s.len() < n {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(n);
    s
}

impl Sessions {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a session for `username` (whose password the caller checked).
    pub fn open(&self, username: &str, app_name: &str) -> Session {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let session = Session {
            id: hex(42),
            session_token: hex(32),
            username: username.to_string(),
            app_name: app_name.to_string(),
            creation_time: now,
            last_modified: now,
        };
        self.map()
            .insert(session.session_token.clone(), session.clone());
        session
    }

    /// The user a token belongs to, if it is live.
    pub fn user(&self, token: &str) -> Option<String> {
        self.map().get(token).map(|s| s.username.clone())
    }

    /// The session with object id `id`.
    pub fn by_id(&self, id: &str) -> Option<Session> {
        self.map().values().find(|s| s.id == id).cloned()
    }

    /// Ends every session (a restarted server).
    pub fn clear(&self) {
        self.map().clear();
    }

    /// Ends the session with object id `id`.
    pub fn end(&self, id: &str) {
        self.map().retain(|_, s| s.id != id);
    }
}

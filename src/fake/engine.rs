//! The fake's core, independent of any transport: an HTTP request in, an HTTP response
//! out. Routing, authentication, decoding, validation, rules, the state change and the
//! answer all follow the specs; no code here knows a particular API.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{header, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::faults::{FaultRule, Faults};
use super::journal::{Journal, JournalEntry, Recorded};
use super::store::{Changes, Snapshot, Store, UpdateError};
use crate::auth::sigv4;
use crate::auth::AuthConfig;
use crate::protocol::routes::Routes;
use crate::protocol::{self, Fit, Request};
use crate::spec::model::{Auth, ErrorRow, OpKind, Paging, RuleCheck, Spec};
use crate::spec::template::{Scope, Template, View};
use crate::spec::validate;

/// Settings of one fake instance.
#[derive(Debug, Clone)]
pub struct Config {
    pub auth: AuthConfig,
    /// Accept every request without checking signatures or tokens (roles are all granted).
    pub no_auth: bool,
    /// How many requests the journal keeps (oldest dropped first).
    pub journal_cap: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            auth: AuthConfig::default(),
            no_auth: false,
            journal_cap: 1000,
        }
    }
}

/// An API's resources at one moment ([`Engine::rows`]): the store's rows, shared with it,
/// and the spec that lays them out. Read a field in place with [`StoredRows::field`], or
/// a whole resource with [`StoredRows::unpack`].
#[derive(Clone)]
pub struct StoredRows {
    spec: Arc<Spec>,
    rows: Vec<super::store::Row>,
}

impl StoredRows {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Field `name` of resource `i` (`None` when unset).
    pub fn field(&self, i: usize, name: &str) -> Option<&Value> {
        let at = self
            .spec
            .resource
            .fields
            .iter()
            .position(|f| f.name == name)?;
        self.rows.get(i)?.get(at).filter(|v| !v.is_null())
    }

    /// Resource `i` as field → value.
    pub fn unpack(&self, i: usize) -> Option<Map<String, Value>> {
        let row = self.rows.get(i)?;
        Some(super::store::unpack(&self.spec.resource, row))
    }

    /// Every resource as field → value.
    pub fn unpacked(&self) -> Vec<Map<String, Value>> {
        (0..self.rows.len())
            .filter_map(|i| self.unpack(i))
            .collect()
    }

    /// What tells resource `i`'s row apart while someone holds it: two readings give the
    /// same identity for a row nothing has written to between them, and a written row
    /// a new one.
    pub fn identity(&self, i: usize) -> Option<usize> {
        self.rows
            .get(i)
            .map(|r| Arc::as_ptr(r) as *const Value as usize)
    }

    /// Whether `other` holds the very same rows in the same order: nothing was written
    /// to any of them between the two readings. (`false` says only that something may
    /// have changed: compare the values then.)
    pub fn same_as(&self, other: &StoredRows) -> bool {
        self.rows.len() == other.rows.len()
            && self
                .rows
                .iter()
                .zip(&other.rows)
                .all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

impl std::fmt::Debug for StoredRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredRows")
            .field("api", &self.spec.api.id)
            .field("rows", &self.rows.len())
            .finish()
    }
}

/// The fake: the request pipeline (route, authenticate, decode, validate, apply, encode)
/// over the specs, with the state, journal, faults and sessions beside it.
pub struct Engine {
    apis: Vec<Arc<Spec>>,
    /// Which of `apis` a request may be for.
    routes: Routes,
    /// The specs whose `token` scheme has its session endpoints at a login path: the
    /// first of each path, in spec order (the one [`Self::token_endpoints`] answers for).
    logins: Vec<usize>,
    store: Store,
    /// What a reset goes back to: the specs' fixtures and any [`Engine::seed_fixtures`].
    fixtures: std::sync::RwLock<Snapshot>,
    config: Config,
    faults: Faults,
    journal: Journal,
    seq: AtomicUsize,
    sessions: crate::auth::token::Sessions,
}

/// An error the control plane or the library API reports.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ControlError {
    #[error("no API '{0}' is served (known: {1})")]
    UnknownApi(String, String),
    #[error("API '{api}' has no error row '{code}'")]
    UnknownCode { api: String, code: String },
    #[error("resource rejected: {0}")]
    BadResource(String),
}

/// An error answer: the row, its message, and the extra body members.
type Rejection<'s> = (&'s ErrorRow, String, Map<String, Value>);

/// What went wrong with one call: the row to answer with, and its detail text.
struct Failure<'a> {
    row: &'a ErrorRow,
    detail: String,
}

impl Engine {
    /// A fake serving `specs`, with each spec's fixtures loaded.
    pub fn new(mut specs: Vec<Spec>, config: Config) -> Self {
        // Specs from `spec::gather` are linked already; specs given one by one are linked
        // here (a `shared_with` naming no spec served leaves that operation without state).
        let _ = crate::spec::load::link(&mut specs);
        // Each answer template is compiled here for its spec's fields as they are now (a
        // spec may have been changed since the loader compiled it), and the spec is held
        // unchanged from here on: [`answer`] reads rows at the template's positions.
        for spec in &mut specs {
            spec.response.compiled = Some(Template::compile_for(
                &spec.response.body,
                &spec.resource.fields,
            ));
        }
        let apis: Vec<Arc<Spec>> = specs.into_iter().map(Arc::new).collect();
        let store = Store::new(apis.iter().map(|s| s.store_id()));
        let mut paths: Vec<&str> = Vec::new();
        let logins = (0..apis.len())
            .filter(|&i| match &apis[i].auth {
                Auth::Token { login_path, .. } => {
                    let path = login_path.trim_end_matches('/');
                    let first = !paths.contains(&path);
                    paths.push(path);
                    first
                }
                _ => false,
            })
            .collect();
        let engine = Self {
            routes: Routes::new(apis.iter().map(|s| &**s)),
            logins,
            apis,
            store,
            fixtures: Default::default(),
            journal: Journal::new(config.journal_cap),
            config,
            faults: Faults::default(),
            seq: AtomicUsize::new(0),
            sessions: Default::default(),
        };
        for spec in engine
            .apis
            .iter()
            .filter(|s| s.resource.shared_with.is_none())
        {
            for fx in &spec.resource.fixtures {
                // Fixtures are checked by the loader; a clash between two of them would
                // leave the later one out, which the spec tests catch.
                let _ = engine.store.put(&spec.api.id, &spec.resource, fx.clone());
            }
        }
        *engine.fixtures.write().unwrap_or_else(|e| e.into_inner()) = engine.store.snapshot();
        engine
    }

    /// The specs served.
    pub fn specs(&self) -> impl Iterator<Item = &Spec> {
        self.apis.iter().map(|a| a.as_ref())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn api(&self, id: &str) -> Result<&Spec, ControlError> {
        self.shared_api(id).map(|a| a.as_ref())
    }

    fn shared_api(&self, id: &str) -> Result<&Arc<Spec>, ControlError> {
        self.apis.iter().find(|a| a.api.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.apis.iter().map(|a| a.api.id.as_str()).collect();
            ControlError::UnknownApi(id.into(), known.join(", "))
        })
    }

    /// Back to the fixtures: state, journal, faults and sessions are reset.
    pub fn reset(&self) {
        let owner = |id: &str| {
            self.apis
                .iter()
                .find(|s| s.api.id == id && s.resource.shared_with.is_none())
                .map(|s| &s.resource)
        };
        self.store.restore(
            &self.fixtures.read().unwrap_or_else(|e| e.into_inner()),
            owner,
        );
        self.journal.clear();
        self.faults.clear();
        self.sessions.clear();
    }

    /// Adds resources of `api` (as [`Engine::seed`] does) that are also fixtures: a reset
    /// brings them back. They are stored once, shared by the state and the fixtures
    /// (`serve --seed FILE`: 100 000 users are not kept twice).
    pub fn seed_fixtures(
        &self,
        api: &str,
        resources: impl IntoIterator<Item = Map<String, Value>>,
    ) -> Result<usize, ControlError> {
        let mut fixtures = self.fixtures.write().unwrap_or_else(|e| e.into_inner());
        let n = self.seed(api, resources)?;
        *fixtures = self.store.snapshot();
        Ok(n)
    }

    /// [`Engine::seed_fixtures`] from a JSON document `{"<api id>": [resource, ...], ...}`,
    /// each resource stored as soon as it is read: the document is never held as a tree,
    /// so 100 000 users cost the store and no more. Returns the number of resources; an
    /// error names the line and column of the resource it refused, and the resources read
    /// before it stay in the state but not in the fixtures (`serve` stops on it).
    pub fn seed_fixtures_json(&self, json: &[u8]) -> Result<usize, serde_json::Error> {
        use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
        struct Document<'e>(&'e Engine);
        struct Resources<'e, 'a>(&'e Engine, &'a str);
        impl<'de> Visitor<'de> for Document<'_> {
            type Value = usize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of API ids to lists of resources")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
                let mut n = 0;
                while let Some(api) = map.next_key::<Cow<'de, str>>()? {
                    self.0.api(&api).map_err(A::Error::custom)?;
                    n += map.next_value_seed(Resources(self.0, &api))?;
                }
                Ok(n)
            }
        }
        impl<'de> DeserializeSeed<'de> for Resources<'_, '_> {
            type Value = usize;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
                d.deserialize_seq(self)
            }
        }
        impl<'de> Visitor<'de> for Resources<'_, '_> {
            type Value = usize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of resources")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
                let mut n = 0;
                while let Some(r) = seq.next_element::<Map<String, Value>>()? {
                    n += self.0.seed(self.1, [r]).map_err(A::Error::custom)?;
                }
                Ok(n)
            }
        }
        let mut fixtures = self.fixtures.write().unwrap_or_else(|e| e.into_inner());
        let mut de = serde_json::Deserializer::from_slice(json);
        let n = de.deserialize_map(Document(self))?;
        de.end()?;
        *fixtures = self.store.snapshot();
        Ok(n)
    }

    /// Adds (or replaces) resources of `api`, completing defaults and generated fields.
    pub fn seed(
        &self,
        api: &str,
        resources: impl IntoIterator<Item = Map<String, Value>>,
    ) -> Result<usize, ControlError> {
        let spec = self.api(api)?;
        let known = |k: &&String| spec.resource.fields.iter().any(|f| f.name == **k);
        let mut n = 0;
        for r in resources {
            if let Some(k) = r.keys().find(|k| !known(k)) {
                return Err(ControlError::BadResource(format!(
                    "'{k}' is not a field of {}",
                    spec.resource.name
                )));
            }
            if let Some(k) = spec.resource.key.iter().find(|k| !r.contains_key(*k)) {
                return Err(ControlError::BadResource(format!(
                    "key field '{k}' is missing"
                )));
            }
            self.store
                .put(spec.store_id(), &spec.resource, r)
                .map_err(|_| {
                    ControlError::BadResource("a unique field's value is already taken".into())
                })?;
            n += 1;
        }
        Ok(n)
    }

    /// Every resource of every API (or of one).
    pub fn state(&self, api: Option<&str>) -> Result<Map<String, Value>, ControlError> {
        let mut out = Map::new();
        for spec in &self.apis {
            // Operations on another spec's resource show it when asked by their id.
            let wanted = match api {
                Some(a) => a == spec.api.id,
                None => spec.resource.shared_with.is_none(),
            };
            if !wanted {
                continue;
            }
            let rows = self
                .store
                .all(spec.store_id(), &spec.resource)
                .into_iter()
                .map(Value::Object)
                .collect();
            out.insert(spec.api.id.clone(), Value::Array(rows));
        }
        if let Some(a) = api {
            self.api(a)?;
        }
        Ok(out)
    }

    /// The resources `api` operates on, each as field → value: what [`Engine::state`]
    /// shows for `Some(api)`, without the JSON document around them.
    pub fn resources(&self, api: &str) -> Result<Vec<Map<String, Value>>, ControlError> {
        let spec = self.api(api)?;
        Ok(self.store.all(spec.store_id(), &spec.resource))
    }

    /// The resources `api` operates on as the store holds them, in key order: taking
    /// them copies pointers, not values, and a resource nothing has written to since is
    /// the same row ([`StoredRows::same_as`]).
    pub fn rows(&self, api: &str) -> Result<StoredRows, ControlError> {
        let spec = self.shared_api(api)?;
        Ok(StoredRows {
            rows: self.store.rows(spec.store_id()),
            spec: spec.clone(),
        })
    }

    /// Number of resources of `api`.
    pub fn count(&self, api: &str) -> usize {
        let store = self.api(api).map_or(api, |s| s.store_id());
        self.store.len(store)
    }

    /// The requests received, oldest first (bounded by `journal_cap`).
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.journal.list(&|i| self.apis[i].api.id.clone())
    }

    pub fn clear_journal(&self) {
        self.journal.clear();
    }

    /// Makes the next `count` requests to `api` answer with error row `code`.
    pub fn fail_next(&self, api: &str, code: &str, count: u32) -> Result<(), ControlError> {
        let spec = self.api(api)?;
        if !spec.errors.iter().any(|e| e.code == code) {
            return Err(ControlError::UnknownCode {
                api: api.into(),
                code: code.into(),
            });
        }
        self.faults.push(FaultRule {
            api: api.into(),
            code: code.into(),
            remaining: count,
        });
        Ok(())
    }

    pub fn faults(&self) -> Vec<FaultRule> {
        self.faults.list()
    }

    pub fn clear_faults(&self) {
        self.faults.clear();
    }

    fn take_fault(&self, api: &str) -> Option<String> {
        self.faults.take(api)
    }

    /// Answers one request.
    pub fn handle(&self, req: Request) -> Response<Bytes> {
        if req.uri().path().starts_with(super::control::PREFIX) {
            return super::control::handle(self, &req);
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) as u64 + 1;
        // One reading of the clock: the signature's date is checked against it, and the
        // journal records it as the request's time.
        let now = time::OffsetDateTime::now_utc();
        let (resp, api, error_code, request_id) = self.dispatch(&req, seq, now);
        let api = api.and_then(|a| self.apis.iter().position(|s| std::ptr::eq(&**s, a)));
        self.journal.record(Recorded {
            seq,
            time: now,
            api,
            method: req.method().clone(),
            path: req.uri().path().as_bytes().into(),
            status: resp.status().as_u16(),
            error_code,
            request_id,
        });
        resp
    }

    /// Picks the spec a request is for: the protocol shape first, then, when two APIs
    /// share a shape (IAM and Nexfs both take `Action=UpdateUser` at `/`, Nexfs through
    /// an alias path), the SigV4 scope, then `Version`, then the API whose own path it is.
    /// Only the specs the route table names are asked; every spec when none of those
    /// fits (an unknown operation, a malformed request).
    fn route(&self, req: &Request) -> (Option<&Spec>, Option<&Spec>) {
        let probe = protocol::Probe::new(req);
        match self.route_among(&probe, self.routes.candidates(&probe)) {
            found @ (Some(_), _) => found,
            _ => self.route_among(&probe, 0..self.apis.len()),
        }
    }

    /// [`Self::route`] over the specs at `positions` (in spec order): literal fits before
    /// alias fits, ties broken by the SigV4 scope, then by `Version`.
    fn route_among(
        &self,
        probe: &protocol::Probe<'_>,
        positions: impl Iterator<Item = usize> + Clone,
    ) -> (Option<&Spec>, Option<&Spec>) {
        let req = probe.req;
        // Each spec is asked once: the positions that fit are remembered as bits (literal
        // and alias apart), so ties are broken without asking again.
        let (mut yes, mut alias, mut other) = (0u128, 0u128, None);
        let mut beyond = false;
        for i in positions.clone() {
            let spec = &*self.apis[i];
            let bits = match protocol::fit(spec, probe) {
                Fit::Yes => &mut yes,
                Fit::Alias => &mut alias,
                Fit::OtherOperation => {
                    other = other.or(Some(spec));
                    continue;
                }
                Fit::No => continue,
            };
            match 1u128.checked_shl(i as u32) {
                Some(bit) => *bits |= bit,
                None => beyond = true,
            }
        }
        if beyond {
            // More specs than bits: asked again, in order.
            return self.route_asking_again(probe, positions, other);
        }
        // The specs at the set bits, lowest first.
        let at = |mut bits: u128| {
            std::iter::from_fn(move || {
                let i = bits.trailing_zeros() as usize;
                bits &= bits.checked_sub(1)?;
                Some(&*self.apis[i])
            })
        };
        if (yes | alias).count_ones() > 1 {
            if let Some(s) = self.tie_broken(req, || at(yes).chain(at(alias))) {
                return (Some(s), None);
            }
        }
        (at(yes).chain(at(alias)).next(), other)
    }

    /// Several specs fit: the one the SigV4 scope names, else (unsigned: awsQuery requests
    /// carry `Version`, Nexfs console requests do not) the one whose `Version` it carries;
    /// `ordered` gives the literal fits, then the alias fits.
    fn tie_broken<'s, I: Iterator<Item = &'s Spec>>(
        &'s self,
        req: &Request,
        ordered: impl Fn() -> I,
    ) -> Option<&'s Spec> {
        if let Some(scope) = scope_service(req) {
            if let Some(s) = ordered()
                .find(|s| matches!(&s.auth, Auth::Sigv4 { service, .. } if *service == scope))
            {
                return Some(s);
            }
        }
        ordered().find(|s| protocol::carries_version(s, req))
    }

    /// [`Self::route_among`] for spec positions beyond its bits: each spec asked again.
    fn route_asking_again<'s>(
        &'s self,
        probe: &protocol::Probe<'_>,
        positions: impl Iterator<Item = usize> + Clone,
        other: Option<&'s Spec>,
    ) -> (Option<&'s Spec>, Option<&'s Spec>) {
        let req = probe.req;
        let of = |want: Fit| {
            positions
                .clone()
                .map(|i| &*self.apis[i])
                .filter(move |s| protocol::fit(s, probe) == want)
        };
        let ordered = || of(Fit::Yes).chain(of(Fit::Alias));
        if ordered().nth(1).is_some() {
            if let Some(s) = self.tie_broken(req, ordered) {
                return (Some(s), None);
            }
        }
        (ordered().next(), other)
    }

    /// Routes and answers one request; also gives the request id it answered with, in
    /// the style of the protocol the request was routed to.
    fn dispatch(
        &self,
        req: &Request,
        seq: u64,
        now: time::OffsetDateTime,
    ) -> (
        Response<Bytes>,
        Option<&Spec>,
        Option<String>,
        protocol::RequestId,
    ) {
        if let Some((spec, resp, request_id)) = self.token_endpoints(req, seq) {
            let code = error_code_of(&resp);
            return (resp, Some(spec), code, request_id);
        }
        let (spec, other) = self.route(req);
        let Some(spec) = spec else {
            let request_id = protocol::request_id(other, seq);
            let resp = match other {
                Some(o) => protocol::unknown_operation(o, &describe_op(req), &request_id),
                None => not_served(req),
            };
            let code = error_code_of(&resp);
            return (resp, other, code, request_id);
        };
        let request_id = protocol::request_id(Some(spec), seq);
        let id = Some(spec);
        match self.call(spec, req, &request_id, now) {
            Ok(resp) => (resp, id, None, request_id),
            Err((row, message, members)) => {
                let resp = protocol::encode_error(spec, row, &message, &members, &request_id);
                (resp, id, Some(row.code.clone()), request_id)
            }
        }
    }

    /// Runs one routed call; an error comes back as (row, message, members).
    fn call<'s>(
        &self,
        spec: &'s Spec,
        req: &Request,
        request_id: &str,
        now: time::OffsetDateTime,
    ) -> Result<Response<Bytes>, Rejection<'s>> {
        let empty = Map::new();
        let fail = |f: Failure<'s>, params: &Map<String, Value>| {
            let scope = Scope {
                params,
                resource: None,
                request_id,
                detail: &f.detail,
                list: None,
            };
            let message = match &f.row.message {
                Some(t) => scope.text(t),
                None if !f.detail.is_empty() => f.detail.clone(),
                None => f.row.meaning.clone(),
            };
            (f.row, message, scope.members(&f.row.members))
        };

        if let Some(code) = self.take_fault(&spec.api.id) {
            if let Some(row) = spec.errors.iter().find(|e| e.code == code) {
                return Err(fail(
                    Failure {
                        row,
                        detail: String::new(),
                    },
                    &empty,
                ));
            }
        }
        let caller = self
            .authenticate(spec, req, now)
            .map_err(|f| fail(f, &empty))?;
        let mut raw = protocol::decode(spec, req).map_err(|m| {
            fail(
                Failure {
                    row: spec.malformed_row(),
                    detail: m.0,
                },
                &empty,
            )
        })?;
        let params = match validate::validate_taking(spec, &mut raw) {
            Ok(params) => params,
            Err(violations) => return Err(fail(invalid_failure(spec, &violations), &raw)),
        };

        // Rules that need only the request and the caller.
        for rule in &spec.rules {
            if let RuleCheck::RequiresRole {
                role,
                when_present,
                unless_self,
            } = &rule.check
            {
                let applies = when_present.is_empty()
                    || when_present
                        .iter()
                        .any(|p| crate::spec::member(&params, p).is_some());
                let is_self = *unless_self
                    && caller.as_ref().is_some_and(|c| {
                        c.user.is_some() && selected_key_equals(spec, &params, c.user.as_deref())
                    });
                let holds = caller
                    .as_ref()
                    .is_none_or(|c| c.roles.iter().any(|r| r == role));
                if applies && !is_self && !holds {
                    let row = spec.row(&rule.error);
                    let detail = rule
                        .message
                        .clone()
                        .unwrap_or_else(|| format!("Session does not have the {role} role"));
                    return Err(fail(Failure { row, detail }, &params));
                }
            }
        }

        let kind = spec.api.kind;
        if kind != OpKind::Update {
            return self.act(spec, kind, &params, caller.as_ref(), request_id);
        }
        let plan = crate::spec::effect::borrowed(spec, &params);
        let changes = Changes {
            set: plan.set,
            // The journal's time for the request, so the two agree (and the clock is
            // read once).
            at: Some(now),
        };
        let check =
            |current: crate::spec::template::Fields<'_>| match crate::spec::effect::broken_rule(
                spec,
                &params,
                Some(current),
            ) {
                Some(rule) => Err(rule),
                None => Ok(()),
            };
        let updated = self
            .store
            .update_row(
                spec.store_id(),
                &spec.resource,
                plan.key.as_slice().into(),
                changes,
                check,
            )
            .map_err(|e| {
                let (row, detail) = match e {
                    UpdateError::ParentNotFound => {
                        return parent_not_found(spec, &params, request_id);
                    }
                    UpdateError::NotFound => (spec.not_found_row(), String::new()),
                    UpdateError::Conflict(fields) => (
                        spec.conflict_row(),
                        format!("{} already taken", fields.join(", ")),
                    ),
                    UpdateError::Rejected(rule) => (
                        spec.row(&rule.error),
                        rule.message
                            .clone()
                            .unwrap_or_else(|| rule.doc.clone().unwrap_or_default()),
                    ),
                };
                fail(Failure { row, detail }, &params)
            })?;
        let updated = crate::spec::template::Fields::Row(&spec.resource.fields, &updated);
        Ok(answer(spec, &params, Some(updated), None, request_id))
    }

    /// The operations of the other kinds: create, read, list, delete.
    fn act<'s>(
        &self,
        spec: &'s Spec,
        kind: OpKind,
        params: &Map<String, Value>,
        caller: Option<&Caller>,
        request_id: &str,
    ) -> Result<Response<Bytes>, Rejection<'s>> {
        let store = spec.store_id();
        let res = &spec.resource;
        // Declared first: the key may borrow it.
        let caller_user;
        let e = crate::spec::effect::borrowed(spec, params);
        let mut key = e.key;
        // A read that names no resource is about the caller itself (IAM GetUser).
        if kind == OpKind::Read && key.is_empty() && res.key.len() == 1 {
            if let Some(user) = caller.and_then(|c| c.user.as_deref()) {
                caller_user = Value::String(user.to_owned());
                key.push((&res.key[0], &caller_user));
            }
        }
        let key_map = || -> Map<String, Value> {
            key.iter()
                .map(|&(f, v)| (f.to_owned(), v.clone()))
                .collect()
        };
        let refused = |e: UpdateError<()>| -> Rejection<'s> {
            let (row, detail) = match e {
                UpdateError::ParentNotFound => return parent_not_found(spec, params, request_id),
                UpdateError::Conflict(fields) => (
                    spec.conflict_row(),
                    format!("{} already taken", fields.join(", ")),
                ),
                UpdateError::NotFound => (spec.not_found_row(), String::new()),
                // A page token this fake did not give.
                UpdateError::Rejected(()) => (
                    bad_token_row(spec),
                    "the page token is not one this service gave".into(),
                ),
            };
            rejection(row, detail, params, request_id)
        };
        let resource = match kind {
            OpKind::Create => {
                // Rules see a resource with nothing stored yet.
                if let Some(rule) =
                    crate::spec::effect::broken_rule(spec, params, Some((&Map::new()).into()))
                {
                    let detail = rule.message.clone().unwrap_or_default();
                    return Err(rejection(spec.row(&rule.error), detail, params, request_id));
                }
                let mut r = key_map();
                r.extend(
                    e.set
                        .into_iter()
                        .map(|(f, v)| (f.to_owned(), v.into_owned())),
                );
                self.store.create(store, res, r).map_err(refused)?
            }
            OpKind::Read => self.store.read(store, res, &key[..]).map_err(refused)?,
            OpKind::Delete => self.store.delete(store, res, &key[..]).map_err(refused)?,
            OpKind::List => {
                return self
                    .list(spec, params, key_map(), request_id)
                    .map_err(refused)
            }
            OpKind::Update => unreachable!("updates are answered by `call`"),
        };
        Ok(answer(
            spec,
            params,
            Some((&resource).into()),
            None,
            request_id,
        ))
    }

    /// A list operation: the resources its selecting parameters and filters keep, in key
    /// order, one page from the request's token.
    fn list(
        &self,
        spec: &Spec,
        params: &Map<String, Value>,
        key: Map<String, Value>,
        request_id: &str,
    ) -> Result<Response<Bytes>, UpdateError<()>> {
        let Some(l) = &spec.list else {
            return Err(UpdateError::NotFound);
        };
        let text = |p: &Option<String>| p.as_ref().and_then(|p| params.get(p)).cloned();
        let row = |p: &Option<String>| text(p).and_then(|v| v.as_u64()).map(|n| n as usize);
        let offset = l.paging == Paging::Offset;
        let from = match text(&l.token) {
            Some(Value::String(t)) if !offset => {
                Some(decode_token(&t).ok_or(UpdateError::Rejected(()))?)
            }
            _ => None,
        };
        let size = match text(&l.page_size) {
            Some(v) => v
                .as_u64()
                .map_or(l.default_page_size, |n| n.max(1) as usize),
            None => l.default_page_size,
        };
        let fold = |v: &Value| {
            let t = crate::spec::validate::display(v);
            if spec.resource.key_case_insensitive {
                t.to_lowercase()
            } else {
                t
            }
        };
        let keep = |r: &Map<String, Value>| {
            key.iter()
                .all(|(k, v)| r.get(k).is_some_and(|got| fold(got) == fold(v)))
                && l.filters.iter().all(|f| f.keeps(params, r))
        };
        let within = (!key.is_empty()).then_some(&key);
        let mut list = Map::new();
        let (page, next) = if offset {
            // Row numbers: every row the filters keep, then the rows asked for.
            let (all, _) = self.store.page(
                spec.store_id(),
                &spec.resource,
                within,
                keep,
                None,
                usize::MAX,
            )?;
            let total = all.len();
            let start = row(&l.token).unwrap_or(0).min(total);
            let mut end = start.saturating_add(size).min(total);
            if let Some(e) = row(&l.end) {
                end = end.min(e.max(start));
            }
            for (k, n) in [("start", start), ("end", end), ("total", total)] {
                list.insert(k.into(), Value::from(n));
            }
            let next = (end < total).then(|| Value::from(end));
            (all[start..end].to_vec(), next)
        } else {
            let (page, next) = self.store.page(
                spec.store_id(),
                &spec.resource,
                within,
                keep,
                from.as_deref(),
                size,
            )?;
            (page, next.map(|n| Value::String(encode_token(&n))))
        };
        // Only the members a `fields` parameter names, when it is sent.
        let wanted: Option<Vec<String>> = match text(&l.fields) {
            Some(Value::String(f)) => Some(f.split(',').map(|m| m.trim().to_string()).collect()),
            _ => None,
        };
        let items: Vec<Value> = page
            .iter()
            .filter_map(|r| {
                let mut item = Scope {
                    params,
                    resource: Some(r.into()),
                    request_id,
                    detail: "",
                    list: None,
                }
                .value(&l.item)?;
                if let (Some(w), Value::Object(m)) = (&wanted, &mut item) {
                    m.retain(|k, _| w.iter().any(|f| f == k));
                }
                Some(item)
            })
            .collect();
        list.insert("items".into(), Value::Array(items));
        list.insert("truncated".into(), Value::Bool(next.is_some()));
        if let Some(n) = next {
            list.insert("next".into(), n);
        }
        Ok(answer(spec, params, None, Some(&list), request_id))
    }

    /// Checks the request's credentials. `Ok(None)`: auth is off; `Ok(Some)`: the caller.
    fn authenticate<'s>(
        &self,
        spec: &'s Spec,
        req: &Request,
        now: time::OffsetDateTime,
    ) -> Result<Option<Caller<'_>>, Failure<'s>> {
        if self.config.no_auth {
            return Ok(None);
        }
        match &spec.auth {
            Auth::Sigv4 {
                service,
                region,
                session_token_required,
                errors,
            } => {
                let expected = sigv4::Expected {
                    service,
                    region: region.as_deref(),
                    session_token_required: *session_token_required,
                    max_skew: time::Duration::minutes(15),
                    double_encode_path: true,
                };
                match sigv4::verify(req, req.body(), &expected, now, |key| {
                    self.config.auth.credential(key)
                }) {
                    Ok(v) => {
                        let c = self.config.auth.credential(&v.access_key);
                        Ok(Some(Caller {
                            roles: c.map_or(&[], |c| c.roles.as_slice()),
                            user: c.and_then(|c| c.user.as_deref()).map(Cow::Borrowed),
                        }))
                    }
                    Err(e) => {
                        let code = match e.kind() {
                            sigv4::AuthFailure::Missing => &errors.missing,
                            sigv4::AuthFailure::Incomplete => &errors.incomplete,
                            sigv4::AuthFailure::UnknownKey => &errors.unknown_key,
                            sigv4::AuthFailure::BadSignature => &errors.bad_signature,
                            sigv4::AuthFailure::Expired => &errors.expired,
                        };
                        Err(Failure {
                            row: spec.row(code),
                            detail: e.to_string(),
                        })
                    }
                }
            }
            Auth::Token {
                header,
                unauthenticated,
                ..
            } => {
                let token = req
                    .headers()
                    .get(header.as_str())
                    .and_then(|v| v.to_str().ok());
                match token.and_then(|t| self.sessions.user(t)) {
                    Some(user) => Ok(Some(Caller {
                        roles: &[],
                        user: Some(Cow::Owned(user)),
                    })),
                    None => Err(Failure {
                        row: spec.row(unauthenticated),
                        detail: if token.is_some() {
                            "Unauthorized: the session token is not valid".into()
                        } else {
                            format!("Unauthorized: the {header} header is missing")
                        },
                    }),
                }
            }
        }
    }

    /// The session endpoints of a `token` auth scheme, at its `login_path`: login
    /// (`POST`), session lookup (`GET .../{id}`), logout (`DELETE .../{id}`). Bodies are
    /// in the protocol's envelope, if it has one.
    fn token_endpoints(
        &self,
        req: &Request,
        seq: u64,
    ) -> Option<(&Spec, Response<Bytes>, protocol::RequestId)> {
        let path = req.uri().path().trim_end_matches('/');
        let under = |lp: &str| {
            let lp = lp.trim_end_matches('/');
            path == lp || path.strip_prefix(lp).is_some_and(|r| r.starts_with('/'))
        };
        // Only the first spec of each login path is asked: a later one at the same path
        // would be found after it, and never chosen.
        let (spec, login_path, unauthenticated) =
            self.logins.iter().find_map(|&i| match &self.apis[i].auth {
                Auth::Token {
                    login_path,
                    unauthenticated,
                    ..
                } if under(login_path) => Some((&*self.apis[i], login_path, unauthenticated)),
                _ => None,
            })?;
        let request_id = &protocol::request_id(Some(spec), seq);
        let session_id = path
            .strip_prefix(login_path.trim_end_matches('/'))
            .unwrap_or("")
            .trim_start_matches('/');
        let envelope = spec.protocol.envelope();
        let wrap = |v: Value| match envelope {
            Some(env) => json!({ env: v }),
            None => v,
        };
        let unauthorized = |text: &str| {
            let row = spec.row(unauthenticated);
            protocol::encode_error(spec, row, text, &Map::new(), request_id)
        };
        let resp = match (req.method().as_str(), session_id) {
            ("POST", "") => {
                let body: Value = serde_json::from_slice(req.body()).unwrap_or(Value::Null);
                let data = match envelope {
                    Some(env) => body.get(env),
                    None => Some(&body),
                };
                let field = |k: &str| data.and_then(|d| d.get(k)).and_then(Value::as_str);
                let session = match (field("username"), field("password")) {
                    (Some(user), Some(pass)) => {
                        self.login(user, pass, field("app_name").unwrap_or(""))
                    }
                    (Some(user), None) if self.config.no_auth => {
                        self.login(user, "", field("app_name").unwrap_or(""))
                    }
                    _ => None,
                };
                match session {
                    Some(session) => json_response(StatusCode::CREATED, &wrap(json!(session))),
                    None => unauthorized("Unauthorized: wrong username or password"),
                }
            }
            // Reading or ending a session needs a valid token.
            ("GET" | "DELETE", id)
                if !id.is_empty() && !self.config.no_auth && !self.token_valid(spec, req) =>
            {
                unauthorized("Unauthorized: the session token is not valid")
            }
            ("GET", id) if !id.is_empty() => match self.sessions.by_id(id) {
                Some(s) => json_response(StatusCode::OK, &wrap(json!(s))),
                None => {
                    let row = spec.not_found_row();
                    protocol::encode_error(
                        spec,
                        row,
                        &format!("Session {id} not found"),
                        &Map::new(),
                        request_id,
                    )
                }
            },
            ("DELETE", id) if !id.is_empty() => {
                self.sessions.end(id);
                json_response(StatusCode::OK, &wrap(json!({})))
            }
            _ => protocol::unknown_operation(spec, &describe_op(req), request_id),
        };
        Some((spec, resp, *request_id))
    }
}

impl Engine {
    /// Opens a session for a configured login (any user with `no_auth`), as the token
    /// APIs' login endpoint does: the in-process runner logs in through this, not through
    /// a request per case.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        app_name: &str,
    ) -> Option<crate::auth::token::Session> {
        let known = self.config.no_auth
            || self
                .config
                .auth
                .logins
                .iter()
                .any(|l| l.username == username && l.password == password);
        known.then(|| self.sessions.open(username, app_name))
    }

    /// Whether the request carries the token of a live session.
    fn token_valid(&self, spec: &Spec, req: &Request) -> bool {
        let Auth::Token { header, .. } = &spec.auth else {
            return false;
        };
        req.headers()
            .get(header.as_str())
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| self.sessions.user(t).is_some())
    }
}

/// The authenticated caller, borrowed from the configured identities where it can be.
struct Caller<'c> {
    roles: &'c [String],
    user: Option<Cow<'c, str>>,
}

/// Whether the parameter that selects the resource's (first) key names `user`.
fn selected_key_equals(spec: &Spec, params: &Map<String, Value>, user: Option<&str>) -> bool {
    spec.parameters
        .iter()
        .filter(|p| p.selects.is_some())
        .any(|p| params.get(&p.name).and_then(Value::as_str) == user)
}

/// The row for a page token the service did not give: the list's `bad_token`, else the
/// catch-all invalid row.
pub(crate) fn bad_token_row(spec: &Spec) -> &ErrorRow {
    let named = spec.list.as_ref().and_then(|l| l.bad_token.as_deref());
    match named {
        Some(code) => spec.row(code),
        None => spec
            .errors
            .iter()
            .find(|r| {
                r.triggers().any(|t| {
                    matches!(t, crate::spec::model::Trigger::Invalid { constraints, parameters }
                        if constraints.is_empty() && parameters.is_empty())
                })
            })
            .unwrap_or(spec.malformed_row()),
    }
}

/// The success answer: the response template over the resource (or the list's page).
fn answer(
    spec: &Spec,
    params: &Map<String, Value>,
    resource: Option<crate::spec::template::Fields<'_>>,
    list: Option<&Map<String, Value>>,
    request_id: &str,
) -> Response<Bytes> {
    // The template is compiled for `spec.resource.fields`, by [`Engine::new`] or just
    // below: a row of those very fields is read at its positions.
    let scope = Scope {
        params,
        resource: resource.map(|r| r.compiled_for(&spec.resource.fields)),
        request_id,
        detail: "",
        list,
    };
    let compiled;
    let template = match &spec.response.compiled {
        Some(t) => t,
        None => {
            compiled = Template::compile_for(&spec.response.body, &spec.resource.fields);
            &compiled
        }
    };
    protocol::encode_success(spec, &View::new(template, &scope), request_id)
}

/// An error answer with the row's message template over the request.
fn rejection<'s>(
    row: &'s ErrorRow,
    detail: String,
    params: &Map<String, Value>,
    request_id: &str,
) -> Rejection<'s> {
    let scope = Scope {
        params,
        resource: None,
        request_id,
        detail: &detail,
        list: None,
    };
    let message = match &row.message {
        Some(t) => scope.text(t),
        None if !detail.is_empty() => detail.clone(),
        None => row.meaning.clone(),
    };
    (row, message, scope.members(&row.members))
}

/// A page token: the primary key the page starts at, in hexadecimal (opaque to clients,
/// and any key text survives every wire format).
fn encode_token(pk: &str) -> String {
    pk.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(t: &str) -> Option<String> {
    if t.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(t.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// The `not-found` row, answered as the spec's `resource.parent` says: the resource's
/// parent itself does not exist (Transfer: an unknown server, not an unknown user).
fn parent_not_found<'s>(
    spec: &'s Spec,
    params: &Map<String, Value>,
    request_id: &str,
) -> Rejection<'s> {
    let row = spec.not_found_row();
    let answer = spec.resource.parent.as_ref().map(|p| &p.not_found);
    let scope = Scope {
        params,
        resource: None,
        request_id,
        detail: "",
        list: None,
    };
    let message = answer
        .and_then(|a| a.message.as_ref())
        .or(row.message.as_ref())
        .map_or_else(|| row.meaning.clone(), |t| scope.text(t));
    let members = match answer {
        Some(a) if !a.members.is_empty() => &a.members,
        _ => &row.members,
    };
    (row, message, scope.members(members))
}

/// The row (and message) for a set of violations, as the spec says
/// ([`validate::row_for_violations`]).
fn invalid_failure<'s>(spec: &'s Spec, violations: &[validate::Violation]) -> Failure<'s> {
    let (row, shown) = validate::row_for_violations(spec, violations);
    Failure {
        row,
        detail: validate::describe(spec.validation.style, &shown),
    }
}

/// The SigV4 credential-scope service of a request, if it carries one.
fn scope_service(req: &Request) -> Option<&str> {
    const CREDENTIAL: &[u8] = b"Credential=";
    let auth = req.headers().get(header::AUTHORIZATION)?.as_bytes();
    // Signers write it first, after the algorithm: found without a search then.
    let rest = match auth.strip_prefix(b"AWS4-HMAC-SHA256 Credential=") {
        Some(rest) => rest,
        None => &auth[memchr::memmem::find(auth, CREDENTIAL)? + CREDENTIAL.len()..],
    };
    // Up to the next `,` or space, or a second `Credential=` before either.
    let mut cred = &rest[..memchr::memchr2(b',', b' ', rest).unwrap_or(rest.len())];
    // (An `=` is looked for first: `memmem` costs more to set up than the credential's
    // few dozen bytes take to scan, and a credential has no `=`.)
    if memchr::memchr(b'=', cred).is_some() {
        if let Some(again) = memchr::memmem::find(cred, CREDENTIAL) {
            cred = &cred[..again];
        }
    }
    // Only the service has to be text: the header's other bytes are not looked at.
    let mut slashes = memchr::memchr_iter(b'/', cred);
    let from = slashes.nth(2)? + 1;
    let service = &cred[from..slashes.next().unwrap_or(cred.len())];
    std::str::from_utf8(service).ok()
}

fn describe_op(req: &Request) -> String {
    if let Some(t) = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        return t.to_string();
    }
    format!("{} {}", req.method(), req.uri().path())
}

fn error_code_of(resp: &Response<Bytes>) -> Option<String> {
    if resp.status().is_success() {
        return None;
    }
    if let Some(t) = resp
        .headers()
        .get("x-amzn-ErrorType")
        .and_then(|v| v.to_str().ok())
    {
        return Some(t.to_string());
    }
    let body = resp.body();
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return v
            .get("__type")
            .or_else(|| v.pointer("/messages/0/code"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let text = String::from_utf8_lossy(body);
    let start = text.find("<Code>")? + 6;
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].to_string())
}

fn not_served(req: &Request) -> Response<Bytes> {
    let body = json!({
        "error": "UnknownOperation",
        "message": format!("apiconform serves no operation at {} {}", req.method(), req.uri().path()),
    });
    json_response(StatusCode::NOT_FOUND, &body)
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::from(serde_json::to_vec(body).unwrap_or_default()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain reading [`scope_service`] must agree with.
    fn by_splitting(auth: &str) -> Option<&str> {
        let cred = auth.split("Credential=").nth(1)?.split([',', ' ']).next()?;
        cred.split('/').nth(3)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn the_scope_service_is_read_as_splitting_reads_it(
            pieces in proptest::collection::vec(prop_oneof![
                Just("AWS4-HMAC-SHA256 "), Just("Credential="), Just("AKID"), Just("/"),
                Just("20261204"), Just("us-east-1"), Just("iam"), Just("aws4_request"),
                Just(","), Just(" "), Just(", SignedHeaders=host;x-amz-date"), Just("x"),
            ], 0..14),
        ) {
            let auth = pieces.concat();
            let req = http::Request::builder()
                .header(header::AUTHORIZATION, auth.as_str())
                .body(Bytes::new())
                .unwrap();
            prop_assert_eq!(scope_service(&req), by_splitting(&auth));
        }
    }
}

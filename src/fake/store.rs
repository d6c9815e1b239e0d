//! The fake's state: one collection of resources per API, each behind its own lock, so
//! an update (lookup, uniqueness check, write) is one atomic step: no lost update, no
//! uniqueness broken by a race. Key and unique indexes keep lookups O(1) at 100 000 users.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::spec::model::{CaseOnlyRename, Field, FieldType, Generator, Resource as ResourceSpec};
use crate::spec::template::{Fields, Piece, Ref};

/// One resource: field name to value.
pub type Resource = Map<String, Value>;

/// Why an update was refused.
#[derive(Debug, PartialEq)]
pub enum UpdateError<E> {
    NotFound,
    /// No resource exists within the parent the key names (`resource.parent`).
    ParentNotFound,
    /// The new value of these fields is already taken.
    Conflict(Vec<String>),
    /// The caller's check refused the current resource.
    Rejected(E),
}

/// What an update changes.
/// Field names are the spec's, values borrowed from the request where they can be: a value
/// is copied only when it is stored.
#[derive(Debug, Default)]
pub struct Changes<'a> {
    pub set: crate::spec::effect::Sets<'a>,
    /// When the change is made (the request's time): what fields touched on update
    /// take. `None` reads the clock.
    pub at: Option<time::OffsetDateTime>,
}

/// A stored resource: one slot per spec field, in the spec's order (`Null` when unset),
/// ending at the last field set: fields a spec lists last and few resources have (IAM's
/// `PermissionsBoundary`, `Tags`) cost nothing, as a `Value` slot is 80 bytes. Field
/// names live once in the spec, not in every row: 100 000 users stay small. A
/// [`Snapshot`] shares rows with the store; an update copies a shared row before changing
/// it (`Arc::make_mut`), and changes a row no one else holds in place.
pub type Row = Arc<[Value]>;

fn pack(spec: &ResourceSpec, r: &Resource) -> Row {
    let slots = spec
        .fields
        .iter()
        .map(|f| r.get(&f.name).cloned().unwrap_or(Value::Null))
        .collect();
    trimmed(slots)
}

/// The row of `slots` without its trailing unset ones.
fn trimmed(mut slots: Vec<Value>) -> Row {
    while slots.last().is_some_and(Value::is_null) {
        slots.pop();
    }
    slots.into()
}

pub(crate) fn unpack(spec: &ResourceSpec, row: &Row) -> Resource {
    // Sized once: collecting through the filter would grow the map (and its index) from
    // empty several times per row.
    let mut r = Resource::with_capacity(row.len());
    for (f, v) in spec.fields.iter().zip(row.iter()) {
        if !v.is_null() {
            r.insert(f.name.clone(), v.clone());
        }
    }
    r
}

#[derive(Default, Clone)]
struct Collection {
    /// The [`Snapshot`] this collection was restored from, while nothing has written to
    /// it since ([`Store::collection_mut`] clears it): restoring that snapshot again has
    /// nothing to do.
    restored_from: Option<u64>,
    rows: BTreeMap<String, Row>,
    /// One index per `unique` set: normalised value to primary key.
    unique: Vec<HashMap<String, String>>,
    /// Parent key to the number of resources within it (`resource.parent`).
    parents: HashMap<String, usize>,
}

/// The store's resources at one moment ([`Store::snapshot`]): each collection's rows,
/// shared with the store (a row is an `Arc`, copied only when an update changes it). Keys
/// and indexes are not kept: [`Store::restore`] rebuilds them from the rows, so the
/// fixtures of 100 000 seeded users cost a pointer each.
pub struct Snapshot {
    /// Unique in the process: what a collection restored from it remembers.
    id: u64,
    rows: HashMap<String, Vec<Row>>,
}

impl Snapshot {
    fn new(rows: HashMap<String, Vec<Row>>) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Self {
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            rows,
        }
    }
}

impl Default for Snapshot {
    fn default() -> Self {
        Self::new(HashMap::new())
    }
}

/// A collection, locked for reading: it cannot be written through this guard, so reading
/// leaves its `restored_from` mark in place.
struct Reading<'a>(std::sync::MutexGuard<'a, Collection>);

impl std::ops::Deref for Reading<'_> {
    type Target = Collection;

    fn deref(&self) -> &Collection {
        &self.0
    }
}

/// All resources of all APIs.
pub struct Store {
    /// Sorted by API id ([`crate::text::by_length`]) and found by binary search: a few
    /// short comparisons where a `HashMap` would SipHash the id on every request.
    collections: Vec<(String, Mutex<Collection>)>,
}

impl Store {
    /// An empty store with one collection per API id.
    pub fn new<'a>(apis: impl IntoIterator<Item = &'a str>) -> Self {
        let mut collections: Vec<_> = apis
            .into_iter()
            .map(|a| (a.to_string(), Mutex::new(Collection::default())))
            .collect();
        collections.sort_by(|a, b| crate::text::by_length(&a.0, &b.0));
        collections.dedup_by(|a, b| a.0 == b.0);
        Self { collections }
    }

    fn lock(&self, api: &str) -> Option<std::sync::MutexGuard<'_, Collection>> {
        // A panic while holding the lock cannot leave a half-written resource (rows are
        // replaced whole), so a poisoned lock is still consistent.
        let at = self
            .collections
            .binary_search_by(|(id, _)| crate::text::by_length(id, api))
            .ok()?;
        Some(
            self.collections[at]
                .1
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// The collection of `api`, to read.
    fn collection(&self, api: &str) -> Option<Reading<'_>> {
        self.lock(api).map(Reading)
    }

    /// The collection of `api`, to write: it no longer holds what it was restored from.
    fn collection_mut(&self, api: &str) -> Option<std::sync::MutexGuard<'_, Collection>> {
        self.lock(api).map(|mut c| {
            c.restored_from = None;
            c
        })
    }

    /// The resources of every API as they are now, to [`Store::restore`] later. Rows are
    /// shared with the store, not copied, and keys and indexes are not kept: a snapshot
    /// of 100 000 resources costs a pointer each.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(
            self.collections
                .iter()
                .filter_map(|(api, _)| {
                    let c = self.collection(api)?;
                    Some((api.clone(), c.rows.values().cloned().collect()))
                })
                .collect(),
        )
    }

    /// Puts each collection of `snapshot` back as it was, its keys and unique indexes
    /// rebuilt from the rows with the collection's resource spec (`spec_of` its store id;
    /// a collection without one is left as it is).
    pub fn restore<'s>(
        &self,
        snapshot: &Snapshot,
        spec_of: impl Fn(&str) -> Option<&'s ResourceSpec>,
    ) {
        for (api, rows) in &snapshot.rows {
            let (Some(spec), Some(mut c)) = (spec_of(api), self.lock(api)) else {
                continue;
            };
            if c.restored_from == Some(snapshot.id) {
                // Nothing has written to it since it was restored from this snapshot.
                continue;
            }
            let mut fresh = Collection {
                restored_from: Some(snapshot.id),
                unique: vec![HashMap::new(); spec.unique.len()],
                ..Collection::default()
            };
            for row in rows {
                let pk = primary_key(spec, Fields::Row(&spec.fields, row));
                index(spec, &mut fresh, Fields::Row(&spec.fields, row), &pk);
                fresh.rows.insert(pk.into_owned(), row.clone());
            }
            *c = fresh;
        }
    }

    /// Inserts or replaces a resource after completing it (defaults, generated and derived
    /// fields). Fails when a unique value belongs to another resource.
    pub fn put(
        &self,
        api: &str,
        spec: &ResourceSpec,
        resource: Resource,
    ) -> Result<(), UpdateError<()>> {
        let Some(mut c) = self.collection_mut(api) else {
            return Err(UpdateError::NotFound);
        };
        let mut r = resource;
        complete(spec, &mut r);
        let pk = primary_key(spec, &r).into_owned();
        if c.unique.len() != spec.unique.len() {
            c.unique = vec![HashMap::new(); spec.unique.len()];
        }
        let taken = unique_conflicts(spec, &c, &r, Some(&pk));
        if !taken.is_empty() {
            return Err(UpdateError::Conflict(taken));
        }
        if let Some(old) = c.rows.remove(&pk) {
            unindex(spec, &mut c, Fields::Row(&spec.fields, &old));
        }
        index(spec, &mut c, &r, &pk);
        c.rows.insert(pk, pack(spec, &r));
        Ok(())
    }

    /// Looks up a resource by its key fields.
    #[cfg(test)]
    pub fn get(&self, api: &str, spec: &ResourceSpec, key: &Resource) -> Option<Resource> {
        let c = self.collection(api)?;
        c.rows
            .get(&*primary_key(spec, key))
            .map(|r| unpack(spec, r))
    }

    /// The resource with `key`, told apart from a missing parent.
    pub fn read<'k>(
        &self,
        api: &str,
        spec: &ResourceSpec,
        key: impl Into<Fields<'k>>,
    ) -> Result<Resource, UpdateError<()>> {
        let key = key.into();
        let c = self.collection(api).ok_or(UpdateError::NotFound)?;
        match c.rows.get(&*primary_key(spec, key)) {
            Some(r) => Ok(unpack(spec, r)),
            None => Err(missing(spec, &c.parents, key)),
        }
    }

    /// Adds a resource after completing it; its key (and unique sets) must be free, and
    /// its parent, when it has one, must exist.
    pub fn create(
        &self,
        api: &str,
        spec: &ResourceSpec,
        resource: Resource,
    ) -> Result<Resource, UpdateError<()>> {
        let mut c = self.collection_mut(api).ok_or(UpdateError::NotFound)?;
        if c.unique.len() != spec.unique.len() {
            c.unique = vec![HashMap::new(); spec.unique.len()];
        }
        if parent_key(spec, &resource).is_some_and(|p| !c.parents.contains_key(&p)) {
            return Err(UpdateError::ParentNotFound);
        }
        let mut r = resource;
        complete(spec, &mut r);
        let pk = primary_key(spec, &r).into_owned();
        if c.rows.contains_key(&pk) {
            return Err(UpdateError::Conflict(spec.key.clone()));
        }
        let taken = unique_conflicts(spec, &c, &r, None);
        if !taken.is_empty() {
            return Err(UpdateError::Conflict(taken));
        }
        index(spec, &mut c, &r, &pk);
        c.rows.insert(pk, pack(spec, &r));
        Ok(r)
    }

    /// Removes the resource with `key`, giving it back.
    pub fn delete<'k>(
        &self,
        api: &str,
        spec: &ResourceSpec,
        key: impl Into<Fields<'k>>,
    ) -> Result<Resource, UpdateError<()>> {
        let key = key.into();
        let mut c = self.collection_mut(api).ok_or(UpdateError::NotFound)?;
        let pk = primary_key(spec, key);
        let Some(row) = c.rows.remove(&*pk) else {
            return Err(missing(spec, &c.parents, key));
        };
        let r = unpack(spec, &row);
        unindex(spec, &mut c, &r);
        Ok(r)
    }

    /// One page of the resources `keep` accepts, in key order, from the resource whose
    /// primary key is `from` (or the first): the page, and the primary key that starts
    /// the next page. `within` (a partial key naming a parent) must name an existing one.
    pub fn page(
        &self,
        api: &str,
        spec: &ResourceSpec,
        within: Option<&Resource>,
        keep: impl Fn(&Resource) -> bool,
        from: Option<&str>,
        size: usize,
    ) -> Result<(Vec<Resource>, Option<String>), UpdateError<()>> {
        let c = self.collection(api).ok_or(UpdateError::NotFound)?;
        if within
            .and_then(|w| parent_key(spec, w))
            .is_some_and(|p| !c.parents.contains_key(&p))
        {
            return Err(UpdateError::ParentNotFound);
        }
        let start = from.unwrap_or("").to_string();
        let mut out = Vec::new();
        for (pk, row) in c.rows.range(start..) {
            let r = unpack(spec, row);
            if !keep(&r) {
                continue;
            }
            if out.len() == size {
                return Ok((out, Some(pk.clone())));
            }
            out.push(r);
        }
        Ok((out, None))
    }

    /// Every resource of `api`, in key order.
    pub fn all(&self, api: &str, spec: &ResourceSpec) -> Vec<Resource> {
        self.collection(api)
            .map(|c| c.rows.values().map(|r| unpack(spec, r)).collect())
            .unwrap_or_default()
    }

    /// Every row of `api`'s collection in key order, shared with the store: an update
    /// copies a row someone else holds before changing it, so these stay as they were.
    pub fn rows(&self, api: &str) -> Vec<Row> {
        self.collection(api)
            .map(|c| c.rows.values().cloned().collect())
            .unwrap_or_default()
    }

    pub fn len(&self, api: &str) -> usize {
        self.collection(api).map(|c| c.rows.len()).unwrap_or(0)
    }

    /// Atomically: finds the resource with `key`, lets `check` refuse it, applies
    /// `changes` (which may change key fields), enforces key and unique constraints,
    /// touches and re-derives fields, and stores the result.
    #[cfg(test)]
    pub fn update<E>(
        &self,
        api: &str,
        spec: &ResourceSpec,
        key: &Resource,
        changes: Changes<'_>,
        check: impl FnOnce(Fields<'_>) -> Result<(), E>,
    ) -> Result<Resource, UpdateError<E>> {
        self.update_row(api, spec, key.into(), changes, check)
            .map(|row| unpack(spec, &row))
    }

    /// [`Store::update`], giving the stored row (read it with [`Fields::Row`]): the
    /// request path works on rows, without building a map of the resource.
    pub fn update_row<E>(
        &self,
        api: &str,
        spec: &ResourceSpec,
        key: Fields<'_>,
        changes: Changes<'_>,
        check: impl FnOnce(Fields<'_>) -> Result<(), E>,
    ) -> Result<Row, UpdateError<E>> {
        let Some(mut c) = self.collection_mut(api) else {
            return Err(UpdateError::NotFound);
        };
        if c.unique.len() != spec.unique.len() {
            c.unique = vec![HashMap::new(); spec.unique.len()];
        }
        let old_pk = primary_key(spec, key);
        // An update that cannot move the resource (no key field can change) is made in
        // place: only the changed fields are written, and only the unique sets they touch
        // are re-indexed.
        let key_may_change = spec.key.iter().any(|k| {
            spec.fields
                .iter()
                .position(|f| f.name == *k)
                .is_some_and(|i| changes_field(spec, &changes, i))
        });
        if !key_may_change {
            return update_in_place(spec, &mut c, &old_pk, key, changes, check);
        }
        let Some(current) = c.rows.get(&*old_pk).cloned() else {
            return Err(missing(spec, &c.parents, key));
        };
        fn view<'a>(spec: &'a ResourceSpec, row: &'a [Value]) -> Fields<'a> {
            Fields::Row(&spec.fields, row)
        }
        check(view(spec, &current)).map_err(UpdateError::Rejected)?;
        let mut next: Vec<Value> = current.to_vec();
        next.resize(spec.fields.len(), Value::Null);
        for (f, v) in changes.set {
            if let Some(i) = spec.fields.iter().position(|field| field.name == f) {
                next[i] = v.into_owned();
            }
        }
        let now = Now::of(changes.at);
        for (i, f) in spec.fields.iter().enumerate() {
            if f.touch_on_update {
                next[i] = now.value(f.ty);
            }
        }
        derive_row(spec, &mut next);
        let new_pk = primary_key(spec, view(spec, &next)).into_owned();
        if *new_pk != *old_pk && c.rows.contains_key(&new_pk) {
            return Err(UpdateError::Conflict(spec.key.clone()));
        }
        // The same key in another letter case: a case-only rename, where the spec refuses it.
        if new_pk == old_pk
            && spec.case_only_rename == CaseOnlyRename::Conflict
            && spec
                .key
                .iter()
                .any(|k| view(spec, &current).get(k) != view(spec, &next).get(k))
        {
            return Err(UpdateError::Conflict(spec.key.clone()));
        }
        let taken = unique_conflicts(spec, &c, view(spec, &next), Some(&old_pk));
        if !taken.is_empty() {
            return Err(UpdateError::Conflict(taken));
        }
        c.rows.remove(&*old_pk);
        unindex(spec, &mut c, view(spec, &current));
        index(spec, &mut c, view(spec, &next), &new_pk);
        let next = trimmed(next);
        c.rows.insert(new_pk, next.clone());
        Ok(next)
    }
}

/// [`Store::update_row`] for an update that leaves the resource's key as it is: the row
/// is changed in place when no snapshot or reader shares it (else copied once, as
/// `Arc::make_mut` does), through an [`InPlace`] that puts the old values back unless the
/// update completes.
fn update_in_place<E>(
    spec: &ResourceSpec,
    c: &mut Collection,
    pk: &str,
    key: Fields<'_>,
    changes: Changes<'_>,
    check: impl FnOnce(Fields<'_>) -> Result<(), E>,
) -> Result<Row, UpdateError<E>> {
    let Collection {
        rows,
        unique: indexes,
        parents,
        ..
    } = c;
    let Some(slot) = rows.get_mut(pk) else {
        return Err(missing(spec, parents, key));
    };
    check(Fields::Row(&spec.fields, slot)).map_err(UpdateError::Rejected)?;
    // A row that ends before a field the update may set is given its full length first
    // (a refused update leaves it so: trailing unset slots read as unset).
    if (slot.len()..spec.fields.len()).any(|i| changes_field(spec, &changes, i)) {
        let mut full = slot.to_vec();
        full.resize(spec.fields.len(), Value::Null);
        *slot = full.into();
    }
    // The unique sets a changed field belongs to, with their value before the change.
    let may_change = |u: &crate::spec::model::Unique| {
        u.fields.iter().any(|f| {
            spec.fields
                .iter()
                .position(|field| field.name == *f)
                .is_some_and(|i| changes_field(spec, &changes, i))
        })
    };
    let before: smallvec::SmallVec<[(usize, String); 2]> = spec
        .unique
        .iter()
        .enumerate()
        .filter(|(_, u)| may_change(u))
        .map(|(i, u)| (i, unique_value(u, Fields::Row(&spec.fields, slot))))
        .collect();
    {
        let mut row = InPlace {
            row: Arc::make_mut(slot),
            old: smallvec::SmallVec::new(),
            done: false,
        };
        for (f, v) in changes.set {
            if let Some(i) = spec.fields.iter().position(|field| field.name == f) {
                row.set(i, v.into_owned());
            }
        }
        let now = Now::of(changes.at);
        for (i, f) in spec.fields.iter().enumerate() {
            if f.touch_on_update {
                row.set(i, now.value(f.ty));
            }
        }
        for (i, f) in spec.fields.iter().enumerate() {
            if let Some(t) = derive_pieces(f, &spec.fields) {
                let fields = Fields::Row(&spec.fields, row.row);
                if !row.row.get(i).is_some_and(|v| derived_is(t, fields, v)) {
                    let v = derived(t, fields);
                    row.set(i, v);
                }
            }
        }
        let mut moved = Vec::new();
        let mut taken = Vec::new();
        for (i, was) in before {
            let u = &spec.unique[i];
            let now = unique_value(u, Fields::Row(&spec.fields, row.row));
            if now == was {
                continue;
            }
            if indexes
                .get(i)
                .and_then(|idx| idx.get(&now))
                .is_some_and(|owner| owner != pk)
            {
                taken.extend(u.fields.iter().cloned());
            }
            moved.push((i, was, now));
        }
        if !taken.is_empty() {
            return Err(UpdateError::Conflict(taken));
        }
        for (i, was, now) in moved {
            if let Some(idx) = indexes.get_mut(i) {
                idx.remove(&was);
                idx.insert(now, pk.to_string());
            }
        }
        row.done = true;
    }
    Ok(slot.clone())
}

/// Whether an update can change the field at `i`: it sets it, or the field is touched by
/// every update or derived from others.
fn changes_field(spec: &ResourceSpec, changes: &Changes<'_>, i: usize) -> bool {
    let f = &spec.fields[i];
    f.touch_on_update || f.derive.is_some() || changes.set.iter().any(|(name, _)| *name == f.name)
}

/// A stored row being changed in place: each old value is kept as it is replaced, and put
/// back when this is dropped before `done` is set (a refused update, or a panic), so a
/// row is never left half-written.
struct InPlace<'r> {
    row: &'r mut [Value],
    old: smallvec::SmallVec<[(usize, Value); 4]>,
    done: bool,
}

impl InPlace<'_> {
    fn set(&mut self, i: usize, v: Value) {
        if let Some(slot) = self.row.get_mut(i) {
            self.old.push((i, std::mem::replace(slot, v)));
        }
    }
}

impl Drop for InPlace<'_> {
    fn drop(&mut self) {
        if !self.done {
            for (i, v) in self.old.drain(..).rev() {
                self.row[i] = v;
            }
        }
    }
}

/// Why no resource has `key`: its parent is missing, or just the resource.
fn missing<E>(
    spec: &ResourceSpec,
    parents: &HashMap<String, usize>,
    key: Fields<'_>,
) -> UpdateError<E> {
    if parent_key(spec, key).is_some_and(|p| !parents.contains_key(&p)) {
        UpdateError::ParentNotFound
    } else {
        UpdateError::NotFound
    }
}

/// Appends a key field's text: a string as it is, another value as JSON.
fn push_key_text(out: &mut impl std::fmt::Write, v: Option<&Value>) {
    let _ = match v {
        Some(Value::String(s)) => out.write_str(s),
        Some(other) => write!(out, "{other}"),
        None => Ok(()),
    };
}

/// `fields`' values joined by U+001F into one string, in lower case when `fold`.
fn joined<'a>(fields: impl IntoIterator<Item = &'a String>, r: Fields<'_>, fold: bool) -> String {
    // Room for the usual key (two ids) at once: grown from empty, it was reallocated three
    // or four times, 1 % of a Transfer update.
    let mut out = String::with_capacity(64);
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push('\u{1f}');
        }
        push_key_text(&mut out, r.get(f));
    }
    if fold && out.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        out.to_lowercase()
    } else {
        out
    }
}

/// The key fields' values joined into one string (in lower case when the key is
/// case-insensitive, so that every letter case of a key finds the same row).
/// Borrowed from `r` when the key is one string field that needs no folding (a lookup
/// then allocates nothing).
fn primary_key<'a>(spec: &ResourceSpec, r: impl Into<Fields<'a>>) -> Cow<'a, str> {
    let r = r.into();
    if let [only] = spec.key.as_slice() {
        if let Some(Value::String(s)) = r.get(only) {
            let folds = |s: &str| s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii());
            // Folded, it is what `joined` gives for one string field.
            return if spec.key_case_insensitive && folds(s) {
                Cow::Owned(s.to_lowercase())
            } else {
                Cow::Borrowed(s)
            };
        }
    }
    Cow::Owned(joined(&spec.key, r, spec.key_case_insensitive))
}

/// The parent's key fields' values joined into one string (folded as the key is), when
/// the resource has a parent.
fn parent_key<'a>(spec: &ResourceSpec, r: impl Into<Fields<'a>>) -> Option<String> {
    let parent = spec.parent.as_ref()?;
    Some(joined(&parent.key, r.into(), spec.key_case_insensitive))
}

fn unique_value(u: &crate::spec::model::Unique, r: Fields<'_>) -> String {
    joined(&u.fields, r, u.case_insensitive)
}

fn unique_conflicts<'a>(
    spec: &ResourceSpec,
    c: &Collection,
    r: impl Into<Fields<'a>>,
    own_pk: Option<&str>,
) -> Vec<String> {
    let r = r.into();
    let mut taken = Vec::new();
    for (i, u) in spec.unique.iter().enumerate() {
        if let Some(owner) = c.unique.get(i).and_then(|idx| idx.get(&unique_value(u, r))) {
            if Some(owner.as_str()) != own_pk {
                taken.extend(u.fields.iter().cloned());
            }
        }
    }
    taken
}

fn index<'a>(spec: &ResourceSpec, c: &mut Collection, r: impl Into<Fields<'a>>, pk: &str) {
    let r = r.into();
    for (i, u) in spec.unique.iter().enumerate() {
        if let Some(idx) = c.unique.get_mut(i) {
            idx.insert(unique_value(u, r), pk.to_string());
        }
    }
    if let Some(p) = parent_key(spec, r) {
        *c.parents.entry(p).or_insert(0) += 1;
    }
}

fn unindex<'a>(spec: &ResourceSpec, c: &mut Collection, r: impl Into<Fields<'a>>) {
    let r = r.into();
    for (i, u) in spec.unique.iter().enumerate() {
        if let Some(idx) = c.unique.get_mut(i) {
            idx.remove(&unique_value(u, r));
        }
    }
    if let Some(p) = parent_key(spec, r) {
        if let Some(n) = c.parents.get_mut(&p) {
            *n -= 1;
            if *n == 0 {
                c.parents.remove(&p);
            }
        }
    }
}

/// Fills defaults and generated fields a resource lacks, then derived fields.
pub fn complete(spec: &ResourceSpec, r: &mut Resource) {
    let now = Now::current();
    for f in &spec.fields {
        if r.contains_key(&f.name) {
            continue;
        }
        if let Some(d) = &f.default {
            r.insert(f.name.clone(), d.clone());
        } else if let Some(g) = &f.generate {
            r.insert(f.name.clone(), generate(g, f.ty, &now));
        }
    }
    derive(spec, r);
}

fn derive(spec: &ResourceSpec, r: &mut Resource) {
    for f in &spec.fields {
        if let Some(t) = derive_pieces(f, &spec.fields) {
            let v = derived(t, Fields::Map(r));
            r.insert(f.name.clone(), v);
        }
    }
}

/// [`derive`] on a stored row.
fn derive_row(spec: &ResourceSpec, row: &mut [Value]) {
    for (i, f) in spec.fields.iter().enumerate() {
        if let Some(t) = derive_pieces(f, &spec.fields) {
            row[i] = derived(t, Fields::Row(&spec.fields, row));
        }
    }
}

/// A field's derive template, read the first time it is used: `${name}` or
/// `${resource.name}` is the field's text (a field found at its position among `fields`,
/// its name compared there), the rest is kept as it is; a `${` that is not closed is text.
fn derive_pieces<'f>(f: &'f Field, fields: &[Field]) -> Option<&'f [Piece]> {
    let t = f.derive.as_deref()?;
    Some(f.derive_pieces.get_or_init(|| compile_derive(t, fields)))
}

fn compile_derive(t: &str, fields: &[Field]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("${") {
        let Some(j) = rest[i + 2..].find('}') else {
            break;
        };
        if i > 0 {
            pieces.push(Piece::Lit(rest[..i].to_string()));
        }
        let name = &rest[i + 2..i + 2 + j];
        let name = name.strip_prefix("resource.").unwrap_or(name);
        let at = fields
            .iter()
            .position(|f| f.name == name)
            .unwrap_or(usize::MAX);
        pieces.push(Piece::Ref(Ref::Resource(name.to_string(), at)));
        rest = &rest[i + 3 + j..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Lit(rest.to_string()));
    }
    pieces
}

/// A derived field's value: its template's text over the fields `r`.
fn derived(t: &[Piece], r: Fields<'_>) -> Value {
    let text: usize = t
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => s.len(),
            Piece::Ref(_) => 0,
        })
        .sum();
    let mut s = String::with_capacity(text + 32);
    write_derived(&mut s, t, r);
    Value::String(s)
}

/// Writes the text of derive template `t` over the fields `r`.
fn write_derived(out: &mut impl std::fmt::Write, t: &[Piece], r: Fields<'_>) {
    for p in t {
        match p {
            Piece::Lit(s) => {
                let _ = out.write_str(s);
            }
            Piece::Ref(Ref::Resource(name, at)) => push_key_text(out, r.get_at(*at, name)),
            // A derive template names only fields.
            Piece::Ref(_) => {}
        }
    }
}

/// Whether `current` is already what template `t` derives from `r` (compared as it is
/// written, so an unchanged derived field costs no new string).
fn derived_is(t: &[Piece], r: Fields<'_>, current: &Value) -> bool {
    struct Compare<'c> {
        rest: &'c str,
        same: bool,
    }
    impl std::fmt::Write for Compare<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            match self.rest.strip_prefix(s) {
                Some(rest) if self.same => self.rest = rest,
                _ => self.same = false,
            }
            Ok(())
        }
    }
    let Value::String(current) = current else {
        return false;
    };
    let mut c = Compare {
        rest: current,
        same: true,
    };
    write_derived(&mut c, t, r);
    c.same && c.rest.is_empty()
}

/// The current time, once per operation, in both wire forms: the clock is read when a
/// field first needs it (most updates set no time), and the RFC 3339 text made then too.
struct Now {
    at: std::cell::OnceCell<time::OffsetDateTime>,
    rfc3339: std::cell::OnceCell<String>,
}

impl Now {
    fn current() -> Self {
        Self::of(None)
    }

    /// The time `at` (in UTC, to the second), or the clock's when it is first asked.
    fn of(at: Option<time::OffsetDateTime>) -> Self {
        let utc = |t: time::OffsetDateTime| second(t.to_offset(time::UtcOffset::UTC));
        Self {
            at: at.map(utc).map(Into::into).unwrap_or_default(),
            rfc3339: std::cell::OnceCell::new(),
        }
    }

    fn at(&self) -> time::OffsetDateTime {
        *self
            .at
            .get_or_init(|| second(time::OffsetDateTime::now_utc()))
    }

    fn value(&self, ty: FieldType) -> Value {
        match ty {
            FieldType::DateTime | FieldType::String => Value::String(
                self.rfc3339
                    .get_or_init(|| {
                        self.at()
                            .format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default()
                    })
                    .clone(),
            ),
            _ => Value::Number(self.at().unix_timestamp().into()),
        }
    }
}

/// A time to the whole second, as stored times are kept.
fn second(t: time::OffsetDateTime) -> time::OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

fn generate(g: &Generator, ty: FieldType, now: &Now) -> Value {
    match g {
        Generator::Uuid => Value::String(uuid::Uuid::new_v4().to_string()),
        Generator::AwsId { prefix, len } => {
            const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
            Value::String(format!("{prefix}{}", random_from(ALPHABET, *len)))
        }
        Generator::Hex { prefix, len } => Value::String(format!(
            "{prefix}{}",
            random_from(b"0123456789abcdef", *len)
        )),
        Generator::Now => now.value(ty),
    }
}

/// `len` characters drawn from `alphabet` (length a power of two), from UUID v4 bits.
fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() == len {
                break;
            }
            out.push(char::from(alphabet[usize::from(*b) % alphabet.len()]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn iam() -> ResourceSpec {
        serde_json::from_value(json!({
            "name": "user",
            "key": ["UserName"],
            "unique": [{"fields": ["UserName"], "case_insensitive": true}],
            "fields": [
                {"name": "UserName", "type": "string"},
                {"name": "Path", "type": "string", "default": "/"},
                {"name": "UserId", "type": "string", "generate": {"aws-id": {"prefix": "AIDA", "len": 17}}},
                {"name": "Arn", "type": "string", "derive": "arn:aws:iam::123456789012:user${Path}${UserName}"}
            ]
        }))
        .unwrap()
    }

    fn obj(v: Value) -> Resource {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn a_derived_field_is_compared_as_it_would_be_written() {
        let r = obj(json!({"full_name": "Ann Lee", "name": "ann", "n": 7}));
        let t = &compile_derive("${full_name} (${name})", &[]);
        let is = |v: Value| derived_is(t, Fields::Map(&r), &v);
        assert_eq!(derived(t, Fields::Map(&r)), json!("Ann Lee (ann)"));
        assert!(is(json!("Ann Lee (ann)")));
        assert!(!is(json!("Ann Lee (ann) ")));
        assert!(!is(json!("Ann Lee (an")));
        assert!(!is(json!("Ann Lee (bob)")));
        assert!(!is(json!(null)));
        // A value that is not a string is written as JSON, and compared so.
        let t = &compile_derive("n=${n}", &[]);
        assert!(derived_is(t, Fields::Map(&r), &json!("n=7")));
        assert!(!derived_is(t, Fields::Map(&r), &json!("n=8")));
    }

    /// How a derive template was read before it was compiled: parsed on every use, each
    /// field found by name.
    fn derived_by_name(t: &str, r: Fields<'_>) -> String {
        let mut out = String::new();
        let mut rest = t;
        while let Some(i) = rest.find("${") {
            let Some(j) = rest[i + 2..].find('}') else {
                break;
            };
            out.push_str(&rest[..i]);
            let name = &rest[i + 2..i + 2 + j];
            push_key_text(
                &mut out,
                r.get(name.strip_prefix("resource.").unwrap_or(name)),
            );
            rest = &rest[i + 3 + j..];
        }
        out.push_str(rest);
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// A compiled template writes what parsing it on every use wrote, over a row read
        /// at the compiled positions, over the same row with its fields reversed (the
        /// positions then miss), and over a map.
        #[test]
        fn a_compiled_derive_writes_what_the_template_read_by_name_wrote(
            t in "([ab$}{.x]|\\$\\{|\\$\\{(resource\\.)?[abx]\\}){0,8}",
            a in proptest::option::of("[a-z]{0,3}"),
            b in proptest::option::of(0i64..100),
        ) {
            let spec: Vec<Field> = ["a", "b", "c"]
                .iter()
                .map(|n| serde_json::from_value(json!({"name": n, "type": "string"})).unwrap())
                .collect();
            let values = vec![
                a.map(Value::from).unwrap_or(Value::Null),
                b.map(Value::from).unwrap_or(Value::Null),
                json!("c"),
            ];
            let map: Map<String, Value> = spec.iter().map(|f| f.name.clone()).zip(values.iter().cloned()).collect();
            let mut reversed = spec.clone();
            reversed.reverse();
            let reversed_values: Vec<Value> = values.iter().rev().cloned().collect();
            let compiled = compile_derive(&t, &spec);
            for r in [
                Fields::Row(&spec, &values),
                Fields::Row(&reversed, &reversed_values),
                Fields::Map(&map),
            ] {
                let want = derived_by_name(&t, r);
                proptest::prop_assert_eq!(derived(&compiled, r), Value::String(want.clone()));
                proptest::prop_assert!(derived_is(&compiled, r, &Value::String(want)));
            }
        }
    }

    fn rename(
        store: &Store,
        spec: &ResourceSpec,
        from: &str,
        to: &str,
    ) -> Result<Resource, UpdateError<()>> {
        store.update(
            "iam",
            spec,
            &obj(json!({"UserName": from})),
            Changes {
                set: smallvec::smallvec![("UserName", Cow::Owned(json!(to)))],
                at: None,
            },
            |_| Ok(()),
        )
    }

    #[test]
    fn put_completes_defaults_generated_and_derived_fields() {
        let spec = iam();
        let store = Store::new(["iam"]);
        store
            .put("iam", &spec, obj(json!({"UserName": "Bob"})))
            .unwrap();
        let r = store
            .get("iam", &spec, &obj(json!({"UserName": "Bob"})))
            .unwrap();
        assert_eq!(r["Path"], "/");
        assert!(r["UserId"].as_str().unwrap().starts_with("AIDA"));
        assert_eq!(r["UserId"].as_str().unwrap().len(), 21);
        assert_eq!(r["Arn"], "arn:aws:iam::123456789012:user/Bob");
    }

    #[test]
    fn an_update_in_place_refused_leaves_the_row_and_its_indexes_as_they_were() {
        // Path made unique, and not the key: changing it is an update in place.
        let mut spec = iam();
        spec.unique
            .push(serde_json::from_value(json!({"fields": ["Path"]})).unwrap());
        let store = Store::new(["iam"]);
        for (name, path) in [("alice", "/a/"), ("bob", "/b/")] {
            store
                .put("iam", &spec, obj(json!({"UserName": name, "Path": path})))
                .unwrap();
        }
        let key = obj(json!({"UserName": "bob"}));
        let set_path = |path: &str| Changes {
            set: smallvec::smallvec![("Path", Cow::Owned(json!(path)))],
            at: None,
        };
        let before = store.get("iam", &spec, &key).unwrap();
        // Taken by alice: refused, and bob is untouched (Path, and the Arn derived from it).
        let e = store.update("iam", &spec, &key, set_path("/a/"), |_| Ok::<(), ()>(()));
        assert!(matches!(e, Err(UpdateError::Conflict(f)) if f == ["Path"]));
        assert_eq!(store.get("iam", &spec, &key).unwrap(), before);
        // A rule refusing the update: the same.
        let e = store.update("iam", &spec, &key, set_path("/c/"), |_| Err(()));
        assert!(matches!(e, Err(UpdateError::Rejected(()))));
        assert_eq!(store.get("iam", &spec, &key).unwrap(), before);
        // Accepted: the old value is free again, the new one taken.
        let after = store
            .update("iam", &spec, &key, set_path("/c/"), |_| Ok::<(), ()>(()))
            .unwrap();
        assert_eq!(after["Arn"], json!("arn:aws:iam::123456789012:user/c/bob"));
        let alice = obj(json!({"UserName": "alice"}));
        assert!(store
            .update("iam", &spec, &alice, set_path("/b/"), |_| Ok::<(), ()>(()))
            .is_ok());
        let e = store.update("iam", &spec, &alice, set_path("/c/"), |_| Ok::<(), ()>(()));
        assert!(matches!(e, Err(UpdateError::Conflict(_))));
        // A snapshot shares the row: the update copies it, and restoring brings it back.
        let saved = store.snapshot();
        store
            .update("iam", &spec, &key, set_path("/d/"), |_| Ok::<(), ()>(()))
            .unwrap();
        store.restore(&saved, |_| Some(&spec));
        assert_eq!(store.get("iam", &spec, &key).unwrap(), after);
    }

    #[test]
    fn a_touched_field_takes_the_time_of_the_change_to_the_second() {
        let mut spec = iam();
        for f in [
            json!({"name": "Modified", "type": "integer", "touch_on_update": true}),
            json!({"name": "ModifiedAt", "type": "date-time", "touch_on_update": true}),
        ] {
            spec.fields.push(serde_json::from_value(f).unwrap());
        }
        let store = Store::new(["iam"]);
        store
            .put("iam", &spec, obj(json!({"UserName": "Bob"})))
            .unwrap();
        let at = time::macros::datetime!(2026-12-05 07:08:09.5 UTC);
        let change = |name: &'static str, v: Value, at| Changes {
            set: smallvec::smallvec![(name, Cow::Owned(v))],
            at,
        };
        let update = |user: &str, change: Changes<'_>| {
            let key = obj(json!({ "UserName": user }));
            store
                .update("iam", &spec, &key, change, |_| Ok::<(), ()>(()))
                .unwrap()
        };
        // In place, then by the copy path (a rename).
        let r = update("Bob", change("Path", json!("/x/"), Some(at)));
        assert_eq!(r["Modified"], json!(1_796_454_489));
        assert_eq!(r["ModifiedAt"], json!("2026-12-05T07:08:09Z"));
        // Given in another offset: stored in UTC, as the clock's times are.
        let later = (at + time::Duration::seconds(61)).to_offset(time::macros::offset!(+2));
        let r = update("Bob", change("UserName", json!("Rob"), Some(later)));
        assert_eq!(r["Modified"], json!(1_796_454_550));
        assert_eq!(r["ModifiedAt"], json!("2026-12-05T07:09:10Z"));
        // No time given: the clock's.
        let before = time::OffsetDateTime::now_utc().unix_timestamp();
        let r = update("Rob", change("Path", json!("/y/"), None));
        let stamped = r["Modified"].as_i64().unwrap();
        assert!((before..=before + 5).contains(&stamped), "{stamped}");
    }

    #[test]
    fn a_field_after_the_last_one_set_is_stored_by_in_place_and_moving_updates() {
        // Rows end at their last set field: Tags, listed last and unset, takes no slot.
        let mut spec = iam();
        spec.fields
            .push(serde_json::from_value(json!({"name": "Tags", "type": "list"})).unwrap());
        let store = Store::new(["iam"]);
        store
            .put("iam", &spec, obj(json!({"UserName": "Bob"})))
            .unwrap();
        let bob = obj(json!({"UserName": "Bob"}));
        let stored = |key: &Resource| store.get("iam", &spec, key).unwrap();
        assert_eq!(stored(&bob).get("Tags"), None);
        let saved = store.snapshot();
        let tags = |v: Value| Changes {
            set: smallvec::smallvec![("Tags", Cow::Owned(v))],
            at: None,
        };
        // Refused by the check: nothing set.
        let e = store.update("iam", &spec, &bob, tags(json!([{"Key": "k"}])), |_| Err(()));
        assert!(matches!(e, Err(UpdateError::Rejected(()))));
        assert_eq!(stored(&bob).get("Tags"), None);
        // Accepted in place.
        let after = store
            .update("iam", &spec, &bob, tags(json!([{"Key": "k"}])), |_| {
                Ok::<(), ()>(())
            })
            .unwrap();
        assert_eq!(after["Tags"], json!([{"Key": "k"}]));
        assert_eq!(stored(&bob)["Tags"], json!([{"Key": "k"}]));
        // A rename (the copy path) keeps it; a snapshot taken before does not have it.
        let moved = store
            .update(
                "iam",
                &spec,
                &bob,
                Changes {
                    set: smallvec::smallvec![("UserName", Cow::Owned(json!("Rob")))],
                    at: None,
                },
                |_| Ok::<(), ()>(()),
            )
            .unwrap();
        assert_eq!(moved["Tags"], json!([{"Key": "k"}]));
        store.restore(&saved, |_| Some(&spec));
        assert_eq!(stored(&bob).get("Tags"), None);
        assert_eq!(
            stored(&bob)["Arn"],
            json!("arn:aws:iam::123456789012:user/Bob")
        );
    }

    #[test]
    fn rename_moves_the_key_and_rederives() {
        let spec = iam();
        let store = Store::new(["iam"]);
        store
            .put("iam", &spec, obj(json!({"UserName": "Bob"})))
            .unwrap();
        let r = rename(&store, &spec, "Bob", "Robert").unwrap();
        assert_eq!(r["Arn"], "arn:aws:iam::123456789012:user/Robert");
        assert!(store
            .get("iam", &spec, &obj(json!({"UserName": "Bob"})))
            .is_none());
        assert!(store
            .get("iam", &spec, &obj(json!({"UserName": "Robert"})))
            .is_some());
    }

    #[test]
    fn rename_onto_a_name_differing_only_in_case_is_a_conflict() {
        let spec = iam();
        let store = Store::new(["iam"]);
        store
            .put("iam", &spec, obj(json!({"UserName": "Bob"})))
            .unwrap();
        store
            .put("iam", &spec, obj(json!({"UserName": "Alice"})))
            .unwrap();
        assert_eq!(
            rename(&store, &spec, "Bob", "ALICE"),
            Err(UpdateError::Conflict(vec!["UserName".into()]))
        );
        // Changing only the case of one's own name is allowed.
        assert!(rename(&store, &spec, "Bob", "BOB").is_ok());
        assert_eq!(
            rename(&store, &spec, "nobody", "x"),
            Err(UpdateError::NotFound)
        );
    }

    #[test]
    fn a_case_insensitive_key_finds_every_letter_case_and_keeps_the_stored_one() {
        let mut spec = iam();
        spec.unique.clear();
        spec.key_case_insensitive = true;
        let store = Store::new(["iam"]);
        for n in ["Bob", "Alice"] {
            store
                .put("iam", &spec, obj(json!({"UserName": n})))
                .unwrap();
        }
        let found = store.get("iam", &spec, &obj(json!({"UserName": "BOB"})));
        assert_eq!(found.unwrap()["UserName"], "Bob", "stored case kept");
        // Selected in another case, renamed: the new name is stored as given.
        let r = rename(&store, &spec, "bOB", "Robert").unwrap();
        assert_eq!(r["UserName"], "Robert");
        assert!(store
            .get("iam", &spec, &obj(json!({"UserName": "bob"})))
            .is_none());
        // The key alone keeps names unique whatever their case.
        assert_eq!(
            rename(&store, &spec, "robert", "ALICE"),
            Err(UpdateError::Conflict(vec!["UserName".into()]))
        );
        // A case-only rename takes the new case by default...
        let r = rename(&store, &spec, "robert", "ROBERT").unwrap();
        assert_eq!(r["UserName"], "ROBERT");
        assert_eq!(store.len("iam"), 2);
        // ...and is a conflict where the spec says so (ROBERT -> Robert); the very name the
        // user has is no change of case, and not refused.
        spec.case_only_rename = CaseOnlyRename::Conflict;
        assert_eq!(
            rename(&store, &spec, "Robert", "Robert"),
            Err(UpdateError::Conflict(vec!["UserName".into()]))
        );
        assert!(rename(&store, &spec, "robert", "ROBERT").is_ok());
        assert_eq!(
            store
                .get("iam", &spec, &obj(json!({"UserName": "robert"})))
                .unwrap()["UserName"],
            "ROBERT"
        );
    }

    #[test]
    fn a_missing_parent_is_told_apart_from_a_missing_resource() {
        let spec: ResourceSpec = serde_json::from_value(json!({
            "name": "user",
            "key": ["ServerId", "UserName"],
            "parent": {"name": "server", "key": ["ServerId"]},
            "fields": [
                {"name": "ServerId", "type": "string"},
                {"name": "UserName", "type": "string"},
                {"name": "Home", "type": "string"}
            ]
        }))
        .unwrap();
        let store = Store::new(["t"]);
        let home = |s: &str, u: &str| {
            store.update(
                "t",
                &spec,
                &obj(json!({"ServerId": s, "UserName": u})),
                Changes {
                    set: smallvec::smallvec![("Home", Cow::Owned(json!("/h")))],
                    at: None,
                },
                |_| Ok::<(), ()>(()),
            )
        };
        assert_eq!(home("s-1", "ann"), Err(UpdateError::ParentNotFound));
        store
            .put(
                "t",
                &spec,
                obj(json!({"ServerId": "s-1", "UserName": "ann"})),
            )
            .unwrap();
        assert!(home("s-1", "ann").is_ok());
        assert_eq!(home("s-1", "bob"), Err(UpdateError::NotFound));
        assert_eq!(home("s-2", "ann"), Err(UpdateError::ParentNotFound));
        // Replacing the only resource of a parent keeps the parent.
        store
            .put(
                "t",
                &spec,
                obj(json!({"ServerId": "s-1", "UserName": "ann", "Home": "/x"})),
            )
            .unwrap();
        assert_eq!(home("s-1", "bob"), Err(UpdateError::NotFound));
        // The server exists while a user names it.
        store
            .delete(
                "t",
                &spec,
                &obj(json!({"ServerId": "s-1", "UserName": "ann"})),
            )
            .unwrap();
        assert_eq!(home("s-1", "ann"), Err(UpdateError::ParentNotFound));
    }

    #[test]
    fn a_restored_snapshot_undoes_updates_creates_and_deletes() {
        let spec = iam();
        let store = Store::new(["iam"]);
        store
            .put("iam", &spec, obj(json!({"UserName": "ann"})))
            .unwrap();
        let saved = store.snapshot();
        rename(&store, &spec, "ann", "bob").unwrap();
        store
            .create("iam", &spec, obj(json!({"UserName": "carol"})))
            .unwrap();
        store.restore(&saved, |_| Some(&spec));
        let names: Vec<Value> = store
            .all("iam", &spec)
            .into_iter()
            .map(|r| r["UserName"].clone())
            .collect();
        assert_eq!(names, [json!("ann")]);
        // The indexes came back too: the restored name is taken, the others are free.
        assert!(matches!(
            store.create("iam", &spec, obj(json!({"UserName": "ANN"}))),
            Err(UpdateError::Conflict(_))
        ));
        rename(&store, &spec, "ann", "bob").unwrap();
        store.restore(&saved, |_| Some(&spec));
        store
            .create("iam", &spec, obj(json!({"UserName": "bob"})))
            .unwrap();
    }

    #[test]
    fn a_restore_skips_only_collections_untouched_since_the_same_snapshot() {
        let spec = iam();
        let store = Store::new(["iam"]);
        let names = |store: &Store| -> Vec<Value> {
            store
                .all("iam", &spec)
                .into_iter()
                .map(|r| r["UserName"].clone())
                .collect()
        };
        store
            .put("iam", &spec, obj(json!({"UserName": "ann"})))
            .unwrap();
        let first = store.snapshot();
        store.restore(&first, |_| Some(&spec));
        // Restored and only read since: restoring again keeps it as it is.
        assert!(store
            .read("iam", &spec, &obj(json!({"UserName": "ann"})))
            .is_ok());
        store.restore(&first, |_| Some(&spec));
        assert_eq!(names(&store), [json!("ann")]);
        // Every kind of write makes the next restore rebuild the collection.
        type Write = fn(&Store, &ResourceSpec);
        let writes: [(&str, Write); 5] = [
            ("put", |s, spec| {
                s.put("iam", spec, obj(json!({"UserName": "bob"}))).unwrap();
            }),
            ("create", |s, spec| {
                s.create("iam", spec, obj(json!({"UserName": "bob"})))
                    .unwrap();
            }),
            ("rename", |s, spec| {
                rename(s, spec, "ann", "bob").unwrap();
            }),
            ("update in place", |s, spec| {
                let changes = Changes {
                    set: smallvec::smallvec![("Path", Cow::Owned(json!("/x/")))],
                    at: None,
                };
                s.update(
                    "iam",
                    spec,
                    &obj(json!({"UserName": "ann"})),
                    changes,
                    |_| Ok::<(), ()>(()),
                )
                .unwrap();
            }),
            ("delete", |s, spec| {
                s.delete("iam", spec, &obj(json!({"UserName": "ann"})))
                    .unwrap();
            }),
        ];
        for (what, write) in writes {
            write(&store, &spec);
            store.restore(&first, |_| Some(&spec));
            assert_eq!(names(&store), [json!("ann")], "after a {what}");
            let row = store
                .get("iam", &spec, &obj(json!({"UserName": "ann"})))
                .unwrap();
            assert_eq!(row["Path"], json!("/"), "after a {what}");
        }
        // Another snapshot is restored even onto a collection clean for the first.
        store
            .put("iam", &spec, obj(json!({"UserName": "carol"})))
            .unwrap();
        let second = store.snapshot();
        store.restore(&first, |_| Some(&spec));
        assert_eq!(names(&store), [json!("ann")]);
        store.restore(&second, |_| Some(&spec));
        assert_eq!(names(&store), [json!("ann"), json!("carol")]);
        store.restore(&first, |_| Some(&spec));
        assert_eq!(names(&store), [json!("ann")]);
    }

    #[test]
    fn create_read_page_and_delete_share_one_collection() {
        let mut spec = iam();
        spec.unique.clear();
        spec.key_case_insensitive = true;
        let store = Store::new(["iam"]);
        for n in ["carol", "Alice", "bob"] {
            store
                .create("iam", &spec, obj(json!({"UserName": n})))
                .unwrap();
        }
        // The key is taken whatever its case; the store is unchanged.
        assert_eq!(
            store.create("iam", &spec, obj(json!({"UserName": "BOB"}))),
            Err(UpdateError::Conflict(vec!["UserName".into()]))
        );
        let got = store
            .read("iam", &spec, &obj(json!({"UserName": "ALICE"})))
            .unwrap();
        assert_eq!(got["Path"], "/", "created with defaults");
        // Pages in key order, each naming where the next starts.
        let page = |from: Option<&str>| store.page("iam", &spec, None, |_| true, from, 2).unwrap();
        let (first, next) = page(None);
        let names = |rows: &[Resource]| -> Vec<String> {
            rows.iter()
                .map(|r| r["UserName"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(&first), ["Alice", "bob"]);
        let (second, last) = page(next.as_deref());
        assert_eq!(names(&second), ["carol"]);
        assert_eq!(last, None);
        let deleted = store
            .delete("iam", &spec, &obj(json!({"UserName": "Bob"})))
            .unwrap();
        assert_eq!(deleted["UserName"], "bob");
        assert_eq!(
            store.delete("iam", &spec, &obj(json!({"UserName": "bob"}))),
            Err(UpdateError::NotFound)
        );
        assert_eq!(store.len("iam"), 2);
    }

    #[test]
    fn a_create_needs_its_parent_and_a_delete_of_the_last_child_ends_it() {
        let spec: ResourceSpec = serde_json::from_value(json!({
            "name": "user",
            "key": ["ServerId", "UserName"],
            "parent": {"name": "server", "key": ["ServerId"]},
            "fields": [
                {"name": "ServerId", "type": "string"},
                {"name": "UserName", "type": "string"}
            ]
        }))
        .unwrap();
        let store = Store::new(["t"]);
        let user = |s: &str, u: &str| obj(json!({"ServerId": s, "UserName": u}));
        store.put("t", &spec, user("s-1", "ann")).unwrap();
        assert_eq!(
            store.create("t", &spec, user("s-2", "bob")),
            Err(UpdateError::ParentNotFound)
        );
        assert!(store.create("t", &spec, user("s-1", "bob")).is_ok());
        let within = |s: &str| obj(json!({"ServerId": s}));
        let (rows, _) = store
            .page("t", &spec, Some(&within("s-1")), |_| true, None, 10)
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            store
                .page("t", &spec, Some(&within("s-2")), |_| true, None, 10)
                .map(|_| ()),
            Err(UpdateError::ParentNotFound)
        );
        store.delete("t", &spec, &user("s-1", "ann")).unwrap();
        store.delete("t", &spec, &user("s-1", "bob")).unwrap();
        assert_eq!(
            store.read("t", &spec, &user("s-1", "ann")),
            Err(UpdateError::ParentNotFound)
        );
    }

    #[test]
    fn concurrent_swaps_keep_names_unique_and_lose_nothing() {
        let spec = Arc::new(iam());
        let store = Arc::new(Store::new(["iam"]));
        for n in ["a", "b", "c", "d"] {
            store
                .put("iam", &spec, obj(json!({"UserName": n})))
                .unwrap();
        }
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (store, spec) = (store.clone(), spec.clone());
                std::thread::spawn(move || {
                    let names = ["a", "b", "c", "d", "e", "f"];
                    for i in 0..2000 {
                        let from = names[(i + t) % names.len()];
                        let to = names[(i * 7 + t * 3) % names.len()];
                        let _ = rename(&store, &spec, from, to);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let all = store.all("iam", &spec);
        assert_eq!(all.len(), 4, "no user lost or duplicated");
        let mut names: Vec<String> = all
            .iter()
            .map(|r| r["UserName"].as_str().unwrap().to_lowercase())
            .collect();
        names.dedup();
        assert_eq!(names.len(), 4);
    }
}

//! State effects, read back: before the request under test the runner reads the resource
//! the case selects, and after it checks that a successful update set every field the
//! request asked for (and touched what the spec says changes on every update), and that
//! a refused request changed nothing. An apiconform target is read through its control
//! plane (every resource of the API); any other target through the profile's `read_back`
//! request (the selected resource, the fields it maps), or, without one, through the
//! API's own read operation: a spec of kind `read` (else `list`) on the same resource,
//! its answer read where its response template puts each field.

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::spec::model::OpKind;
use crate::spec::model::Spec;
use crate::spec::{effect, validate};

use super::cases::Case;
use super::client::{Observed, Signing};
use super::target::{ApiTarget, ReadBack};
use super::{Outcome, Runner};

/// A resource as read back: spec field → value.
pub type Fields = Map<String, Value>;

/// What the runner saw of the target's state at one moment.
#[derive(Debug, Clone)]
pub struct State {
    /// The resource with the key asked for (`None`: there is none).
    selected: Selected,
    /// Every resource of the API, when the target can list them (control plane).
    pub all: Option<All>,
    /// Whether `selected` holds every field (control plane) or only those the profile's
    /// `read_back` maps.
    pub complete: bool,
}

/// Where the resource with the key asked for is.
#[derive(Debug, Clone)]
enum Selected {
    /// Read on its own (a read operation, a profile's `read_back`).
    Read(Option<Fields>),
    /// Resource `i` of [`State::all`]: unpacked only when a check reads it.
    At(Option<usize>),
}

impl State {
    /// The resource with the key asked for (`None`: there is none).
    pub fn selected(&self) -> Option<Cow<'_, Fields>> {
        match (&self.selected, &self.all) {
            (Selected::Read(r), _) => r.as_ref().map(Cow::Borrowed),
            (Selected::At(Some(i)), Some(All::Stored(rows))) => rows.unpack(*i).map(Cow::Owned),
            (Selected::At(Some(i)), Some(All::Read(rows))) => rows.get(*i).map(Cow::Borrowed),
            (Selected::At(_), _) => None,
        }
    }

    fn has_selected(&self) -> bool {
        match &self.selected {
            Selected::Read(r) => r.is_some(),
            Selected::At(i) => i.is_some(),
        }
    }

    /// Whether the resource with the key asked for is the same in both: the same stored
    /// row, else the same values.
    fn same_selected(&self, other: &State) -> bool {
        if let (
            Selected::At(Some(i)),
            Selected::At(Some(j)),
            Some(All::Stored(a)),
            Some(All::Stored(b)),
        ) = (&self.selected, &other.selected, &self.all, &other.all)
        {
            if let (Some(x), Some(y)) = (a.identity(*i), b.identity(*j)) {
                if x == y {
                    return true;
                }
            }
        }
        self.selected() == other.selected()
    }
}

/// Every resource of an API as read back.
#[derive(Debug, Clone)]
pub enum All {
    /// The in-process fake's rows, as its store holds them: read without copying, and
    /// unpacked only where a check needs the values.
    Stored(crate::fake::StoredRows),
    /// As a control plane answered over HTTP.
    Read(Vec<Fields>),
}

impl All {
    fn unpacked(&self) -> Cow<'_, [Fields]> {
        match self {
            All::Stored(rows) => Cow::Owned(rows.unpacked()),
            All::Read(rows) => Cow::Borrowed(rows),
        }
    }

    /// Where the resource with `key` is, reading only its key fields to find it.
    fn position(&self, spec: &Spec, key: &Map<String, Value>) -> Option<usize> {
        match self {
            All::Stored(rows) => (0..rows.len()).find(|&i| stored_matches(spec, rows, i, key)),
            All::Read(rows) => rows.iter().position(|r| matches_key(spec, r, key)),
        }
    }

    /// Whether the resources other than the one with `key` here and the one with
    /// `other_key` in `other` are the same ([`same_rows`]). Stored rows both readings
    /// share are paired off first without looking at their values; only the rest are
    /// unpacked and compared.
    fn same_others(
        &self,
        spec: &Spec,
        key: &Map<String, Value>,
        other: &All,
        other_key: &Map<String, Value>,
    ) -> bool {
        let (All::Stored(b), All::Stored(a)) = (self, other) else {
            fn others<'r>(spec: &Spec, rows: &'r [Fields], key: &Fields) -> Vec<&'r Fields> {
                rows.iter().filter(|r| !matches_key(spec, r, key)).collect()
            }
            let (b, a) = (self.unpacked(), other.unpacked());
            return same_rows(&others(spec, &b, key), &others(spec, &a, other_key));
        };
        let mut unpaired: HashMap<usize, Vec<usize>> = HashMap::new();
        for j in (0..a.len()).filter(|&j| !stored_matches(spec, a, j, other_key)) {
            if let Some(id) = a.identity(j) {
                unpaired.entry(id).or_default().push(j);
            }
        }
        let mut rest_b = Vec::new();
        for i in (0..b.len()).filter(|&i| !stored_matches(spec, b, i, key)) {
            let paired = b.identity(i).and_then(|id| unpaired.get_mut(&id)?.pop());
            if paired.is_none() {
                rest_b.extend(b.unpack(i));
            }
        }
        let rest_a: Vec<Fields> = unpaired
            .into_values()
            .flatten()
            .filter_map(|j| a.unpack(j))
            .collect();
        same_rows(&rest_b, &rest_a)
    }

    /// Whether `self` and `other` hold the same resources: [`All::same_others`] with no
    /// resource set apart, after a look at whether the store still shares every row in
    /// the same order (a refused request's usual case).
    fn same(&self, spec: &Spec, other: &All) -> bool {
        if let (All::Stored(a), All::Stored(b)) = (self, other) {
            if a.same_as(b) {
                return true;
            }
        }
        let none = Map::new();
        self.same_others(spec, &none, other, &none)
    }
}

/// Equal as a client would read them: numbers, booleans and their text are the same value
/// (XML carries everything as text); structures may carry members the request did not set.
pub fn same_value(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (w, g) if w == g => true,
        (Value::String(s), Value::Number(_) | Value::Bool(_)) => {
            s.as_str() == got.to_string().as_str()
        }
        (Value::Number(_) | Value::Bool(_), Value::String(s)) => {
            s.as_str() == want.to_string().as_str()
        }
        (Value::Object(w), Value::Object(g)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| same_value(wv, gv))),
        (Value::Array(w), Value::Array(g)) => {
            w.len() == g.len() && w.iter().zip(g).all(|(a, b)| same_value(a, b))
        }
        _ => false,
    }
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn key_text(key: &Map<String, Value>) -> String {
    key.iter()
        .map(|(k, v)| format!("{k}={}", show(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether two values of a key field name the same resource: as [`same_value`], and
/// whatever their letter case when the spec's key is case-insensitive.
pub fn same_key_value(spec: &Spec, want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::String(a), Value::String(b)) if spec.resource.key_case_insensitive => {
            a.to_lowercase() == b.to_lowercase()
        }
        _ => same_value(want, got),
    }
}

/// [`matches_key`] on a stored row, reading only its key fields.
fn stored_matches(
    spec: &Spec,
    rows: &crate::fake::StoredRows,
    i: usize,
    key: &Map<String, Value>,
) -> bool {
    !key.is_empty()
        && key.iter().all(|(k, v)| {
            rows.field(i, k)
                .is_some_and(|rv| same_key_value(spec, v, rv))
        })
}

fn matches_key(spec: &Spec, r: &Fields, key: &Map<String, Value>) -> bool {
    !key.is_empty()
        && key
            .iter()
            .all(|(k, v)| r.get(k).is_some_and(|rv| same_key_value(spec, v, rv)))
}

/// Whether two keys name the same resource.
fn same_key(spec: &Spec, a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| same_key_value(spec, v, w)))
}

/// Whether two lists of resources read at different times hold the same resources, in
/// any order: each resource of one equals (as a value: members in any order) a resource
/// of the other, one to one. The lists are read from the same store in the same order,
/// so the first pass, in order, is the one that decides when nothing changed.
fn same_rows<A: Borrow<Fields>, B: Borrow<Fields>>(a: &[A], b: &[B]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.iter().zip(b).all(|(x, y)| x.borrow() == y.borrow()) {
        return true;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = (0..b.len()).find(|&i| !used[i] && b[i].borrow() == x.borrow());
        found.map(|i| used[i] = true).is_some()
    })
}

/// The path one level up (`a/b/c` → `a/b`; `a` → ``).
fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// The value at a slash-separated path.
pub(crate) fn at_path<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('/')
        .filter(|k| !k.is_empty())
        .try_fold(v, |cur, k| match cur {
            Value::Object(m) => m.get(k),
            Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        })
}

/// The paths of the success body that carry a resource field (`${resource.F}`).
fn template_paths(v: &Value, path: String, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}/{k}")
                };
                template_paths(c, p, out);
            }
        }
        Value::String(s) => {
            if let Some(f) = s
                .strip_prefix("${resource.")
                .and_then(|r| r.strip_suffix('}'))
            {
                out.push((path, f.to_string()));
            }
        }
        _ => {}
    }
}

/// The resource's key as a success answer carries it (where the response template puts
/// each key field); empty unless every key field is there.
fn key_in_answer(spec: &Spec, body: &Value) -> Map<String, Value> {
    let mut paths = Vec::new();
    template_paths(&spec.response.body, String::new(), &mut paths);
    let key: Map<String, Value> = spec
        .resource
        .key
        .iter()
        .filter_map(|k| {
            let (path, _) = paths.iter().find(|(_, f)| f == k)?;
            at_path(body, path)
                .filter(|v| !v.is_null())
                .map(|v| (k.clone(), v.clone()))
        })
        .collect();
    if key.len() == spec.resource.key.len() {
        key
    } else {
        Map::new()
    }
}

/// The paths of `v` (a template) whose value is exactly `reference` (`${list.items}`).
fn template_refs(v: &Value, path: String, reference: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}/{k}")
                };
                template_refs(c, p, reference, out);
            }
        }
        Value::String(s) if s == reference => out.push(path),
        _ => {}
    }
}

/// The resource fields an answer carries where a template puts them (`paths` from
/// [`template_paths`]).
fn fields_at(spec: &Spec, body: &Value, paths: &[(String, String)]) -> Fields {
    let is_list = |field: &str| {
        spec.resource
            .fields
            .iter()
            .any(|f| f.name == field && f.ty == crate::spec::model::FieldType::List)
    };
    paths
        .iter()
        .filter_map(|(path, field)| {
            let v = at_path(body, path).filter(|v| !v.is_null())?;
            // XML carries a list of one as the one element.
            let v = match v {
                Value::Array(_) => v.clone(),
                _ if is_list(field) => Value::Array(vec![v.clone()]),
                _ => v.clone(),
            };
            Some((field.clone(), v))
        })
        .collect()
}

/// Seconds since the epoch of a time value (a number, digits, or ISO-8601 text).
fn epoch_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok().or_else(|| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Iso8601::DEFAULT)
                .ok()
                .map(|t| t.unix_timestamp() as f64)
        }),
        _ => None,
    }
}

/// A time the update may legitimately leave as it is: one second or less before now
/// (times have a resolution of one second; the resource was made just now).
fn too_recent(v: &Value) -> bool {
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    epoch_of(v).is_some_and(|t| now - t < 2.0)
}

/// What the spec makes of a case's request, worked out once per case: whether it refuses
/// it, and the effect it has. The effect's key is empty when a selecting parameter is
/// itself invalid (there is no such resource to read, and a target may answer anything
/// for a key it should refuse).
pub(super) struct Expected {
    pub effect: effect::Effect,
    pub refused: bool,
}

impl Expected {
    pub(super) fn of(spec: &Spec, case: &Case) -> Self {
        let (coerced, violations) = validate::validate(spec, &case.params);
        let mut effect = effect::of(spec, &coerced);
        let selector_invalid = violations.iter().any(|v| {
            spec.parameters
                .iter()
                .any(|p| p.name == v.parameter && p.selects.is_some())
        });
        if selector_invalid {
            effect.key = Map::new();
        }
        Self {
            effect,
            refused: !violations.is_empty(),
        }
    }
}

impl Runner {
    /// Whether this target can be read back at all.
    pub(super) fn can_read_back(&self, spec: &Spec, t: &ApiTarget) -> bool {
        t.control_plane || t.read_back.is_some() || self.reader(spec).is_some()
    }

    /// The operation that reads `spec`'s resource back when the target has neither a
    /// control plane nor a profile `read_back`: a spec of kind `read` on the same store
    /// whose parameters select every key field, else one of kind `list` that can be
    /// narrowed to one resource (its selecting parameters and `equals`/`one-of` filters
    /// cover the key) or that selects only the resource's parent.
    pub(super) fn reader(&self, spec: &Spec) -> Option<&Spec> {
        let key = &spec.resource.key;
        let on_store = |s: &&Spec| s.store_id() == spec.store_id();
        let selected =
            |s: &Spec, f: &str| s.parameters.iter().any(|p| p.selects.as_deref() == Some(f));
        let read = self
            .specs
            .iter()
            .filter(on_store)
            .find(|s| s.api.kind == OpKind::Read && key.iter().all(|f| selected(s, f)));
        read.or_else(|| {
            self.specs
                .iter()
                .filter(on_store)
                .find(|s| s.api.kind == OpKind::List && s.list.is_some())
        })
    }

    /// Reads the state: the resource with `key`, and every resource where the target can
    /// list them.
    pub(super) async fn read_state(
        &self,
        spec: &Spec,
        t: &ApiTarget,
        key: &Map<String, Value>,
    ) -> Result<State, String> {
        if t.control_plane {
            let all = self.control_state(t, &spec.api.id).await?;
            return Ok(State {
                selected: Selected::At(all.position(spec, key)),
                all: Some(all),
                complete: true,
            });
        }
        let Some(rb) = &t.read_back else {
            let Some(reader) = self.reader(spec) else {
                return Err("no way to read the state back".into());
            };
            let selected = if key.is_empty() {
                None
            } else {
                self.read_with(spec, reader, t, key).await?
            };
            return Ok(State {
                selected: Selected::Read(selected),
                all: None,
                complete: false,
            });
        };
        let selected = if key.is_empty() {
            None
        } else {
            self.read_one(spec, t, rb, key).await?
        };
        Ok(State {
            selected: Selected::Read(selected),
            all: None,
            complete: false,
        })
    }

    async fn control_state(&self, t: &ApiTarget, api: &str) -> Result<All, String> {
        let base = t.base_url.trim_end_matches('/');
        if let Some(fake) = self.fake_at(base) {
            return fake
                .engine()
                .rows(api)
                .map(All::Stored)
                .map_err(|e| format!("control plane state: {e}"));
        }
        let r = self
            .client
            .get(format!("{base}/_apiconform/state"))
            .query(&[("api", api)])
            .send()
            .await
            .map_err(|e| format!("control plane state: {e}"))?;
        if !r.status().is_success() {
            return Err(format!("control plane state: {}", r.status()));
        }
        let mut state = r
            .json::<Map<String, Value>>()
            .await
            .map_err(|e| format!("control plane state: {e}"))?;
        Ok(All::Read(match state.remove(api) {
            Some(Value::Array(rows)) => rows
                .into_iter()
                .filter_map(|r| match r {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }))
    }

    async fn read_one(
        &self,
        spec: &Spec,
        t: &ApiTarget,
        rb: &ReadBack,
        key: &Map<String, Value>,
    ) -> Result<Option<Fields>, String> {
        let raw = rb.request.filled(key);
        let (request, o) = self
            .send(spec, t, self.raw_wire(&raw), &Signing::Signed)
            .await
            .map_err(|e| format!("read-back: {e}"))?;
        if rb.absent.contains(&o.status) {
            return Ok(None);
        }
        if !(200..300).contains(&o.status) {
            return Err(format!(
                "read-back {} answered {} {}",
                request.lines().next().unwrap_or_default(),
                o.status,
                o.code.as_deref().unwrap_or_default()
            ));
        }
        let body = &o.body;
        let mut fields = Fields::new();
        for (field, path) in &rb.fields {
            match at_path(body, path) {
                Some(v) => {
                    fields.insert(field.clone(), v.clone());
                }
                // A field the spec has but this resource lacks (unset) is not an error; a
                // path that leads nowhere at all is a mistake in the profile.
                None if at_path(body, parent(path)).is_none() => {
                    return Err(format!(
                        "read-back: the answer has nothing at {path} (field {field}); check the profile's read_back.fields"
                    ))
                }
                None => {}
            }
        }
        // An answer about another resource (a target that answers any key with some
        // default) is no answer about this one.
        if key.iter().any(|(k, v)| {
            fields
                .get(k)
                .is_some_and(|got| !same_key_value(spec, v, got))
        }) {
            return Ok(None);
        }
        Ok(Some(fields))
    }

    /// Reads the resource with `key` through the API's own read (or list) operation,
    /// sent to that operation's target (else `t`), signed as the cases are; a timeout
    /// counts against `spec`'s API (a stalled target stalls the API under test).
    async fn read_with(
        &self,
        spec: &Spec,
        reader: &Spec,
        t: &ApiTarget,
        key: &Map<String, Value>,
    ) -> Result<Option<Fields>, String> {
        let t = self.profile.apis.get(&reader.api.id).unwrap_or(t);
        let text = |v: &Value| Value::String(validate::display(v));
        let mut params = Map::new();
        for p in &reader.parameters {
            if let Some(v) = p.selects.as_ref().and_then(|f| key.get(f)) {
                params.insert(p.name.clone(), v.clone());
            }
        }
        let Some(l) = &reader.list else {
            let (request, o) = self
                .send_for(
                    reader,
                    t,
                    crate::protocol::encode_request(reader, &params, None),
                    &Signing::Signed,
                    &spec.api.id,
                )
                .await
                .map(|s| (s.summary, s.observed))
                .map_err(|e| format!("read-back through {}: {e}", reader.api.operation))?;
            if o.status == reader.not_found_row().status
                && o.code.as_deref() == Some(reader.not_found_row().code.as_str())
            {
                return Ok(None);
            }
            if !(200..300).contains(&o.status) {
                return Err(format!(
                    "read-back {} answered {} {}",
                    request.lines().next().unwrap_or_default(),
                    o.status,
                    o.code.as_deref().unwrap_or_default()
                ));
            }
            let mut paths = Vec::new();
            template_paths(&reader.response.body, String::new(), &mut paths);
            let fields = fields_at(reader, &o.body, &paths);
            return Ok(matches_key(reader, &fields, key).then_some(fields));
        };
        // A list: narrowed to the key where its filters can say it, every status kept.
        for f in &l.filters {
            use crate::spec::model::FilterMatch;
            match &f.matches {
                FilterMatch::Equals | FilterMatch::OneOf | FilterMatch::Prefix => {
                    let field = f.field_names().find(|n| key.contains_key(*n));
                    if let Some(v) = field.and_then(|n| key.get(n)) {
                        params.insert(f.parameter.clone(), text(v));
                    }
                }
                FilterMatch::Values(map) => {
                    if let Some((all, _)) = map.iter().find(|(_, keep)| keep.is_empty()) {
                        params.insert(f.parameter.clone(), Value::String(all.clone()));
                    }
                }
                FilterMatch::Contains | FilterMatch::WordPrefixes => {}
            }
        }
        let mut items_at = Vec::new();
        template_refs(
            &reader.response.body,
            String::new(),
            "${list.items}",
            &mut items_at,
        );
        let mut next_at = Vec::new();
        template_refs(
            &reader.response.body,
            String::new(),
            "${list.next}",
            &mut next_at,
        );
        let Some(items_at) = items_at.first() else {
            return Err(format!(
                "read-back through {}: its response has no ${{list.items}}",
                reader.api.operation
            ));
        };
        let mut item_paths = Vec::new();
        template_paths(&l.item, String::new(), &mut item_paths);
        // Page after page until the resource shows up or the list ends (bounded).
        for _ in 0..100 {
            let (request, o) = self
                .send_for(
                    reader,
                    t,
                    crate::protocol::encode_request(reader, &params, None),
                    &Signing::Signed,
                    &spec.api.id,
                )
                .await
                .map(|s| (s.summary, s.observed))
                .map_err(|e| format!("read-back through {}: {e}", reader.api.operation))?;
            if o.status == reader.not_found_row().status
                && o.code.as_deref() == Some(reader.not_found_row().code.as_str())
            {
                return Ok(None);
            }
            if !(200..300).contains(&o.status) {
                return Err(format!(
                    "read-back {} answered {} {}",
                    request.lines().next().unwrap_or_default(),
                    o.status,
                    o.code.as_deref().unwrap_or_default()
                ));
            }
            let items = match at_path(&o.body, items_at) {
                Some(Value::Array(a)) => a.clone(),
                // XML: one item is an element, not a list of them.
                Some(v @ Value::Object(_)) => vec![v.clone()],
                _ => Vec::new(),
            };
            if let Some(found) = items
                .iter()
                .map(|i| fields_at(reader, i, &item_paths))
                .find(|f| matches_key(reader, f, key))
            {
                return Ok(Some(found));
            }
            let next = next_at
                .first()
                .and_then(|p| at_path(&o.body, p))
                .filter(|v| !matches!(v, Value::Null) && v.as_str() != Some(""));
            match (next, &l.token) {
                (Some(n), Some(token)) => {
                    params.insert(token.clone(), n.clone());
                }
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// After the request under test: what it did to the state, against what the spec
    /// says it must do. `before` was read just before the request.
    pub(super) async fn verify_state(
        &self,
        spec: &Spec,
        t: &ApiTarget,
        expected: Expected,
        before: &State,
        o: &Observed,
        outcome: &mut Outcome,
    ) {
        let Expected {
            mut effect,
            refused,
        } = expected;
        let resource = &spec.resource.name;
        let fail = |outcome: &mut Outcome, m: String| {
            outcome
                .failures
                .push(super::Failure::State(format!("state: {m}")))
        };
        if o.status >= 300 {
            // Refused: nothing may change.
            let after = match self.read_state(spec, t, &effect.key).await {
                Ok(s) => s,
                Err(e) => return fail(outcome, e),
            };
            if let (Some(b), Some(a)) = (&before.all, &after.all) {
                if !b.same(spec, a) {
                    let diff = super::compare::diff(
                        &crate::spec::to_yaml(&canonical_rows(&b.unpacked())).unwrap_or_default(),
                        &crate::spec::to_yaml(&canonical_rows(&a.unpacked())).unwrap_or_default(),
                    );
                    fail(
                        outcome,
                        format!("the refused request changed the {resource}s"),
                    );
                    outcome.state_diff = Some(diff);
                }
            } else if !before.same_selected(&after) {
                let shown = |s: &State| {
                    s.selected()
                        .map_or("absent".into(), |r| show(&Value::Object(r.into_owned())))
                };
                fail(
                    outcome,
                    format!(
                        "the refused request changed the {resource} {}: {} before, {} after",
                        key_text(&effect.key),
                        shown(before),
                        shown(&after),
                    ),
                );
            }
            return;
        }
        if !refused && effect.key.is_empty() && spec.api.kind == OpKind::Create {
            // A create whose key the service makes: the key is the one the answer gives.
            effect.key = key_in_answer(spec, &o.body);
        }
        if refused || effect.key.is_empty() {
            // The spec refuses this request: the status check has already failed it.
            return;
        }
        match spec.api.kind {
            OpKind::Delete => {
                match self.read_state(spec, t, &effect.key).await {
                    Ok(s) if s.has_selected() => fail(
                        outcome,
                        format!(
                            "after the delete, a {resource} with {} is still there",
                            key_text(&effect.key)
                        ),
                    ),
                    Ok(_) => {}
                    Err(e) => fail(outcome, e),
                }
                return;
            }
            OpKind::Read | OpKind::List => {
                match self.read_state(spec, t, &effect.key).await {
                    Ok(after) if !after.same_selected(before) => fail(
                        outcome,
                        format!("the {} changed the {resource}", spec.api.kind.name()),
                    ),
                    Ok(_) => {}
                    Err(e) => fail(outcome, e),
                }
                return;
            }
            OpKind::Create | OpKind::Update => {}
        }
        let mut new_key = effect.key.clone();
        for (f, v) in &effect.set {
            if let Some(k) = new_key.get_mut(f) {
                *k = v.clone();
            }
        }
        let after = match self.read_state(spec, t, &new_key).await {
            Ok(s) => s,
            Err(e) => return fail(outcome, e),
        };
        let Some(now) = after.selected() else {
            return fail(
                outcome,
                format!(
                    "after the {}, no {resource} has {} (read back)",
                    spec.api.kind.name(),
                    key_text(&new_key)
                ),
            );
        };
        for (f, want) in &effect.set {
            match now.get(f) {
                Some(got) if same_value(want, got) => {}
                Some(got) => fail(
                    outcome,
                    format!(
                        "{f} is {} after the {} (the request set {})",
                        show(got),
                        spec.api.kind.name(),
                        show(want)
                    ),
                ),
                None if after.complete => fail(
                    outcome,
                    format!(
                        "{f} is unset after the {} (the request set {})",
                        spec.api.kind.name(),
                        show(want)
                    ),
                ),
                None => {}
            }
        }
        // Fields the spec says every update changes (last-modified times).
        let touched: Vec<&str> = spec
            .resource
            .fields
            .iter()
            .filter(|f| f.touch_on_update)
            .map(|f| f.name.as_str())
            .collect();
        if let Some(old) = before.selected() {
            for f in &touched {
                if let (Some(b), Some(a)) = (old.get(*f), now.get(*f)) {
                    if same_value(b, a) && !too_recent(b) {
                        fail(
                            outcome,
                            format!("{f} did not change with the update (still {})", show(a)),
                        );
                    }
                }
            }
            let mut paths = Vec::new();
            template_paths(&spec.response.body, String::new(), &mut paths);
            let body = &o.body;
            for (path, f) in paths.iter().filter(|(_, f)| touched.contains(&f.as_str())) {
                if let (Some(b), Some(a)) = (old.get(f), at_path(body, path)) {
                    if same_value(b, a) && !too_recent(b) {
                        outcome.failures.push(super::Failure::State(format!(
                            "{path} did not change with the update (the answer still says {})",
                            show(a)
                        )));
                    }
                }
            }
        }
        if !same_key(spec, &new_key, &effect.key) {
            match self.read_state(spec, t, &effect.key).await {
                Ok(s) if s.has_selected() => fail(
                    outcome,
                    format!(
                        "after the rename, a {resource} with the old {} is still there",
                        key_text(&effect.key)
                    ),
                ),
                Ok(_) => {}
                Err(e) => fail(outcome, e),
            }
        }
        // Nothing but the selected resource may change.
        if let (Some(b), Some(a)) = (&before.all, &after.all) {
            if !b.same_others(spec, &effect.key, a, &new_key) {
                fail(outcome, format!("the update changed another {resource}"));
            }
        }
    }
}

fn canonical_rows(rows: &[Fields]) -> Vec<Value> {
    let mut v: Vec<Value> = rows
        .iter()
        .map(|r| super::compare::sorted(&Value::Object(r.clone())))
        .collect();
    v.sort_by_key(|r| r.to_string());
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(v: Value) -> Vec<Fields> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().clone())
            .collect()
    }

    #[test]
    fn stored_rows_are_the_same_until_written_and_then_compared_as_values() {
        let engine = crate::fake::Fake::builder().engine().unwrap();
        let spec = engine.specs().find(|s| s.api.id == "aws-iam").unwrap();
        let read = || All::Stored(engine.rows("aws-iam").unwrap());
        let key = |name: &str| rows(json!([{ "UserName": name }])).remove(0);
        let unpack = |all: &All, name: &str| {
            let at = all.position(spec, &key(name))?;
            all.unpacked().get(at).cloned()
        };
        let before = read();
        assert!(before.same(spec, &read()));
        let bob = unpack(&before, "Bob").expect("Bob is a fixture user");
        assert_eq!(bob["UserName"], "Bob");
        assert_eq!(before.position(spec, &Map::new()), None);

        // Written again with the same values: a new row, the same resources.
        engine.seed("aws-iam", [bob.clone()]).unwrap();
        let rewritten = read();
        let (All::Stored(b), All::Stored(r)) = (&before, &rewritten) else {
            unreachable!()
        };
        assert!(!b.same_as(r), "a written row is a new row");
        assert!(before.same(spec, &rewritten));

        // A changed value is a change, and the key finds the row as it is now.
        let mut moved = bob.clone();
        moved.insert("Path".into(), json!("/moved/"));
        engine.seed("aws-iam", [moved]).unwrap();
        let after = read();
        assert!(!before.same(spec, &after));
        assert!(!before.same(spec, &All::Read(after.unpacked().into_owned())));
        assert_eq!(unpack(&after, "Bob").unwrap()["Path"], "/moved/");
        assert_eq!(unpack(&before, "Bob"), Some(bob));

        // Bob changed, and nothing else: stored or read over HTTP, the same verdict.
        let over_http = All::Read(after.unpacked().into_owned());
        for after in [&after, &over_http] {
            assert!(before.same_others(spec, &key("Bob"), after, &key("Bob")));
            assert!(!before.same_others(spec, &key("Alice"), after, &key("Alice")));
        }
        // Alice changed too: the update changed another user.
        let mut alice = unpack(&after, "Alice").unwrap();
        alice.insert("Path".into(), json!("/elsewhere/"));
        engine.seed("aws-iam", [alice]).unwrap();
        let both = read();
        assert!(!before.same_others(spec, &key("Bob"), &both, &key("Bob")));
    }

    #[test]
    fn same_rows_ignores_row_and_member_order_and_counts_each_row_once() {
        let a = rows(json!([{"U": "a", "N": 1}, {"U": "b", "T": {"x": 1, "y": [1, 2]}}]));
        let b = rows(json!([{"T": {"y": [1, 2], "x": 1}, "U": "b"}, {"N": 1, "U": "a"}]));
        assert!(same_rows(&a, &b));
        assert!(same_rows(&a, &a));
        // A changed value, an array out of order, a missing row, a duplicate for another.
        assert!(!same_rows(
            &a,
            &rows(json!([{"U": "a", "N": 2}, {"U": "b", "T": {"x": 1, "y": [1, 2]}}]))
        ));
        assert!(!same_rows(
            &a,
            &rows(json!([{"U": "a", "N": 1}, {"U": "b", "T": {"x": 1, "y": [2, 1]}}]))
        ));
        assert!(!same_rows(&a, &a[..1]));
        assert!(!same_rows(
            &a,
            &rows(json!([{"U": "a", "N": 1}, {"U": "a", "N": 1}]))
        ));
        assert!(!same_rows(
            &rows(json!([{"U": "a"}, {"U": "a"}])),
            &rows(json!([{"U": "a"}, {"U": "b"}]))
        ));
        // A number is not its text, and 1 is not 1.0 (as the JSON text compared before).
        assert!(!same_rows(
            &rows(json!([{"N": 1}])),
            &rows(json!([{"N": "1"}]))
        ));
        assert!(!same_rows(
            &rows(json!([{"N": 1}])),
            &rows(json!([{"N": 1.0}]))
        ));
    }
}

//! Spec templates: `${Param}`, `${resource.Field}`, `${request_id}`, `${detail}` and
//! `${now}` in messages, error members and response bodies. A response body is compiled
//! once when its spec loads ([`Template`]); the fake renders the compiled tree.

use crate::spec::model::Field;
use serde_json::{Map, Value};

use crate::spec::load::template_refs;
use crate::spec::validate::display;

/// A template tree parsed once (when its spec loads): literals kept as they are,
/// references resolved to what they name, so rendering does no parsing.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// No reference inside.
    Literal(Value),
    /// A string that is exactly one reference: the value keeps its type, and the member is
    /// dropped when it is unset.
    Ref(Ref),
    /// Text with references in it.
    Text(Vec<Piece>),
    Array(Vec<Template>),
    Object(Vec<(Key, Template)>),
}

/// An object template's member name, with the bytes a JSON answer writes for it
/// (`"Name":`), escaped once when the template is compiled rather than on every answer.
/// Reads as the name (`&str`) everywhere else.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    name: String,
    json: Box<[u8]>,
}

impl Key {
    pub fn new(name: &str) -> Self {
        let mut json = serde_json::to_vec(name).unwrap_or_default();
        json.push(b':');
        Key {
            name: name.to_owned(),
            json: json.into(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// `"Name":`, as serde_json writes the name.
    pub fn json(&self) -> &[u8] {
        &self.json
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

/// What a reference names.
#[derive(Debug, Clone, PartialEq)]
pub enum Ref {
    RequestId,
    Detail,
    Now,
    /// A resource field, with its position among the resource's fields (`usize::MAX` when
    /// the template was compiled without them): a stored row is read there, not searched.
    Resource(String, usize),
    /// A list operation's page: `list.items`, `list.next`, `list.truncated`.
    List(String),
    Param(String),
}

/// A piece of a text template.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Lit(String),
    Ref(Ref),
}

impl Ref {
    fn parse(name: &str, fields: &[Field]) -> Self {
        match name {
            "request_id" => Self::RequestId,
            "detail" => Self::Detail,
            "now" => Self::Now,
            _ => match (name.strip_prefix("resource."), name.strip_prefix("list.")) {
                (Some(f), _) => Self::Resource(
                    f.to_string(),
                    fields
                        .iter()
                        .position(|x| x.name == f)
                        .unwrap_or(usize::MAX),
                ),
                (_, Some(f)) => Self::List(f.to_string()),
                _ => Self::Param(name.to_string()),
            },
        }
    }
}

impl Template {
    /// Parses a template tree.
    pub fn compile(v: &Value) -> Self {
        Self::compile_for(v, &[])
    }

    /// Parses a template tree whose `resource.` references name these fields.
    pub fn compile_for(v: &Value, fields: &[Field]) -> Self {
        match v {
            Value::String(s) if s.contains("${") => {
                if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    if !name.contains("${") && !name.contains('}') {
                        return Self::Ref(Ref::parse(name, fields));
                    }
                }
                let mut pieces = Vec::new();
                let mut rest = s.as_str();
                while let Some(i) = rest.find("${") {
                    let after = &rest[i + 2..];
                    let Some(j) = after.find('}') else { break };
                    if i > 0 {
                        pieces.push(Piece::Lit(rest[..i].to_string()));
                    }
                    pieces.push(Piece::Ref(Ref::parse(&after[..j], fields)));
                    rest = &after[j + 1..];
                }
                if !rest.is_empty() {
                    pieces.push(Piece::Lit(rest.to_string()));
                }
                Self::Text(pieces)
            }
            Value::Array(items) => {
                Self::Array(items.iter().map(|v| Self::compile_for(v, fields)).collect())
            }
            Value::Object(m) => Self::Object(
                m.iter()
                    .map(|(k, v)| (Key::new(k), Self::compile_for(v, fields)))
                    .collect(),
            ),
            other => Self::Literal(other.clone()),
        }
    }
}

/// A resource's fields by name: a map, or a stored row (values in the order of the spec's
/// fields), read in place without building a map.
#[derive(Clone, Copy, Debug)]
pub enum Fields<'a> {
    Map(&'a Map<String, Value>),
    Row(&'a [Field], &'a [Value]),
    /// A stored row of the very field list the template read through it was compiled
    /// for: a field is read at the template's position, its name not compared. Only the
    /// engine makes one ([`Fields::compiled_for`]), for the spec template it compiled.
    Compiled(CompiledRow<'a>),
    /// Name and value pairs, as [`crate::spec::effect::Borrowed`] gives a key.
    Pairs(&'a [(&'a str, &'a Value)]),
}

/// The row of a [`Fields::Compiled`]: its field list and its values.
#[derive(Clone, Copy, Debug)]
pub struct CompiledRow<'a> {
    fields: &'a [Field],
    values: &'a [Value],
}

impl<'a> Fields<'a> {
    /// The field's value (`None` when it is unset).
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        match *self {
            Fields::Map(m) => m.get(name),
            Fields::Row(fields, values) | Fields::Compiled(CompiledRow { fields, values }) => {
                fields
                    .iter()
                    .position(|f| f.name == name)
                    .and_then(|i| values.get(i))
                    .filter(|v| !v.is_null())
            }
            Fields::Pairs(pairs) => pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v),
        }
    }

    /// [`Self::get`], for a row looked at in position `at` first (where the field is when
    /// the row's fields are the ones a template was compiled for). A [`Fields::Row`]'s
    /// name there is compared, since nothing says which fields the template was compiled
    /// for; a [`Fields::Compiled`] row is read there as it is.
    pub fn get_at(&self, at: usize, name: &str) -> Option<&'a Value> {
        match *self {
            Fields::Row(fields, values) if fields.get(at).is_some_and(|f| f.name == name) => {
                values.get(at).filter(|v| !v.is_null())
            }
            // A row ends at its last set field: a position past its values is unset.
            Fields::Compiled(CompiledRow { fields, values }) if at < fields.len() => {
                values.get(at).filter(|v| !v.is_null())
            }
            _ => self.get(name),
        }
    }

    /// This row as a [`Fields::Compiled`] one when its field list is `fields` itself (the
    /// same slice, borrowed from the same place, not an equal list); as it is otherwise.
    ///
    /// The caller vouches that the template read through the result was compiled for
    /// `fields` (by [`Template::compile_for`]) and that `fields` has not changed since:
    /// the engine compiles each spec's template for the spec's fields when it takes the
    /// spec, and holds the spec unchanged from then on.
    pub(crate) fn compiled_for(self, fields: &'a [Field]) -> Self {
        match self {
            Fields::Row(f, values) if std::ptr::eq(f, fields) => {
                Fields::Compiled(CompiledRow { fields, values })
            }
            other => other,
        }
    }
}

impl<'a> From<&'a [(&'a str, &'a Value)]> for Fields<'a> {
    fn from(p: &'a [(&'a str, &'a Value)]) -> Self {
        Fields::Pairs(p)
    }
}

impl<'a> From<&'a Map<String, Value>> for Fields<'a> {
    fn from(m: &'a Map<String, Value>) -> Self {
        Fields::Map(m)
    }
}

/// A compiled template seen through a [`Scope`]: written out as it is walked (JSON through
/// serde, XML by [`crate::protocol::xml::write_doc`]), so an answer is written without
/// building a tree or copying what it shows first. A member whose reference is unset is
/// left out, and so is an object whose every reference is unset, as [`Scope::value`]
/// does with the template's source.
#[derive(Clone, Copy)]
pub struct View<'t> {
    pub template: &'t Template,
    pub scope: &'t Scope<'t>,
}

/// A template's text with its references' text in place (`${UserName}` in
/// `"user ${UserName}"`), written piece by piece.
#[derive(Clone, Copy)]
pub struct TextView<'t> {
    pieces: &'t [Piece],
    scope: &'t Scope<'t>,
}

impl std::fmt::Display for TextView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in self.pieces {
            match p {
                Piece::Lit(s) => f.write_str(s)?,
                Piece::Ref(r) => self.scope.write_text(f, r)?,
            }
        }
        Ok(())
    }
}

/// What a [`View`] is at its top: a JSON value in place, a reference's own text, text to
/// write piece by piece, or a template array or object to walk. Each reference is looked
/// up once, when the shape is taken.
#[derive(Clone, Copy)]
pub enum Shape<'t> {
    Value(&'t Value),
    Str(&'t str),
    Now,
    Text(TextView<'t>),
    Array(&'t [Template], &'t Scope<'t>),
    Object(&'t [(Key, Template)], &'t Scope<'t>),
    /// An unset reference, or an object whose every reference is unset.
    Absent,
}

impl<'t> View<'t> {
    pub fn new(template: &'t Template, scope: &'t Scope<'t>) -> Self {
        View { template, scope }
    }

    pub fn shape(&self) -> Shape<'t> {
        Shape::of(self.template, self.scope)
    }
}

impl<'t> Shape<'t> {
    fn of(template: &'t Template, s: &'t Scope<'t>) -> Self {
        match template {
            Template::Literal(v) => Shape::Value(v),
            Template::Ref(Ref::RequestId) => Shape::Str(s.request_id),
            Template::Ref(Ref::Detail) => Shape::Str(s.detail),
            Template::Ref(Ref::Now) => Shape::Now,
            Template::Ref(r) => match s.stored(r) {
                Some(v) if !v.is_null() => Shape::Value(v),
                _ => Shape::Absent,
            },
            Template::Text(pieces) => Shape::Text(TextView { pieces, scope: s }),
            Template::Array(items) => Shape::Array(items, s),
            Template::Object(members) => {
                // An object whose every reference is unset describes nothing (a structure
                // with a constant member and an unset one): left out, as [`Scope::value`].
                let mut refs = members.iter().filter_map(|(_, t)| match t {
                    Template::Ref(r) => Some(r),
                    _ => None,
                });
                let first = refs.next();
                if first.is_some() && first.into_iter().chain(refs).all(|r| !s.is_set(r)) {
                    Shape::Absent
                } else {
                    Shape::Object(members, s)
                }
            }
        }
    }

    /// The items of an array template that are present.
    pub fn items(items: &'t [Template], s: &'t Scope<'t>) -> impl Iterator<Item = Shape<'t>> {
        items
            .iter()
            .map(move |t| Shape::of(t, s))
            .filter(|v| !matches!(v, Shape::Absent))
    }

    /// The members of an object template that are present, in order.
    pub fn members(
        members: &'t [(Key, Template)],
        s: &'t Scope<'t>,
    ) -> impl Iterator<Item = (&'t str, Shape<'t>)> {
        Self::keyed_members(members, s).map(|(k, v)| (k.as_str(), v))
    }

    /// [`Self::members`], each with its [`Key`].
    pub fn keyed_members(
        members: &'t [(Key, Template)],
        s: &'t Scope<'t>,
    ) -> impl Iterator<Item = (&'t Key, Shape<'t>)> {
        members
            .iter()
            .map(move |(k, t)| (k, Shape::of(t, s)))
            .filter(|(_, v)| !matches!(v, Shape::Absent))
    }
}

impl serde::Serialize for Shape<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Shape::Value(v) => v.serialize(s),
            Shape::Str(t) => s.serialize_str(t),
            Shape::Now => s.serialize_i64(now()),
            Shape::Text(t) => s.collect_str(&t),
            Shape::Array(items, scope) => s.collect_seq(Shape::items(items, scope)),
            Shape::Object(members, scope) => s.collect_map(Shape::members(members, scope)),
            Shape::Absent => s.serialize_unit(),
        }
    }
}

impl serde::Serialize for View<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.shape().serialize(s)
    }
}

/// `${now}`: the time in whole seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// What a template can refer to.
pub struct Scope<'a> {
    pub params: &'a Map<String, Value>,
    pub resource: Option<Fields<'a>>,
    pub request_id: &'a str,
    pub detail: &'a str,
    /// A list operation's page: `${list.items}`, `${list.next}`, `${list.truncated}`.
    pub list: Option<&'a Map<String, Value>>,
}

impl<'a> Scope<'a> {
    fn lookup(&self, name: &str) -> Option<Value> {
        match name {
            "request_id" => Some(Value::String(self.request_id.into())),
            "detail" => Some(Value::String(self.detail.into())),
            "now" => Some(Value::Number(now().into())),
            _ => match (name.strip_prefix("resource."), name.strip_prefix("list.")) {
                (Some(f), _) => self.resource.and_then(|r| r.get(f)).cloned(),
                (_, Some(f)) => self.list.and_then(|l| l.get(f)).cloned(),
                _ => super::member(self.params, name).cloned(),
            },
        }
        .filter(|v| !v.is_null())
    }

    /// What a reference to a parameter, a resource field or the page names, in place.
    fn stored(&self, r: &Ref) -> Option<&'a Value> {
        match r {
            Ref::Resource(f, at) => self.resource.and_then(|m| m.get_at(*at, f)),
            Ref::List(f) => self.list.and_then(|m| m.get(f)),
            Ref::Param(p) => super::member(self.params, p),
            _ => None,
        }
    }

    /// Whether a reference names a value (without copying it).
    fn is_set(&self, r: &Ref) -> bool {
        match r {
            Ref::RequestId | Ref::Detail | Ref::Now => true,
            _ => self.stored(r).is_some_and(|v| !v.is_null()),
        }
    }

    /// Writes a reference's text (nothing when unset).
    fn write_text(&self, out: &mut impl std::fmt::Write, r: &Ref) -> std::fmt::Result {
        match r {
            Ref::RequestId => out.write_str(self.request_id),
            Ref::Detail => out.write_str(self.detail),
            Ref::Now => write!(out, "{}", now()),
            _ => match self.stored(r) {
                Some(Value::String(s)) => out.write_str(s),
                Some(Value::Null) | None => Ok(()),
                Some(v) => write!(out, "{v}"),
            },
        }
    }

    /// Substitutes every reference in `s` with its text (empty when unset).
    pub fn text(&self, s: &str) -> String {
        if !s.contains("${") {
            return s.to_string();
        }
        let mut out = s.to_string();
        for name in template_refs(s) {
            let v = self.lookup(&name).map(|v| display(&v)).unwrap_or_default();
            out = out.replace(&format!("${{{name}}}"), &v);
        }
        out
    }

    /// Renders a tree. A string that is exactly one reference takes the referenced
    /// value's type, and its member is dropped when the value is unset.
    pub fn value(&self, v: &Value) -> Option<Value> {
        match v {
            Value::String(s) => {
                if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    if !name.contains("${") && !name.contains('}') {
                        return self.lookup(name);
                    }
                }
                Some(Value::String(self.text(s)))
            }
            Value::Array(items) => Some(Value::Array(
                items.iter().filter_map(|i| self.value(i)).collect(),
            )),
            Value::Object(m) => {
                let out = self.members(m);
                // An object whose every reference is unset describes nothing (a structure
                // with a constant member and an unset one): left out.
                let refs: Vec<&Value> = m.values().filter(|v| is_reference(v)).collect();
                let unset = !refs.is_empty() && refs.iter().all(|v| self.value(v).is_none());
                (!unset).then_some(Value::Object(out))
            }
            other => Some(other.clone()),
        }
    }

    /// Renders each member of a map, dropping unset ones.
    pub fn members(&self, m: &Map<String, Value>) -> Map<String, Value> {
        m.iter()
            .filter_map(|(k, v)| self.value(v).map(|v| (k.clone(), v)))
            .collect()
    }
}

/// Whether a template value is exactly one `${...}` reference.
fn is_reference(v: &Value) -> bool {
    v.as_str()
        .and_then(|s| s.strip_prefix("${").and_then(|r| r.strip_suffix('}')))
        .is_some_and(|n| !n.contains("${") && !n.contains('}'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exact_references_keep_their_type_and_unset_ones_vanish() {
        let params = json!({"UserName": "bob"}).as_object().cloned().unwrap();
        let res = json!({"Uid": 1000, "Path": "/"})
            .as_object()
            .cloned()
            .unwrap();
        let s = Scope {
            params: &params,
            resource: Some((&res).into()),
            request_id: "r1",
            detail: "",
            list: None,
        };
        let out = s.value(&json!({
            "Uid": "${resource.Uid}", "Gone": "${resource.Missing}",
            "Msg": "User ${UserName} at ${resource.Path} (${request_id})", "Ids": ["${UserName}"]
        }));
        assert_eq!(
            out,
            Some(json!({"Uid": 1000, "Msg": "User bob at / (r1)", "Ids": ["bob"]}))
        );
    }

    /// Every embedded spec's answer reads a stored row's fields in place at their
    /// positions, and the same when the row's fields are in another order (the positions
    /// then miss, and the fields are found by name).
    #[test]
    fn fields_read_at_their_positions_render_as_fields_found_by_name() {
        let mut shown = 0;
        for spec in crate::spec::embedded().expect("embedded specs") {
            let fields = &spec.resource.fields;
            let values: Vec<Value> = (0..fields.len()).map(|i| json!(format!("v{i}"))).collect();
            let mut reversed = fields.clone();
            reversed.reverse();
            let reversed_values: Vec<Value> = values.iter().rev().cloned().collect();
            let params = Map::new();
            let render = |t: &Template, row: Fields<'_>| {
                let s = Scope {
                    params: &params,
                    resource: Some(row),
                    request_id: "r1",
                    detail: "",
                    list: None,
                };
                serde_json::to_value(View::new(t, &s)).unwrap()
            };
            let by_name = Template::compile(&spec.response.body);
            let at = Template::compile_for(&spec.response.body, fields);
            let want = render(&by_name, Fields::Row(fields, &values));
            assert_eq!(
                render(&at, Fields::Row(fields, &values)),
                want,
                "{}",
                spec.api.id
            );
            assert_eq!(
                render(&at, Fields::Row(&reversed, &reversed_values)),
                want,
                "{}",
                spec.api.id
            );
            // Read at the positions as they are, for the list the template was compiled
            // for, and for a row that ends before its last fields (unset there).
            let exact = Fields::Row(fields, &values).compiled_for(fields);
            assert!(matches!(exact, Fields::Compiled(_)), "{}", spec.api.id);
            assert_eq!(render(&at, exact), want, "{}", spec.api.id);
            let short = &values[..fields.len() / 2];
            assert_eq!(
                render(&at, Fields::Row(fields, short).compiled_for(fields)),
                render(&by_name, Fields::Row(fields, short)),
                "{}",
                spec.api.id
            );
            // An equal list elsewhere, or another list, is not the one compiled for.
            let copy = fields.clone();
            for other in [&copy, &reversed] {
                let row = Fields::Row(other, &values).compiled_for(fields);
                assert!(matches!(row, Fields::Row(..)), "{}", spec.api.id);
            }
            shown += usize::from(want.to_string().contains("\"v"));
        }
        // IAM's update answers nothing of the user; the others show it.
        assert!(shown >= 3, "only {shown} answers show a field");
    }

    #[test]
    fn a_compiled_template_renders_as_its_source() {
        let params = json!({"UserName": "bob"}).as_object().cloned().unwrap();
        let res = json!({"Uid": 1000, "Path": "/", "Flag": false})
            .as_object()
            .cloned()
            .unwrap();
        let s = Scope {
            params: &params,
            resource: Some((&res).into()),
            request_id: "r1",
            detail: "d",
            list: None,
        };
        let source = json!({
            "Uid": "${resource.Uid}", "Gone": "${resource.Missing}", "Flag": "${resource.Flag}",
            "Msg": "User ${UserName} at ${resource.Path} (${request_id}) ${resource.Missing}!",
            "Ids": ["${UserName}", 1, null], "Detail": "${detail}", "Plain": "no refs", "Broken": "${open",
            "Boundary": {"Type": "Policy", "Arn": "${resource.Missing}"}, "Kept": {"Type": "T", "Uid": "${resource.Uid}"}
        });
        let compiled = Template::compile(&source);
        let view = View::new(&compiled, &s);
        let source = s.value(&source).unwrap();
        assert_eq!(serde_json::to_value(view).unwrap(), source);
        // As XML too: each member an element, the array's items repeated, the
        // unset members and the object of unset references left out.
        let xml = |v: crate::protocol::xml::Node<'_>| {
            String::from_utf8(crate::protocol::xml::write_doc(v, false)).unwrap()
        };
        let written = xml(view.into());
        assert_eq!(written, xml((&source).into()));
        assert!(written.contains("<Ids>bob</Ids><Ids>1</Ids>"), "{written}");
    }
}

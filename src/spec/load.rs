//! Loading a spec: parse the YAML into the model, then check everything the model's types
//! cannot say (patterns compile, references resolve, examples obey the spec). Every
//! problem becomes a [`SpecError`] with file, line, column and a sentence for the author.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::Value;

use super::model::{
    Auth, CaseOnlyRename, CompareMode, CompareRule, Expectation, OpKind, Paging, ParamType,
    Parameter, Protocol, RuleCheck, Spec, Trigger,
};
use super::pattern::Pattern;
use super::validate;
use super::yaml::{self, Position, PositionIndex};

/// One problem in a spec file.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub file: String,
    pub position: Option<Position>,
    /// Key path of the offending node, e.g. `parameters[2].pattern`.
    pub path: Option<String>,
    pub message: String,
    /// The offending line of the file, for display.
    pub source_line: Option<String>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        match self.position {
            Some(p) => writeln!(f, "  --> {}:{}:{}", self.file, p.line, p.column)?,
            None => writeln!(f, "  --> {}", self.file)?,
        }
        if let (Some(p), Some(line)) = (self.position, &self.source_line) {
            let n = p.line.to_string();
            let pad = " ".repeat(n.len());
            writeln!(f, "{pad} |")?;
            writeln!(f, "{n} | {line}")?;
            writeln!(f, "{pad} | {}^", " ".repeat(p.column.saturating_sub(1)))?;
        }
        if let Some(path) = &self.path {
            writeln!(f, "  = at {path}")?;
        }
        Ok(())
    }
}

/// All the problems found in one file.
#[derive(Debug, Clone)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// Parses and checks one spec. `file` names it in errors.
pub fn load_str(file: &str, text: &str) -> Result<Spec, SpecErrors> {
    let lines: Vec<&str> = text.lines().collect();
    let source_line = |p: Option<Position>| {
        p.and_then(|p| lines.get(p.line.wrapping_sub(1)).map(|l| l.to_string()))
    };
    let mut spec: Spec = match yaml::decode(text) {
        Ok(s) => s,
        Err(e) => {
            return Err(SpecErrors(vec![SpecError {
                file: file.to_string(),
                position: e.position,
                path: None,
                message: reword_decode_error(&e.message),
                source_line: source_line(e.position),
            }]))
        }
    };
    let index = PositionIndex::build(text);
    let mut problems = Vec::new();
    compile_patterns(&mut spec.parameters, "parameters", &mut problems);
    compile_compare_patterns(&mut spec.response.compare, &mut problems);
    if spec.resource.shared_with.is_some() {
        // The resource is the owner's: what depends on it is checked when the specs are
        // linked ([`link`]); here only that the section defines nothing of its own.
        let r = &spec.resource;
        if !r.name.is_empty()
            || !r.key.is_empty()
            || !r.fields.is_empty()
            || !r.fixtures.is_empty()
            || !r.unique.is_empty()
            || r.parent.is_some()
            || r.key_case_insensitive
        {
            problems.push((
                "resource".into(),
                "a resource `shared_with` another spec is defined there: leave out everything but `shared_with`".into(),
            ));
        }
    } else {
        check(&spec, &mut problems);
        if problems.is_empty() {
            check_examples(&spec, &mut problems);
        }
    }
    if problems.is_empty() {
        if let Err(e) = spec.resolve_rows() {
            problems.push(("errors".into(), e));
        } else {
            spec.response.compiled = Some(super::template::Template::compile_for(
                &spec.response.body,
                &spec.resource.fields,
            ));
            return Ok(spec);
        }
    }
    Err(SpecErrors(
        problems
            .into_iter()
            .map(|(path, message)| {
                let position = index.find(&path);
                SpecError {
                    file: file.to_string(),
                    position,
                    path: Some(path),
                    message,
                    source_line: source_line(position),
                }
            })
            .collect(),
    ))
}

/// Gives each spec whose resource is `shared_with` another the owner's resource definition
/// (its fixtures too, which the fake loads only into the owner's store), then checks what depends on it. Linked specs are left
/// as they are, so linking twice changes nothing. Problems come as (spec index, path,
/// message).
pub fn link(specs: &mut [Spec]) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for i in 0..specs.len() {
        let Some(owner_id) = specs[i].resource.shared_with.clone() else {
            continue;
        };
        if !specs[i].resource.fields.is_empty() {
            continue;
        }
        let owner = specs
            .iter()
            .find(|s| s.api.id == owner_id && s.resource.shared_with.is_none());
        let Some(owner) = owner else {
            out.push((
                i,
                "resource.shared_with".into(),
                format!(
                    "names '{owner_id}', but no spec loaded with it has that api id and owns its resource"
                ),
            ));
            continue;
        };
        // The owner's fixtures come along (the runner expects by them); the fake loads
        // them once, into the owner's store.
        let mut resource = owner.resource.clone();
        resource.shared_with = Some(owner_id);
        specs[i].resource = resource;
        let mut problems = Vec::new();
        check(&specs[i], &mut problems);
        if problems.is_empty() {
            check_examples(&specs[i], &mut problems);
        }
        out.extend(problems.into_iter().map(|(p, m)| (i, p, m)));
    }
    out
}

/// Reads and loads a spec file.
pub fn load_file(path: &std::path::Path) -> Result<Spec, SpecErrors> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&name, &text),
        Err(e) => Err(SpecErrors(vec![SpecError {
            file: name,
            position: None,
            path: None,
            message: format!("cannot read the file: {e}"),
            source_line: None,
        }])),
    }
}

/// serde_yaml's wording, made plainer for spec authors.
fn reword_decode_error(msg: &str) -> String {
    // serde_yaml puts " at line L column C" in its messages; the position is shown
    // separately, with the source line and a caret.
    static AT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r" at line \d+ column \d+").expect("constant regex")
    });
    AT.replace_all(msg, "")
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing required key")
        .replace("unknown variant", "unknown value")
        .replace("invalid type: ", "wrong type: ")
}

type Problems = Vec<(String, String)>;

/// The runner's `pattern` compare modes: plain regexes matched against the whole value.
fn compile_compare_patterns(rules: &mut [CompareRule], out: &mut Problems) {
    for (i, rule) in rules.iter_mut().enumerate() {
        if let CompareMode::Pattern(p) = &rule.mode {
            match super::pattern::whole_match(p) {
                Ok(re) => rule.compiled = Some(re),
                Err(e) => out.push((
                    format!("response.compare[{i}].mode.pattern"),
                    format!(
                        "the compare pattern of '{}' does not compile: {e}",
                        rule.path
                    ),
                )),
            }
        }
    }
}

fn compile_patterns(params: &mut [Parameter], at: &str, out: &mut Problems) {
    for (i, p) in params.iter_mut().enumerate() {
        let path = format!("{at}[{i}]");
        if let Some(src) = &p.pattern {
            match Pattern::compile(src) {
                Ok(c) => p.compiled = Some(c),
                Err(e) => out.push((
                    format!("{path}.pattern"),
                    format!(
                        "the pattern of parameter '{}' does not compile: {e}",
                        p.name
                    ),
                )),
            }
        }
        compile_patterns(&mut p.members, &format!("{path}.members"), out);
        if let Some(m) = p.member.as_deref_mut() {
            compile_patterns(std::slice::from_mut(m), &format!("{path}.member"), out);
        }
    }
}

fn check(spec: &Spec, out: &mut Problems) {
    let mut say = |path: String, msg: String| out.push((path, msg));
    if !spec
        .api
        .id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || spec.api.id.is_empty()
    {
        say(
            "api.id".into(),
            format!(
                "api id '{}' must be lower-case letters, digits and '-'",
                spec.api.id
            ),
        );
    }

    // Resource fields.
    let fields: HashSet<&str> = spec
        .resource
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let mut seen = HashSet::new();
    for (i, f) in spec.resource.fields.iter().enumerate() {
        if !seen.insert(f.name.as_str()) {
            say(
                format!("resource.fields[{i}].name"),
                format!("duplicate resource field '{}'", f.name),
            );
        }
        if let Some(d) = &f.derive {
            for name in template_refs(d) {
                if let Some(field) = name.strip_prefix("resource.").or(Some(name.as_str())) {
                    if !fields.contains(field) {
                        say(
                            format!("resource.fields[{i}].derive"),
                            format!("derive of field '{}' uses unknown field '{field}'", f.name),
                        );
                    }
                }
            }
        }
    }
    for (i, k) in spec.resource.key.iter().enumerate() {
        if !fields.contains(k.as_str()) {
            say(
                format!("resource.key[{i}]"),
                format!("key field '{k}' is not a resource field"),
            );
        }
    }
    if spec.resource.case_only_rename == CaseOnlyRename::Conflict
        && !spec.resource.key_case_insensitive
    {
        say(
            "resource.case_only_rename".into(),
            "case_only_rename applies to a case-insensitive key: add `key_case_insensitive: true` (with a case-sensitive key another letter case is another key)".into(),
        );
    }
    if let Some(parent) = &spec.resource.parent {
        for (i, k) in parent.key.iter().enumerate() {
            if !spec.resource.key.contains(k) {
                say(
                    format!("resource.parent.key[{i}]"),
                    format!(
                        "parent key field '{k}' is not a key field of the {}: the parent is named by part of the resource's key",
                        spec.resource.name
                    ),
                );
            }
        }
        let all_in_key = parent.key.iter().all(|k| spec.resource.key.contains(k));
        if all_in_key && (parent.key.is_empty() || parent.key.len() >= spec.resource.key.len()) {
            say(
                "resource.parent.key".into(),
                format!(
                    "the parent's key must be some, not all, of the {}'s key fields",
                    spec.resource.name
                ),
            );
        }
    }
    for (i, u) in spec.resource.unique.iter().enumerate() {
        for f in &u.fields {
            if !fields.contains(f.as_str()) {
                say(
                    format!("resource.unique[{i}].fields"),
                    format!("unique field '{f}' is not a resource field"),
                );
            }
        }
    }
    for (i, fx) in spec.resource.fixtures.iter().enumerate() {
        for k in fx.keys() {
            if !fields.contains(k.as_str()) {
                say(
                    format!("resource.fixtures[{i}].{k}"),
                    format!("fixture sets '{k}', which is not a resource field"),
                );
            }
        }
        for k in &spec.resource.key {
            if !fx.contains_key(k) {
                say(
                    format!("resource.fixtures[{i}]"),
                    format!("fixture has no value for key field '{k}'"),
                );
            }
        }
    }

    // Parameters.
    let path_labels: Vec<String> = match &spec.protocol {
        Protocol::RestJson(r) => template_labels(&r.path),
        _ => Vec::new(),
    };
    check_params(
        &spec.parameters,
        "parameters",
        true,
        &fields,
        &path_labels,
        &mut say,
    );
    for label in &path_labels {
        if !spec
            .parameters
            .iter()
            .any(|p| p.location == Some(super::model::Location::Path) && p.wire() == label)
        {
            say(
                "protocol.path".into(),
                format!("path label '{{{label}}}' has no parameter with location: path"),
            );
        }
    }
    let params: HashSet<&str> = spec.parameters.iter().map(|p| p.name.as_str()).collect();
    // A create whose every key field is generated (an id the service assigns) selects
    // nothing: the new resource's key is made, not sent.
    let key_generated = spec.api.kind == OpKind::Create
        && !spec.resource.key.is_empty()
        && spec.resource.key.iter().all(|k| {
            spec.resource
                .fields
                .iter()
                .any(|f| &f.name == k && f.generate.is_some())
        });
    if spec.api.kind != OpKind::List
        && !key_generated
        && !spec.parameters.iter().any(|p| p.selects.is_some())
    {
        say(
            "parameters".into(),
            "no parameter selects the resource (add `selects: <key field>` to one)".into(),
        );
    }

    // Errors.
    let mut codes: HashMap<&str, usize> = HashMap::new();
    for (i, e) in spec.errors.iter().enumerate() {
        if let Some(first) = codes.insert(e.code.as_str(), i) {
            say(
                format!("errors[{i}].code"),
                format!("duplicate error code '{}' (also errors[{first}])", e.code),
            );
        }
        if !(400..=599).contains(&e.status) {
            say(
                format!("errors[{i}].status"),
                format!(
                    "HTTP status {} of error '{}' is not an error status (400-599)",
                    e.status, e.code
                ),
            );
        }
        match &e.trigger {
            Trigger::Invalid { parameters, .. } => {
                for p in parameters {
                    if !params.contains(p.as_str()) {
                        say(
                            format!("errors[{i}].trigger"),
                            format!(
                                "error '{}' is triggered by parameter '{p}', which the spec does not define",
                                e.code
                            ),
                        );
                    }
                }
            }
            Trigger::Rule(r) if !spec.rules.iter().any(|x| &x.name == r) => {
                say(
                    format!("errors[{i}].trigger"),
                    format!(
                        "error '{}' is triggered by rule '{r}', which is not in rules",
                        e.code
                    ),
                );
            }
            _ => {}
        }
        for name in template_refs(e.message.as_deref().unwrap_or_default()) {
            check_ref(
                &name,
                &params,
                &fields,
                &format!("errors[{i}].message"),
                &mut say,
            );
        }
    }
    if let Some(parent) = &spec.resource.parent {
        let mut refs = template_refs(parent.not_found.message.as_deref().unwrap_or_default());
        collect_template_refs(&Value::Object(parent.not_found.members.clone()), &mut refs);
        for name in refs {
            check_ref(
                &name,
                &params,
                &fields,
                "resource.parent.not_found",
                &mut say,
            );
        }
    }
    let has = |t: &dyn Fn(&Trigger) -> bool| spec.errors.iter().any(|e| e.triggers().any(t));
    let catch_all = |t: &Trigger| matches!(t, Trigger::Invalid { constraints, parameters } if constraints.is_empty() && parameters.is_empty());
    if !has(&catch_all) {
        say(
            "errors".into(),
            "no error row catches invalid input: add one with `trigger: {invalid: {}}`".into(),
        );
    }
    if !has(&|t| matches!(t, Trigger::Malformed)) {
        say(
            "errors".into(),
            "no error row has `trigger: malformed`".into(),
        );
    }
    if !has(&|t| matches!(t, Trigger::NotFound)) {
        say(
            "errors".into(),
            "no error row has `trigger: not-found`".into(),
        );
    }
    if spec.api.kind == OpKind::Create && !has(&|t| matches!(t, Trigger::Conflict)) {
        say(
            "errors".into(),
            "a create operation needs a row with `trigger: conflict` (the key is taken)".into(),
        );
    }
    let renames = spec.parameters.iter().any(|p| p.renames.is_some());
    if renames && !has(&|t| matches!(t, Trigger::Conflict)) {
        say(
            "errors".into(),
            "a parameter renames the resource but no error row has `trigger: conflict`".into(),
        );
    }
    // Only an operation that writes a unique field (or makes a resource) can break a
    // `unique` set: a read, a list, a delete, or an update of other fields cannot.
    let writes_unique = spec.resource.unique.iter().any(|u| {
        u.fields.iter().any(|f| {
            spec.parameters.iter().any(|p| {
                p.sets.as_deref() == Some(f.as_str()) || p.renames.as_deref() == Some(f.as_str())
            })
        })
    });
    let breaks_unique = spec.api.kind == OpKind::Create || writes_unique;
    if !spec.resource.unique.is_empty()
        && breaks_unique
        && !has(&|t| matches!(t, Trigger::Conflict))
    {
        say(
            "errors".into(),
            "`resource.unique` can be broken but no error row has `trigger: conflict`".into(),
        );
    }
    let row_with = |code: &str, want: &dyn Fn(&Trigger) -> bool| -> Option<String> {
        match spec.errors.iter().find(|e| e.code == code) {
            None => Some(format!("names error '{code}', which is not in errors")),
            Some(e) if !e.triggers().any(want) => Some(format!(
                "names error '{code}', whose trigger is {:?}",
                e.trigger
            )),
            Some(_) => None,
        }
    };
    let unauth = |t: &Trigger| matches!(t, Trigger::Unauthenticated);
    match &spec.auth {
        Auth::Sigv4 { errors, .. } => {
            for (k, code) in [
                ("missing", &errors.missing),
                ("incomplete", &errors.incomplete),
                ("unknown_key", &errors.unknown_key),
                ("bad_signature", &errors.bad_signature),
                ("expired", &errors.expired),
            ] {
                if let Some(m) = row_with(code, &unauth) {
                    say(format!("auth.errors.{k}"), format!("auth {m}"));
                }
            }
        }
        Auth::Token {
            unauthenticated, ..
        } => {
            if let Some(m) = row_with(unauthenticated, &unauth) {
                say("auth.unauthenticated".into(), format!("auth {m}"));
            }
        }
    }

    // Rules.
    for (i, r) in spec.rules.iter().enumerate() {
        let want: &dyn Fn(&Trigger) -> bool = match &r.check {
            RuleCheck::RequiresRole { .. } => &|t| matches!(t, Trigger::Forbidden),
            RuleCheck::RequiresValue { .. } => &|t| matches!(t, Trigger::Rule(n) if n == &r.name),
        };
        if let Some(m) = row_with(&r.error, want) {
            say(
                format!("rules[{i}].error"),
                format!("rule '{}' {m}", r.name),
            );
        }
        let names: Vec<&String> = match &r.check {
            RuleCheck::RequiresValue {
                parameter, other, ..
            } => vec![parameter, other],
            RuleCheck::RequiresRole { when_present, .. } => when_present.iter().collect(),
        };
        for n in names {
            if !params.contains(n.as_str()) {
                say(
                    format!("rules[{i}].check"),
                    format!(
                        "rule '{}' names parameter '{n}', which the spec does not define",
                        r.name
                    ),
                );
            }
        }
        if matches!(r.check, RuleCheck::RequiresRole { .. })
            && !matches!(spec.auth, Auth::Sigv4 { .. })
        {
            say(
                format!("rules[{i}].check"),
                format!(
                    "rule '{}' needs roles, which only SigV4 sessions carry",
                    r.name
                ),
            );
        }
    }

    // Response.
    if !(200..=299).contains(&spec.response.status) {
        say(
            "response.status".into(),
            format!(
                "success status {} is not a 2xx status",
                spec.response.status
            ),
        );
    }
    let mut refs = Vec::new();
    collect_template_refs(&spec.response.body, &mut refs);
    for name in refs {
        if let Some(l) = &spec.list {
            match name.as_str() {
                "list.items" | "list.next" | "list.truncated" => continue,
                "list.start" | "list.end" | "list.total" if l.paging == Paging::Offset => continue,
                "list.start" | "list.end" | "list.total" => {
                    say(
                        "response.body".into(),
                        format!("${{{name}}} is only known with `list.paging: offset`"),
                    );
                    continue;
                }
                _ => {}
            }
        }
        check_ref(&name, &params, &fields, "response.body", &mut say);
    }
    match (&spec.list, spec.api.kind == OpKind::List) {
        (None, true) => say(
            "api.kind".into(),
            "a list operation needs a `list` section (its item template and paging)".into(),
        ),
        (Some(_), false) => say(
            "list".into(),
            format!(
                "`list` is only for `api.kind: list`, not {}",
                spec.api.kind.name()
            ),
        ),
        (Some(l), true) => {
            let mut refs = Vec::new();
            collect_template_refs(&l.item, &mut refs);
            for name in refs {
                check_ref(&name, &params, &fields, "list.item", &mut say);
            }
            if l.end.is_some() && l.paging != Paging::Offset {
                say(
                    "list.end".into(),
                    "an end row needs `paging: offset` (a key token has no row numbers)".into(),
                );
            }
            for (at, p) in [
                ("list.token", &l.token),
                ("list.page_size", &l.page_size),
                ("list.end", &l.end),
                ("list.fields", &l.fields),
            ] {
                if let Some(p) = p {
                    if !params.contains(p.as_str()) {
                        say(at.into(), format!("'{p}' is not a parameter"));
                    }
                }
            }
            for (i, f) in l.filters.iter().enumerate() {
                if !params.contains(f.parameter.as_str()) {
                    say(
                        format!("list.filters[{i}].parameter"),
                        format!("'{}' is not a parameter", f.parameter),
                    );
                }
                match (&f.field, f.fields.is_empty()) {
                    (Some(_), false) => say(
                        format!("list.filters[{i}].fields"),
                        "a filter has `field` or `fields`, not both".into(),
                    ),
                    (None, true) => say(
                        format!("list.filters[{i}]"),
                        "a filter needs `field` (or `fields`): the resource field it matches"
                            .into(),
                    ),
                    _ => {}
                }
                for name in f.field_names() {
                    if !fields.contains(name) {
                        let at = if f.field.is_some() { "field" } else { "fields" };
                        say(
                            format!("list.filters[{i}].{at}"),
                            format!("'{name}' is not a resource field"),
                        );
                    }
                }
                for p in &f.ignored_with {
                    if !params.contains(p.as_str()) {
                        say(
                            format!("list.filters[{i}].ignored_with"),
                            format!("'{p}' is not a parameter"),
                        );
                    }
                }
                if let (crate::spec::model::FilterMatch::Values(map), Some(d)) =
                    (&f.matches, &f.default)
                {
                    if !map.contains_key(d) {
                        say(
                            format!("list.filters[{i}].default"),
                            format!("'{d}' is not one of the values `match` names"),
                        );
                    }
                }
            }
            if let Some(code) = &l.bad_token {
                if !codes.contains_key(code.as_str()) {
                    say(
                        "list.bad_token".into(),
                        format!("names error '{code}', which is not in errors"),
                    );
                }
            }
            if l.default_page_size == 0 {
                say(
                    "list.default_page_size".into(),
                    "the page size must be at least 1".into(),
                );
            }
        }
        (None, false) => {}
    }

    // Examples reference known parameters and error rows.
    for (i, ex) in spec.examples.iter().enumerate() {
        if let Expectation::Error(code) = &ex.expect {
            if !codes.contains_key(code.as_str()) {
                say(
                    format!("examples[{i}].expect"),
                    format!(
                        "example '{}' expects error '{code}', which is not in errors",
                        ex.name
                    ),
                );
            }
        }
    }
}

fn check_ref(
    name: &str,
    params: &HashSet<&str>,
    fields: &HashSet<&str>,
    at: &str,
    say: &mut impl FnMut(String, String),
) {
    if matches!(name, "request_id" | "detail" | "now") {
        return;
    }
    if let Some(f) = name.strip_prefix("resource.") {
        if !fields.contains(f) {
            say(
                at.into(),
                format!("template uses '${{{name}}}', but '{f}' is not a resource field"),
            );
        }
    } else if !params.contains(name) {
        say(
            at.into(),
            format!("template uses '${{{name}}}', which is not a parameter"),
        );
    }
}

fn check_params(
    params: &[Parameter],
    at: &str,
    top: bool,
    fields: &HashSet<&str>,
    labels: &[String],
    say: &mut impl FnMut(String, String),
) {
    let mut seen = HashSet::new();
    let mut on_wire = HashSet::new();
    for (i, p) in params.iter().enumerate() {
        let path = format!("{at}[{i}]");
        if !seen.insert(p.name.as_str()) {
            say(
                format!("{path}.name"),
                format!("duplicate parameter '{}'", p.name),
            );
        } else if !on_wire.insert((p.location, p.wire())) {
            say(
                format!("{path}.wire_name"),
                format!(
                    "parameter '{}' is read from the same wire name '{}' as another parameter",
                    p.name,
                    p.wire()
                ),
            );
        }
        match (top, p.location) {
            (true, None) => say(
                path.clone(),
                format!(
                    "parameter '{}' needs a location (form, query, header, path or body)",
                    p.name
                ),
            ),
            (false, Some(_)) => say(
                format!("{path}.location"),
                format!("nested member '{}' cannot have its own location", p.name),
            ),
            _ => {}
        }
        if p.location == Some(super::model::Location::Path) && !labels.iter().any(|l| l == p.wire())
        {
            say(
                format!("{path}.location"),
                format!(
                    "path parameter '{}' has no '{{{}}}' in the protocol's path",
                    p.name,
                    p.wire()
                ),
            );
        }
        for (what, b) in [("length", p.length), ("items", p.items)] {
            if let Some(b) = b {
                if let (Some(min), Some(max)) = (b.min, b.max) {
                    if min > max {
                        say(
                            format!("{path}.{what}"),
                            format!("{what} of '{}' has min {min} above max {max}", p.name),
                        );
                    }
                }
            }
        }
        if let Some(r) = p.range {
            if let (Some(min), Some(max)) = (r.min, r.max) {
                if min > max {
                    say(
                        format!("{path}.range"),
                        format!("range of '{}' has min {min} above max {max}", p.name),
                    );
                }
            }
        }
        let constraint_fits = |c: &str, ok: bool, say: &mut dyn FnMut(String, String)| {
            if !ok {
                say(
                    format!("{path}.{c}"),
                    format!(
                        "'{c}' does not apply to parameter '{}' of type {:?}",
                        p.name, p.ty
                    ),
                );
            }
        };
        let is_string = p.ty == ParamType::String;
        if p.length.is_some() {
            constraint_fits("length", is_string, say);
        }
        if p.pattern.is_some() {
            constraint_fits("pattern", is_string, say);
        }
        if p.allowed.is_some() {
            constraint_fits("enum", is_string, say);
        }
        if p.range.is_some() {
            constraint_fits(
                "range",
                matches!(p.ty, ParamType::Integer | ParamType::Unsigned),
                say,
            );
        }
        if p.items.is_some() {
            constraint_fits("items", p.ty == ParamType::List, say);
        }
        if matches!(&p.allowed, Some(a) if a.is_empty()) {
            say(
                format!("{path}.enum"),
                format!("enum of '{}' is empty", p.name),
            );
        }
        match p.ty {
            ParamType::List if p.member.is_none() => say(
                path.clone(),
                format!("list parameter '{}' needs a `member`", p.name),
            ),
            ParamType::Structure | ParamType::JsonString if p.members.is_empty() => say(
                path.clone(),
                format!("parameter '{}' of type {:?} needs `members`", p.name, p.ty),
            ),
            _ => {}
        }
        for (what, f) in [
            ("selects", &p.selects),
            ("sets", &p.sets),
            ("renames", &p.renames),
        ] {
            if let Some(f) = f {
                if !fields.contains(f.as_str()) {
                    say(
                        format!("{path}.{what}"),
                        format!(
                            "parameter '{}' {what} '{f}', which is not a resource field",
                            p.name
                        ),
                    );
                }
            }
        }
        check_params(
            &p.members,
            &format!("{path}.members"),
            false,
            fields,
            labels,
            say,
        );
        if let Some(m) = &p.member {
            check_params(
                std::slice::from_ref(m),
                &format!("{path}.member"),
                false,
                fields,
                labels,
                say,
            );
        }
    }
}

/// Replays each example's parameters through validation and the rules that need no
/// state: an example that expects success must be valid, one that expects an
/// `invalid`-triggered error must fail validation.
fn check_examples(spec: &Spec, out: &mut Problems) {
    for (i, ex) in spec.examples.iter().enumerate() {
        for k in ex.params.keys() {
            if !spec.parameters.iter().any(|p| &p.name == k) {
                out.push((
                    format!("examples[{i}].params.{k}"),
                    format!(
                        "example '{}' sends '{k}', which is not a parameter",
                        ex.name
                    ),
                ));
            }
        }
        let (coerced, violations) = validate::validate(spec, &ex.params);
        let broken_rule = spec.rules.iter().find(|r| match &r.check {
            RuleCheck::RequiresValue {
                parameter,
                other,
                equals,
            } => coerced.contains_key(parameter) && coerced.get(other) != Some(equals),
            RuleCheck::RequiresRole { .. } => false,
        });
        match &ex.expect {
            Expectation::Success { .. } => {
                if let Some(v) = violations.first() {
                    out.push((
                        format!("examples[{i}].params.{}", v.parameter),
                        format!(
                            "example '{}' expects success but breaks the spec's own constraint: {}",
                            ex.name,
                            validate::describe(spec.validation.style, std::slice::from_ref(v))
                        ),
                    ));
                } else if let Some(r) = broken_rule {
                    out.push((
                        format!("examples[{i}]"),
                        format!(
                            "example '{}' expects success but breaks rule '{}'",
                            ex.name, r.name
                        ),
                    ));
                }
            }
            Expectation::Error(code) => {
                let Some(row) = spec.errors.iter().find(|e| &e.code == code) else {
                    continue;
                };
                let is_invalid = matches!(row.trigger, Trigger::Invalid { .. });
                let is_rule = matches!(&row.trigger, Trigger::Rule(_));
                // These rows answer before the parameters are read or validated.
                let before_validation = row.triggers().any(|t| {
                    matches!(
                        t,
                        Trigger::Malformed | Trigger::Unauthenticated | Trigger::Injected
                    )
                });
                if is_invalid && violations.is_empty() {
                    out.push((
                        format!("examples[{i}].expect"),
                        format!(
                            "example '{}' expects '{code}' for invalid input, but its parameters are valid",
                            ex.name
                        ),
                    ));
                }
                if !is_invalid && !before_validation && !violations.is_empty() {
                    out.push((
                        format!("examples[{i}].expect"),
                        format!(
                            "example '{}' expects '{code}', but validation fails first: {}",
                            ex.name,
                            validate::describe(spec.validation.style, &violations)
                        ),
                    ));
                }
                if is_rule && broken_rule.is_none() && violations.is_empty() {
                    out.push((
                        format!("examples[{i}].expect"),
                        format!(
                            "example '{}' expects rule error '{code}', but breaks no rule",
                            ex.name
                        ),
                    ));
                }
            }
        }
    }
}

/// `${name}` references in a template string.
pub fn template_refs(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                out.push(after[..j].to_string());
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

fn collect_template_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.extend(template_refs(s)),
        Value::Array(a) => a.iter().for_each(|x| collect_template_refs(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_template_refs(x, out)),
        _ => {}
    }
}

/// `{Label}` segments of a path template.
pub fn template_labels(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|s| s.trim_end_matches('+').to_string())
        .collect()
}

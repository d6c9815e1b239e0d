//! `apiconform specs show`: a spec's parameter and error tables as a person reads them.

use std::fmt::Write;

use super::model::{
    Auth, Bounds, CaseOnlyRename, Parameter, Protocol, Range, Resource, RuleCheck, Spec, Trigger,
};

/// Renders the parameter table, the rules and the error table of `spec`.
pub fn render(spec: &Spec) -> String {
    let mut out = String::new();
    let a = &spec.api;
    let _ = writeln!(
        out,
        "{} — {} ({}): {}",
        a.id, a.title, a.vendor, a.operation
    );
    let _ = writeln!(out, "document: {}", a.document);
    let _ = writeln!(out, "protocol: {}", protocol_line(&spec.protocol));
    let _ = writeln!(out, "auth:     {}", auth_line(&spec.auth));
    let _ = writeln!(out, "resource: {}", resource_line(&spec.resource));
    let owner = spec.resource.shared_with.as_deref().unwrap_or("this spec");
    let _ = writeln!(out, "kind:     {} (store: {owner})", a.kind.name());
    if let Some(l) = &spec.list {
        let param = |p: &Option<String>| p.clone().unwrap_or_else(|| "none".into());
        let from = match l.paging {
            crate::spec::model::Paging::Key => format!("token {}", param(&l.token)),
            crate::spec::model::Paging::Offset => {
                format!("first row {}, end row {}", param(&l.token), param(&l.end))
            }
        };
        let fields = l
            .fields
            .as_ref()
            .map(|f| format!(", members named by {f}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "list:     {from}, page size {} (default {}){fields}, filters {}",
            param(&l.page_size),
            l.default_page_size,
            if l.filters.is_empty() {
                "none".to_string()
            } else {
                l.filters
                    .iter()
                    .map(|f| {
                        use crate::spec::model::FilterMatch as M;
                        let how = match &f.matches {
                            M::Prefix => "a prefix of".to_string(),
                            M::Equals => "equal to".to_string(),
                            M::OneOf => "a comma list, one equal to".to_string(),
                            M::Contains => "contained in".to_string(),
                            M::WordPrefixes => "word prefixes of".to_string(),
                            M::Values(map) => format!(
                                "{} in",
                                map.iter()
                                    .map(|(k, v)| match v.is_empty() {
                                        true => format!("{k}: any"),
                                        false => format!("{k}: {}", v.join("|")),
                                    })
                                    .collect::<Vec<_>>()
                                    .join("; ")
                            ),
                        };
                        let fields = f.field_names().collect::<Vec<_>>().join(" or ");
                        let mut s = format!("{} ({how} {fields}", f.parameter);
                        if f.case_insensitive {
                            s.push_str(", any case");
                        }
                        if let Some(d) = &f.default {
                            s.push_str(&format!(", default {d}"));
                        }
                        if !f.ignored_with.is_empty() {
                            s.push_str(&format!(", ignored with {}", f.ignored_with.join(", ")));
                        }
                        s.push(')');
                        s
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
    let _ = writeln!(out);

    let mut rows = vec![row(&[
        "parameter",
        "location",
        "type",
        "required",
        "constraints",
        "effect",
    ])];
    for p in &spec.parameters {
        param_rows(
            p,
            &p.name,
            p.location.map(|l| format!("{l:?}").to_lowercase()),
            &mut rows,
        );
    }
    let _ = writeln!(out, "Parameters ({})", spec.parameters.len());
    table(&mut out, &rows);

    if !spec.rules.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Rules ({})", spec.rules.len());
        let mut rows = vec![row(&["rule", "check", "error"])];
        for r in &spec.rules {
            let check = match &r.check {
                RuleCheck::RequiresValue {
                    parameter,
                    other,
                    equals,
                } => {
                    format!("{parameter} requires {other} = {equals}")
                }
                RuleCheck::RequiresRole {
                    role,
                    when_present,
                    unless_self,
                } => {
                    let mut s = format!("role {role}");
                    if !when_present.is_empty() {
                        let _ = write!(s, " when {} sent", when_present.join("/"));
                    }
                    if *unless_self {
                        s.push_str(", unless updating oneself");
                    }
                    s
                }
            };
            rows.push(vec![r.name.clone(), check, r.error.clone()]);
        }
        table(&mut out, &rows);
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "Errors ({})", spec.errors.len());
    let mut rows = vec![row(&["code", "status", "fault", "trigger", "meaning"])];
    for e in &spec.errors {
        rows.push(vec![
            e.code.clone(),
            e.status.to_string(),
            format!("{:?}", e.fault).to_lowercase(),
            e.triggers()
                .map(trigger_text)
                .collect::<Vec<_>>()
                .join(", "),
            first_sentence(&e.meaning),
        ]);
    }
    table(&mut out, &rows);

    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Response: {} {} · {} example(s) · {} note(s)",
        spec.response.status,
        spec.response.content_type,
        spec.examples.len(),
        spec.notes.len()
    );
    out
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

fn param_rows(p: &Parameter, name: &str, location: Option<String>, rows: &mut Vec<Vec<String>>) {
    let effect = [
        ("selects", &p.selects),
        ("sets", &p.sets),
        ("renames", &p.renames),
    ]
    .iter()
    .filter_map(|(w, f)| f.as_ref().map(|f| format!("{w} {f}")))
    .collect::<Vec<_>>()
    .join(", ");
    rows.push(vec![
        name.to_string(),
        location.unwrap_or_else(|| "·".into()),
        format!("{:?}", p.ty).to_lowercase(),
        if p.required { "yes" } else { "no" }.into(),
        constraints(p),
        effect,
    ]);
    for m in &p.members {
        param_rows(m, &format!("{name}.{}", m.name), None, rows);
    }
    if let Some(m) = &p.member {
        let item = format!("{name}[]");
        if m.members.is_empty() {
            param_rows(m, &item, None, rows);
        } else {
            for mm in &m.members {
                param_rows(mm, &format!("{item}.{}", mm.name), None, rows);
            }
        }
    }
}

fn bounds(b: Bounds) -> String {
    match (b.min, b.max) {
        (Some(a), Some(z)) if a == z => format!("{a}"),
        (Some(a), Some(z)) => format!("{a}..{z}"),
        (Some(a), None) => format!("{a}.."),
        (None, Some(z)) => format!("..{z}"),
        (None, None) => "any".into(),
    }
}

fn range(r: Range) -> String {
    match (r.min, r.max) {
        (Some(a), Some(z)) => format!("{a}..{z}"),
        (Some(a), None) => format!(">= {a}"),
        (None, Some(z)) => format!("<= {z}"),
        (None, None) => "any".into(),
    }
}

fn constraints(p: &Parameter) -> String {
    let mut c = Vec::new();
    if let Some(w) = &p.wire_name {
        c.push(format!("wire {w}"));
    }
    if let Some(b) = p.length {
        c.push(format!("length {}", bounds(b)));
    }
    if let Some(r) = p.range {
        c.push(format!("value {}", range(r)));
    }
    if let Some(b) = p.items {
        c.push(format!("items {}", bounds(b)));
    }
    if let Some(pat) = &p.pattern {
        c.push(format!("pattern {pat}"));
    }
    if let Some(e) = &p.allowed {
        c.push(format!("one of {}", e.join("|")));
    }
    if p.sensitive {
        c.push("secret".into());
    }
    c.join("; ")
}

fn trigger_text(t: &Trigger) -> String {
    match t {
        Trigger::Invalid {
            constraints,
            parameters,
        } => {
            let mut s = "invalid input".to_string();
            if !constraints.is_empty() {
                let names: Vec<String> = constraints
                    .iter()
                    .map(|c| format!("{c:?}").to_lowercase())
                    .collect();
                let _ = write!(s, " ({})", names.join(", "));
            }
            if !parameters.is_empty() {
                let _ = write!(s, " in {}", parameters.join(", "));
            }
            s
        }
        Trigger::Malformed => "malformed request".into(),
        Trigger::NotFound => "not found".into(),
        Trigger::Conflict => "name conflict".into(),
        Trigger::Unauthenticated => "unauthenticated".into(),
        Trigger::Forbidden => "forbidden".into(),
        Trigger::Rule(r) => format!("rule {r}"),
        Trigger::Injected => "injected only".into(),
    }
}

fn first_sentence(s: &str) -> String {
    let s = s.trim();
    let end = s.find(". ").map(|i| i + 1).unwrap_or(s.len());
    s[..end].to_string()
}

fn protocol_line(p: &Protocol) -> String {
    match p {
        Protocol::AwsQuery(q) => {
            let version = q
                .version
                .as_ref()
                .map(|v| format!("&Version={v}"))
                .unwrap_or_default();
            let ns = q
                .xml_namespace
                .as_ref()
                .map(|n| format!(" in {n}"))
                .unwrap_or_default();
            let errors = match &q.errors {
                crate::spec::model::QueryErrors::Aws => "ErrorResponse errors".to_string(),
                crate::spec::model::QueryErrors::Bare { resource } => {
                    format!("bare Error errors naming {resource}")
                }
            };
            let also = if q.aliases.is_empty() {
                String::new()
            } else {
                format!(" (also at {})", q.aliases.join(", "))
            };
            format!(
                "aws-query: {}?Action={}{version}{also}, XML{ns}, {errors}",
                q.path, q.action
            )
        }
        Protocol::AwsJson(j) => {
            format!(
                "aws-json {}: POST /, X-Amz-Target: {}",
                j.json_version, j.target
            )
        }
        Protocol::RestJson(r) => {
            let envelope = r
                .envelope
                .as_ref()
                .map(|e| format!(", bodies in {{\"{e}\": ...}}"))
                .unwrap_or_default();
            let errors = match r.errors {
                crate::spec::model::RestErrors::Aws => "x-amzn-ErrorType errors",
                crate::spec::model::RestErrors::Messages => "messages[] errors",
            };
            format!("rest-json: {} {}{envelope}, {errors}", r.method, r.path)
        }
    }
}

fn resource_line(r: &Resource) -> String {
    let mut s = format!("{}, key {}", r.name, r.key.join(" + "));
    if r.key_case_insensitive {
        s.push_str(" (any letter case");
        if r.case_only_rename == CaseOnlyRename::Conflict {
            s.push_str("; a case-only rename is a conflict");
        }
        s.push(')');
    }
    if let Some(p) = &r.parent {
        let _ = write!(s, ", within a {} ({})", p.name, p.key.join(" + "));
    }
    for u in &r.unique {
        let _ = write!(
            s,
            ", unique {}{}",
            u.fields.join(" + "),
            if u.case_insensitive {
                " (any letter case)"
            } else {
                ""
            }
        );
    }
    s
}

fn auth_line(a: &Auth) -> String {
    match a {
        Auth::Sigv4 {
            service,
            region,
            session_token_required,
            ..
        } => format!(
            "sigv4, service {service}, region {}{}",
            region.as_deref().unwrap_or("any"),
            if *session_token_required {
                ", session token required"
            } else {
                ""
            }
        ),
        Auth::Token {
            header, login_path, ..
        } => format!("session token in {header} (login POST {login_path})"),
    }
}

/// Left-aligned columns, two spaces apart; the last column is not padded.
fn table(out: &mut String, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::from("  ");
        for (c, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < r.len() {
                let pad = widths[c].saturating_sub(cell.chars().count()) + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

//! The specs one command works with: the embedded ones, spec files and folders of them,
//! loaded and checked together. Two specs may not claim the same api id (they would share
//! one store) nor the same route (the second could never be reached); either is refused,
//! naming both files.

use std::path::{Path, PathBuf};

use super::load::{SpecError, SpecErrors};
use super::model::{Auth, Protocol, Spec};

/// Where the specs come from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Leave out the embedded specs (serve or test only the files given).
    pub only_files: bool,
    /// Spec files.
    pub files: Vec<PathBuf>,
    /// Folders whose `*.yaml` / `*.yml` files are specs.
    pub dirs: Vec<PathBuf>,
}

impl Sources {
    /// The embedded specs and nothing else.
    pub fn embedded() -> Self {
        Self::default()
    }
}

/// Loads every spec `sources` names; all errors of all files together.
pub fn gather(sources: &Sources) -> Result<Vec<Spec>, SpecErrors> {
    let mut entries: Vec<(String, Spec)> = Vec::new();
    let mut errors = Vec::new();
    if !sources.only_files {
        let specs = super::embedded()?;
        for ((name, _), spec) in super::EMBEDDED.iter().zip(specs) {
            entries.push((format!("specs/{name} (embedded)"), spec));
        }
    }
    let mut files = sources.files.clone();
    for dir in &sources.dirs {
        match spec_files(dir) {
            Ok(f) => files.extend(f),
            Err(e) => errors.push(plain(
                &dir.display().to_string(),
                format!("cannot read the folder: {e}"),
            )),
        }
    }
    for f in &files {
        match super::load_file(f) {
            Ok(s) => entries.push((f.display().to_string(), s)),
            Err(e) => errors.extend(e.0),
        }
    }
    errors.extend(conflicts(&entries));
    let (names, mut specs): (Vec<String>, Vec<Spec>) = entries.into_iter().unzip();
    for (i, path, message) in super::load::link(&mut specs) {
        errors.push(SpecError {
            path: Some(path),
            ..plain(&names[i], message)
        });
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(SpecErrors(errors))
    }
}

/// Links specs loaded one by one (`specs check`): each whose resource is `shared_with`
/// another gets the owner's (from the others, else from the embedded specs) and is
/// checked with it; a spec that fails there turns into its errors.
pub fn link_loaded(results: &mut [(String, Result<Spec, SpecErrors>)]) {
    let embedded = super::embedded().unwrap_or_default();
    let mut specs: Vec<Spec> = Vec::new();
    let mut at: Vec<usize> = Vec::new();
    for (i, (_, r)) in results.iter().enumerate() {
        if let Ok(s) = r {
            specs.push(s.clone());
            at.push(i);
        }
    }
    let own = specs.len();
    specs.extend(embedded.into_iter().filter(|e| {
        !at.iter()
            .any(|i| matches!(&results[*i].1, Ok(s) if s.api.id == e.api.id))
    }));
    let mut failed: Vec<(usize, SpecError)> = Vec::new();
    for (i, path, message) in super::load::link(&mut specs) {
        if i < own {
            let file = &results[at[i]].0;
            failed.push((
                at[i],
                SpecError {
                    path: Some(path),
                    ..plain(file, message)
                },
            ));
        }
    }
    for (k, s) in specs.into_iter().take(own).enumerate() {
        results[at[k]].1 = Ok(s);
    }
    for (i, e) in failed {
        match &mut results[i].1 {
            Err(errors) => errors.0.push(e),
            r => *r = Err(SpecErrors(vec![e])),
        }
    }
}

fn spec_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    out.sort();
    Ok(out)
}

fn plain(file: &str, message: String) -> SpecError {
    SpecError {
        file: file.to_string(),
        position: None,
        path: None,
        message,
        source_line: None,
    }
}

/// What a request must carry to reach the spec: two specs with the same route cannot
/// both be reached.
pub fn route(spec: &Spec) -> String {
    let service = match &spec.auth {
        Auth::Sigv4 { service, .. } => service.as_str(),
        Auth::Token { .. } => "",
    };
    let template = |path: &str| {
        // `{UserId}` and `{id}` are the same route.
        let mut out = String::new();
        let mut in_label = false;
        for c in path.chars() {
            match c {
                '{' => {
                    in_label = true;
                    out.push_str("{}");
                }
                '}' => in_label = false,
                c if !in_label => out.push(c),
                _ => {}
            }
        }
        out
    };
    match &spec.protocol {
        Protocol::AwsQuery(q) => format!(
            "{}?Action={}{} (SigV4 service {service})",
            q.path,
            q.action,
            q.version
                .as_ref()
                .map(|v| format!("&Version={v}"))
                .unwrap_or_default()
        ),
        Protocol::AwsJson(j) => format!("POST / X-Amz-Target: {}", j.target),
        Protocol::RestJson(r) => {
            format!("{} {}", r.method.to_ascii_uppercase(), template(&r.path))
        }
    }
}

fn conflicts(entries: &[(String, Spec)]) -> Vec<SpecError> {
    let mut out = Vec::new();
    for (i, (file, spec)) in entries.iter().enumerate() {
        for (other_file, other) in &entries[..i] {
            if other.api.id == spec.api.id {
                out.push(plain(
                    file,
                    format!(
                        "api id '{}' is already used by {other_file}: two specs with one id would share one store (give this one another `api.id`)",
                        spec.api.id
                    ),
                ));
            } else if route(other) == route(spec) {
                out.push(plain(
                    file,
                    format!(
                        "'{}' answers the same requests as '{}' in {other_file} ({}): the second could never be reached",
                        spec.api.id,
                        other.api.id,
                        route(spec)
                    ),
                ));
            }
        }
    }
    out
}

//! Specs: the YAML description of one documented operation, its typed model, the loader
//! that checks it, and the validator that applies its constraints to a call.

mod catalog;
pub(crate) mod effect;
pub mod load;
pub mod model;
pub(crate) mod pattern;
pub mod show;
pub(crate) mod template;
pub mod validate;
pub(crate) mod yaml;

pub use catalog::{gather, link_loaded, Sources};
pub use load::{load_file, load_str, SpecError, SpecErrors};
pub use model::Spec;
pub use yaml::Position;

/// The specs shipped inside the binary, as (file name, text).
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "aws-iam.update-user.yaml",
        include_str!("../../specs/aws-iam.update-user.yaml"),
    ),
    (
        "aws-iam.create-user.yaml",
        include_str!("../../specs/aws-iam.create-user.yaml"),
    ),
    (
        "aws-iam.get-user.yaml",
        include_str!("../../specs/aws-iam.get-user.yaml"),
    ),
    (
        "aws-iam.list-users.yaml",
        include_str!("../../specs/aws-iam.list-users.yaml"),
    ),
    (
        "aws-iam.delete-user.yaml",
        include_str!("../../specs/aws-iam.delete-user.yaml"),
    ),
    (
        "aws-transfer.update-user.yaml",
        include_str!("../../specs/aws-transfer.update-user.yaml"),
    ),
    (
        "aws-transfer.create-user.yaml",
        include_str!("../../specs/aws-transfer.create-user.yaml"),
    ),
    (
        "aws-transfer.describe-user.yaml",
        include_str!("../../specs/aws-transfer.describe-user.yaml"),
    ),
    (
        "aws-transfer.list-users.yaml",
        include_str!("../../specs/aws-transfer.list-users.yaml"),
    ),
    (
        "aws-transfer.delete-user.yaml",
        include_str!("../../specs/aws-transfer.delete-user.yaml"),
    ),
    (
        "aws-workdocs.update-user.yaml",
        include_str!("../../specs/aws-workdocs.update-user.yaml"),
    ),
    (
        "aws-workdocs.create-user.yaml",
        include_str!("../../specs/aws-workdocs.create-user.yaml"),
    ),
    (
        "aws-workdocs.describe-users.yaml",
        include_str!("../../specs/aws-workdocs.describe-users.yaml"),
    ),
    (
        "aws-workdocs.delete-user.yaml",
        include_str!("../../specs/aws-workdocs.delete-user.yaml"),
    ),
    (
        "hpe-nimble.update-user.yaml",
        include_str!("../../specs/hpe-nimble.update-user.yaml"),
    ),
    (
        "hpe-nimble.create-user.yaml",
        include_str!("../../specs/hpe-nimble.create-user.yaml"),
    ),
    (
        "hpe-nimble.get-user.yaml",
        include_str!("../../specs/hpe-nimble.get-user.yaml"),
    ),
    (
        "hpe-nimble.list-users.yaml",
        include_str!("../../specs/hpe-nimble.list-users.yaml"),
    ),
    (
        "hpe-nimble.list-users-detail.yaml",
        include_str!("../../specs/hpe-nimble.list-users-detail.yaml"),
    ),
    (
        "hpe-nimble.delete-user.yaml",
        include_str!("../../specs/hpe-nimble.delete-user.yaml"),
    ),
    (
        "nexfs.update-user.yaml",
        include_str!("../../specs/nexfs.update-user.yaml"),
    ),
    (
        "nexfs.create-user.yaml",
        include_str!("../../specs/nexfs.create-user.yaml"),
    ),
    (
        "nexfs.get-user.yaml",
        include_str!("../../specs/nexfs.get-user.yaml"),
    ),
    (
        "nexfs.list-users.yaml",
        include_str!("../../specs/nexfs.list-users.yaml"),
    ),
    (
        "nexfs.delete-user.yaml",
        include_str!("../../specs/nexfs.delete-user.yaml"),
    ),
];

/// Loads every embedded spec. They are checked by the test suite, so a failure here is a
/// build defect, reported with the spec errors.
/// Parsed once per process: `Fake::start()` then costs a clone, not five YAML parses.
pub fn embedded() -> Result<Vec<Spec>, SpecErrors> {
    static LOADED: std::sync::OnceLock<Result<Vec<Spec>, SpecErrors>> = std::sync::OnceLock::new();
    LOADED
        .get_or_init(|| {
            let mut specs = EMBEDDED
                .iter()
                .map(|(name, text)| load_str(&format!("specs/{name}"), text))
                .collect::<Result<Vec<_>, _>>()?;
            let problems = load::link(&mut specs);
            if problems.is_empty() {
                Ok(specs)
            } else {
                Err(SpecErrors(
                    problems
                        .into_iter()
                        .map(|(i, path, message)| SpecError {
                            file: format!("specs/{}", EMBEDDED[i].0),
                            position: None,
                            path: Some(path),
                            message,
                            source_line: None,
                        })
                        .collect(),
                ))
            }
        })
        .clone()
}

/// Reads a YAML (or JSON) document into any type: seed files, credential files.
pub fn decode_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    yaml::decode(text).map_err(|e| match e.position {
        Some(p) => format!("line {} column {}: {}", p.line, p.column, e.message),
        None => e.message,
    })
}

/// Serialises a value as YAML for people (state dumps, fixtures).
pub fn to_yaml<T: serde::Serialize>(value: &T) -> Result<String, String> {
    yaml::encode(value)
}

/// The JSON Schema of the spec format, generated from the model (`specs/schema.json`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Spec);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// `map.get(key)` for the request-sized maps the fake looks parameters up in: a map of a
/// few members is searched in order, which costs less than hashing the key (serde_json's
/// map hashes with SipHash); a larger one is looked up by hash.
pub fn member<'a>(
    map: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Option<&'a serde_json::Value> {
    const SCANNED: usize = 8;
    if map.len() <= SCANNED {
        map.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_member_is_found_the_same_in_small_and_large_maps() {
        for n in [0, 1, 8, 9, 20] {
            let map: serde_json::Map<String, serde_json::Value> =
                (0..n).map(|i| (format!("k{i}"), i.into())).collect();
            for i in 0..=n {
                let key = format!("k{i}");
                assert_eq!(super::member(&map, &key), map.get(&key), "{key} of {n}");
            }
        }
    }
}

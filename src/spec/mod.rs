//! Specs: the YAML description of one documented operation, its typed model, the loader
//! that checks it, and the validator that applies its constraints to a call.

pub mod load;
pub mod model;
pub mod pattern;
pub mod show;
pub mod validate;
mod yaml;

pub use load::{load_file, load_str, SpecError, SpecErrors};
pub use model::Spec;
pub use yaml::Position;

/// The five specs shipped inside the binary, as (file name, text).
pub const EMBEDDED: &[(&str, &str)] = &[
/*
    ("aws-iam.update-user.yaml", include_str!("../../specs/aws-iam.update-user.yaml")),
    ("aws-transfer.update-user.yaml", include_str!("../../specs/aws-transfer.update-user.yaml")),
    ("aws-workdocs.update-user.yaml", include_str!("../../specs/aws-workdocs.update-user.yaml")),
    ("hpe-nimble.update-user.yaml", include_str!("../../specs/hpe-nimble.update-user.yaml")),
    ("nexfs.update-user.yaml", include_str!("../../specs/nexfs.update-user.yaml")),
*/];

/// Loads every embedded spec. They are checked by the test suite, so a failure here is a
/// build defect, reported with the spec errors.
pub fn embedded() -> Result<Vec<Spec>, SpecErrors> {
    EMBEDDED
        .iter()
        .map(|(name, text)| load_str(&format!("specs/{name}"), text))
        .collect()
}

/// Serialises a value as YAML for people (state dumps, fixtures).
pub fn to_yaml<T: serde::Serialize>(value: &T) -> Result<String, String> {
    yaml::encode(value)
}

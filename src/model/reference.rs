//! Built-in reference data (assets/reference): the EU 2023 list of critical technology areas
//! and technologies, EU instruments and TRL wording. Loaded into every new observatory file.
//!
//! Reference technologies get ids derived from their code (UUID v8 over
//! SHA-256(`observatory/reference/technology/` + code)), so every member's file holds the same
//! ids for them and exchanged edits to them merge instead of duplicating.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// `assets/reference/technologies.json`.
pub const TECHNOLOGIES_JSON: &str = include_str!("../../assets/reference/technologies.json");
/// `assets/reference/instruments.json`.
pub const INSTRUMENTS_JSON: &str = include_str!("../../assets/reference/instruments.json");
/// `assets/reference/trl.json`.
pub const TRL_JSON: &str = include_str!("../../assets/reference/trl.json");

/// The EU 2023 list.
#[derive(Debug, Clone, Deserialize)]
pub struct TechnologyList {
    /// The legal act it comes from.
    pub source: String,
    /// Date of the act.
    pub date: String,
    /// The ten areas.
    pub areas: Vec<Area>,
}

/// One critical technology area.
#[derive(Debug, Clone, Deserialize)]
pub struct Area {
    /// Code (see [`super::kind::AREAS`]).
    pub code: String,
    /// Number in the Annex (1-10).
    pub number: u8,
    /// Name in the Annex.
    pub name: String,
    /// One of the four areas the Recommendation singles out as most sensitive.
    pub highest_risk: bool,
    /// Its technologies.
    pub technologies: Vec<ReferenceTechnology>,
}

/// One technology of the list.
#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceTechnology {
    /// Stable code.
    pub code: String,
    /// Name in the Annex.
    pub name: String,
}

/// An EU instrument for mitigating measures.
#[derive(Debug, Clone, Deserialize)]
pub struct Instrument {
    /// Code (see [`super::kind::INSTRUMENTS`]).
    pub code: String,
    /// Full name.
    pub name: String,
}

/// TRL wording.
#[derive(Debug, Clone, Deserialize)]
pub struct TrlScale {
    /// Where the wording comes from.
    pub source: String,
    /// Levels 1-9.
    pub levels: Vec<TrlLevel>,
}

/// One technology readiness level.
#[derive(Debug, Clone, Deserialize)]
pub struct TrlLevel {
    /// 1-9.
    pub level: u8,
    /// EU wording.
    pub name: String,
}

/// Reference data that fails to parse is a build defect, caught by the tests below.
#[derive(Debug, thiserror::Error)]
#[error("built-in reference data {file} is invalid: {source}")]
pub struct ReferenceError {
    file: &'static str,
    source: serde_json::Error,
}

/// The EU 2023 list.
pub fn technology_list() -> Result<TechnologyList, ReferenceError> {
    serde_json::from_str(TECHNOLOGIES_JSON).map_err(|source| ReferenceError {
        file: "technologies.json",
        source,
    })
}

/// The EU instruments.
pub fn instruments() -> Result<Vec<Instrument>, ReferenceError> {
    serde_json::from_str(INSTRUMENTS_JSON).map_err(|source| ReferenceError {
        file: "instruments.json",
        source,
    })
}

/// The TRL scale.
pub fn trl_scale() -> Result<TrlScale, ReferenceError> {
    serde_json::from_str(TRL_JSON).map_err(|source| ReferenceError {
        file: "trl.json",
        source,
    })
}

/// The fixed id of the reference technology with this code.
#[must_use]
pub fn reference_technology_id(code: &str) -> Uuid {
    let digest = Sha256::digest(format!("observatory/reference/technology/{code}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes)
}

/// The values a reference technology is created with in every file (`name`, `area`,
/// `reference_code`), by id: what its history starts from, since it has no creation row in
/// the change log.
#[must_use]
pub fn reference_technology_fields(
    id: Uuid,
) -> Option<std::collections::BTreeMap<String, serde_json::Value>> {
    static BY_ID: std::sync::LazyLock<
        Vec<(Uuid, std::collections::BTreeMap<String, serde_json::Value>)>,
    > = std::sync::LazyLock::new(|| {
        let Ok(list) = technology_list() else {
            return Vec::new();
        };
        list.areas
            .iter()
            .flat_map(|area| {
                area.technologies.iter().map(|t| {
                    let fields = [
                        ("name", t.name.clone()),
                        ("area", area.code.clone()),
                        ("reference_code", t.code.clone()),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
                    .collect();
                    (reference_technology_id(&t.code), fields)
                })
            })
            .collect()
    });
    BY_ID.iter().find(|(i, _)| *i == id).map(|(_, f)| f.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::kind::{AREAS, INSTRUMENTS};

    #[test]
    fn reference_data_parses_and_matches_the_code_lists() {
        let list = technology_list().unwrap();
        let codes: Vec<_> = list.areas.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes, AREAS);
        assert_eq!(list.areas.iter().filter(|a| a.highest_risk).count(), 4);
        assert_eq!(
            list.areas
                .iter()
                .map(|a| a.technologies.len())
                .sum::<usize>(),
            42
        );
        let instruments: Vec<_> = instruments().unwrap().into_iter().map(|i| i.code).collect();
        assert_eq!(instruments, INSTRUMENTS);
        assert_eq!(trl_scale().unwrap().levels.len(), 9);
        assert_eq!(
            reference_technology_id("hpc"),
            reference_technology_id("hpc")
        );
        assert_ne!(
            reference_technology_id("hpc"),
            reference_technology_id("photonics")
        );
    }
}

//! Tables of the European Commission's "Study on the critical raw materials for the EU 2023"
//! (`--format crm`), as transcribed in the folder layout of `eu_crm_2023` (CC BY 4.0).
//!
//! | file | columns | becomes |
//! |---|---|---|
//! | `dimension_CRMsOverTime.csv` (required) | `Material`, `Year`, `SR`, `EI` (`-` = not assessed) | one item (kind material) per material; one dated assessment per material and year with `supply_risk` = SR and `economic_importance` = EI, dated 1 January of the year |
//! | `fact_GlobalSupplyShares&t.csv` (required) | `Material`, `Stage` (`E` extraction, `P` processing), `Country`, `Share`, `t` | an item per material and stage (`Gallium (processing)`) that is `input-to` the material (extraction `input-to` processing where both exist), with `produced-in` links to each country carrying the share |
//! | `fact_EUSupplyShares&t.csv` | same | an item per material and stage for EU sourcing (`Gallium (processing, EU sourcing)`, `is-a` the stage item) with `produced-in` links carrying the EU sourcing shares |
//! | `fact_MaterialUseShares.csv` | `Material`, `Application`, `Share`, `NACE sector`, `VA in million €` | an item per application (kind component, stage `end use`); the material is `input-to` it with the share of its use |
//! | `dimension_ScreenedMatGroupings.csv` | `screened_material`, `perm_XREE_PGM` | `is-a` links from single rare earths and platinum-group metals to the HREEs, LREEs and PGMs groups |
//!
//! The three `fact_*` files are Windows-1252 with CRLF line ends; shares are written `93.8%`
//! or `<0.1%`; country names are the study's (`Congo, D.R.`, `Korea, South`, `Türkiye`, also
//! misspelt `Turkyie`, `Brasilia` for Brazil). A name that cannot be mapped to ISO 3166 is
//! left out and listed in the import's notes. Material names are matched across files without
//! case and with the study's variants (`Barytes` = `Baryte`, `Borate` = `Boron`, `Kaolin` =
//! `Kaolin clay`, `Phosphorous` = `Phosphorus`). Links carry `year` = the study year (2023, or
//! `--year`). Stable-id keys: `material/{name}`, `material/{name}/stage/{E|P}`,
//! `material/{name}/eu/{E|P}`, `assessment/{name}/{year}`, `global/{name}/{E|P}/{country}`,
//! `eu/{name}/{E|P}/{country}`, `application/{name}`, `use/{material}/{application}`,
//! `group/{element}/{group}`, `stage-link/{name}`, `source/study-2023`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value, json};

use super::{
    Files, Parsed, ReadOptions, RowProblem, SourceError, SourceFormat, Table, country_code,
    key_text, parse_percent, record, share_value, source_record, stable_id,
};
use crate::model::Kind;

const FORMAT: SourceFormat = SourceFormat::Crm;
const EXPECTED: &str = "dimension_CRMsOverTime.csv, fact_GlobalSupplyShares&t.csv, fact_EUSupplyShares&t.csv, fact_MaterialUseShares.csv, dimension_ScreenedMatGroupings.csv";

/// The study's name variants, by lower-case key.
const MATERIAL_ALIASES: &[(&str, &str)] = &[
    ("barytes", "baryte"),
    ("borate", "boron"),
    ("kaolin", "kaolin clay"),
    ("phosphorous", "phosphorus"),
    ("hree", "hrees"),
    ("lree", "lrees"),
    ("pgm", "pgms"),
    ("ree", "rees"),
];

/// The key of a material name.
#[must_use]
pub fn material_key(name: &str) -> String {
    let key = key_text(name);
    MATERIAL_ALIASES
        .iter()
        .find(|(alias, _)| *alias == key)
        .map_or(key, |(_, canonical)| (*canonical).to_owned())
}

/// The stable id of a material item.
#[must_use]
pub fn material_id(name: &str) -> uuid::Uuid {
    stable_id(FORMAT, &format!("material/{}", material_key(name)))
}

/// The stable id of a material's item at a stage of the study (`E` extraction, `P`
/// processing): the key `material/{name}/stage/{E|P}`. The USGS reader uses it for the same
/// material (see [`super::usgs::MATERIALS`]).
#[must_use]
pub fn stage_id(name: &str, stage: char) -> uuid::Uuid {
    stable_id(
        FORMAT,
        &format!("material/{}/stage/{stage}", material_key(name)),
    )
}

fn stage_name(code: &str) -> Option<&'static str> {
    match code.trim().to_uppercase().as_str() {
        "E" => Some("extraction"),
        "P" => Some("processing"),
        _ => None,
    }
}

struct Reader {
    out: Parsed,
    cites: Value,
    year: i64,
    /// Material key -> display name, for items created so far.
    materials: BTreeMap<String, String>,
    /// (material key, stage code) -> created.
    stages: BTreeSet<(String, String)>,
    eu_stages: BTreeSet<(String, String)>,
    applications: BTreeSet<String>,
    unmapped: BTreeMap<String, usize>,
}

/// Reads a CRM 2023 folder.
pub fn read(folder: &Path, options: &ReadOptions<'_>) -> Result<Parsed, SourceError> {
    read_files(&Files::folder(folder, FORMAT, EXPECTED)?, options)
}

/// Reads the format's files from a folder or memory.
pub fn read_files(files: &Files<'_>, options: &ReadOptions<'_>) -> Result<Parsed, SourceError> {
    let table = |name: &str, required: bool| {
        files.table_of(name, required, FORMAT, EXPECTED, options.progress)
    };
    let scores = table("dimension_CRMsOverTime.csv", true)?;
    let global = table("fact_GlobalSupplyShares&t.csv", true)?;
    let eu = table("fact_EUSupplyShares&t.csv", false)?;
    let uses = table("fact_MaterialUseShares.csv", false)?;
    let groupings = table("dimension_ScreenedMatGroupings.csv", false)?;

    let year = options.year.unwrap_or(2023);
    let (source_id, source) = source_record(
        FORMAT,
        "study-2023",
        json!({
            "title": "Study on the critical raw materials for the EU 2023 - Final report",
            "publisher": "European Commission (tables transcribed by E. Emilsson, CC BY 4.0)",
            "date": "2023-03-16",
            "citation": "https://op.europa.eu/en/publication-detail/-/publication/57318397-fdd4-11ed-a05c-01aa75ed71a1; https://github.com/erikemilsson/EU-Critical-Raw-Materials-CRM-Reports-Datasets",
            "reliability": "A",
        }),
    );
    let mut reader = Reader {
        out: Parsed {
            dataset: format!("EU critical raw materials study tables (supply shares of {year})"),
            ..Parsed::default()
        },
        cites: json!([source_id.to_string()]),
        year,
        materials: BTreeMap::new(),
        stages: BTreeSet::new(),
        eu_stages: BTreeSet::new(),
        applications: BTreeSet::new(),
        unmapped: BTreeMap::new(),
    };
    reader.out.push("the study".into(), source);
    if let Some(scores) = scores {
        reader.scores(&scores)?;
    }
    if let Some(global) = global {
        reader.shares(&global, false)?;
    }
    if let Some(eu) = eu {
        reader.shares(&eu, true)?;
    }
    if let Some(uses) = uses {
        reader.uses(&uses)?;
    }
    if let Some(groupings) = groupings {
        reader.groupings(&groupings)?;
    }
    for (name, rows) in &reader.unmapped {
        reader.out.notes.push(format!(
            "country {name:?} could not be mapped to an ISO 3166 code: {rows} share(s) left out"
        ));
    }
    Ok(reader.out)
}

impl Reader {
    fn problem(&mut self, table: &Table, line: u64, message: String) {
        self.out.problems.push(RowProblem {
            file: table.file.clone(),
            line,
            message,
        });
    }

    fn push(&mut self, table: &Table, line: u64, record: Map<String, Value>) {
        self.out.push(format!("{} line {line}", table.file), record);
    }

    /// The material item, created on first use.
    fn material(&mut self, table: &Table, line: u64, name: &str) -> String {
        let key = material_key(name);
        if !self.materials.contains_key(&key) {
            let display = name.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut item = record(Kind::Item, material_id(name));
            item.insert("name".into(), json!(display));
            item.insert("item_kind".into(), json!("material"));
            item.insert("source_ids".into(), self.cites.clone());
            self.push(table, line, item);
            self.materials.insert(key.clone(), display);
        }
        key
    }

    fn display(&self, key: &str) -> String {
        self.materials.get(key).cloned().unwrap_or_default()
    }

    fn scores(&mut self, table: &Table) -> Result<(), SourceError> {
        let material_col = table.require("Material")?;
        let year_col = table.require("Year")?;
        let sr_col = table.require("SR")?;
        let ei_col = table.require("EI")?;
        for (line, row) in table.rows() {
            self.out.rows += 1;
            let name = row.get(Some(material_col));
            let year = row.get(Some(year_col));
            let Ok(year) = year.parse::<i64>() else {
                self.problem(table, line, format!("Year {year:?} is not a year"));
                continue;
            };
            if name.is_empty() || !(1900..=2200).contains(&year) {
                self.problem(table, line, "no material or no plausible year".into());
                continue;
            }
            let number = |text: &str| -> Result<Option<f64>, String> {
                match text {
                    "" | "-" => Ok(None),
                    t => t
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .map(Some)
                        .ok_or_else(|| format!("{t:?} is not a score")),
                }
            };
            let (sr, ei) = match (number(row.get(Some(sr_col))), number(row.get(Some(ei_col)))) {
                (Ok(sr), Ok(ei)) => (sr, ei),
                (Err(e), _) | (_, Err(e)) => {
                    self.problem(table, line, e);
                    continue;
                }
            };
            let key = self.material(table, line, name);
            if sr.is_none() && ei.is_none() {
                continue;
            }
            let mut assessment = record(
                Kind::Assessment,
                stable_id(FORMAT, &format!("assessment/{key}/{year}")),
            );
            assessment.insert("subject_id".into(), json!(material_id(name).to_string()));
            assessment.insert("date".into(), json!(format!("{year}-01-01")));
            assessment.insert("supply_risk".into(), json!(sr));
            assessment.insert("economic_importance".into(), json!(ei));
            let critical = matches!((sr, ei), (Some(sr), Some(ei)) if sr >= 1.0 && ei >= 2.8);
            let mut narrative = format!(
                "EU criticality assessment {year}: supply risk {}, economic importance {}.",
                sr.map_or("not assessed".into(), |v| v.to_string()),
                ei.map_or("not assessed".into(), |v| v.to_string()),
            );
            if year >= 2017 && critical {
                narrative.push_str(" Above the thresholds (SR >= 1.0, EI >= 2.8).");
            }
            assessment.insert("narrative".into(), json!(narrative));
            assessment.insert(
                "assessor".into(),
                json!(format!("European Commission, CRM assessment {year}")),
            );
            assessment.insert("confidence".into(), json!("high"));
            assessment.insert("source_ids".into(), self.cites.clone());
            self.push(table, line, assessment);
        }
        Ok(())
    }

    /// The stage item of a material (global or EU sourcing), created on first use.
    fn stage_item(&mut self, table: &Table, line: u64, key: &str, code: &str, eu: bool) -> String {
        let stage = stage_name(code).unwrap_or("processing");
        let item_key = if eu {
            format!("material/{key}/eu/{code}")
        } else {
            format!("material/{key}/stage/{code}")
        };
        let created = if eu { &self.eu_stages } else { &self.stages };
        if !created.contains(&(key.to_owned(), code.to_owned())) {
            let display = self.display(key);
            let (name, description) = if eu {
                (
                    format!("{display} ({stage}, EU sourcing)"),
                    format!(
                        "Where the EU sources {display} ({stage}) from: EU sourcing shares of the CRM 2023 study."
                    ),
                )
            } else {
                (
                    format!("{display} ({stage})"),
                    format!(
                        "Global supply of {display} at the {stage} stage: shares of the CRM 2023 study."
                    ),
                )
            };
            let mut item = record(Kind::Item, stable_id(FORMAT, &item_key));
            item.insert("name".into(), json!(name));
            item.insert("item_kind".into(), json!("material"));
            item.insert("stage".into(), json!(stage));
            item.insert("description".into(), json!(description));
            item.insert("source_ids".into(), self.cites.clone());
            self.push(table, line, item);
            let mut edge = record(
                Kind::Link,
                stable_id(FORMAT, &format!("stage-link/{item_key}")),
            );
            let (kind, to) = if eu {
                (
                    "is-a",
                    stable_id(FORMAT, &format!("material/{key}/stage/{code}")),
                )
            } else {
                ("input-to", material_id(key))
            };
            edge.insert(
                "from_id".into(),
                json!(stable_id(FORMAT, &item_key).to_string()),
            );
            edge.insert("to_id".into(), json!(to.to_string()));
            edge.insert("link_kind".into(), json!(kind));
            if eu {
                // The EU sourcing item refers to the global stage item: make sure it exists.
                self.stage_item(table, line, key, code, false);
                self.eu_stages.insert((key.to_owned(), code.to_owned()));
            } else {
                self.stages.insert((key.to_owned(), code.to_owned()));
            }
            self.push(table, line, edge);
        }
        item_key
    }

    fn shares(&mut self, table: &Table, eu: bool) -> Result<(), SourceError> {
        let material_col = table.require("Material")?;
        let stage_col = table.require("Stage")?;
        let country_col = table.require("Country")?;
        let share_col = table.require("Share")?;
        let t_col = table.column("t");
        let mut seen = BTreeMap::new();
        for (line, row) in table.rows() {
            self.out.rows += 1;
            let name = row.get(Some(material_col));
            let code = row.get(Some(stage_col)).to_uppercase();
            if name.is_empty() || stage_name(&code).is_none() {
                self.problem(
                    table,
                    line,
                    format!("no material, or stage {code:?} is not E or P"),
                );
                continue;
            }
            let share_text = row.get(Some(share_col));
            let share = match parse_percent(share_text) {
                Ok(Some(share)) => share,
                Ok(None) => continue,
                Err(e) => {
                    self.problem(table, line, e);
                    continue;
                }
            };
            let country_name = row.get(Some(country_col));
            let Some(country) = country_code(country_name) else {
                *self.unmapped.entry(country_name.to_owned()).or_default() += 1;
                continue;
            };
            let key = self.material(table, line, name);
            if seen
                .insert((key.clone(), code.clone(), country.clone()), line)
                .is_some()
            {
                self.problem(
                    table,
                    line,
                    format!("{name} {code} {country_name} appears twice"),
                );
                continue;
            }
            let item_key = self.stage_item(table, line, &key, &code, eu);
            let prefix = if eu { "eu" } else { "global" };
            let mut link = record(
                Kind::Link,
                stable_id(FORMAT, &format!("{prefix}/{key}/{code}/{country}")),
            );
            link.insert(
                "from_id".into(),
                json!(stable_id(FORMAT, &item_key).to_string()),
            );
            link.insert("to_id".into(), json!(country));
            link.insert("link_kind".into(), json!("produced-in"));
            link.insert("share".into(), share_value(share.share));
            link.insert("year".into(), json!(self.year));
            let mut notes = Vec::new();
            if share.below {
                notes.push(format!("share reported as {share_text}"));
            }
            if !row.get(t_col).is_empty() {
                notes.push(format!("trade-related variable t = {}", row.get(t_col)));
            }
            if eu {
                notes.push("EU sourcing share".to_owned());
            }
            link.insert("notes".into(), json!(notes.join("; ")));
            link.insert("source_ids".into(), self.cites.clone());
            self.push(table, line, link);
        }
        // Extraction feeds processing where the study gives both stages.
        if !eu {
            let both: Vec<String> = self
                .stages
                .iter()
                .filter(|(_, code)| code == "E")
                .map(|(key, _)| key.clone())
                .filter(|key| self.stages.contains(&(key.clone(), "P".to_owned())))
                .collect();
            for key in both {
                let mut link = record(Kind::Link, stable_id(FORMAT, &format!("stage-chain/{key}")));
                link.insert(
                    "from_id".into(),
                    json!(stable_id(FORMAT, &format!("material/{key}/stage/E")).to_string()),
                );
                link.insert(
                    "to_id".into(),
                    json!(stable_id(FORMAT, &format!("material/{key}/stage/P")).to_string()),
                );
                link.insert("link_kind".into(), json!("input-to"));
                self.out.push(format!("{} (stages)", table.file), link);
            }
        }
        Ok(())
    }

    fn uses(&mut self, table: &Table) -> Result<(), SourceError> {
        let material_col = table.require("Material")?;
        let application_col = table.require("Application")?;
        let share_col = table.require("Share")?;
        let nace_col = table.column("NACE sector");
        let va_col = table.column("VA in million €");
        let mut seen = BTreeMap::new();
        for (line, row) in table.rows() {
            self.out.rows += 1;
            let name = row.get(Some(material_col));
            let application = row.get(Some(application_col));
            if name.is_empty() || application.is_empty() {
                self.problem(table, line, "no material or application".into());
                continue;
            }
            let share = match parse_percent(row.get(Some(share_col))) {
                Ok(share) => share,
                Err(e) => {
                    self.problem(table, line, e);
                    continue;
                }
            };
            let key = self.material(table, line, name);
            let app_key = key_text(application);
            let share_key = share.map(|s| s.share.to_bits());
            if let Some((first, first_share)) = seen.get(&(key.clone(), app_key.clone())) {
                let message = format!(
                    "{name} -> {application} repeats line {first}{}",
                    if *first_share == share_key {
                        " with the same share: left out"
                    } else {
                        " with another share"
                    }
                );
                if *first_share == share_key {
                    self.out
                        .notes
                        .push(format!("{} line {line}: {message}", table.file));
                } else {
                    self.problem(table, line, message);
                }
                continue;
            }
            seen.insert((key.clone(), app_key.clone()), (line, share_key));
            let app_id = stable_id(FORMAT, &format!("application/{app_key}"));
            if !self.applications.contains(&app_key) {
                let mut item = record(Kind::Item, app_id);
                item.insert("name".into(), json!(application));
                item.insert("item_kind".into(), json!("component"));
                item.insert("stage".into(), json!("end use"));
                let sector = row.get(nace_col);
                let description = if sector.is_empty() {
                    "End-use application of raw materials (CRM 2023 study).".to_owned()
                } else {
                    format!(
                        "End-use application of raw materials (CRM 2023 study); NACE sector {sector}."
                    )
                };
                item.insert("description".into(), json!(description));
                item.insert("source_ids".into(), self.cites.clone());
                self.push(table, line, item);
                self.applications.insert(app_key.clone());
            }
            let mut link = record(
                Kind::Link,
                stable_id(FORMAT, &format!("use/{key}/{app_key}")),
            );
            link.insert("from_id".into(), json!(material_id(name).to_string()));
            link.insert("to_id".into(), json!(app_id.to_string()));
            link.insert("link_kind".into(), json!("input-to"));
            link.insert(
                "share".into(),
                share.map_or(Value::Null, |s| share_value(s.share)),
            );
            link.insert("year".into(), json!(self.year));
            let mut notes = vec!["share of the material's EU end uses".to_owned()];
            if !row.get(va_col).is_empty() {
                notes.push(format!(
                    "value added of the sector: EUR {} million",
                    row.get(va_col)
                ));
            }
            link.insert("notes".into(), json!(notes.join("; ")));
            link.insert("source_ids".into(), self.cites.clone());
            self.push(table, line, link);
        }
        Ok(())
    }

    fn groupings(&mut self, table: &Table) -> Result<(), SourceError> {
        let material_col = table.require("screened_material")?;
        let Some(group_col) = table.column("perm_XREE_PGM") else {
            return Ok(());
        };
        for (line, row) in table.rows() {
            self.out.rows += 1;
            let element = material_key(row.get(Some(material_col)));
            let group = material_key(row.get(Some(group_col)));
            if !matches!(group.as_str(), "hrees" | "lrees" | "pgms")
                || element == group
                || !self.materials.contains_key(&element)
                || !self.materials.contains_key(&group)
            {
                continue;
            }
            let mut link = record(
                Kind::Link,
                stable_id(FORMAT, &format!("group/{element}/{group}")),
            );
            link.insert("from_id".into(), json!(material_id(&element).to_string()));
            link.insert("to_id".into(), json!(material_id(&group).to_string()));
            link.insert("link_kind".into(), json!("is-a"));
            self.push(table, line, link);
        }
        Ok(())
    }
}

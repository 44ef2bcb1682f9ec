//! Supply-chain CSV folders in the format of CSET's Emerging Technology Observatory (ETO)
//! supply-chain dataset (`--format eto`).
//!
//! | file | columns read (by name) | becomes |
//! |---|---|---|
//! | `inputs.csv` (required) | `input_id`, `input_name`, `type`, `stage_name`, `stage_id`, `description`, `year` | one item per input; `type` gives the item kind (material, tool -> equipment, process, design resource -> software, ultimate output -> component) |
//! | `providers.csv` (required) | `provider_id`, `provider_name`, `alias`, `provider_type` (`country` or `organization`), `country` (ISO 3166-1 alpha-3) | organisations (headquarters country from `country`); country providers are the country itself |
//! | `provision.csv` (required) | `provider_id`, `provided_id`, `share_provided` (percent: `61` or `61%`), `year`, `negligible_market_share`, `source` | a link from the input to the provider: `supplied-by` (organisation) or `produced-in` (country), with the share and year |
//! | `sequence.csv` | `input_id`, `goes_into_id`, `is_type_of_id` | `input-to` and `is-a` links between inputs |
//! | `stages.csv` | `stage_id`, `stage_name` | the stage name of inputs that give only `stage_id` |
//!
//! Older releases order columns differently, write shares with `%`, lack `year` (then
//! `--year` applies), and add `negligible_market_share` (true/1/yes: the link is kept without
//! a share and says so). Stable-id keys: `input/{input_id}`, `provider/{provider_id}`,
//! `provision/{provider_id}/{provided_id}`, `sequence/{input-to|is-a}/{from}/{to}`,
//! `source/dataset`. A newer release therefore updates the same items and links; the older
//! shares stay in the change log as history.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

use super::{
    Files, Parsed, ReadOptions, RowProblem, SourceError, SourceFormat, Table, country_code,
    parse_percent, record, share_value, source_record, stable_id,
};
use crate::model::Kind;

const FORMAT: SourceFormat = SourceFormat::Eto;
const EXPECTED: &str = "inputs.csv, providers.csv, provision.csv, sequence.csv, stages.csv";

/// Reads an ETO-format folder.
pub fn read(folder: &Path, options: &ReadOptions<'_>) -> Result<Parsed, SourceError> {
    read_files(&Files::folder(folder, FORMAT, EXPECTED)?, options)
}

/// Reads the format's files from a folder or memory.
pub fn read_files(files: &Files<'_>, options: &ReadOptions<'_>) -> Result<Parsed, SourceError> {
    let table = |name: &str, required: bool| {
        files.table_of(name, required, FORMAT, EXPECTED, options.progress)
    };
    let inputs = table("inputs.csv", true)?;
    let providers = table("providers.csv", true)?;
    let provision = table("provision.csv", true)?;
    let sequence = table("sequence.csv", false)?;
    let stages = table("stages.csv", false)?;
    let (Some(inputs), Some(providers), Some(provision)) = (inputs, providers, provision) else {
        return Err(SourceError::Empty("ETO files missing".into()));
    };

    let folder_name = files.folder_name();
    let mut out = Parsed {
        dataset: format!("ETO supply-chain dataset ({folder_name})"),
        ..Parsed::default()
    };
    let (source_id, source) = source_record(
        FORMAT,
        "dataset",
        json!({
            "title": "Emerging Technology Observatory supply-chain dataset",
            "publisher": "Center for Security and Emerging Technology (CSET), Georgetown University",
            "citation": "https://eto.tech/dataset-docs/chipexplorer (CC BY 4.0)",
            "reliability": "B",
        }),
    );
    out.push("the dataset".into(), source);
    let cites = json!([source_id.to_string()]);

    let stage_names = stages
        .map(|t| stage_names(&t))
        .transpose()?
        .unwrap_or_default();
    let known_inputs = read_inputs(&inputs, &stage_names, &cites, &mut out)?;
    let providers = read_providers(&providers, &cites, &mut out)?;
    read_provision(
        &provision,
        &known_inputs,
        &providers,
        options.year,
        &cites,
        &mut out,
    )?;
    if let Some(sequence) = sequence {
        read_sequence(&sequence, &known_inputs, &mut out)?;
    }
    Ok(out)
}

fn stage_names(table: &Table) -> Result<BTreeMap<String, String>, SourceError> {
    let id = table.require("stage_id")?;
    let name = table.require("stage_name")?;
    Ok(table
        .rows()
        .map(|(_, row)| (row.get(Some(id)).to_owned(), row.get(Some(name)).to_owned()))
        .filter(|(id, name)| !id.is_empty() && !name.is_empty())
        .collect())
}

fn item_kind(input_type: &str) -> &'static str {
    let t = input_type.to_lowercase();
    if t.contains("material") {
        "material"
    } else if t.contains("tool") || t.contains("equipment") {
        "equipment"
    } else if t.contains("process") {
        "process"
    } else if t.contains("design") || t.contains("software") {
        "software"
    } else if t.contains("service") {
        "service"
    } else {
        "component"
    }
}

fn problem(out: &mut Parsed, table: &Table, line: u64, message: String) {
    out.problems.push(RowProblem {
        file: table.file.clone(),
        line,
        message,
    });
}

/// Items from `inputs.csv`; returns the input ids read.
fn read_inputs(
    table: &Table,
    stage_names: &BTreeMap<String, String>,
    cites: &Value,
    out: &mut Parsed,
) -> Result<BTreeSet<String>, SourceError> {
    let id_col = table.require("input_id")?;
    let name_col = table.require("input_name")?;
    let type_col = table.column("type");
    let stage_col = table.column("stage_name");
    let stage_id_col = table.column("stage_id");
    let description_col = table.column("description");
    let mut seen = BTreeSet::new();
    for (line, row) in table.rows() {
        out.rows += 1;
        let id = row.get(Some(id_col));
        let name = row.get(Some(name_col));
        if id.is_empty() || name.is_empty() {
            problem(out, table, line, "no input_id or input_name".into());
            continue;
        }
        if !seen.insert(id.to_owned()) {
            problem(out, table, line, format!("input_id {id:?} appears twice"));
            continue;
        }
        let stage = match row.get(stage_col) {
            "" => stage_names
                .get(row.get(stage_id_col))
                .map_or("", String::as_str),
            s => s,
        };
        let mut item = record(Kind::Item, stable_id(FORMAT, &format!("input/{id}")));
        item.insert("name".into(), json!(name));
        item.insert("item_kind".into(), json!(item_kind(row.get(type_col))));
        item.insert("stage".into(), json!(stage));
        item.insert("description".into(), json!(row.get(description_col)));
        item.insert("source_ids".into(), cites.clone());
        out.push(format!("{} line {line}", table.file), item);
    }
    Ok(seen)
}

/// What a provider id stands for.
enum Provider {
    Country(String),
    Organisation(String),
}

fn read_providers(
    table: &Table,
    cites: &Value,
    out: &mut Parsed,
) -> Result<BTreeMap<String, Provider>, SourceError> {
    let id_col = table.require("provider_id")?;
    let name_col = table.require("provider_name")?;
    let type_col = table.require("provider_type")?;
    let country_col = table.column("country");
    let alias_col = table.column("alias");
    let mut providers = BTreeMap::new();
    for (line, row) in table.rows() {
        out.rows += 1;
        let id = row.get(Some(id_col));
        let name = row.get(Some(name_col));
        if id.is_empty() || name.is_empty() {
            problem(out, table, line, "no provider_id or provider_name".into());
            continue;
        }
        if providers.contains_key(id) {
            problem(
                out,
                table,
                line,
                format!("provider_id {id:?} appears twice"),
            );
            continue;
        }
        let country_text = row.get(country_col);
        let country = if country_text.is_empty() {
            None
        } else {
            let Some(code) = country_code(country_text) else {
                problem(
                    out,
                    table,
                    line,
                    format!("country {country_text:?} is not an ISO 3166 code or country name"),
                );
                continue;
            };
            Some(code)
        };
        let provider = match row.get(Some(type_col)).to_lowercase().as_str() {
            "country" => {
                let Some(code) = country.or_else(|| country_code(name)) else {
                    problem(
                        out,
                        table,
                        line,
                        format!("country provider {name:?} has no known ISO code"),
                    );
                    continue;
                };
                Provider::Country(code)
            }
            "organization" | "organisation" | "company" => {
                let org_id = stable_id(FORMAT, &format!("provider/{id}"));
                let mut org = record(Kind::Organisation, org_id);
                org.insert("name".into(), json!(name));
                org.insert("organisation_kind".into(), json!("supplier"));
                let aliases: Vec<&str> = row
                    .get(alias_col)
                    .split([';', '|'])
                    .map(str::trim)
                    .filter(|a| !a.is_empty() && *a != name)
                    .collect();
                org.insert("aliases".into(), json!(aliases));
                org.insert("hq_country".into(), json!(country));
                org.insert("source_ids".into(), cites.clone());
                out.push(format!("{} line {line}", table.file), org);
                Provider::Organisation(org_id.to_string())
            }
            other => {
                problem(
                    out,
                    table,
                    line,
                    format!("provider_type {other:?}: expected country or organization"),
                );
                continue;
            }
        };
        providers.insert(id.to_owned(), provider);
    }
    Ok(providers)
}

fn truthy(text: &str) -> bool {
    matches!(
        text.to_lowercase().as_str(),
        "true" | "1" | "yes" | "y" | "t"
    )
}

fn read_provision(
    table: &Table,
    inputs: &BTreeSet<String>,
    providers: &BTreeMap<String, Provider>,
    default_year: Option<i64>,
    cites: &Value,
    out: &mut Parsed,
) -> Result<(), SourceError> {
    let provider_col = table.require("provider_id")?;
    let input_col = table.require("provided_id")?;
    let share_col = table.column("share_provided");
    let year_col = table.column("year");
    let negligible_col = table.column("negligible_market_share");
    let source_col = table.column("source");
    let mut seen = BTreeSet::new();
    for (line, row) in table.rows() {
        out.rows += 1;
        let provider_id = row.get(Some(provider_col));
        let input_id = row.get(Some(input_col));
        let Some(provider) = providers.get(provider_id) else {
            problem(
                out,
                table,
                line,
                format!("provider_id {provider_id:?} is not in providers.csv"),
            );
            continue;
        };
        if !inputs.contains(input_id) {
            problem(
                out,
                table,
                line,
                format!("provided_id {input_id:?} is not in inputs.csv"),
            );
            continue;
        }
        if !seen.insert((provider_id, input_id)) {
            problem(
                out,
                table,
                line,
                format!("{provider_id} provides {input_id} twice"),
            );
            continue;
        }
        let share = match parse_percent(row.get(share_col)) {
            Ok(share) => share,
            Err(e) => {
                problem(out, table, line, format!("share_provided: {e}"));
                continue;
            }
        };
        let year = match row.get(year_col) {
            "" => default_year,
            text => match text.parse::<f64>() {
                // Years sometimes come as "2021.0" from spreadsheet exports.
                #[allow(clippy::cast_possible_truncation)]
                Ok(y) if y.fract() == 0.0 && (1900.0..=2200.0).contains(&y) => Some(y as i64),
                _ => {
                    problem(out, table, line, format!("year {text:?} is not a year"));
                    continue;
                }
            },
        };
        let mut notes = Vec::new();
        let negligible = truthy(row.get(negligible_col));
        if negligible {
            notes.push("negligible market share".to_owned());
        }
        if share.is_some_and(|s| s.below) {
            notes.push(format!("share reported as {}", row.get(share_col)));
        }
        if !row.get(source_col).is_empty() {
            notes.push(format!("source: {}", row.get(source_col)));
        }
        let (kind, to) = match provider {
            Provider::Country(code) => ("produced-in", code.clone()),
            Provider::Organisation(id) => ("supplied-by", id.clone()),
        };
        let mut link = record(
            Kind::Link,
            stable_id(FORMAT, &format!("provision/{provider_id}/{input_id}")),
        );
        link.insert(
            "from_id".into(),
            json!(stable_id(FORMAT, &format!("input/{input_id}")).to_string()),
        );
        link.insert("to_id".into(), json!(to));
        link.insert("link_kind".into(), json!(kind));
        link.insert(
            "share".into(),
            share.map_or(Value::Null, |s| share_value(s.share)),
        );
        link.insert("year".into(), json!(year));
        link.insert("notes".into(), json!(notes.join("; ")));
        link.insert("source_ids".into(), cites.clone());
        out.push(format!("{} line {line}", table.file), link);
    }
    Ok(())
}

fn read_sequence(
    table: &Table,
    inputs: &BTreeSet<String>,
    out: &mut Parsed,
) -> Result<(), SourceError> {
    let input_col = table.require("input_id")?;
    let into_col = table.column("goes_into_id");
    let type_col = table.column("is_type_of_id");
    let mut seen = BTreeSet::new();
    for (line, row) in table.rows() {
        out.rows += 1;
        let from = row.get(Some(input_col));
        for (kind, col) in [("input-to", into_col), ("is-a", type_col)] {
            let to = row.get(col);
            if to.is_empty() {
                continue;
            }
            if let Some(missing) = [from, to].into_iter().find(|id| !inputs.contains(*id)) {
                problem(
                    out,
                    table,
                    line,
                    format!("input id {missing:?} is not in inputs.csv"),
                );
                continue;
            }
            if !seen.insert((kind, from, to)) {
                continue;
            }
            let mut link = record(
                Kind::Link,
                stable_id(FORMAT, &format!("sequence/{kind}/{from}/{to}")),
            );
            link.insert(
                "from_id".into(),
                json!(stable_id(FORMAT, &format!("input/{from}")).to_string()),
            );
            link.insert(
                "to_id".into(),
                json!(stable_id(FORMAT, &format!("input/{to}")).to_string()),
            );
            link.insert("link_kind".into(), json!(kind));
            out.push(format!("{} line {line}", table.file), link);
        }
    }
    Ok(())
}

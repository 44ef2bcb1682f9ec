//! Supply-chain CSV folders in the format of CSET's Emerging Technology Observatory (ETO)
//! supply-chain dataset (`--format eto`).
//!
//! | file | columns read (by name) | becomes |
//! |---|---|---|
//! | `inputs.csv` (required) | `input_id`, `input_name`, `type`, `stage_name`, `stage_id`, `description`, `year` | one item per input; `type` gives the item kind (material, tool -> equipment, process, design resource -> software, ultimate output -> component) |
//! | `providers.csv` (required) | `provider_id`, `provider_name`, `alias`, `provider_type` (`country` or `organization`), `country` (ISO 3166-1 alpha-3) | organisations (headquarters country from `country`); country providers are the country itself |
//! | `provision.csv` (required) | `provider_id`, `provided_id`, `provider_name`, `share_provided` (percent: `61` or `61%`), `year`, `negligible_market_share` (or `negligible_share`), `source` | a link from the input (or stage) to the provider: `supplied-by` (organisation) or `produced-in` (country or region), with the share and year |
//! | `sequence.csv` | `input_id`, `goes_into_id`, `is_type_of_id` | `input-to` and `is-a` links between inputs |
//! | `stages.csv` | `stage_id`, `stage_name` | the stage name of inputs that give only `stage_id` |
//!
//! Older releases order columns differently, write shares with `%`, lack `year` (then
//! `--year` applies), and add `negligible_market_share` (true/1/yes/negligible: the link's
//! notes say so; the share, where one is given, is kept).
//!
//! # The published releases as they are
//! - **Aliases.** A provider listed once per alias (the same `provider_id` on several rows)
//!   is one organisation; every alias, and any other name it is given, joins its `aliases`.
//! - **Whole stages.** `stages.csv` stages become items too (kind process, key
//!   `stage/{stage_id}`), and provision rows whose `provided_id` is a stage (design,
//!   fabrication, ATP market shares by country) give their shares.
//! - **Residual providers** ("Various", "Various countries", "Various companies", "Other",
//!   "Rest of world"; see [`super::is_residual`]) are the *unattributed* rest: a link to `ZZ`,
//!   `produced-in` for a country-type provider, `supplied-by` for a firm-type one ("Various
//!   companies"). It counts in the item's total and is never a country or a single source
//!   (see [`crate::analysis`]).
//! - **Regional aggregates** ("Europe", "EUR", "Asia-Pacific") stay regions: a link to the
//!   region's code (`XE`, `XP`: [`crate::model::country::REGIONS`]), never a country.
//! - **Non-ISO codes** ("MAL" for Malaysia) are read through the alias table
//!   [`super::COUNTRY_CODE_ALIASES`], which `import --country-alias CODE=CC` extends.
//! - A provider missing from `providers.csv` is read from its `provider_name` in
//!   `provision.csv` when that names a country, a region or the rest.
//! - The same target (organisation, country, region or rest) and input twice in a year is
//!   one link, whether listed once per alias or under two provider ids of one country (the
//!   first share is kept; a different second share is noted). Link keys:
//!   `provision/{provider_id}/{provided_id}` for the latest year of the pair in the file,
//!   `provision/{provider_id}/{provided_id}/year/{year}` for earlier ones.
//!
//! The import's notes list every mapping used. Only a row that cannot be read at all (no id,
//! an unknown provider that is no country, an input that is neither an input nor a stage, a
//! share or year that is not one) is a problem row. Stable-id keys: `input/{input_id}`, `provider/{provider_id}`,
//! `provision/{provider_id}/{provided_id}`, `sequence/{input-to|is-a}/{from}/{to}`,
//! `source/dataset`. A newer release therefore updates the same items and links; the older
//! shares stay in the change log as history.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

use serde_json::Map;

use super::{
    Files, Parsed, ReadOptions, RowProblem, SourceError, SourceFormat, Table, is_residual,
    parse_percent, record, resolve_country, share_value, source_record, stable_id,
};
use crate::model::{Kind, country};

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
    // Whole stages (design, fabrication, ATP) are items too: provision rows give their shares.
    for (id, name) in &stage_names {
        if known_inputs.contains(id) {
            continue;
        }
        let mut item = record(Kind::Item, stable_id(FORMAT, &format!("stage/{id}")));
        item.insert("name".into(), json!(name));
        item.insert("item_kind".into(), json!("process"));
        item.insert("stage".into(), json!(name));
        item.insert(
            "description".into(),
            json!(format!(
                "The whole {name} stage of the supply chain (ETO stage {id})."
            )),
        );
        item.insert("source_ids".into(), cites.clone());
        out.push(format!("stages.csv {id}"), item);
    }
    let mut mapped = BTreeSet::new();
    let providers = read_providers(&providers, options, &cites, &mut mapped, &mut out)?;
    let provided = Provided {
        inputs: &known_inputs,
        stages: &stage_names,
    };
    read_provision(
        &provision,
        &provided,
        &providers,
        options,
        &cites,
        &mut mapped,
        &mut out,
    )?;
    if let Some(sequence) = sequence {
        read_sequence(&sequence, &known_inputs, &mut out)?;
    }
    for m in mapped {
        out.notes.push(format!("mapped: {m}"));
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
#[derive(Debug, Clone, PartialEq, Eq)]
enum Provider {
    /// A country (alpha-2).
    Country(String),
    /// An organisation (its record id).
    Organisation(String),
    /// A regional aggregate (its region code, see [`country::REGIONS`]).
    Region(String),
    /// The unattributed rest: of the country rows, or (`firm`) of the firm rows.
    Rest { firm: bool },
}

/// What a provider's name or code says it is, when it is not an organisation.
fn place_provider(
    name: &str,
    code: &str,
    firm_type: bool,
    options: &ReadOptions<'_>,
    mapped: &mut BTreeSet<String>,
) -> Option<Provider> {
    if is_residual(name) {
        let lower = name.to_lowercase();
        let firm = firm_type || lower.contains("compan") || lower.contains("firm");
        return Some(Provider::Rest { firm });
    }
    if firm_type {
        return None;
    }
    for text in [code, name] {
        if text.is_empty() {
            continue;
        }
        if let Some(r) = country::region_named(text) {
            mapped.insert(format!(
                "{text} is a regional aggregate: kept as the region {} ({}), never a country",
                r.code, r.name
            ));
            return Some(Provider::Region(r.code.to_owned()));
        }
        if let Some((code, via)) = resolve_country(text, options) {
            if let Some(via) = via {
                mapped.insert(via);
            }
            return Some(Provider::Country(code));
        }
    }
    None
}

/// Organisations being read: (record, origin), by provider id.
type Organisations = BTreeMap<String, (Map<String, Value>, String)>;

#[allow(clippy::too_many_lines)]
fn read_providers(
    table: &Table,
    options: &ReadOptions<'_>,
    cites: &Value,
    mapped: &mut BTreeSet<String>,
    out: &mut Parsed,
) -> Result<BTreeMap<String, Provider>, SourceError> {
    let id_col = table.require("provider_id")?;
    let name_col = table.require("provider_name")?;
    let type_col = table.require("provider_type")?;
    let country_col = table.column("country");
    let alias_col = table.column("alias");
    let mut providers = BTreeMap::new();
    let mut organisations: Organisations = BTreeMap::new();
    let mut merged_aliases = 0usize;
    for (line, row) in table.rows() {
        out.rows += 1;
        let id = row.get(Some(id_col));
        let name = row.get(Some(name_col));
        if id.is_empty() || name.is_empty() {
            problem(out, table, line, "no provider_id or provider_name".into());
            continue;
        }
        let aliases: Vec<String> = row
            .get(alias_col)
            .split([';', '|'])
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        // The same provider once per alias: the aliases (and any other name) join the first.
        if let Some(known) = providers.get(id) {
            if let (Provider::Organisation(_), Some((org, _))) = (known, organisations.get_mut(id))
            {
                let first = org
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let list = org
                    .entry("aliases")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = list {
                    for alias in aliases.iter().map(String::as_str).chain([name]) {
                        if alias != first && !list.iter().any(|v| v.as_str() == Some(alias)) {
                            list.push(json!(alias));
                        }
                    }
                }
                merged_aliases += 1;
            }
            continue;
        }
        let kind = row.get(Some(type_col)).to_lowercase();
        let firm_type = matches!(
            kind.as_str(),
            "organization" | "organisation" | "company" | "firm"
        );
        if !firm_type && kind != "country" && !is_residual(name) {
            problem(
                out,
                table,
                line,
                format!("provider_type {kind:?}: expected country or organization"),
            );
            continue;
        }
        let country_text = row.get(country_col);
        if let Some(place) = place_provider(name, country_text, firm_type, options, mapped) {
            providers.insert(id.to_owned(), place);
            continue;
        }
        if !firm_type {
            problem(
                out,
                table,
                line,
                format!(
                    "country provider {name:?} is not an ISO 3166 code, a country name, a region or a code of the alias table (add one with --country-alias {name}=CC)"
                ),
            );
            continue;
        }
        // An organisation; its country is its headquarters.
        let hq = if country_text.is_empty() {
            None
        } else if let Some((code, via)) = resolve_country(country_text, options) {
            if let Some(via) = via {
                mapped.insert(via);
            }
            Some(code)
        } else {
            // The firm is kept; only its country is unknown (its shares are then
            // unattributed in country concentration).
            out.notes.push(format!(
                "{} line {line}: country {country_text:?} of {name} is not an ISO 3166 code or country name; {name} is imported without a country (add --country-alias {country_text}=CC)",
                table.file
            ));
            None
        };
        let org_id = stable_id(FORMAT, &format!("provider/{id}"));
        let mut org = record(Kind::Organisation, org_id);
        org.insert("name".into(), json!(name));
        org.insert("organisation_kind".into(), json!("supplier"));
        let own: Vec<&String> = aliases.iter().filter(|a| *a != name).collect();
        org.insert("aliases".into(), json!(own));
        org.insert("hq_country".into(), json!(hq));
        org.insert("source_ids".into(), cites.clone());
        organisations.insert(id.to_owned(), (org, format!("{} line {line}", table.file)));
        providers.insert(id.to_owned(), Provider::Organisation(org_id.to_string()));
    }
    if merged_aliases > 0 {
        out.notes.push(format!(
            "{merged_aliases} row(s) of {} repeat a provider_id with another alias: merged into that organisation's aliases",
            table.file
        ));
    }
    let mut by_origin: Vec<(Map<String, Value>, String)> = organisations.into_values().collect();
    by_origin.sort_by(|a, b| a.1.cmp(&b.1));
    for (org, origin) in by_origin {
        out.push(origin, org);
    }
    Ok(providers)
}

fn truthy(text: &str) -> bool {
    matches!(
        text.to_lowercase().as_str(),
        "true" | "1" | "yes" | "y" | "t" | "negligible"
    )
}

/// What a provision row can point at: an input, or a whole stage.
struct Provided<'a> {
    inputs: &'a BTreeSet<String>,
    stages: &'a BTreeMap<String, String>,
}

impl Provided<'_> {
    /// The item key of a provided id.
    fn key(&self, id: &str) -> Option<String> {
        if self.inputs.contains(id) {
            Some(format!("input/{id}"))
        } else if self.stages.contains_key(id) {
            Some(format!("stage/{id}"))
        } else {
            None
        }
    }
}

#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
fn read_provision(
    table: &Table,
    provided: &Provided<'_>,
    providers: &BTreeMap<String, Provider>,
    options: &ReadOptions<'_>,
    cites: &Value,
    mapped: &mut BTreeSet<String>,
    out: &mut Parsed,
) -> Result<(), SourceError> {
    let provider_col = table.require("provider_id")?;
    let input_col = table.require("provided_id")?;
    let provider_name_col = table.column("provider_name");
    let share_col = table.column("share_provided");
    let year_col = table.column("year");
    let negligible_col = table
        .column("negligible_market_share")
        .or_else(|| table.column("negligible_share"));
    let source_col = table.column("source");
    let mut seen: BTreeMap<(String, String, Option<i64>), (String, u64)> = BTreeMap::new();
    // The latest year of each provider and input in this file: it gets the plain key (the
    // one later releases update); other years get keys of their own.
    let year_of = |text: &str| -> Option<i64> {
        match text {
            "" => options.year,
            t => t
                .parse::<f64>()
                .ok()
                .filter(|y| y.fract() == 0.0 && (1900.0..=2200.0).contains(y))
                .map(|y| {
                    #[allow(clippy::cast_possible_truncation)]
                    let y = y as i64;
                    y
                }),
        }
    };
    let mut latest_of: BTreeMap<(String, String), Option<i64>> = BTreeMap::new();
    for (_, row) in table.rows() {
        let pair = (
            row.get(Some(provider_col)).to_owned(),
            row.get(Some(input_col)).to_owned(),
        );
        let year = year_of(row.get(year_col));
        let slot = latest_of.entry(pair).or_insert(year);
        if year > *slot {
            *slot = year;
        }
    }
    let mut repeated = 0usize;
    let mut by_name = 0usize;
    for (line, row) in table.rows() {
        out.rows += 1;
        let provider_id = row.get(Some(provider_col));
        let input_id = row.get(Some(input_col));
        // A provider missing from providers.csv: read from its name where that says what it
        // is (a country, a region, the rest).
        let from_name;
        let who = if let Some(known) = providers.get(provider_id) {
            known
        } else {
            let name = row.get(provider_name_col);
            if let Some(place) = place_provider(name, "", false, options, mapped) {
                by_name += 1;
                from_name = place;
                &from_name
            } else {
                problem(
                    out,
                    table,
                    line,
                    format!(
                        "provider_id {provider_id:?} is not in providers.csv, and its name {name:?} is no country, region or residual"
                    ),
                );
                continue;
            }
        };
        let Some(item_key) = provided.key(input_id) else {
            problem(
                out,
                table,
                line,
                format!("provided_id {input_id:?} is neither in inputs.csv nor in stages.csv"),
            );
            continue;
        };
        let share_text = row.get(share_col);
        let share = match parse_percent(share_text) {
            Ok(share) => share,
            Err(e) => {
                problem(out, table, line, format!("share_provided: {e}"));
                continue;
            }
        };
        let year = match row.get(year_col) {
            "" => options.year,
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
        let (kind, to) = match who {
            Provider::Country(code) | Provider::Region(code) => ("produced-in", code.clone()),
            Provider::Organisation(id) => ("supplied-by", id.clone()),
            Provider::Rest { firm } => (
                if *firm { "supplied-by" } else { "produced-in" },
                country::UNATTRIBUTED.to_owned(),
            ),
        };
        // A provider without an id is keyed by what it stands for.
        let key = if provider_id.is_empty() {
            format!("{kind}/{to}")
        } else {
            provider_id.to_owned()
        };
        // The same target and input again (a provider listed once per alias, or two provider
        // ids for one country): one link, so no share counts twice.
        let seen_key = (format!("{kind}/{to}"), input_id.to_owned(), year);
        if let Some((first_share, first_line)) = seen.get(&seen_key) {
            repeated += 1;
            if first_share != share_text {
                out.notes.push(format!(
                    "{} line {line}: {provider_id} ({to}) provides {input_id} again with share {share_text:?}; line {first_line}'s {first_share:?} is kept",
                    table.file
                ));
            }
            continue;
        }
        seen.insert(seen_key, (share_text.to_owned(), line));
        let mut notes = Vec::new();
        if truthy(row.get(negligible_col)) {
            notes.push("negligible market share".to_owned());
        }
        if share.is_some_and(|s| s.below) {
            notes.push(format!("share reported as {share_text}"));
        }
        if matches!(who, Provider::Rest { .. }) {
            notes.push(format!(
                "unattributed rest ({})",
                row.get(provider_name_col)
            ));
        }
        if !row.get(source_col).is_empty() {
            notes.push(format!("source: {}", row.get(source_col)));
        }
        // One key per provider and input; further years of the same pair in one file get
        // their own (the plain key is the one later releases update).
        let latest = latest_of
            .get(&(provider_id.to_owned(), input_id.to_owned()))
            .copied()
            .flatten();
        let link_key = if year == latest || latest.is_none() {
            format!("provision/{key}/{input_id}")
        } else {
            format!(
                "provision/{key}/{input_id}/year/{}",
                year.unwrap_or_default()
            )
        };
        let mut link = record(Kind::Link, stable_id(FORMAT, &link_key));
        link.insert(
            "from_id".into(),
            json!(stable_id(FORMAT, &item_key).to_string()),
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
    if repeated > 0 {
        out.notes.push(format!(
            "{repeated} row(s) of {} repeat a provider and input already read: one link each",
            table.file
        ));
    }
    if by_name > 0 {
        out.notes.push(format!(
            "{by_name} row(s) of {} name a provider missing from providers.csv: read from its name (a country, region or the unattributed rest)",
            table.file
        ));
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

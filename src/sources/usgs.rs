//! USGS Mineral Commodity Summaries "world" tables (`--format usgs`): one CSV per commodity
//! (`mcs2024-galli_world.csv`), or a folder of them (every `*_world.csv` in it).
//!
//! Columns, by name: `Source` (`MCS2024`), `Country`, `Type` (what is produced, e.g.
//! `Mine production, contained copper`), and two production columns named
//! `Prod_{unit}_[est_]{year}` (units t, kt, kg, ...; the revised 2024 files changed some).
//! Reserves and capacity columns are not read, except in tables that give only capacity
//! (`Cap_{unit}_{year}`, abrasives), where capacity takes the place of production.
//!
//! Each distinct `Type` of a file becomes an item (kind material; stage extraction for mine
//! production, processing for refinery or smelter production) and each country row a
//! `produced-in` link with `share` = the country's production / the `World total` row (or the
//! sum of the rows when there is no total) for the latest year in the file (or `--year`), with
//! both years' figures and the unit in the link's notes. `Other countries` rows count towards
//! the total but get no link. Country names carry USGS footnote letters and digits glued to
//! them (`Japane`, `United States1`, `Other countries4`), qualifiers (`Brazil (beneficiated)`,
//! `Turkey, refined borates`) and non-breaking spaces; names that cannot be mapped to ISO 3166
//! are listed in the import's notes. `W` (withheld) and `NA` are no figure; thousands
//! separators are read; trailing empty columns are ignored.
//!
//! Stable-id keys: `item/{commodity code}/{type words without units}`,
//! `link/{commodity code}/{type words}/{country}`, `source/{release}`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use super::{
    Files, Parsed, ReadOptions, RowProblem, SourceError, SourceFormat, Table, country_code,
    parse_amount, record, share_value, source_record, stable_id,
};
use crate::model::Kind;

const FORMAT: SourceFormat = SourceFormat::Usgs;

/// Commodity names by the five-letter code of the file names.
const COMMODITIES: &[(&str, &str)] = &[
    ("abras", "Abrasives"),
    ("alumi", "Aluminum"),
    ("antim", "Antimony"),
    ("arsen", "Arsenic"),
    ("asbes", "Asbestos"),
    ("barit", "Barite"),
    ("bauxi", "Bauxite and alumina"),
    ("beryl", "Beryllium"),
    ("bismu", "Bismuth"),
    ("boron", "Boron"),
    ("bromi", "Bromine"),
    ("cadmi", "Cadmium"),
    ("cemen", "Cement"),
    ("chrom", "Chromium"),
    ("clays", "Clays"),
    ("cobal", "Cobalt"),
    ("coppe", "Copper"),
    ("diamo", "Diamond (industrial)"),
    ("diato", "Diatomite"),
    ("felds", "Feldspar"),
    ("feore", "Iron ore"),
    ("fepig", "Iron (pig iron)"),
    ("feste", "Iron and steel"),
    ("fluor", "Fluorspar"),
    ("galli", "Gallium"),
    ("garne", "Garnet (industrial)"),
    ("gemst", "Gemstones"),
    ("germa", "Germanium"),
    ("gold", "Gold"),
    ("graph", "Graphite (natural)"),
    ("gypsu", "Gypsum"),
    ("heliu", "Helium"),
    ("indiu", "Indium"),
    ("iodin", "Iodine"),
    ("kyani", "Kyanite"),
    ("lead", "Lead"),
    ("lime", "Lime"),
    ("lithi", "Lithium"),
    ("manga", "Manganese"),
    ("mercu", "Mercury"),
    ("mgcomp", "Magnesium compounds"),
    ("mgmet", "Magnesium metal"),
    ("mica", "Mica"),
    ("molyb", "Molybdenum"),
    ("nicke", "Nickel"),
    ("niobi", "Niobium"),
    ("nitro", "Nitrogen (fixed), ammonia"),
    ("peat", "Peat"),
    ("perli", "Perlite"),
    ("phosp", "Phosphate rock"),
    ("plati", "Platinum-group metals"),
    ("potas", "Potash"),
    ("pumic", "Pumice"),
    ("raree", "Rare earths"),
    ("rheni", "Rhenium"),
    ("salt", "Salt"),
    ("sandi", "Sand and gravel (industrial)"),
    ("selen", "Selenium"),
    ("silve", "Silver"),
    ("simet", "Silicon"),
    ("sodaa", "Soda ash"),
    ("stond", "Stone (dimension)"),
    ("stron", "Strontium"),
    ("sulfu", "Sulfur"),
    ("talc", "Talc and pyrophyllite"),
    ("tanta", "Tantalum"),
    ("tellu", "Tellurium"),
    ("timin", "Titanium mineral concentrates"),
    ("tin", "Tin"),
    ("titan", "Titanium and titanium dioxide"),
    ("tungs", "Tungsten"),
    ("vanad", "Vanadium"),
    ("vermi", "Vermiculite"),
    ("wolla", "Wollastonite"),
    ("zeoli", "Zeolites"),
    ("zinc", "Zinc"),
    ("zirco", "Zirconium and hafnium"),
];

/// Reads one world table or every `*_world.csv` of a folder.
pub fn read(path: &Path, options: &ReadOptions<'_>) -> Result<Parsed, SourceError> {
    if path.is_dir() {
        return read_files(&Files::Disk(path.to_owned()), None, options);
    }
    let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(SourceError::Empty(format!(
            "{} is not a file",
            path.display()
        )));
    };
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let name = name.to_string_lossy().into_owned();
    read_files(&Files::Disk(folder.to_owned()), Some(&name), options)
}

/// Reads the world tables of a folder (or memory), or only `only`.
pub fn read_files(
    source: &Files<'_>,
    only: Option<&str>,
    options: &ReadOptions<'_>,
) -> Result<Parsed, SourceError> {
    let files: Vec<String> = if let Some(name) = only {
        vec![name.to_owned()]
    } else {
        let names: Vec<String> = source
            .names()?
            .into_iter()
            .filter(|n| n.to_lowercase().ends_with("_world.csv"))
            .collect();
        if names.is_empty() {
            return Err(SourceError::Empty(format!(
                "{} has no USGS world tables (files named like mcs2024-galli_world.csv)",
                source.describe()
            )));
        }
        names
    };
    let mut out = Parsed {
        dataset: format!(
            "USGS Mineral Commodity Summaries world tables ({} file(s))",
            files.len()
        ),
        ..Parsed::default()
    };
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    let mut unmapped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut withheld = 0usize;
    for file in &files {
        let table = source.table(file, options.progress)?;
        read_table(
            &table,
            options,
            &mut out,
            &mut sources,
            &mut unmapped,
            &mut withheld,
        )?;
    }
    for (name, files) in unmapped {
        out.notes.push(format!(
            "country {name:?} could not be mapped to an ISO 3166 code (in {}): left out",
            files.join(", ")
        ));
    }
    if withheld > 0 {
        out.notes.push(format!(
            "{withheld} figure(s) withheld by USGS (W) to avoid disclosing company data: no share recorded"
        ));
    }
    Ok(out)
}

/// The commodity code of a file name (`mcs2024-zirco-hafni_world.csv` -> `zirco`).
fn commodity_code(file: &str) -> String {
    let lower = file.to_lowercase();
    let stem = lower.strip_suffix("_world.csv").unwrap_or(&lower);
    let after = stem.split_once('-').map_or(stem, |(_, rest)| rest);
    after.split('-').next().unwrap_or(after).to_owned()
}

/// Words of a `Type` without units, for keys.
fn type_key(text: &str) -> String {
    const UNITS: &[&str] = &[
        "metric",
        "tons",
        "ton",
        "tonnes",
        "kilograms",
        "kilogram",
        "thousand",
        "million",
        "carats",
        "cubic",
        "meters",
        "kg",
        "t",
        "kt",
    ];
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !UNITS.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A production column: (index, unit, year, estimated).
#[derive(Debug, Clone)]
struct ProdColumn {
    index: usize,
    unit: String,
    year: i64,
    estimated: bool,
}

fn production_columns(table: &Table, prefix: &str) -> Vec<ProdColumn> {
    table
        .header()
        .iter()
        .enumerate()
        .filter_map(|(index, name)| {
            let lower = name.trim().to_lowercase();
            let parts: Vec<&str> = lower.split('_').collect();
            if parts.len() < 3 || parts[0] != prefix {
                return None;
            }
            let year: i64 = parts.last()?.parse().ok()?;
            let estimated = parts.contains(&"est");
            Some(ProdColumn {
                index,
                unit: parts[1].to_owned(),
                year,
                estimated,
            })
        })
        .collect()
}

/// What a country cell names.
enum Place {
    Country(String),
    Total,
    Other,
    Unmapped(String),
}

fn place(name: &str) -> Place {
    let cleaned = name
        .replace('\u{a0}', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let cleaned = cleaned
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim();
    let lower = cleaned.to_lowercase();
    if lower.starts_with("world total") {
        return Place::Total;
    }
    if lower == "other" || lower.starts_with("other countries") {
        return Place::Other;
    }
    let without_paren = cleaned
        .split_once('(')
        .map_or(cleaned, |(before, _)| before)
        .trim();
    let before_comma = cleaned.split_once(',').map_or(cleaned, |(b, _)| b).trim();
    for candidate in [cleaned, without_paren, before_comma] {
        if let Some(code) = country_code(candidate) {
            return Place::Country(code);
        }
        // A footnote letter glued to the name ("Japane" for an estimate).
        if let Some(stripped) = candidate.strip_suffix('e')
            && let Some(code) = country_code(stripped)
        {
            return Place::Country(code);
        }
    }
    Place::Unmapped(cleaned.to_owned())
}

/// Figures of one `Type` of a file.
#[derive(Default)]
struct Group {
    first_line: u64,
    countries: BTreeMap<String, (f64, Option<f64>, u64)>,
    other: f64,
    total: Option<f64>,
}

#[allow(clippy::too_many_lines)]
fn read_table(
    table: &Table,
    options: &ReadOptions<'_>,
    out: &mut Parsed,
    sources: &mut BTreeMap<String, String>,
    unmapped: &mut BTreeMap<String, Vec<String>>,
    withheld: &mut usize,
) -> Result<(), SourceError> {
    let country_col = table.require("Country")?;
    let type_col = table.column("Type");
    let source_col = table.column("Source");
    // Production; a few tables (abrasives) give only plant capacity.
    let mut columns = production_columns(table, "prod");
    if columns.is_empty() {
        columns = production_columns(table, "cap");
    }
    if columns.is_empty() {
        return Err(SourceError::MissingColumn {
            file: table.file.clone(),
            column: "Prod_{unit}_{year}".into(),
            found: table.header().join(", "),
        });
    }
    columns.sort_by_key(|c| c.year);
    let chosen = match options.year {
        Some(year) => {
            let Some(column) = columns.iter().find(|c| c.year == year) else {
                out.problems.push(RowProblem {
                    file: table.file.clone(),
                    line: 1,
                    message: format!(
                        "no production figures for {year} (the file has {})",
                        columns
                            .iter()
                            .map(|c| c.year.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
                return Ok(());
            };
            column.clone()
        }
        None => columns
            .last()
            .cloned()
            .unwrap_or_else(|| columns[0].clone()),
    };
    let previous = columns.iter().rev().find(|c| c.year < chosen.year).cloned();
    let code = commodity_code(&table.file);
    let commodity = COMMODITIES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.clone(), |(_, name)| (*name).to_owned());

    // The release (MCS2024) names the source record.
    let release = table
        .rows()
        .map(|(_, row)| row.get(source_col).to_uppercase())
        .find(|s| s.starts_with("MCS"))
        .or_else(|| {
            let lower = table.file.to_lowercase();
            lower
                .get(0..7)
                .filter(|p| p.starts_with("mcs"))
                .map(str::to_uppercase)
        })
        .unwrap_or_else(|| "MCS".to_owned());
    let source_id = if let Some(id) = sources.get(&release) {
        id.clone()
    } else {
        let year = release.trim_start_matches("MCS");
        let (id, source) = source_record(
            FORMAT,
            &release.to_lowercase(),
            json!({
                "title": format!("Mineral Commodity Summaries {year} (data release, world tables)"),
                "publisher": "U.S. Geological Survey, National Minerals Information Center",
                "citation": match year {
                    "2023" => "https://doi.org/10.5066/P9WCYUI6",
                    "2024" => "https://doi.org/10.5066/P144BA54",
                    _ => "https://www.usgs.gov/centers/national-minerals-information-center/mineral-commodity-summaries",
                },
                "reliability": "A",
            }),
        );
        out.push("the release".into(), source);
        sources.insert(release.clone(), id.to_string());
        id.to_string()
    };
    let cites = json!([source_id]);

    let mut groups: BTreeMap<String, (String, Group)> = BTreeMap::new();
    for (line, row) in table.rows() {
        out.rows += 1;
        let name = row.get(Some(country_col));
        if name.is_empty() {
            continue;
        }
        let type_text = match row.get(type_col) {
            "" => commodity.as_str(),
            t => t,
        };
        let value = match parse_amount(row.get(Some(chosen.index))) {
            Ok(v) => v,
            Err(e) => {
                out.problems.push(RowProblem {
                    file: table.file.clone(),
                    line,
                    message: format!("{}: {e}", table.header()[chosen.index]),
                });
                continue;
            }
        };
        if row.get(Some(chosen.index)).eq_ignore_ascii_case("w") {
            *withheld += 1;
        }
        let before = previous
            .as_ref()
            .and_then(|p| parse_amount(row.get(Some(p.index))).ok().flatten());
        let key = type_key(type_text);
        let group = &mut groups
            .entry(key)
            .or_insert_with(|| {
                (
                    type_text.to_owned(),
                    Group {
                        first_line: line,
                        ..Group::default()
                    },
                )
            })
            .1;
        match place(name) {
            Place::Total => {
                if group.total.is_none() {
                    group.total = value;
                }
            }
            Place::Other => group.other += value.unwrap_or(0.0),
            Place::Unmapped(name) => {
                if let Some(v) = value {
                    group.other += v;
                }
                let files = unmapped.entry(name).or_default();
                if !files.contains(&table.file) {
                    files.push(table.file.clone());
                }
            }
            Place::Country(code) => {
                let entry = group.countries.entry(code).or_insert((0.0, None, line));
                entry.0 += value.unwrap_or(0.0);
                if let Some(b) = before {
                    entry.1 = Some(entry.1.unwrap_or(0.0) + b);
                }
            }
        }
    }

    let unit = &chosen.unit;
    let fmt = |v: f64| format_amount(v);
    for (key, (type_text, group)) in groups {
        let sum: f64 = group.countries.values().fold(group.other, |a, v| a + v.0);
        // The world total, unless the rows add up to clearly more (a total of one part only).
        let denominator = match group.total {
            Some(total) if total > 0.0 && total >= sum * 0.95 => total,
            _ => sum,
        };
        let lower = type_text.to_lowercase();
        let stage = if lower.contains("mine") || lower.contains("extract") {
            "extraction"
        } else if lower.contains("refin") || lower.contains("smelt") || lower.contains("processing")
        {
            "processing"
        } else {
            "production"
        };
        let name = if lower.starts_with(&commodity.to_lowercase()) {
            type_text.clone()
        } else {
            format!("{commodity}: {type_text}")
        };
        let item_id = stable_id(FORMAT, &format!("item/{code}/{key}"));
        let mut item = record(Kind::Item, item_id);
        item.insert("name".into(), json!(name));
        item.insert("item_kind".into(), json!("material"));
        item.insert("stage".into(), json!(stage));
        item.insert(
            "description".into(),
            json!(format!(
                "Production by country from the USGS Mineral Commodity Summaries ({release}, {}); unit {unit}; world total {} in {}{}.",
                table.file,
                group.total.map_or_else(|| "not given".to_owned(), fmt),
                chosen.year,
                if chosen.estimated { " (estimated)" } else { "" },
            )),
        );
        item.insert("source_ids".into(), cites.clone());
        out.push(format!("{} line {}", table.file, group.first_line), item);
        for (country, (value, before, line)) in group.countries {
            if value <= 0.0 {
                continue;
            }
            let share = (denominator > 0.0).then(|| (value / denominator).min(1.0));
            let mut notes = format!(
                "USGS {release}: {} {unit} in {}{}",
                fmt(value),
                chosen.year,
                if chosen.estimated { " (estimated)" } else { "" }
            );
            if let (Some(b), Some(p)) = (before, &previous) {
                let _ = write!(notes, "; {} {unit} in {}", fmt(b), p.year);
            }
            let mut link = record(
                Kind::Link,
                stable_id(FORMAT, &format!("link/{code}/{key}/{country}")),
            );
            link.insert("from_id".into(), json!(item_id.to_string()));
            link.insert("to_id".into(), json!(country));
            link.insert("link_kind".into(), json!("produced-in"));
            link.insert("share".into(), share.map_or(Value::Null, share_value));
            link.insert("year".into(), json!(chosen.year));
            link.insert("notes".into(), json!(notes));
            link.insert("source_ids".into(), cites.clone());
            out.push(format!("{} line {line}", table.file), link);
        }
    }
    Ok(())
}

/// `1234567.0` -> `1,234,567`; fractions kept to three digits.
fn format_amount(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    #[allow(clippy::cast_possible_truncation)]
    let whole = rounded.trunc() as i64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let fraction = rounded - rounded.trunc();
    if fraction.abs() > 0.0 {
        let text = format!("{fraction:.3}");
        grouped.push_str(text.trim_start_matches('0').trim_end_matches('0'));
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_and_amounts() {
        assert_eq!(commodity_code("mcs2024-zirco-hafni_world.csv"), "zirco");
        assert_eq!(commodity_code("MCS2024-bismu_world.csv"), "bismu");
        for (name, code) in [
            ("Japane", "JP"),
            ("United\u{a0}States1", "US"),
            ("Korea, Republic ofe", "KR"),
            ("Greece", "GR"),
            ("Greecee", "GR"),
            ("Brazil (beneficiated)", "BR"),
            ("Turkey, refined borates", "TR"),
            ("Congo (Kinshasa)", "CD"),
            ("Burma", "MM"),
            ("New Caledonia11", "NC"),
        ] {
            assert!(
                matches!(place(name), Place::Country(c) if c == code),
                "{name}"
            );
        }
        assert!(matches!(place("Other countries4"), Place::Other));
        assert!(matches!(place("World total (rounded)"), Place::Total));
        assert!(matches!(
            place("United\u{a0}States and Canada"),
            Place::Unmapped(_)
        ));
        assert_eq!(format_amount(1_234_567.0), "1,234,567");
        assert_eq!(format_amount(0.5), "0.5");
        assert_eq!(type_key("Mine production, metric tons"), "mine production");
    }
}

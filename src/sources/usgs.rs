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
//! production, processing for refinery, smelter or plant production) and each country row a
//! `produced-in` link with `share` = the country's production / the `World total` row (or the
//! sum of the rows when there is no total) for the latest year in the file (or `--year`), with
//! both years' figures and the unit in the link's notes. `Other countries` rows count towards
//! the total as the unattributed rest (below). Country names carry USGS footnote letters and digits glued to
//! them (`Japane`, `United States1`, `Other countries4`), qualifiers (`Brazil (beneficiated)`,
//! `Turkey, refined borates`) and non-breaking spaces; names that cannot be mapped to ISO 3166
//! are listed in the import's notes. `W` (withheld) and `NA` are no figure; thousands
//! separators are read; trailing empty columns are ignored.
//!
//! A table whose countries report forms that cannot be added up (several types with no total
//! of their own and no world total figure, boron) gives one item with links **without
//! shares**, the quantity, unit and form in their notes. `Other countries` (and names that
//! cannot be mapped) are the unattributed rest: a `produced-in` link to `ZZ` with its share.
//!
//! Stable-id keys: the only item of a stage in a table is `item/{commodity code}/{stage}`, or
//! the CRM study's item of that material and stage for a commodity of [`MATERIALS`]; an item
//! of a stage with several types is `item/{commodity code}/{type words without units}`
//! ([`TYPE_ALIASES`] maps renamed types); forms that are not comparable are
//! `item/{commodity code}/not-comparable`. Links are
//! `link/{commodity code}/{stage or type words}/{country or ZZ}/{data year}` (not comparable:
//! `link/{commodity code}/not-comparable/{type words}/{country}/{data year}`), so two releases
//! keep their data years side by side; `source/{release}`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use super::{
    Files, Parsed, ReadOptions, RowProblem, SourceError, SourceFormat, Table, country_code,
    parse_amount, record, share_value, source_record, stable_id,
};
use crate::model::{Kind, country};

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
    // Two releases of one table in a folder describe the same items (and, for a year both
    // give, the same figures): the later file (by name: mcs2023 before mcs2024) wins.
    let mut last: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in out.records.iter().enumerate() {
        if let Some(id) = r.get("id").and_then(Value::as_str) {
            last.insert(id.to_owned(), i);
        }
    }
    if last.len() < out.records.len() {
        let keep: std::collections::BTreeSet<usize> = last.into_values().collect();
        let records = std::mem::take(&mut out.records);
        let origins = std::mem::take(&mut out.origins);
        for (i, (r, o)) in records.into_iter().zip(origins).enumerate() {
            if keep.contains(&i) {
                out.records.push(r);
                out.origins.push(o);
            }
        }
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
    /// Misspellings of the releases, read as the word meant.
    const TYPOS: &[(&str, &str)] = &[
        ("eqivalent", "equivalent"),
        ("mne", "mine"),
        ("grosss", "gross"),
        ("puice", "pumice"),
    ];
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !UNITS.contains(w))
        .map(|w| {
            TYPOS
                .iter()
                .find(|(t, _)| *t == w)
                .map_or(w, |(_, right)| right)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Types that a later release words differently, where a table has several types of one
/// stage (so they cannot be keyed by the stage): (commodity code, the type's words as
/// [`type_key`] gives them, the words of the same type in the other release). Edit this
/// table to match more.
pub const TYPE_ALIASES: &[(&str, &str, &str)] = &[
    (
        "timin",
        "mine production ilmenite titanium dioxide tio2 content",
        "mine production ilmenite",
    ),
    (
        "timin",
        "mine production rutile titanium dioxide tio2 content",
        "mine production rutile",
    ),
    (
        "simet",
        "plant production silicon content of ferrosilicon production",
        "plant production silicon content of ferrosilicon",
    ),
];

/// USGS commodities that are materials of the EU CRM study: (commodity code, the study's
/// material name, the study's stage for a table's plain "production": `E` extraction or `P`
/// processing). The only item of a stage of such a table is the study's item of that material
/// and stage (`Gallium (processing)`), so both sources' figures sit side by side on one item;
/// mine production is `E`, refinery, smelter and plant production `P`. `import --material`
/// adds matches; `observatory merge` joins two records already imported (later imports
/// follow the merge).
pub const MATERIALS: &[(&str, &str, char)] = &[
    ("alumi", "Aluminium", 'P'),
    ("antim", "Antimony", 'E'),
    ("arsen", "Arsenic", 'P'),
    ("barit", "Baryte", 'E'),
    ("beryl", "Beryllium", 'E'),
    ("bismu", "Bismuth", 'P'),
    ("boron", "Boron", 'E'),
    ("cadmi", "Cadmium", 'P'),
    ("chrom", "Chromium", 'E'),
    ("cobal", "Cobalt", 'E'),
    ("coppe", "Copper", 'E'),
    ("diato", "Diatomite", 'E'),
    ("felds", "Feldspar", 'E'),
    ("feore", "Iron ore", 'E'),
    ("fluor", "Fluorspar", 'E'),
    ("galli", "Gallium", 'P'),
    ("germa", "Germanium", 'P'),
    ("gold", "Gold", 'E'),
    ("graph", "Natural graphite", 'E'),
    ("gypsu", "Gypsum", 'E'),
    ("heliu", "Helium", 'P'),
    ("indiu", "Indium", 'P'),
    ("lead", "Lead", 'E'),
    ("lithi", "Lithium", 'E'),
    ("manga", "Manganese", 'E'),
    ("mgmet", "Magnesium", 'P'),
    ("molyb", "Molybdenum", 'E'),
    ("nicke", "Nickel", 'E'),
    ("niobi", "Niobium", 'E'),
    ("mgcomp", "Magnesite", 'E'),
    ("perli", "Perlite", 'E'),
    ("phosp", "Phosphate rock", 'E'),
    ("potas", "Potash", 'E'),
    ("rheni", "Rhenium", 'P'),
    ("selen", "Selenium", 'P'),
    ("silve", "Silver", 'E'),
    ("stron", "Strontium", 'E'),
    ("talc", "Talc", 'E'),
    ("tanta", "Tantalum", 'E'),
    ("tellu", "Tellurium", 'P'),
    ("tin", "Tin", 'E'),
    ("tungs", "Tungsten", 'E'),
    ("vanad", "Vanadium", 'E'),
    ("zinc", "Zinc", 'E'),
];

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
    /// A `World total` row was there (with or without a figure).
    has_total_row: bool,
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
                group.has_total_row = true;
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
    let year_note = format!(
        "{}{}",
        chosen.year,
        if chosen.estimated { " (estimated)" } else { "" }
    );
    // A total row worded unlike its rows ("World mine production: Palladium" for "Mine
    // production: Palladium"): the total of the group whose words it has, less "world",
    // "total" and "rounded".
    let bare = |key: &str| {
        key.split(' ')
            .filter(|w| !matches!(*w, "world" | "total" | "rounded"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let orphans: Vec<(String, Option<f64>)> = groups
        .iter()
        .filter(|(_, (_, g))| g.countries.is_empty() && g.has_total_row)
        .map(|(k, (_, g))| (k.clone(), g.total))
        .collect();
    for (orphan, total) in orphans {
        let target = groups
            .iter()
            .find(|(k, (_, g))| {
                !g.countries.is_empty() && !g.has_total_row && bare(k) == bare(&orphan)
            })
            .map(|(k, _)| k.clone());
        if let Some(target) = target {
            if let Some((_, g)) = groups.get_mut(&target) {
                g.total = total;
                g.has_total_row = true;
            }
            groups.remove(&orphan);
        }
    }
    // A total row whose Type matches no country row ("boron total all types", "XX") is the
    // table's own total; its figure may be missing ("XX": not applicable).
    let table_totals: Vec<Option<f64>> = groups
        .values()
        .filter(|(_, g)| g.countries.is_empty() && g.has_total_row)
        .map(|(_, g)| g.total)
        .collect();
    let table_total = match table_totals.as_slice() {
        [Some(total)] if *total > 0.0 => Some(*total),
        _ => None,
    };
    let anchored = |g: &Group| g.total.is_some_and(|t| t > 0.0);
    let unanchored = groups
        .values()
        .filter(|(_, g)| !g.countries.is_empty() && !anchored(g))
        .count();
    // Several forms with no total of their own and none for the table: the countries report
    // what they produce in forms that cannot be added up (boron: crude ore, ulexite, refined
    // borates, boric oxide equivalent). No shares: one item with the quantities.
    let not_comparable = unanchored >= 2 && table_total.is_none();
    // The user's own matches (`import --material`) first, then the built-in table.
    let own: Option<(&str, &str, char)> = options
        .materials
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(c, m, st)| (c.as_str(), m.as_str(), *st));
    let built_in = MATERIALS.iter().find(|(c, _, _)| *c == code).copied();
    let matched = own.or(built_in);
    let mapping = matched.as_ref();
    let mut per_stage: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (type_text, g) in groups.values() {
        if g.countries.is_empty() || (not_comparable && !anchored(g)) {
            continue;
        }
        *per_stage
            .entry(resolved_stage(stage_of(type_text), mapping))
            .or_default() += 1;
    }
    if not_comparable {
        *per_stage
            .entry(resolved_stage("production", mapping))
            .or_default() += 1;
    }
    let mut forms: Vec<Form> = Vec::new();
    for (key, (type_text, group)) in groups {
        if group.countries.is_empty() {
            continue;
        }
        if not_comparable && !anchored(&group) {
            forms.push((key, type_text, group.countries, group.first_line));
            continue;
        }
        let sum: f64 = group.countries.values().fold(group.other, |a, v| a + v.0);
        // The world total, unless the rows add up to clearly more (a total of one part only).
        let denominator = match group.total.or(table_total) {
            Some(total) if total > 0.0 && total >= sum * 0.95 => total,
            _ => sum,
        };
        let stage = stage_of(&type_text);
        let unique = per_stage.get(resolved_stage(stage, mapping)) == Some(&1);
        let (item_id, part, name, crm_stage) = item_identity(
            &code,
            &commodity,
            mapping,
            unique.then_some(stage),
            &key,
            &type_text,
        );
        let mut item = record(Kind::Item, item_id);
        item.insert("name".into(), json!(name));
        item.insert("item_kind".into(), json!("material"));
        item.insert("stage".into(), json!(crm_stage.unwrap_or(stage)));
        if crm_stage.is_none() {
            item.insert(
                "description".into(),
                json!(format!(
                    "Production by country from the USGS Mineral Commodity Summaries ({release}, {}); {type_text}; unit {unit}; world total {} in {year_note}.",
                    table.file,
                    group.total.or(table_total).map_or_else(|| "not given".to_owned(), fmt),
                )),
            );
            item.insert("source_ids".into(), cites.clone());
        }
        out.push(format!("{} line {}", table.file, group.first_line), item);
        for (country, (value, before, line)) in group.countries {
            if value <= 0.0 {
                continue;
            }
            let share = (denominator > 0.0).then(|| (value / denominator).min(1.0));
            let mut notes = format!(
                "USGS {release}: {} {unit} in {year_note}; {type_text}",
                fmt(value)
            );
            if let (Some(b), Some(p)) = (before, &previous) {
                let _ = write!(notes, "; {} {unit} in {}", fmt(b), p.year);
            }
            let mut link = record(
                Kind::Link,
                stable_id(
                    FORMAT,
                    &format!("link/{code}/{part}/{country}/{}", chosen.year),
                ),
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
        // "Other countries" (and names that could not be mapped): the unattributed rest.
        if group.other > 0.0 && denominator > 0.0 {
            let mut link = record(
                Kind::Link,
                stable_id(
                    FORMAT,
                    &format!(
                        "link/{code}/{part}/{}/{}",
                        country::UNATTRIBUTED,
                        chosen.year
                    ),
                ),
            );
            link.insert("from_id".into(), json!(item_id.to_string()));
            link.insert("to_id".into(), json!(country::UNATTRIBUTED));
            link.insert("link_kind".into(), json!("produced-in"));
            link.insert(
                "share".into(),
                share_value((group.other / denominator).min(1.0)),
            );
            link.insert("year".into(), json!(chosen.year));
            link.insert(
                "notes".into(),
                json!(format!(
                    "USGS {release}: {} {unit} in {year_note} from other countries (or names that could not be mapped): the unattributed rest; {type_text}",
                    fmt(group.other)
                )),
            );
            link.insert("source_ids".into(), cites.clone());
            out.push(format!("{} line {}", table.file, group.first_line), link);
        }
    }
    if !forms.is_empty() {
        let unique = per_stage.get(resolved_stage("production", mapping)) == Some(&1);
        let (item_id, _, name, crm_stage) = item_identity(
            &code,
            &commodity,
            mapping,
            unique.then_some("production"),
            "not comparable",
            "forms not comparable",
        );
        let form_list: Vec<&str> = forms.iter().map(|(_, t, _, _)| t.as_str()).collect();
        let first_line = forms.iter().map(|f| f.3).min().unwrap_or(1);
        let mut item = record(Kind::Item, item_id);
        item.insert("name".into(), json!(name));
        item.insert("item_kind".into(), json!("material"));
        item.insert("stage".into(), json!(crm_stage.unwrap_or("production")));
        if crm_stage.is_none() {
            item.insert(
                "description".into(),
                json!(format!(
                    "Production by country from the USGS Mineral Commodity Summaries ({release}, {}), in forms that are not comparable ({}) and with no world total: quantities only, no shares.",
                    table.file,
                    form_list.join("; ")
                )),
            );
            item.insert("source_ids".into(), cites.clone());
        }
        out.push(format!("{} line {first_line}", table.file), item);
        out.notes.push(format!(
            "{}: {commodity} is reported in forms that are not comparable ({}) with no world total: quantities kept, no shares, no concentration",
            table.file,
            form_list.join("; ")
        ));
        for (form, type_text, countries, _) in forms {
            for (country, (value, _, line)) in countries {
                if value <= 0.0 {
                    continue;
                }
                let mut link = record(
                    Kind::Link,
                    stable_id(
                        FORMAT,
                        &format!(
                            "link/{code}/not-comparable/{form}/{country}/{}",
                            chosen.year
                        ),
                    ),
                );
                link.insert("from_id".into(), json!(item_id.to_string()));
                link.insert("to_id".into(), json!(country));
                link.insert("link_kind".into(), json!("produced-in"));
                link.insert("share".into(), Value::Null);
                link.insert("year".into(), json!(chosen.year));
                link.insert(
                    "notes".into(),
                    json!(format!(
                        "USGS {release}: {} {unit} of {type_text} in {year_note}; not comparable with the other countries' forms (no world total): no share",
                        fmt(value)
                    )),
                );
                link.insert("source_ids".into(), cites.clone());
                out.push(format!("{} line {line}", table.file), link);
            }
        }
    }
    Ok(())
}

/// A stage as the CRM study's stages count it, for a commodity of [`MATERIALS`] (plain
/// "production" is the study stage the table gives); other commodities keep theirs.
fn resolved_stage(stage: &'static str, mapping: Option<&(&str, &str, char)>) -> &'static str {
    match (stage, mapping) {
        ("production", Some((_, _, 'E'))) => "extraction",
        ("production", Some(_)) => "processing",
        _ => stage,
    }
}

/// The stage a `Type` describes.
fn stage_of(type_text: &str) -> &'static str {
    let lower = type_text.to_lowercase();
    if lower.contains("mine") || lower.contains("mne ") || lower.contains("extract") {
        "extraction"
    } else if ["refin", "smelt", "processing", "plant"]
        .iter()
        .any(|w| lower.contains(w))
    {
        "processing"
    } else {
        "production"
    }
}

/// The id, key part and name of an item. The only item of its stage in a table is keyed by
/// the stage (so a later release that words the type differently updates it), and, for a
/// commodity of [`MATERIALS`], is the CRM study's item of that material and stage; otherwise
/// by the type's words.
fn item_identity(
    code: &str,
    commodity: &str,
    mapping: Option<&(&str, &str, char)>,
    unique_stage: Option<&str>,
    key: &str,
    type_text: &str,
) -> (uuid::Uuid, String, String, Option<&'static str>) {
    if let Some(stage) = unique_stage {
        if let Some((_, material, production)) = mapping {
            let crm_stage = match stage {
                "extraction" => 'E',
                "processing" => 'P',
                _ => *production,
            };
            let id = super::crm::stage_id(material, crm_stage);
            let stage_name = if crm_stage == 'E' {
                "extraction"
            } else {
                "processing"
            };
            return (
                id,
                stage.to_owned(),
                format!("{material} ({stage_name})"),
                Some(stage_name),
            );
        }
        let name = if stage == "production" && type_text == "forms not comparable" {
            format!("{commodity}: production (forms not comparable)")
        } else if type_text
            .to_lowercase()
            .starts_with(&commodity.to_lowercase())
        {
            type_text.to_owned()
        } else {
            format!("{commodity}: {type_text}")
        };
        let part = if type_text == "forms not comparable" {
            "not-comparable".to_owned()
        } else {
            stage.to_owned()
        };
        return (
            stable_id(FORMAT, &format!("item/{code}/{part}")),
            part,
            name,
            None,
        );
    }
    let key = type_key(key);
    let key = TYPE_ALIASES
        .iter()
        .find(|(c, words, _)| *c == code && *words == key)
        .map_or(key, |(_, _, same)| (*same).to_owned());
    let name = if type_text
        .to_lowercase()
        .starts_with(&commodity.to_lowercase())
    {
        type_text.to_owned()
    } else {
        format!("{commodity}: {type_text}")
    };
    (
        stable_id(FORMAT, &format!("item/{code}/{key}")),
        key,
        name,
        None,
    )
}

/// One form of a table that is not comparable: (type key, type text, country figures, line).
type Form = (
    String,
    String,
    BTreeMap<String, (f64, Option<f64>, u64)>,
    u64,
);

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

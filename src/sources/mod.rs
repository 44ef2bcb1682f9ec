//! Readers for the public datasets experts start from (`observatory import FILE SOURCE
//! --format eto|crm|usgs`). Each reader turns files into records of the register (the same
//! maps as the JSON record document, see [`crate::service`]) plus, for every row it could not
//! use, a problem with its file and line. Readers are pure: they never touch a store, so the
//! GUI runs them on a background thread and the CLI and GUI share them.
//!
//! # Common rules
//! - Files are read whole (at most [`MAX_FILE_BYTES`] each). A UTF-8 byte-order mark is
//!   dropped; text that is not valid UTF-8 is read as Windows-1252 (the EU CRM tables). CRLF
//!   and LF line ends are both accepted; quoted fields may span lines.
//! - Columns are found by header name (case, spaces and a BOM ignored), never by position,
//!   so releases that order columns differently read the same. A missing required column is an
//!   error for the whole file.
//! - Percentages are read as `61%`, `61` (where the column is in percent), `0.5%`,
//!   `<0.1%` (read as half the bound, 0.05 %) and `>0%` (read as the bound); a bound is
//!   quoted in the link's notes.
//! - Every record gets a stable id: a UUID version 8 whose 16 bytes are the first 16 bytes of
//!   `SHA-256("observatory/source/" + format + "/" + key)` with the version and variant bits
//!   set, where the key is built from the dataset's own identifiers (documented per format).
//!   Importing a newer release of a dataset therefore updates the same records; the change log
//!   keeps the older values (with their `year`) as history.
//! - Everything imported is UNCLASSIFIED public data and cites a `source` record describing
//!   the dataset; an import never lowers a classification an expert has raised since.
//!
//! The formats: [`eto`] (CSET Emerging Technology Observatory supply-chain CSV folders),
//! [`crm`] (tables of the EU critical raw materials study 2023), [`usgs`] (USGS Mineral
//! Commodity Summaries "world" tables).

pub mod crm;
pub mod eto;
pub mod usgs;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::model::{Kind, country};

/// Largest single file a reader accepts (bytes).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The dataset formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    /// CSET Emerging Technology Observatory supply-chain dataset (a folder of CSV files).
    Eto,
    /// EU critical raw materials study 2023 tables (a folder).
    Crm,
    /// USGS Mineral Commodity Summaries world tables (a CSV file or a folder of them).
    Usgs,
}

impl SourceFormat {
    /// Every format.
    pub const ALL: [SourceFormat; 3] = [SourceFormat::Eto, SourceFormat::Crm, SourceFormat::Usgs];

    /// The name on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Eto => "eto",
            SourceFormat::Crm => "crm",
            SourceFormat::Usgs => "usgs",
        }
    }

    /// What it is, for people.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            SourceFormat::Eto => "ETO supply-chain dataset (folder of CSV files)",
            SourceFormat::Crm => "EU critical raw materials 2023 tables (folder)",
            SourceFormat::Usgs => "USGS Mineral Commodity Summaries world tables (file or folder)",
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to read a dataset.
#[derive(Debug, Default)]
pub struct ReadOptions<'a> {
    /// The year the figures refer to, where the files do not say (ETO), or the year to take
    /// (USGS; default the latest), or the study year (CRM; default 2023).
    pub year: Option<i64>,
    /// Counts bytes read, for a progress bar (compare with [`input_size`]).
    pub progress: Option<&'a AtomicUsize>,
    /// Country codes or names of the user's own, beside [`COUNTRY_CODE_ALIASES`]: (as the
    /// dataset writes it, ISO 3166 alpha-2 code). They are looked up first.
    pub country_aliases: Vec<(String, String)>,
    /// USGS commodities matched to a material of the CRM study, beside
    /// [`usgs::MATERIALS`]: (commodity code, the study's material name, `E` or `P` for a
    /// table's plain "production"). They are looked up first.
    pub materials: Vec<(String, String, char)>,
}

/// Non-ISO country codes that datasets use (IOC-style and others), read as ISO 3166 alpha-2.
/// Only codes that name one country without doubt are here; the user adds more with
/// `import --country-alias CODE=CC`. Every use is listed in the import's notes.
pub const COUNTRY_CODE_ALIASES: &[(&str, &str)] = &[
    ("MAL", "MY"),
    ("GER", "DE"),
    ("NED", "NL"),
    ("SUI", "CH"),
    ("DEN", "DK"),
    ("POR", "PT"),
    ("GRE", "GR"),
    ("CRO", "HR"),
    ("BUL", "BG"),
    ("SLO", "SI"),
    ("LAT", "LV"),
    ("UAE", "AE"),
    ("KSA", "SA"),
    ("RSA", "ZA"),
    ("INA", "ID"),
    ("PHI", "PH"),
    ("VIE", "VN"),
    ("TPE", "TW"),
];

/// A country as a dataset names it, read through the user's aliases, the ISO names and codes,
/// then [`COUNTRY_CODE_ALIASES`]: its alpha-2 code, and how it was mapped when it was not an
/// ISO code or name (for the import's notes).
#[must_use]
pub fn resolve_country(text: &str, options: &ReadOptions<'_>) -> Option<(String, Option<String>)> {
    let t = text.trim();
    if let Some((_, code)) = options
        .country_aliases
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(t))
    {
        let code = country::normalise(code)?;
        let via = format!("{t} read as {code} (your country alias)");
        return Some((code, Some(via)));
    }
    if let Some(code) = country_code(t) {
        return Some((code, None));
    }
    let upper = t.to_uppercase();
    COUNTRY_CODE_ALIASES
        .iter()
        .find(|(alias, _)| *alias == upper)
        .and_then(|(_, code)| {
            let c = country::by_code(code)?;
            Some((
                c.code.clone(),
                Some(format!(
                    "{t} read as {} ({}): built-in alias table",
                    c.code, c.name
                )),
            ))
        })
}

/// Providers that stand for the rest of a supply rather than for anyone ("Various",
/// "Various countries", "Other"): their shares are the unattributed rest.
#[must_use]
pub fn is_residual(name: &str) -> bool {
    matches!(
        key_text(name).as_str(),
        "various"
            | "various countries"
            | "various companies"
            | "various firms"
            | "other"
            | "others"
            | "other countries"
            | "other companies"
            | "other firms"
            | "rest of world"
            | "rest of the world"
            | "row"
            | "unknown"
            | "n/a"
    )
}

/// A row that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// File name (without folder).
    pub file: String,
    /// Line number (1 = the header).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.message)
    }
}

/// What a reader made of a dataset.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// One line describing the dataset.
    pub dataset: String,
    /// Records, in the record-document form (`kind` plus fields, with `id`).
    pub records: Vec<Map<String, Value>>,
    /// Where each record comes from (`provision.csv line 12`), one per record.
    pub origins: Vec<String>,
    /// Rows that could not be used: the import refuses them unless told to skip them.
    pub problems: Vec<RowProblem>,
    /// Things the user should know that do not stop the import (names that could not be
    /// mapped, withheld figures).
    pub notes: Vec<String>,
    /// Data rows read.
    pub rows: usize,
}

impl Parsed {
    fn push(&mut self, origin: String, record: Map<String, Value>) {
        self.records.push(record);
        self.origins.push(origin);
    }
}

/// A dataset that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A file or folder cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A required file is missing from the folder.
    #[error("{folder} has no {file}: is it a {format} dataset? (expected files: {expected})")]
    MissingFile {
        /// The folder.
        folder: String,
        /// The file.
        file: String,
        /// The format.
        format: SourceFormat,
        /// The files the format needs.
        expected: String,
    },
    /// A required column is missing.
    #[error("{file} has no column {column:?} (its columns: {found}); is it the right file?")]
    MissingColumn {
        /// File name.
        file: String,
        /// The column.
        column: String,
        /// The header that was found.
        found: String,
    },
    /// A file is larger than [`MAX_FILE_BYTES`].
    #[error("{path} is larger than {MAX_FILE_BYTES} bytes: split it")]
    TooLarge {
        /// The path.
        path: PathBuf,
    },
    /// A file is not CSV.
    #[error("{file} line {line}: not a CSV table ({message})")]
    NotCsv {
        /// File name.
        file: String,
        /// Line.
        line: u64,
        /// Why.
        message: String,
    },
    /// The folder has no file of the format.
    #[error("{0}")]
    Empty(String),
}

/// Where a dataset's files are: a folder on disk, or files in memory (the demo's embedded
/// copies of the public datasets).
#[derive(Debug, Clone)]
pub enum Files<'a> {
    /// A folder.
    Disk(PathBuf),
    /// Named files in memory.
    Memory {
        /// What to call them in messages.
        name: &'a str,
        /// (file name, bytes).
        files: &'a [(&'a str, &'a [u8])],
    },
}

impl Files<'_> {
    /// A folder on disk, which must be one (`expected` names the files the format reads).
    pub fn folder(path: &Path, format: SourceFormat, expected: &str) -> Result<Self, SourceError> {
        if path.is_dir() {
            Ok(Files::Disk(path.to_owned()))
        } else {
            Err(SourceError::Empty(format!(
                "{} is not a folder: the {format} format is a folder with {expected}",
                path.display()
            )))
        }
    }

    /// The folder, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Files::Disk(path) => path.display().to_string(),
            Files::Memory { name, .. } => (*name).to_owned(),
        }
    }

    /// The folder's own name (last part).
    fn folder_name(&self) -> String {
        match self {
            Files::Disk(path) => path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            Files::Memory { name, .. } => (*name).to_owned(),
        }
    }

    /// The file names, sorted.
    fn names(&self) -> Result<Vec<String>, SourceError> {
        let mut names: Vec<String> = match self {
            Files::Disk(path) => std::fs::read_dir(path)
                .map_err(|source| SourceError::Io {
                    path: path.clone(),
                    source,
                })?
                .filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Files::Memory { files, .. } => files.iter().map(|(n, _)| (*n).to_owned()).collect(),
        };
        names.sort();
        Ok(names)
    }

    /// Whether a file is there.
    fn has(&self, file: &str) -> bool {
        match self {
            Files::Disk(path) => path.join(file).is_file(),
            Files::Memory { files, .. } => files.iter().any(|(n, _)| *n == file),
        }
    }

    /// Reads one file as a table.
    fn table(&self, file: &str, progress: Option<&AtomicUsize>) -> Result<Table, SourceError> {
        match self {
            Files::Disk(path) => Table::read(&path.join(file), progress),
            Files::Memory { files, name } => {
                let bytes = files
                    .iter()
                    .find(|(n, _)| *n == file)
                    .map(|(_, b)| *b)
                    .ok_or_else(|| SourceError::Empty(format!("{name} has no {file}")))?;
                Table::parse(file, &decode(bytes), progress)
            }
        }
    }

    /// Reads a file that the format needs, or `None` for an optional file that is missing.
    fn table_of(
        &self,
        file: &str,
        required: bool,
        format: SourceFormat,
        expected: &str,
        progress: Option<&AtomicUsize>,
    ) -> Result<Option<Table>, SourceError> {
        if self.has(file) {
            self.table(file, progress).map(Some)
        } else if required {
            Err(SourceError::MissingFile {
                folder: self.describe(),
                file: file.to_owned(),
                format,
                expected: expected.to_owned(),
            })
        } else {
            Ok(None)
        }
    }
}

/// Reads a dataset from files in memory or a folder.
pub fn read_files(
    format: SourceFormat,
    files: &Files<'_>,
    options: &ReadOptions<'_>,
) -> Result<Parsed, SourceError> {
    match format {
        SourceFormat::Eto => eto::read_files(files, options),
        SourceFormat::Crm => crm::read_files(files, options),
        SourceFormat::Usgs => usgs::read_files(files, None, options),
    }
}

/// Reads a dataset.
pub fn read(
    format: SourceFormat,
    path: &Path,
    options: &ReadOptions<'_>,
) -> Result<Parsed, SourceError> {
    match format {
        SourceFormat::Eto => eto::read(path, options),
        SourceFormat::Crm => crm::read(path, options),
        SourceFormat::Usgs => usgs::read(path, options),
    }
}

/// The bytes a reader will read at `path` (the CSV files of a folder, or the file), for a
/// progress bar.
#[must_use]
pub fn input_size(path: &Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path).map_or(0, |entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| {
                    e.path()
                        .extension()
                        .is_some_and(|x| x.eq_ignore_ascii_case("csv"))
                })
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
    } else {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }
}

/// The stable id of a record read from a dataset (see the module docs).
#[must_use]
pub fn stable_id(format: SourceFormat, key: &str) -> Uuid {
    let digest = Sha256::digest(format!("observatory/source/{}/{key}", format.name()).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes)
}

/// Lower-cased, single-spaced text for use in keys.
#[must_use]
pub fn key_text(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Reads a file whole, checking its size first.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, SourceError> {
    let io = |source| SourceError::Io {
        path: path.to_owned(),
        source,
    };
    // Bounded while reading: a FIFO, a device or a file that grows while read is refused.
    crate::fsutil::read_bounded(path, MAX_FILE_BYTES).map_err(|source| {
        if source.kind() == std::io::ErrorKind::InvalidData {
            SourceError::TooLarge {
                path: path.to_owned(),
            }
        } else {
            io(source)
        }
    })
}

/// Bytes as text: a UTF-8 BOM dropped; not UTF-8 means Windows-1252.
#[must_use]
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

/// One Windows-1252 byte as a character.
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// A CSV table read by header name.
pub(crate) struct Table {
    /// File name, for messages.
    pub file: String,
    columns: BTreeMap<String, usize>,
    header: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
}

/// A header name as compared: trimmed, lower case, spaces as `_`.
fn column_key(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
}

impl Table {
    /// Parses CSV text; rows that are entirely empty are dropped.
    pub fn parse(
        file: &str,
        text: &str,
        progress: Option<&AtomicUsize>,
    ) -> Result<Self, SourceError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(text.as_bytes());
        let not_csv = |e: &csv::Error| SourceError::NotCsv {
            file: file.to_owned(),
            line: e.position().map_or(1, csv::Position::line),
            message: e.to_string(),
        };
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| not_csv(&e))?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
            .collect();
        let mut columns = BTreeMap::new();
        for (index, name) in header.iter().enumerate() {
            if !name.is_empty() {
                columns.entry(column_key(name)).or_insert(index);
            }
        }
        let mut rows = Vec::new();
        let mut line: u64 = 1;
        let mut counted_to = 0usize;
        for record in reader.records() {
            let record = record.map_err(|e| not_csv(&e))?;
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            // Lines counted from the byte offset (the csv crate's own count skips blank lines).
            let byte = record.position().map_or(counted_to, |p| {
                usize::try_from(p.byte()).unwrap_or(counted_to)
            });
            let mut byte = byte.clamp(counted_to, text.len());
            // The offset can point at the line end before the record: step over line ends.
            while text
                .as_bytes()
                .get(byte)
                .is_some_and(|b| *b == b'\r' || *b == b'\n')
            {
                byte += 1;
            }
            #[allow(clippy::naive_bytecount)] // a few bytes between two records
            let newlines = text.as_bytes()[counted_to..byte]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            line += newlines as u64;
            if let Some(p) = progress {
                p.fetch_add(byte - counted_to, Ordering::Relaxed);
            }
            counted_to = byte;
            rows.push((line, record));
        }
        if let Some(p) = progress {
            p.fetch_add(text.len().saturating_sub(counted_to), Ordering::Relaxed);
        }
        Ok(Table {
            file: file.to_owned(),
            columns,
            header,
            rows,
        })
    }

    /// Reads and parses a file.
    pub fn read(path: &Path, progress: Option<&AtomicUsize>) -> Result<Self, SourceError> {
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Self::parse(&file, &decode(&read_file(path)?), progress)
    }

    /// The index of a column, if present.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.get(&column_key(name)).copied()
    }

    /// The index of a required column.
    pub fn require(&self, name: &str) -> Result<usize, SourceError> {
        self.column(name).ok_or_else(|| SourceError::MissingColumn {
            file: self.file.clone(),
            column: name.to_owned(),
            found: self.header.join(", "),
        })
    }

    /// The header names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The data rows with their line numbers.
    pub fn rows(&self) -> impl Iterator<Item = (u64, Row<'_>)> {
        self.rows.iter().map(|(line, r)| (*line, Row(r)))
    }
}

/// One data row.
#[derive(Clone, Copy)]
pub(crate) struct Row<'a>(&'a csv::StringRecord);

impl<'a> Row<'a> {
    /// The trimmed text of a column (empty when the column or cell is missing).
    pub fn get(self, column: Option<usize>) -> &'a str {
        column.and_then(|c| self.0.get(c)).map_or("", |s| {
            s.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}')
        })
    }
}

/// A percentage as read from a table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent {
    /// The share, 0-1.
    pub share: f64,
    /// It was written as a bound: `<x%` (the share is half the bound) or `>x%` (the share is
    /// the bound); the notes of the link quote the text.
    pub below: bool,
}

/// Reads `61%`, `61`, `0.5 %`, `<0.1%` as a percentage; empty, `-`, `NA` give `None`.
pub fn parse_percent(text: &str) -> Result<Option<Percent>, String> {
    let t = text.trim();
    if t.is_empty() || matches!(t, "-" | "--" | "NA" | "n/a" | "N/A") {
        return Ok(None);
    }
    let (below, rest) = match t.strip_prefix('<') {
        Some(rest) => (true, rest.trim()),
        // ">0%": more than the bound; the bound is kept (and said in the notes).
        None => match t.strip_prefix('>') {
            Some(rest) => (true, rest.trim()),
            None => (false, t),
        },
    };
    let number = rest
        .strip_suffix('%')
        .unwrap_or(rest)
        .trim()
        .replace(',', ".");
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a percentage"))?;
    if !value.is_finite() || !(0.0..=100.0).contains(&value) {
        return Err(format!("{text:?} is not a percentage between 0 and 100"));
    }
    let share = if t.starts_with('<') {
        value / 200.0
    } else {
        value / 100.0
    };
    Ok(Some(Percent { share, below }))
}

/// A number such as `1,234,567` or `4.5`; `None` for empty cells, the usual "no figure"
/// marks (`NA`, `W`, `--`, `XX`, `-`) and the phrases USGS writes instead of a figure
/// (`Less than ½ unit.`, `Included with ilmenite`, `Negligible`).
pub fn parse_amount(text: &str) -> Result<Option<f64>, String> {
    let t = text.trim();
    if t.is_empty() || matches!(t, "NA" | "W" | "--" | "-" | "XX" | "—" | "–" | "(W)") {
        return Ok(None);
    }
    // Words USGS writes instead of a figure ("Less than ½ unit.", "Included with ilmenite").
    let lower = t.to_lowercase();
    if ["less than", "included with", "negligible", "see "]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return Ok(None);
    }
    let cleaned: String = t
        .trim_start_matches(['>', '<', '~'])
        .chars()
        .filter(|c| *c != ',' && !c.is_whitespace())
        .collect();
    let value: f64 = cleaned
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if value.is_finite() && value >= 0.0 {
        Ok(Some(value))
    } else {
        Err(format!("{text:?} is not a non-negative number"))
    }
}

/// A share as stored (rounded to 6 decimals so figures read the same after a round trip).
fn share_value(share: f64) -> Value {
    json!((share * 1e6).round() / 1e6)
}

/// Names of countries as datasets write them, besides the ISO names.
const COUNTRY_ALIASES: &[(&str, &str)] = &[
    ("brasilia", "BR"),
    ("brasil", "BR"),
    ("libanon", "LB"),
    ("surinam", "SR"),
    ("burma", "MM"),
    ("myanmar", "MM"),
    ("congo, d.r.", "CD"),
    ("congo (kinshasa)", "CD"),
    ("democratic republic of the congo", "CD"),
    ("dr congo", "CD"),
    ("drc", "CD"),
    ("congo", "CG"),
    ("congo (brazzaville)", "CG"),
    ("korea, south", "KR"),
    ("korea, republic of", "KR"),
    ("south korea", "KR"),
    ("republic of korea", "KR"),
    ("korea, north", "KP"),
    ("north korea", "KP"),
    ("russia", "RU"),
    ("iran", "IR"),
    ("syria", "SY"),
    ("laos", "LA"),
    ("vietnam", "VN"),
    ("viet nam", "VN"),
    ("taiwan", "TW"),
    ("tanzania", "TZ"),
    ("bolivia", "BO"),
    ("venezuela", "VE"),
    ("moldova", "MD"),
    ("turkey", "TR"),
    ("türkiye", "TR"),
    ("turkiye", "TR"),
    ("turkyie", "TR"),
    ("cote d'ivoire", "CI"),
    ("côte d'ivoire", "CI"),
    ("cote d’ivoire", "CI"),
    ("côte d’ivoire", "CI"),
    ("ivory coast", "CI"),
    ("cape verde", "CV"),
    ("brunei", "BN"),
    ("brunei darussalam", "BN"),
    ("united states", "US"),
    ("united states of america", "US"),
    ("usa", "US"),
    ("u.s.", "US"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("kosovo", "XK"),
    ("czech republic", "CZ"),
    ("czechia", "CZ"),
    ("slovak republic", "SK"),
    ("macedonia", "MK"),
    ("north macedonia", "MK"),
    ("hong kong", "HK"),
    ("macau", "MO"),
    ("swaziland", "SZ"),
    ("eswatini", "SZ"),
    ("the netherlands", "NL"),
    ("palestine", "PS"),
    ("micronesia", "FM"),
    ("kyrgyz republic", "KG"),
];

/// The ISO alpha-2 code of a country as a dataset names it (ISO names, common short names,
/// alpha-2 or alpha-3 codes); `None` when it cannot be mapped.
#[must_use]
pub fn country_code(name: &str) -> Option<String> {
    let cleaned = name
        .replace('\u{a0}', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let lower = cleaned.to_lowercase();
    if let Some((_, code)) = COUNTRY_ALIASES.iter().find(|(alias, _)| *alias == lower) {
        return country::normalise(code);
    }
    if cleaned.len() == 3
        && cleaned.chars().all(|c| c.is_ascii_uppercase())
        && let Some(c) = country::by_alpha3(&cleaned)
    {
        return Some(c.code.clone());
    }
    if cleaned.len() == 2
        && cleaned.chars().all(|c| c.is_ascii_uppercase())
        && let Some(code) = country::normalise(&cleaned)
    {
        return Some(code);
    }
    country::all()
        .find(|c| {
            c.name.to_lowercase() == lower
                || c.name
                    .split(',')
                    .next()
                    .is_some_and(|n| n.trim().to_lowercase() == lower)
        })
        .map(|c| c.code.clone())
}

/// The source record that every record of a dataset cites.
fn source_record(format: SourceFormat, key: &str, fields: Value) -> (Uuid, Map<String, Value>) {
    let id = stable_id(format, &format!("source/{key}"));
    let mut record = record(Kind::Source, id);
    if let Value::Object(map) = fields {
        record.extend(map);
    }
    (id, record)
}

/// A new record map of a kind with its id.
fn record(kind: Kind, id: Uuid) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("kind".into(), json!(kind.name()));
    map.insert("id".into(), json!(id.to_string()));
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_amounts_and_text() {
        assert_eq!(
            parse_percent("61%").ok().flatten().map(|p| p.share),
            Some(0.61)
        );
        assert_eq!(
            parse_percent(" 61 ").ok().flatten().map(|p| p.share),
            Some(0.61)
        );
        let below = parse_percent("<0.1%").ok().flatten();
        assert_eq!(
            below,
            Some(Percent {
                share: 0.0005,
                below: true
            })
        );
        assert_eq!(parse_percent("-"), Ok(None));
        assert!(parse_percent("abc").is_err());
        assert!(parse_percent("140%").is_err());
        assert_eq!(
            parse_amount("\"1,234,000\"".trim_matches('"')),
            Ok(Some(1_234_000.0))
        );
        assert_eq!(parse_amount("W"), Ok(None));
        assert!(parse_amount("12a").is_err());
        assert_eq!(decode(b"\xEF\xBB\xBFa"), "a");
        assert_eq!(decode(b"T\xFCrkiye \x80"), "Türkiye €");
        assert_eq!(country_code("Congo, D.R.").as_deref(), Some("CD"));
        assert_eq!(country_code("United\u{a0}States").as_deref(), Some("US"));
        assert_eq!(country_code("CHN").as_deref(), Some("CN"));
        assert_eq!(country_code("Germany").as_deref(), Some("DE"));
        assert_eq!(country_code("Other countries"), None);
    }

    #[test]
    fn line_numbers_count_from_the_header() {
        let text = "a,b\r\n1,2\r\n\r\n\"x\ny\",4\r\n5,6\r\n";
        let table = Table::parse("f.csv", text, None).expect("csv");
        let lines: Vec<u64> = table.rows().map(|(l, _)| l).collect();
        assert_eq!(lines, vec![2, 4, 6]);
    }
}

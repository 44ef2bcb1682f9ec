//! Plaintext exports (JSON document, CSV folder). They are plaintext by nature: the CLI
//! demands `--unencrypted-output` and warns with the highest classification they contain.
//!
//! # JSON
//! The record document of [`super::import`] (`"format": "observatory-records"`), with
//! `classification` and `marking` set to the highest level it contains, `exported_at`, and for
//! each live record `kind`, `id`, `classification`, `releasable_to`, `created_at`, `updated`,
//! `updated_by`, `reference` and its fields. Importing it into another file recreates the
//! records.
//!
//! # CSV
//! A new folder with one file per kind (`technology.csv`, ...), UTF-8, comma-separated,
//! RFC 4180 quoting. The first line is the marking of the highest level in that file
//! (`# CLASSIFICATION: SECRET UE/EU SECRET`), then a header row: `id`, `classification`,
//! `releasable_to`, then the kind's fields. Lists are joined with `;`, booleans are
//! `true`/`false`, shares fractions 0-1, attachments left out (their file name is kept). A
//! text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a
//! leading `'` so that a spreadsheet never runs it as a formula.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::ServiceError;
use super::session::Session;
use crate::model::kind::FieldType;
use crate::model::{Classification, Kind, Record};

/// Format tag of record documents.
pub const EXPORT_FORMAT_TAG: &str = "observatory-records";

/// An export: the records and the highest classification among them.
#[derive(Debug, Clone, Serialize)]
pub struct ExportDocument {
    /// Format tag.
    pub format: &'static str,
    /// Format version.
    pub version: u32,
    /// Highest level of the records (short code).
    pub classification: Classification,
    /// Highest level, as marked.
    pub marking: &'static str,
    /// When (RFC 3339).
    pub exported_at: String,
    /// The records, by kind then label.
    pub records: Vec<Map<String, Value>>,
}

/// A record as a JSON object of the record document.
#[must_use]
pub fn record_json(record: &Record) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("kind".into(), Value::from(record.kind.name()));
    object.insert("id".into(), Value::from(record.meta.id.to_string()));
    object.insert(
        "classification".into(),
        Value::from(record.meta.classification.code()),
    );
    object.insert(
        "releasable_to".into(),
        Value::from(record.meta.releasable_to.clone()),
    );
    object.insert(
        "created_at".into(),
        Value::from(record.meta.created_at.clone()),
    );
    object.insert(
        "updated".into(),
        Value::from(record.meta.updated.to_string()),
    );
    object.insert(
        "updated_by".into(),
        Value::from(record.meta.updated_by.clone()),
    );
    object.insert("reference".into(), Value::from(record.meta.reference));
    for (name, value) in &record.fields {
        object.insert(name.clone(), value.clone());
    }
    object
}

impl Session {
    /// All live records as a record document.
    pub fn export_document(&self) -> Result<ExportDocument, ServiceError> {
        let mut records = Vec::new();
        let mut highest = Classification::Unclassified;
        for kind in Kind::ALL {
            for record in self.list(kind)? {
                highest = highest.max(record.meta.classification);
                records.push(record_json(&record));
            }
        }
        Ok(ExportDocument {
            format: EXPORT_FORMAT_TAG,
            version: 1,
            classification: highest,
            marking: highest.marking(),
            exported_at: crate::store::now_rfc3339(),
            records,
        })
    }

    /// Writes the CSV folder (which must not exist); returns the highest level written.
    pub fn export_csv(&self, dir: &Path) -> Result<Classification, ServiceError> {
        let io_err = |source| ServiceError::Export {
            path: dir.to_owned(),
            source,
        };
        if dir.exists() {
            return Err(ServiceError::Invalid(format!(
                "{} exists already: choose a new folder for the CSV export",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(io_err)?;
        let mut highest = Classification::Unclassified;
        for kind in Kind::ALL {
            let records = self.list(kind)?;
            let level = Classification::highest(records.iter().map(|r| r.meta.classification));
            highest = highest.max(level);
            let mut bytes = format!("# CLASSIFICATION: {}\n", level.marking()).into_bytes();
            {
                let mut writer = csv::Writer::from_writer(&mut bytes);
                let fields: Vec<_> = kind
                    .fields()
                    .iter()
                    .filter(|f| f.ty != FieldType::Bytes)
                    .collect();
                let mut header = vec!["id", "classification", "releasable_to"];
                header.extend(fields.iter().map(|f| f.name));
                let csv_err = |e: csv::Error| ServiceError::Export {
                    path: dir.to_owned(),
                    source: e.into(),
                };
                writer.write_record(&header).map_err(csv_err)?;
                for record in &records {
                    let mut row = vec![
                        record.meta.id.to_string(),
                        record.meta.classification.code().to_owned(),
                        record.meta.releasable_to.join(";"),
                    ];
                    row.extend(fields.iter().map(|f| csv_cell(record.fields.get(f.name))));
                    writer.write_record(&row).map_err(csv_err)?;
                }
                writer.flush().map_err(io_err)?;
            }
            let path = dir.join(format!("{}.csv", kind.name()));
            crate::fsutil::write_new_durable(&path, &bytes, None)
                .map_err(|source| ServiceError::Export { path, source })?;
        }
        Ok(highest)
    }
}

fn csv_cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => neutralised(s),
        Some(Value::Array(items)) => neutralised(
            &items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(";"),
        ),
        Some(other) => other.to_string(),
    }
}

/// A text cell that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`,
/// a tab or a carriage return) gets a leading `'`, so it stays text (CSV injection).
#[must_use]
pub fn neutralised(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Counts of an export by classification and kind (for previews and warnings).
#[must_use]
pub fn summarise(records: &[Map<String, Value>]) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for r in records {
        let level = r
            .get("classification")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let kind = r
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        *counts.entry((level, kind)).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_neutralised() {
        use super::neutralised;
        assert_eq!(
            neutralised("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        for bad in ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralised(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(neutralised("Gallium"), "Gallium");
    }
}

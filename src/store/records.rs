//! Typed reads and writes of records, the change log and the clock.
//!
//! Values reaching these functions have been normalised by [`crate::model::record`]; this
//! layer maps them to columns (lists as JSON text, booleans as 0/1, attachments as BLOBs).

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OptionalExtension as _, Transaction, params};
use serde_json::Value;
use uuid::Uuid;

use super::audit;
use super::error::StoreError;
use super::file::Store;
use crate::model::kind::{FieldType, Kind};
use crate::model::{Classification, Hlc, Meta, Record};

/// A record to insert: values already normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    /// Kind.
    pub kind: Kind,
    /// Id.
    pub id: Uuid,
    /// Classification.
    pub classification: Classification,
    /// Releasability (Member State codes, sorted).
    pub releasable_to: Vec<String>,
    /// Built-in reference data.
    pub reference: bool,
    /// Field values (no nulls).
    pub fields: BTreeMap<String, Value>,
}

#[must_use]
/// The current time, RFC 3339 in UTC, whole seconds.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub(super) fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

/// A field value as the column stores it.
pub(super) fn to_sql(ty: FieldType, value: Option<&Value>) -> SqlValue {
    let Some(value) = value else {
        return SqlValue::Null;
    };
    match ty {
        _ if ty.is_list() => SqlValue::Text(value.to_string()),
        FieldType::Bool => SqlValue::Integer(i64::from(value.as_bool().unwrap_or(false))),
        FieldType::Int { .. } => value.as_i64().map_or(SqlValue::Null, SqlValue::Integer),
        FieldType::Real { .. } => value.as_f64().map_or(SqlValue::Null, SqlValue::Real),
        FieldType::Bytes => value
            .as_str()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
            .map_or(SqlValue::Null, SqlValue::Blob),
        _ => value
            .as_str()
            .map_or(SqlValue::Null, |s| SqlValue::Text(s.to_owned())),
    }
}

/// A column value as a field value; `None` for NULL.
fn from_sql(ty: FieldType, value: ValueRef<'_>) -> Option<Value> {
    match (ty, value) {
        (_, ValueRef::Null) => None,
        (ty, ValueRef::Text(text)) if ty.is_list() => serde_json::from_slice(text).ok(),
        (FieldType::Bool, ValueRef::Integer(i)) => Some(Value::Bool(i != 0)),
        (_, ValueRef::Integer(i)) => Some(Value::from(i)),
        (_, ValueRef::Real(f)) => Some(Value::from(f)),
        (_, ValueRef::Text(t)) => Some(Value::from(String::from_utf8_lossy(t).into_owned())),
        (_, ValueRef::Blob(b)) => Some(Value::from(
            base64::engine::general_purpose::STANDARD.encode(b),
        )),
    }
}

/// The INSERT statement of a kind (built once).
fn insert_sql(kind: Kind) -> &'static str {
    static SQL: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        Kind::ALL
            .iter()
            .map(|kind| {
                let columns = columns(*kind);
                let placeholders = (1..=columns.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "INSERT INTO {} ({}) VALUES ({placeholders})",
                    kind.name(),
                    columns.join(", ")
                )
            })
            .collect()
    });
    let index = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    SQL.get(index).map_or("", String::as_str)
}

/// Inserts a record (no change log or audit: the caller writes those).
pub(crate) fn insert(
    tx: &Connection,
    record: &NewRecord,
    created_at: &str,
    hlc: Hlc,
    author: &str,
) -> Result<(), StoreError> {
    let fields = record.kind.fields();
    let sql = insert_sql(record.kind);
    let mut values = vec![
        SqlValue::Text(record.id.to_string()),
        SqlValue::Integer(i64::from(record.classification.rank())),
        SqlValue::Text(
            serde_json::to_string(&record.releasable_to).unwrap_or_else(|_| "[]".into()),
        ),
        SqlValue::Text(created_at.to_owned()),
        SqlValue::Text(hlc.to_string()),
        SqlValue::Text(author.to_owned()),
        SqlValue::Integer(0),
        SqlValue::Integer(i64::from(record.reference)),
    ];
    values.extend(
        fields
            .iter()
            .map(|f| to_sql(f.ty, record.fields.get(f.name))),
    );
    let mut stmt = tx.prepare_cached(sql)?;
    match stmt.execute(rusqlite::params_from_iter(values)) {
        Ok(_) => index_new(tx, record.kind, record.id, &record.fields),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(StoreError::DuplicateId {
                id: record.id.to_string(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The searchable text of a record: its search fields, lists joined by spaces.
fn search_text(kind: Kind, fields: &BTreeMap<String, Value>) -> String {
    let mut text = String::new();
    for name in kind.search_fields() {
        match fields.get(*name) {
            Some(Value::String(s)) => {
                text.push_str(s);
                text.push(' ');
            }
            Some(Value::Array(items)) => {
                for item in items.iter().filter_map(Value::as_str) {
                    text.push_str(item);
                    text.push(' ');
                }
            }
            _ => {}
        }
    }
    text
}

/// The rowid of a record's row in the search index (schema 3): the first 8 bytes of SHA-256
/// of the id text, big-endian, signed.
fn search_rowid(id: Uuid) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(id.to_string().as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Puts a record's text in the search index (or takes it out, for a tombstone).
pub(super) fn index(
    conn: &Connection,
    kind: Kind,
    id: Uuid,
    fields: &BTreeMap<String, Value>,
    deleted: bool,
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM search WHERE rowid = ?1")?
        .execute(params![search_rowid(id)])?;
    if !deleted {
        index_new(conn, kind, id, fields)?;
    }
    Ok(())
}

/// Adds a record that has no row in the index yet (no delete first: in FTS5 a delete makes
/// the index flush its pending terms, which slows bulk inserts down several times).
fn index_new(
    conn: &Connection,
    kind: Kind,
    id: Uuid,
    fields: &BTreeMap<String, Value>,
) -> Result<(), StoreError> {
    let text = search_text(kind, fields);
    if !text.trim().is_empty() {
        conn.prepare_cached("INSERT INTO search (rowid, kind, id, text) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![search_rowid(id), kind.name(), id.to_string(), text])?;
    }
    Ok(())
}

/// Rebuilds the whole search index from the record tables (after the migration that adds it).
pub(crate) fn rebuild_search_index(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM search", [])?;
    for kind in Kind::ALL {
        let sql = format!("{} WHERE deleted = 0", select_sql(kind));
        let records = tx
            .prepare(&sql)?
            .query_map([], |row| record_from_row(kind, row))?
            .collect::<Result<Vec<_>, _>>()?;
        for record in records {
            index_new(&tx, kind, record.meta.id, &record.fields)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// One edition, as listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EditionInfo {
    /// Edition id.
    pub id: String,
    /// Title.
    pub title: String,
    /// The date the register was frozen as of.
    pub as_of: String,
    /// Highest classification of its records.
    pub classification: Classification,
    /// When it was made.
    pub created_at: String,
    /// Who made it (fingerprint).
    pub author: String,
    /// How many records it holds.
    pub records: i64,
}

/// The change-log `field` of the row that records a new record with all its values.
pub const CREATED_FIELD: &str = "*";

/// Turns what a user types into an FTS5 query: every word must match, as a prefix.
fn fts_query(text: &str) -> String {
    text.split_whitespace()
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A change to one column of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordChange {
    /// A field of the kind (`None` clears it).
    Field(&'static str, Option<Value>),
    /// The classification.
    Classification(Classification),
    /// The releasability.
    ReleasableTo(Vec<String>),
    /// The tombstone.
    Deleted(bool),
}

impl RecordChange {
    /// Column / change-log field name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            RecordChange::Field(name, _) => name,
            RecordChange::Classification(_) => "classification",
            RecordChange::ReleasableTo(_) => "releasable_to",
            RecordChange::Deleted(_) => "deleted",
        }
    }

    /// The new value as the change log records it.
    #[must_use]
    pub fn log_value(&self) -> Value {
        match self {
            RecordChange::Field(_, v) => v.clone().unwrap_or(Value::Null),
            RecordChange::Classification(c) => Value::from(c.code()),
            RecordChange::ReleasableTo(list) => Value::from(list.clone()),
            RecordChange::Deleted(d) => Value::Bool(*d),
        }
    }
}

/// The first of `changes` that lowers `current`'s classification or widens its releasability
/// (what only the originator may do: [`crate::model::control`]).
#[must_use]
pub fn lowering<'c>(current: &Record, changes: &'c [RecordChange]) -> Option<&'c RecordChange> {
    changes.iter().find(|c| match c {
        RecordChange::Classification(l) => *l < current.meta.classification,
        RecordChange::ReleasableTo(r) => !crate::model::control::is_safe_change(
            "releasable_to",
            &Value::from(current.meta.releasable_to.clone()),
            &Value::from(r.clone()),
        ),
        _ => false,
    })
}

/// Writes inside one transaction: records, change log, audit, clock.
pub struct Writer<'a> {
    pub(in crate::store) tx: Transaction<'a>,
    pub(in crate::store) author: String,
    now_ms: Option<u64>,
    /// The owner's key: rows by `author` are signed with it (none: unsigned, only for files
    /// made before a key is known).
    pub(in crate::store) signing: Option<&'a ed25519_dalek::SigningKey>,
}

impl Writer<'_> {
    /// The author of this transaction's changes.
    #[must_use]
    pub fn author(&self) -> &str {
        &self.author
    }

    /// Issues the next clock value of this file.
    pub fn tick(&self) -> Result<Hlc, StoreError> {
        let last: String = self
            .tx
            .prepare_cached("SELECT value FROM meta WHERE key = 'clock'")?
            .query_row([], |r| r.get(0))?;
        let last = last.parse().unwrap_or_default();
        let next = Hlc::tick(last, self.now_ms.unwrap_or_else(Hlc::now_ms));
        self.tx
            .prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'clock'")?
            .execute(params![next.to_string()])?;
        Ok(next)
    }

    /// Inserts a new record and logs every value it has.
    pub fn insert(&self, record: &NewRecord) -> Result<Hlc, StoreError> {
        let hlc = self.tick()?;
        self.insert_at(record, hlc, &now_rfc3339())?;
        Ok(hlc)
    }

    /// Inserts a new record with a clock value issued before (an import gives all the records
    /// it creates one clock value: they are distinct records, so nothing is ordered by it).
    pub fn insert_at(
        &self,
        record: &NewRecord,
        hlc: Hlc,
        created_at: &str,
    ) -> Result<(), StoreError> {
        insert(&self.tx, record, created_at, hlc, &self.author)?;
        // One change-log row holds every value the record is created with.
        let mut values = serde_json::Map::new();
        for change in [
            RecordChange::Classification(record.classification),
            RecordChange::ReleasableTo(record.releasable_to.clone()),
        ] {
            values.insert(change.name().to_owned(), change.log_value());
        }
        for field in record.kind.fields() {
            if let Some(value) = record.fields.get(field.name) {
                values.insert(field.name.to_owned(), value.clone());
            }
        }
        self.log_local(
            record.kind,
            record.id,
            CREATED_FIELD,
            &Value::Object(values),
            hlc,
        )
    }

    /// Applies changes to an existing record and logs them. A change of `classification` or
    /// `releasable_to` counts only as originator control allows ([`crate::model::control`]):
    /// one that lowers or widens a record this owner did not originate stays a proposal.
    pub fn update(
        &self,
        kind: Kind,
        id: Uuid,
        changes: &[RecordChange],
    ) -> Result<Hlc, StoreError> {
        let hlc = self.tick()?;
        let guarded: Vec<&str> = changes
            .iter()
            .map(RecordChange::name)
            .filter(|n| crate::model::control::is_guarded(n))
            .collect();
        if !guarded.is_empty() {
            let Some(current) = get(&self.tx, kind, id)? else {
                return Err(StoreError::UnknownRecord {
                    kind,
                    id: id.to_string(),
                });
            };
            let lowers = lowering(&current, changes).is_some();
            if lowers && self.originator(kind, id)?.as_deref() == Some(self.author.as_str()) {
                // Every field this edit sets is left out: it is logged below with its new value
                // (logging the old one too, at the same clock, would be two values for one change).
                let named: Vec<&str> = changes.iter().map(RecordChange::name).collect();
                self.reassert_creation_values(kind, id, &named, hlc)?;
            }
        }
        for change in changes {
            if self.set_column(kind, id, change)? == 0 {
                return Err(StoreError::UnknownRecord {
                    kind,
                    id: id.to_string(),
                });
            }
            self.log_change(kind, id, change, hlc)?;
        }
        if !guarded.is_empty() {
            // The guarded columns as the change log decides them (a proposal does not count).
            self.settle(kind, id)?;
            return Ok(hlc);
        }
        if let Some(record) = get(&self.tx, kind, id)? {
            index(&self.tx, kind, id, &record.fields, record.meta.deleted)?;
        }
        self.tx
            .prepare_cached(&format!(
                "UPDATE {} SET updated_hlc = ?1, updated_by = ?2 WHERE id = ?3",
                kind.name()
            ))?
            .execute(params![hlc.to_string(), self.author, id.to_string()])?;
        Ok(hlc)
    }

    /// Writes one change into its column; returns how many rows it touched (0: no record).
    fn set_column(&self, kind: Kind, id: Uuid, change: &RecordChange) -> Result<usize, StoreError> {
        let value = match change {
            RecordChange::Field(name, value) => {
                let ty = kind.field(name).map_or(FieldType::Text, |f| f.ty);
                to_sql(ty, value.as_ref())
            }
            RecordChange::Classification(c) => SqlValue::Integer(i64::from(c.rank())),
            RecordChange::ReleasableTo(list) => {
                SqlValue::Text(serde_json::to_string(list).unwrap_or_else(|_| "[]".into()))
            }
            RecordChange::Deleted(d) => SqlValue::Integer(i64::from(*d)),
        };
        let sql = format!(
            "UPDATE {} SET {} = ?1 WHERE id = ?2",
            kind.name(),
            quote(change.name())
        );
        Ok(self
            .tx
            .prepare_cached(&sql)?
            .execute(params![value, id.to_string()])?)
    }

    fn log_change(
        &self,
        kind: Kind,
        id: Uuid,
        change: &RecordChange,
        hlc: Hlc,
    ) -> Result<(), StoreError> {
        self.log_local(kind, id, change.name(), &change.log_value(), hlc)
    }

    /// Moves this file's clock past a clock value seen from another member, so that later local
    /// changes are newer than everything received.
    pub(super) fn witness(&self, seen: Hlc) -> Result<(), StoreError> {
        let last: String = self
            .tx
            .prepare_cached("SELECT value FROM meta WHERE key = 'clock'")?
            .query_row([], |r| r.get(0))?;
        let last: Hlc = last.parse().unwrap_or_default();
        if seen > last {
            self.tx
                .prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'clock'")?
                .execute(params![seen.to_string()])?;
        }
        Ok(())
    }

    /// Appends an audit entry.
    pub fn audit(
        &self,
        action: &str,
        record: Option<(Kind, Uuid)>,
        detail: &Value,
    ) -> Result<(), StoreError> {
        audit::append(&self.tx, &self.author, action, record, detail)
    }

    /// Records (or with `None` clears) a country's governance risk score, 0-10.
    pub fn set_governance(&self, code: &str, score: Option<f64>) -> Result<bool, StoreError> {
        let changed = self.tx.execute(
            "UPDATE country SET governance = ?1 WHERE code = ?2",
            params![score, code],
        )?;
        Ok(changed == 1)
    }

    /// Stores a new edition (see the schema): `records` as they were at `as_of`.
    pub fn insert_edition(
        &self,
        id: Uuid,
        title: &str,
        as_of: &str,
        records: &[Record],
    ) -> Result<(), StoreError> {
        let level = Classification::highest(records.iter().map(|r| r.meta.classification));
        let json = serde_json::to_string(records).map_err(|e| StoreError::Rejected {
            problems: vec![e.to_string()],
        })?;
        self.tx.execute(
            "INSERT INTO edition (id, title, as_of, classification, created_at, author, records)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id.to_string(),
                title,
                as_of,
                i64::from(level.rank()),
                now_rfc3339(),
                self.author,
                json
            ],
        )?;
        Ok(())
    }

    /// Reads a record inside the transaction.
    pub fn get(&self, kind: Kind, id: Uuid) -> Result<Option<Record>, StoreError> {
        get(&self.tx, kind, id)
    }

    /// Which kind of record has this id, if any (deleted ones included).
    pub fn find_kind(&self, id: Uuid) -> Result<Option<(Kind, bool)>, StoreError> {
        find_kind(&self.tx, id)
    }
}

fn meta_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Meta> {
    // Borrowed column values: decoding hundreds of thousands of records (as-of views, imports)
    // is dominated by allocation, so only what the record keeps is copied.
    let text = |i: usize| -> rusqlite::Result<&str> {
        row.get_ref(i)?.as_str().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let releasable = text(2)?;
    Ok(Meta {
        id: Uuid::parse_str(text(0)?).unwrap_or_default(),
        classification: Classification::from_rank(row.get(1)?).unwrap_or(Classification::TopSecret),
        releasable_to: if releasable == "[]" {
            Vec::new()
        } else {
            // Unreadable: releasable to nobody (fail closed), never "the whole group".
            serde_json::from_str(releasable)
                .unwrap_or_else(|_| vec![super::changes::NOBODY.to_owned()])
        },
        created_at: row.get(3)?,
        updated: text(4)?.parse().unwrap_or_default(),
        updated_by: row.get(5)?,
        deleted: row.get::<_, i64>(6)? != 0,
        reference: row.get::<_, i64>(7)? != 0,
    })
}

/// The order of lists: label (case-insensitive), then id.
pub(crate) fn sort_records(records: &mut [Record]) {
    records.sort_by_cached_key(|r| {
        let label = r.label();
        let label = if label.chars().any(char::is_uppercase) {
            label.to_lowercase()
        } else {
            label
        };
        (label, r.meta.id)
    });
}

/// The quoted columns of a kind's table: the metadata of every record, then its fields.
fn columns(kind: Kind) -> Vec<String> {
    let mut columns = [
        "id",
        "classification",
        "releasable_to",
        "created_at",
        "updated_hlc",
        "updated_by",
        "deleted",
        "reference",
    ]
    .into_iter()
    .map(quote)
    .collect::<Vec<_>>();
    columns.extend(kind.fields().iter().map(|f| quote(f.name)));
    columns
}

fn select_sql(kind: Kind) -> String {
    format!("SELECT {} FROM {}", columns(kind).join(", "), kind.name())
}

fn record_from_row(kind: Kind, row: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    let meta = meta_from_row(row)?;
    let mut fields = BTreeMap::new();
    for (i, field) in kind.fields().iter().enumerate() {
        if let Some(v) = from_sql(field.ty, row.get_ref(8 + i)?) {
            fields.insert(field.name.to_owned(), v);
        }
    }
    Ok(Record { kind, meta, fields })
}

fn get(conn: &Connection, kind: Kind, id: Uuid) -> Result<Option<Record>, StoreError> {
    let sql = format!("{} WHERE id = ?1", select_sql(kind));
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![id.to_string()], |row| record_from_row(kind, row))
        .optional()?)
}

fn find_kind(conn: &Connection, id: Uuid) -> Result<Option<(Kind, bool)>, StoreError> {
    // One statement probes every kind's table (each by its primary key).
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let parts: Vec<String> = Kind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| format!("SELECT {i} AS k, deleted FROM {} WHERE id = ?1", k.name()))
            .collect();
        format!("{} LIMIT 1", parts.join(" UNION ALL "))
    });
    let found: Option<(i64, i64)> = conn
        .prepare_cached(&SQL)?
        .query_row(params![id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(found.and_then(|(k, deleted)| {
        let kind = Kind::ALL.get(usize::try_from(k).ok()?)?;
        Some((*kind, deleted != 0))
    }))
}

/// Counts of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Counts {
    /// Live records.
    pub live: u64,
    /// Tombstones.
    pub deleted: u64,
}

impl Store {
    /// Makes the following writes use this wall clock (ms since the epoch) instead of the
    /// system's, or the system's again (`None`). Only the demo uses it, to give its example
    /// data a history; clock values never go backwards (see [`Hlc::tick`]).
    pub(crate) fn simulate_clock(&mut self, wall_ms: Option<u64>) {
        self.simulated_now_ms = wall_ms;
    }

    /// Sets the owner's signing key: from now on every change-log row the owner writes is
    /// signed (see [`crate::crypto::change`]).
    pub fn set_signing_key(&mut self, key: ed25519_dalek::SigningKey) {
        self.signing_key = Some(key);
    }

    /// Runs `f` in one transaction as `author`; commits only if it succeeds.
    pub fn write<T>(
        &mut self,
        author: &str,
        f: impl FnOnce(&Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.conn.transaction()?;
        let writer = Writer {
            tx,
            author: author.to_owned(),
            now_ms: self.simulated_now_ms,
            signing: self.signing_key.as_ref(),
        };
        let result = f(&writer)?;
        writer.tx.commit()?;
        Ok(result)
    }

    /// Runs `f` in a transaction that is always rolled back: what an edit would do, without
    /// doing it (`--dry-run`).
    pub fn dry_run<T>(
        &mut self,
        author: &str,
        f: impl FnOnce(&Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.conn.transaction()?;
        let writer = Writer {
            tx,
            author: author.to_owned(),
            now_ms: self.simulated_now_ms,
            signing: self.signing_key.as_ref(),
        };
        f(&writer)
    }

    /// One record by id (deleted ones included; check `meta.deleted`).
    pub fn get(&self, kind: Kind, id: Uuid) -> Result<Option<Record>, StoreError> {
        get(&self.conn, kind, id)
    }

    /// Which kind of record has this id, and whether it is deleted.
    pub fn find_kind(&self, id: Uuid) -> Result<Option<(Kind, bool)>, StoreError> {
        find_kind(&self.conn, id)
    }

    /// All records of a kind, sorted by label then id; tombstones only if asked.
    pub fn list(&self, kind: Kind, include_deleted: bool) -> Result<Vec<Record>, StoreError> {
        let condition = if include_deleted { "1" } else { "deleted = 0" };
        let mut records = self.list_where(kind, condition, [])?;
        sort_records(&mut records);
        Ok(records)
    }

    /// The records of `kind` matching an SQL condition on its columns, in no particular order.
    pub(crate) fn list_where(
        &self,
        kind: Kind,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Record>, StoreError> {
        let sql = format!("{} WHERE {condition}", select_sql(kind));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let records = stmt
            .query_map(params, |row| record_from_row(kind, row))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(records)
    }

    /// Ids of the live records of `kind` whose searchable text has every word of `text` (as
    /// word prefixes, case- and accent-insensitive). Empty text matches nothing.
    pub fn search(
        &self,
        kind: Kind,
        text: &str,
    ) -> Result<std::collections::BTreeSet<Uuid>, StoreError> {
        let query = fts_query(text);
        if query.is_empty() {
            return Ok(std::collections::BTreeSet::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM search WHERE kind = ?1 AND search MATCH ?2")?;
        let ids = stmt
            .query_map(params![kind.name(), query], |r| r.get::<_, String>(0))?
            .filter_map(|id| id.ok().and_then(|id| Uuid::parse_str(&id).ok()))
            .collect();
        Ok(ids)
    }

    /// Live records that refer to `id` in any reference field (single or list), by kind then
    /// id.
    pub fn referring_to(&self, id: Uuid) -> Result<Vec<(Kind, Uuid)>, StoreError> {
        let mut out = Vec::new();
        let text = id.to_string();
        let in_list = format!("%\"{text}\"%");
        for kind in Kind::ALL {
            for field in kind.fields() {
                let (operator, value) = match field.ty {
                    FieldType::Ref(_) | FieldType::Node => ("=", &text),
                    FieldType::RefList(_) => ("LIKE", &in_list),
                    _ => continue,
                };
                let sql = format!(
                    "SELECT id FROM {} WHERE deleted = 0 AND {} {operator} ?1",
                    kind.name(),
                    quote(field.name)
                );
                let mut stmt = self.conn.prepare_cached(&sql)?;
                let ids = stmt.query_map(params![value], |r| r.get::<_, String>(0))?;
                for found in ids {
                    if let Ok(found) = Uuid::parse_str(&found?) {
                        out.push((kind, found));
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Live and deleted counts of a kind.
    pub fn counts(&self, kind: Kind) -> Result<Counts, StoreError> {
        let sql = format!(
            "SELECT coalesce(sum(deleted = 0), 0), coalesce(sum(deleted = 1), 0) FROM {}",
            kind.name()
        );
        let (live, deleted): (i64, i64) = self
            .conn
            .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(Counts {
            live: u64::try_from(live).unwrap_or(0),
            deleted: u64::try_from(deleted).unwrap_or(0),
        })
    }

    /// The highest classification of any live record.
    pub fn highest_classification(&self) -> Result<Classification, StoreError> {
        let mut highest = Classification::Unclassified;
        for kind in Kind::ALL {
            let sql = format!(
                "SELECT max(classification) FROM {} WHERE deleted = 0",
                kind.name()
            );
            let rank: Option<i64> = self.conn.query_row(&sql, [], |r| r.get(0))?;
            if let Some(level) = rank.and_then(Classification::from_rank) {
                highest = highest.max(level);
            }
        }
        Ok(highest)
    }

    /// A value of the `meta` table.
    pub fn meta_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Number of change-log rows.
    pub fn change_log_len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM change_log", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Positions of the supply graph's nodes, as last placed (node id, x, y).
    pub fn graph_positions(&self) -> Result<Vec<(String, f64, f64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT node, x, y FROM graph_position ORDER BY node")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Replaces the stored positions of the supply graph's nodes (empty: forget them).
    pub fn set_graph_positions(
        &mut self,
        positions: &[(String, f64, f64)],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM graph_position", [])?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO graph_position (node, x, y) VALUES (?1, ?2, ?3)",
            )?;
            for (node, x, y) in positions {
                if x.is_finite() && y.is_finite() {
                    insert.execute(params![node, x, y])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Governance risk scores (0-10, 10 = worst) recorded for countries.
    pub fn governance(&self) -> Result<BTreeMap<String, f64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT code, governance FROM country WHERE governance IS NOT NULL")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?)))?
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        Ok(rows)
    }

    /// The editions, oldest first: (id, title, as-of date, classification, created at, author).
    pub fn editions(&self) -> Result<Vec<EditionInfo>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, title, as_of, classification, created_at, author, json_array_length(records)
             FROM edition ORDER BY created_at, id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(EditionInfo {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    as_of: r.get(2)?,
                    classification: Classification::from_rank(r.get(3)?)
                        .unwrap_or(Classification::TopSecret),
                    created_at: r.get(4)?,
                    author: r.get(5)?,
                    records: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The records frozen in an edition.
    pub fn edition_records(&self, id: &str) -> Result<Vec<Record>, StoreError> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT records FROM edition WHERE id = ?1")?
            .query_row(params![id], |r| r.get(0))
            .optional()?;
        let json = json.ok_or_else(|| StoreError::UnknownRecord {
            kind: Kind::Technology,
            id: format!("edition {id}"),
        })?;
        let mut records: Vec<Record> =
            serde_json::from_str(&json).map_err(|e| StoreError::Corrupted {
                path: self.path().to_owned(),
                detail: format!("edition {id} cannot be read: {e}"),
                backups: "see `observatory info`".into(),
            })?;
        // A view of the past never shows a record below its level now: one raised after the
        // edition was frozen is shown at its new level (deleted ones at their last level).
        let mut now: HashMap<(Kind, Uuid), Classification> = HashMap::new();
        for kind in Kind::ALL {
            if !records.iter().any(|r| r.kind == kind) {
                continue;
            }
            let mut stmt = self
                .conn
                .prepare(&format!("SELECT id, classification FROM {}", kind.name()))?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (id, rank) = row?;
                if let Ok(id) = Uuid::parse_str(&id) {
                    // Unreadable: the most restricted.
                    let level =
                        Classification::from_rank(rank).unwrap_or(Classification::TopSecret);
                    now.insert((kind, id), level);
                }
            }
        }
        for record in &mut records {
            if let Some(level) = now.get(&(record.kind, record.meta.id)) {
                record.meta.classification = record.meta.classification.max(*level);
            }
        }
        Ok(records)
    }

    /// Full integrity check of the database (slower than the `quick_check` on open).
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows.into_iter().filter(|r| r != "ok").collect())
    }
}

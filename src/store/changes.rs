//! The change log as the exchange sees it: signed rows, the value that stands for each field
//! (last writer wins by clock and author; originator control for `classification` and
//! `releasable_to`, see [`crate::model::control`]), and settling a record's columns from it.
//!
//! What must stay true: a record's columns are always what its change-log rows decide, whatever
//! order the rows arrived in; a row by this file's owner is signed when it is written.

use std::collections::BTreeMap;

use rusqlite::params;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;
use uuid::Uuid;

use super::error::StoreError;
use super::file::Store;
use super::records::{CREATED_FIELD, NewRecord, Writer, insert, quote, to_sql};
use crate::crypto::change::{ChangeId, value_sha256};
use crate::model::control::{self, GuardedChange};
use crate::model::kind::Kind;
use crate::model::{Classification, Hlc};

/// Releasability of a record whose creation values were withheld and that no counted change
/// opened: releasable to nobody (not a Member State code, so no member ever matches it).
pub const NOBODY: &str = "--";

/// One change-log row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    /// Local order (`change_log.seq`).
    pub seq: i64,
    /// Record kind.
    pub record_kind: String,
    /// Record id.
    pub record_id: String,
    /// Field (`*`: the creation).
    pub field: String,
    /// Value, JSON text (`null` when withheld).
    pub value: String,
    /// Clock.
    pub hlc: String,
    /// Author id.
    pub author: String,
    /// The author's signature (base64); `None`: unsigned.
    pub signature: Option<String>,
    /// The digest the signature covers (of `value`, or the withheld value's).
    pub value_sha256: String,
    /// The value was withheld (a creation received without its values).
    pub withheld: bool,
}

impl ChangeRow {
    /// The parsed value (`Null` if unreadable or withheld).
    #[must_use]
    pub fn json(&self) -> Value {
        if self.withheld {
            return Value::Null;
        }
        serde_json::from_str(&self.value).unwrap_or(Value::Null)
    }

    /// Its clock (the zero clock if unreadable).
    #[must_use]
    pub fn clock(&self) -> Hlc {
        self.hlc.parse().unwrap_or_default()
    }
}

fn row_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChangeRow> {
    let value: String = r.get(4)?;
    let stored_digest: Option<String> = r.get(8)?;
    let withheld = stored_digest.is_some();
    Ok(ChangeRow {
        seq: r.get(0)?,
        record_kind: r.get(1)?,
        record_id: r.get(2)?,
        field: r.get(3)?,
        value_sha256: stored_digest.unwrap_or_else(|| value_sha256(&value)),
        value,
        hlc: r.get(5)?,
        author: r.get(6)?,
        signature: r.get(7)?,
        withheld,
    })
}

const ROW_COLUMNS: &str =
    "seq, record_kind, record_id, field, value, hlc, author, signature, value_sha256";

/// A change received from another member, verified, to log as it came.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedRow<'a> {
    /// Record kind.
    pub kind: Kind,
    /// Record id.
    pub id: Uuid,
    /// Field.
    pub field: &'a str,
    /// Value, JSON text exactly as signed (`None`: withheld).
    pub value: Option<&'a str>,
    /// The digest the signature covers.
    pub value_sha256: &'a str,
    /// Clock.
    pub hlc: Hlc,
    /// Author id.
    pub author: &'a str,
    /// The author's signature (base64).
    pub signature: &'a str,
}

/// The value standing for one field, and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// Clock of the change that set it.
    pub hlc: Hlc,
    /// Its author.
    pub author: String,
    /// The value (`Null`: cleared).
    pub value: Value,
    /// It is the creation row's value.
    pub from_creation: bool,
    /// The change-log row that set it (`seq`; the creation row's for a creation value).
    pub seq: i64,
}

/// What settling decided for a record: its guarded state and the proposals among its rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settled {
    /// Standing values by field (`classification`, `releasable_to`, `deleted` and the kind's
    /// fields that have one).
    pub fields: BTreeMap<String, Standing>,
    /// The change-log `seq` of the rows that are proposals (do not count).
    pub proposals: Vec<i64>,
    /// The originator (author of the creation row), if the creation row is here.
    pub originator: Option<String>,
}

/// Works out the standing value of every field from a record's rows (pure).
#[must_use]
pub fn decide(kind: Kind, rows: &[ChangeRow]) -> Settled {
    let creation = rows
        .iter()
        .filter(|r| r.field == CREATED_FIELD)
        .min_by(|a, b| (a.clock(), &a.author).cmp(&(b.clock(), &b.author)));
    let creation_values = creation.map(ChangeRow::json);
    let mut out = Settled {
        originator: creation.map(|c| c.author.clone()),
        ..Settled::default()
    };
    // Whether an assessment answers a round is fixed by its creation (a creation whose values
    // were withheld from this member counts as one: only its originator's changes count).
    let ties_to_round = creation.is_some_and(|c| c.withheld)
        || creation_values
            .as_ref()
            .and_then(|v| v.get("round_id"))
            .is_some_and(|v| !v.is_null());
    let mut ownership = control::ownership(kind, ties_to_round);
    let built_in_bloc = kind == Kind::Bloc
        && rows
            .first()
            .is_some_and(|r| crate::model::bloc::is_built_in_id(&r.record_id));
    if kind == Kind::Bloc
        && rows
            .first()
            .is_some_and(|r| crate::model::bloc::is_fixed_id(&r.record_id))
    {
        ownership = control::Ownership::Frozen;
    }
    let mut names: Vec<&str> = vec!["classification", "releasable_to", "deleted"];
    names.extend(kind.fields().iter().map(|f| f.name));
    for name in names {
        let from_creation = creation.and_then(|c| {
            let value = creation_values.as_ref()?.get(name)?.clone();
            Some(Standing {
                hlc: c.clock(),
                author: c.author.clone(),
                value,
                from_creation: true,
                seq: c.seq,
            })
        });
        let mut field_rows: Vec<&ChangeRow> = rows.iter().filter(|r| r.field == name).collect();
        // Owned records: changes by anyone but the originator (all changes, for a frozen
        // record) are proposals; see `model::control`.
        let counts = |r: &&ChangeRow| {
            // The built-in "like-minded" bloc keeps its name and is never deleted: its
            // countries are the members' to edit.
            !(built_in_bloc && (name == "name" || name == "deleted"))
                && !control::creation_only(kind, name)
                && match ownership {
                    control::Ownership::Shared => {
                        !control::originator_field(kind, name)
                            || out.originator.as_deref() == Some(r.author.as_str())
                    }
                    control::Ownership::Frozen => false,
                    control::Ownership::Originator => {
                        out.originator.as_deref() == Some(r.author.as_str())
                    }
                }
        };
        let (kept, refused): (Vec<&ChangeRow>, Vec<&ChangeRow>) =
            field_rows.into_iter().partition(|r| counts(r));
        out.proposals.extend(refused.iter().map(|r| r.seq));
        field_rows = kept;
        let standing = if control::is_guarded(name) {
            let changes: Vec<GuardedChange> = field_rows
                .iter()
                .map(|r| GuardedChange {
                    hlc: r.clock(),
                    author: r.author.clone(),
                    value: r.json(),
                })
                .collect();
            let creation_change = from_creation.as_ref().map(|s| GuardedChange {
                hlc: s.hlc,
                author: s.author.clone(),
                value: s.value.clone(),
            });
            let start = creation.map(|_| creation_change.as_ref());
            let walk = control::walk(name, out.originator.as_deref(), start, &changes);
            out.proposals.extend(
                walk.proposals
                    .iter()
                    .filter_map(|&i| field_rows.get(i))
                    .map(|r| r.seq),
            );
            match walk.standing.and_then(|i| field_rows.get(i)) {
                Some(r) => Some(Standing {
                    hlc: r.clock(),
                    author: r.author.clone(),
                    value: r.json(),
                    from_creation: false,
                    seq: r.seq,
                }),
                None => from_creation,
            }
        } else {
            let newest = field_rows
                .iter()
                .max_by(|a, b| (a.clock(), &a.author).cmp(&(b.clock(), &b.author)))
                .map(|r| Standing {
                    hlc: r.clock(),
                    author: r.author.clone(),
                    value: r.json(),
                    from_creation: false,
                    seq: r.seq,
                });
            match (newest, from_creation) {
                (Some(n), Some(c)) => Some(if (n.hlc, &n.author) > (c.hlc, &c.author) {
                    n
                } else {
                    c
                }),
                (n, c) => n.or(c),
            }
        };
        if let Some(s) = standing {
            out.fields.insert(name.to_owned(), s);
        }
    }
    out.proposals.sort_unstable();
    out
}

/// [`decide`], for a record that may have no creation row (a built-in reference record):
/// then its values as they stand are where it starts, by nobody, at the zero clock.
pub fn decide_with_current(
    kind: Kind,
    rows: &mut Vec<ChangeRow>,
    current: Option<&crate::model::Record>,
) -> Settled {
    if !rows.iter().any(|r| r.field == CREATED_FIELD)
        && let Some(current) = current
    {
        // Built-in records are created UNCLASSIFIED for the whole group: the walk starts there,
        // never from the columns (which a change being settled may have just written).
        let mut values = current.fields.clone();
        values.insert(
            "classification".into(),
            Value::from(Classification::Unclassified.code()),
        );
        values.insert("releasable_to".into(), Value::Array(Vec::new()));
        let text = Value::Object(values.into_iter().collect()).to_string();
        rows.insert(
            0,
            ChangeRow {
                seq: 0,
                record_kind: kind.name().to_owned(),
                record_id: current.meta.id.to_string(),
                field: CREATED_FIELD.to_owned(),
                value_sha256: value_sha256(&text),
                value: text,
                hlc: Hlc::default().to_string(),
                author: String::new(),
                signature: None,
                withheld: false,
            },
        );
    }
    let mut settled = decide(kind, rows);
    if settled.originator.as_deref() == Some("") {
        settled.originator = None;
    }
    settled
}

fn decided_level(settled: &Settled) -> Classification {
    settled
        .fields
        .get("classification")
        .and_then(|s| s.value.as_str())
        .and_then(|l| l.parse::<Classification>().ok())
        .unwrap_or(Classification::TopSecret)
}

fn decided_states(settled: &Settled) -> Vec<String> {
    settled
        .fields
        .get("releasable_to")
        .and_then(|s| serde_json::from_value(s.value.clone()).ok())
        .unwrap_or_else(|| vec![NOBODY.to_owned()])
}

fn decided_deleted(settled: &Settled) -> bool {
    settled
        .fields
        .get("deleted")
        .and_then(|s| s.value.as_bool())
        .unwrap_or(false)
}

fn newest_of(settled: &Settled) -> Option<(Hlc, &str)> {
    settled
        .fields
        .values()
        .max_by(|a, b| (a.hlc, &a.author).cmp(&(b.hlc, &b.author)))
        .map(|s| (s.hlc, s.author.as_str()))
}

impl Writer<'_> {
    /// Every change-log row of a record, in local order.
    pub fn record_rows(&self, kind: Kind, id: Uuid) -> Result<Vec<ChangeRow>, StoreError> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM change_log WHERE record_kind = ?1 AND record_id = ?2 ORDER BY seq"
        ))?;
        let rows = stmt
            .query_map(params![kind.name(), id.to_string()], row_from)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Logs a row by this file's owner, signed with the owner's key when one is set.
    pub(crate) fn log_local(
        &self,
        kind: Kind,
        id: Uuid,
        field: &str,
        value: &Value,
        hlc: Hlc,
    ) -> Result<(), StoreError> {
        let text = value.to_string();
        let digest = value_sha256(&text);
        let (kind_name, id_text, hlc_text) = (kind.name(), id.to_string(), hlc.to_string());
        let signature = self.signing.map(|key| {
            ChangeId {
                record_kind: kind_name,
                record_id: &id_text,
                field,
                hlc: &hlc_text,
                author: &self.author,
                value_sha256: &digest,
            }
            .sign(key)
        });
        self.tx
            .prepare_cached(
                "INSERT INTO change_log (record_kind, record_id, field, value, hlc, author, signature)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![kind_name, id_text, field, text, hlc_text, self.author, signature])?;
        Ok(())
    }

    /// Logs a verified row received from another member, as it came; returns it as stored.
    /// The caller moves the clock past what it received ([`Writer::witness_clock`]).
    pub fn log_received(&self, row: &ReceivedRow<'_>) -> Result<ChangeRow, StoreError> {
        let (value, withheld) = match row.value {
            Some(v) => (v, None),
            None => ("null", Some(row.value_sha256)),
        };
        self.tx
            .prepare_cached(
                "INSERT INTO change_log (record_kind, record_id, field, value, hlc, author, signature, value_sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                row.kind.name(),
                row.id.to_string(),
                row.field,
                value,
                row.hlc.to_string(),
                row.author,
                row.signature,
                withheld
            ])?;
        Ok(ChangeRow {
            seq: self.tx.last_insert_rowid(),
            record_kind: row.kind.name().to_owned(),
            record_id: row.id.to_string(),
            field: row.field.to_owned(),
            value: value.to_owned(),
            hlc: row.hlc.to_string(),
            author: row.author.to_owned(),
            signature: Some(row.signature.to_owned()),
            value_sha256: row.value_sha256.to_owned(),
            withheld: withheld.is_some(),
        })
    }

    /// Moves this file's clock past a clock value received from another member.
    pub fn witness_clock(&self, seen: Hlc) -> Result<(), StoreError> {
        self.witness(seen)
    }

    /// Sets a record's columns to what its change-log rows decide (see [`decide`]); `None`
    /// if the record is not here.
    pub fn settle(&self, kind: Kind, id: Uuid) -> Result<Option<Settled>, StoreError> {
        if self.find_kind(id)?.is_none() {
            return Ok(None);
        }
        let rows = self.record_rows(kind, id)?;
        let current = self.get(kind, id)?;
        Ok(self
            .settle_rows(kind, id, rows, current.as_ref())?
            .map(|(settled, _, _)| settled))
    }

    /// [`Writer::settle`] from a record's rows already read (`rows`, every one of them) and
    /// its current row (`None`: not here yet; it is created with what the rows decide if they
    /// hold its creation, else nothing happens). Returns what was decided and the record as it
    /// now stands.
    pub fn settle_rows(
        &self,
        kind: Kind,
        id: Uuid,
        mut rows: Vec<ChangeRow>,
        current: Option<&crate::model::Record>,
    ) -> Result<Option<(Settled, Classification, Vec<String>)>, StoreError> {
        let creation = rows
            .iter()
            .filter(|r| r.field == CREATED_FIELD)
            .min_by(|a, b| (a.clock(), &a.author).cmp(&(b.clock(), &b.author)))
            .map(|c| (c.clock(), c.author.clone()));
        if current.is_none() {
            let Some((hlc, author)) = creation else {
                return Ok(None);
            };
            // Created once, with the values its rows decide (no insert-then-update).
            let settled = decide(kind, &rows);
            let record = NewRecord {
                kind,
                id,
                classification: decided_level(&settled),
                releasable_to: decided_states(&settled),
                reference: false,
                fields: kind
                    .fields()
                    .iter()
                    .filter_map(|f| {
                        let v = &settled.fields.get(f.name)?.value;
                        (!v.is_null()).then(|| (f.name.to_owned(), v.clone()))
                    })
                    .collect(),
            };
            // Its last change is what `updated` names (one insert, no update after it).
            let deleted = decided_deleted(&settled);
            let (updated_hlc, updated_by) = newest_of(&settled).unwrap_or((hlc, author.as_str()));
            insert(
                &self.tx,
                &record,
                &super::records::now_rfc3339(),
                updated_hlc,
                updated_by,
            )?;
            if deleted {
                self.tx
                    .prepare_cached(&format!(
                        "UPDATE {} SET deleted = 1 WHERE id = ?1",
                        kind.name()
                    ))?
                    .execute(params![id.to_string()])?;
                super::records::index(&self.tx, kind, id, &record.fields, true)?;
            }
            return Ok(Some((settled, record.classification, record.releasable_to)));
        }
        let settled = decide_with_current(kind, &mut rows, current);
        let mut sets: Vec<String> = Vec::new();
        let mut values: Vec<SqlValue> = Vec::new();
        let level = decided_level(&settled);
        sets.push("classification".into());
        values.push(SqlValue::Integer(i64::from(level.rank())));
        let releasable = decided_states(&settled);
        sets.push("releasable_to".into());
        values.push(SqlValue::Text(
            serde_json::to_string(&releasable).unwrap_or_else(|_| "[]".into()),
        ));
        let deleted = decided_deleted(&settled);
        sets.push("deleted".into());
        values.push(SqlValue::Integer(i64::from(deleted)));
        for field in kind.fields() {
            let value = settled
                .fields
                .get(field.name)
                .map(|s| &s.value)
                .filter(|v| !v.is_null());
            sets.push(quote(field.name));
            values.push(to_sql(field.ty, value));
        }
        if let Some(newest) = settled
            .fields
            .values()
            .max_by(|a, b| (a.hlc, &a.author).cmp(&(b.hlc, &b.author)))
        {
            sets.push("updated_hlc".into());
            values.push(SqlValue::Text(newest.hlc.to_string()));
            sets.push("updated_by".into());
            values.push(SqlValue::Text(newest.author.clone()));
        }
        let assignments: Vec<String> = sets
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ?{}", i + 2))
            .collect();
        let sql = format!(
            "UPDATE {} SET {} WHERE id = ?1",
            kind.name(),
            assignments.join(", ")
        );
        let mut all = vec![SqlValue::Text(id.to_string())];
        all.extend(values);
        self.tx
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(all))?;
        let Some(record) = self.get(kind, id)? else {
            return Ok(None);
        };
        let unchanged = current
            .is_some_and(|c| c.fields == record.fields && c.meta.deleted == record.meta.deleted);
        if !unchanged {
            super::records::index(&self.tx, kind, id, &record.fields, record.meta.deleted)?;
        }
        Ok(Some((
            settled,
            record.meta.classification,
            record.meta.releasable_to,
        )))
    }

    /// Before this owner lowers or widens a record it originated: the fields whose standing
    /// value is still the creation row's are logged again as this owner's changes (same
    /// values, clock `hlc`), so that the record can later leave without its creation row
    /// (whose other values may have been above what the recipients may see).
    pub(crate) fn reassert_creation_values(
        &self,
        kind: Kind,
        id: Uuid,
        except: &[&str],
        hlc: Hlc,
    ) -> Result<(), StoreError> {
        let settled = decide(kind, &self.record_rows(kind, id)?);
        for (name, standing) in &settled.fields {
            if standing.from_creation && !except.contains(&name.as_str()) {
                self.log_local(kind, id, name, &standing.value, hlc)?;
            }
        }
        Ok(())
    }

    /// The author of a record's creation row (its originator), if that row is here.
    pub fn originator(&self, kind: Kind, id: Uuid) -> Result<Option<String>, StoreError> {
        originator_in(&self.tx, kind, id)
    }

    /// Signs every unsigned row of this owner (files from before signed authorship); returns
    /// how many.
    pub fn sign_own_history(&self) -> Result<usize, StoreError> {
        let Some(key) = self.signing else {
            return Ok(0);
        };
        let rows: Vec<ChangeRow> = self
            .tx
            .prepare(&format!(
                "SELECT {ROW_COLUMNS} FROM change_log WHERE author = ?1 AND signature IS NULL"
            ))?
            .query_map(params![self.author], row_from)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut stmt = self
            .tx
            .prepare_cached("UPDATE change_log SET signature = ?1 WHERE seq = ?2")?;
        for row in &rows {
            let signature = ChangeId {
                record_kind: &row.record_kind,
                record_id: &row.record_id,
                field: &row.field,
                hlc: &row.hlc,
                author: &row.author,
                value_sha256: &row.value_sha256,
            }
            .sign(key);
            stmt.execute(params![signature, row.seq])?;
        }
        Ok(rows.len())
    }
}

/// The author of a record's earliest creation row, if it has one.
fn originator_in(
    conn: &rusqlite::Connection,
    kind: Kind,
    id: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT author FROM change_log WHERE record_kind = ?1 AND record_id = ?2 AND field = '*'
             ORDER BY hlc, author LIMIT 1",
        )?
        .query_row(params![kind.name(), id.to_string()], |r| r.get(0))
        .optional_row()?)
}

/// `query_row` that maps "no row" to `None`.
trait OptionalRow<T> {
    fn optional_row(self) -> Result<Option<T>, rusqlite::Error>;
}

impl<T> OptionalRow<T> for Result<T, rusqlite::Error> {
    fn optional_row(self) -> Result<Option<T>, rusqlite::Error> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Store {
    /// Change-log rows in local order, from `after_seq` on (exclusive), with their signatures:
    /// what a bundle is made of.
    pub fn change_rows(&self, after_seq: i64) -> Result<Vec<ChangeRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM change_log WHERE seq > ?1 ORDER BY seq"
        ))?;
        let rows = stmt
            .query_map(params![after_seq], row_from)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The standing values and proposals of one record.
    pub fn decided(&self, kind: Kind, id: Uuid) -> Result<Settled, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM change_log WHERE record_kind = ?1 AND record_id = ?2 ORDER BY seq"
        ))?;
        let mut rows = stmt
            .query_map(params![kind.name(), id.to_string()], row_from)?
            .collect::<Result<Vec<_>, _>>()?;
        let current = self.get(kind, id)?;
        Ok(decide_with_current(kind, &mut rows, current.as_ref()))
    }

    /// The originator of a record (the author of its creation row); `None` for a built-in
    /// record.
    pub fn originator_of(&self, kind: Kind, id: Uuid) -> Result<Option<String>, StoreError> {
        originator_in(&self.conn, kind, id)
    }

    /// The `change_log.seq` of the proposals the originator decided on.
    pub fn decided_proposals(&self) -> Result<std::collections::BTreeSet<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT change_seq FROM proposal_decision")?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every change-log row of `classification` or `releasable_to`, with the creation rows of
    /// their records: what proposals are found from.
    pub fn guarded_rows(&self) -> Result<Vec<ChangeRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ROW_COLUMNS} FROM change_log WHERE (record_kind, record_id) IN
               (SELECT record_kind, record_id FROM change_log
                WHERE field IN ('classification', 'releasable_to'))
             ORDER BY record_kind, record_id, seq"
        ))?;
        let rows = stmt
            .query_map([], row_from)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

//! The register as it stood at an earlier moment, replayed from the change log.
//!
//! Records not changed after the cut-off are taken as they are now. For each of the others, its
//! change-log rows up to the cut-off clock are applied in clock order: the creation row (`*`, every value the record was created with), then each changed
//! field (`null` clears it), `classification` (by code), `releasable_to` and `deleted`. A
//! record whose first row comes after the cut-off did not exist yet; one whose replayed
//! `deleted` is true was deleted then. Records with no change-log rows at all (the built-in
//! reference technologies) are taken as they are now, from their `created_at`.

use std::collections::HashMap;

use rusqlite::params;
use serde_json::Value;
use uuid::Uuid;

use super::error::StoreError;
use super::file::Store;
use super::records::{CREATED_FIELD, sort_records};
use crate::model::{Classification, Hlc, Kind, Record};

impl Store {
    /// The live records of `kind` as they were at clock `cutoff` (inclusive), sorted like
    /// [`Store::list`]: those not changed since, as they are now, plus [`Store::rollback`].
    pub fn as_of(&self, kind: Kind, cutoff: Hlc) -> Result<Vec<Record>, StoreError> {
        let cutoff_day = cutoff.to_utc_minutes();
        let cutoff_day = cutoff_day.get(..10).unwrap_or_default();
        // Reference records (no clock) existed from the day they were created.
        let mut out = self.list_where(
            kind,
            "deleted = 0 AND updated_hlc <= ?1 AND (updated_hlc <> ?2 OR substr(created_at, 1, 10) <= ?3)",
            params![cutoff.to_string(), Hlc::default().to_string(), cutoff_day],
        )?;
        out.extend(self.rollback(kind, cutoff)?.into_values().flatten());
        sort_records(&mut out);
        Ok(out)
    }

    /// The reconstruction proper: every record of `kind` changed after `cutoff`, as it was at
    /// the cut-off (`None`: it did not exist yet, or was deleted then), replayed from the
    /// change log. Its cost follows the number of records changed since, not the size of the
    /// register.
    pub fn rollback(
        &self,
        kind: Kind,
        cutoff: Hlc,
    ) -> Result<HashMap<Uuid, Option<Record>>, StoreError> {
        let changed = self.list_where(kind, "updated_hlc > ?1", params![cutoff.to_string()])?;
        let mut logs = if changed.is_empty() {
            HashMap::new()
        } else {
            self.logs_of_changed(kind, cutoff)?
        };
        let mut out = HashMap::with_capacity(changed.len());
        for record in changed {
            let id = record.meta.id;
            // No rows up to the cut-off: created after it.
            let rows = logs.remove(&id).unwrap_or_default();
            let then = replay(record, rows, cutoff);
            out.insert(id, then);
        }
        Ok(out)
    }

    /// One record as it was at `cutoff`: `None` if it did not exist then, or was deleted.
    pub fn get_as_of(
        &self,
        kind: Kind,
        id: Uuid,
        cutoff: Hlc,
    ) -> Result<Option<Record>, StoreError> {
        let Some(record) = self.get(kind, id)? else {
            return Ok(None);
        };
        if record.meta.updated > cutoff {
            let rows = self.record_log(kind, id, cutoff)?;
            return Ok(replay(record, rows, cutoff));
        }
        let cutoff_day = cutoff.to_utc_minutes();
        let existed = record.meta.updated != Hlc::default()
            || record.meta.created_at.get(..10) <= cutoff_day.get(..10);
        Ok((existed && !record.meta.deleted).then_some(record))
    }
}

/// A record rebuilt from its change-log rows up to `cutoff` (oldest first); `None` if it did
/// not exist then or was deleted. A built-in reference record has no creation row: its history
/// starts from the built-in values, on the day it was created.
fn replay(mut record: Record, rows: Vec<LogRow>, cutoff: Hlc) -> Option<Record> {
    // A past view never shows a record below its level now (raised later: shown raised).
    let level_now = record.meta.classification;
    record.meta.deleted = false;
    if record.meta.reference {
        let cutoff_day = cutoff.to_utc_minutes();
        if record.meta.created_at.get(..10) > cutoff_day.get(..10) {
            return None;
        }
        record.fields = match record.kind {
            Kind::Technology => {
                crate::model::reference::reference_technology_fields(record.meta.id)
                    .unwrap_or_default()
            }
            _ => std::collections::BTreeMap::new(),
        };
        record.meta.classification = Classification::Unclassified;
        record.meta.releasable_to.clear();
        record.meta.updated = Hlc::default();
        record.meta.updated_by.clear();
    } else if rows.is_empty() {
        return None;
    } else {
        record.fields.clear();
    }
    let mut originator: Option<String> = None;
    for row in rows {
        if row.field == CREATED_FIELD {
            if originator.is_some() {
                // A second creation row is a forgery (the exchange refuses it): ignored.
                continue;
            }
            originator = Some(row.author.clone());
            if let Value::Object(values) = row.value {
                for (name, v) in values {
                    apply(&mut record, &name, v);
                }
            } else {
                // Its values were withheld: the most restricted until a change opens it.
                record.meta.classification = Classification::TopSecret;
                record.meta.releasable_to = vec![crate::store::changes::NOBODY.to_owned()];
            }
        } else {
            if crate::model::control::is_guarded(&row.field) {
                // Originator control, as the exchange decides it: a lowering or widening by
                // anyone but the originator is a proposal, not part of the record's history.
                let before = if row.field == "classification" {
                    Value::from(record.meta.classification.code())
                } else {
                    Value::from(record.meta.releasable_to.clone())
                };
                let by_originator = originator.as_deref() == Some(row.author.as_str());
                if !by_originator
                    && !crate::model::control::is_safe_change(&row.field, &before, &row.value)
                {
                    continue;
                }
            }
            apply(&mut record, &row.field, row.value);
        }
        record.meta.updated = row.hlc;
        record.meta.updated_by = row.author;
    }
    record.meta.classification = record.meta.classification.max(level_now);
    (!record.meta.deleted).then_some(record)
}

/// One change-log row of a record, its value decoded.
struct LogRow {
    field: String,
    value: Value,
    hlc: Hlc,
    author: String,
}

impl Store {
    /// The change-log rows up to `cutoff` (inclusive) of every record of `kind` changed after
    /// it, by record, oldest first: one statement for all of them, through the
    /// `(record_kind, record_id, field)` index.
    fn logs_of_changed(
        &self,
        kind: Kind,
        cutoff: Hlc,
    ) -> Result<HashMap<Uuid, Vec<LogRow>>, StoreError> {
        let sql = format!(
            "SELECT record_id, field, value, hlc, author FROM change_log
             WHERE record_kind = ?1 AND hlc <= ?2
               AND record_id IN (SELECT id FROM {} WHERE updated_hlc > ?2)
             ORDER BY hlc, author, seq",
            kind.name()
        );
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let mut rows = stmt.query(params![kind.name(), cutoff.to_string()])?;
        let mut logs: HashMap<Uuid, Vec<LogRow>> = HashMap::new();
        while let Some(r) = rows.next()? {
            let id =
                Uuid::parse_str(r.get_ref(0)?.as_str().unwrap_or_default()).unwrap_or_default();
            logs.entry(id).or_default().push(log_row(
                r.get(1)?,
                r.get_ref(2)?.as_str().unwrap_or("null"),
                r.get_ref(3)?.as_str().unwrap_or_default(),
                r.get(4)?,
            ));
        }
        Ok(logs)
    }

    /// A record's change-log rows up to `until` (inclusive), oldest first, through the
    /// `(record_kind, record_id, field)` index.
    fn record_log(&self, kind: Kind, id: Uuid, until: Hlc) -> Result<Vec<LogRow>, StoreError> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT field, value, hlc, author FROM change_log
             WHERE record_kind = ?1 AND record_id = ?2 AND hlc <= ?3 ORDER BY hlc, author, seq",
        )?;
        let rows = stmt
            .query_map(
                params![kind.name(), id.to_string(), until.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .map(|(field, value, hlc, author)| log_row(field, &value, &hlc, author))
            .collect())
    }

    /// Every value a field of a record has had, oldest first: (hybrid logical clock, author,
    /// value as JSON). The first entry is the value it was created with (from the record's
    /// creation row, field `*`), when it had one.
    pub fn field_history(
        &self,
        kind: Kind,
        id: Uuid,
        field: &str,
    ) -> Result<Vec<(String, String, Value)>, StoreError> {
        let latest = Hlc {
            wall_ms: Hlc::MAX_WALL_MS,
            counter: u16::MAX,
        };
        Ok(self
            .record_log(kind, id, latest)?
            .into_iter()
            .filter_map(|row| {
                let value = if row.field == CREATED_FIELD {
                    row.value.get(field)?.clone()
                } else if row.field == field {
                    row.value
                } else {
                    return None;
                };
                Some((row.hlc.to_string(), row.author, value))
            })
            .collect())
    }
}

fn log_row(field: String, value: &str, hlc: &str, author: String) -> LogRow {
    LogRow {
        field,
        value: serde_json::from_str(value).unwrap_or(Value::Null),
        hlc: hlc.parse().unwrap_or_default(),
        author,
    }
}

/// One logged value applied to a replayed record.
fn apply(record: &mut Record, name: &str, value: Value) {
    match name {
        "classification" => {
            if let Some(level) = value
                .as_str()
                .and_then(|c| c.parse::<Classification>().ok())
            {
                record.meta.classification = level;
            }
        }
        "releasable_to" => {
            // Unreadable: the most restricted, never "the whole group".
            record.meta.releasable_to = serde_json::from_value(value)
                .unwrap_or_else(|_| vec![crate::store::changes::NOBODY.to_owned()]);
        }
        "deleted" => record.meta.deleted = value.as_bool().unwrap_or(false),
        _ => {
            if value.is_null() {
                record.fields.remove(name);
            } else {
                record.fields.insert(name.to_owned(), value);
            }
        }
    }
}

/// The last clock value of a calendar day (`YYYY-MM-DD`, UTC): "as of that date".
#[must_use]
pub fn end_of_day(date: &str) -> Option<Hlc> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date.trim(), format).ok()?;
    let next = day.next_day()?.midnight().assume_utc();
    let ms = u64::try_from(next.unix_timestamp())
        .ok()?
        .checked_mul(1000)?;
    Some(Hlc {
        wall_ms: ms.saturating_sub(1),
        counter: u16::MAX,
    })
}

//! The register as it stood at an earlier moment, replayed from the change log.
//!
//! Records not changed after the cut-off are taken as they are now. For each of the others, its
//! change-log rows up to the cut-off clock are applied in clock order: the creation row (`*`, every value the record was created with), then each changed
//! field (`null` clears it), `classification` (by code), `releasable_to` and `deleted`. A
//! record whose first row comes after the cut-off did not exist yet; one whose replayed
//! `deleted` is true was deleted then. Records with no change-log rows at all (the built-in
//! reference technologies) are taken as they are now, from their `created_at`.

use std::collections::BTreeMap;

use rusqlite::params;
use serde_json::Value;
use uuid::Uuid;

use super::error::StoreError;
use super::file::Store;
use super::records::CREATED_FIELD;
use crate::model::{Classification, Hlc, Kind, Record};

impl Store {
    /// The live records of `kind` as they were at clock `cutoff` (inclusive), sorted like
    /// [`Store::list`].
    pub fn as_of(&self, kind: Kind, cutoff: Hlc) -> Result<Vec<Record>, StoreError> {
        let cutoff_day = cutoff.to_utc_minutes();
        // Records not changed since the cut-off are as they are now; only the others are
        // replayed from the change log.
        let mut out = Vec::new();
        let mut replay: BTreeMap<Uuid, Record> = BTreeMap::new();
        for record in self.list_unsorted(kind)? {
            if record.meta.updated > cutoff {
                replay.insert(record.meta.id, record);
            } else if !record.meta.deleted
                && (record.meta.updated != Hlc::default()
                    || record.meta.created_at.get(..10) <= cutoff_day.get(..10))
            {
                out.push(record);
            }
        }
        for (id, now) in replay {
            let rows = self.record_log(kind, id, cutoff)?;
            if rows.is_empty() {
                continue; // created after the cut-off
            }
            let mut record = now;
            record.fields.clear();
            record.meta.deleted = false;
            for row in rows {
                if row.field == CREATED_FIELD {
                    if let Value::Object(values) = row.value {
                        for (name, v) in values {
                            apply(&mut record, &name, v);
                        }
                    }
                } else {
                    apply(&mut record, &row.field, row.value);
                }
                record.meta.updated = row.hlc;
                record.meta.updated_by = row.author;
            }
            if !record.meta.deleted {
                out.push(record);
            }
        }
        out.sort_by_cached_key(|r| (r.label().to_lowercase(), r.meta.id));
        Ok(out)
    }
}

/// One change-log row of a record, its value decoded.
struct LogRow {
    field: String,
    value: Value,
    hlc: Hlc,
    author: String,
}

impl Store {
    /// A record's change-log rows up to `until` (inclusive), oldest first, through the
    /// `(record_kind, record_id, field)` index.
    fn record_log(&self, kind: Kind, id: Uuid, until: Hlc) -> Result<Vec<LogRow>, StoreError> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT field, value, hlc, author FROM change_log
             WHERE record_kind = ?1 AND record_id = ?2 AND hlc <= ?3 ORDER BY hlc, seq",
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
            .map(|(field, value, hlc, author)| LogRow {
                field,
                value: serde_json::from_str(&value).unwrap_or(Value::Null),
                hlc: hlc.parse().unwrap_or_default(),
                author,
            })
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
            record.meta.releasable_to = serde_json::from_value(value).unwrap_or_default();
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

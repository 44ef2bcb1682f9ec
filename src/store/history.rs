//! The register as it stood at an earlier moment, replayed from the change log.
//!
//! For each record of a kind, the change-log rows up to the cut-off clock are applied in clock
//! order: the creation row (`*`, every value the record was created with), then each changed
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
        let mut stmt = self.connection().prepare_cached(
            "SELECT record_id, field, value, hlc, author FROM change_log
             WHERE record_kind = ?1 ORDER BY hlc, seq",
        )?;
        let rows = stmt
            .query_map(params![kind.name()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let current: BTreeMap<Uuid, Record> = self
            .list(kind, true)?
            .into_iter()
            .map(|r| (r.meta.id, r))
            .collect();
        let mut logged: BTreeMap<Uuid, Option<Record>> = BTreeMap::new();
        for (id, field, value, hlc, author) in rows {
            let (Ok(id), Ok(hlc)) = (Uuid::parse_str(&id), hlc.parse::<Hlc>()) else {
                continue;
            };
            let entry = logged.entry(id).or_insert(None);
            if hlc > cutoff {
                continue;
            }
            let record = entry.get_or_insert_with(|| {
                let mut record = current.get(&id).cloned().unwrap_or(Record {
                    kind,
                    meta: crate::model::Meta {
                        id,
                        classification: Classification::Unclassified,
                        releasable_to: Vec::new(),
                        created_at: String::new(),
                        updated: Hlc::default(),
                        updated_by: String::new(),
                        deleted: false,
                        reference: false,
                    },
                    fields: BTreeMap::new(),
                });
                record.fields.clear();
                record.meta.deleted = false;
                record
            });
            let value: Value = serde_json::from_str(&value).unwrap_or(Value::Null);
            if field == CREATED_FIELD {
                if let Value::Object(values) = value {
                    for (name, v) in values {
                        apply(record, &name, v);
                    }
                }
            } else {
                apply(record, &field, value);
            }
            record.meta.updated = hlc;
            record.meta.updated_by = author;
        }
        let cutoff_day = cutoff.to_utc_minutes();
        let mut out: Vec<Record> = current
            .values()
            .filter(|r| !logged.contains_key(&r.meta.id))
            .filter(|r| !r.meta.deleted && r.meta.created_at.get(..10) <= cutoff_day.get(..10))
            .cloned()
            .collect();
        out.extend(logged.into_values().flatten().filter(|r| !r.meta.deleted));
        out.sort_by_cached_key(|r| (r.label().to_lowercase(), r.meta.id));
        Ok(out)
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

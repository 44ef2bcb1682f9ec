//! The merge plan for one record: which received changes are new, already here, forged, or
//! in conflict with a value that stands here. Pure: the service logs what it says and then
//! settles the record from its change log (`store::changes`), which decides the columns.

use std::collections::BTreeMap;

use serde_json::Value;

use super::verify::Checked;
use crate::model::Hlc;

/// A change-log row already here, as the plan needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    /// Field (`*`: the creation).
    pub field: String,
    /// Clock.
    pub hlc: Hlc,
    /// Author.
    pub author: String,
    /// The digest its signature covers.
    pub value_sha256: String,
    /// Its value (`Null` if withheld).
    pub value: Value,
}

/// A value that lost to another by clock, for the conflict list.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// Field.
    pub field: String,
    /// The value that stands: clock and author.
    pub winner: (Hlc, String),
    /// The value that lost: value, clock, author.
    pub loser: (Value, Hlc, String),
}

/// What to do with the received changes of one record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordPlan {
    /// Positions (in the slice given) of the changes to log, in clock order.
    pub log: Vec<usize>,
    /// The one that creates the record here, if any.
    pub creates: Option<usize>,
    /// Changes already here.
    pub duplicates: usize,
    /// Changes refused as forgeries, with why.
    pub refused: Vec<(usize, String)>,
    /// Logged changes that win by clock (the value that stands now).
    pub winning: usize,
    /// Values that lost to another member's.
    pub conflicts: Vec<Conflict>,
}

/// Plans the merge of `incoming` (changes of one record, checked and with verified authors)
/// against the rows already here (`existing`).
#[must_use]
pub fn plan_record(existing: &[Logged], incoming: &[Checked<'_>], exists: bool) -> RecordPlan {
    let mut plan = RecordPlan::default();
    let mut seen: BTreeMap<(String, Hlc, String), String> = existing
        .iter()
        .map(|r| {
            (
                (r.field.clone(), r.hlc, r.author.clone()),
                r.value_sha256.clone(),
            )
        })
        .collect();
    let mut creation: Option<(Hlc, String, Value)> = existing
        .iter()
        .filter(|r| r.field == "*")
        .min_by(|a, b| (a.hlc, &a.author).cmp(&(b.hlc, &b.author)))
        .map(|r| (r.hlc, r.author.clone(), r.value.clone()));
    // The value standing for each field (last writer wins), from the rows here.
    let mut standing: BTreeMap<String, (Hlc, String, Value)> = BTreeMap::new();
    let offer = |standing: &mut BTreeMap<String, (Hlc, String, Value)>,
                 field: &str,
                 hlc: Hlc,
                 author: &str,
                 value: &Value| {
        let newer = standing
            .get(field)
            .is_none_or(|(h, a, _)| (hlc, author) > (*h, a.as_str()));
        if newer {
            standing.insert(field.to_owned(), (hlc, author.to_owned(), value.clone()));
        }
    };
    if let Some((h, a, Value::Object(values))) = &creation {
        for (k, v) in values {
            offer(&mut standing, k, *h, a, v);
        }
    }
    for r in existing.iter().filter(|r| r.field != "*") {
        offer(&mut standing, &r.field, r.hlc, &r.author, &r.value);
    }
    let mut order: Vec<usize> = (0..incoming.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&incoming[a], &incoming[b]);
        (x.hlc, &x.change.author).cmp(&(y.hlc, &y.change.author))
    });
    for i in order {
        let c = &incoming[i];
        let author = c.change.author.as_str();
        let key = (c.change.field.clone(), c.hlc, author.to_owned());
        if let Some(digest) = seen.get(&key) {
            if *digest == c.change.value_sha256 {
                plan.duplicates += 1;
            } else {
                plan.refused.push((
                    i,
                    "the same change (record, field, clock, author) is here with another value: forged".into(),
                ));
            }
            continue;
        }
        if c.change.field == "*" {
            if let Some((h, a, _)) = &creation {
                if (*h, a.as_str()) != (c.hlc, author) {
                    plan.refused.push((
                        i,
                        "a second creation of a record that exists: forged".into(),
                    ));
                    continue;
                }
            } else if exists {
                plan.refused.push((
                    i,
                    "a creation of a record that exists here without one (a built-in record): forged".into(),
                ));
                continue;
            }
            creation = Some((c.hlc, author.to_owned(), c.change.json()));
            if !exists {
                plan.creates = Some(i);
            }
            if let Value::Object(values) = c.change.json() {
                for (k, v) in &values {
                    offer(&mut standing, k, c.hlc, author, v);
                }
            }
        } else {
            let value = c.change.json();
            let field = c.change.field.as_str();
            let guarded = crate::model::control::is_guarded(field);
            let before = standing.get(field).cloned();
            let wins = before
                .as_ref()
                .is_none_or(|(h, a, _)| (c.hlc, author) > (*h, a.as_str()));
            if wins {
                plan.winning += 1;
            }
            // Both sides set this field to different values: keep the one that lost (for the
            // guarded fields, originator control decides instead; see `model::control`).
            if let Some((h, a, current)) = &before
                && !guarded
                && a != author
                && *current != value
            {
                plan.conflicts.push(if wins {
                    Conflict {
                        field: field.to_owned(),
                        winner: (c.hlc, author.to_owned()),
                        loser: (current.clone(), *h, a.clone()),
                    }
                } else {
                    Conflict {
                        field: field.to_owned(),
                        winner: (*h, a.clone()),
                        loser: (value.clone(), c.hlc, author.to_owned()),
                    }
                });
            }
            offer(&mut standing, field, c.hlc, author, &value);
        }
        seen.insert(key, c.change.value_sha256.clone());
        plan.log.push(i);
    }
    plan
}

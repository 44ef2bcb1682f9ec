//! Comparisons of the register with itself over time: between two dates (replayed from the
//! change log) and between two editions. `observatory changes` / `edition diff` print them,
//! the app's "Compare with" and Editions windows show them; the JSON field names are the
//! command line's contract.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{ServiceError, Session};
use crate::analysis::{self, SupplyGraph};
use crate::model::{Classification, Hlc, Kind, Record};

/// HHI from which supply counts as highly concentrated (the usual competition threshold).
pub const HIGH_CONCENTRATION: f64 = 2_500.0;

/// The latest TRL of each subject (by assessment date).
#[must_use]
pub fn trl_by_subject(assessments: &[Record]) -> BTreeMap<String, i64> {
    analysis::latest_assessments(assessments)
        .into_iter()
        .filter_map(|(subject, a)| {
            Some((
                subject.to_string(),
                a.fields.get("trl").and_then(Value::as_i64)?,
            ))
        })
        .collect()
}

/// What changed in the register from clock `from` to clock `to`: records `added`, `removed`
/// and `changed` (field by field), `links_added`, `links_removed`, `share_changes`,
/// `trl_changes`, `risks_new` and `risks_resolved` (items whose supply became, or stopped
/// being, highly concentrated), with the highest `classification` / `marking` among them.
#[allow(clippy::too_many_lines)]
pub fn changes_between(
    session: &Session,
    from: Hlc,
    to: Hlc,
) -> Result<(Value, Classification), ServiceError> {
    let store = session.store();
    let mut highest = Classification::Unclassified;
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut changed = Vec::new();
    let mut before_all: BTreeMap<Kind, Vec<Record>> = BTreeMap::new();
    let mut after_all: BTreeMap<Kind, Vec<Record>> = BTreeMap::new();
    for kind in Kind::ALL {
        let before = store.as_of(kind, from)?;
        let after = store.as_of(kind, to)?;
        let old: BTreeMap<_, _> = before.iter().map(|r| (r.meta.id, r)).collect();
        let new: BTreeMap<_, _> = after.iter().map(|r| (r.meta.id, r)).collect();
        for (id, r) in &new {
            match old.get(id) {
                None => {
                    highest = highest.max(r.meta.classification);
                    added.push(json!({"kind": kind.name(), "id": id, "label": r.label()}));
                }
                Some(o) => {
                    let mut fields = serde_json::Map::new();
                    for name in o.fields.keys().chain(r.fields.keys()) {
                        let (a, b) = (o.fields.get(name), r.fields.get(name));
                        if a != b {
                            fields.insert(name.clone(), json!([a, b]));
                        }
                    }
                    if o.meta.classification != r.meta.classification {
                        fields.insert(
                            "classification".into(),
                            json!([o.meta.classification.code(), r.meta.classification.code()]),
                        );
                    }
                    if !fields.is_empty() {
                        highest = highest
                            .max(r.meta.classification)
                            .max(o.meta.classification);
                        changed.push(json!({"kind": kind.name(), "id": id, "label": r.label(), "fields": fields}));
                    }
                }
            }
        }
        for (id, o) in &old {
            if !new.contains_key(id) {
                highest = highest.max(o.meta.classification);
                removed.push(json!({"kind": kind.name(), "id": id, "label": o.label()}));
            }
        }
        before_all.insert(kind, before);
        after_all.insert(kind, after);
    }
    let pick =
        |all: &BTreeMap<Kind, Vec<Record>>, kind| all.get(&kind).cloned().unwrap_or_default();
    let kind_of = |list: &Vec<Value>, kind: Kind| -> Vec<Value> {
        list.iter()
            .filter(|v| v["kind"] == kind.name())
            .cloned()
            .collect()
    };
    let share_changes: Vec<Value> = changed
        .iter()
        .filter(|c| c["kind"] == "link" && c["fields"].get("share").is_some())
        .map(|c| json!({"id": c["id"], "label": c["label"], "from": c["fields"]["share"][0], "to": c["fields"]["share"][1]}))
        .collect();
    let (trl_before, trl_after) = (
        trl_by_subject(&pick(&before_all, Kind::Assessment)),
        trl_by_subject(&pick(&after_all, Kind::Assessment)),
    );
    let trl_changes: Vec<Value> = trl_after
        .iter()
        .filter_map(|(subject, trl)| {
            let old = trl_before.get(subject);
            (old != Some(trl)).then(|| json!({"subject": subject, "name": session.describe(subject), "from": old, "to": trl}))
        })
        .collect();
    let concentrated = |all: &BTreeMap<Kind, Vec<Record>>| -> BTreeMap<String, (String, f64)> {
        analysis::concentration(
            &pick(all, Kind::Item),
            &pick(all, Kind::Organisation),
            &pick(all, Kind::Link),
        )
        .into_iter()
        .filter(|c| c.hhi >= HIGH_CONCENTRATION)
        .map(|c| (c.id.to_string(), (c.name, c.hhi)))
        .collect()
    };
    let (risky_before, risky_after) = (concentrated(&before_all), concentrated(&after_all));
    let risks =
        |a: &BTreeMap<String, (String, f64)>, b: &BTreeMap<String, (String, f64)>| -> Vec<Value> {
            a.iter()
                .filter(|(id, _)| !b.contains_key(*id))
                .map(|(id, (name, hhi))| json!({"id": id, "name": name, "hhi": hhi.round()}))
                .collect()
        };
    let report = json!({
        "classification": highest.code(), "marking": highest.marking(),
        "added": added, "removed": removed, "changed": changed,
        "links_added": kind_of(&added, Kind::Link), "links_removed": kind_of(&removed, Kind::Link),
        "share_changes": share_changes, "trl_changes": trl_changes,
        "risks_new": risks(&risky_after, &risky_before),
        "risks_resolved": risks(&risky_before, &risky_after),
    });
    Ok((report, highest))
}

fn of_kind(records: &[Record], kind: Kind) -> Vec<Record> {
    records.iter().filter(|r| r.kind == kind).cloned().collect()
}

/// What changed from edition `a` to edition `b` (`technologies_added` / `_removed`,
/// `trl_changes`, `risk_changes`, `measures_started` / `_finished`).
#[must_use]
pub fn diff_editions(a: &[Record], b: &[Record]) -> Value {
    let names = |records: &[Record], kind| -> BTreeMap<String, String> {
        of_kind(records, kind)
            .iter()
            .map(|r| (r.meta.id.to_string(), r.label()))
            .collect()
    };
    let (ta, tb) = (names(a, Kind::Technology), names(b, Kind::Technology));
    let listed =
        |from: &BTreeMap<String, String>, other: &BTreeMap<String, String>| -> Vec<Value> {
            from.iter()
                .filter(|(id, _)| !other.contains_key(*id))
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect()
        };
    let (trl_a, trl_b) = (
        trl_by_subject(&of_kind(a, Kind::Assessment)),
        trl_by_subject(&of_kind(b, Kind::Assessment)),
    );
    let trl_changes: Vec<Value> = trl_b
        .iter()
        .filter(|(id, _)| tb.contains_key(*id))
        .filter_map(|(id, trl)| {
            let old = trl_a.get(id);
            (old != Some(trl)).then(|| json!({"id": id, "name": tb[id], "from": old, "to": trl}))
        })
        .collect();
    let risk = |records: &[Record]| -> BTreeMap<String, f64> {
        SupplyGraph::from_records(
            &of_kind(records, Kind::Technology),
            &of_kind(records, Kind::Item),
            &of_kind(records, Kind::Organisation),
            &of_kind(records, Kind::Link),
        )
        .technology_metrics(None)
        .into_iter()
        .filter_map(|m| Some((m.id, m.supply_risk?)))
        .collect()
    };
    let (risk_a, risk_b) = (risk(a), risk(b));
    let risk_changes: Vec<Value> = tb
        .iter()
        .filter_map(|(id, name)| {
            let (old, new) = (risk_a.get(id), risk_b.get(id));
            let moved = match (old, new) {
                (Some(o), Some(n)) => (o - n).abs() >= 0.05,
                (None, None) => false,
                _ => true,
            };
            moved.then(|| json!({"id": id, "name": name, "from": old, "to": new}))
        })
        .collect();
    let status = |records: &[Record]| -> BTreeMap<String, (String, String)> {
        of_kind(records, Kind::Measure)
            .iter()
            .map(|m| {
                (
                    m.meta.id.to_string(),
                    (m.label(), m.text("status").unwrap_or("").to_owned()),
                )
            })
            .collect()
    };
    let (ma, mb) = (status(a), status(b));
    let moved_to = |targets: &[&str], before_not: &[&str]| -> Vec<Value> {
        mb.iter()
            .filter(|(_, (_, s))| targets.contains(&s.as_str()))
            .filter(|(id, _)| {
                ma.get(*id)
                    .is_none_or(|(_, s)| !before_not.contains(&s.as_str()))
            })
            .map(|(id, (name, s))| json!({"id": id, "name": name, "status": s}))
            .collect()
    };
    json!({
        "technologies_added": listed(&tb, &ta),
        "technologies_removed": listed(&ta, &tb),
        "trl_changes": trl_changes,
        "risk_changes": risk_changes,
        "measures_started": moved_to(&["ongoing", "completed"], &["ongoing", "completed"]),
        "measures_finished": moved_to(&["completed"], &["completed"]),
    })
}

//! `changes`: what changed in the register between two dates, replayed from the change log:
//! records added, removed and changed (field by field), links added and removed, shifts of
//! supply shares, TRL moves, and new and resolved concentration risks (items whose supply
//! became, or stopped being, highly concentrated: HHI of at least [`HIGH_CONCENTRATION`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use super::{Cli, InputError, OutputFormat, open};
use crate::analysis;
use crate::model::{Classification, Kind, Record};
use crate::store::{OpenMode, end_of_day};

/// HHI from which supply counts as highly concentrated (the usual competition threshold).
pub const HIGH_CONCENTRATION: f64 = 2_500.0;

/// Arguments of `changes`.
#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// The observatory file.
    file: PathBuf,
    /// The earlier date (the register at the end of that day, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    from: String,
    /// The later date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    to: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

/// The latest TRL of each subject (by assessment date).
pub(super) fn trl_by_subject(assessments: &[Record]) -> BTreeMap<String, i64> {
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

#[allow(clippy::too_many_lines)]
pub(super) fn changes(cli: &Cli, args: &ChangesArgs) -> anyhow::Result<ExitCode> {
    let date = |text: &str, flag: &str| {
        end_of_day(text)
            .ok_or_else(|| InputError(format!("{flag}: {text:?} is not a date (YYYY-MM-DD)")))
    };
    let (from, to) = (date(&args.from, "--from")?, date(&args.to, "--to")?);
    if from > to {
        return Err(InputError("--from must not be later than --to".into()).into());
    }
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
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
        "from": args.from, "to": args.to,
        "classification": highest.code(), "marking": highest.marking(),
        "added": added, "removed": removed, "changed": changed,
        "links_added": kind_of(&added, Kind::Link), "links_removed": kind_of(&removed, Kind::Link),
        "share_changes": share_changes, "trl_changes": trl_changes,
        "risks_new": risks(&risky_after, &risky_before),
        "risks_resolved": risks(&risky_before, &risky_after),
    });
    match args.format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Table => {
            let banner = format!("== {} ==", highest.marking());
            outln!("{banner}");
            outln!(
                "Changes recorded after {} up to the end of {}",
                args.from,
                args.to
            );
            let section = |title: &str, list: &Value, line: &dyn Fn(&Value) -> String| {
                let items = list.as_array().cloned().unwrap_or_default();
                outln!("{title}: {}", items.len());
                for item in items.iter().take(50) {
                    outln!("  {}", line(item));
                }
                if items.len() > 50 {
                    outln!("  ... and {} more (see --format json)", items.len() - 50);
                }
            };
            let label = |v: &Value| {
                format!(
                    "{} {}",
                    v["kind"].as_str().unwrap_or(""),
                    v["label"].as_str().unwrap_or("")
                )
            };
            section("added", &report["added"], &label);
            section("removed", &report["removed"], &label);
            section("changed", &report["changed"], &|v| {
                let names: Vec<String> = v["fields"]
                    .as_object()
                    .map(|f| f.keys().cloned().collect())
                    .unwrap_or_default();
                format!("{} ({})", label(v), names.join(", "))
            });
            section("share changes", &report["share_changes"], &|v| {
                format!(
                    "{}: {} -> {}",
                    v["label"].as_str().unwrap_or(""),
                    v["from"],
                    v["to"]
                )
            });
            section("TRL changes", &report["trl_changes"], &|v| {
                format!(
                    "{}: {} -> {}",
                    v["name"].as_str().unwrap_or(""),
                    v["from"],
                    v["to"]
                )
            });
            section("new concentration risks", &report["risks_new"], &|v| {
                format!("{} (HHI {})", v["name"].as_str().unwrap_or(""), v["hhi"])
            });
            section(
                "resolved concentration risks",
                &report["risks_resolved"],
                &|v| format!("{} (HHI {})", v["name"].as_str().unwrap_or(""), v["hhi"]),
            );
            outln!("{banner}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

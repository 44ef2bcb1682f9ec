//! `edition freeze | list | diff`: frozen, dated copies of the register that reports are made
//! from, and what changed from one to another.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::changes::trl_by_subject;
use super::{Cli, OutputFormat, open};
use crate::analysis::SupplyGraph;
use crate::model::{Kind, Record};
use crate::store::OpenMode;

/// Arguments of `edition`.
#[derive(Debug, Args)]
pub struct EditionArgs {
    #[command(subcommand)]
    command: EditionCommand,
}

#[derive(Debug, Subcommand)]
enum EditionCommand {
    /// Freeze the register (now, or as it stood at the end of a date) as a new edition.
    Freeze {
        /// The observatory file.
        file: PathBuf,
        /// Title, e.g. "Critical technologies report 2026".
        #[arg(long)]
        title: String,
        /// Freeze the register as it stood at the end of this day (UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<String>,
    },
    /// List the editions.
    List {
        /// The observatory file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Compare two editions (ids or titles): technologies added and removed, TRL and supply
    /// risk changes, measures started and finished.
    Diff {
        /// The observatory file.
        file: PathBuf,
        /// The earlier edition.
        a: String,
        /// The later edition.
        b: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
}

pub(super) fn edition(cli: &Cli, args: &EditionArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        EditionCommand::Freeze { file, title, as_of } => {
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let id = session.freeze_edition(title, as_of.as_deref())?;
            session.save()?;
            let info = session.find_edition(&id.to_string())?;
            outln!(
                "{id}\nfroze {} record(s) as of {} as {:?} ({})",
                info.records,
                info.as_of,
                info.title,
                info.classification.marking()
            );
        }
        EditionCommand::List { file, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let editions = session.store().editions()?;
            match format {
                OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&editions)?),
                OutputFormat::Table => {
                    for e in &editions {
                        outln!(
                            "{}  {}  {:>6} records  {:<12}  {}",
                            e.id,
                            e.as_of,
                            e.records,
                            e.classification.code(),
                            e.title
                        );
                    }
                    outln!("{} edition(s)", editions.len());
                }
            }
        }
        EditionCommand::Diff { file, a, b, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let (ea, eb) = (session.find_edition(a)?, session.find_edition(b)?);
            let ra = session.store().edition_records(&ea.id)?;
            let rb = session.store().edition_records(&eb.id)?;
            let highest = ea.classification.max(eb.classification);
            let report = diff(&ra, &rb);
            let mut body = json!({
                "a": {"id": ea.id, "title": ea.title, "as_of": ea.as_of},
                "b": {"id": eb.id, "title": eb.title, "as_of": eb.as_of},
                "classification": highest.code(), "marking": highest.marking(),
            });
            if let (Value::Object(body), Value::Object(report)) = (&mut body, report) {
                body.extend(report);
            }
            match format {
                OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&body)?),
                OutputFormat::Table => {
                    let banner = format!("== {} ==", highest.marking());
                    outln!("{banner}");
                    outln!(
                        "From {:?} ({}) to {:?} ({})",
                        ea.title,
                        ea.as_of,
                        eb.title,
                        eb.as_of
                    );
                    for (key, title) in [
                        ("technologies_added", "technologies added"),
                        ("technologies_removed", "technologies removed"),
                        ("trl_changes", "TRL changes"),
                        ("risk_changes", "supply risk changes"),
                        ("measures_started", "measures started"),
                        ("measures_finished", "measures finished"),
                    ] {
                        let list = body[key].as_array().cloned().unwrap_or_default();
                        outln!("{title}: {}", list.len());
                        for item in list {
                            let name = item["name"].as_str().unwrap_or("");
                            if let (Some(f), Some(t)) = (item.get("from"), item.get("to")) {
                                outln!("  {name}: {f} -> {t}");
                            } else {
                                outln!("  {name}");
                            }
                        }
                    }
                    outln!("{banner}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn of_kind(records: &[Record], kind: Kind) -> Vec<Record> {
    records.iter().filter(|r| r.kind == kind).cloned().collect()
}

/// What changed from edition `a` to edition `b`.
fn diff(a: &[Record], b: &[Record]) -> Value {
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

//! `edition freeze | list | diff`: frozen, dated copies of the register that reports are made
//! from, and what changed from one to another.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{Cli, OutputFormat, open};
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
            let report = crate::service::compare::diff_editions(&ra, &rb);
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

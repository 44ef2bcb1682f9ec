//! `changes`: what changed in the register between two dates, replayed from the change log:
//! records added, removed and changed (field by field), links added and removed, shifts of
//! supply shares, TRL moves, and new and resolved concentration risks (items whose supply
//! became, or stopped being, highly concentrated: HHI of at least [`crate::service::compare::HIGH_CONCENTRATION`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use super::{Cli, InputError, OutputFormat, open};
use crate::service::compare;
use crate::store::{OpenMode, end_of_day};

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
    let (mut report, highest) = compare::changes_between(&session, from, to)?;
    if let Value::Object(map) = &mut report {
        map.insert("from".into(), json!(args.from));
        map.insert("to".into(), json!(args.to));
    }
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

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
    #[arg(long, value_name = "YYYY-MM-DD", required_unless_present = "from_year", conflicts_with_all = ["from_year", "to_year"])]
    from: Option<String>,
    /// The later date.
    #[arg(long, value_name = "YYYY-MM-DD", required_unless_present = "from_year", conflicts_with_all = ["from_year", "to_year"])]
    to: Option<String>,
    /// The earlier data year: compare the figures of two data years (each item's latest
    /// figures at or before the year), as the register holds them now.
    #[arg(long, value_name = "YYYY", requires = "to_year", value_parser = clap::value_parser!(i64).range(1900..=2200))]
    from_year: Option<i64>,
    /// The later data year.
    #[arg(long, value_name = "YYYY", requires = "from_year", value_parser = clap::value_parser!(i64).range(1900..=2200))]
    to_year: Option<i64>,
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
    if let (Some(from_year), Some(to_year)) = (args.from_year, args.to_year) {
        return year_changes(cli, args, from_year, to_year);
    }
    let (Some(from_text), Some(to_text)) = (&args.from, &args.to) else {
        return Err(InputError("give --from and --to, or --from-year and --to-year".into()).into());
    };
    let (from, to) = (date(from_text, "--from")?, date(to_text, "--to")?);
    if from > to {
        return Err(InputError("--from must not be later than --to".into()).into());
    }
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let (mut report, highest) = compare::changes_between(&session, from, to)?;
    if let Value::Object(map) = &mut report {
        map.insert("from".into(), json!(from_text));
        map.insert("to".into(), json!(to_text));
    }
    match args.format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Table => {
            let banner = format!("== {} ==", highest.marking());
            outln!("{banner}");
            outln!("Changes recorded after {from_text} up to the end of {to_text}");
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

fn round(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// Share shifts and concentration changes between two data years (`--from-year`,
/// `--to-year`): each item's figures at the two years (the latest at or before each, per
/// source, as `analyse --year` computes them), compared.
#[allow(clippy::too_many_lines)]
fn year_changes(
    cli: &Cli,
    args: &ChangesArgs,
    from_year: i64,
    to_year: i64,
) -> anyhow::Result<ExitCode> {
    if from_year > to_year {
        return Err(InputError("--from-year must not be later than --to-year".into()).into());
    }
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let records = session.supply_records_at(None)?;
    let highest = records.highest();
    let before: std::collections::BTreeMap<uuid::Uuid, crate::analysis::ItemConcentration> =
        records
            .graph_at(Some(from_year))
            .item_metrics()
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let after = records.graph_at(Some(to_year)).item_metrics();
    // Releases of one series (MCS 2023, MCS 2024) are one source for comparison: the same
    // publisher.
    let series = |id: &str| -> String {
        uuid::Uuid::parse_str(id)
            .ok()
            .and_then(|u| session.get(crate::model::Kind::Source, u).ok())
            .and_then(|r| r.text("publisher").map(str::to_owned))
            .unwrap_or_else(|| id.to_owned())
    };
    let mut shifts = Vec::new();
    let mut concentration = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for now in &after {
        seen.insert(now.id);
        let then = before.get(&now.id);
        let hhi_from = then.map(|t| t.hhi);
        let same_source = then.is_none_or(|t| series(&t.source) == series(&now.source));
        concentration.push(json!({
            "id": now.id, "name": now.name,
            "year_from": then.and_then(|t| t.year), "year_to": now.year,
            "hhi_from": hhi_from.map(round), "hhi_to": round(now.hhi),
            "hhi_change": hhi_from.map(|h| round(now.hhi - h)),
            "top_country_from": then.map(|t| t.top_country.clone()),
            "top_country_to": now.top_country,
            "firm_hhi_from": then.and_then(|t| t.firm_hhi).map(round),
            "firm_hhi_to": now.firm_hhi.map(round),
            "unattributed_from": then.map(|t| round(t.unattributed_share)),
            "unattributed_to": round(now.unattributed_share),
            // A change of source is no change of supply: said, so it is not read as one.
            "source_from": then.map(|t| t.source.clone()),
            "source_to": now.source,
            "same_source": same_source,
        }));
        let empty = std::collections::BTreeMap::new();
        let old = then.map_or(&empty, |t| &t.country_shares);
        let codes: std::collections::BTreeSet<&String> =
            old.keys().chain(now.country_shares.keys()).collect();
        for code in codes {
            let (a, b) = (
                old.get(code).copied().unwrap_or(0.0),
                now.country_shares.get(code).copied().unwrap_or(0.0),
            );
            if (a - b).abs() > 1e-9 {
                shifts.push(json!({
                    "item_id": now.id, "item": now.name, "country": code,
                    "from": round(a), "to": round(b), "shift": round(b - a),
                    "same_source": same_source,
                }));
            }
        }
    }
    for (id, then) in &before {
        if !seen.contains(id) {
            concentration.push(json!({
                "id": id, "name": then.name, "year_from": then.year, "year_to": null,
                "hhi_from": round(then.hhi), "hhi_to": null, "hhi_change": null,
            }));
        }
    }
    // Largest changes first.
    let key = |v: &Value, field: &str| v[field].as_f64().map_or(0.0, f64::abs);
    shifts.sort_by(|a, b| key(b, "shift").total_cmp(&key(a, "shift")));
    concentration.sort_by(|a, b| key(b, "hhi_change").total_cmp(&key(a, "hhi_change")));
    let report = json!({
        "classification": highest.code(),
        "marking": highest.marking(),
        "from_year": from_year,
        "to_year": to_year,
        "share_shifts": shifts,
        "concentration_changes": concentration,
    });
    match args.format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Table => {
            let banner = format!("== {} ==", highest.marking());
            outln!("{banner}");
            outln!(
                "Figures of data year {from_year} against {to_year} (each the latest at or before it)"
            );
            outln!("Concentration (HHI) changes:");
            for c in report["concentration_changes"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if c["hhi_change"].as_f64().is_some_and(|h| h.abs() < 1e-9) {
                    continue;
                }
                outln!(
                    "  {}: {} ({}) -> {} ({}){}",
                    c["name"].as_str().unwrap_or(""),
                    c["hhi_from"]
                        .as_f64()
                        .map_or_else(|| "-".to_owned(), |h| format!("{h:.0}")),
                    c["year_from"],
                    c["hhi_to"]
                        .as_f64()
                        .map_or_else(|| "-".to_owned(), |h| format!("{h:.0}")),
                    c["year_to"],
                    if c["same_source"] == json!(false) {
                        "  [another source: not comparable as a change]"
                    } else {
                        ""
                    },
                );
            }
            outln!("Share shifts:");
            for s in report["share_shifts"]
                .as_array()
                .into_iter()
                .flatten()
                .take(100)
            {
                outln!(
                    "  {} {}: {:.1}% -> {:.1}%{}",
                    s["item"].as_str().unwrap_or(""),
                    s["country"].as_str().unwrap_or(""),
                    s["from"].as_f64().unwrap_or(0.0) * 100.0,
                    s["to"].as_f64().unwrap_or(0.0) * 100.0,
                    if s["same_source"] == json!(false) {
                        "  [another source]"
                    } else {
                        ""
                    },
                );
            }
            outln!("{banner}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `analyse`: supply concentration of items, exposure, chokepoints and supply risk of
//! technologies, and a cut-off scenario (methods in [`crate::analysis`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Map, Value, json};

use super::{Cli, InputError, OutputFormat, open};
use crate::analysis;
use crate::model::Kind;
use crate::store::OpenMode;

/// Arguments of `analyse`.
#[derive(Debug, Args)]
pub struct AnalyseArgs {
    /// The observatory file.
    file: PathBuf,
    /// Only this technology (its id), and the items it depends on.
    #[arg(long, value_name = "ID")]
    technology: Option<String>,
    /// Countries that stop supplying (ISO codes, comma-separated): what each technology loses.
    #[arg(long, value_name = "CC[,CC...]", value_delimiter = ',')]
    cut: Vec<String>,
    /// The register as it stood at the end of this day (UTC), replayed from the change log.
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<String>,
    /// Compute every metric from the figures of this data year (the latest year at or before
    /// it for each item and source); beside `--as-of`, which replays what was recorded.
    #[arg(long, value_name = "YYYY", value_parser = clap::value_parser!(i64).range(1900..=2200))]
    year: Option<i64>,
    /// Read every figure for this bloc of partners (EU, EU+EEA, NATO, like-minded, or one of
    /// the file's own): `bloc_share` of items, `outside_bloc_exposure` of technologies.
    #[arg(long, value_name = "NAME")]
    bloc: Option<String>,
    /// The cut-off scenario cuts every country outside the bloc (with --bloc).
    #[arg(long, requires = "bloc")]
    cut_outside: bool,
    /// Compute as if these measures succeed: their expected new suppliers join the figures
    /// (repeatable; see `priorities`).
    #[arg(long = "apply", value_name = "MEASURE")]
    apply: Vec<uuid::Uuid>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

fn round(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

#[allow(clippy::too_many_lines)]
pub(super) fn analyse(cli: &Cli, args: &AnalyseArgs) -> anyhow::Result<ExitCode> {
    let cut: Vec<String> = args
        .cut
        .iter()
        .map(|c| {
            crate::model::country::normalise(c)
                .ok_or_else(|| InputError(format!("--cut: {c:?} is not an ISO 3166 country code")))
        })
        .collect::<Result<_, _>>()?;
    let technology = match &args.technology {
        Some(text) => Some(
            analysis::graph::parse_id(text)
                .ok_or_else(|| InputError(format!("--technology: {text:?} is not a record id")))?,
        ),
        None => None,
    };
    let cutoff =
        match &args.as_of {
            Some(date) => Some(crate::store::end_of_day(date).ok_or_else(|| {
                InputError(format!("--as-of: {date:?} is not a date (YYYY-MM-DD)"))
            })?),
            None => None,
        };
    let mut cut = cut;
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let mut records = session.supply_records_at(cutoff)?;
    let mut applied = Vec::new();
    for id in &args.apply {
        applied.push(session.get(Kind::Measure, *id)?);
    }
    if !applied.is_empty() {
        records = crate::service::priorities::with_effects(&records, &applied);
    }
    let mut highest = records.highest().max(crate::model::Classification::highest(
        applied.iter().map(|m| m.meta.classification),
    ));
    let bloc = match &args.bloc {
        Some(name) => {
            let (bloc, level) = session.bloc(name)?;
            highest = highest.max(level);
            Some(bloc)
        }
        None => None,
    };
    if args.cut_outside
        && let Some(bloc) = &bloc
    {
        cut.extend(
            crate::model::country::all()
                .filter(|c| !bloc.contains(&c.code))
                .map(|c| c.code.clone()),
        );
        cut.sort();
        cut.dedup();
    }
    let item_records: std::collections::BTreeMap<String, &crate::model::Record> = records
        .items
        .iter()
        .map(|r| (r.meta.id.to_string(), r))
        .collect();
    let graph = records.graph_at(args.year);
    if let Some(id) = &technology
        && !records
            .technologies
            .iter()
            .any(|t| t.meta.id.to_string() == *id)
    {
        return Err(crate::store::StoreError::UnknownRecord {
            kind: Kind::Technology,
            id: id.clone(),
        }
        .into());
    }
    let metrics = graph.technology_metrics(technology.as_deref());
    let mut concentration = graph.item_metrics();
    if let Some(id) = &technology {
        let needed = graph.needed_by();
        concentration.retain(|c| {
            needed
                .get(&c.id.to_string())
                .is_some_and(|techs| techs.contains(id))
        });
    }
    let scenario = if cut.is_empty() {
        None
    } else {
        let mut impacts = graph.scenario(&cut);
        if let Some(id) = &technology {
            impacts.retain(|i| i.id == *id);
        }
        Some(impacts)
    };
    match args.format {
        OutputFormat::Json => {
            let mut body = Map::new();
            body.insert("classification".into(), json!(highest.code()));
            body.insert("marking".into(), json!(highest.marking()));
            if let Some(date) = &args.as_of {
                body.insert("as_of".into(), json!(date));
            }
            if let Some(year) = args.year {
                body.insert("year".into(), json!(year));
            }
            body.insert(
                "items".into(),
                json!(
                    concentration
                        .iter()
                        .map(|c| json!({
                            "id": c.id, "name": c.name, "hhi": round(c.hhi),
                            "eu_share": round(c.eu_share), "top_country": c.top_country,
                            "top_share": round(c.top_share), "single_source": c.single_source,
                            "year": c.year,
                            "country_basis": c.country_basis,
                            "unattributed_share": round(c.unattributed_share),
                            "region_share": round(c.region_share),
                            "firm_hhi": c.firm_hhi.map(round),
                            "top_organisation": c.top_organisation,
                            "top_organisation_share": c.top_organisation_share.map(round),
                            "single_firm": c.single_firm,
                            "firm_year": c.firm_year,
                            "source": c.source,
                            "sources": c.sources.iter().map(|s| json!({
                                "source": s.source, "year": s.year, "hhi": round(s.hhi),
                                "top_country": s.top_country, "top_share": round(s.top_share),
                                "chosen": s.chosen,
                            })).collect::<Vec<_>>(),
                            "source_spread": c.source_spread.map(round),
                            "bloc_share": bloc.as_ref().map(|b| round(b.share(c.country_shares.iter()))),
                            "crma_flags": item_records.get(&c.id.to_string()).map(|r| analysis::crma::flags(r, c)).unwrap_or_default(),
                        }))
                        .collect::<Vec<_>>()
                ),
            );
            body.insert(
                "technologies".into(),
                json!(
                    metrics
                        .iter()
                        .map(|m| json!({
                            "id": m.id, "name": m.name, "chokepoints": m.chokepoints,
                            "exposure": m.exposure.iter().map(|(c, s)| (c.clone(), json!(round(*s)))).collect::<Map<_, _>>(),
                            "supply_risk": m.supply_risk,
                            "outside_bloc_exposure": bloc.as_ref().map(|b| round(b.outside(m.exposure.iter()).min(1.0))),
                        }))
                        .collect::<Vec<_>>()
                ),
            );
            if let Some(b) = &bloc {
                body.insert("bloc".into(), json!(b.name));
            }
            if !args.apply.is_empty() {
                body.insert("applied".into(), json!(args.apply));
            }
            if let Some(impacts) = &scenario {
                body.insert("cut".into(), json!(cut));
                body.insert(
                    "scenario".into(),
                    Value::Object(
                        impacts
                            .iter()
                            .map(|i| (i.id.clone(), json!(round(i.lost_share))))
                            .collect(),
                    ),
                );
                body.insert(
                    "scenario_paths".into(),
                    Value::Object(
                        impacts
                            .iter()
                            .map(|i| {
                                (
                                    i.id.clone(),
                                    json!({"path": i.path, "share": round(i.path_share)}),
                                )
                            })
                            .collect(),
                    ),
                );
            }
            outln!("{}", serde_json::to_string_pretty(&Value::Object(body))?);
        }
        OutputFormat::Table => {
            let banner = format!("== {} ==", highest.marking());
            outln!("{banner}");
            if let Some(date) = &args.as_of {
                outln!("As recorded at the end of {date}");
            }
            if let Some(year) = args.year {
                outln!("Figures of data year {year} (or the latest before it)");
            }
            outln!(
                "Items by concentration of supply (HHI 0-10,000; firms: HHI over organisations)"
            );
            outln!(
                "{:>6}  {:<8} {:>7}  {:>8}  {:>7}  {:<6}  {:>6}  {:<24}  name",
                "HHI",
                "top",
                "share",
                "EU",
                "unattr",
                "single",
                "firms",
                "top firm"
            );
            for c in &concentration {
                let firm = match (&c.top_organisation, c.top_organisation_share) {
                    (Some(name), Some(share)) => format!("{name} {:.1}%", share * 100.0),
                    _ => String::new(),
                };
                let single = match (c.single_source, c.single_firm) {
                    (true, true) => "yes+1f",
                    (true, false) => "yes",
                    (false, true) => "1 firm",
                    (false, false) => "",
                };
                outln!(
                    "{:>6.0}  {:<8} {:>6.1}%  {:>7.1}%  {:>6.1}%  {:<6}  {:>6}  {:<24}  {}",
                    c.hhi,
                    c.top_country,
                    c.top_share * 100.0,
                    c.eu_share * 100.0,
                    c.unattributed_share * 100.0,
                    single,
                    c.firm_hhi.map_or_else(String::new, |h| format!("{h:.0}")),
                    firm,
                    c.name
                );
                if let Some(r) = item_records.get(&c.id.to_string()) {
                    for f in analysis::crma::flags(r, c) {
                        outln!("        CRMA benchmark: {}", f.text);
                    }
                }
            }
            outln!();
            outln!("Technologies: supply risk (0-10), chokepoints, largest exposures");
            for m in &metrics {
                let mut exposure: Vec<(&String, &f64)> = m.exposure.iter().collect();
                exposure.sort_by(|a, b| b.1.total_cmp(a.1).then_with(|| a.0.cmp(b.0)));
                let top: Vec<String> = exposure
                    .iter()
                    .take(4)
                    .map(|(c, s)| format!("{c} {:.1}%", **s * 100.0))
                    .collect();
                let chokepoints: Vec<String> = m
                    .chokepoints
                    .iter()
                    .map(|id| session.describe(id))
                    .collect();
                outln!(
                    "{:>5}  {}",
                    m.supply_risk.map_or("-".into(), |r| format!("{r:.1}")),
                    m.name
                );
                if !top.is_empty() {
                    outln!("       exposure: {}", top.join(", "));
                }
                if let Some(b) = &bloc {
                    outln!(
                        "       outside {}: {:.1}%",
                        b.name,
                        b.outside(m.exposure.iter()).min(1.0) * 100.0
                    );
                }
                if !chokepoints.is_empty() {
                    outln!("       chokepoints: {}", chokepoints.join("; "));
                }
            }
            if let Some(impacts) = &scenario {
                outln!();
                if args.cut_outside
                    && let Some(b) = &bloc
                {
                    outln!(
                        "If every country outside {} stops supplying: share of supply lost",
                        b.name
                    );
                } else {
                    outln!(
                        "If {} stop(s) supplying: share of supply lost",
                        cut.join(", ")
                    );
                }
                for i in impacts {
                    let path: Vec<String> = i.path.iter().map(|id| session.describe(id)).collect();
                    outln!("{:>6.1}%  {}", i.lost_share * 100.0, i.name);
                    outln!(
                        "         via {} ({:.1}%)",
                        path.join(" <- "),
                        i.path_share * 100.0
                    );
                }
            }
            outln!("{banner}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `country`.
#[derive(Debug, Args)]
pub struct CountryArgs {
    /// The observatory file.
    file: PathBuf,
    /// ISO 3166 code.
    code: String,
    /// Record its governance risk, 0-10 (EU raw-materials scale: scaled World Governance
    /// Indicators, 10 = worst); the supply-risk score weighs concentration by it.
    #[arg(long, value_name = "SCORE", conflicts_with = "clear_governance")]
    governance: Option<f64>,
    /// Forget its governance score.
    #[arg(long)]
    clear_governance: bool,
}

pub(super) fn country(cli: &Cli, args: &CountryArgs) -> anyhow::Result<ExitCode> {
    let Some(country) = crate::model::country::by_code(&args.code) else {
        return Err(InputError(format!("{:?} is not an ISO 3166 country code", args.code)).into());
    };
    let write = args.governance.is_some() || args.clear_governance;
    let mode = if write {
        OpenMode::ReadWrite
    } else {
        OpenMode::ReadOnly
    };
    let mut session = open(cli, &args.file, mode)?;
    if write {
        session.set_governance(&country.code, args.governance)?;
        session.save()?;
    }
    let governance = session.store().governance()?;
    let flags: Vec<&str> = [
        (country.eu, "EU"),
        (country.eea, "EEA"),
        (country.nato, "NATO"),
    ]
    .into_iter()
    .filter(|(yes, _)| *yes)
    .map(|(_, name)| name)
    .collect();
    outln!("{} ({}, {})", country.name, country.code, country.alpha3);
    outln!(
        "member of: {}",
        if flags.is_empty() {
            "-".to_owned()
        } else {
            flags.join(", ")
        }
    );
    outln!(
        "governance risk: {}",
        governance
            .get(&country.code)
            .map_or_else(|| "not recorded".to_owned(), |g| format!("{g} / 10"))
    );
    Ok(ExitCode::SUCCESS)
}

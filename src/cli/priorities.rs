//! `priorities`: where to act first (see [`crate::service::priorities`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use uuid::Uuid;

use super::{Cli, OutputFormat, open};
use crate::service::priorities::WEIGHTS;
use crate::store::OpenMode;

/// Arguments of `priorities`.
#[derive(Debug, Args)]
pub struct PrioritiesArgs {
    /// The observatory file.
    file: PathBuf,
    /// The bloc of partners the dependency is read for (EU, EU+EEA, NATO, like-minded, or one
    /// of the file's own).
    #[arg(long, value_name = "NAME", default_value = "EU")]
    bloc: String,
    /// Compute with these measures' expected effects applied (repeatable): the ranking shows
    /// the score without them beside.
    #[arg(long = "apply", value_name = "MEASURE")]
    apply: Vec<Uuid>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

pub(super) fn priorities(cli: &Cli, args: &PrioritiesArgs) -> anyhow::Result<ExitCode> {
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let ranking = session.priorities(&args.bloc, &args.apply)?;
    let level = ranking.classification;
    match args.format {
        OutputFormat::Json => {
            let body = json!({
                "classification": level.code(), "marking": level.marking(),
                "bloc": ranking.bloc, "applied": ranking.applied,
                "weights": WEIGHTS.iter().map(|(n, w)| (n.to_string(), json!(w))).collect::<serde_json::Map<_, _>>(),
                "technologies": ranking.technologies,
            });
            outln!("{}", serde_json::to_string_pretty(&body)?);
        }
        OutputFormat::Table => {
            let banner = format!("== {} ==", level.marking());
            outln!("{banner}");
            outln!(
                "Where to act first, for the bloc {} (score 0-100: dependency 35, capability 25, gaps 15, mitigation 25){}",
                ranking.bloc,
                if ranking.applied.is_empty() {
                    String::new()
                } else {
                    format!("; with {} measure(s) applied", ranking.applied.len())
                }
            );
            outln!(
                "{:>5} {:>6}  {:>5} {:>5} {:>5} {:>5}  technology",
                "score",
                "before",
                "dep",
                "cap",
                "gaps",
                "mitig"
            );
            for t in &ranking.technologies {
                let c = |n: &str| {
                    t.components
                        .get(n)
                        .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.0}"))
                };
                outln!(
                    "{:>5.1} {:>6}  {:>5} {:>5} {:>5} {:>5}  {}",
                    t.score,
                    t.score_before
                        .map_or_else(String::new, |b| format!("{b:.1}")),
                    c("dependency"),
                    c("capability"),
                    c("gaps"),
                    c("mitigation"),
                    t.name
                );
                if !t.uncovered_gaps.is_empty() {
                    outln!("              uncovered: {}", t.uncovered_gaps.join("; "));
                }
                for concern in t.concerns.iter().take(3) {
                    outln!("              {concern}");
                }
            }
            outln!("{banner}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `round`, `proposal`, `list-version`, `incubator`: the consultation cycle (see
//! [`crate::service::consultation`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Cli, InputError, OutputFormat, open};
use crate::model::Classification;
use crate::service::consultation::{AnswerSpec, ProposalSpec, RoundSpec, RoundView, Spread};
use crate::store::OpenMode;

/// Arguments of `round`.
#[derive(Debug, Args)]
pub struct RoundArgs {
    #[command(subcommand)]
    command: RoundCommand,
}

#[derive(Debug, Subcommand)]
enum RoundCommand {
    /// Open a consultation round (you are its coordinator); prints its id.
    Open {
        /// The observatory file.
        file: PathBuf,
        /// Title.
        #[arg(long)]
        title: String,
        /// Deadline.
        #[arg(long, value_name = "YYYY-MM-DD")]
        deadline: String,
        /// A technology in scope (repeatable).
        #[arg(long = "technology", value_name = "ID")]
        technologies: Vec<Uuid>,
        /// A question asked (repeatable; default: all): trl, criticality, supply-risk,
        /// eu-position, gaps, root-causes, narrative.
        #[arg(long = "question", value_name = "Q")]
        questions: Vec<String>,
        /// A free question (repeatable).
        #[arg(long = "free-question", value_name = "TEXT")]
        free_questions: Vec<String>,
        /// A proposal to revise the list put to the members (repeatable).
        #[arg(long = "proposal", value_name = "ID")]
        proposals: Vec<Uuid>,
        /// A follow-up (Delphi) of this round: carries its anonymised distribution.
        #[arg(long, value_name = "ROUND")]
        follow_up: Option<Uuid>,
        /// What the round is for.
        #[arg(long)]
        description: Option<String>,
        /// Level of the round (raised to what a follow-up carries).
        #[arg(long, value_name = "LEVEL", default_value = "UNCLASSIFIED")]
        classification: Classification,
        /// Member States it may be released to, comma-separated.
        #[arg(long, value_name = "CC,CC")]
        releasable_to: Option<String>,
    },
    /// List the rounds.
    List {
        /// The observatory file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Answer a round on one technology (again: changes your answer).
    Answer {
        /// The observatory file.
        file: PathBuf,
        /// The round.
        round: Uuid,
        /// The technology answered on.
        #[arg(long, value_name = "ID", required_unless_present = "proposal")]
        technology: Option<Uuid>,
        /// A proposal of the round answered on (with --stance).
        #[arg(long, value_name = "ID", conflicts_with = "technology")]
        proposal: Option<Uuid>,
        /// TRL 1-9.
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=9))]
        trl: Option<i64>,
        /// Criticality 0-10.
        #[arg(long)]
        criticality: Option<f64>,
        /// Supply risk 0-10.
        #[arg(long)]
        supply_risk: Option<f64>,
        /// EU position: leading, on-par, lagging, absent.
        #[arg(long, value_name = "P")]
        eu_position: Option<String>,
        /// Gaps, comma-separated.
        #[arg(long, value_delimiter = ',')]
        gaps: Vec<String>,
        /// Root causes, comma-separated.
        #[arg(long, value_delimiter = ',')]
        root_causes: Vec<String>,
        /// Narrative.
        #[arg(long, value_name = "TEXT")]
        narrative: Option<String>,
        /// An answer to a free question, "question: answer" (repeatable).
        #[arg(long = "free-answer", value_name = "TEXT")]
        free_answers: Vec<String>,
        /// Stance on a proposal: support, oppose, abstain.
        #[arg(long)]
        stance: Option<String>,
        /// Confidence: low, medium, high.
        #[arg(long)]
        confidence: Option<String>,
        /// Level of your answer.
        #[arg(long, value_name = "LEVEL")]
        classification: Option<Classification>,
        /// Member States your answer may be released to, comma-separated.
        #[arg(long, value_name = "CC,CC")]
        releasable_to: Option<String>,
    },
    /// What the answers say per technology: counts, Member States, medians, dissent.
    Show {
        /// The observatory file.
        file: PathBuf,
        /// The round.
        round: Uuid,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Close a round (its coordinator): writes the consolidated assessments.
    Close {
        /// The observatory file.
        file: PathBuf,
        /// The round.
        round: Uuid,
    },
}

/// Arguments of `proposal`.
#[derive(Debug, Args)]
pub struct ProposalArgs {
    #[command(subcommand)]
    command: ProposalCommand,
}

#[derive(Debug, Subcommand)]
enum ProposalCommand {
    /// Propose a revision of the list; prints its id.
    Add {
        /// The observatory file.
        file: PathBuf,
        /// add, remove, rename or move.
        #[arg(long)]
        action: String,
        /// The technology.
        #[arg(long, value_name = "ID")]
        technology: Option<Uuid>,
        /// Name (add a new technology) or new name (rename).
        #[arg(long)]
        name: Option<String>,
        /// Area (add) or new area (move).
        #[arg(long)]
        area: Option<String>,
        /// A criticality criterion it meets (repeatable): strategic-dependency,
        /// essential-space-security-defence, multi-use, low-to-medium-integration,
        /// identified-function-performance.
        #[arg(long = "criterion", value_name = "C")]
        criteria: Vec<String>,
        /// Why.
        #[arg(long)]
        rationale: Option<String>,
        /// A source record as evidence (repeatable).
        #[arg(long = "source", value_name = "ID")]
        sources: Vec<Uuid>,
        /// Level.
        #[arg(long, value_name = "LEVEL")]
        classification: Option<Classification>,
    },
    /// List the proposals.
    List {
        /// The observatory file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Accept proposals: makes the next version of the list.
    Accept {
        /// The observatory file.
        file: PathBuf,
        /// The proposals, applied in this order.
        #[arg(required = true)]
        ids: Vec<Uuid>,
        /// Title of the new version.
        #[arg(long)]
        title: Option<String>,
    },
    /// Reject a proposal.
    Reject {
        /// The observatory file.
        file: PathBuf,
        /// The proposal.
        id: Uuid,
    },
}

/// Arguments of `list-version`.
#[derive(Debug, Args)]
pub struct ListVersionArgs {
    #[command(subcommand)]
    command: ListVersionCommand,
}

#[derive(Debug, Subcommand)]
enum ListVersionCommand {
    /// List the versions of the list of critical technologies.
    List {
        /// The observatory file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// What changed between two versions (default: the two newest).
    Diff {
        /// The observatory file.
        file: PathBuf,
        /// The older version number.
        from: Option<i64>,
        /// The newer version number.
        to: Option<i64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// A technology on each version.
    History {
        /// The observatory file.
        file: PathBuf,
        /// The technology.
        technology: Uuid,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
}

/// Arguments of `incubator`.
#[derive(Debug, Args)]
pub struct IncubatorArgs {
    #[command(subcommand)]
    command: IncubatorCommand,
}

#[derive(Debug, Subcommand)]
enum IncubatorCommand {
    /// Technologies at TRL 5-6 with defence, space or security potential, and those flagged.
    List {
        /// The observatory file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Flag a technology for uptake: to whom, by which funding route.
    Flag {
        /// The observatory file.
        file: PathBuf,
        /// The technology.
        technology: Uuid,
        /// To whom (e.g. "EIC", "EDF work programme").
        #[arg(long)]
        to: String,
        /// eic-transition, edf, horizon-europe, national, other.
        #[arg(long)]
        route: String,
        /// Date (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
    },
}

/// A listing as JSON, with the marking of the highest level in it.
fn marked(
    highest: Classification,
    key: &str,
    value: &impl serde::Serialize,
) -> anyhow::Result<String> {
    let mut body = serde_json::Map::new();
    body.insert("classification".into(), Value::from(highest.code()));
    body.insert("marking".into(), Value::from(highest.marking()));
    body.insert(key.into(), serde_json::to_value(value)?);
    Ok(serde_json::to_string_pretty(&body)?)
}

fn states(text: Option<&String>) -> Option<Vec<String>> {
    text.map(|t| {
        t.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

fn spread_json(s: &Spread) -> Value {
    json!({"n": s.n, "median": s.median, "min": s.min, "max": s.max, "spread": s.spread, "dissent": s.dissent})
}

/// The JSON of `round show` (a contract: see the issue of consultation rounds).
#[must_use]
pub fn view_json(view: &RoundView) -> Value {
    let technologies: Vec<Value> = view
        .technologies
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "name": t.name, "answers": t.answers,
                "member_states": t.member_states, "missing": t.missing,
                "trl": spread_json(&t.trl), "criticality": spread_json(&t.criticality),
                "supply_risk": spread_json(&t.supply_risk),
                "eu_position": t.eu_position, "eu_position_dissent": t.eu_position_dissent,
                "gaps": t.gaps, "root_causes": t.root_causes,
                "dissent": t.dissent, "dissent_on": t.dissent_on,
                "responses": t.responses, "previous": t.previous,
            })
        })
        .collect();
    json!({
        "round": {
            "id": view.round.id, "title": view.round.title, "deadline": view.round.deadline,
            "status": view.round.status, "overdue": view.round.overdue,
            "follow_up_of": view.round.follow_up_of,
        },
        "classification": view.classification.code(),
        "marking": view.classification.marking(),
        "questions": view.questions, "free_questions": view.free_questions,
        "expected": view.expected,
        "technologies": technologies,
        "proposals": view.proposals,
        "not_counted": view.not_counted,
        "consolidated": view.consolidated,
    })
}

fn fmt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{v}"))
}

fn print_view(view: &RoundView) {
    let banner = format!("== {} ==", view.classification.marking());
    outln!("{banner}");
    outln!(
        "Round {:?} ({}), deadline {}{}, {}",
        view.round.title,
        view.round.id,
        view.round.deadline,
        if view.round.overdue { " (overdue)" } else { "" },
        view.round.status
    );
    outln!("Member States expected: {}", view.expected.join(", "));
    for t in &view.technologies {
        outln!();
        outln!(
            "{}  {} answer(s) from {}; missing: {}{}",
            t.name,
            t.answers,
            if t.member_states.is_empty() {
                "-".to_owned()
            } else {
                t.member_states.join(", ")
            },
            if t.missing.is_empty() {
                "-".to_owned()
            } else {
                t.missing.join(", ")
            },
            if t.dissent {
                format!("; DISSENT on {}", t.dissent_on.join(", "))
            } else {
                String::new()
            }
        );
        for (name, s) in [
            ("TRL", &t.trl),
            ("criticality", &t.criticality),
            ("supply risk", &t.supply_risk),
        ] {
            if s.n > 0 {
                outln!(
                    "  {name:<12} median {:<6} min {:<6} max {:<6} spread {}{}",
                    fmt(s.median),
                    fmt(s.min),
                    fmt(s.max),
                    fmt(s.spread),
                    if s.dissent { "  dissent" } else { "" }
                );
            }
        }
        if !t.eu_position.is_empty() {
            let list: Vec<String> = t
                .eu_position
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            outln!("  EU position  {}", list.join(", "));
        }
        for a in &t.responses {
            outln!(
                "  {} ({}, {}){}: TRL {} | criticality {} | supply risk {}{}",
                a.member_state,
                a.member,
                a.classification.code(),
                if a.late { " late" } else { "" },
                a.trl.map_or_else(|| "-".to_owned(), |x| x.to_string()),
                fmt(a.criticality),
                fmt(a.supply_risk),
                a.narrative
                    .as_ref()
                    .map_or_else(String::new, |n| format!("\n      {n}"))
            );
        }
        if let Some(p) = &t.previous {
            outln!("  previous round (anonymised): {p}");
        }
    }
    for p in &view.proposals {
        outln!(
            "Proposal {}: support {} | oppose {} | abstain {}",
            p.label,
            p.support.join(", "),
            p.oppose.join(", "),
            p.abstain.join(", ")
        );
    }
    for n in &view.not_counted {
        outln!("not counted: answer {} by {}: {}", n.id, n.author, n.reason);
    }
    outln!("{banner}");
}

pub(super) fn round(cli: &Cli, args: &RoundArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        RoundCommand::Open {
            file,
            title,
            deadline,
            technologies,
            questions,
            free_questions,
            proposals,
            follow_up,
            description,
            classification,
            releasable_to,
        } => {
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let spec = RoundSpec {
                title: title.clone(),
                deadline: deadline.clone(),
                technology_ids: technologies.clone(),
                questions: questions.clone(),
                free_questions: free_questions.clone(),
                proposal_ids: proposals.clone(),
                follow_up_of: *follow_up,
                description: description.clone(),
                classification: *classification,
                releasable_to: states(releasable_to.as_ref()).unwrap_or_default(),
                opened: None,
            };
            let id = session.open_round(&spec)?;
            session.save()?;
            outln!("{id}");
        }
        RoundCommand::List { file, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let rounds = session.rounds()?;
            let highest = rounds
                .iter()
                .map(|r| r.classification)
                .max()
                .unwrap_or_default();
            match format {
                OutputFormat::Json => outln!("{}", marked(highest, "rounds", &rounds)?),
                OutputFormat::Table => {
                    outln!("== {} ==", highest.marking());
                    for r in &rounds {
                        outln!(
                            "{}  {}  {:<6}{}  {:>3} technologies  {:>4} answers  {:<12}  {}",
                            r.id,
                            r.deadline,
                            r.status,
                            if r.overdue { " overdue" } else { "" },
                            r.technologies,
                            r.answers,
                            r.classification.code(),
                            r.title
                        );
                    }
                    outln!("{} round(s)", rounds.len());
                }
            }
        }
        RoundCommand::Answer {
            file,
            round,
            technology,
            proposal,
            trl,
            criticality,
            supply_risk,
            eu_position,
            gaps,
            root_causes,
            narrative,
            free_answers,
            stance,
            confidence,
            classification,
            releasable_to,
        } => {
            let Some(subject) = technology.or(*proposal) else {
                return Err(InputError("give --technology ID (or --proposal ID)".into()).into());
            };
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let spec = AnswerSpec {
                subject,
                trl: *trl,
                criticality: *criticality,
                supply_risk: *supply_risk,
                eu_position: eu_position.clone(),
                gaps: gaps.clone(),
                root_causes: root_causes.clone(),
                narrative: narrative.clone(),
                free_answers: free_answers.clone(),
                stance: stance.clone(),
                confidence: confidence.clone(),
                classification: *classification,
                releasable_to: states(releasable_to.as_ref()),
                date: None,
                replace: false,
            };
            let id = session.answer_round(*round, &spec)?;
            session.save()?;
            outln!("{id}");
        }
        RoundCommand::Show {
            file,
            round,
            format,
        } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let view = session.round_view(*round)?;
            match format {
                OutputFormat::Json => {
                    outln!("{}", serde_json::to_string_pretty(&view_json(&view))?);
                }
                OutputFormat::Table => print_view(&view),
            }
        }
        RoundCommand::Close { file, round } => {
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let report = session.close_round(*round)?;
            session.save()?;
            outln!(
                "closed: {} consolidated assessment(s), {}",
                report.consolidated.len(),
                report.classification.marking()
            );
            for (t, a) in &report.consolidated {
                outln!("{t} {a}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn proposal(cli: &Cli, args: &ProposalArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        ProposalCommand::Add {
            file,
            action,
            technology,
            name,
            area,
            criteria,
            rationale,
            sources,
            classification,
        } => {
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let id = session.add_proposal(&ProposalSpec {
                action: action.clone(),
                technology: *technology,
                name: name.clone(),
                area: area.clone(),
                criteria: criteria.clone(),
                rationale: rationale.clone(),
                sources: sources.clone(),
                classification: *classification,
            })?;
            session.save()?;
            outln!("{id}");
        }
        ProposalCommand::List { file, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let list = session.list(crate::model::Kind::Proposal)?;
            let highest = list
                .iter()
                .map(|p| p.meta.classification)
                .max()
                .unwrap_or_default();
            match format {
                OutputFormat::Json => {
                    let items: Vec<Value> = list
                        .iter()
                        .map(|p| Value::Object(crate::service::export::record_json(p)))
                        .collect();
                    outln!("{}", marked(highest, "proposals", &items)?);
                }
                OutputFormat::Table => {
                    outln!("== {} ==", highest.marking());
                    for p in &list {
                        outln!(
                            "{}  {:<9}  {:<12}  {}  criteria: {}",
                            p.meta.id,
                            p.text("status").unwrap_or("proposed"),
                            p.meta.classification.code(),
                            session.describe_proposal(p),
                            p.texts("criteria").join(", ")
                        );
                    }
                    outln!("{} proposal(s)", list.len());
                }
            }
        }
        ProposalCommand::Accept { file, ids, title } => {
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let v = session.accept_proposals(ids, title.as_deref())?;
            session.save()?;
            outln!(
                "version {} of the list ({}): {} technologies, {} proposal(s) accepted, {}",
                v.number,
                v.date,
                v.technologies,
                v.proposals,
                v.classification.marking()
            );
        }
        ProposalCommand::Reject { file, id } => {
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            session.reject_list_proposal(*id)?;
            session.save()?;
            outln!("rejected");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn list_version(cli: &Cli, args: &ListVersionArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        ListVersionCommand::List { file, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let versions = session.list_versions()?;
            let highest = versions
                .iter()
                .map(|v| v.classification)
                .max()
                .unwrap_or_default();
            match format {
                OutputFormat::Json => outln!("{}", marked(highest, "versions", &versions)?),
                OutputFormat::Table => {
                    outln!("== {} ==", highest.marking());
                    for v in &versions {
                        outln!(
                            "v{:<3} {}  {:>4} technologies  {:>3} proposals  {:<12}  {}{}",
                            v.number,
                            v.date,
                            v.technologies,
                            v.proposals,
                            v.classification.code(),
                            v.title,
                            match (&v.problem, v.in_force) {
                                (Some(p), _) => format!("  [{p}]"),
                                (None, false) => {
                                    "  [made concurrently with another of this number: not in force]".to_owned()
                                }
                                (None, true) => String::new(),
                            }
                        );
                    }
                }
            }
        }
        ListVersionCommand::Diff {
            file,
            from,
            to,
            format,
        } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let versions = session.list_versions()?;
            let newest = versions.last().map_or(1, |v| v.number);
            let to = to.unwrap_or(newest);
            let from = from.unwrap_or(to.saturating_sub(1).max(1));
            let (a, b, diff) = session.diff_versions(from, to)?;
            let highest = a.classification.max(b.classification);
            match format {
                OutputFormat::Json => outln!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "classification": highest.code(), "marking": highest.marking(),
                        "from": {"number": a.number, "date": a.date, "id": a.id},
                        "to": {"number": b.number, "date": b.date, "id": b.id},
                        "changes": diff,
                    }))?
                ),
                OutputFormat::Table => {
                    let banner = format!("== {} ==", highest.marking());
                    outln!("{banner}");
                    outln!(
                        "From version {} ({}) to version {} ({})",
                        a.number,
                        a.date,
                        b.number,
                        b.date
                    );
                    for d in &diff {
                        use crate::model::listing::Difference;
                        match d {
                            Difference::Added { entry } => {
                                outln!("  added    {} ({})", entry.name, entry.area);
                            }
                            Difference::Removed { entry } => {
                                outln!("  removed  {} ({})", entry.name, entry.area);
                            }
                            Difference::Renamed { from, to, .. } => {
                                outln!("  renamed  {from} -> {to}");
                            }
                            Difference::Moved { name, from, to, .. } => {
                                outln!("  moved    {name}: {from} -> {to}");
                            }
                        }
                    }
                    outln!("{} change(s)", diff.len());
                    outln!("{banner}");
                }
            }
        }
        ListVersionCommand::History {
            file,
            technology,
            format,
        } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let history = session.version_history(*technology)?;
            let highest = history
                .iter()
                .map(|h| h.classification)
                .chain(
                    session
                        .get(crate::model::Kind::Technology, *technology)
                        .map(|t| t.meta.classification),
                )
                .max()
                .unwrap_or_default();
            match format {
                OutputFormat::Json => outln!("{}", marked(highest, "versions", &history)?),
                OutputFormat::Table => {
                    outln!("== {} ==", highest.marking());
                    for h in &history {
                        if let Some(e) = &h.entry {
                            outln!("v{:<3} {}  {} ({})", h.number, h.date, e.name, e.area);
                        } else {
                            outln!("v{:<3} {}  not listed", h.number, h.date);
                        }
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn incubator(cli: &Cli, args: &IncubatorArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        IncubatorCommand::List { file, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let list = session.incubator()?;
            let highest = list
                .iter()
                .map(|e| e.classification)
                .max()
                .unwrap_or_default();
            match format {
                OutputFormat::Json => outln!("{}", marked(highest, "technologies", &list)?),
                OutputFormat::Table => {
                    outln!("== {} ==", highest.marking());
                    for e in &list {
                        outln!(
                            "{}  TRL {}  {:<28}  {}{}",
                            e.id,
                            e.trl.map_or_else(|| "-".to_owned(), |t| t.to_string()),
                            e.domains.join(","),
                            e.name,
                            if e.uptake_to.is_some() || e.uptake_route.is_some() {
                                format!(
                                    "  flagged for uptake {} to {} via {}",
                                    e.uptake_date.as_deref().unwrap_or("?"),
                                    e.uptake_to.as_deref().unwrap_or("?"),
                                    e.uptake_route.as_deref().unwrap_or("?")
                                )
                            } else {
                                String::new()
                            }
                        );
                    }
                }
            }
        }
        IncubatorCommand::Flag {
            file,
            technology,
            to,
            route,
            date,
        } => {
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            session.flag_for_uptake(*technology, to, route, date.as_deref())?;
            session.save()?;
            outln!("flagged for uptake");
        }
    }
    Ok(ExitCode::SUCCESS)
}

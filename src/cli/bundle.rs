//! `bundle export | import | list | conflicts | resolve | proposals | accept | reject`:
//! encrypted, signed bundles of changes for other members (see [`crate::exchange`] for the
//! format). An exported file
//! is written, fsynced, read back, decrypted and its signature verified before the command
//! says the medium may be removed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{Cli, InputError, OutputFormat, open};
use crate::crypto::MemberCard;
use crate::service::bundle::ExportScope;
use crate::service::exchange::{ConflictInfo, ProposalInfo, Resolution};
use crate::store::OpenMode;

/// Arguments of `bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    #[command(subcommand)]
    command: BundleCommand,
}

#[derive(Debug, Subcommand)]
enum BundleCommand {
    /// Write a bundle for verified members (their card files): every change they may see,
    /// only those since the last bundle to them, or those of chosen records.
    Export {
        /// The observatory file.
        file: PathBuf,
        /// A recipient's member card file (repeat for several); it must be verified in the keyring.
        #[arg(long = "to", value_name = "CARD", required = true)]
        to: Vec<PathBuf>,
        /// The bundle to write (a new file, e.g. on removable media).
        #[arg(long, value_name = "BUNDLE")]
        out: PathBuf,
        /// Only the changes since the last bundle to the same recipients.
        #[arg(long, conflicts_with = "only")]
        since_last: bool,
        /// Only this record (its id; repeat for several): a selection.
        #[arg(long, value_name = "ID")]
        only: Vec<String>,
    },
    /// Import a bundle from a verified member: checked, previewed, merged all or nothing.
    Import {
        /// The observatory file.
        file: PathBuf,
        /// The bundle file.
        bundle: PathBuf,
        /// Only say what it would do.
        #[arg(long)]
        dry_run: bool,
    },
    /// List the outbox (bundles sent) and the inbox (bundles imported).
    List {
        /// The observatory file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// List the conflicts: values that lost by clock to another member's.
    Conflicts {
        /// The observatory file.
        file: PathBuf,
        /// Also the settled ones.
        #[arg(long)]
        all: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// List the proposed downgrades and releases: changes of a record's classification or
    /// releasability by someone other than its originator, kept for the originator to decide.
    Proposals {
        /// The observatory file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Accept a proposal of a record you originated: it becomes your own signed change.
    Accept {
        /// The observatory file.
        file: PathBuf,
        /// The proposal's number (from `bundle proposals`).
        proposal: i64,
    },
    /// Reject a proposal of a record you originated: it is never applied.
    Reject {
        /// The observatory file.
        file: PathBuf,
        /// The proposal's number (from `bundle proposals`).
        proposal: i64,
    },
    /// Drop the received changes held back because their clocks were too far ahead.
    DiscardHeld {
        /// The observatory file.
        file: PathBuf,
    },
    /// Settle a conflict: keep the value that stands, or take the other one (a new edit).
    Resolve {
        /// The observatory file.
        file: PathBuf,
        /// The conflict's number (from `bundle conflicts`).
        conflict: i64,
        /// Keep the value that stands.
        #[arg(long, conflicts_with = "take_other")]
        keep_current: bool,
        /// Take the other value, as a new edit by you.
        #[arg(long)]
        take_other: bool,
    },
}

pub(super) fn bundle(cli: &Cli, args: &BundleArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        BundleCommand::Export {
            file,
            to,
            out,
            since_last,
            only,
        } => {
            let scope = if *since_last {
                ExportScope::SinceLast
            } else if only.is_empty() {
                ExportScope::Everything
            } else {
                let mut ids = Vec::new();
                for id in only {
                    ids.push(uuid::Uuid::parse_str(id.trim()).map_err(|_| {
                        InputError(format!("--only {id:?} is not a record id (a UUID)"))
                    })?);
                }
                ExportScope::Selection(ids)
            };
            export(cli, file, to, out, &scope)
        }
        BundleCommand::Import {
            file,
            bundle,
            dry_run,
        } => import(cli, file, bundle, *dry_run),
        BundleCommand::List { file, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let (outbox, inbox, held) =
                (session.outbox()?, session.inbox()?, session.held_changes()?);
            match format {
                OutputFormat::Json => outln!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"outbox": outbox, "inbox": inbox, "held": held})
                    )?
                ),
                OutputFormat::Table => {
                    outln!("outbox: {} bundle(s) sent", outbox.len());
                    for b in &outbox {
                        outln!(
                            "  {}  #{}  {}  {} change(s)  to {}  {}",
                            b.created_at,
                            b.sequence,
                            b.classification.code(),
                            b.changes,
                            b.recipients.join(", "),
                            b.bundle_id
                        );
                    }
                    outln!("inbox: {} bundle(s) imported", inbox.len());
                    for b in &inbox {
                        outln!(
                            "  {}  #{}  from {}  {} applied  {}",
                            b.imported_at,
                            b.sequence,
                            b.sender,
                            b.applied,
                            b.bundle_id
                        );
                    }
                    if !held.is_empty() {
                        outln!(
                            "held back: {} change(s) with clocks ahead of yours",
                            held.len()
                        );
                        for h in &held {
                            outln!(
                                "  {} {} {} from {}, applied at the first import from {} UTC",
                                h.record_kind,
                                h.record_id,
                                h.field,
                                h.sender,
                                h.due
                            );
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Conflicts { file, all, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let conflicts = session.conflicts(*all)?;
            match format {
                OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&conflicts)?),
                OutputFormat::Table => {
                    for c in &conflicts {
                        outln!("{}", conflict_line(c));
                    }
                    outln!("{} conflict(s)", conflicts.len());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Proposals { file, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let proposals = session.proposals()?;
            match format {
                OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&proposals)?),
                OutputFormat::Table => {
                    for p in &proposals {
                        outln!("{}", proposal_line(p));
                    }
                    outln!("{} open proposal(s)", proposals.len());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Accept { file, proposal } | BundleCommand::Reject { file, proposal } => {
            let accept = matches!(args.command, BundleCommand::Accept { .. });
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let done = if accept {
                session.accept_proposal(*proposal)?
            } else {
                session.reject_proposal(*proposal)?
            };
            session.save()?;
            outln!(
                "{}: {}",
                if accept { "accepted" } else { "rejected" },
                proposal_line(&done)
            );
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::DiscardHeld { file } => {
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let n = session.discard_held()?;
            session.save()?;
            outln!("{n} held change(s) discarded");
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Resolve {
            file,
            conflict,
            keep_current,
            take_other,
        } => {
            if !keep_current && !take_other {
                return Err(InputError(
                    "say how: --keep-current (the value that stands) or --take-other".into(),
                )
                .into());
            }
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let how = if *take_other {
                Resolution::TakeOther
            } else {
                Resolution::KeepCurrent
            };
            let done = session.resolve_conflict(*conflict, how)?;
            session.save()?;
            outln!("settled: {}", conflict_line(&done));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads a member card file (bounded while reading: a card is a few hundred bytes).
pub(super) fn read_card(path: &std::path::Path) -> Result<String, InputError> {
    let bytes = crate::fsutil::read_bounded(path, 64 * 1024)
        .map_err(|e| InputError(format!("cannot read the card {}: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|_| {
        InputError(format!(
            "{} is not a member card (not UTF-8 text)",
            path.display()
        ))
    })
}

fn proposal_line(p: &ProposalInfo) -> String {
    format!(
        "{}  {} {} {} {:?}: {} {} -> {} proposed by {} (originator: {})",
        p.seq,
        p.proposal,
        crate::report::portion(p.classification),
        p.kind,
        p.label,
        p.field,
        p.current,
        p.proposed,
        p.proposer,
        p.originator
    )
}

fn conflict_line(c: &ConflictInfo) -> String {
    format!(
        "{}  {} {} {:?} {}: stands {} (by {}), other {} (by {}){}",
        c.seq,
        crate::report::portion(c.classification),
        c.kind,
        c.label,
        c.field,
        c.current,
        c.winner,
        c.other,
        c.loser,
        if c.resolved_at.is_some() {
            "  [settled]"
        } else {
            ""
        }
    )
}

fn export(
    cli: &Cli,
    file: &std::path::Path,
    to: &[PathBuf],
    out: &std::path::Path,
    scope: &ExportScope,
) -> anyhow::Result<ExitCode> {
    if out.exists() {
        return Err(InputError(format!(
            "{} exists already: choose a new file name",
            out.display()
        ))
        .into());
    }
    let mut fingerprints = Vec::new();
    for path in to {
        let text = read_card(path)?;
        let card: MemberCard = text.parse().map_err(|e: crate::crypto::CardError| {
            InputError(format!("{}: {e}", path.display()))
        })?;
        fingerprints.push(card.author_id());
    }
    let mut session = open(cli, file, OpenMode::ReadWrite)?;
    // Written, read back, decrypted and verified before it is recorded in the outbox.
    let summary = session.write_bundle(out, &fingerprints, scope)?;
    session.save()?;
    let b = &summary.body;
    outln!(
        "wrote {}: bundle {} (sequence {}), {} change(s), highest {}",
        out.display(),
        b.bundle_id,
        b.sequence,
        b.changes.len(),
        b.classification
    );
    for (level, n) in &summary.by_level {
        outln!("  {level}: {n}");
    }
    for (kind, n) in &summary.by_kind {
        outln!("  {kind}: {n}");
    }
    if summary.withheld > 0 {
        outln!(
            "{} record(s) stayed behind (above a recipient's clearance or not releasable to them)",
            summary.withheld
        );
    }
    outln!("read back, decrypted and signature verified: the medium may be removed");
    Ok(ExitCode::SUCCESS)
}

fn import(
    cli: &Cli,
    file: &std::path::Path,
    bundle: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    // Bounded while reading (a FIFO, a device or a file that grows is refused).
    let bytes = crate::fsutil::read_bounded(bundle, crate::service::bundle::MAX_BUNDLE_BYTES)
        .map_err(|e| InputError(format!("cannot read {}: {e}", bundle.display())))?;
    let mut session = open(
        cli,
        file,
        if dry_run {
            OpenMode::ReadOnly
        } else {
            OpenMode::ReadWrite
        },
    )?;
    let r = session.import_bundle(&bytes, dry_run)?;
    if !dry_run {
        session.save()?;
    }
    outln!(
        "{}{r}",
        if dry_run {
            "dry run, nothing written: "
        } else {
            ""
        }
    );
    if r.older_sequence {
        outln!(
            "note: its sequence number is not newer than one imported before from {}",
            r.sender
        );
    }
    if r.quarantined > 0 {
        outln!(
            "note: {} change(s) carry clocks more than ten minutes ahead of yours: held back, they are applied at the first import after your clock reaches them",
            r.quarantined
        );
    }
    Ok(ExitCode::SUCCESS)
}

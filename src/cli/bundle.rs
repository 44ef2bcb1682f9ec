//! `bundle export`: an encrypted, signed bundle of changes for other members (see
//! [`crate::service::bundle`] for the format). The file is written, fsynced, read back,
//! decrypted and its signature verified before the command says the medium may be removed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{Cli, InputError, open};
use crate::crypto::MemberCard;
use crate::service::ServiceError;
use crate::service::bundle::open_bundle;
use crate::store::OpenMode;

/// Arguments of `bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    #[command(subcommand)]
    command: BundleCommand,
}

#[derive(Debug, Subcommand)]
enum BundleCommand {
    /// Write a bundle for verified members (their card files): every change they may see, or
    /// only those since the last bundle to them.
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
        #[arg(long)]
        since_last: bool,
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
}

pub(super) fn bundle(cli: &Cli, args: &BundleArgs) -> anyhow::Result<ExitCode> {
    let (file, to, out, since_last) = match &args.command {
        BundleCommand::Export {
            file,
            to,
            out,
            since_last,
        } => (file, to, out, since_last),
        BundleCommand::Import {
            file,
            bundle,
            dry_run,
        } => return import(cli, file, bundle, *dry_run),
    };
    if out.exists() {
        return Err(InputError(format!(
            "{} exists already: choose a new file name",
            out.display()
        ))
        .into());
    }
    let mut fingerprints = Vec::new();
    for path in to {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError(format!("cannot read the card {}: {e}", path.display())))?;
        let card: MemberCard = text.parse().map_err(|e: crate::crypto::CardError| {
            InputError(format!("{}: {e}", path.display()))
        })?;
        fingerprints.push(card.author_id());
    }
    let mut session = open(cli, file, OpenMode::ReadWrite)?;
    let summary = session.export_bundle(&fingerprints, *since_last)?;
    crate::fsutil::write_new_durable(out, &summary.bytes, None).map_err(|source| {
        ServiceError::Export {
            path: out.clone(),
            source,
        }
    })?;
    // Read back what is on the medium and check it as a recipient would.
    let written = std::fs::read(out).map_err(|source| ServiceError::Export {
        path: out.clone(),
        source,
    })?;
    let identity = session.identity();
    let back = open_bundle(
        &written,
        identity.age_identity(),
        &identity.signing_key().verifying_key(),
    )?;
    if back != summary.body {
        return Err(ServiceError::Invalid(format!(
            "{} does not read back as written: do not use it",
            out.display()
        ))
        .into());
    }
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
    let size = std::fs::metadata(bundle)
        .map_err(|e| InputError(format!("cannot read {}: {e}", bundle.display())))?
        .len();
    if size > crate::service::bundle::MAX_BUNDLE_BYTES {
        return Err(InputError(format!(
            "{} is {} MiB, larger than a bundle may be ({} MiB): refused unread",
            bundle.display(),
            size >> 20,
            crate::service::bundle::MAX_BUNDLE_BYTES >> 20
        ))
        .into());
    }
    let bytes = std::fs::read(bundle)
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
        "{}bundle {} (sequence {}) from {}: {} new record(s), {} changed, {} unchanged, {} conflicting, {} quarantined",
        if dry_run {
            "dry run, nothing written: "
        } else {
            ""
        },
        r.bundle_id,
        r.sequence,
        r.sender,
        r.new_records,
        r.changed,
        r.unchanged,
        r.conflicting,
        r.quarantined
    );
    if r.older_sequence {
        outln!(
            "note: its sequence number is not newer than one imported before from {}",
            r.sender
        );
    }
    if r.quarantined > 0 {
        outln!(
            "note: {} change(s) carry clocks too far in the future and were not applied",
            r.quarantined
        );
    }
    Ok(ExitCode::SUCCESS)
}

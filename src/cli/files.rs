//! `init`, `info`, `verify`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Cli, OutputFormat, load_identity, open};
use crate::service::Session;
use crate::store::OpenMode;

/// Arguments of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The new observatory file (e.g. register.observatory).
    file: PathBuf,
    /// Fill it with the demo observatory: the EU CRM 2023 study and USGS production figures
    /// (public data) and example records.
    #[arg(long)]
    demo: bool,
}

/// Arguments of `info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The observatory file.
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

/// Arguments of `authenticate`.
#[derive(Debug, Args)]
pub struct AuthenticateArgs {
    /// The observatory file, saved by yourself with an Observatory from before file
    /// authenticators.
    file: PathBuf,
}

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The observatory file.
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

pub(super) fn init(cli: &Cli, args: &InitArgs) -> anyhow::Result<ExitCode> {
    if args.file.exists() {
        return Err(
            crate::service::ServiceError::Store(crate::store::StoreError::AlreadyExists {
                path: args.file.clone(),
            })
            .into(),
        );
    }
    let identity = load_identity(cli)?;
    let mut session = Session::create(&args.file, identity)?;
    if args.demo {
        session.build_demo()?;
        session.save()?;
    }
    let technologies = session.store().counts(crate::model::Kind::Technology)?.live;
    outln!(
        "created {} ({technologies} technologies of the EU 2023 list), encrypted to {}",
        args.file.display(),
        session.identity().card().profile.name
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn info(cli: &Cli, args: &InfoArgs) -> anyhow::Result<ExitCode> {
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let info = session.info()?;
    match args.format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&info)?),
        OutputFormat::Table => {
            outln!("file:            {}", info.path.display());
            outln!(
                "classification:  {} (highest of any record)",
                info.highest_classification.marking()
            );
            outln!("format:          {}", info.format);
            outln!("schema version:  {}", info.schema_version);
            outln!("file id:         {}", info.file_id);
            outln!("created:         {}", info.created_at);
            outln!(
                "size:            {} bytes encrypted, {} bytes database",
                info.file_bytes,
                info.database_bytes
            );
            outln!("records:         live / deleted");
            for (kind, counts) in &info.counts {
                outln!("  {kind:<14} {:>7} / {}", counts.live, counts.deleted);
            }
            outln!("change log:      {} entries", info.change_log_entries);
            outln!("audit log:       {} entries", info.audit_entries);
            if info.backups.is_empty() {
                outln!("backups:         none yet");
            } else {
                outln!("backups:         {}", info.backups.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn authenticate(cli: &Cli, args: &AuthenticateArgs) -> anyhow::Result<ExitCode> {
    let identity = load_identity(cli)?;
    let session = Session::authenticate(&args.file, identity)?;
    outln!(
        "{} now carries the authenticator of {}: it opens as usual from now on",
        args.file.display(),
        session.identity().card().profile.name
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn verify(cli: &Cli, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let report = session.verify()?;
    match args.format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Table => {
            outln!(
                "decryption:      ok ({} opens with this identity)",
                args.file.display()
            );
            outln!(
                "authenticator:   ok (saved by {}, signature verified)",
                session.identity().card().profile.name
            );
            if report.integrity_problems.is_empty() {
                outln!("integrity:       ok");
            } else {
                outln!(
                    "integrity:       {} problem(s)",
                    report.integrity_problems.len()
                );
                for p in &report.integrity_problems {
                    outln!("  {p}");
                }
            }
            match report.audit.first_broken_seq {
                None => outln!("audit chain:     ok ({} entries)", report.audit.entries),
                Some(seq) => outln!(
                    "audit chain:     BROKEN at entry {seq} of {} (the log was altered)",
                    report.audit.entries
                ),
            }
            if report.dangling_references.is_empty() {
                outln!("references:      ok");
            } else {
                outln!(
                    "references:      {} dangling",
                    report.dangling_references.len()
                );
                for r in &report.dangling_references {
                    outln!("  {r}");
                }
            }
        }
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(13)
    })
}

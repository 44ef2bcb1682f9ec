//! `keygen` and `card`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Cli, OutputFormat, UsageError, load_identity, passphrase};
use crate::crypto::{DEFAULT_WORK_FACTOR, Identity, Profile};
use crate::model::Classification;
use crate::service::ServiceError;

/// Arguments of `keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the new identity file (never overwritten).
    #[arg(long, value_name = "ID")]
    out: PathBuf,
    /// Your full name, as the other members know you.
    #[arg(long)]
    name: String,
    /// Your Member State (ISO code, e.g. FR), or EU for the Commission.
    #[arg(long, value_name = "CC")]
    member_state: String,
    /// Your security clearance.
    #[arg(long, value_name = "LEVEL", default_value = "UNCLASSIFIED")]
    clearance: Classification,
    /// scrypt work factor (log2 N) protecting the file; lower values only for tests.
    #[arg(long, value_name = "LOG_N", default_value_t = DEFAULT_WORK_FACTOR)]
    work_factor: u8,
    /// Output format of the card.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

/// Arguments of `card`.
#[derive(Debug, Args)]
pub struct CardArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

pub(super) fn keygen(cli: &Cli, args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    if args.out.exists() {
        return Err(
            ServiceError::Identity(crate::crypto::IdentityError::Exists {
                path: args.out.clone(),
            })
            .into(),
        );
    }
    let profile =
        Profile::new(&args.name, &args.member_state, args.clearance).map_err(ServiceError::from)?;
    let pass = passphrase(cli, "Passphrase for the new identity: ", true)?;
    if pass.is_empty() {
        return Err(UsageError("empty passphrase".into()).into());
    }
    let identity = Identity::generate(profile);
    identity
        .write_new_file(&args.out, &pass, args.work_factor)
        .map_err(ServiceError::from)?;
    eprintln!(
        "identity written to {} (keep it and its passphrase safe; give others the card below)",
        args.out.display()
    );
    print_card(&identity, args.format)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn card(cli: &Cli, args: &CardArgs) -> anyhow::Result<ExitCode> {
    let identity = load_identity(cli)?;
    print_card(&identity, args.format)?;
    Ok(ExitCode::SUCCESS)
}

fn print_card(identity: &Identity, format: OutputFormat) -> anyhow::Result<()> {
    let card = identity.card();
    match format {
        OutputFormat::Table => out!("{card}"),
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&card.to_json())?),
    }
    Ok(())
}

//! `member add | list | verify | revoke`: the keyring of the other members' cards.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{Cli, OutputFormat, open};
use crate::store::{MemberInfo, OpenMode};

/// Arguments of `member`.
#[derive(Debug, Args)]
pub struct MemberArgs {
    #[command(subcommand)]
    command: MemberCommand,
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
    /// Add a member card (a file made by `observatory card`); it starts unverified.
    Add {
        /// The observatory file.
        file: PathBuf,
        /// The card file.
        card: PathBuf,
    },
    /// List the keyring: name, Member State, clearance, fingerprint, status.
    List {
        /// The observatory file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: OutputFormat,
    },
    /// Mark a card verified, after comparing its fingerprint with its owner out of band.
    Verify {
        /// The observatory file.
        file: PathBuf,
        /// Name, or fingerprint (or its first 8+ hex digits).
        member: String,
    },
    /// Revoke a card for good.
    Revoke {
        /// The observatory file.
        file: PathBuf,
        /// Name, or fingerprint (or its first 8+ hex digits).
        member: String,
    },
}

fn line(m: &MemberInfo) -> String {
    format!(
        "{}  {}  {}  {}  {}",
        m.grouped_fingerprint(),
        m.status(),
        m.member_state,
        m.clearance.code(),
        m.name
    )
}

pub(super) fn member(cli: &Cli, args: &MemberArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        MemberCommand::Add { file, card } => {
            let text = super::bundle::read_card(card)?;
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let added = session.add_member(&text)?;
            session.save()?;
            outln!("added {}", line(&added));
            outln!(
                "compare the fingerprint with {} out of band, then: observatory member verify FILE {:?}",
                added.name,
                added.name
            );
        }
        MemberCommand::List { file, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let members = session.members()?;
            match format {
                OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&members)?),
                OutputFormat::Table => {
                    for m in &members {
                        outln!("{}", line(m));
                    }
                    outln!("{} member(s)", members.len());
                }
            }
        }
        MemberCommand::Verify { file, member } | MemberCommand::Revoke { file, member } => {
            let revoke = matches!(args.command, MemberCommand::Revoke { .. });
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let done = if revoke {
                session.revoke_member(member)?
            } else {
                session.verify_member(member)?
            };
            session.save()?;
            outln!("{}", line(&done));
        }
    }
    Ok(ExitCode::SUCCESS)
}

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
    /// Mark a card verified, after comparing its card fingerprint with its owner out of band
    /// and confirming their name, Member State and clearance.
    Verify {
        /// The observatory file.
        file: PathBuf,
        /// Name, or fingerprint (or its first 8+ hex digits).
        member: String,
        /// The card fingerprint as its owner read it out ("1A2B 3C4D ..."): verify only if it
        /// is the card's.
        #[arg(long, value_name = "FINGERPRINT")]
        fingerprint: Option<String>,
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
    let card = m.grouped_card_fingerprint().map_or_else(
        || "card: version 1, ask for a new card".to_owned(),
        |f| format!("card: {f}"),
    );
    format!(
        "{}  {}  {}  {}  {}  {card}",
        m.grouped_fingerprint(),
        m.status(),
        m.member_state,
        m.clearance.code(),
        m.name
    )
}

/// What a verification is about, one item a line.
fn details(m: &MemberInfo) -> String {
    format!(
        "  name:              {}\n  Member State:      {}\n  clearance:         {}\n  card fingerprint:  {}\n  key id:            {}",
        m.name,
        m.member_state,
        m.clearance.code(),
        m.grouped_card_fingerprint().unwrap_or_default(),
        m.grouped_fingerprint()
    )
}

/// A keyring entry in `member list --format json`: the stored fields and the status.
#[derive(serde::Serialize)]
struct MemberJson<'a> {
    #[serde(flatten)]
    member: &'a MemberInfo,
    /// "verified", "unverified", "revoked" or "re-verify".
    status: &'static str,
}

pub(super) fn member(cli: &Cli, args: &MemberArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        MemberCommand::Add { file, card } => {
            let text = super::bundle::read_card(card)?;
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let added = session.add_member_card(&text)?;
            session.save()?;
            let m = &added.member;
            match &added.replaced {
                None => outln!("added {}", line(m)),
                Some(old) => {
                    outln!("replaced the card of {} (the same keys):", old.name);
                    outln!("  was  {}", line(old));
                    outln!("  now  {}", line(m));
                }
            }
            outln!(
                "compare the card fingerprint with {} out of band and confirm name, Member State and clearance, then: observatory member verify FILE {:?} --fingerprint \"…\"",
                m.name,
                m.name
            );
        }
        MemberCommand::List { file, format } => {
            let session = open(cli, file, OpenMode::ReadOnly)?;
            let members = session.members()?;
            match format {
                OutputFormat::Json => {
                    let entries: Vec<MemberJson<'_>> = members
                        .iter()
                        .map(|member| MemberJson {
                            member,
                            status: member.status(),
                        })
                        .collect();
                    outln!("{}", serde_json::to_string_pretty(&entries)?);
                }
                OutputFormat::Table => {
                    for m in &members {
                        outln!("{}", line(m));
                    }
                    outln!("{} member(s)", members.len());
                }
            }
        }
        MemberCommand::Verify {
            file,
            member,
            fingerprint,
        } => {
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let before = session.find_member(member)?;
            let done = session.verify_member_confirming(member, fingerprint.as_deref())?;
            session.save()?;
            outln!("{}", details(&done));
            if before.verified_at.is_some() {
                outln!(
                    "{} was verified already, on {}",
                    done.name,
                    done.verified_at.as_deref().unwrap_or_default()
                );
            } else {
                outln!(
                    "verified: you confirmed with {} this name, Member State, clearance and card fingerprint{} (audited as member-verify)",
                    done.name,
                    if fingerprint.is_some() {
                        ", and the fingerprint given matches the card"
                    } else {
                        ""
                    }
                );
            }
        }
        MemberCommand::Revoke { file, member } => {
            let mut session = open(cli, file, OpenMode::ReadWrite)?;
            let done = session.revoke_member(member)?;
            session.save()?;
            outln!("{}", line(&done));
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! The command line (clap). Every command goes through [`crate::service`], like the GUI.
//!
//! Exit codes (stable, for scripts):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | other error |
//! | 2 | usage error (bad arguments) |
//! | 3 | wrong passphrase, or the identity file cannot be used |
//! | 4 | the identity is not a recipient of the file |
//! | 5 | not an observatory file |
//! | 6 | damaged or truncated file |
//! | 7 | file from a newer schema version |
//! | 8 | file locked by another process |
//! | 9 | file changed on disk since it was opened |
//! | 10 | write failed (disk full, folder not writable, read-back mismatch) |
//! | 11 | invalid input (a value, a JSON document, an import) |
//! | 12 | no such file or record |
//! | 13 | `verify` found problems |
//! | 14 | the file was not saved by its owner's identity (authenticator missing or wrong, foreign schema) |

/// `println!` that does not panic when stdout is closed (`observatory list ... | head`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
/// `print!` that does not panic when stdout is closed.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod analyse;
mod bundle;
mod changes;
mod consult;
mod docs;
pub use docs::{SBOM, SBOM_COMPONENTS, SBOM_LINKED_CRATES};
mod edition;
mod fields;
mod files;
mod keys;
mod member;
mod priorities;
mod records;
mod report;
mod roadmap;
mod transfer;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::crypto::{Identity, IdentityError, Passphrase, read_passphrase_file};
use crate::model::Kind;
use crate::service::{ServiceError, Session};
use crate::store::{OpenMode, StoreError};

pub use fields::FieldFlags;

/// The version, the git commit and the build date (from `SOURCE_DATE_EPOCH`; see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("OBSERVATORY_COMMIT"),
    ", built ",
    env!("OBSERVATORY_BUILD_DATE"),
    ")"
);

/// Observatory: register, supply-chain analysis and encrypted exchange for the EU Observatory
/// of critical technologies. Without a command, starts the desktop app.
#[derive(Debug, Parser)]
#[command(name = "observatory", version = VERSION, about, max_term_width = 100)]
pub struct Cli {
    /// Your passphrase-protected identity file.
    #[arg(long, global = true, env = "OBSERVATORY_IDENTITY", value_name = "ID")]
    pub identity: Option<PathBuf>,
    /// Read the identity's passphrase from the first line of this file instead of the terminal.
    #[arg(
        long,
        global = true,
        env = "OBSERVATORY_PASSPHRASE_FILE",
        value_name = "F"
    )]
    pub passphrase_file: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Output format of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Aligned text for people.
    #[default]
    Table,
    /// JSON for scripts.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new identity (passphrase-protected age identity file) and print its member card.
    Keygen(keys::KeygenArgs),
    /// Print the member card of an identity (--identity).
    Card(keys::CardArgs),
    /// Create a new, empty observatory file with the EU 2023 reference list.
    Init(files::InitArgs),
    /// Show counts, highest classification, format and schema version.
    Info(files::InfoArgs),
    /// Decrypt and check integrity, references and the audit chain.
    Verify(files::VerifyArgs),
    /// Sign a file you saved yourself with an Observatory from before file authenticators
    /// (files without one are refused, exit code 14).
    Authenticate(files::AuthenticateArgs),
    /// List the records of one kind.
    List(records::ListArgs),
    /// Add a record.
    Add(records::AddArgs),
    /// Change fields of a record.
    Edit(records::EditArgs),
    /// Delete a record (it stays as a tombstone so the deletion replicates).
    Delete(records::DeleteArgs),
    /// Merge two records of one kind: references move to the kept one, the other is deleted
    /// (audited; replicates through bundles).
    Merge(records::MergeArgs),
    /// Import records from a JSON record document (all or nothing).
    Import(transfer::ImportArgs),
    /// Export all records as plaintext JSON or CSV (needs --unencrypted-output).
    Export(transfer::ExportArgs),
    /// Supply concentration, exposure, chokepoints, supply risk and cut-off scenarios.
    #[command(alias = "analyze")]
    Analyse(analyse::AnalyseArgs),
    /// What changed between two dates: records, links, shares, TRL, concentration risks.
    Changes(changes::ChangesArgs),
    /// Editions: frozen, dated copies of the register (freeze, list, diff).
    Edition(edition::EditionArgs),
    /// Show a country; record its governance risk score.
    Country(analyse::CountryArgs),
    /// The report on critical technologies and dependency risks, as PDF or Markdown.
    Report(report::ReportArgs),
    /// The keyring of the other members' cards: add, list, verify, revoke.
    Member(member::MemberArgs),
    /// Exchange bundles: encrypted, signed changes for other members.
    Bundle(bundle::BundleArgs),
    /// Consultation rounds with the Member States: open, list, answer, show, close.
    Round(consult::RoundArgs),
    /// Proposals to revise the list of critical technologies: add, list, accept, reject.
    Proposal(consult::ProposalArgs),
    /// Versions of the list of critical technologies: list, diff, history.
    ListVersion(consult::ListVersionArgs),
    /// Where to act first: technologies ranked by urgency (dependency outside a bloc,
    /// capability, gaps, mitigation coverage), with measures' effects applied or not.
    Priorities(priorities::PrioritiesArgs),
    /// A technology roadmap (a technology or an area) as PDF or Markdown, marked like the
    /// report: where it stands, targets, milestones, measures, what moved.
    Roadmap(roadmap::RoadmapArgs),
    /// Write the manual pages (observatory(1) and one per command) into a folder.
    Man(docs::ManArgs),
    /// Print the shell completions for bash, zsh or fish.
    Completions(docs::CompletionsArgs),
    /// Print what this binary contains: its software bill of materials (CycloneDX 1.5 JSON),
    /// or a licence report.
    Sbom(docs::SbomArgs),
    /// Horizon scanning: technologies the incubator flags (TRL 5-6, security, space or
    /// defence potential), and flagging one for uptake.
    Incubator(consult::IncubatorArgs),
}

/// Entry point of the binary.
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let Some(command) = cli.command.as_ref() else {
        return start_gui();
    };
    match run(&cli, command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(exit_code(&error))
        }
    }
}

#[cfg(feature = "gui")]
fn start_gui() -> ExitCode {
    match crate::gui::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot start the desktop app: {e:#}");
            ExitCode::from(1)
        }
    }
}

#[cfg(not(feature = "gui"))]
fn start_gui() -> ExitCode {
    eprintln!("this build has no desktop app (feature `gui`): use a command, see --help");
    ExitCode::from(2)
}

fn run(cli: &Cli, command: &Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Keygen(args) => keys::keygen(cli, args),
        Command::Card(args) => keys::card(cli, args),
        Command::Init(args) => files::init(cli, args),
        Command::Info(args) => files::info(cli, args),
        Command::Verify(args) => files::verify(cli, args),
        Command::Authenticate(args) => files::authenticate(cli, args),
        Command::List(args) => records::list(cli, args),
        Command::Add(args) => records::add(cli, args),
        Command::Edit(args) => records::edit(cli, args),
        Command::Delete(args) => records::delete(cli, args),
        Command::Merge(args) => records::merge(cli, args),
        Command::Import(args) => transfer::import(cli, args),
        Command::Export(args) => transfer::export(cli, args),
        Command::Analyse(args) => analyse::analyse(cli, args),
        Command::Changes(args) => changes::changes(cli, args),
        Command::Edition(args) => edition::edition(cli, args),
        Command::Report(args) => report::report(cli, args),
        Command::Member(args) => member::member(cli, args),
        Command::Bundle(args) => bundle::bundle(cli, args),
        Command::Country(args) => analyse::country(cli, args),
        Command::Round(args) => consult::round(cli, args),
        Command::Proposal(args) => consult::proposal(cli, args),
        Command::ListVersion(args) => consult::list_version(cli, args),
        Command::Incubator(args) => consult::incubator(cli, args),
        Command::Priorities(args) => priorities::priorities(cli, args),
        Command::Roadmap(args) => roadmap::roadmap(cli, args),
        Command::Man(args) => docs::man(cli, args),
        Command::Completions(args) => Ok(docs::completions(args)),
        Command::Sbom(args) => docs::sbom(args),
    }
}

/// The exit code for an error (see the table in the module docs).
#[must_use]
pub fn exit_code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<ServiceError>() {
            return match e {
                ServiceError::Store(s) => store_code(s),
                ServiceError::Identity(i) => identity_code(i),
                ServiceError::Passphrase(_) => 3,
                ServiceError::Field { .. }
                | ServiceError::Invalid(_)
                | ServiceError::ImportRejected { .. }
                | ServiceError::ViewingPast(_) => 11,
                ServiceError::Export { .. } => 10,
                ServiceError::NoEdition(_) | ServiceError::NoMember(_) => 12,
            };
        }
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return store_code(e);
        }
        if let Some(e) = cause.downcast_ref::<IdentityError>() {
            return identity_code(e);
        }
        if cause
            .downcast_ref::<crate::crypto::PassphraseError>()
            .is_some()
        {
            return 3;
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return 2;
        }
        if cause.downcast_ref::<InputError>().is_some() {
            return 11;
        }
    }
    1
}

fn store_code(e: &StoreError) -> u8 {
    match e {
        StoreError::NotARecipient { .. } => 4,
        StoreError::NotObservatory { .. } => 5,
        StoreError::Corrupted { .. } => 6,
        StoreError::NewerSchema { .. } => 7,
        StoreError::NotAuthentic { .. } | StoreError::Unauthenticated { .. } => 14,
        StoreError::Locked { .. } => 8,
        StoreError::ChangedOnDisk { .. } => 9,
        StoreError::DiskFull { .. }
        | StoreError::Io { .. }
        | StoreError::VerifyFailed { .. }
        | StoreError::ReadOnly { .. }
        | StoreError::AlreadyExists { .. } => 10,
        StoreError::BrokenReference { .. }
        | StoreError::DuplicateId { .. }
        | StoreError::Rejected { .. } => 11,
        StoreError::NotFound { .. } | StoreError::UnknownRecord { .. } => 12,
        StoreError::Encrypt(_) | StoreError::Sqlite(_) | StoreError::Reference(_) => 1,
    }
}

fn identity_code(e: &IdentityError) -> u8 {
    match e {
        IdentityError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => 12,
        IdentityError::Write { .. } | IdentityError::Exists { .. } => 10,
        IdentityError::InvalidProfile(_)
        | IdentityError::WorkFactor
        | IdentityError::EmptyPassphrase => 11,
        _ => 3,
    }
}

/// A command used wrongly (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Input that cannot be used (exit code 11).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// The passphrase from --passphrase-file or, failing that, the terminal.
fn passphrase(cli: &Cli, prompt: &str, confirm: bool) -> anyhow::Result<Passphrase> {
    if let Some(file) = &cli.passphrase_file {
        return Ok(read_passphrase_file(file)?);
    }
    let read = |p: &str| {
        rpassword::prompt_password(p).map_err(|e| {
            UsageError(format!(
                "cannot read a passphrase from the terminal ({e}): use --passphrase-file or OBSERVATORY_PASSPHRASE_FILE"
            ))
        })
    };
    let first = zeroize::Zeroizing::new(read(prompt)?);
    if first.is_empty() {
        return Err(UsageError("empty passphrase".into()).into());
    }
    if confirm {
        let second = zeroize::Zeroizing::new(read("Repeat the passphrase: ")?);
        if *first != *second {
            return Err(UsageError("the two passphrases differ".into()).into());
        }
    }
    Ok(Passphrase::new(&first))
}

/// The unlocked identity named by --identity.
fn load_identity(cli: &Cli) -> anyhow::Result<Identity> {
    let Some(path) = &cli.identity else {
        return Err(UsageError(
            "no identity: pass --identity ID or set OBSERVATORY_IDENTITY (create one with `observatory keygen`)".into(),
        )
        .into());
    };
    if !path.exists() {
        return Err(ServiceError::Identity(IdentityError::Read {
            path: path.clone(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
        .into());
    }
    let pass = passphrase(cli, &format!("Passphrase for {}: ", path.display()), false)?;
    Ok(Identity::read_file(path, &pass).map_err(ServiceError::from)?)
}

/// Opens an observatory file with the identity.
fn open(cli: &Cli, file: &Path, mode: OpenMode) -> anyhow::Result<Session> {
    if !file.exists() {
        return Err(ServiceError::Store(StoreError::NotFound {
            path: file.to_owned(),
        })
        .into());
    }
    let identity = load_identity(cli)?;
    Ok(Session::open(file, identity, mode)?)
}

/// Parses a record kind argument.
fn kind_arg(text: &str) -> Result<Kind, String> {
    text.parse::<Kind>().map_err(|e| e.to_string())
}

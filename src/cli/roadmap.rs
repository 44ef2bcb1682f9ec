//! `roadmap`: a technology roadmap as a document (see [`crate::report::roadmap`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use uuid::Uuid;

use super::{Cli, InputError, open};
use crate::report::roadmap::{self, Subject};
use crate::store::OpenMode;

/// Arguments of `roadmap`.
#[derive(Debug, Args)]
pub struct RoadmapArgs {
    /// The observatory file.
    file: PathBuf,
    /// The technology.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "area",
        required_unless_present = "area"
    )]
    technology: Option<Uuid>,
    /// Or an area of the EU 2023 list (semiconductors, ai, quantum, ...).
    #[arg(long, value_name = "A")]
    area: Option<String>,
    /// The document to write: a new file; `.md` writes Markdown, anything else PDF.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Also write the same content as Markdown to this new file.
    #[arg(long, value_name = "FILE.md")]
    markdown: Option<PathBuf>,
}

pub(super) fn roadmap(cli: &Cli, args: &RoadmapArgs) -> anyhow::Result<ExitCode> {
    super::report::refuse_existing(&args.out, args.markdown.as_ref())?;
    let subject = match (&args.technology, &args.area) {
        (Some(t), _) => Subject::Technology(*t),
        (None, Some(a)) => Subject::Area(a.trim().to_lowercase()),
        (None, None) => return Err(InputError("give --technology ID or --area A".into()).into()),
    };
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let doc = roadmap::build(&session, &subject)?;
    let pages = super::report::write_document(&doc, &args.out, args.markdown.as_ref())?;
    let marking = doc.classification.marking();
    outln!(
        "wrote {}{} marked {marking}",
        args.out.display(),
        pages.map(|p| format!(" ({p} pages)")).unwrap_or_default()
    );
    eprintln!(
        "note: the roadmap is plaintext marked {marking}: keep it only where material of that level may be stored"
    );
    Ok(ExitCode::SUCCESS)
}

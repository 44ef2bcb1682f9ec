//! `roadmap`: a technology roadmap as a document (see [`crate::report::roadmap`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use uuid::Uuid;

use super::{Cli, InputError, open};
use crate::report::roadmap::{self, Subject};
use crate::service::ServiceError;
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
    for path in std::iter::once(&args.out).chain(&args.markdown) {
        if path.exists() {
            return Err(InputError(format!(
                "{} exists already: choose a new file name",
                path.display()
            ))
            .into());
        }
    }
    let subject = match (&args.technology, &args.area) {
        (Some(t), _) => Subject::Technology(*t),
        (None, Some(a)) => Subject::Area(a.trim().to_lowercase()),
        (None, None) => return Err(InputError("give --technology ID or --area A".into()).into()),
    };
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let doc = roadmap::build(&session, &subject)?;
    let write = |path: &PathBuf, bytes: &[u8]| {
        crate::fsutil::write_new_durable(path, bytes, None).map_err(|source| ServiceError::Export {
            path: path.clone(),
            source,
        })
    };
    let markdown_out = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"));
    let pages = if markdown_out {
        write(&args.out, crate::report::to_markdown(&doc).as_bytes())?;
        None
    } else {
        let (bytes, pages) = crate::report::to_pdf(&doc)?;
        write(&args.out, &bytes)?;
        Some(pages)
    };
    if let Some(md) = &args.markdown {
        write(md, crate::report::to_markdown(&doc).as_bytes())?;
    }
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

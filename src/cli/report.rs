//! `report`: the biennial report (PDF, or Markdown for drafting) from the register now, as of
//! a date, or from an edition, under a classification ceiling. See [`crate::report`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Cli, InputError, open};
use crate::model::Classification;
use crate::report::{self, ReportSource};
use crate::service::ServiceError;
use crate::store::OpenMode;

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The observatory file.
    file: PathBuf,
    /// The report to write: a new file; `.md` writes Markdown, anything else PDF.
    #[arg(long, value_name = "REPORT.pdf")]
    out: PathBuf,
    /// Make it from this edition (id or whole title).
    #[arg(long, value_name = "ID", conflicts_with = "as_of")]
    edition: Option<String>,
    /// Make it from the register as it stood at the end of this date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<String>,
    /// Leave out every record above this level (and say how many).
    #[arg(long, value_name = "LEVEL")]
    max_classification: Option<String>,
    /// Title on the first page.
    #[arg(long)]
    title: Option<String>,
    /// Also write the same content as Markdown to this new file.
    #[arg(long, value_name = "REPORT.md")]
    markdown: Option<PathBuf>,
}

pub(super) fn report(cli: &Cli, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let ceiling = args
        .max_classification
        .as_deref()
        .map(|l| {
            l.parse::<Classification>().map_err(|_| {
                InputError(format!(
                    "--max-classification: {l:?} is not a level (UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, TOP-SECRET)"
                ))
            })
        })
        .transpose()?;
    refuse_existing(&args.out, args.markdown.as_ref())?;
    let source = match (&args.edition, &args.as_of) {
        (Some(e), _) => ReportSource::Edition(e.clone()),
        (None, Some(d)) => ReportSource::AsOf(d.clone()),
        (None, None) => ReportSource::Now,
    };
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let started = std::time::Instant::now();
    let report = report::build(&session, &source, ceiling, args.title.as_deref())?;
    let pages = write_document(&report, &args.out, args.markdown.as_ref())?;
    let marking = report.classification.marking();
    outln!(
        "wrote {}{} marked {marking} in {:.1} s",
        args.out.display(),
        pages.map(|p| format!(" ({p} pages)")).unwrap_or_default(),
        started.elapsed().as_secs_f64()
    );
    if report.omitted > 0 {
        outln!(
            "{} record(s) above {} were left out",
            report.omitted,
            ceiling.map(Classification::marking).unwrap_or_default()
        );
    }
    eprintln!(
        "note: the report is plaintext marked {marking}: keep it only where material of that level may be stored"
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses to write over a file (exit code 11).
pub(super) fn refuse_existing(out: &PathBuf, markdown: Option<&PathBuf>) -> anyhow::Result<()> {
    if markdown == Some(out) {
        return Err(InputError(format!(
            "--out and --markdown are the same file ({}): give two names",
            out.display()
        ))
        .into());
    }
    for path in std::iter::once(out).chain(markdown) {
        if path.exists() {
            return Err(InputError(format!(
                "{} exists already: choose a new file name",
                path.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// Writes a document to new files: `out` as Markdown when it ends in `.md`, else as PDF, and
/// `markdown` too; returns the PDF's page count.
pub(super) fn write_document(
    doc: &report::Report,
    out: &PathBuf,
    markdown: Option<&PathBuf>,
) -> anyhow::Result<Option<usize>> {
    let write = |path: &PathBuf, bytes: &[u8]| {
        crate::fsutil::write_new_durable(path, bytes, None).map_err(|source| ServiceError::Export {
            path: path.clone(),
            source,
        })
    };
    let markdown_out = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"));
    let pages = if markdown_out {
        write(out, report::to_markdown(doc).as_bytes())?;
        None
    } else {
        let (bytes, pages) = report::to_pdf(doc)?;
        write(out, &bytes)?;
        Some(pages)
    };
    if let Some(md) = markdown {
        write(md, report::to_markdown(doc).as_bytes())?;
    }
    Ok(pages)
}

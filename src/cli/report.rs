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
    for path in std::iter::once(&args.out).chain(&args.markdown) {
        if path.exists() {
            return Err(InputError(format!(
                "{} exists already: choose a new file name",
                path.display()
            ))
            .into());
        }
    }
    let source = match (&args.edition, &args.as_of) {
        (Some(e), _) => ReportSource::Edition(e.clone()),
        (None, Some(d)) => ReportSource::AsOf(d.clone()),
        (None, None) => ReportSource::Now,
    };
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let started = std::time::Instant::now();
    let report = report::build(&session, &source, ceiling, args.title.as_deref())?;
    let markdown_out = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"));
    let write = |path: &PathBuf, bytes: &[u8]| {
        crate::fsutil::write_new_durable(path, bytes, None).map_err(|source| ServiceError::Export {
            path: path.clone(),
            source,
        })
    };
    let pages = if markdown_out {
        write(&args.out, report::to_markdown(&report).as_bytes())?;
        None
    } else {
        let (bytes, pages) = report::to_pdf(&report)?;
        write(&args.out, &bytes)?;
        Some(pages)
    };
    if let Some(md) = &args.markdown {
        write(md, report::to_markdown(&report).as_bytes())?;
    }
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

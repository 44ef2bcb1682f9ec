//! `import` and `export`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{Cli, InputError, UsageError, open};
use crate::service::{ImportDocument, ServiceError};
use crate::sources::{ReadOptions, SourceFormat};
use crate::store::OpenMode;

/// Largest record document read (bytes).
const MAX_IMPORT_BYTES: u64 = 512 * 1024 * 1024;

/// Import formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ImportFormat {
    /// Observatory record document (see the crate docs).
    #[default]
    Json,
    /// CSET Emerging Technology Observatory supply-chain dataset: a folder with inputs.csv,
    /// providers.csv, provision.csv, sequence.csv, stages.csv.
    Eto,
    /// EU critical raw materials study 2023 tables: a folder.
    Crm,
    /// USGS Mineral Commodity Summaries world tables: a CSV file or a folder of them.
    Usgs,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One record document.
    Json,
    /// A folder of CSV files, one per record kind.
    Csv,
}

/// Arguments of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The observatory file.
    file: PathBuf,
    /// The data to import.
    data: PathBuf,
    /// Format of the data.
    #[arg(long, value_enum, default_value_t)]
    format: ImportFormat,
    /// Show what would change without changing anything.
    #[arg(long)]
    dry_run: bool,
    /// Year of the figures where the data does not say (eto), the year to take (usgs;
    /// default the latest in each file) or the study year (crm; default 2023).
    #[arg(long, value_name = "YYYY", value_parser = clap::value_parser!(i64).range(1900..=2200))]
    year: Option<i64>,
    /// Import the rows that can be read and leave out (and list) those that cannot; without
    /// it, any bad row rejects the whole import.
    #[arg(long)]
    skip_bad_rows: bool,
    /// A country code or name of the data that is not ISO 3166, read as an ISO alpha-2 code
    /// (`MAL=MY`); repeatable. It extends the built-in alias table (see `import --help` and
    /// the crate docs), and the import report lists every mapping used.
    #[arg(long, value_name = "CODE=CC", value_parser = parse_country_alias)]
    country_alias: Vec<(String, String)>,
    /// A USGS commodity (the code of its file name, `simet`) that is a material of the CRM
    /// study, with the study's stage for the table's plain "production" (`E` or `P`):
    /// `simet=Silicon metal:P`; repeatable. Its only item of a stage becomes the study's item,
    /// so both sources' figures sit on one item (the built-in table: see the crate docs).
    #[arg(long, value_name = "CODE=MATERIAL:E|P", value_parser = parse_material)]
    material: Vec<(String, String, char)>,
}

/// Arguments of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The observatory file.
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Output file (json) or new folder (csv).
    #[arg(long, value_name = "OUT")]
    out: PathBuf,
    /// Confirm that a plaintext file may be written (it holds the records in clear).
    #[arg(long)]
    unencrypted_output: bool,
}

pub(super) fn import(cli: &Cli, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        ImportFormat::Json => {
            if args.year.is_some()
                || args.skip_bad_rows
                || !args.country_alias.is_empty()
                || !args.material.is_empty()
            {
                return Err(UsageError(
                    "--year, --skip-bad-rows, --country-alias and --material apply to --format eto, crm and usgs".into(),
                )
                .into());
            }
            return import_document(cli, args);
        }
        ImportFormat::Eto | ImportFormat::Crm if !args.material.is_empty() => {
            return Err(UsageError(
                "--material applies to --format usgs (it matches a USGS commodity to a CRM material)".into(),
            )
            .into());
        }
        ImportFormat::Crm | ImportFormat::Usgs if !args.country_alias.is_empty() => {
            return Err(UsageError(
                "--country-alias applies to --format eto (the CRM and USGS tables name countries, mapped by name)".into(),
            )
            .into());
        }
        ImportFormat::Eto => SourceFormat::Eto,
        ImportFormat::Crm => SourceFormat::Crm,
        ImportFormat::Usgs => SourceFormat::Usgs,
    };
    let what = args.data.display().to_string();
    if !args.data.exists() {
        return Err(InputError(format!("cannot read {what}: no such file or folder")).into());
    }
    let options = ReadOptions {
        year: args.year,
        progress: None,
        country_aliases: args.country_alias.clone(),
        materials: args.material.clone(),
    };
    let parsed = crate::sources::read(format, &args.data, &options)
        .map_err(|e| InputError(e.to_string()))?;
    let mut session = open(cli, &args.file, OpenMode::ReadWrite)?;
    let bad_rows = parsed.problems.len();
    let result = session.import_source_owned(parsed, &what, args.skip_bad_rows, args.dry_run);
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            if bad_rows > 0 && !args.skip_bad_rows {
                eprintln!(
                    "{bad_rows} row(s) of {what} cannot be read; fix them, or pass --skip-bad-rows to import the others"
                );
            }
            return Err(e.into());
        }
    };
    if !args.dry_run && report.import.new + report.import.changed > 0 {
        session.save()?;
    }
    outln!("{}: {} row(s) read", report.dataset, report.rows);
    print_report(&report.import, args.dry_run);
    if !report.skipped.is_empty() {
        outln!(
            "{} row(s) left out (--skip-bad-rows):",
            report.skipped.len()
        );
        for problem in &report.skipped {
            outln!("  {problem}");
        }
    }
    for note in &report.notes {
        outln!("note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_material(text: &str) -> Result<(String, String, char), String> {
    let bad = || {
        format!(
            "{text:?}: expected CODE=MATERIAL:E or CODE=MATERIAL:P, such as simet=Silicon metal:P"
        )
    };
    let (code, rest) = text.split_once('=').ok_or_else(bad)?;
    let (material, stage) = rest.rsplit_once(':').ok_or_else(bad)?;
    let stage = match stage.trim().to_uppercase().as_str() {
        "E" => 'E',
        "P" => 'P',
        _ => return Err(bad()),
    };
    let (code, material) = (code.trim().to_lowercase(), material.trim());
    if code.is_empty() || material.is_empty() {
        return Err(bad());
    }
    Ok((code, material.to_owned(), stage))
}

fn parse_country_alias(text: &str) -> Result<(String, String), String> {
    let (alias, code) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected CODE=CC, such as MAL=MY"))?;
    let code = crate::model::country::normalise(code)
        .ok_or_else(|| format!("{code:?} is not an ISO 3166 alpha-2 country code"))?;
    let alias = alias.trim();
    if alias.is_empty() {
        return Err(format!("{text:?}: the code before = is empty"));
    }
    Ok((alias.to_owned(), code))
}

fn import_document(cli: &Cli, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let what = args.data.display().to_string();
    // Bounded while reading: a FIFO, a device or a file that grows is refused.
    let bytes = crate::fsutil::read_bounded(&args.data, MAX_IMPORT_BYTES)
        .map_err(|e| InputError(format!("cannot read {what}: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| InputError(format!("cannot read {what}: it is not UTF-8 text")))?;
    let document: ImportDocument = serde_json::from_str(&text).map_err(|e| {
        InputError(format!(
            "{what} is not a valid observatory record document: {e}"
        ))
    })?;
    let mut session = open(cli, &args.file, OpenMode::ReadWrite)?;
    let report = session.import_records(&document, &what, args.dry_run)?;
    if !args.dry_run && report.new + report.changed > 0 {
        session.save()?;
    }
    print_report(&report, args.dry_run);
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &crate::service::ImportReport, dry_run: bool) {
    let verb = if dry_run { "would import" } else { "imported" };
    outln!(
        "{verb}: {} new, {} changed, {} unchanged record(s)",
        report.new,
        report.changed,
        report.unchanged
    );
    for (kind, n) in &report.by_kind {
        outln!("  {kind:<14} {n}");
    }
    if report.classification_kept > 0 {
        outln!(
            "{} record(s) kept their higher classification (an import never lowers one)",
            report.classification_kept
        );
    }
    if report.releasability_kept > 0 {
        outln!(
            "{} record(s) kept their narrower releasability (an import never widens one)",
            report.releasability_kept
        );
    }
    if report.merged > 0 {
        outln!(
            "{} record(s) follow a merge made in this file (to the record kept)",
            report.merged
        );
    }
}

pub(super) fn export(cli: &Cli, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    if !args.unencrypted_output {
        return Err(UsageError(
            "export writes the records in plaintext: add --unencrypted-output to confirm that this medium may hold them".into(),
        )
        .into());
    }
    if args.format == ExportFormat::Json && args.out.exists() {
        return Err(UsageError(format!(
            "{} exists already: choose a new file name",
            args.out.display()
        ))
        .into());
    }
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let highest = match args.format {
        ExportFormat::Json => {
            let document = session.export_document()?;
            let mut bytes = serde_json::to_vec_pretty(&document)?;
            bytes.push(b'\n');
            crate::fsutil::write_new_durable(&args.out, &bytes, None).map_err(|source| {
                ServiceError::Export {
                    path: args.out.clone(),
                    source,
                }
            })?;
            eprintln!("records by classification:");
            for ((level, kind), n) in crate::service::export::summarise(&document.records) {
                eprintln!("  {level:<12} {kind:<14} {n}");
            }
            document.classification
        }
        ExportFormat::Csv => session.export_csv(&args.out)?,
    };
    eprintln!(
        "WARNING: {} is UNENCRYPTED and contains records up to {}: mark, store and destroy it accordingly",
        args.out.display(),
        highest.marking()
    );
    Ok(ExitCode::SUCCESS)
}

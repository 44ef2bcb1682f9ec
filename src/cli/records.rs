//! `list`, `add`, `edit`, `delete`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Cli, FieldFlags, InputError, OutputFormat, kind_arg, open};
use crate::model::record::{field_of, parse_text};
use crate::model::{Classification, Kind};
use crate::service::{RecordInput, ServiceError, export::record_json};
use crate::store::OpenMode;

/// Arguments of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The observatory file.
    file: PathBuf,
    /// technology, item, organisation, link, assessment, measure, source or event.
    #[arg(value_parser = kind_arg)]
    kind: Kind,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

/// What `add` and `edit` share.
#[derive(Debug, Args)]
pub struct ValueArgs {
    /// Field values as a JSON object, e.g. `{"name": "...", "domains": ["space"]}`.
    #[arg(long, value_name = "JSON")]
    json: Option<String>,
    /// Set a field by name: FIELD=VALUE (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Classification level (UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, TOP-SECRET).
    #[arg(long, value_name = "LEVEL")]
    classification: Option<Classification>,
    /// Member States it may be released to, comma-separated (empty: the whole group).
    #[arg(long, value_name = "CC,CC")]
    releasable_to: Option<String>,
    #[command(flatten)]
    fields: FieldFlags,
}

/// Arguments of `add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The observatory file.
    file: PathBuf,
    /// Kind of record.
    #[arg(value_parser = kind_arg)]
    kind: Kind,
    /// Use this id instead of a new one.
    #[arg(long, value_name = "UUID")]
    id: Option<Uuid>,
    #[command(flatten)]
    values: ValueArgs,
}

/// Arguments of `edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The observatory file.
    file: PathBuf,
    /// Kind of record.
    #[arg(value_parser = kind_arg)]
    kind: Kind,
    /// Id of the record.
    id: Uuid,
    /// Remove the value of a field (repeatable).
    #[arg(long, value_name = "FIELD")]
    clear: Vec<String>,
    #[command(flatten)]
    values: ValueArgs,
}

/// Arguments of `delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The observatory file.
    file: PathBuf,
    /// Kind of record.
    #[arg(value_parser = kind_arg)]
    kind: Kind,
    /// Id of the record.
    id: Uuid,
}

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The observatory file.
    file: PathBuf,
    /// Kind of both records.
    #[arg(value_parser = kind_arg)]
    kind: Kind,
    /// Id of the record to keep.
    keep: Uuid,
    /// Id of the record merged into it (deleted afterwards).
    other: Uuid,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: super::OutputFormat,
}

fn input(kind: Kind, values: &ValueArgs, clear: &[String]) -> anyhow::Result<RecordInput> {
    let field_err = |source| ServiceError::Field { kind, source };
    let mut input = RecordInput {
        classification: values.classification,
        releasable_to: values.releasable_to.as_ref().map(|s| {
            s.split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect()
        }),
        ..RecordInput::default()
    };
    if let Some(json) = &values.json {
        let object: Map<String, Value> = serde_json::from_str(json)
            .map_err(|e| InputError(format!("--json is not a JSON object: {e}")))?;
        for (key, value) in object {
            match key.as_str() {
                "classification" => {
                    let level = value
                        .as_str()
                        .unwrap_or_default()
                        .parse()
                        .map_err(|e| InputError(format!("{e}")))?;
                    input.classification = Some(level);
                }
                "releasable_to" => {
                    input.releasable_to = Some(serde_json::from_value(value).map_err(|_| {
                        InputError("releasable_to must be a list of Member State codes".into())
                    })?);
                }
                "kind" | "id" => {}
                _ => {
                    input.fields.insert(key, value);
                }
            }
        }
    }
    let mut texts: Vec<(String, String)> = values.fields.0.clone().into_iter().collect();
    for pair in &values.set {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| InputError(format!("--set {pair:?}: expected FIELD=VALUE")))?;
        texts.push((name.trim().to_owned(), value.to_owned()));
    }
    for (name, text) in texts {
        let field = field_of(kind, &name).map_err(field_err)?;
        let value = parse_text(field, &text)
            .map_err(field_err)?
            .unwrap_or(Value::Null);
        input.fields.insert(name, value);
    }
    for name in clear {
        field_of(kind, name).map_err(field_err)?;
        input.fields.insert(name.clone(), Value::Null);
    }
    Ok(input)
}

pub(super) fn list(cli: &Cli, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let session = open(cli, &args.file, OpenMode::ReadOnly)?;
    let records = session.list(args.kind)?;
    let highest = Classification::highest(records.iter().map(|r| r.meta.classification));
    match args.format {
        OutputFormat::Json => {
            let body = serde_json::json!({
                "classification": highest.code(),
                "marking": highest.marking(),
                "kind": args.kind.name(),
                "records": records.iter().map(record_json).collect::<Vec<_>>(),
            });
            outln!("{}", serde_json::to_string_pretty(&body)?);
        }
        OutputFormat::Table => {
            let banner = format!("== {} ==", highest.marking());
            outln!("{banner}");
            outln!(
                "{:<36}  {:<14}  {:<24}  {}",
                "ID",
                "CLASSIFICATION",
                args.kind.detail_header().to_uppercase(),
                "NAME"
            );
            for record in &records {
                outln!(
                    "{:<36}  {:<14}  {:<24}  {}",
                    record.meta.id,
                    record.meta.classification.code(),
                    record.detail().chars().take(24).collect::<String>(),
                    record.label()
                );
            }
            outln!("{} {}(s)", records.len(), args.kind);
            outln!("{banner}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn add(cli: &Cli, args: &AddArgs) -> anyhow::Result<ExitCode> {
    let input = input(args.kind, &args.values, &[])?;
    let mut session = open(cli, &args.file, OpenMode::ReadWrite)?;
    let id = session.add(args.kind, args.id, &input)?;
    session.save()?;
    outln!("{id}");
    Ok(ExitCode::SUCCESS)
}

pub(super) fn edit(cli: &Cli, args: &EditArgs) -> anyhow::Result<ExitCode> {
    let input = input(args.kind, &args.values, &args.clear)?;
    let mut session = open(cli, &args.file, OpenMode::ReadWrite)?;
    let changed = session.edit(args.kind, args.id, &input)?;
    if changed > 0 {
        session.save()?;
    }
    outln!("{changed} value(s) changed");
    Ok(ExitCode::SUCCESS)
}

pub(super) fn merge(cli: &Cli, args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut session = open(cli, &args.file, OpenMode::ReadWrite)?;
    let report = session.merge(args.kind, args.keep, args.other)?;
    session.save()?;
    match args.format {
        super::OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        super::OutputFormat::Table => {
            outln!(
                "merged {} into {}: {} record(s) now refer to it, {} duplicate figure(s) or self-link(s) deleted{}",
                report.other,
                report.keep,
                report.references,
                report.dropped,
                if report.raised {
                    "; raised to the merged record's level"
                } else {
                    ""
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn delete(cli: &Cli, args: &DeleteArgs) -> anyhow::Result<ExitCode> {
    let mut session = open(cli, &args.file, OpenMode::ReadWrite)?;
    session.delete(args.kind, args.id)?;
    session.save()?;
    outln!("deleted {} {}", args.kind, args.id);
    Ok(ExitCode::SUCCESS)
}

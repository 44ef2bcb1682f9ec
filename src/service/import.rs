//! Import of a JSON document of records (`observatory import FILE DATA --format json`).
//!
//! # Record document format (`observatory-records`, version 1)
//! ```json
//! {
//!   "format": "observatory-records",
//!   "version": 1,
//!   "classification": "RESTRICTED",
//!   "records": [
//!     {"kind": "technology", "name": "Gallium nitride power amplifiers", "area": "semiconductors",
//!      "domains": ["defence", "space"], "classification": "RESTRICTED"},
//!     {"kind": "link", "id": "0190...", "from_id": "0190...", "to_id": "CN",
//!      "link_kind": "produced-in", "share": 0.938, "year": 2023}
//!   ]
//! }
//! ```
//! - `format` and `version` are required; `classification` (the document's marking) and
//!   `marking`, `exported_at` are optional. Unknown top-level keys are refused.
//! - Each record has `kind` and the fields of its kind (see [`crate::model::kind`]), plus
//!   optional `id`, `classification` (default: the document's `classification`, else
//!   UNCLASSIFIED) and `releasable_to`. Keys written by `export` that describe history
//!   (`created_at`, `updated`, `updated_by`, `reference`) are accepted and ignored. Any other
//!   unknown key is refused.
//! - A record whose `id` exists is updated (only the values that differ); otherwise it is
//!   created. An import never lowers a record's classification nor widens its releasability:
//!   a lower level or a wider list in the document is ignored and reported.
//! - References may point to records of the same document.
//! - All or nothing: any problem rejects the whole document, listing every problem with the
//!   record's position (`records[3]`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::ServiceError;
use super::export::EXPORT_FORMAT_TAG;
use super::session::{RecordInput, Session, check_references, prepare_changes, prepare_new};
use crate::model::{Classification, Kind};
use crate::store::{NewRecord, RecordChange, StoreError};

/// The document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportDocument {
    /// Must be `observatory-records`.
    pub format: String,
    /// Must be 1.
    pub version: u32,
    /// Default classification of records without one.
    #[serde(default)]
    pub classification: Option<Classification>,
    /// Marking text (informative).
    #[serde(default)]
    pub marking: Option<String>,
    /// When it was exported (informative).
    #[serde(default)]
    pub exported_at: Option<String>,
    /// The records.
    pub records: Vec<Map<String, Value>>,
}

/// What an import did, or would do.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    /// Records created.
    pub new: usize,
    /// Records changed.
    pub changed: usize,
    /// Records already identical.
    pub unchanged: usize,
    /// Records whose lower classification in the document was ignored.
    pub classification_kept: usize,
    /// Records whose wider releasability in the document was ignored.
    pub releasability_kept: usize,
    /// Created or changed, per kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Records of the document that follow a merge made in this file (see
    /// [`Session::merge`]): a merged record's values go to the record kept (only the fields it
    /// lacks), references to it point to the kept one, and figures the merge deleted stay
    /// deleted.
    pub merged: usize,
    /// Whether nothing was written.
    pub dry_run: bool,
}

const IGNORED_KEYS: &[&str] = &["created_at", "updated", "updated_by", "reference"];

enum Planned {
    New(NewRecord),
    Change(Kind, Uuid, Vec<RecordChange>),
    Same,
}

impl Session {
    /// Imports a record document: all or nothing. With `dry_run`, reports without writing.
    pub fn import_records(
        &mut self,
        document: &ImportDocument,
        what: &str,
        dry_run: bool,
    ) -> Result<ImportReport, ServiceError> {
        if document.format != EXPORT_FORMAT_TAG || document.version != 1 {
            return Err(ServiceError::Invalid(format!(
                "{what} is not an observatory record document (format {:?} version {}; expected {EXPORT_FORMAT_TAG:?} version 1)",
                document.format, document.version
            )));
        }
        self.import_maps(
            document.records.clone(),
            document.classification,
            what,
            dry_run,
            None,
        )
    }

    /// Imports records given as maps (the record document's form): all or nothing. Problems
    /// name a record by `labels[i]` when given (`provision.csv line 12`), else `records[i]`.
    pub(crate) fn import_maps(
        &mut self,
        records: Vec<Map<String, Value>>,
        default_level: Option<Classification>,
        what: &str,
        dry_run: bool,
        labels: Option<&[String]>,
    ) -> Result<ImportReport, ServiceError> {
        self.check_writable()?;
        let label = |index: usize| -> String {
            labels
                .and_then(|l| l.get(index))
                .cloned()
                .unwrap_or_else(|| format!("records[{index}]"))
        };
        let mut problems = Vec::new();
        let mut plans = Vec::with_capacity(records.len());
        let mut report = ImportReport {
            dry_run,
            ..ImportReport::default()
        };
        let mut pending: BTreeMap<Uuid, Kind> = BTreeMap::new();
        // Each record's values move into its plan, so the document and the plans are never
        // both held whole.
        let (redirect, dropped) = self.merges()?;
        for (index, mut object) in records.into_iter().enumerate() {
            if !redirect.is_empty() || !dropped.is_empty() {
                match self.follow_merges(&mut object, &redirect, &dropped) {
                    Ok(true) => report.merged += 1,
                    Ok(false) => {}
                    Err(()) => {
                        // A figure the merge deleted: it stays deleted.
                        report.merged += 1;
                        report.unchanged += 1;
                        continue;
                    }
                }
            }
            match self.plan_one(object, default_level, &mut report) {
                Ok(plan) => {
                    if let Planned::New(record) = &plan
                        && pending.insert(record.id, record.kind).is_some()
                    {
                        problems.push(format!("{}: id {} appears twice", label(index), record.id));
                    }
                    plans.push((index, plan));
                }
                Err(message) => problems.push(format!("{}: {message}", label(index))),
            }
        }
        if !problems.is_empty() {
            return Err(ServiceError::ImportRejected {
                what: what.to_owned(),
                problems,
            });
        }
        let apply = |w: &crate::store::Writer<'_>| -> Result<(), StoreError> {
            let mut problems = Vec::new();
            for (index, plan) in &plans {
                let checked = match plan {
                    Planned::New(record) => {
                        check_references(w, record.kind, &record.fields, &pending)
                    }
                    Planned::Change(kind, _, changes) => {
                        let fields = changes
                            .iter()
                            .filter_map(|c| match c {
                                RecordChange::Field(n, Some(v)) => {
                                    Some(((*n).to_owned(), v.clone()))
                                }
                                _ => None,
                            })
                            .collect();
                        check_references(w, *kind, &fields, &pending)
                    }
                    Planned::Same => Ok(()),
                };
                if let Err(e) = checked {
                    problems.push(format!("{}: {e}", label(*index)));
                }
            }
            if !problems.is_empty() {
                return Err(StoreError::Rejected { problems });
            }
            let created = w.tick()?;
            let created_at = crate::store::now_rfc3339();
            for (_, plan) in &plans {
                match plan {
                    Planned::New(record) => {
                        w.insert_at(record, created, &created_at)?;
                    }
                    Planned::Change(kind, id, changes) => {
                        w.update(*kind, *id, changes)?;
                    }
                    Planned::Same => {}
                }
            }
            Ok(())
        };
        let result = if dry_run {
            let author = self.author().to_owned();
            self.store_mut().dry_run(&author, apply)
        } else {
            let summary = serde_json::json!({
                "source": what, "new": report.new, "changed": report.changed,
                "unchanged": report.unchanged, "by_kind": report.by_kind,
            });
            self.store_write(|w| {
                apply(w)?;
                w.audit("import", None, &summary)
            })
        };
        result.map_err(|e| match e {
            StoreError::Rejected { problems } => ServiceError::ImportRejected {
                what: what.to_owned(),
                problems,
            },
            other => other.into(),
        })?;
        Ok(report)
    }

    /// The merges made in this file, from its audit log: merged id -> kept id (chains
    /// followed), and the links each merge deleted.
    fn merges(
        &self,
    ) -> Result<(BTreeMap<String, String>, std::collections::BTreeSet<String>), ServiceError> {
        let mut redirect: BTreeMap<String, String> = BTreeMap::new();
        let mut dropped = std::collections::BTreeSet::new();
        for entry in self.store().audit_entries(None)? {
            if entry.action != "merge" {
                continue;
            }
            let detail: Value = serde_json::from_str(&entry.detail).unwrap_or_default();
            if let (Some(keep), Some(other)) = (&entry.record_id, detail["merged"].as_str()) {
                redirect.insert(other.to_owned(), keep.clone());
            }
            for id in detail["dropped_ids"].as_array().into_iter().flatten() {
                if let Some(id) = id.as_str() {
                    dropped.insert(id.to_owned());
                }
            }
        }
        // A record merged into one that was merged later: to the last one kept.
        let keys: Vec<String> = redirect.keys().cloned().collect();
        for key in keys {
            let mut to = redirect[&key].clone();
            let mut steps = 0;
            while let Some(next) = redirect.get(&to) {
                to.clone_from(next);
                steps += 1;
                if steps > redirect.len() {
                    break;
                }
            }
            redirect.insert(key, to);
        }
        Ok((redirect, dropped))
    }

    /// Points a document record past the merges: references to a merged record go to the
    /// kept one; the merged record itself becomes the kept one, with only the fields the kept
    /// one lacks. `Ok(true)`: something was redirected; `Err(())`: a figure a merge deleted.
    fn follow_merges(
        &self,
        object: &mut Map<String, Value>,
        redirect: &BTreeMap<String, String>,
        dropped: &std::collections::BTreeSet<String>,
    ) -> Result<bool, ()> {
        let id = object.get("id").and_then(Value::as_str).map(str::to_owned);
        if id.as_ref().is_some_and(|id| dropped.contains(id)) {
            return Err(());
        }
        let mut followed = false;
        for (key, value) in object.iter_mut() {
            if key == "id" || key == "kind" {
                continue;
            }
            match value {
                Value::String(text) => {
                    if let Some(to) = redirect.get(text.as_str()) {
                        *text = to.clone();
                        followed = true;
                    }
                }
                Value::Array(list) => {
                    for v in list.iter_mut() {
                        if let Some(to) = v.as_str().and_then(|t| redirect.get(t)) {
                            *v = Value::from(to.clone());
                            followed = true;
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(to) = id.as_ref().and_then(|id| redirect.get(id)) {
            object.insert("id".into(), Value::from(to.clone()));
            let kept = Uuid::parse_str(to)
                .ok()
                .and_then(|u| self.store().find_kind(u).ok().flatten().map(|k| (k.0, u)))
                .and_then(|(kind, u)| self.store().get(kind, u).ok().flatten());
            if let Some(kept) = kept {
                object.retain(|key, _| {
                    matches!(
                        key.as_str(),
                        "id" | "kind" | "classification" | "releasable_to"
                    ) || !kept.fields.contains_key(key)
                });
            }
            followed = true;
        }
        Ok(followed)
    }

    fn plan_one(
        &self,
        object: Map<String, Value>,
        default_level: Option<Classification>,
        report: &mut ImportReport,
    ) -> Result<Planned, String> {
        let kind: Kind = object
            .get("kind")
            .and_then(Value::as_str)
            .ok_or("no \"kind\"")?
            .parse()
            .map_err(|e| format!("{e}"))?;
        let id = match object.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                Some(Uuid::parse_str(s).map_err(|_| format!("id {s:?} is not a UUID"))?)
            }
            Some(_) => return Err("id must be text".into()),
        };
        let mut input = RecordInput::default();
        for (key, value) in object {
            match key.as_str() {
                "kind" | "id" => {}
                "classification" => {
                    let text = value.as_str().ok_or("classification must be text")?;
                    input.classification = Some(text.parse().map_err(|e| format!("{e}"))?);
                }
                "releasable_to" => {
                    let list: Vec<String> = serde_json::from_value(value)
                        .map_err(|_| "releasable_to must be a list of Member State codes")?;
                    input.releasable_to = Some(list);
                }
                "deleted" => {
                    if value.as_bool() == Some(true) {
                        return Err("deleted records cannot be imported".into());
                    }
                }
                key if IGNORED_KEYS.contains(&key) => {}
                _ => {
                    input.fields.insert(key, value);
                }
            }
        }
        if input.classification.is_none() {
            input.classification = default_level;
        }
        // One probe of every table first: most imported ids are new.
        let found = match id {
            Some(id) => self.store().find_kind(id).map_err(|e| e.to_string())?,
            None => None,
        };
        let existing = match (id, found) {
            (Some(id), Some((found_kind, _))) if found_kind == kind => {
                self.store().get(kind, id).map_err(|e| e.to_string())?
            }
            (Some(id), Some((other, _))) => {
                return Err(format!("id {id} belongs to a {other}, not a {kind}"));
            }
            _ => None,
        };
        let plan = match existing {
            Some(current) if !current.meta.deleted => {
                if input
                    .classification
                    .is_some_and(|l| l < current.meta.classification)
                {
                    input.classification = Some(current.meta.classification);
                    report.classification_kept += 1;
                }
                // Nor widens its releasability (originator control: DESIGN.md §6).
                if let Some(wider) = &input.releasable_to
                    && !crate::model::control::is_safe_change(
                        "releasable_to",
                        &Value::from(current.meta.releasable_to.clone()),
                        &Value::from(wider.clone()),
                    )
                {
                    input.releasable_to = Some(current.meta.releasable_to.clone());
                    report.releasability_kept += 1;
                }
                let changes = prepare_changes(&current, &input).map_err(|e| e.to_string())?;
                if changes.is_empty() {
                    report.unchanged += 1;
                    Planned::Same
                } else {
                    // The consultation cycle's records change only through their commands, by
                    // their owner (see `model::control`): an import never rewrites them.
                    if let Some(c) = changes
                        .iter()
                        .find(|c| crate::model::control::creation_only(kind, c.name()))
                    {
                        return Err(format!(
                            "{kind} {}: {} never changes after the record is made",
                            current.meta.id,
                            c.name()
                        ));
                    }
                    self.check_ownership(&current, false)
                        .map_err(|e| e.to_string())?;
                    self.check_originator_fields(&current, &changes)
                        .map_err(|e| e.to_string())?;
                    report.changed += 1;
                    *report.by_kind.entry(kind.name().to_owned()).or_default() += 1;
                    Planned::Change(kind, current.meta.id, changes)
                }
            }
            Some(_) => {
                return Err(format!(
                    "{kind} {} was deleted in this file",
                    id.unwrap_or_default()
                ));
            }
            None => {
                // Rounds, answers, consolidated assessments and list versions are made by the
                // consultation commands and reach others in bundles, signed by their owner: a
                // document cannot bring them in under the importer's name.
                let owned = matches!(kind, Kind::Round | Kind::ListVersion)
                    || (kind == Kind::Assessment
                        && (input.fields.contains_key("round_id")
                            || input.fields.contains_key("assessment_kind")));
                if kind == Kind::Bloc
                    && input
                        .fields
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(crate::model::bloc::is_built_in_name)
                {
                    return Err(
                        "a bloc with a built-in bloc's name (EU, EU+EEA, NATO, like-minded) cannot be imported: rename it".into(),
                    );
                }
                if owned {
                    return Err(format!(
                        "a new {kind} of the consultation cycle cannot be imported: rounds, answers and list versions are made with `observatory round` / `proposal accept` and travel in signed bundles"
                    ));
                }
                let record = prepare_new(kind, id, &input).map_err(|e| e.to_string())?;
                report.new += 1;
                *report.by_kind.entry(kind.name().to_owned()).or_default() += 1;
                Planned::New(record)
            }
        };
        Ok(plan)
    }
}

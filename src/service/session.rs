//! An unlocked observatory and the edits made through it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::error::ServiceError;
use crate::crypto::Identity;
use crate::model::kind::FieldType;
use crate::model::record::{check_required, field_of, normalise_releasability, normalise_value};
use crate::model::{Classification, Kind, Record, country};
use crate::store::{AuditReport, Counts, NewRecord, OpenMode, RecordChange, Store, Trust, Writer};

/// What a user asks for when adding or editing a record: raw values, checked here.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordInput {
    /// Classification (new records default to UNCLASSIFIED).
    pub classification: Option<Classification>,
    /// Releasability (Member State codes).
    pub releasable_to: Option<Vec<String>>,
    /// Field values; JSON null clears a field on edit.
    pub fields: BTreeMap<String, Value>,
}

/// An open, unlocked observatory.
pub struct Session {
    store: Store,
    identity: Identity,
    author: String,
    viewing: Option<Viewing>,
    /// The data year the views compute their figures from (None: the latest figures).
    data_year: Option<i64>,
}

/// The date the register is being viewed as of (read-only), see [`Session::view_as_of`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewing {
    /// The date, `YYYY-MM-DD`.
    pub date: String,
    /// Its last clock value (end of the day, UTC).
    pub cutoff: crate::model::Hlc,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("store", &self.store)
            .field("author", &self.author)
            .finish_non_exhaustive()
    }
}

/// A text field of a record after `changes` (a changed value, else the record's own).
fn changed_text(changes: &[RecordChange], record: &Record, name: &str) -> String {
    changes
        .iter()
        .find_map(|c| match c {
            RecordChange::Field(n, Some(Value::String(v))) if *n == name => Some(v.clone()),
            _ => None,
        })
        .or_else(|| record.text(name).map(str::to_owned))
        .unwrap_or_default()
}

/// What a merge did.
#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    /// The record kept.
    pub keep: String,
    /// The record merged into it (now deleted).
    pub other: String,
    /// Records whose references moved to the kept record.
    pub references: usize,
    /// Links deleted instead of moved: a figure the kept record already had, or a link to
    /// itself.
    pub dropped: usize,
    /// The kept record was raised to the other's level.
    pub raised: bool,
}

/// Summary of an observatory (`observatory info`).
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    /// The file.
    pub path: PathBuf,
    /// File format.
    pub format: String,
    /// Schema version.
    pub schema_version: i64,
    /// File id.
    pub file_id: String,
    /// When the file was created.
    pub created_at: String,
    /// Size of the encrypted file in bytes.
    pub file_bytes: u64,
    /// Size of the database image in bytes.
    pub database_bytes: u64,
    /// Counts per record kind.
    pub counts: BTreeMap<String, Counts>,
    /// Highest classification of any live record.
    pub highest_classification: Classification,
    /// Change-log rows.
    pub change_log_entries: u64,
    /// Audit entries.
    pub audit_entries: u64,
    /// Backups present beside the file.
    pub backups: Vec<String>,
}

/// Result of `observatory verify`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Problems found by SQLite's integrity check.
    pub integrity_problems: Vec<String>,
    /// Audit chain check.
    pub audit: AuditReport,
    /// References to records that do not exist.
    pub dangling_references: Vec<String>,
}

impl VerifyReport {
    /// Whether everything checked out.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.integrity_problems.is_empty()
            && self.audit.first_broken_seq.is_none()
            && self.dangling_references.is_empty()
    }
}

impl Session {
    /// Creates a new observatory file owned by `identity`.
    pub fn create(path: &Path, identity: Identity) -> Result<Session, ServiceError> {
        let author = identity.card().author_id();
        let mut store = Store::create(path, identity.recipient(), identity.signing_key(), &author)?;
        let card = identity.card();
        store.write(&author, |w| {
            w.audit(
                "init",
                None,
                &serde_json::json!({
                    "owner": card.profile.name,
                    "member_state": card.profile.member_state,
                    // The key id, as in files made before card version 2.
                    "fingerprint": card.key_id(),
                    "card_fingerprint": card.fingerprint(),
                }),
            )
        })?;
        store.save()?;
        Ok(Session {
            store,
            identity,
            author,
            viewing: None,
            data_year: None,
        })
    }

    /// Opens an observatory file with `identity`.
    pub fn open(path: &Path, identity: Identity, mode: OpenMode) -> Result<Session, ServiceError> {
        Self::open_with(path, identity, mode, Trust::Authenticated)
    }

    /// Opens, on the owner's word, a file saved before file authenticators (schema 12 or
    /// older, no authenticator in its header), and saves it at once, signed: from then on it
    /// opens like any other. The audit log records it (`authenticate`). A file that carries a
    /// wrong authenticator, or that claims a newer schema without one, is still refused.
    pub fn authenticate(path: &Path, identity: Identity) -> Result<Session, ServiceError> {
        let mut session = Self::open_with(
            path,
            identity,
            OpenMode::ReadWrite,
            Trust::AllowUnauthenticated,
        )?;
        if !session.store.opened_unauthenticated() {
            return Ok(session);
        }
        let author = session.author.clone();
        session.store.write(&author, |w| {
            w.audit(
                "authenticate",
                None,
                &serde_json::json!({
                    "reason": "opened on the owner's word without an authenticator, signed from now on"
                }),
            )
        })?;
        session.save()?;
        Ok(session)
    }

    fn open_with(
        path: &Path,
        identity: Identity,
        mode: OpenMode,
        trust: Trust,
    ) -> Result<Session, ServiceError> {
        let mut store = Store::open(
            path,
            identity.age_identity(),
            identity.signing_key(),
            mode,
            trust,
        )?;
        let author = identity.card().author_id();
        if mode == OpenMode::ReadWrite {
            // Files from before signed authorship: the owner's own history is signed now (the
            // owner's key is the only one that can); other members' unsigned rows stay unsigned
            // and are never relayed.
            let unsigned: i64 = store
                .connection()
                .query_row(
                    "SELECT count(*) FROM change_log WHERE author = ?1 AND signature IS NULL",
                    [&author],
                    |r| r.get(0),
                )
                .map_err(|e| ServiceError::Store(e.into()))?;
            if unsigned > 0 {
                store.write(&author, |w| {
                    let signed = w.sign_own_history()?;
                    w.audit(
                        "sign-history",
                        None,
                        &serde_json::json!({ "signed_changes": signed }),
                    )
                })?;
            }
        }
        Ok(Session {
            store,
            identity,
            author,
            viewing: None,
            data_year: None,
        })
    }

    /// Encrypts the register for holding in memory when it cannot be saved (see
    /// [`crate::store::HeldImage`]); the session can then be dropped.
    pub fn hold(&mut self) -> Result<crate::store::HeldImage, ServiceError> {
        Ok(self.store.hold()?)
    }

    /// Opens a held image again with its owner's identity (it counts as unsaved).
    pub fn open_held(
        held: &crate::store::HeldImage,
        identity: Identity,
    ) -> Result<Session, ServiceError> {
        let store = Store::open_held(held, identity.age_identity(), identity.signing_key())?;
        let author = identity.card().author_id();
        Ok(Session {
            store,
            identity,
            author,
            viewing: None,
            data_year: None,
        })
    }

    /// Saves to another file, which becomes this session's file.
    pub fn save_as(&mut self, path: &Path) -> Result<(), ServiceError> {
        Ok(self.store.save_as(path)?)
    }

    /// The store (read access).
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store (for fault injection in tests).
    #[doc(hidden)]
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The unlocked identity.
    #[must_use]
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The author id of this session's changes.
    #[must_use]
    pub fn author(&self) -> &str {
        &self.author
    }

    /// Saves to disk (atomic; see [`crate::store`]).
    pub fn save(&mut self) -> Result<(), ServiceError> {
        Ok(self.store.save()?)
    }

    /// First half of a background save (see [`Store::prepare_save`]).
    pub fn prepare_save(&mut self) -> Result<crate::store::SaveJob, ServiceError> {
        Ok(self.store.prepare_save()?)
    }

    /// Last half of a background save.
    pub fn finish_save(
        &mut self,
        result: Result<crate::store::SaveOutcome, crate::store::StoreError>,
    ) -> Result<(), ServiceError> {
        Ok(self.store.finish_save(result)?)
    }

    /// Live records of a kind, sorted (as of the date being viewed, if any).
    pub fn list(&self, kind: Kind) -> Result<Vec<Record>, ServiceError> {
        Ok(match &self.viewing {
            Some(v) => self.store.as_of(kind, v.cutoff)?,
            None => self.store.list(kind, false)?,
        })
    }

    /// Views the register as it stood at the end of `date` (`YYYY-MM-DD`), or now (`None`).
    /// While viewing a past date, [`Session::list`], [`Session::get`] and the supply records
    /// are replayed from the change log and every change to the register is refused
    /// ([`ServiceError::ViewingPast`]).
    pub fn view_as_of(&mut self, date: Option<&str>) -> Result<(), ServiceError> {
        self.viewing = match date {
            None => None,
            Some(date) => {
                let cutoff = crate::store::end_of_day(date).ok_or_else(|| {
                    ServiceError::Invalid(format!("{date:?} is not a date (YYYY-MM-DD)"))
                })?;
                Some(Viewing {
                    date: date.trim().to_owned(),
                    cutoff,
                })
            }
        };
        Ok(())
    }

    /// The date being viewed, if not now.
    #[must_use]
    pub fn viewing(&self) -> Option<&Viewing> {
        self.viewing.as_ref()
    }

    /// Refuses changes to the register while a past date is viewed.
    pub(super) fn check_writable(&self) -> Result<(), ServiceError> {
        match &self.viewing {
            Some(v) => Err(ServiceError::ViewingPast(v.date.clone())),
            None => Ok(()),
        }
    }

    /// Ids of the live records of `kind` matching every word of `text` (full-text search).
    pub fn search(
        &self,
        kind: Kind,
        text: &str,
    ) -> Result<std::collections::BTreeSet<Uuid>, ServiceError> {
        Ok(self.store.search(kind, text)?)
    }

    /// Live records that refer to `id` (a technology's assessments, measures, links, ...).
    pub fn referring_to(&self, id: Uuid) -> Result<Vec<Record>, ServiceError> {
        let mut records = Vec::new();
        for (kind, found) in self.store.referring_to(id)? {
            if let Some(record) = self.store.get(kind, found)? {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// What a reference shows as: the record's label (a link as "from kind to"), or the
    /// country's name; the id itself when it is unknown.
    #[must_use]
    pub fn describe(&self, id: &str) -> String {
        if let Ok(uuid) = Uuid::parse_str(id) {
            let Ok(Some((kind, _))) = self.store.find_kind(uuid) else {
                return id.to_owned();
            };
            let Ok(Some(record)) = self.store.get(kind, uuid) else {
                return id.to_owned();
            };
            return match kind {
                Kind::Link => format!(
                    "{} {} {}",
                    self.describe(record.text("from_id").unwrap_or_default()),
                    record.text("link_kind").unwrap_or_default(),
                    self.describe(record.text("to_id").unwrap_or_default()),
                ),
                Kind::Assessment => format!(
                    "{} of {}",
                    record.text("date").unwrap_or_default(),
                    self.describe(record.text("subject_id").unwrap_or_default())
                ),
                _ => record.label(),
            };
        }
        if id == country::UNATTRIBUTED {
            return "the unattributed rest (ZZ)".into();
        }
        if let Some(r) = country::region(id) {
            return format!("{} ({})", r.name, r.code);
        }
        country::by_code(id).map_or_else(|| id.to_owned(), |c| format!("{} ({})", c.name, c.code))
    }

    /// One live record.
    pub fn get(&self, kind: Kind, id: Uuid) -> Result<Record, ServiceError> {
        let found = match &self.viewing {
            Some(v) => self.store.get_as_of(kind, id, v.cutoff)?,
            None => self.store.get(kind, id)?,
        };
        match found {
            Some(record) if !record.meta.deleted => Ok(record),
            _ => Err(crate::store::StoreError::UnknownRecord {
                kind,
                id: id.to_string(),
            }
            .into()),
        }
    }

    /// Adds a record; returns its id.
    pub fn add(
        &mut self,
        kind: Kind,
        id: Option<Uuid>,
        input: &RecordInput,
    ) -> Result<Uuid, ServiceError> {
        self.check_writable()?;
        if kind == Kind::Bloc
            && input
                .fields
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(crate::model::bloc::is_built_in_name)
        {
            return Err(ServiceError::Invalid(
                "that name is a built-in bloc's (EU, EU+EEA, NATO, like-minded): give your bloc another name".into(),
            ));
        }
        if kind == Kind::ListVersion {
            return Err(ServiceError::Invalid(
                "a version of the list is made by accepting proposals (`observatory proposal accept`), not added by hand".into(),
            ));
        }
        let record = prepare_new(kind, id, input)?;
        self.store.write(&self.author, |w| {
            check_references(w, kind, &record.fields, &BTreeMap::new())?;
            if w.find_kind(record.id)?.is_some() {
                return Err(crate::store::StoreError::DuplicateId {
                    id: record.id.to_string(),
                });
            }
            w.insert(&record)?;
            w.audit(
                "add",
                Some((kind, record.id)),
                &audit_detail(&record.fields, record.classification),
            )
        })?;
        Ok(record.id)
    }

    /// Edits a live record: fields present in `input` are set (null clears).
    pub fn edit(
        &mut self,
        kind: Kind,
        id: Uuid,
        input: &RecordInput,
    ) -> Result<usize, ServiceError> {
        self.check_writable()?;
        let current = self.get(kind, id)?;
        let changes = prepare_changes(&current, input)?;
        if changes.is_empty() {
            return Ok(0);
        }
        if let Some(c) = changes
            .iter()
            .find(|c| crate::model::control::creation_only(kind, c.name()))
        {
            return Err(ServiceError::Invalid(format!(
                "{} is set when an assessment is made and never changes: whether it answers a consultation round is part of what it is (make a new one instead)",
                c.name()
            )));
        }
        self.check_ownership(&current, false)?;
        self.check_originator_fields(&current, &changes)?;
        self.check_originator_control(&current, &changes)?;
        if kind == Kind::Bloc
            && current.meta.reference
            && changes.iter().any(|c| c.name() == "name")
        {
            return Err(ServiceError::Invalid(format!(
                "the {} bloc is built in: its name does not change (make your own bloc instead)",
                current.label()
            )));
        }
        if kind == Kind::Bloc
            && !current.meta.reference
            && changes.iter().any(|c| {
                matches!(c, RecordChange::Field("name", Some(Value::String(n))) if crate::model::bloc::is_built_in_name(n))
            })
        {
            return Err(ServiceError::Invalid(
                "that name is a built-in bloc's (EU, EU+EEA, NATO, like-minded): give your bloc another name".into(),
            ));
        }
        let count = changes.len();
        self.store.write(&self.author, |w| {
            let fields: BTreeMap<String, Value> = changes
                .iter()
                .filter_map(|c| match c {
                    RecordChange::Field(name, Some(v)) => Some(((*name).to_owned(), v.clone())),
                    _ => None,
                })
                .collect();
            check_references(w, kind, &fields, &BTreeMap::new())?;
            w.update(kind, id, &changes)?;
            let detail: BTreeMap<&str, Value> =
                changes.iter().map(|c| (c.name(), c.log_value())).collect();
            w.audit(
                "edit",
                Some((kind, id)),
                &serde_json::to_value(redact(&detail)).unwrap_or_default(),
            )
        })?;
        Ok(count)
    }

    /// Only a record's originator may lower its classification or widen its releasability
    /// (DESIGN.md §6): anyone else is told who may.
    fn check_originator_control(
        &self,
        current: &Record,
        changes: &[RecordChange],
    ) -> Result<(), ServiceError> {
        let Some(change) = crate::store::lowering(current, changes) else {
            return Ok(());
        };
        let originator = self.store.originator_of(current.kind, current.meta.id)?;
        if originator.as_deref() == Some(self.author.as_str()) {
            return Ok(());
        }
        let who = match originator.as_deref() {
            None => "nobody: it is built-in reference data".to_owned(),
            Some(id) => self
                .store
                .members()?
                .into_iter()
                .find(|m| m.fingerprint == id)
                .map_or_else(|| format!("member {id}"), |m| m.name),
        };
        let what = if change.name() == "classification" {
            "lower its classification"
        } else {
            "widen its releasability"
        };
        Err(ServiceError::Invalid(format!(
            "only the originator of {} may {what} (Decision 2013/488/EU): its originator is {who}; a raise or a narrowing is always allowed",
            current.label()
        )))
    }

    /// Fields only a record's originator changes (what a proposal proposes).
    pub(crate) fn check_originator_fields(
        &self,
        current: &Record,
        changes: &[RecordChange],
    ) -> Result<(), ServiceError> {
        let Some(c) = changes
            .iter()
            .find(|c| crate::model::control::originator_field(current.kind, c.name()))
        else {
            return Ok(());
        };
        let originator = self.store.originator_of(current.kind, current.meta.id)?;
        if originator.as_deref() == Some(self.author.as_str()) {
            return Ok(());
        }
        Err(ServiceError::Invalid(format!(
            "only the member who made the proposal changes its {} (the members' stances are on it as it is): make a new proposal instead",
            c.name()
        )))
    }

    /// Owned records (a round, an answer to a round, a list version; see `model::control`)
    /// change only by their originator, and a list version never: anyone else is told why.
    pub(crate) fn check_ownership(
        &self,
        current: &Record,
        sets_round: bool,
    ) -> Result<(), ServiceError> {
        let ties = sets_round || current.fields.contains_key("round_id");
        if current.kind == Kind::Bloc
            && crate::model::bloc::is_fixed_id(&current.meta.id.to_string())
        {
            return Err(ServiceError::Invalid(format!(
                "the {} bloc is built in from the treaties and never changes; make your own bloc under another name",
                current.label()
            )));
        }
        if current.meta.reference && current.kind == Kind::ListVersion {
            return Err(ServiceError::Invalid(format!(
                "{} is built-in reference data: it never changes",
                current.label()
            )));
        }
        match crate::model::control::ownership(current.kind, ties) {
            crate::model::control::Ownership::Shared => Ok(()),
            crate::model::control::Ownership::Frozen => Err(ServiceError::Invalid(format!(
                "{} is a version of the list: versions never change; accepting proposals makes a new one",
                current.label()
            ))),
            crate::model::control::Ownership::Originator => {
                let originator = self.store.originator_of(current.kind, current.meta.id)?;
                if originator.as_deref() == Some(self.author.as_str()) {
                    // An answer stands as it was when its round closed.
                    let closed = current.is_round_answer()
                        && current
                            .text("round_id")
                            .and_then(|t| Uuid::parse_str(t).ok())
                            .and_then(|r| self.get(Kind::Round, r).ok())
                            .is_some_and(|r| r.text("status") == Some("closed"));
                    if closed {
                        return Err(ServiceError::Invalid(
                            "the round of this answer is closed: its consolidated assessment is written; answer a follow-up round instead".into(),
                        ));
                    }
                    return Ok(());
                }
                let who = originator.as_deref().map_or_else(
                    || "nobody".to_owned(),
                    |id| {
                        self.store
                            .members()
                            .ok()
                            .and_then(|m| m.into_iter().find(|m| m.fingerprint == id))
                            .map_or_else(|| format!("member {id}"), |m| m.name)
                    },
                );
                let what = if current.kind == Kind::Round {
                    "a consultation round changes only by its coordinator"
                } else {
                    "an answer to a consultation round changes only by the member who gave it"
                };
                Err(ServiceError::Invalid(format!(
                    "{what} ({who}): give your own answer instead"
                )))
            }
        }
    }

    /// Merges `other` into `keep` (two records of one kind that stand for the same thing: one
    /// material from two datasets, a firm under two names). Everything that refers to `other`
    /// refers to `keep` afterwards; `keep` takes `other`'s values for the fields it lacks and,
    /// where the kind has aliases, `other`'s name and aliases; its level becomes the higher
    /// of the two and its releasability the narrower (merged content never shows below its
    /// level); `other` is deleted (a tombstone). Supply figures are compared as the analysis
    /// groups them (item, country or firm figures, first source, data year): where a group
    /// would hold figures that were there and figures that moved in, the moved ones are
    /// deleted, all of them, so no share counts twice and the two sets never mix; a link that
    /// would join `keep` to itself is deleted. Built-in reference records cannot be merged.
    /// Later imports in this file follow the merge (the audit entry lists what it deleted):
    /// see [`ImportReport::merged`](super::ImportReport::merged). All of it is ordinary,
    /// signed changes in one transaction, audited as `merge`, and replicates through bundles.
    pub fn merge(
        &mut self,
        kind: Kind,
        keep: Uuid,
        other: Uuid,
    ) -> Result<MergeReport, ServiceError> {
        self.check_writable()?;
        if keep == other {
            return Err(ServiceError::Invalid(
                "a record cannot be merged into itself: give two different ids".into(),
            ));
        }
        let kept = self.get(kind, keep)?;
        let gone = self.get(kind, other)?;
        if kept.meta.reference || gone.meta.reference {
            return Err(ServiceError::Invalid(
                "built-in reference records cannot be merged".into(),
            ));
        }
        if matches!(kind, Kind::Round | Kind::ListVersion)
            || kept.fields.contains_key("round_id")
            || gone.fields.contains_key("round_id")
        {
            return Err(ServiceError::Invalid(format!(
                "{kind} records of the consultation cycle (rounds, answers, consolidated assessments, list versions) are never merged"
            )));
        }
        // A merge moves references: it may not rewrite another member's answer or round.
        for r in self.referring_to(other)? {
            if let Err(e) = self.check_ownership(&r, false) {
                return Err(ServiceError::Invalid(format!(
                    "{} is referred to by {} {}, which only its owner changes ({e}): merge refused; the owner can point it at {} first",
                    gone.label(),
                    r.kind,
                    r.label(),
                    kept.label()
                )));
            }
        }
        let (keep_text, other_text) = (keep.to_string(), other.to_string());
        // The narrower releasability: [] is the whole group.
        let releasable = match (
            kept.meta.releasable_to.is_empty(),
            gone.meta.releasable_to.is_empty(),
        ) {
            (true, _) => gone.meta.releasable_to.clone(),
            (false, true) => kept.meta.releasable_to.clone(),
            (false, false) => kept
                .meta
                .releasable_to
                .iter()
                .filter(|c| gone.meta.releasable_to.contains(c))
                .cloned()
                .collect(),
        };
        if releasable.is_empty()
            && !(kept.meta.releasable_to.is_empty() && gone.meta.releasable_to.is_empty())
        {
            return Err(ServiceError::Invalid(format!(
                "{} and {} are releasable to no Member State in common ({} / {}): merged, the record could be released to nobody; narrow one first",
                kept.label(),
                gone.label(),
                kept.meta.releasable_to.join(", "),
                gone.meta.releasable_to.join(", "),
            )));
        }
        // The changes to `keep` itself.
        let mut own = Vec::new();
        let level = kept.meta.classification.max(gone.meta.classification);
        if level != kept.meta.classification {
            own.push(RecordChange::Classification(level));
        }
        if releasable != kept.meta.releasable_to {
            own.push(RecordChange::ReleasableTo(releasable));
        }
        for field in kind.fields() {
            if field.name == "name" || field.name == "aliases" {
                continue;
            }
            if let Some(value) = gone.fields.get(field.name)
                && !kept.fields.contains_key(field.name)
            {
                own.push(RecordChange::Field(field.name, Some(value.clone())));
            }
        }
        if kind.fields().iter().any(|f| f.name == "aliases") {
            let mut aliases = kept.texts("aliases");
            let kept_name = kept.text("name").unwrap_or_default().to_owned();
            let more = gone
                .text("name")
                .into_iter()
                .map(str::to_owned)
                .chain(gone.texts("aliases"));
            let before = aliases.len();
            for alias in more {
                if alias != kept_name && !aliases.contains(&alias) {
                    aliases.push(alias);
                }
            }
            if aliases.len() > before {
                own.push(RecordChange::Field("aliases", Some(Value::from(aliases))));
            }
        }
        // Everything that refers to `other`.
        let mut moves: Vec<(Kind, Uuid, Vec<RecordChange>)> = Vec::new();
        let mut dropped = 0usize;
        let mut references = 0usize;
        for k in Kind::ALL {
            for record in self.list(k)? {
                if record.meta.id == other {
                    continue;
                }
                let mut changes = Vec::new();
                for field in k.fields() {
                    let Some(value) = record.fields.get(field.name) else {
                        continue;
                    };
                    match (&field.ty, value) {
                        (FieldType::Ref(_) | FieldType::Node, Value::String(text))
                            if *text == other_text =>
                        {
                            changes.push(RecordChange::Field(
                                field.name,
                                Some(Value::from(keep_text.clone())),
                            ));
                        }
                        (FieldType::RefList(_), Value::Array(list))
                            if list.iter().any(|v| v.as_str() == Some(other_text.as_str())) =>
                        {
                            let mut list_now: Vec<Value> = Vec::new();
                            for v in list {
                                let v = if v.as_str() == Some(other_text.as_str()) {
                                    Value::from(keep_text.clone())
                                } else {
                                    v.clone()
                                };
                                if !list_now.contains(&v) {
                                    list_now.push(v);
                                }
                            }
                            changes
                                .push(RecordChange::Field(field.name, Some(Value::from(list_now))));
                        }
                        _ => {}
                    }
                }
                if changes.is_empty() {
                    continue;
                }
                references += 1;
                if k == Kind::Link {
                    let (from, to) = (
                        changed_text(&changes, &record, "from_id"),
                        changed_text(&changes, &record, "to_id"),
                    );
                    if from == to {
                        dropped += 1;
                        moves.push((k, record.meta.id, vec![RecordChange::Deleted(true)]));
                        continue;
                    }
                }
                moves.push((k, record.meta.id, changes));
            }
        }
        // Supply figures, as the analysis groups them (item, basis, first source, data
        // year): where a group holds figures that were there and figures that moved in, the
        // two records' figures of one source and year describe the same supply, and only the
        // kept side's stay (the moved ones are deleted, all of them: no mix of the two sets).
        let mut groups: BTreeMap<(String, bool, String, String), (bool, bool)> = BTreeMap::new();
        let moved_links: BTreeMap<Uuid, &Vec<RecordChange>> = moves
            .iter()
            .filter(|(k, _, _)| *k == Kind::Link)
            .map(|(_, id, c)| (*id, c))
            .collect();
        let links = self.list(Kind::Link)?;
        let group_of = |l: &Record, changes: &[RecordChange]| {
            let kind = l.text("link_kind").unwrap_or_default();
            if !matches!(kind, "produced-in" | "supplied-by")
                || l.fields.get("share").and_then(Value::as_f64).is_none()
            {
                return None;
            }
            let first_source = changes
                .iter()
                .find_map(|c| match c {
                    RecordChange::Field("source_ids", Some(Value::Array(list))) => Some(
                        list.first()
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                    ),
                    _ => None,
                })
                .unwrap_or_else(|| l.texts("source_ids").first().cloned().unwrap_or_default());
            let to = changed_text(changes, l, "to_id");
            // Firm figures: an organisation or the firms' rest; the rest are country figures.
            let firm = kind == "supplied-by"
                && (Uuid::parse_str(&to).is_ok() || to == country::UNATTRIBUTED);
            Some((
                changed_text(changes, l, "from_id"),
                firm,
                first_source,
                l.fields
                    .get("year")
                    .map(Value::to_string)
                    .unwrap_or_default(),
            ))
        };
        let mut deletions = Vec::new();
        for l in &links {
            let changes = moved_links
                .get(&l.meta.id)
                .map_or(&[][..], |c| c.as_slice());
            if changes
                .iter()
                .any(|c| matches!(c, RecordChange::Deleted(true)))
            {
                continue;
            }
            if let Some(key) = group_of(l, changes) {
                let entry = groups.entry(key).or_default();
                if changes.is_empty() {
                    entry.0 = true;
                } else {
                    entry.1 = true;
                }
            }
        }
        for l in &links {
            let Some(changes) = moved_links.get(&l.meta.id) else {
                continue;
            };
            if changes
                .iter()
                .any(|c| matches!(c, RecordChange::Deleted(true)))
            {
                continue;
            }
            if let Some(key) = group_of(l, changes)
                && groups
                    .get(&key)
                    .is_some_and(|(stayed, moved)| *stayed && *moved)
            {
                deletions.push(l.meta.id);
            }
        }
        for (k, id, changes) in &mut moves {
            if *k == Kind::Link && deletions.contains(id) {
                dropped += 1;
                *changes = vec![RecordChange::Deleted(true)];
            }
        }
        let dropped_ids: Vec<String> = moves
            .iter()
            .filter(|(_, _, c)| c.iter().any(|c| matches!(c, RecordChange::Deleted(true))))
            .map(|(_, id, _)| id.to_string())
            .collect();
        let report = MergeReport {
            keep: kept.label(),
            other: gone.label(),
            references,
            dropped,
            raised: level != kept.meta.classification,
        };
        self.store.write(&self.author, |w| {
            if !own.is_empty() {
                w.update(kind, keep, &own)?;
            }
            for (k, id, changes) in &moves {
                w.update(*k, *id, changes)?;
            }
            w.update(kind, other, &[RecordChange::Deleted(true)])?;
            w.audit(
                "merge",
                Some((kind, keep)),
                &serde_json::json!({
                    "merged": other_text,
                    "label": report.other,
                    "references_moved": references,
                    "figures_dropped": dropped,
                    "dropped_ids": dropped_ids,
                }),
            )
        })?;
        Ok(report)
    }

    /// Deletes a live record (leaves a tombstone).
    pub fn delete(&mut self, kind: Kind, id: Uuid) -> Result<(), ServiceError> {
        self.check_writable()?;
        let current = self.get(kind, id)?;
        self.check_ownership(&current, false)?;
        if kind == Kind::Bloc && crate::model::bloc::is_built_in_id(&id.to_string()) {
            return Err(ServiceError::Invalid(format!(
                "the {} bloc is built in: it is never deleted (edit its countries instead)",
                current.label()
            )));
        }
        self.set_tombstone(&current, true)
    }

    /// Brings a deleted record back (undo of a delete).
    pub fn restore(&mut self, kind: Kind, id: Uuid) -> Result<(), ServiceError> {
        let Some(record) = self.store.get(kind, id)? else {
            return Err(crate::store::StoreError::UnknownRecord {
                kind,
                id: id.to_string(),
            }
            .into());
        };
        if !record.meta.deleted {
            return Ok(());
        }
        self.check_ownership(&record, false)?;
        self.set_tombstone(&record, false)
    }

    /// Sets or clears a record's tombstone, with its change-log row and audit entry.
    fn set_tombstone(&mut self, record: &Record, deleted: bool) -> Result<(), ServiceError> {
        self.check_writable()?;
        let (kind, id) = (record.kind, record.meta.id);
        let action = if deleted { "delete" } else { "restore" };
        self.store.write(&self.author, |w| {
            w.update(kind, id, &[RecordChange::Deleted(deleted)])?;
            w.audit(
                action,
                Some((kind, id)),
                &serde_json::json!({ "label": record.label() }),
            )
        })?;
        Ok(())
    }

    /// Summary of the file.
    pub fn info(&self) -> Result<Info, ServiceError> {
        let store = &self.store;
        let mut counts = BTreeMap::new();
        for kind in Kind::ALL {
            counts.insert(kind.name().to_owned(), store.counts(kind)?);
        }
        let backups = (1..=crate::store::BACKUP_GENERATIONS)
            .map(|g| crate::store::backup_path(store.path(), g))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        Ok(Info {
            path: store.path().to_owned(),
            format: "age (X25519 recipient) encrypting a SQLite 3 database image".to_owned(),
            schema_version: store.schema_version()?,
            file_id: store.meta_value("file_id")?.unwrap_or_default(),
            created_at: store.meta_value("created_at")?.unwrap_or_default(),
            file_bytes: std::fs::metadata(store.path()).map_or(0, |m| m.len()),
            database_bytes: store.image_size()?,
            counts,
            highest_classification: store.highest_classification()?,
            change_log_entries: store.change_log_len()?,
            audit_entries: store.audit_entries(None)?.len() as u64,
            backups,
        })
    }

    /// Full check: integrity, audit chain, references.
    pub fn verify(&self) -> Result<VerifyReport, ServiceError> {
        let mut dangling = Vec::new();
        for kind in Kind::ALL {
            for record in self.store.list(kind, false)? {
                for field in kind.fields() {
                    let ids: Vec<&str> = match (field.ty, record.fields.get(field.name)) {
                        (FieldType::Ref(_) | FieldType::Node, Some(Value::String(s))) => {
                            vec![s.as_str()]
                        }
                        (FieldType::RefList(_), Some(Value::Array(list))) => {
                            list.iter().filter_map(Value::as_str).collect()
                        }
                        _ => continue,
                    };
                    for id in ids {
                        let exists = match Uuid::parse_str(id) {
                            Ok(uuid) => self.store.find_kind(uuid)?.is_some(),
                            // A country, a region or the unattributed rest.
                            Err(_) => country::supply_code(id).is_some(),
                        };
                        if !exists {
                            dangling
                                .push(format!("{kind} {}: {} -> {id}", record.meta.id, field.name));
                        }
                    }
                }
            }
        }
        Ok(VerifyReport {
            integrity_problems: self.store.integrity_check()?,
            audit: self.store.verify_audit()?,
            dangling_references: dangling,
        })
    }

    pub(super) fn store_write<T>(
        &mut self,
        f: impl FnOnce(&Writer<'_>) -> Result<T, crate::store::StoreError>,
    ) -> Result<T, crate::store::StoreError> {
        self.store.write(&self.author, f)
    }
}

/// Long texts and attachments are not copied into the audit log, only their size.
fn redact(detail: &BTreeMap<&str, Value>) -> BTreeMap<String, Value> {
    detail
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) if s.len() > 200 => {
                    Value::from(format!("({} characters)", s.chars().count()))
                }
                other => other.clone(),
            };
            ((*k).to_owned(), v)
        })
        .collect()
}

fn audit_detail(fields: &BTreeMap<String, Value>, classification: Classification) -> Value {
    let mut detail: BTreeMap<&str, Value> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    detail.insert("classification", Value::from(classification.code()));
    serde_json::to_value(redact(&detail)).unwrap_or_default()
}

/// Checks and normalises the input for a new record.
pub(super) fn prepare_new(
    kind: Kind,
    id: Option<Uuid>,
    input: &RecordInput,
) -> Result<NewRecord, ServiceError> {
    let field_err = |source| ServiceError::Field { kind, source };
    let mut fields = BTreeMap::new();
    for (name, value) in &input.fields {
        let field = field_of(kind, name).map_err(field_err)?;
        if let Some(v) = normalise_value(field, value).map_err(field_err)? {
            fields.insert(name.clone(), v);
        }
    }
    check_required(kind, &fields).map_err(field_err)?;
    let releasable_to = normalise_releasability(input.releasable_to.as_deref().unwrap_or_default())
        .map_err(field_err)?;
    Ok(NewRecord {
        kind,
        id: id.unwrap_or_else(Uuid::now_v7),
        classification: input.classification.unwrap_or_default(),
        releasable_to,
        reference: false,
        fields,
    })
}

/// The changes `input` makes to `current` (unchanged values are left out).
pub(super) fn prepare_changes(
    current: &Record,
    input: &RecordInput,
) -> Result<Vec<RecordChange>, ServiceError> {
    let kind = current.kind;
    let field_err = |source| ServiceError::Field { kind, source };
    let mut changes = Vec::new();
    if let Some(level) = input.classification
        && level != current.meta.classification
    {
        changes.push(RecordChange::Classification(level));
    }
    if let Some(codes) = &input.releasable_to {
        let codes = normalise_releasability(codes).map_err(field_err)?;
        if codes != current.meta.releasable_to {
            changes.push(RecordChange::ReleasableTo(codes));
        }
    }
    for (name, value) in &input.fields {
        let field = field_of(kind, name).map_err(field_err)?;
        let new = normalise_value(field, value).map_err(field_err)?;
        if new.is_none() && field.required {
            return Err(field_err(crate::model::FieldError::Missing {
                field: field.name,
            }));
        }
        if new.as_ref() != current.fields.get(field.name) {
            changes.push(RecordChange::Field(field.name, new));
        }
    }
    Ok(changes)
}

/// Checks that every id a record refers to exists (live) with an allowed kind; `pending`
/// holds records of the same import that are not yet in the store.
pub(super) fn check_references(
    w: &Writer<'_>,
    kind: Kind,
    fields: &BTreeMap<String, Value>,
    pending: &BTreeMap<Uuid, Kind>,
) -> Result<(), crate::store::StoreError> {
    for (name, value) in fields {
        let Some(field) = kind.field(name) else {
            continue;
        };
        let (allowed, ids): (&[Kind], Vec<&str>) = match (field.ty, value) {
            (FieldType::Ref(allowed), Value::String(s)) => (allowed, vec![s.as_str()]),
            (FieldType::RefList(allowed), Value::Array(list)) => {
                (allowed, list.iter().filter_map(Value::as_str).collect())
            }
            (FieldType::Node, Value::String(s)) => (
                &[Kind::Technology, Kind::Item, Kind::Organisation][..],
                vec![s.as_str()],
            ),
            _ => continue,
        };
        for id in ids {
            let Ok(uuid) = Uuid::parse_str(id) else {
                // Country codes were validated by the model.
                continue;
            };
            let found = match pending.get(&uuid) {
                Some(k) => Some(*k),
                None => match w.find_kind(uuid)? {
                    Some((k, false)) => Some(k),
                    _ => None,
                },
            };
            if !found.is_some_and(|k| allowed.contains(&k)) {
                let names: Vec<&str> = allowed.iter().map(|k| k.name()).collect();
                return Err(crate::store::StoreError::BrokenReference {
                    kind,
                    field: field.name,
                    id: id.to_owned(),
                    expected: format!("the id of an existing {}", names.join(" or ")),
                });
            }
        }
    }
    Ok(())
}

/// The live records the supply graph is made of.
#[derive(Debug, Clone, Default)]
pub struct SupplyRecords {
    /// Technologies.
    pub technologies: Vec<Record>,
    /// Items.
    pub items: Vec<Record>,
    /// Organisations.
    pub organisations: Vec<Record>,
    /// Links.
    pub links: Vec<Record>,
    /// Governance risk scores of countries (0-10, 10 = worst), where recorded.
    pub governance: BTreeMap<String, f64>,
    /// The data year [`Self::graph`] computes from (see [`Session::set_data_year`]).
    pub data_year: Option<i64>,
}

impl SupplyRecords {
    /// The highest classification among them (what any view or report drawn on them shows).
    #[must_use]
    pub fn highest(&self) -> Classification {
        Classification::highest(
            self.technologies
                .iter()
                .chain(&self.items)
                .chain(&self.organisations)
                .chain(&self.links)
                .map(|r| r.meta.classification),
        )
    }
}

impl Session {
    /// The live technologies, items, organisations and links as they were at `cutoff`
    /// (replayed from the change log), or now.
    pub fn supply_records_at(
        &self,
        cutoff: Option<crate::model::Hlc>,
    ) -> Result<SupplyRecords, ServiceError> {
        let Some(cutoff) = cutoff else {
            return self.supply_records();
        };
        let list = |kind| self.store.as_of(kind, cutoff).map_err(ServiceError::from);
        Ok(SupplyRecords {
            technologies: list(Kind::Technology)?,
            items: list(Kind::Item)?,
            organisations: list(Kind::Organisation)?,
            links: list(Kind::Link)?,
            governance: self.store.governance()?,
            data_year: self.data_year,
        })
    }

    /// The live technologies, items, organisations and links (as of the date being viewed,
    /// if any).
    pub fn supply_records(&self) -> Result<SupplyRecords, ServiceError> {
        if let Some(v) = &self.viewing {
            return self.supply_records_at(Some(v.cutoff));
        }
        Ok(SupplyRecords {
            technologies: self.list(Kind::Technology)?,
            items: self.list(Kind::Item)?,
            organisations: self.list(Kind::Organisation)?,
            links: self.list(Kind::Link)?,
            governance: self.store.governance()?,
            data_year: self.data_year,
        })
    }

    /// The data year the views compute their figures from: each item's latest figures at or
    /// before it (None: the latest). Beside [`Self::view_as_of`], which replays what was
    /// recorded at a date; both can be set at once.
    pub fn set_data_year(&mut self, year: Option<i64>) {
        self.data_year = year;
    }

    /// See [`Self::set_data_year`].
    #[must_use]
    pub fn data_year(&self) -> Option<i64> {
        self.data_year
    }

    /// Records a country's governance risk score (0-10, EU raw-materials scale: scaled World
    /// Governance Indicators, 10 = worst), or clears it; audited.
    pub fn set_governance(&mut self, code: &str, score: Option<f64>) -> Result<(), ServiceError> {
        self.check_writable()?;
        let code = country::normalise(code).ok_or_else(|| {
            ServiceError::Invalid(format!("{code:?} is not an ISO 3166 country code"))
        })?;
        if let Some(s) = score
            && !(s.is_finite() && (0.0..=10.0).contains(&s))
        {
            return Err(ServiceError::Invalid(format!(
                "governance score {s} is not between 0 and 10"
            )));
        }
        let detail = serde_json::json!({"country": code, "governance": score});
        self.store_write(|w| {
            w.set_governance(&code, score)?;
            w.audit("governance", None, &detail)
        })?;
        Ok(())
    }
}

impl SupplyRecords {
    /// The supply graph of these records, with the governance scores.
    #[must_use]
    pub fn graph(&self) -> crate::analysis::SupplyGraph {
        self.graph_at(self.data_year)
    }

    /// The supply graph from the figures of a data year (the latest at or before it).
    #[must_use]
    pub fn graph_at(&self, year: Option<i64>) -> crate::analysis::SupplyGraph {
        let mut builder = crate::analysis::GraphBuilder::from_records(
            &self.technologies,
            &self.items,
            &self.organisations,
            &self.links,
        );
        for (code, score) in &self.governance {
            builder.governance(code, score / 10.0);
        }
        builder.at_year(year).build()
    }
}

impl Session {
    /// Freezes the register (as of the end of `as_of`, or now) as a new, immutable edition;
    /// returns its id.
    pub fn freeze_edition(
        &mut self,
        title: &str,
        as_of: Option<&str>,
    ) -> Result<Uuid, ServiceError> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 500 {
            return Err(ServiceError::Invalid(
                "an edition needs a title of 1 to 500 characters".into(),
            ));
        }
        let (cutoff, date) = match as_of {
            Some(date) => (
                Some(crate::store::end_of_day(date).ok_or_else(|| {
                    ServiceError::Invalid(format!("{date:?} is not a date (YYYY-MM-DD)"))
                })?),
                date.trim().to_owned(),
            ),
            None => match &self.viewing {
                Some(v) => (Some(v.cutoff), v.date.clone()),
                None => (None, crate::store::now_rfc3339().chars().take(10).collect()),
            },
        };
        let mut records = Vec::new();
        for kind in Kind::ALL {
            records.extend(match cutoff {
                Some(c) => self.store.as_of(kind, c)?,
                None => self.list(kind)?,
            });
        }
        let id = Uuid::now_v7();
        let detail = serde_json::json!({
            "edition": id.to_string(), "title": title, "as_of": date, "records": records.len(),
        });
        self.store_write(|w| {
            w.insert_edition(id, title, &date, &records)?;
            w.audit("edition-freeze", None, &detail)
        })?;
        Ok(id)
    }

    /// The edition whose id, or whole title, is `key`.
    pub fn find_edition(&self, key: &str) -> Result<crate::store::EditionInfo, ServiceError> {
        let editions = self.store.editions()?;
        let matches: Vec<_> = editions
            .iter()
            .filter(|e| e.id == key.trim() || e.title == key.trim())
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(ServiceError::NoEdition(key.trim().to_owned())),
            _ => Err(ServiceError::Invalid(format!(
                "{} editions are titled {key:?}: use the id",
                matches.len()
            ))),
        }
    }
}

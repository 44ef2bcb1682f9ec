//! Exchange bundles, as the service runs them (DESIGN.md §7): what leaves for a set of
//! recipients ([`Session::plan_export`], [`Session::write_bundle`]) and how a received bundle
//! is checked and merged ([`Session::import_bundle`]). The format, the signatures, their
//! checks and the merge plan are specified and implemented in [`crate::exchange`]; this
//! module reads and writes the file's change log and ledger around them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::{ServiceError, Session};
use crate::crypto::MemberCard;
use crate::exchange::verify::{Checked, KeyEntry, Keyring, Trust};
use crate::exchange::{self, ExchangeError};
pub use crate::exchange::{BUNDLE_FORMAT, BundleBody, Change, MAX_BUNDLE_BYTES};
use crate::model::{Classification, FieldType, Kind};
use crate::store::MemberInfo;
use crate::store::changes::{ChangeRow, ReceivedRow};

/// Opens a bundle: decrypts it with `identity`, verifies the envelope with `sender_key`, parses
/// the body (see [`crate::exchange`]).
pub fn open_bundle(
    bytes: &[u8],
    identity: &age::x25519::Identity,
    sender_key: &ed25519_dalek::VerifyingKey,
) -> Result<BundleBody, ServiceError> {
    exchange::open_bundle(bytes, identity, sender_key).map_err(|e| bad_bundle(&e))
}

fn bad_bundle(e: &ExchangeError) -> ServiceError {
    ServiceError::Invalid(match e {
        ExchangeError::Malformed(_) => e.to_string(),
        _ => format!("not a valid bundle: {e}"),
    })
}

/// Which changes an export carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ExportScope {
    /// Every change of every record the recipients may see.
    #[default]
    Everything,
    /// The changes after the last bundle sent to the same recipients.
    SinceLast,
    /// Every change of these records (those the recipients may see).
    Selection(Vec<uuid::Uuid>),
}

/// What an export would carry, before it is sealed (the preview).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportPlan {
    /// The recipients (verified, not revoked), by fingerprint.
    pub recipients: Vec<MemberInfo>,
    /// The changes that would leave.
    pub changes: Vec<Change>,
    /// Changes by classification code of their record.
    pub by_level: BTreeMap<String, usize>,
    /// Changes by record kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Records that may not leave (above the clearance or not releasable); for a selection,
    /// those of the selection.
    pub withheld: usize,
    /// Records whose changes leave.
    pub records: usize,
    /// The highest classification among the records that leave.
    pub highest: Classification,
    /// For [`ExportScope::SinceLast`]: the last change-log row (`seq`) considered before.
    pub since: Option<i64>,
    /// The last change-log row (`seq`) considered now.
    pub high_water: i64,
}

/// What an export wrote, for the preview and the message.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    /// The sealed bundle (age, binary).
    pub bytes: Vec<u8>,
    /// Its body.
    pub body: BundleBody,
    /// Changes by classification code of their record.
    pub by_level: BTreeMap<String, usize>,
    /// Changes by record kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Records that did not leave (above the clearance or not releasable).
    pub withheld: usize,
    /// The clock of the last change it carries (for the outbox).
    last_hlc: String,
    /// The change-log row the next "since the last bundle" starts after (None: a selection).
    last_seq: Option<i64>,
}

impl Session {
    /// What a bundle for `recipients` (names or fingerprints of verified, unrevoked members)
    /// would carry; changes nothing.
    pub fn plan_export(
        &self,
        recipients: &[String],
        scope: &ExportScope,
    ) -> Result<ExportPlan, ServiceError> {
        self.check_writable()?;
        if recipients.is_empty() {
            return Err(ServiceError::Invalid(
                "a bundle needs at least one recipient".into(),
            ));
        }
        let mut members: Vec<MemberInfo> = Vec::new();
        for key in recipients {
            let m = self.find_member(key)?;
            match m.status() {
                "verified" => members.push(m),
                "revoked" => {
                    return Err(ServiceError::Invalid(format!(
                        "the card of {} is revoked: nothing is sent to it",
                        m.name
                    )));
                }
                _ => return Err(ServiceError::Invalid(not_trusted(&m))),
            }
        }
        members.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        members.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        let ceiling = members
            .iter()
            .map(|m| m.clearance)
            .min()
            .unwrap_or(Classification::Unclassified);
        let states: BTreeSet<&str> = members.iter().map(|m| m.member_state.as_str()).collect();
        let selection: Option<BTreeSet<String>> = match scope {
            ExportScope::Selection(ids) => {
                if ids.is_empty() {
                    return Err(ServiceError::Invalid(
                        "the selection is empty: choose the records to send".into(),
                    ));
                }
                for id in ids {
                    if self.store().find_kind(*id)?.is_none() {
                        return Err(ServiceError::Invalid(format!("no record {id}")));
                    }
                }
                Some(ids.iter().map(ToString::to_string).collect())
            }
            _ => None,
        };
        let may_see = |level: Classification, releasable: &[String]| {
            level <= ceiling
                && (releasable.is_empty()
                    || states.iter().all(|s| releasable.iter().any(|x| x == s)))
        };
        // The records that may leave, as they are now: those the recipients may see, whose
        // references all point to records they may see too (a record that refers to one above
        // its level, or not releasable to them, does not leave).
        let mut visible: BTreeMap<String, crate::model::Record> = BTreeMap::new();
        let mut all_ids: BTreeSet<String> = BTreeSet::new();
        let mut withheld_ids: BTreeSet<String> = BTreeSet::new();
        for kind in Kind::ALL {
            for r in self.store().list(kind, true)? {
                let id = r.meta.id.to_string();
                all_ids.insert(id.clone());
                if may_see(r.meta.classification, &r.meta.releasable_to) {
                    visible.insert(id, r);
                } else {
                    withheld_ids.insert(id);
                }
            }
        }
        loop {
            let blocked: Vec<String> = visible
                .iter()
                .filter(|(_, r)| {
                    references(r)
                        .iter()
                        .any(|t| all_ids.contains(t) && !visible.contains_key(t))
                })
                .map(|(id, _)| id.clone())
                .collect();
            if blocked.is_empty() {
                break;
            }
            for id in blocked {
                visible.remove(&id);
                withheld_ids.insert(id);
            }
        }
        let in_scope = |id: &String| selection.as_ref().is_none_or(|s| s.contains(id));
        let mut withheld = withheld_ids.iter().filter(|id| in_scope(id)).count();
        let allowed: BTreeMap<String, crate::model::Record> =
            visible.into_iter().filter(|(id, _)| in_scope(id)).collect();
        let recipients_key = recipients_key(&members);
        // Since the last bundle: the change-log rows logged here after it (by local order, so
        // changes received late with older clocks are not skipped), and which records the
        // recipients were ever sent.
        let (since, sent_before): (Option<i64>, Option<BTreeSet<String>>) =
            if *scope == ExportScope::SinceLast {
                let (since, sent) = self.store().sent_to(&recipients_key)?;
                (since, Some(sent))
            } else {
                (None, None)
            };
        let high_water = self.store().high_water()?;
        // Every signed row of the allowed records, by record, in log order. Unsigned rows (from
        // other members, before signed authorship) are never relayed as theirs.
        // Whether a record leaves whole or redacted is decided on all its rows (an unsigned row
        // of another member still counts for what the record was); only signed rows leave.
        let mut history: BTreeMap<String, Vec<ChangeRow>> = BTreeMap::new();
        for row in self.store().change_rows(0)? {
            if allowed.contains_key(&row.record_id) {
                history.entry(row.record_id.clone()).or_default().push(row);
            }
        }
        let mut out: Vec<(i64, Change)> = Vec::new();
        let mut by_level: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        let mut records = 0;
        let mut highest = Classification::Unclassified;
        for (id, rows) in history {
            let Some(record) = allowed.get(&id) else {
                continue;
            };
            let known = sent_before.as_ref().is_some_and(|s| s.contains(&id));
            let from = if known { since.unwrap_or(0) } else { 0 };
            if !rows.iter().any(|r| r.seq > from) {
                continue;
            }
            let picked: Vec<(i64, Change)> = if rows.iter().all(|r| stays_within(r, &may_see)) {
                rows.iter()
                    .filter(|r| r.seq > from && r.signature.is_some())
                    .map(|r| (r.seq, to_change(r, false)))
                    .collect()
            } else {
                let Some(picked) = redacted(record, &rows, known) else {
                    // A value standing from a creation row that may not leave: nothing leaves.
                    withheld += 1;
                    continue;
                };
                picked
            };
            records += 1;
            let level = record.meta.classification;
            highest = highest.max(level);
            *by_level.entry(level.code().to_owned()).or_default() += picked.len();
            *by_kind.entry(record.kind.name().to_owned()).or_default() += picked.len();
            out.extend(picked);
        }
        out.sort_by_key(|(seq, _)| *seq);
        Ok(ExportPlan {
            recipients: members,
            changes: out.into_iter().map(|(_, c)| c).collect(),
            by_level,
            by_kind,
            withheld,
            records,
            highest,
            since,
            high_water,
        })
    }

    /// Makes a bundle for `recipients` (see [`Session::plan_export`]) and records it in the
    /// outbox. The caller writes the bytes; [`Session::write_bundle`] also writes and checks
    /// them, and records the bundle only then.
    pub fn export_bundle(
        &mut self,
        recipients: &[String],
        scope: &ExportScope,
    ) -> Result<ExportSummary, ServiceError> {
        let summary = self.seal_export(recipients, scope)?;
        self.record_export(&summary)?;
        Ok(summary)
    }

    /// Makes a bundle and writes it to `path` (a new private file, fsynced), reads it back,
    /// decrypts it and verifies its signature as a recipient would; only then records it in
    /// the outbox. On any failure the partial file is removed and nothing is recorded.
    pub fn write_bundle(
        &mut self,
        path: &std::path::Path,
        recipients: &[String],
        scope: &ExportScope,
    ) -> Result<ExportSummary, ServiceError> {
        let summary = self.seal_export(recipients, scope)?;
        let failed = |source| ServiceError::Export {
            path: path.to_owned(),
            source,
        };
        crate::fsutil::write_new_durable(path, &summary.bytes, None).map_err(failed)?;
        let check = || -> Result<(), ServiceError> {
            // The folder entry too, so the file is there when the medium is removed.
            crate::fsutil::sync_dir(crate::fsutil::parent_dir(path)).map_err(failed)?;
            let written = std::fs::read(path).map_err(failed)?;
            let identity = self.identity();
            let back = open_bundle(
                &written,
                identity.age_identity(),
                &identity.signing_key().verifying_key(),
            )?;
            if back != summary.body {
                return Err(ServiceError::Invalid(format!(
                    "{} does not read back as written: do not use it",
                    path.display()
                )));
            }
            Ok(())
        };
        if let Err(e) = check() {
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        self.record_export(&summary)?;
        Ok(summary)
    }

    /// Plans, signs and encrypts a bundle; records nothing (but the clock).
    fn seal_export(
        &mut self,
        recipients: &[String],
        scope: &ExportScope,
    ) -> Result<ExportSummary, ServiceError> {
        let plan = self.plan_export(recipients, scope)?;
        let sequence = self.store().next_bundle_sequence()?;
        let sequence = u64::try_from(sequence).unwrap_or(1);
        #[allow(clippy::redundant_closure_for_method_calls)]
        // the method path is not general over the lifetime
        let created = self.store_write(|w| w.tick())?.to_string();
        // A selection says nothing about what the recipients have of the rest: it does not
        // move the "since the last bundle" mark.
        let (last_hlc, last_seq) = match scope {
            ExportScope::Selection(_) => (String::new(), None),
            _ => (
                plan.changes
                    .last()
                    .map(|c| c.hlc.clone())
                    .unwrap_or_default(),
                Some(plan.high_water),
            ),
        };
        let body = BundleBody {
            format: BUNDLE_FORMAT.to_owned(),
            version: exchange::BUNDLE_VERSION,
            bundle_id: uuid::Uuid::now_v7().to_string(),
            sender: self.author().to_owned(),
            sender_name: self.identity().profile().name.clone(),
            recipients: plan
                .recipients
                .iter()
                .map(|m| m.fingerprint.clone())
                .collect(),
            sequence,
            created,
            classification: plan.highest.code().to_owned(),
            changes: plan.changes,
        };
        let mut age_recipients = vec![self.identity().recipient()];
        for m in &plan.recipients {
            let card: MemberCard = m
                .card
                .parse()
                .map_err(|e: crate::crypto::CardError| ServiceError::Invalid(e.to_string()))?;
            age_recipients.push(card.age_recipient.parse().map_err(|_| {
                ServiceError::Invalid(format!(
                    "the age recipient on {}'s card cannot be read",
                    m.name
                ))
            })?);
        }
        let bytes = exchange::seal(&body, self.identity().signing_key(), &age_recipients)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        Ok(ExportSummary {
            bytes,
            body,
            by_level: plan.by_level,
            by_kind: plan.by_kind,
            withheld: plan.withheld,
            last_hlc,
            last_seq,
        })
    }

    /// Records a bundle in the outbox, with an audit entry.
    fn record_export(&mut self, summary: &ExportSummary) -> Result<(), ServiceError> {
        let body = &summary.body;
        let detail = serde_json::json!({
            "bundle": body.bundle_id, "sequence": body.sequence, "recipients": body.recipients,
            "changes": body.changes.len(), "classification": body.classification,
        });
        let level: Classification = body
            .classification
            .parse()
            .unwrap_or(Classification::TopSecret);
        let recipients = body.recipients.join(",");
        let sent: BTreeSet<&str> = body.changes.iter().map(|c| c.record_id.as_str()).collect();
        self.store_write(|w| {
            w.record_bundle_out(
                &body.bundle_id,
                body.sequence,
                &recipients,
                body.changes.len(),
                level,
                (&summary.last_hlc, summary.last_seq),
            )?;
            w.record_sent(&recipients, sent.iter().copied())?;
            w.audit("bundle-export", None, &detail)
        })?;
        Ok(())
    }
}

/// The ids a record refers to (its reference fields; country codes are not records).
fn references(record: &crate::model::Record) -> Vec<String> {
    let mut out = Vec::new();
    for field in record.kind.fields() {
        let Some(value) = record.fields.get(field.name) else {
            continue;
        };
        match (field.ty, value) {
            (FieldType::Ref(_) | FieldType::Node, Value::String(s)) => out.push(s.clone()),
            (FieldType::RefList(_), Value::Array(list)) => {
                out.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            _ => {}
        }
    }
    out
}

/// A change-log row as it leaves (`withhold`: a creation sent without its values).
fn to_change(row: &ChangeRow, withhold: bool) -> Change {
    Change {
        record_kind: row.record_kind.clone(),
        record_id: row.record_id.clone(),
        field: row.field.clone(),
        value: (!withhold && !row.withheld).then(|| row.value.clone()),
        value_sha256: row.value_sha256.clone(),
        hlc: row.hlc.clone(),
        author: row.author.clone(),
        signature: row.signature.clone().unwrap_or_default(),
    }
}

/// Whether a logged value keeps the record within what the recipients may see (its
/// classification and releasability, in a creation row or a change of either). A withheld
/// or unreadable value does not.
fn stays_within(row: &ChangeRow, may_see: &impl Fn(Classification, &[String]) -> bool) -> bool {
    if row.withheld {
        return false;
    }
    let value = row.json();
    let level = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .and_then(|l| l.parse::<Classification>().ok())
    };
    let states = |v: Option<&Value>| -> Option<Vec<String>> {
        v.and_then(|v| serde_json::from_value(v.clone()).ok())
    };
    match row.field.as_str() {
        "*" => {
            // A creation without a readable level or releasability is not within anything.
            let (Some(l), Some(r)) = (
                level(value.get("classification")),
                states(value.get("releasable_to")),
            ) else {
                return false;
            };
            may_see(l, &r)
        }
        "classification" => level(Some(&value)).is_some_and(|l| may_see(l, &[])),
        "releasable_to" => {
            states(Some(&value)).is_some_and(|r| may_see(Classification::Unclassified, &r))
        }
        _ => true,
    }
}

/// What leaves of a record that may leave now but was once above what the recipients may
/// see (a lowered classification, a widened releasability): not its history, only the row
/// that stands for each field (the originator who lowered it vouched for those; their
/// signatures travel), with the proposals on its guarded fields; and, if the recipients never
/// had the record, its creation row with the value withheld. `None` when a value still stands
/// from the creation row (it cannot leave without the creation's other values): the record
/// then does not leave.
fn redacted(
    record: &crate::model::Record,
    rows: &[ChangeRow],
    known: bool,
) -> Option<Vec<(i64, Change)>> {
    let settled = crate::store::changes::decide(record.kind, rows);
    let proposals: BTreeSet<i64> = settled.proposals.iter().copied().collect();
    let signed = |seq: i64| {
        rows.iter()
            .find(|r| r.seq == seq)
            .filter(|r| r.signature.is_some())
    };
    let mut out: Vec<(i64, Change)> = Vec::new();
    for (field, standing) in &settled.fields {
        if standing.from_creation {
            return None;
        }
        if crate::model::control::is_guarded(field) {
            // A receiver without the creation starts from the most restricted state: it needs
            // the originator's last counted change and every counted change after it.
            let mut counted: Vec<&ChangeRow> = rows
                .iter()
                .filter(|r| &r.field == field && !proposals.contains(&r.seq))
                .collect();
            counted.sort_by(|a, b| (a.clock(), &a.author).cmp(&(b.clock(), &b.author)));
            let from = counted
                .iter()
                .rposition(|r| settled.originator.as_deref() == Some(r.author.as_str()))?;
            for r in &counted[from..] {
                let row = signed(r.seq)?;
                out.push((row.seq, to_change(row, false)));
            }
        } else {
            // The row that stands, by its own number (not found again by clock and author).
            let row = signed(standing.seq)?;
            out.push((row.seq, to_change(row, false)));
        }
    }
    for seq in &settled.proposals {
        if let Some(row) = signed(*seq)
            && stays_within(row, &|_, _| true)
        {
            out.push((row.seq, to_change(row, false)));
        }
    }
    if !known
        && let Some(creation) = rows
            .iter()
            .filter(|r| r.field == crate::store::CREATED_FIELD)
            .min_by(|a, b| (a.clock(), &a.author).cmp(&(b.clock(), &b.author)))
    {
        // Unsigned, it could not be verified there: the record does not leave.
        creation.signature.as_ref()?;
        out.push((creation.seq, to_change(creation, true)));
    }
    out.sort_by_key(|(seq, _)| *seq);
    out.dedup_by_key(|(seq, _)| *seq);
    Some(out)
}

/// The outbox key of a set of recipients: their fingerprints, sorted, comma-separated.
fn recipients_key(members: &[MemberInfo]) -> String {
    members
        .iter()
        .map(|m| m.fingerprint.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Clocks further ahead of ours than this are quarantined (held back, applied later).
pub const MAX_CLOCK_SKEW_MS: u64 = 10 * 60 * 1000;

/// Clocks ahead of ours by more than this (beyond [`MAX_CLOCK_SKEW_MS`]) refuse the bundle:
/// a day.
pub const MAX_HOLD_MS: u64 = 24 * 60 * 60 * 1000;

/// What importing a bundle did (or would do, for a dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BundleImport {
    /// Bundle id.
    pub bundle_id: String,
    /// Sender's name (from the keyring).
    pub sender: String,
    /// Its per-sender sequence number.
    pub sequence: u64,
    /// Its sequence is not newer than one imported before from the same sender.
    pub older_sequence: bool,
    /// Records new here.
    pub new_records: usize,
    /// Field values that won by clock and were applied.
    pub changed: usize,
    /// Changes already here (received before, or made here).
    pub unchanged: usize,
    /// Values that lost by clock to another member's: kept in the conflict list.
    pub conflicting: usize,
    /// Changes whose clock is too far in the future: held back, not applied yet.
    pub quarantined: usize,
    /// Changes held back by earlier imports whose time has come: applied now.
    pub released: usize,
    /// Changes of `classification` or `releasable_to` that lower or widen a record and are
    /// not signed by its originator: kept as proposals, not applied.
    pub proposed: usize,
    /// Changes refused one by one (author or signature), never applied.
    pub refused: Vec<RefusedChange>,
    /// Nothing was written (`--dry-run`).
    pub dry_run: bool,
}

/// A change of a bundle refused on its own, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedChange {
    /// Its position in the bundle (1-based).
    pub change: usize,
    /// Record kind.
    pub record_kind: String,
    /// Record id.
    pub record_id: String,
    /// Field.
    pub field: String,
    /// Author it names.
    pub author: String,
    /// Why it was refused.
    pub reason: String,
}

impl std::fmt::Display for BundleImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "bundle {} (sequence {}) from {}: {} new record(s), {} changed, {} unchanged, {} conflicting, {} quarantined",
            self.bundle_id,
            self.sequence,
            self.sender,
            self.new_records,
            self.changed,
            self.unchanged,
            self.conflicting,
            self.quarantined
        )?;
        if self.proposed > 0 {
            write!(
                f,
                "; {} proposed downgrade(s) or release(s) kept for the originator",
                self.proposed
            )?;
        }
        if !self.refused.is_empty() {
            write!(f, "; {} change(s) refused:", self.refused.len())?;
            for r in &self.refused {
                write!(
                    f,
                    "\n  change {} ({} {} {}): {}",
                    r.change, r.record_kind, r.record_id, r.field, r.reason
                )?;
            }
        }
        if self.released > 0 {
            write!(
                f,
                "; {} held change(s) from earlier bundles applied",
                self.released
            )?;
        }
        Ok(())
    }
}

fn refuse(why: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(format!("bundle refused, nothing was changed: {why}"))
}

/// Why a whole bundle is refused inside the merge transaction (rolled back).
fn rejected(why: String) -> crate::store::StoreError {
    crate::store::StoreError::Rejected {
        problems: vec![why],
    }
}

/// A checked change, with where it goes.
enum Route {
    Merge,
    Hold,
    Refuse(String),
}

impl Session {
    /// The keys changes are checked against: the keyring's cards with their trust, and this
    /// member's own.
    pub fn keyring(&self) -> Result<Keyring, ServiceError> {
        let mut out = Keyring::new();
        for m in self.members()? {
            let Ok(card) = m.card.parse::<MemberCard>() else {
                continue;
            };
            let trust = match (m.status(), m.revoked_at.as_deref()) {
                ("verified", _) => Trust::Verified,
                ("revoked", Some(at)) if m.verified_at.is_some() => Trust::Revoked {
                    at_ms: rfc3339_ms(at),
                },
                _ => Trust::Unverified,
            };
            out.insert(
                m.fingerprint.clone(),
                KeyEntry {
                    key: card.signing_key,
                    trust,
                },
            );
        }
        out.insert(
            self.author().to_owned(),
            KeyEntry {
                key: self.identity().signing_key().verifying_key(),
                trust: Trust::Verified,
            },
        );
        Ok(out)
    }

    /// Imports a bundle (its bytes): decrypts it, verifies the sender against the keyring and
    /// the signature over the raw body before parsing it, checks that it is addressed to this
    /// member, checks every change's form, author signature and value, then merges (see
    /// [`crate::exchange`]) in one transaction, or only reports (`dry_run`).
    #[allow(clippy::too_many_lines)]
    pub fn import_bundle(
        &mut self,
        bytes: &[u8],
        dry_run: bool,
    ) -> Result<BundleImport, ServiceError> {
        self.check_writable()?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_BUNDLE_BYTES {
            return Err(refuse(ExchangeError::TooLarge));
        }
        let plain = exchange::decrypt(bytes, self.identity().age_identity()).map_err(refuse)?;
        let envelope = exchange::read_envelope(&plain).map_err(refuse)?;
        let Some(sender) = self
            .members()?
            .into_iter()
            .find(|m| m.fingerprint == envelope.sender)
        else {
            return Err(refuse(format!(
                "its sender {} is not in your keyring: add and verify their card first",
                crate::fsutil::group_hex(envelope.sender)
            )));
        };
        match sender.status() {
            "verified" => {}
            "revoked" => return Err(refuse(format!("the card of {} is revoked", sender.name))),
            _ => return Err(refuse(not_trusted(&sender))),
        }
        let card: MemberCard = sender
            .card
            .parse()
            .map_err(|e: crate::crypto::CardError| refuse(e.to_string()))?;
        let body = exchange::verify_and_parse(&envelope, &card.signing_key).map_err(refuse)?;
        drop(plain);
        if !body.recipients.iter().any(|r| r == self.author()) {
            return Err(refuse("your key is not in its signed list of recipients"));
        }
        let (already, last_sequence) = self.store().inbox_of(&body.sender, &body.bundle_id)?;
        if already {
            return Err(ServiceError::Invalid(format!(
                "bundle {} (sequence {} from {}) was already imported: nothing changed",
                body.bundle_id, body.sequence, sender.name
            )));
        }
        let profile = self.identity().profile().clone();
        let horizon = crate::model::Hlc::now_ms() + MAX_CLOCK_SKEW_MS;
        let checked = exchange::verify::check_form(&body.changes).map_err(refuse)?;
        let keyring = self.keyring()?;
        let verdicts = exchange::verify::check_authors(&checked, &keyring);
        let mut routes: Vec<Route> = Vec::with_capacity(checked.len());
        for (c, verdict) in checked.iter().zip(verdicts) {
            if let Some(reason) = verdict {
                routes.push(Route::Refuse(reason));
                continue;
            }
            if c.hlc.wall_ms > horizon.saturating_add(MAX_HOLD_MS) {
                return Err(refuse(format!(
                    "change {} carries a clock more than a day ahead of yours ({} UTC): the sender's clock is wrong; ask them to correct it and send again",
                    c.index + 1,
                    c.hlc.to_utc_minutes()
                )));
            }
            exchange::verify::check_value(c, &profile).map_err(|why| {
                refuse(format!(
                    "change {} ({} {}, {}): {why}",
                    c.index + 1,
                    c.kind,
                    c.id,
                    c.change.field
                ))
            })?;
            routes.push(if c.hlc.wall_ms > horizon {
                Route::Hold
            } else {
                Route::Merge
            });
        }
        let report = BundleImport {
            bundle_id: body.bundle_id.clone(),
            sender: sender.name.clone(),
            sequence: body.sequence,
            older_sequence: last_sequence
                .is_some_and(|s| u64::try_from(s).unwrap_or(0) >= body.sequence),
            quarantined: routes.iter().filter(|r| matches!(r, Route::Hold)).count(),
            dry_run,
            ..BundleImport::default()
        };
        let bundle_id = body.bundle_id.clone();
        let sender_id = body.sender.clone();
        let apply =
            |w: &crate::store::Writer<'_>| -> Result<BundleImport, crate::store::StoreError> {
                let mut r = report.clone();
                let first_new_seq: i64 = w.last_change_seq()? + 1;
                // Changes held back from earlier bundles whose time has come, authors checked
                // again (a revocation since refuses them).
                let due = w.take_due(crate::model::Hlc {
                    wall_ms: horizon,
                    counter: u16::MAX,
                })?;
                let due_changes: Vec<(String, Change)> = due
                    .into_iter()
                    .map(|h| {
                        (
                            h.bundle_id,
                            Change {
                                record_kind: h.kind,
                                record_id: h.id,
                                field: h.field,
                                value_sha256: h.withheld_sha256.clone().unwrap_or_else(|| {
                                    crate::crypto::change::value_sha256(&h.value)
                                }),
                                value: h.withheld_sha256.is_none().then_some(h.value),
                                hlc: h.hlc,
                                author: h.author,
                                signature: h.signature,
                            },
                        )
                    })
                    .collect();
                let due_plain: Vec<Change> = due_changes.iter().map(|(_, c)| c.clone()).collect();
                let mut to_merge: Vec<Checked<'_>> = Vec::new();
                // One by one: a held row that no longer passes (its author revoked since, a
                // value this member may not hold) is listed as refused, not merged, and does
                // not stop the others.
                for (i, one) in due_plain.iter().enumerate() {
                    let held_in = due_changes.get(i).map_or("", |(b, _)| b.as_str());
                    let checked_one = exchange::verify::check_form(std::slice::from_ref(one));
                    let verdict = match &checked_one {
                        Ok(c) => exchange::verify::check_authors(c, &keyring)
                            .pop()
                            .flatten()
                            .or_else(|| {
                                c.first()
                                    .and_then(|c| exchange::verify::check_value(c, &profile).err())
                            }),
                        Err(e) => Some(e.to_string()),
                    };
                    match (checked_one, verdict) {
                        (Ok(mut c), None) if c.len() == 1 => {
                            if let Some(mut c) = c.pop() {
                                c.index = i;
                                r.released += 1;
                                to_merge.push(c);
                            }
                        }
                        (_, reason) => {
                            let reason = reason.unwrap_or_else(|| "unreadable".into());
                            w.refuse_change(
                                held_in,
                                &sender_id,
                                (
                                    &one.record_kind,
                                    &one.record_id,
                                    &one.field,
                                    &one.hlc,
                                    &one.author,
                                ),
                                &format!("held back, then refused: {reason}"),
                            )?;
                        }
                    }
                }
                let released = to_merge.len();
                for (c, route) in checked.iter().zip(&routes) {
                    match route {
                        Route::Merge => to_merge.push(*c),
                        Route::Hold => w.hold(&bundle_id, &sender_id, &received(c))?,
                        Route::Refuse(reason) => {
                            list_refusal(w, (&bundle_id, &sender_id), c, reason, &mut r)?;
                        }
                    }
                }
                // By record, each merged against what is here, then settled.
                let mut by_record: BTreeMap<(Kind, uuid::Uuid), Vec<Checked<'_>>> = BTreeMap::new();
                for (i, c) in to_merge.into_iter().enumerate() {
                    let _ = i;
                    by_record.entry((c.kind, c.id)).or_default().push(c);
                }
                let mut newest_seen: Option<crate::model::Hlc> = None;
                let (logged_ids, mut record_kinds) = w.known_ids()?;
                for ((kind, id), incoming) in &by_record {
                    let id_text = id.to_string();
                    let mut rows = if logged_ids.contains(&id_text) {
                        w.record_rows(*kind, *id)?
                    } else {
                        Vec::new()
                    };
                    let existing: Vec<exchange::merge::Logged> = rows
                        .iter()
                        .map(|row| exchange::merge::Logged {
                            value: row.json(),
                            field: row.field.clone(),
                            hlc: row.clock(),
                            author: row.author.clone(),
                            value_sha256: row.value_sha256.clone(),
                        })
                        .collect();
                    let found = record_kinds.get(&id_text).copied();
                    if let Some(other) = found
                        && other != *kind
                    {
                        return Err(rejected(format!(
                            "change {}: record {id} is a {other} here, not a {kind}",
                            incoming.first().map_or(0, |c| c.index + 1)
                        )));
                    }
                    let exists = found.is_some();
                    let current = if exists { w.get(*kind, *id)? } else { None };
                    let merge = exchange::merge::plan_record(&existing, incoming, exists);
                    for (at, reason) in &merge.refused {
                        list_refusal(w, (&bundle_id, &sender_id), &incoming[*at], reason, &mut r)?;
                    }
                    if merge.creates.is_some() {
                        r.new_records += 1;
                        // The same id under another kind later in this bundle is refused.
                        record_kinds.insert(id_text.clone(), *kind);
                    }
                    for &i in &merge.log {
                        let c = &incoming[i];
                        rows.push(w.log_received(&received(c))?);
                        newest_seen = newest_seen.max(Some(c.hlc));
                    }
                    for conflict in &merge.conflicts {
                        w.record_conflict(
                            *kind,
                            *id,
                            &conflict.field,
                            (conflict.winner.0, &conflict.winner.1),
                            (&conflict.loser.0, conflict.loser.1, &conflict.loser.2),
                            &bundle_id,
                        )?;
                    }
                    r.conflicting += merge.conflicts.len();
                    let logged_fields = merge.log.len() - usize::from(merge.creates.is_some());
                    if exists || merge.creates.is_some() {
                        r.changed += merge.winning;
                        r.unchanged +=
                            merge.duplicates + logged_fields.saturating_sub(merge.winning);
                    } else {
                        // The record has not arrived yet: kept, it settles when it comes.
                        r.unchanged += merge.duplicates + logged_fields;
                    }
                    if merge.log.is_empty() {
                        continue;
                    }
                    // What the change log decides now, held to what this member may hold.
                    if let Some((settled, level, states)) =
                        w.settle_rows(*kind, *id, rows, current.as_ref())?
                    {
                        let new_proposals = settled
                            .proposals
                            .iter()
                            .filter(|s| **s >= first_new_seq)
                            .count();
                        r.proposed += new_proposals;
                        // A proposal changed nothing, even where its clock was the newest.
                        let not_changed = new_proposals.min(merge.winning);
                        r.changed = r.changed.saturating_sub(not_changed);
                        r.unchanged += not_changed;
                        if level > profile.clearance {
                            return Err(rejected(format!(
                                "{kind} {id} would stand at {}, above your clearance ({})",
                                level.marking(),
                                profile.clearance.marking()
                            )));
                        }
                        if !states.is_empty() && !states.contains(&profile.member_state) {
                            return Err(rejected(format!(
                                "{kind} {id} is not releasable to your Member State ({}): it may not be held here",
                                profile.member_state
                            )));
                        }
                    }
                }
                if let Some(seen) = newest_seen {
                    w.witness_clock(seen)?;
                }
                let _ = released;
                let applied = r.new_records + r.changed;
                w.record_bundle_in(&bundle_id, &sender_id, r.sequence, applied)?;
                let detail = serde_json::json!({
                    "bundle": bundle_id, "sender": r.sender, "sender_fingerprint": sender_id,
                    "sequence": r.sequence, "new": r.new_records, "changed": r.changed,
                    "unchanged": r.unchanged, "conflicting": r.conflicting, "quarantined": r.quarantined,
                    "released": r.released, "proposed": r.proposed, "refused": r.refused.len(),
                    "older_sequence": r.older_sequence,
                });
                w.audit("bundle-import", None, &detail)?;
                Ok(r)
            };
        let result = if dry_run {
            let author = self.author().to_owned();
            self.store_mut().dry_run(&author, apply)
        } else {
            self.store_write(apply)
        };
        match result {
            Ok(r) => Ok(r),
            Err(crate::store::StoreError::Rejected { problems }) => {
                Err(refuse(problems.join("; ")))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Why a member in the keyring is not trusted yet, and what to do.
fn not_trusted(m: &MemberInfo) -> String {
    match &m.card_fingerprint {
        Some(card) if m.status() == "unverified" => format!(
            "{} is not verified: compare the fingerprint {} with them, then `observatory member verify`",
            m.name,
            crate::fsutil::group_hex(card)
        ),
        _ => format!(
            "{} has a version 1 card, which does not cover their name, Member State and clearance: ask them for a new card (`observatory card`), add it and verify it",
            m.name
        ),
    }
}

fn received<'a>(c: &Checked<'a>) -> ReceivedRow<'a> {
    ReceivedRow {
        kind: c.kind,
        id: c.id,
        field: &c.change.field,
        value: c.change.value.as_deref(),
        value_sha256: &c.change.value_sha256,
        hlc: c.hlc,
        author: &c.change.author,
        signature: &c.change.signature,
    }
}

/// Lists a change refused on its own: in the file's `refused_change` and in the report.
fn list_refusal(
    w: &crate::store::Writer<'_>,
    (bundle_id, sender): (&str, &str),
    c: &Checked<'_>,
    reason: &str,
    report: &mut BundleImport,
) -> Result<(), crate::store::StoreError> {
    w.refuse_change(
        bundle_id,
        sender,
        (
            &c.change.record_kind,
            &c.change.record_id,
            &c.change.field,
            &c.change.hlc,
            &c.change.author,
        ),
        reason,
    )?;
    report.refused.push(refused(c, reason));
    Ok(())
}

fn refused(c: &Checked<'_>, reason: &str) -> RefusedChange {
    RefusedChange {
        change: c.index + 1,
        record_kind: c.change.record_kind.clone(),
        record_id: c.change.record_id.clone(),
        field: c.change.field.clone(),
        author: c.change.author.clone(),
        reason: reason.to_owned(),
    }
}

/// Milliseconds since the epoch of an RFC 3339 time (0 if unreadable: the earliest, so a
/// revocation with an unreadable time refuses every change).
fn rfc3339_ms(text: &str) -> u64 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .unwrap_or(0)
}

/// Checks a signed body's changes (form, and values against `clearance`); the changes to
/// apply now and the number held back (a clock past `horizon_ms`). Authors are not checked
/// (no keyring). Used by the fuzz target (`tests/fuzz`) on any body.
pub fn validate_body(
    body: &BundleBody,
    clearance: Classification,
    horizon_ms: u64,
) -> Result<(usize, usize), ServiceError> {
    let checked = exchange::verify::check_form(&body.changes).map_err(refuse)?;
    let mut now = 0;
    let mut held = 0;
    let profile = crate::crypto::Profile {
        name: "fuzz".into(),
        member_state: "FR".into(),
        clearance,
    };
    for c in &checked {
        exchange::verify::check_value(c, &profile).map_err(refuse)?;
        if c.hlc.wall_ms > horizon_ms {
            held += 1;
        } else {
            now += 1;
        }
    }
    Ok((now, held))
}

/// One fuzzing input through the bundle reader (`tests/fuzz`, and the corpus replay in the
/// test suite). The first byte picks the layer: the whole reader on raw bytes (age, then the
/// envelope), the envelope reader on a raw plaintext, or the strict body parser and change
/// checks on a body signed with the fuzzing key (so the fuzzer gets past the signature). Keys
/// are fixed, public test keys. Never panics; returns whether the input was accepted.
#[doc(hidden)]
#[must_use]
pub fn fuzz_reader(data: &[u8]) -> bool {
    use std::sync::LazyLock;
    static KEYS: LazyLock<Option<(age::x25519::Identity, ed25519_dalek::SigningKey)>> =
        LazyLock::new(|| {
            let identity =
                "AGE-SECRET-KEY-1F0GJS2N2HPKY8TSA82PY8UDM7XAGES998SWSQKHM498DAYJZHS0QA2XYGA"
                    .parse()
                    .ok()?;
            Some((identity, ed25519_dalek::SigningKey::from_bytes(&[7; 32])))
        });
    let Some((identity, signing)) = KEYS.as_ref() else {
        return false;
    };
    let verifying = signing.verifying_key();
    let Some((&mode, rest)) = data.split_first() else {
        return false;
    };
    // (The fuzzing body names its sender; the real import never parses before verifying.)
    let sender = serde_json::from_slice::<Value>(data.get(1..).unwrap_or_default())
        .ok()
        .and_then(|v| v.get("sender").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "0".repeat(40));
    match mode % 3 {
        0 => exchange::open_bundle(rest, identity, &verifying).is_ok(),
        1 => exchange::read_envelope(rest)
            .and_then(|e| exchange::verify_and_parse(&e, &verifying))
            .is_ok(),
        _ => {
            let plain = exchange::envelope_for(&sender, rest, signing);
            exchange::read_envelope(&plain)
                .and_then(|e| exchange::verify_and_parse(&e, &verifying))
                .is_ok_and(|body| {
                    validate_body(&body, Classification::Secret, crate::model::Hlc::now_ms())
                        .is_ok()
                })
        }
    }
}

//! Exchange bundles (DESIGN.md §7): what members send each other on removable media, and how
//! a received bundle is checked and merged.
//!
//! # Bundle format (version 1)
//! A binary age file encrypted to every recipient's X25519 recipient **and the sender's**. Its
//! plaintext is UTF-8:
//! ```text
//! observatory-bundle v1
//! signature: <Ed25519 signature, 64 bytes, standard base64>
//!
//! <body: one JSON object, exactly the bytes that were signed>
//! ```
//! The signature is Ed25519 (RFC 8032) by the sender's signing key (on the sender's member
//! card) over the body bytes as they stand after the blank line, to the end. The body:
//! `format` (`"observatory-bundle"`), `version` (1), `bundle_id` (UUID), `sender` and
//! `recipients` (member fingerprints, 40 hex digits), `sender_name`, `sequence` (per sender,
//! from 1), `created` (the sender's hybrid logical clock, `WWWWWWWWWWWW-CCCC` hex),
//! `classification` (code of the highest level of the records whose changes it carries), and
//! `changes`: change-log rows, each `{record_kind, record_id, field, value, hlc, author}` exactly
//! as in the observatory file's `change_log` (see the store's format docs; `value` is JSON).
//! No other field is allowed anywhere (readers refuse unknown fields).
//!
//! Worked example, with the reference tools only:
//! ```sh
//! age -d -i anna.identity -o plain.txt bundle.obx      # asks for the identity's passphrase
//! sed -n 2p plain.txt | cut -d' ' -f2 | base64 -d > sig.bin
//! tail -n +4 plain.txt > body.json                     # the bytes after the blank line
//! # then, with the sender's signing key from their card (base64, 32 bytes), any Ed25519
//! # library verifies sig.bin over body.json, e.g. Python's `cryptography`:
//! #   Ed25519PublicKey.from_public_bytes(key).verify(sig, body)
//! ```
//! (`plain.txt` is plaintext on disk: do that only where the material may be stored.)
//!
//! # Importing
//! Refused, with the file unchanged: larger than [`MAX_BUNDLE_BYTES`] (checked before reading),
//! not age, not addressed to this identity, damaged or cut short, a sender not in the keyring,
//! not verified or revoked, a signature that does not verify (strict Ed25519), this member not in
//! the signed recipient list, unknown fields, kinds or fields, a record marked above this
//! member's clearance, a bundle id imported before ("already imported"). A sequence number not
//! newer than the last one from the same sender is flagged; changes whose clock is more than ten
//! minutes ahead are quarantined: kept in the file's `quarantine` table, not applied, and merged
//! at the first import after this member's clock has come within ten minutes of them (if their
//! sender is still verified: a revocation drops them); a clock more than a day ahead refuses
//! the bundle. The rest is merged in one transaction: a change
//! already in the change log is skipped; a new record is created; a field takes the value with
//! the newest (clock, author); when the losing value came from another member it is kept in the
//! `conflict` table. Applying the same bundles in any order, any number of times, gives the same
//! records. The inbox (`bundle_in`) and an audit entry record each import.
//!
//! What leaves ([`ExportScope`]): every change of the records the recipients may see, the
//! changes logged here after the last bundle to the same recipients (by the change log's local
//! order, so changes received late with older clocks are relayed too; a record they were never
//! sent goes whole), or every change of chosen records — always only records at or below the
//! lowest clearance among the recipients and releasable to each recipient's Member State
//! (records with an empty releasability go to the whole group); a record above that, or not
//! releasable, does not leave at all. A record that may leave now but was once above that (a
//! lowered classification, a widened releasability) leaves without its history: only the value
//! that stands for each field, with its own clock and author, and, for recipients who never had
//! it, its creation row rewritten with today's values (same clock and author, so a member who
//! holds the original treats it as already there).
//! [`Session::plan_export`] previews it; [`Session::write_bundle`] writes the file, reads it back,
//! decrypts it and verifies the signature, and only then records it in the outbox.
//!
//! Trust: a bundle's signature vouches for its sender, who may relay changes authored by
//! others (so that members who never meet still converge); the `author` of a change is what
//! the sender's file says, not separately signed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ServiceError, Session};
use crate::crypto::MemberCard;
use crate::model::{Classification, Kind};
use crate::store::MemberInfo;

/// Format tag in the body.
pub const BUNDLE_FORMAT: &str = "observatory-bundle";
const FIRST_LINE: &str = "observatory-bundle v1";

/// The signed body of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleBody {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// 1.
    pub version: u32,
    /// Bundle id (UUID v7).
    pub bundle_id: String,
    /// Sender's fingerprint.
    pub sender: String,
    /// Sender's name (as on the card).
    pub sender_name: String,
    /// Recipients' fingerprints.
    pub recipients: Vec<String>,
    /// Per-sender sequence number, from 1.
    pub sequence: u64,
    /// Sender's clock when it was made.
    pub created: String,
    /// Code of the highest classification it carries.
    pub classification: String,
    /// The changes.
    pub changes: Vec<Change>,
}

/// One change-log row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Record kind.
    pub record_kind: String,
    /// Record id.
    pub record_id: String,
    /// Field (`*` for a new record with all its values).
    pub field: String,
    /// New value (JSON).
    pub value: Value,
    /// Clock of the change.
    pub hlc: String,
    /// Author's fingerprint.
    pub author: String,
}

/// Opens a bundle: decrypts it with `identity`, then reads it with [`read_envelope`].
pub fn open_bundle(
    bytes: &[u8],
    identity: &age::x25519::Identity,
    sender_key: &ed25519_dalek::VerifyingKey,
) -> Result<BundleBody, ServiceError> {
    let plain = zeroize::Zeroizing::new(decrypt(bytes, identity).map_err(|e| bad_bundle(&e))?);
    read_envelope(&plain, sender_key)
}

fn bad_bundle(what: &str) -> ServiceError {
    ServiceError::Invalid(format!("not a valid bundle: {what}"))
}

/// Decrypts an age file with one identity; the error says what went wrong in words.
fn decrypt(bytes: &[u8], identity: &age::x25519::Identity) -> Result<Vec<u8>, String> {
    let decryptor = age::Decryptor::new_buffered(bytes)
        .map_err(|_| "not an age-encrypted bundle".to_owned())?;
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => "it is not addressed to you".to_owned(),
            _ => "it is damaged (the age header does not verify)".to_owned(),
        })?;
    let mut plain = Vec::new();
    reader
        .read_to_end(&mut plain)
        .map_err(|_| "it is damaged or cut short".to_owned())?;
    Ok(plain)
}

/// Reads a decrypted bundle: checks the layout, verifies the signature strictly against
/// `sender_key`, parses the body strictly. Returns the body.
pub fn read_envelope(
    plain: &[u8],
    sender_key: &ed25519_dalek::VerifyingKey,
) -> Result<BundleBody, ServiceError> {
    let text = std::str::from_utf8(plain).map_err(|_| bad_bundle("not UTF-8"))?;
    let rest = text
        .strip_prefix(FIRST_LINE)
        .and_then(|r| r.strip_prefix("\nsignature: "))
        .ok_or_else(|| bad_bundle("unknown layout"))?;
    let (signature, body) = rest
        .split_once("\n\n")
        .ok_or_else(|| bad_bundle("no body"))?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .ok()
        .and_then(|s| Signature::from_slice(&s).ok())
        .ok_or_else(|| bad_bundle("the signature line cannot be read"))?;
    sender_key
        .verify_strict(body.as_bytes(), &signature)
        .map_err(|_| {
            bad_bundle("the signature does not verify: altered, or not from this sender")
        })?;
    let body: BundleBody = serde_json::from_str(body)
        .map_err(|e| bad_bundle(&format!("the body cannot be read: {e}")))?;
    if body.format != BUNDLE_FORMAT || body.version != 1 {
        return Err(bad_bundle("unknown format or version"));
    }
    Ok(body)
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
                _ => {
                    return Err(ServiceError::Invalid(format!(
                        "{} is not verified: compare the fingerprint {} with them, then `observatory member verify`",
                        m.name,
                        m.grouped_fingerprint()
                    )));
                }
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
        // The records that may leave, as they are now.
        let mut allowed: BTreeMap<String, crate::model::Record> = BTreeMap::new();
        let mut withheld = 0;
        for kind in Kind::ALL {
            for r in self.store().list(kind, true)? {
                let id = r.meta.id.to_string();
                if selection.as_ref().is_some_and(|s| !s.contains(&id)) {
                    continue;
                }
                if may_see(r.meta.classification, &r.meta.releasable_to) {
                    allowed.insert(id, r);
                } else {
                    withheld += 1;
                }
            }
        }
        let recipients_key = recipients_key(&members);
        let conn = self.store().connection();
        // Since the last bundle: the change-log rows logged here after it (by local order, so
        // changes received late with older clocks are not skipped), and which records the
        // recipients were ever sent.
        let (since, sent_before): (Option<i64>, Option<BTreeSet<String>>) =
            if *scope == ExportScope::SinceLast {
                let since: Option<i64> = conn
                    .query_row(
                        "SELECT max(last_seq) FROM bundle_out WHERE recipients = ?1",
                        params![recipients_key],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                let mut stmt = conn
                    .prepare("SELECT record_id FROM bundle_sent WHERE recipients = ?1")
                    .map_err(db)?;
                let sent = stmt
                    .query_map(params![recipients_key], |r| r.get::<_, String>(0))
                    .map_err(db)?
                    .collect::<Result<BTreeSet<_>, _>>()
                    .map_err(db)?;
                (since, Some(sent))
            } else {
                (None, None)
            };
        let high_water: i64 = conn
            .query_row("SELECT coalesce(max(seq), 0) FROM change_log", [], |r| {
                r.get(0)
            })
            .map_err(db)?;
        // Every row of the allowed records, by record, in log order.
        let mut history: BTreeMap<String, Vec<(i64, Change)>> = BTreeMap::new();
        let mut stmt = conn
            .prepare(
                "SELECT seq, record_kind, record_id, field, value, hlc, author FROM change_log
                 ORDER BY seq",
            )
            .map_err(db)?;
        let mut rows = stmt.query([]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let id: String = row.get(2).map_err(db)?;
            if !allowed.contains_key(&id) {
                continue;
            }
            let value: String = row.get(4).map_err(db)?;
            history.entry(id.clone()).or_default().push((
                row.get(0).map_err(db)?,
                Change {
                    record_kind: row.get(1).map_err(db)?,
                    record_id: id,
                    field: row.get(3).map_err(db)?,
                    value: serde_json::from_str(&value).unwrap_or(Value::Null),
                    hlc: row.get(5).map_err(db)?,
                    author: row.get(6).map_err(db)?,
                },
            ));
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
            if !rows.iter().any(|(seq, _)| *seq > from) {
                continue;
            }
            let picked = if rows.iter().all(|(_, c)| stays_within(c, &may_see)) {
                rows.into_iter().filter(|(seq, _)| *seq > from).collect()
            } else {
                redacted(record, rows, known)
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
        let sequence: i64 = self
            .store()
            .connection()
            .query_row("SELECT count(*) + 1 FROM bundle_out", [], |r| r.get(0))
            .map_err(db)?;
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
            version: 1,
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
        let bytes = seal(&body, self.identity().signing_key(), &age_recipients)?;
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

/// Whether a logged value keeps the record within what the recipients may see (its
/// classification and releasability, in a creation row or a change of either).
fn stays_within(c: &Change, may_see: &impl Fn(Classification, &[String]) -> bool) -> bool {
    let level = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .and_then(|l| l.parse::<Classification>().ok())
    };
    let states = |v: Option<&Value>| -> Option<Vec<String>> {
        v.and_then(|v| serde_json::from_value(v.clone()).ok())
    };
    match c.field.as_str() {
        "*" => {
            let (Some(l), Some(r)) = (
                level(c.value.get("classification")),
                states(c.value.get("releasable_to")).or(Some(Vec::new())),
            ) else {
                return false;
            };
            may_see(l, &r)
        }
        "classification" => level(Some(&c.value)).is_some_and(|l| may_see(l, &[])),
        "releasable_to" => {
            states(Some(&c.value)).is_some_and(|r| may_see(Classification::Unclassified, &r))
        }
        _ => true,
    }
}

/// What leaves of a record that may leave now but was once above what the recipients may
/// see (a lowered classification, a widened releasability): not its history, only the value
/// that stands for each field (the person who lowered it vouched for those), each with its
/// own clock and author; and, if the recipients never had the record, its creation row
/// rewritten with today's values (same clock and author, so a member who has the original
/// treats it as already there).
fn redacted(
    record: &crate::model::Record,
    rows: Vec<(i64, Change)>,
    known: bool,
) -> Vec<(i64, Change)> {
    let mut creation: Option<(i64, Change)> = None;
    let mut standing: BTreeMap<String, (i64, Change)> = BTreeMap::new();
    for (seq, c) in rows {
        if c.field == crate::store::CREATED_FIELD {
            creation = Some((seq, c));
            continue;
        }
        let newer = standing.get(&c.field).is_none_or(|(_, s)| {
            (c.hlc.as_str(), c.author.as_str()) > (s.hlc.as_str(), s.author.as_str())
        });
        if newer {
            standing.insert(c.field.clone(), (seq, c));
        }
    }
    // All of them, also for recipients who had the record: a value set while it was withheld
    // from them is part of what now stands (sent again, it is "already there").
    let mut out: Vec<(i64, Change)> = standing.into_values().collect();
    if !known && let Some((seq, mut c)) = creation {
        let mut values = serde_json::Map::new();
        values.insert(
            "classification".into(),
            Value::from(record.meta.classification.code()),
        );
        values.insert(
            "releasable_to".into(),
            Value::from(record.meta.releasable_to.clone()),
        );
        for field in record.kind.fields() {
            if let Some(v) = record.fields.get(field.name)
                && !v.is_null()
            {
                values.insert(field.name.to_owned(), v.clone());
            }
        }
        c.value = Value::Object(values);
        out.push((seq, c));
    }
    out
}

/// The outbox key of a set of recipients: their fingerprints, sorted, comma-separated.
fn recipients_key(members: &[MemberInfo]) -> String {
    members
        .iter()
        .map(|m| m.fingerprint.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn db(e: rusqlite::Error) -> ServiceError {
    ServiceError::Store(e.into())
}

/// Signs and encrypts a body (see the format above).
fn seal(
    body: &BundleBody,
    key: &ed25519_dalek::SigningKey,
    recipients: &[age::x25519::Recipient],
) -> Result<Vec<u8>, ServiceError> {
    let failed = |e: String| ServiceError::Invalid(format!("cannot seal the bundle: {e}"));
    let json = serde_json::to_vec(body).map_err(|e| failed(e.to_string()))?;
    let signature = key.sign(&json);
    let mut plain = format!(
        "{FIRST_LINE}\nsignature: {}\n\n",
        base64::engine::general_purpose::STANDARD.encode(signature.to_bytes())
    )
    .into_bytes();
    plain.extend_from_slice(&json);
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| failed(e.to_string()))?;
    let mut out = Vec::with_capacity(plain.len() + plain.len() / 4096 + 1024);
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| failed(e.to_string()))?;
    writer
        .write_all(&plain)
        .and_then(|()| writer.finish().map(|_| ()))
        .map_err(|e| failed(e.to_string()))?;
    zeroize::Zeroize::zeroize(&mut plain);
    Ok(out)
}

/// Bundles larger than this are refused before they are read (512 MiB).
pub const MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

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
    /// Nothing was written (`--dry-run`).
    pub dry_run: bool,
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

/// One change checked: its kind, record, clock.
struct Checked<'a> {
    kind: Kind,
    id: uuid::Uuid,
    hlc: crate::model::Hlc,
    change: &'a Change,
}

fn refuse(why: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(format!("bundle refused, nothing was changed: {why}"))
}

impl Session {
    /// Imports a bundle (its bytes): decrypts it, verifies the sender against the keyring and
    /// the signature, checks that it is addressed to this member and within this member's
    /// clearance, then merges its changes (last writer wins per field by clock, author as
    /// tie-break; the losing value of a field both sides changed goes to the conflict list) in
    /// one transaction, or only reports (`dry_run`).
    #[allow(clippy::too_many_lines)]
    pub fn import_bundle(
        &mut self,
        bytes: &[u8],
        dry_run: bool,
    ) -> Result<BundleImport, ServiceError> {
        self.check_writable()?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_BUNDLE_BYTES {
            return Err(refuse(format!(
                "larger than {} MiB",
                MAX_BUNDLE_BYTES >> 20
            )));
        }
        // Decrypt, then read the claimed sender to pick the key; nothing is used before the
        // signature verifies.
        let plain = zeroize::Zeroizing::new(
            decrypt(bytes, self.identity().age_identity()).map_err(refuse)?,
        );
        let claimed: Option<BundleBody> = std::str::from_utf8(&plain)
            .ok()
            .and_then(|t| t.split_once("\n\n"))
            .and_then(|(_, body)| serde_json::from_str(body).ok());
        let claimed = claimed.ok_or_else(|| refuse("its content cannot be read as a bundle"))?;
        let Some(sender) = self
            .members()?
            .into_iter()
            .find(|m| m.fingerprint == claimed.sender)
        else {
            return Err(refuse(format!(
                "the sender {} is not in your keyring: add and verify their card first",
                claimed.sender_name
            )));
        };
        match sender.status() {
            "verified" => {}
            "revoked" => return Err(refuse(format!("the card of {} is revoked", sender.name))),
            _ => {
                return Err(refuse(format!(
                    "{} is not verified: compare the fingerprint {} with them first",
                    sender.name,
                    sender.grouped_fingerprint()
                )));
            }
        }
        let card: MemberCard = sender
            .card
            .parse()
            .map_err(|e: crate::crypto::CardError| refuse(e.to_string()))?;
        let body = read_envelope(&plain, &card.signing_key).map_err(|e| refuse(e.to_string()))?;
        drop(plain);
        if !body.recipients.iter().any(|r| r == self.author()) {
            return Err(refuse("your key is not in its signed list of recipients"));
        }
        let already: bool = self
            .store()
            .connection()
            .query_row(
                "SELECT count(*) FROM bundle_in WHERE bundle_id = ?1",
                params![body.bundle_id],
                |r| r.get::<_, i64>(0),
            )
            .map_err(db)?
            > 0;
        if already {
            return Err(ServiceError::Invalid(format!(
                "bundle {} (sequence {} from {}) was already imported: nothing changed",
                body.bundle_id, body.sequence, sender.name
            )));
        }
        let last_sequence: Option<i64> = self
            .store()
            .connection()
            .query_row(
                "SELECT max(sequence) FROM bundle_in WHERE sender = ?1",
                params![body.sender],
                |r| r.get(0),
            )
            .map_err(db)?;
        let clearance = self.identity().profile().clearance;
        let horizon = crate::model::Hlc::now_ms() + MAX_CLOCK_SKEW_MS;
        let (mut checked, held) = check_changes(&body, clearance, horizon)?;
        checked.sort_by(|a, b| (a.hlc, &a.change.author).cmp(&(b.hlc, &b.change.author)));
        let mut report = BundleImport {
            bundle_id: body.bundle_id.clone(),
            sender: sender.name.clone(),
            sequence: body.sequence,
            older_sequence: last_sequence
                .is_some_and(|s| u64::try_from(s).unwrap_or(0) >= body.sequence),
            quarantined: held.len(),
            dry_run,
            ..BundleImport::default()
        };
        let bundle_id = body.bundle_id.clone();
        let sender_fp = body.sender.clone();
        let apply =
            |w: &crate::store::Writer<'_>| -> Result<BundleImport, crate::store::StoreError> {
                let mut r = report.clone();
                // Changes held back from earlier bundles whose time has come.
                r.released = release_due(w, horizon)?;
                for c in &checked {
                    merge_one(w, c, &bundle_id, &mut r)?;
                }
                for c in &held {
                    w.hold(
                        &bundle_id,
                        (
                            &c.record_kind,
                            &c.record_id,
                            &c.field,
                            &c.value,
                            &c.hlc,
                            &c.author,
                        ),
                    )?;
                }
                let applied = r.new_records + r.changed;
                w.record_bundle_in(&bundle_id, &sender_fp, r.sequence, applied)?;
                let detail = serde_json::json!({
                    "bundle": bundle_id, "sender": r.sender, "sender_fingerprint": sender_fp,
                    "sequence": r.sequence, "new": r.new_records, "changed": r.changed,
                    "unchanged": r.unchanged, "conflicting": r.conflicting, "quarantined": r.quarantined,
                    "released": r.released,
                    "older_sequence": r.older_sequence,
                });
                w.audit("bundle-import", None, &detail)?;
                Ok(r)
            };
        report = if dry_run {
            self.store_mut().dry_run("dry-run", apply)?
        } else {
            self.store_write(apply)?
        };
        Ok(report)
    }
}

/// Checks a signed body's changes strictly against this member's clearance; the changes to
/// apply and the number quarantined (a clock past `horizon_ms`, Unix milliseconds). Used by
/// the import, and by the fuzz target (`tests/fuzz`) on any body.
pub fn validate_body(
    body: &BundleBody,
    clearance: Classification,
    horizon_ms: u64,
) -> Result<(usize, usize), ServiceError> {
    check_changes(body, clearance, horizon_ms).map(|(c, q)| (c.len(), q.len()))
}

/// The changes to apply now, and those held back (a clock past `horizon`).
type CheckedChanges<'a> = (Vec<Checked<'a>>, Vec<&'a Change>);

fn check_changes(
    body: &BundleBody,
    clearance: Classification,
    horizon: u64,
) -> Result<CheckedChanges<'_>, ServiceError> {
    let mut checked = Vec::with_capacity(body.changes.len());
    let mut held = Vec::new();
    for (i, c) in body.changes.iter().enumerate() {
        let bad = |what: &str| refuse(format!("change {}: {what}", i + 1));
        let kind: Kind = c
            .record_kind
            .parse()
            .map_err(|_| bad("unknown record kind"))?;
        let id = uuid::Uuid::parse_str(&c.record_id).map_err(|_| bad("bad record id"))?;
        let hlc: crate::model::Hlc = c.hlc.parse().map_err(|_| bad("bad clock"))?;
        if c.author.len() != 40 || !c.author.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("bad author"));
        }
        let known_field = c.field == crate::store::CREATED_FIELD
            || matches!(
                c.field.as_str(),
                "classification" | "releasable_to" | "deleted"
            )
            || kind.field(&c.field).is_some();
        if !known_field {
            return Err(bad(&format!("unknown field {:?} of a {kind}", c.field)));
        }
        // The values that decide who may see a record, and the tombstone, must be readable:
        // a malformed one is not taken as "no restriction".
        let states_ok = |v: Option<&Value>| {
            v.is_none_or(|v| {
                serde_json::from_value::<Vec<String>>(v.clone()).is_ok_and(|codes| {
                    crate::model::record::normalise_releasability(&codes).is_ok_and(|n| n == codes)
                })
            })
        };
        let value_ok = match c.field.as_str() {
            "*" => c.value.is_object() && states_ok(c.value.get("releasable_to")),
            "releasable_to" => states_ok(Some(&c.value)),
            "deleted" => c.value.is_boolean(),
            "classification" => c.value.is_string(),
            _ => true,
        };
        if !value_ok {
            return Err(bad(&format!("the value of {:?} cannot be read", c.field)));
        }
        if hlc.wall_ms > horizon.saturating_add(MAX_HOLD_MS) {
            return Err(refuse(format!(
                "change {} carries a clock more than a day ahead of yours ({} UTC): the sender's clock is wrong; ask them to correct it and send again",
                i + 1,
                hlc.to_utc_minutes()
            )));
        }
        let level = match c.field.as_str() {
            "*" => Some(
                c.value
                    .get("classification")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("a new record without its classification"))?,
            ),
            "classification" => c.value.as_str(),
            _ => None,
        };
        if let Some(level) = level {
            let level: Classification = level.parse().map_err(|_| bad("unknown classification"))?;
            if level > clearance {
                return Err(refuse(format!(
                    "it carries a record marked {}, above your clearance ({})",
                    level.marking(),
                    clearance.marking()
                )));
            }
        }
        if hlc.wall_ms > horizon {
            held.push(c);
            continue;
        }
        checked.push(Checked {
            kind,
            id,
            hlc,
            change: c,
        });
    }
    Ok((checked, held))
}

/// Merges the held-back changes whose clock is now within reach (at or before `horizon_ms`);
/// they were checked when their bundle arrived. Returns how many.
fn release_due(
    w: &crate::store::Writer<'_>,
    horizon_ms: u64,
) -> Result<usize, crate::store::StoreError> {
    let due = w.take_due(crate::model::Hlc {
        wall_ms: horizon_ms,
        counter: u16::MAX,
    })?;
    // Only from senders still trusted (a revocation also drops them at once).
    let trusted: BTreeSet<String> = w.verified_senders()?.into_iter().collect();
    // Their counts are not the current bundle's.
    let mut scratch = BundleImport::default();
    let mut released = 0;
    for row in &due {
        if !trusted.contains(&row.sender) {
            continue;
        }
        released += 1;
        let change = Change {
            record_kind: row.kind.clone(),
            record_id: row.id.clone(),
            field: row.field.clone(),
            value: serde_json::from_str(&row.value).unwrap_or(Value::Null),
            hlc: row.hlc.clone(),
            author: row.author.clone(),
        };
        let (Ok(kind), Ok(id), Ok(hlc)) = (
            row.kind.parse::<Kind>(),
            uuid::Uuid::parse_str(&row.id),
            row.hlc.parse(),
        ) else {
            continue;
        };
        let checked = Checked {
            kind,
            id,
            hlc,
            change: &change,
        };
        merge_one(w, &checked, &row.bundle_id, &mut scratch)?;
    }
    Ok(released)
}

/// The change a logged (field, value) stands for; `None` for a field the kind does not have.
fn to_change(kind: Kind, field: &str, value: &Value) -> Option<crate::store::RecordChange> {
    use crate::store::RecordChange;
    Some(match field {
        "classification" => RecordChange::Classification(value.as_str()?.parse().ok()?),
        "releasable_to" => {
            RecordChange::ReleasableTo(serde_json::from_value(value.clone()).unwrap_or_default())
        }
        "deleted" => RecordChange::Deleted(value.as_bool().unwrap_or(false)),
        name => {
            let f = kind.field(name)?;
            RecordChange::Field(f.name, (!value.is_null()).then(|| value.clone()))
        }
    })
}

/// Merges one received change: a new record, or field values decided by clock.
fn merge_one(
    w: &crate::store::Writer<'_>,
    c: &Checked<'_>,
    bundle_id: &str,
    r: &mut BundleImport,
) -> Result<(), crate::store::StoreError> {
    let author = c.change.author.as_str();
    if w.has_change(c.kind, c.id, &c.change.field, c.hlc, author)? {
        r.unchanged += 1;
        return Ok(());
    }
    let exists = w.find_kind(c.id)?.is_some();
    let pairs: Vec<(String, Value)> = if c.change.field == crate::store::CREATED_FIELD {
        if !exists {
            let values = c.change.value.as_object().cloned().unwrap_or_default();
            let record = crate::store::NewRecord {
                kind: c.kind,
                id: c.id,
                classification: values
                    .get("classification")
                    .and_then(Value::as_str)
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(Classification::TopSecret),
                releasable_to: values
                    .get("releasable_to")
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .unwrap_or_default(),
                reference: false,
                fields: values
                    .iter()
                    .filter(|(k, _)| c.kind.field(k).is_some())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            w.receive_new(&record, c.hlc, author, &c.change.value)?;
            // Changes to it that arrived before it (kept in the change log): the newest of
            // each field now settles into the record.
            for (field, value, hlc, by) in w.field_rows(c.kind, c.id)? {
                let newest = w.latest_field(c.kind, c.id, &field)?;
                if newest.is_some_and(|(h, a, _)| h == hlc && a == by)
                    && let Some(change) = to_change(c.kind, &field, &value)
                {
                    w.settle_field(c.kind, c.id, &change, hlc, &by)?;
                }
            }
            r.new_records += 1;
            return Ok(());
        }
        c.change
            .value
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect()
    } else if !exists {
        // The record has not arrived yet: keep the change; it settles when the record comes.
        w.receive_losing(
            c.kind,
            c.id,
            &c.change.field,
            &c.change.value,
            c.hlc,
            author,
        )?;
        r.unchanged += 1;
        return Ok(());
    } else {
        vec![(c.change.field.clone(), c.change.value.clone())]
    };
    let mut any = false;
    for (field, value) in pairs {
        let Some(change) = to_change(c.kind, &field, &value) else {
            continue;
        };
        let local = w.latest_field(c.kind, c.id, &field)?;
        let wins = local
            .as_ref()
            .is_none_or(|(h, a, _)| (c.hlc, author) > (*h, a.as_str()));
        // (The record exists here: a change to one that has not arrived returned above.)
        if wins {
            w.receive_field(c.kind, c.id, &change, c.hlc, author)?;
            any = true;
        }
        // Both sides set this field, to different values: keep the one that lost.
        if let Some((h, a, current)) = &local
            && a != author
            && current != &value
        {
            let (winner, loser) = if wins {
                ((c.hlc, author), (current, *h, a.as_str()))
            } else {
                ((*h, a.as_str()), (&value, c.hlc, author))
            };
            w.record_conflict(c.kind, c.id, &field, winner, loser, bundle_id)?;
            r.conflicting += 1;
        }
    }
    if c.change.field != crate::store::CREATED_FIELD && !any {
        w.receive_losing(
            c.kind,
            c.id,
            &c.change.field,
            &c.change.value,
            c.hlc,
            author,
        )?;
        r.unchanged += 1;
    } else if any {
        r.changed += 1;
    } else {
        r.unchanged += 1;
    }
    Ok(())
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
    match mode % 3 {
        0 => open_bundle(rest, identity, &verifying).is_ok(),
        1 => read_envelope(rest, &verifying).is_ok(),
        _ => {
            let mut plain = format!(
                "{FIRST_LINE}\nsignature: {}\n\n",
                base64::engine::general_purpose::STANDARD.encode(signing.sign(rest).to_bytes())
            )
            .into_bytes();
            plain.extend_from_slice(rest);
            read_envelope(&plain, &verifying).is_ok_and(|body| {
                validate_body(&body, Classification::Secret, crate::model::Hlc::now_ms()).is_ok()
            })
        }
    }
}

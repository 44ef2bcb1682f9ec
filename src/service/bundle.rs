//! Exchange bundles, the sending side (DESIGN.md §7): what members send each other on removable
//! media.
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
//! What leaves: only the changes of records at or below the lowest clearance among the
//! recipients and releasable to each recipient's Member State (records with an empty
//! releasability go to the whole group); a record above that, or not releasable, does not
//! leave at all, not even its older values.

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
}

/// Opens a bundle: decrypts it with `identity`, checks the layout, verifies the signature
/// strictly against `sender_key`, parses the body strictly. Returns the body.
pub fn open_bundle(
    bytes: &[u8],
    identity: &age::x25519::Identity,
    sender_key: &ed25519_dalek::VerifyingKey,
) -> Result<BundleBody, ServiceError> {
    let bad = |what: &str| ServiceError::Invalid(format!("not a valid bundle: {what}"));
    let decryptor = age::Decryptor::new_buffered(bytes).map_err(|_| bad("not an age file"))?;
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|_| bad("not addressed to this identity, or damaged"))?;
    let mut plain = Vec::new();
    reader
        .read_to_end(&mut plain)
        .map_err(|_| bad("the encrypted content is damaged or cut short"))?;
    let text = std::str::from_utf8(&plain).map_err(|_| bad("not UTF-8"))?;
    let rest = text
        .strip_prefix(FIRST_LINE)
        .and_then(|r| r.strip_prefix("\nsignature: "))
        .ok_or_else(|| bad("unknown layout"))?;
    let (signature, body) = rest.split_once("\n\n").ok_or_else(|| bad("no body"))?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature.trim_end())
        .ok()
        .and_then(|s| Signature::from_slice(&s).ok())
        .ok_or_else(|| bad("the signature line cannot be read"))?;
    sender_key
        .verify_strict(body.as_bytes(), &signature)
        .map_err(|_| bad("the signature does not verify: altered, or not from this sender"))?;
    let body: BundleBody =
        serde_json::from_str(body).map_err(|e| bad(&format!("the body cannot be read: {e}")))?;
    if body.format != BUNDLE_FORMAT || body.version != 1 {
        return Err(bad("unknown format or version"));
    }
    Ok(body)
}

impl Session {
    /// Makes a bundle for `recipients` (names or fingerprints of verified, unrevoked members):
    /// every change they may see, or (`since_last`) those after the last bundle sent to the same
    /// recipients. Records it in the outbox; the caller writes the bytes.
    pub fn export_bundle(
        &mut self,
        recipients: &[String],
        since_last: bool,
    ) -> Result<ExportSummary, ServiceError> {
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
        let mut allowed: BTreeMap<(String, String), Classification> = BTreeMap::new();
        let mut withheld = 0;
        for kind in Kind::ALL {
            for r in self.store().list(kind, true)? {
                let releasable = r.meta.releasable_to.is_empty()
                    || states
                        .iter()
                        .all(|s| r.meta.releasable_to.iter().any(|x| x == s));
                if r.meta.classification <= ceiling && releasable {
                    allowed.insert(
                        (kind.name().to_owned(), r.meta.id.to_string()),
                        r.meta.classification,
                    );
                } else {
                    withheld += 1;
                }
            }
        }
        let fingerprints: Vec<String> = members.iter().map(|m| m.fingerprint.clone()).collect();
        let recipients_key = fingerprints.join(",");
        let conn = self.store().connection();
        let since: Option<String> = if since_last {
            conn.query_row(
                "SELECT max(last_hlc) FROM bundle_out WHERE recipients = ?1",
                params![recipients_key],
                |r| r.get(0),
            )
            .map_err(db)?
        } else {
            None
        };
        let mut stmt = conn
            .prepare(
                "SELECT record_kind, record_id, field, value, hlc, author FROM change_log
             WHERE (?1 IS NULL OR hlc > ?1) ORDER BY hlc, seq",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![since], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        drop(stmt);
        let mut changes = Vec::new();
        let mut by_level: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        let mut highest = Classification::Unclassified;
        for (kind, id, field, value, hlc, author) in rows {
            let Some(level) = allowed.get(&(kind.clone(), id.clone())) else {
                continue;
            };
            highest = highest.max(*level);
            *by_level.entry(level.code().to_owned()).or_default() += 1;
            *by_kind.entry(kind.clone()).or_default() += 1;
            changes.push(Change {
                record_kind: kind,
                record_id: id,
                field,
                value: serde_json::from_str(&value).unwrap_or(Value::Null),
                hlc,
                author,
            });
        }
        let sequence: i64 = conn
            .query_row("SELECT count(*) + 1 FROM bundle_out", [], |r| r.get(0))
            .map_err(db)?;
        let sequence = u64::try_from(sequence).unwrap_or(1);
        #[allow(clippy::redundant_closure_for_method_calls)]
        // the method path is not general over the lifetime
        let created = self.store_write(|w| w.tick())?.to_string();
        let last_hlc = changes
            .last()
            .map(|c| c.hlc.clone())
            .or(since)
            .unwrap_or_default();
        let body = BundleBody {
            format: BUNDLE_FORMAT.to_owned(),
            version: 1,
            bundle_id: uuid::Uuid::now_v7().to_string(),
            sender: self.author().to_owned(),
            sender_name: self.identity().profile().name.clone(),
            recipients: fingerprints,
            sequence,
            created,
            classification: highest.code().to_owned(),
            changes,
        };
        let mut age_recipients = vec![self.identity().recipient()];
        for m in &members {
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
        let detail = serde_json::json!({
            "bundle": body.bundle_id, "sequence": sequence, "recipients": body.recipients,
            "changes": body.changes.len(), "classification": body.classification,
        });
        let (id, count) = (body.bundle_id.clone(), body.changes.len());
        self.store_write(|w| {
            w.record_bundle_out(&id, sequence, &recipients_key, count, highest, &last_hlc)?;
            w.audit("bundle-export", None, &detail)
        })?;
        Ok(ExportSummary {
            bytes,
            body,
            by_level,
            by_kind,
            withheld,
        })
    }
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

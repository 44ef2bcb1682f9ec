//! The append-only, hash-chained audit log (format in the module docs of `store`).

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::StoreError;
use super::file::Store;
use super::records::now_rfc3339;
use crate::model::Kind;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Author fingerprint.
    pub author: String,
    /// What was done (`init`, `add`, `edit`, `delete`, `import`, ...).
    pub action: String,
    /// Kind of the record concerned.
    pub record_kind: Option<String>,
    /// Id of the record concerned.
    pub record_id: Option<String>,
    /// Details (JSON).
    pub detail: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

/// Result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: u64,
    /// First entry whose hash or link does not match, if any.
    pub first_broken_seq: Option<i64>,
}

/// The hash of an entry whose fields, in the order of the format docs, are `parts`.
fn entry_hash(prev: &str, seq: i64, parts: [&str; 6]) -> String {
    let [at, author, action, kind, id, detail] = parts;
    let text = format!("{prev}\n{seq}\n{at}\n{author}\n{action}\n{kind}\n{id}\n{detail}");
    crate::fsutil::hex_upper(&Sha256::digest(text.as_bytes())).to_lowercase()
}

pub(super) fn append(
    conn: &Connection,
    author: &str,
    action: &str,
    record: Option<(Kind, Uuid)>,
    detail: &Value,
) -> Result<(), StoreError> {
    let (seq, prev): (i64, String) = conn.query_row(
        "SELECT coalesce(max(seq), 0) + 1, coalesce((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), ?1) FROM audit",
        params![GENESIS],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let at = now_rfc3339();
    let kind = record.map(|(k, _)| k.name().to_owned());
    let id = record.map(|(_, id)| id.to_string());
    let detail = detail.to_string();
    let hash = entry_hash(
        &prev,
        seq,
        [
            &at,
            author,
            action,
            kind.as_deref().unwrap_or(""),
            id.as_deref().unwrap_or(""),
            &detail,
        ],
    );
    conn.prepare_cached(
        "INSERT INTO audit (seq, at, author, action, record_kind, record_id, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![seq, at, author, action, kind, id, detail, prev, hash])?;
    Ok(())
}

impl Store {
    /// Audit entries, oldest first; `limit` keeps the newest ones.
    pub fn audit_entries(&self, limit: Option<usize>) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, author, action, record_kind, record_id, detail, prev_hash, hash FROM
             (SELECT * FROM audit ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
        )?;
        let rows = stmt
            .query_map(params![limit], |r| {
                Ok(AuditEntry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    author: r.get(2)?,
                    action: r.get(3)?,
                    record_kind: r.get(4)?,
                    record_id: r.get(5)?,
                    detail: r.get(6)?,
                    prev_hash: r.get(7)?,
                    hash: r.get(8)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Recomputes the whole chain.
    pub fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        let entries = self.audit_entries(None)?;
        let mut prev = GENESIS.to_owned();
        for (expected_seq, entry) in (1..).zip(&entries) {
            let hash = entry_hash(
                &entry.prev_hash,
                entry.seq,
                [
                    &entry.at,
                    &entry.author,
                    &entry.action,
                    entry.record_kind.as_deref().unwrap_or(""),
                    entry.record_id.as_deref().unwrap_or(""),
                    &entry.detail,
                ],
            );
            if entry.seq != expected_seq || entry.prev_hash != prev || entry.hash != hash {
                return Ok(AuditReport {
                    entries: entries.len() as u64,
                    // A missing entry is named by its own number, not by the one after it.
                    first_broken_seq: Some(entry.seq.min(expected_seq)),
                });
            }
            prev.clone_from(&entry.hash);
        }
        Ok(AuditReport {
            entries: entries.len() as u64,
            first_broken_seq: None,
        })
    }
}

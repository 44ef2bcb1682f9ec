//! Outbox, inbox, quarantine, conflicts, proposals and refused changes: the exchange
//! ledger's rows (schema in the store's format docs).

use rusqlite::params;
use serde_json::Value;
use uuid::Uuid;

use crate::model::{Classification, Hlc, Kind};
use crate::store::changes::ReceivedRow;
use crate::store::error::StoreError;
use crate::store::records::{Writer, now_rfc3339};

/// A change held back in the quarantine (its columns as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRow {
    /// The bundle it came in.
    pub bundle_id: String,
    /// Record kind.
    pub kind: String,
    /// Record id.
    pub id: String,
    /// Field.
    pub field: String,
    /// Value (JSON text).
    pub value: String,
    /// Clock.
    pub hlc: String,
    /// Author.
    pub author: String,
    /// The fingerprint of the bundle's sender.
    pub sender: String,
    /// The author's signature (base64; empty: none).
    pub signature: String,
    /// The digest of a withheld value (the value is then `null`).
    pub withheld_sha256: Option<String>,
}

impl Writer<'_> {
    /// Records a value that lost to another by clock, for a person to review.
    #[allow(clippy::too_many_arguments)]
    pub fn record_conflict(
        &self,
        kind: Kind,
        id: Uuid,
        field: &str,
        winner: (Hlc, &str),
        loser: (&Value, Hlc, &str),
        bundle_id: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO conflict (record_kind, record_id, field, winner_hlc, winner_author,
                 loser_value, loser_hlc, loser_author, bundle_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                kind.name(),
                id.to_string(),
                field,
                winner.0.to_string(),
                winner.1,
                loser.0.to_string(),
                loser.1.to_string(),
                loser.2,
                bundle_id
            ])?;
        Ok(())
    }

    /// Holds back a received change whose clock is too far ahead (see `quarantine`).
    pub fn hold(
        &self,
        bundle_id: &str,
        sender: &str,
        row: &ReceivedRow<'_>,
    ) -> Result<(), StoreError> {
        let (value, withheld) = match row.value {
            Some(v) => (v, None),
            None => ("null", Some(row.value_sha256)),
        };
        self.tx
            .prepare_cached(
                "INSERT INTO quarantine (bundle_id, record_kind, record_id, field, value, hlc, author,
                   received_at, signature, value_sha256, sender)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                bundle_id,
                row.kind.name(),
                row.id.to_string(),
                row.field,
                value,
                row.hlc.to_string(),
                row.author,
                now_rfc3339(),
                row.signature,
                withheld,
                sender
            ])?;
        Ok(())
    }

    /// Takes out the held changes whose clock is now at or before `horizon`: (bundle id,
    /// kind, id, field, value, clock, author).
    pub fn take_due(&self, horizon: Hlc) -> Result<Vec<HeldRow>, StoreError> {
        let horizon = horizon.to_string();
        let rows = self
            .tx
            .prepare_cached(
                "SELECT bundle_id, record_kind, record_id, field, value, hlc, author, sender,
                        coalesce(signature, ''), value_sha256
                 FROM quarantine WHERE hlc <= ?1 ORDER BY hlc, seq",
            )?
            .query_map(params![horizon], |r| {
                Ok(HeldRow {
                    bundle_id: r.get(0)?,
                    kind: r.get(1)?,
                    id: r.get(2)?,
                    field: r.get(3)?,
                    value: r.get(4)?,
                    hlc: r.get(5)?,
                    author: r.get(6)?,
                    sender: r.get(7)?,
                    signature: r.get(8)?,
                    withheld_sha256: r.get(9)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        self.tx
            .execute("DELETE FROM quarantine WHERE hlc <= ?1", params![horizon])?;
        Ok(rows)
    }

    /// Drops held-back changes: those of the bundles from `sender` (a revoked member), or all.
    /// Returns how many.
    pub fn drop_held(&self, sender: Option<&str>) -> Result<usize, StoreError> {
        Ok(match sender {
            Some(f) => self
                .tx
                .execute("DELETE FROM quarantine WHERE sender = ?1", params![f])?,
            None => self.tx.execute("DELETE FROM quarantine", [])?,
        })
    }

    /// Marks a conflict resolved (now). Returns whether it was open.
    pub fn resolve_conflict(&self, seq: i64) -> Result<bool, StoreError> {
        let n = self.tx.execute(
            "UPDATE conflict SET resolved_at = ?1 WHERE seq = ?2 AND resolved_at IS NULL",
            params![now_rfc3339(), seq],
        )?;
        Ok(n == 1)
    }

    /// Records a bundle imported (the inbox).
    pub fn record_bundle_in(
        &self,
        id: &str,
        sender: &str,
        sequence: u64,
        applied: usize,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO bundle_in (bundle_id, sender, sequence, imported_at, applied) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                sender,
                i64::try_from(sequence).unwrap_or(i64::MAX),
                now_rfc3339(),
                i64::try_from(applied).unwrap_or(i64::MAX)
            ],
        )?;
        Ok(())
    }

    /// Records a bundle sent (the outbox): `last` is the clock of its last change and the
    /// change-log row the next "since the last bundle" starts after (None for a selection).
    pub fn record_bundle_out(
        &self,
        id: &str,
        sequence: u64,
        recipients: &str,
        changes: usize,
        level: Classification,
        last: (&str, Option<i64>),
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO bundle_out (bundle_id, sequence, created_at, recipients, changes, classification, last_hlc, last_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                i64::try_from(sequence).unwrap_or(i64::MAX),
                now_rfc3339(),
                recipients,
                i64::try_from(changes).unwrap_or(i64::MAX),
                i64::from(level.rank()),
                last.0,
                last.1
            ],
        )?;
        Ok(())
    }

    /// Notes that these records went to these recipients (their sorted fingerprints).
    pub fn record_sent<'r>(
        &self,
        recipients: &str,
        records: impl Iterator<Item = &'r str>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO bundle_sent (recipients, record_id) VALUES (?1, ?2)",
        )?;
        for id in records {
            stmt.execute(params![recipients, id])?;
        }
        Ok(())
    }

    /// Lists a change of an imported bundle that was refused, with the reason.
    pub fn refuse_change(
        &self,
        bundle_id: &str,
        sender: &str,
        change: (&str, &str, &str, &str, &str),
        reason: &str,
    ) -> Result<(), StoreError> {
        let (kind, id, field, hlc, author) = change;
        self.tx
            .prepare_cached(
                "INSERT INTO refused_change (bundle_id, sender, record_kind, record_id, field, hlc,
                   author, reason, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                bundle_id,
                sender,
                kind,
                id,
                field,
                hlc,
                author,
                reason,
                now_rfc3339()
            ])?;
        Ok(())
    }

    /// Records the originator's decision on a proposal (its `change_log.seq`).
    pub fn decide_proposal(&self, change_seq: i64, accepted: bool) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT OR REPLACE INTO proposal_decision (change_seq, decision, decided_at, decided_by)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                change_seq,
                if accepted { "accepted" } else { "rejected" },
                now_rfc3339(),
                self.author
            ],
        )?;
        Ok(())
    }

    /// Whether a bundle from this sender with this id was imported before.
    pub fn bundle_seen(&self, sender: &str, bundle_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT count(*) FROM bundle_in WHERE sender = ?1 AND bundle_id = ?2")?
            .query_row(params![sender, bundle_id], |r| r.get::<_, i64>(0))?
            > 0)
    }

    /// The last change-log row's `seq` (0: none).
    pub fn last_change_seq(&self) -> Result<i64, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM change_log")?
            .query_row([], |r| r.get(0))?)
    }
}

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

    /// The ids of the records that have change-log rows, and the kind of every record here:
    /// read once per import, so that a bundle of new records costs no query per record to
    /// find there is nothing yet.
    pub fn known_ids(
        &self,
    ) -> Result<
        (
            std::collections::HashSet<String>,
            std::collections::HashMap<String, Kind>,
        ),
        StoreError,
    > {
        let logged = self
            .tx
            .prepare_cached("SELECT DISTINCT record_id FROM change_log")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        let mut kinds = std::collections::HashMap::new();
        for kind in Kind::ALL {
            let mut stmt = self
                .tx
                .prepare_cached(&format!("SELECT id FROM {}", kind.name()))?;
            for id in stmt.query_map([], |r| r.get::<_, String>(0))? {
                kinds.insert(id?, kind);
            }
        }
        Ok((logged, kinds))
    }

    /// The last change-log row's `seq` (0: none).
    pub fn last_change_seq(&self) -> Result<i64, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM change_log")?
            .query_row([], |r| r.get(0))?)
    }
}

/// A bundle sent, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Bundle id.
    pub bundle_id: String,
    /// Per-sender sequence.
    pub sequence: i64,
    /// When (RFC 3339).
    pub created_at: String,
    /// Recipients' member ids, sorted, comma-separated.
    pub recipients: String,
    /// Changes carried.
    pub changes: i64,
    /// Rank of the highest classification.
    pub classification: i64,
}

/// A bundle imported, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    /// Bundle id.
    pub bundle_id: String,
    /// Sender's member id.
    pub sender: String,
    /// Sender's sequence.
    pub sequence: i64,
    /// When (RFC 3339).
    pub imported_at: String,
    /// Changes applied.
    pub applied: i64,
}

/// A conflict, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRow {
    /// Its number.
    pub seq: i64,
    /// Record kind.
    pub record_kind: String,
    /// Record id.
    pub record_id: String,
    /// Field.
    pub field: String,
    /// Who set the value that stands.
    pub winner_author: String,
    /// The value that lost (JSON text).
    pub loser_value: String,
    /// Its clock.
    pub loser_hlc: String,
    /// Its author.
    pub loser_author: String,
    /// The bundle that brought it.
    pub bundle_id: String,
    /// When it was settled.
    pub resolved_at: Option<String>,
}

impl crate::store::Store {
    fn rows<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let out = stmt
            .query_map(params, row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(out)
    }

    /// The outbox, newest first.
    pub fn outbox_rows(&self) -> Result<Vec<OutboxRow>, StoreError> {
        self.rows(
            "SELECT bundle_id, sequence, created_at, recipients, changes, classification
             FROM bundle_out ORDER BY sequence DESC",
            [],
            |r| {
                Ok(OutboxRow {
                    bundle_id: r.get(0)?,
                    sequence: r.get(1)?,
                    created_at: r.get(2)?,
                    recipients: r.get(3)?,
                    changes: r.get(4)?,
                    classification: r.get(5)?,
                })
            },
        )
    }

    /// The inbox, newest first.
    pub fn inbox_rows(&self) -> Result<Vec<InboxRow>, StoreError> {
        self.rows(
            "SELECT bundle_id, sender, sequence, imported_at, applied FROM bundle_in
             ORDER BY imported_at DESC, sequence DESC",
            [],
            |r| {
                Ok(InboxRow {
                    bundle_id: r.get(0)?,
                    sender: r.get(1)?,
                    sequence: r.get(2)?,
                    imported_at: r.get(3)?,
                    applied: r.get(4)?,
                })
            },
        )
    }

    /// The held-back changes, earliest first: (bundle id, sender, kind, id, field, clock).
    pub fn held_rows(&self) -> Result<Vec<[String; 6]>, StoreError> {
        self.rows(
            "SELECT bundle_id, sender, record_kind, record_id, field, hlc FROM quarantine
             ORDER BY hlc, seq",
            [],
            |r| {
                Ok([
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ])
            },
        )
    }

    /// Conflicts, newest first: one (`seq`) or all, open ones or all.
    pub fn conflict_rows(
        &self,
        seq: Option<i64>,
        include_resolved: bool,
    ) -> Result<Vec<ConflictRow>, StoreError> {
        self.rows(
            "SELECT seq, record_kind, record_id, field, winner_author, loser_value, loser_hlc,
                    loser_author, bundle_id, resolved_at
             FROM conflict WHERE (?1 IS NULL OR seq = ?1) AND (?2 OR resolved_at IS NULL)
             ORDER BY seq DESC",
            params![seq, include_resolved],
            |r| {
                Ok(ConflictRow {
                    seq: r.get(0)?,
                    record_kind: r.get(1)?,
                    record_id: r.get(2)?,
                    field: r.get(3)?,
                    winner_author: r.get(4)?,
                    loser_value: r.get(5)?,
                    loser_hlc: r.get(6)?,
                    loser_author: r.get(7)?,
                    bundle_id: r.get(8)?,
                    resolved_at: r.get(9)?,
                })
            },
        )
    }

    /// Where "since the last bundle" to these recipients starts (`change_log.seq`), and which
    /// records they were ever sent.
    pub fn sent_to(
        &self,
        recipients: &str,
    ) -> Result<(Option<i64>, std::collections::BTreeSet<String>), StoreError> {
        let since: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(last_seq) FROM bundle_out WHERE recipients = ?1")?
            .query_row(params![recipients], |r| r.get(0))?;
        let sent = self
            .rows(
                "SELECT record_id FROM bundle_sent WHERE recipients = ?1",
                params![recipients],
                |r| r.get::<_, String>(0),
            )?
            .into_iter()
            .collect();
        Ok((since, sent))
    }

    /// The next sequence number of this member's bundles.
    pub fn next_bundle_sequence(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) + 1 FROM bundle_out")?
            .query_row([], |r| r.get(0))?)
    }

    /// Whether a bundle from this sender with this id was imported, and the sender's highest
    /// sequence imported so far.
    pub fn inbox_of(
        &self,
        sender: &str,
        bundle_id: &str,
    ) -> Result<(bool, Option<i64>), StoreError> {
        let seen: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM bundle_in WHERE sender = ?1 AND bundle_id = ?2")?
            .query_row(params![sender, bundle_id], |r| r.get(0))?;
        let last: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(sequence) FROM bundle_in WHERE sender = ?1")?
            .query_row(params![sender], |r| r.get(0))?;
        Ok((seen > 0, last))
    }

    /// The last change-log row's `seq` (0: none).
    pub fn high_water(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM change_log")?
            .query_row([], |r| r.get(0))?)
    }
}

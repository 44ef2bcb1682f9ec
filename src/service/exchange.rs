//! The exchange ledger: the outbox (bundles sent), the inbox (bundles imported) and the
//! conflict list (values that lost by clock to another member's), with the two ways a person
//! settles a conflict: keep the value that stands, or take the other one (a new edit here,
//! with a newer clock, so it wins everywhere once sent).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{RecordInput, ServiceError, Session};
use crate::model::{Classification, Kind};

/// A bundle sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    /// Bundle id.
    pub bundle_id: String,
    /// Per-sender sequence number.
    pub sequence: u64,
    /// When it was written (UTC, RFC 3339).
    pub created_at: String,
    /// Recipients' names (from the keyring; the fingerprint when no longer there).
    pub recipients: Vec<String>,
    /// Changes it carried.
    pub changes: u64,
    /// Highest classification it carried.
    pub classification: Classification,
}

/// A bundle imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxEntry {
    /// Bundle id.
    pub bundle_id: String,
    /// Sender's name (from the keyring).
    pub sender: String,
    /// Sender's per-sender sequence number.
    pub sequence: u64,
    /// When it was imported (UTC, RFC 3339).
    pub imported_at: String,
    /// Changes applied (new records and field values that won).
    pub applied: u64,
}

/// A value that lost by clock to another member's, for a person to settle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictInfo {
    /// Its number (for `bundle resolve`).
    pub seq: i64,
    /// Record kind.
    pub kind: Kind,
    /// Record id.
    pub record_id: Uuid,
    /// The record's label now.
    pub label: String,
    /// The record's classification now.
    pub classification: Classification,
    /// The field.
    pub field: String,
    /// The value that stands now.
    pub current: Value,
    /// Who set the value that won (a name; "you" for this member).
    pub winner: String,
    /// The winner is this member.
    pub winner_is_me: bool,
    /// The value that lost.
    pub other: Value,
    /// Who set it.
    pub loser: String,
    /// The loser is this member.
    pub loser_is_me: bool,
    /// Clock of the losing value.
    pub loser_hlc: String,
    /// The bundle that brought the conflict.
    pub bundle_id: String,
    /// When it was settled, if it was.
    pub resolved_at: Option<String>,
}

/// A received change held back because its clock was too far ahead of this member's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldChange {
    /// The bundle it came in.
    pub bundle_id: String,
    /// The bundle's sender (a name from the keyring).
    pub sender: String,
    /// Record kind.
    pub record_kind: String,
    /// Record id.
    pub record_id: String,
    /// Field.
    pub field: String,
    /// Its clock.
    pub hlc: String,
    /// From when (UTC, `YYYY-MM-DD HH:MM`) the next import applies it.
    pub due: String,
}

/// How a conflict is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The value that stands stays.
    KeepCurrent,
    /// The losing value is set again, as a new edit by this member.
    TakeOther,
}

/// A stored count (never negative) as unsigned.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Session {
    /// Names of the keyring's members by fingerprint, and this member as "you".
    fn member_names(&self) -> Result<BTreeMap<String, String>, ServiceError> {
        let mut names: BTreeMap<String, String> = self
            .members()?
            .into_iter()
            .map(|m| (m.fingerprint, m.name))
            .collect();
        names.insert(self.author().to_owned(), "you".to_owned());
        Ok(names)
    }

    /// The bundles sent, newest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, ServiceError> {
        let names = self.member_names()?;
        let name = |f: &str| names.get(f).cloned().unwrap_or_else(|| f.to_owned());
        Ok(self
            .store()
            .outbox_rows()?
            .into_iter()
            .map(|r| OutboxEntry {
                bundle_id: r.bundle_id,
                sequence: count(r.sequence),
                created_at: r.created_at,
                recipients: r
                    .recipients
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(name)
                    .collect(),
                changes: count(r.changes),
                classification: Classification::from_rank(r.classification)
                    .unwrap_or(Classification::TopSecret),
            })
            .collect())
    }

    /// The bundles imported, newest first.
    pub fn inbox(&self) -> Result<Vec<InboxEntry>, ServiceError> {
        let names = self.member_names()?;
        Ok(self
            .store()
            .inbox_rows()?
            .into_iter()
            .map(|r| InboxEntry {
                bundle_id: r.bundle_id,
                sender: names.get(&r.sender).cloned().unwrap_or(r.sender),
                sequence: count(r.sequence),
                imported_at: r.imported_at,
                applied: count(r.applied),
            })
            .collect())
    }

    /// The changes held back (quarantined), earliest first.
    pub fn held_changes(&self) -> Result<Vec<HeldChange>, ServiceError> {
        let names = self.member_names()?;
        Ok(self
            .store()
            .held_rows()?
            .into_iter()
            .map(|[bundle_id, sender, record_kind, record_id, field, hlc]| {
                // Applied once this member's clock is within the allowed skew of it.
                let due = hlc
                    .parse::<crate::model::Hlc>()
                    .map(|h| {
                        crate::model::Hlc {
                            wall_ms: h.wall_ms.saturating_sub(super::bundle::MAX_CLOCK_SKEW_MS),
                            counter: 0,
                        }
                        .to_utc_minutes()
                    })
                    .unwrap_or_default();
                HeldChange {
                    bundle_id,
                    sender: names.get(&sender).cloned().unwrap_or(sender),
                    record_kind,
                    record_id,
                    field,
                    hlc,
                    due,
                }
            })
            .collect())
    }

    /// Drops every held-back change (they will not be applied); returns how many.
    pub fn discard_held(&mut self) -> Result<usize, ServiceError> {
        self.check_writable()?;
        Ok(self.store_write(|w| {
            let n = w.drop_held(None)?;
            if n > 0 {
                w.audit("held-discard", None, &serde_json::json!({ "discarded": n }))?;
            }
            Ok(n)
        })?)
    }

    /// The conflict list: open ones (or all, with `include_resolved`), newest first.
    pub fn conflicts(&self, include_resolved: bool) -> Result<Vec<ConflictInfo>, ServiceError> {
        self.conflicts_where(None, include_resolved)
    }

    /// One conflict, settled or not.
    fn conflict(&self, seq: i64) -> Result<Option<ConflictInfo>, ServiceError> {
        Ok(self.conflicts_where(Some(seq), true)?.pop())
    }

    fn conflicts_where(
        &self,
        seq: Option<i64>,
        include_resolved: bool,
    ) -> Result<Vec<ConflictInfo>, ServiceError> {
        let names = self.member_names()?;
        let name = |f: &str| names.get(f).cloned().unwrap_or_else(|| f.to_owned());
        let rows = self.store().conflict_rows(seq, include_resolved)?;
        let mut out = Vec::new();
        for row in rows {
            let crate::store::ConflictRow {
                seq,
                record_kind: kind,
                record_id: id,
                field,
                winner_author: winner,
                loser_value: other,
                loser_hlc,
                loser_author: loser,
                bundle_id,
                resolved_at,
            } = row;
            let (Ok(kind), Ok(record_id)) = (kind.parse::<Kind>(), Uuid::parse_str(&id)) else {
                continue;
            };
            let Some(record) = self.store().get(kind, record_id)? else {
                continue;
            };
            let current = match field.as_str() {
                "classification" => Value::from(record.meta.classification.code()),
                "releasable_to" => Value::from(record.meta.releasable_to.clone()),
                "deleted" => Value::from(record.meta.deleted),
                f => record.fields.get(f).cloned().unwrap_or(Value::Null),
            };
            out.push(ConflictInfo {
                seq,
                kind,
                record_id,
                label: record.label(),
                classification: record.meta.classification,
                field,
                current,
                winner_is_me: winner == self.author(),
                winner: name(&winner),
                other: serde_json::from_str(&other).unwrap_or(Value::Null),
                loser_is_me: loser == self.author(),
                loser: name(&loser),
                loser_hlc,
                bundle_id,
                resolved_at,
            });
        }
        Ok(out)
    }

    /// Settles an open conflict: keeps the value that stands, or takes the other one as a
    /// new edit by this member (validated like any edit; it then wins everywhere once sent).
    pub fn resolve_conflict(
        &mut self,
        seq: i64,
        how: Resolution,
    ) -> Result<ConflictInfo, ServiceError> {
        self.check_writable()?;
        let Some(conflict) = self.conflict(seq)? else {
            return Err(ServiceError::Invalid(format!(
                "no conflict {seq}: see `observatory bundle conflicts`"
            )));
        };
        if conflict.resolved_at.is_some() {
            return Err(ServiceError::Invalid(format!(
                "conflict {seq} was settled already"
            )));
        }
        let (kind, id) = (conflict.kind, conflict.record_id);
        if how == Resolution::TakeOther && conflict.other != conflict.current {
            let other = &conflict.other;
            let unreadable = || {
                ServiceError::Invalid(format!(
                    "the other value of {} cannot be used: {other}",
                    conflict.field
                ))
            };
            match conflict.field.as_str() {
                "deleted" => {
                    if other.as_bool().ok_or_else(unreadable)? {
                        self.delete(kind, id)?;
                    } else {
                        self.restore(kind, id)?;
                    }
                }
                "classification" => {
                    let level = other
                        .as_str()
                        .and_then(|l| l.parse().ok())
                        .ok_or_else(unreadable)?;
                    self.edit(
                        kind,
                        id,
                        &RecordInput {
                            classification: Some(level),
                            ..RecordInput::default()
                        },
                    )?;
                }
                "releasable_to" => {
                    let states = serde_json::from_value(other.clone()).map_err(|_| unreadable())?;
                    self.edit(
                        kind,
                        id,
                        &RecordInput {
                            releasable_to: Some(states),
                            ..RecordInput::default()
                        },
                    )?;
                }
                field => {
                    self.edit(
                        kind,
                        id,
                        &RecordInput {
                            fields: [(field.to_owned(), other.clone())].into_iter().collect(),
                            ..RecordInput::default()
                        },
                    )?;
                }
            }
        }
        let detail = serde_json::json!({
            "conflict": seq, "field": conflict.field,
            "resolution": match how {
                Resolution::KeepCurrent => "kept the value that stands",
                Resolution::TakeOther => "took the other value",
            },
            "other_author": conflict.loser,
        });
        self.store_write(|w| {
            w.resolve_conflict(seq)?;
            w.audit("conflict-resolve", Some((kind, id)), &detail)
        })?;
        self.conflict(seq)?
            .ok_or_else(|| ServiceError::Invalid(format!("conflict {seq} is gone")))
    }
}

/// A change of `classification` or `releasable_to` that lowers or widens a record and is not
/// its originator's: kept, never applied, for the originator to accept or reject
/// ([`crate::model::control`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposalInfo {
    /// Its number (the change-log row; for `bundle accept` / `bundle reject`).
    pub seq: i64,
    /// "downgrade" (a lower classification) or "release" (a wider releasability).
    pub proposal: &'static str,
    /// Record kind.
    pub kind: Kind,
    /// Record id.
    pub record_id: Uuid,
    /// The record's label now.
    pub label: String,
    /// The record's classification now.
    pub classification: Classification,
    /// The field.
    pub field: String,
    /// The value that stands.
    pub current: Value,
    /// The value proposed.
    pub proposed: Value,
    /// Who proposed it (a name; "you" for this member).
    pub proposer: String,
    /// The proposer's member id.
    pub proposer_id: String,
    /// The record's originator (a name; "you"; "nobody" for a built-in record).
    pub originator: String,
    /// This member is the originator: only they may accept or reject it.
    pub originator_is_you: bool,
    /// Clock of the proposal.
    pub hlc: String,
}

impl Session {
    /// The open proposals (not yet accepted or rejected), by record and clock.
    pub fn proposals(&self) -> Result<Vec<ProposalInfo>, ServiceError> {
        let names = self.member_names()?;
        let name = |id: &str| -> String {
            if id == self.author() {
                "you".to_owned()
            } else {
                names.get(id).cloned().unwrap_or_else(|| id.to_owned())
            }
        };
        let decided = self.store().decided_proposals()?;
        let mut by_record: BTreeMap<(String, String), Vec<crate::store::changes::ChangeRow>> =
            BTreeMap::new();
        for row in self.store().guarded_rows()? {
            by_record
                .entry((row.record_kind.clone(), row.record_id.clone()))
                .or_default()
                .push(row);
        }
        let mut out = Vec::new();
        for ((kind, id), mut rows) in by_record {
            let (Ok(kind), Ok(id)) = (kind.parse::<Kind>(), Uuid::parse_str(&id)) else {
                continue;
            };
            let Some(record) = self.store().get(kind, id)? else {
                continue;
            };
            let settled =
                crate::store::changes::decide_with_current(kind, &mut rows, Some(&record));
            for seq in &settled.proposals {
                if decided.contains(seq) {
                    continue;
                }
                let Some(row) = rows.iter().find(|r| r.seq == *seq) else {
                    continue;
                };
                let current = settled
                    .fields
                    .get(&row.field)
                    .map_or(Value::Null, |s| s.value.clone());
                out.push(ProposalInfo {
                    seq: *seq,
                    proposal: if row.field == "classification" {
                        "downgrade"
                    } else {
                        "release"
                    },
                    kind,
                    record_id: id,
                    label: record.label(),
                    classification: record.meta.classification,
                    field: row.field.clone(),
                    current,
                    proposed: row.json(),
                    proposer: name(&row.author),
                    proposer_id: row.author.clone(),
                    originator: settled
                        .originator
                        .as_deref()
                        .map_or_else(|| "nobody".to_owned(), name),
                    originator_is_you: settled.originator.as_deref() == Some(self.author()),
                    hlc: row.hlc.clone(),
                });
            }
        }
        Ok(out)
    }

    /// The originator accepts a proposal: the proposed value becomes their own signed change
    /// (a newer clock, so it counts everywhere once sent). Audited.
    pub fn accept_proposal(&mut self, seq: i64) -> Result<ProposalInfo, ServiceError> {
        self.decide_proposal(seq, true)
    }

    /// The originator rejects a proposal: it stays in the change log, never applied, and is
    /// no longer listed. Audited.
    pub fn reject_proposal(&mut self, seq: i64) -> Result<ProposalInfo, ServiceError> {
        self.decide_proposal(seq, false)
    }

    fn decide_proposal(&mut self, seq: i64, accept: bool) -> Result<ProposalInfo, ServiceError> {
        self.check_writable()?;
        let Some(p) = self.proposals()?.into_iter().find(|p| p.seq == seq) else {
            return Err(ServiceError::Invalid(format!(
                "no open proposal {seq}: see `observatory bundle proposals`"
            )));
        };
        if !p.originator_is_you {
            return Err(ServiceError::Invalid(format!(
                "only the originator of {} ({}) may accept or reject proposal {seq}",
                p.label, p.originator
            )));
        }
        if accept {
            let mut input = RecordInput::default();
            if p.field == "classification" {
                input.classification = p.proposed.as_str().and_then(|l| l.parse().ok());
            } else {
                input.releasable_to = serde_json::from_value(p.proposed.clone()).ok();
            }
            if input.classification.is_none() && input.releasable_to.is_none() {
                return Err(ServiceError::Invalid(format!(
                    "proposal {seq} carries a value that cannot be used: {}",
                    p.proposed
                )));
            }
            self.edit(p.kind, p.record_id, &input)?;
        }
        let detail = serde_json::json!({
            "proposal": seq, "field": p.field, "proposed": p.proposed, "standing": p.current,
            "proposer": p.proposer_id, "decision": if accept { "accepted" } else { "rejected" },
        });
        let action = if accept {
            "proposal-accept"
        } else {
            "proposal-reject"
        };
        let (kind, id) = (p.kind, p.record_id);
        self.store_write(|w| {
            w.decide_proposal(seq, accept)?;
            w.audit(action, Some((kind, id)), &detail)
        })?;
        Ok(p)
    }
}

//! The keyring: the other members' cards as this member imported, verified or revoked them
//! (table `member`, schema 7 and 12; see the format docs).
//!
//! What must stay true: a member's row is keyed by the key id (the author id on everything
//! they sign), so a new card for the same keys replaces the old one in place; a verification
//! names the card fingerprint that was confirmed, and only a version 2 card can be verified; a
//! revocation is final. The rules about *when* these happen live in `service::members`.

use rusqlite::params;

use crate::model::Classification;
use crate::store::error::StoreError;
use crate::store::file::Store;
use crate::store::records::{Writer, now_rfc3339};

/// A member card in the keyring.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberInfo {
    /// Key id, 40 upper-case hex digits: the member's author id on changes, audit entries and
    /// bundles. The same for every card of the same keys.
    pub fingerprint: String,
    /// Name on the card.
    pub name: String,
    /// Member State on the card.
    pub member_state: String,
    /// Clearance the card claims.
    pub clearance: Classification,
    /// The card text.
    pub card: String,
    /// When it was added (RFC 3339).
    pub added_at: String,
    /// When its card fingerprint was checked and it was marked verified.
    pub verified_at: Option<String>,
    /// When it was revoked (final).
    pub revoked_at: Option<String>,
    /// The card's format version (1 or 2).
    pub card_version: u8,
    /// Card fingerprint (keys and profile), 40 upper-case hex digits; `None` for a version 1
    /// card, whose fingerprint covers the keys only.
    pub card_fingerprint: Option<String>,
}

impl MemberInfo {
    /// "verified", "unverified", "revoked", or "re-verify" (a version 1 card: its owner must
    /// send a new card, which is then verified). Only "verified" is trusted.
    #[must_use]
    pub fn status(&self) -> &'static str {
        match (&self.revoked_at, &self.verified_at) {
            (Some(_), _) => "revoked",
            _ if self.card_version < 2 => "re-verify",
            (None, Some(_)) => "verified",
            (None, None) => "unverified",
        }
    }

    /// Key id in groups of four.
    #[must_use]
    pub fn grouped_fingerprint(&self) -> String {
        crate::fsutil::group_hex(&self.fingerprint)
    }

    /// Card fingerprint in groups of four, as read aloud (version 2 cards).
    #[must_use]
    pub fn grouped_card_fingerprint(&self) -> Option<String> {
        self.card_fingerprint
            .as_deref()
            .map(crate::fsutil::group_hex)
    }
}

const MEMBER_COLUMNS: &str = "fingerprint, name, member_state, clearance, card, added_at, verified_at, revoked_at, card_version, card_fingerprint";

fn member_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MemberInfo> {
    Ok(MemberInfo {
        fingerprint: r.get(0)?,
        name: r.get(1)?,
        member_state: r.get(2)?,
        clearance: Classification::from_rank(r.get(3)?).unwrap_or(Classification::Unclassified),
        card: r.get(4)?,
        added_at: r.get(5)?,
        verified_at: r.get(6)?,
        revoked_at: r.get(7)?,
        card_version: r.get(8)?,
        card_fingerprint: r.get(9)?,
    })
}

impl Writer<'_> {
    /// Adds a card to the keyring (unverified).
    pub fn insert_member(&self, m: &MemberInfo) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT INTO member (fingerprint, card, name, member_state, clearance, added_at, added_by, card_version, card_fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                m.fingerprint,
                m.card,
                m.name,
                m.member_state,
                i64::from(m.clearance.rank()),
                now_rfc3339(),
                self.author(),
                m.card_version,
                m.card_fingerprint
            ],
        )?;
        Ok(())
    }

    /// Replaces the card of the member with the same key id by `m`'s card and profile; the
    /// member is unverified again (what was verified was the old card). Refuses nothing: the
    /// caller has checked that the member is not revoked. Returns whether a row changed.
    pub fn replace_member_card(&self, m: &MemberInfo) -> Result<bool, StoreError> {
        let changed = self.tx.execute(
            "UPDATE member SET card = ?2, name = ?3, member_state = ?4, clearance = ?5,
                card_version = ?6, card_fingerprint = ?7, verified_at = NULL, verified_by = NULL
             WHERE fingerprint = ?1 AND revoked_at IS NULL",
            params![
                m.fingerprint,
                m.card,
                m.name,
                m.member_state,
                i64::from(m.clearance.rank()),
                m.card_version,
                m.card_fingerprint
            ],
        )?;
        Ok(changed == 1)
    }

    /// Marks a member verified, now, by this author — only if its card is still the one whose
    /// fingerprint was confirmed (`card_fingerprint`, 40 hex digits) and it is not revoked.
    /// Returns whether it was.
    pub fn verify_member(
        &self,
        fingerprint: &str,
        card_fingerprint: &str,
    ) -> Result<bool, StoreError> {
        let changed = self.tx.execute(
            "UPDATE member SET verified_at = ?3, verified_by = ?4
             WHERE fingerprint = ?1 AND card_fingerprint = ?2 AND card_version >= 2 AND revoked_at IS NULL",
            params![fingerprint, card_fingerprint, now_rfc3339(), self.author()],
        )?;
        Ok(changed == 1)
    }

    /// Revokes a member, now, by this author (final).
    pub fn revoke_member(&self, fingerprint: &str) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE member SET revoked_at = ?2, revoked_by = ?3 WHERE fingerprint = ?1 AND revoked_at IS NULL",
            params![fingerprint, now_rfc3339(), self.author()],
        )?;
        Ok(())
    }

    /// Key ids of the trusted members: verified, a version 2 card, not revoked (the same rule
    /// as [`MemberInfo::status`] "verified"). Sorted.
    pub fn verified_senders(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .tx
            .prepare_cached(
                "SELECT fingerprint FROM member
                 WHERE verified_at IS NOT NULL AND revoked_at IS NULL AND card_version >= 2
                 ORDER BY fingerprint",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

impl Store {
    /// The keyring, by name.
    pub fn members(&self) -> Result<Vec<MemberInfo>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MEMBER_COLUMNS} FROM member ORDER BY name, fingerprint"
        ))?;
        let rows = stmt
            .query_map([], member_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

//! The keyring: the other members' cards (DESIGN.md §5). A card is added unverified; once its
//! fingerprint has been compared with its owner out of band (aloud, on paper) it is marked
//! verified; a revoked card stays listed, revoked for good. Every change is audited.

use std::str::FromStr as _;

use super::{ServiceError, Session};
use crate::crypto::MemberCard;
use crate::store::MemberInfo;

impl Session {
    /// The keyring, by name.
    pub fn members(&self) -> Result<Vec<MemberInfo>, ServiceError> {
        Ok(self.store().members()?)
    }

    /// Adds a member card (its text); returns what was added.
    pub fn add_member(&mut self, card_text: &str) -> Result<MemberInfo, ServiceError> {
        self.check_writable()?;
        let card =
            MemberCard::from_str(card_text).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let fingerprint = card.author_id();
        if fingerprint == self.author() {
            return Err(ServiceError::Invalid(
                "this is your own card: the keyring holds the other members' cards".into(),
            ));
        }
        if let Some(known) = self
            .members()?
            .into_iter()
            .find(|m| m.fingerprint == fingerprint)
        {
            return Err(ServiceError::Invalid(format!(
                "the card of {} ({}) is in the keyring already ({})",
                known.name,
                known.grouped_fingerprint(),
                known.status()
            )));
        }
        let info = MemberInfo {
            fingerprint,
            name: card.profile.name.clone(),
            member_state: card.profile.member_state.clone(),
            clearance: card.profile.clearance,
            card: card.to_string(),
            added_at: String::new(),
            verified_at: None,
            revoked_at: None,
        };
        let detail = serde_json::json!({
            "member": info.name, "member_state": info.member_state,
            "clearance": info.clearance.code(), "fingerprint": info.grouped_fingerprint(),
        });
        self.store_write(|w| {
            w.insert_member(&info)?;
            w.audit("member-add", None, &detail)
        })?;
        self.find_member(&info.fingerprint)
    }

    /// The member whose name (whole, case-insensitive) or fingerprint (with or without spaces,
    /// or its first 8 or more hex digits) is `key`.
    pub fn find_member(&self, key: &str) -> Result<MemberInfo, ServiceError> {
        let wanted = key.trim();
        let hex: String = wanted
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        let is_hex = hex.len() >= 8 && hex.chars().all(|c| c.is_ascii_hexdigit());
        let found: Vec<MemberInfo> = self
            .members()?
            .into_iter()
            .filter(|m| {
                m.name.eq_ignore_ascii_case(wanted) || (is_hex && m.fingerprint.starts_with(&hex))
            })
            .collect();
        match found.len() {
            1 => Ok(found
                .into_iter()
                .next()
                .ok_or_else(|| ServiceError::NoMember(wanted.to_owned()))?),
            0 => Err(ServiceError::NoMember(wanted.to_owned())),
            n => Err(ServiceError::Invalid(format!(
                "{n} members match {wanted:?}: give the fingerprint"
            ))),
        }
    }

    /// Marks a member verified: its fingerprint was compared with its owner out of band.
    pub fn verify_member(&mut self, key: &str) -> Result<MemberInfo, ServiceError> {
        self.mark_member(key, false)
    }

    /// Revokes a member's card for good (lost key, left the group).
    pub fn revoke_member(&mut self, key: &str) -> Result<MemberInfo, ServiceError> {
        self.mark_member(key, true)
    }

    fn mark_member(&mut self, key: &str, revoke: bool) -> Result<MemberInfo, ServiceError> {
        self.check_writable()?;
        let member = self.find_member(key)?;
        if member.revoked_at.is_some() {
            return Err(ServiceError::Invalid(format!(
                "the card of {} was revoked on {}: a revocation is final",
                member.name,
                member.revoked_at.as_deref().unwrap_or_default()
            )));
        }
        if !revoke && member.verified_at.is_some() {
            return Ok(member);
        }
        let action = if revoke {
            "member-revoke"
        } else {
            "member-verify"
        };
        let detail =
            serde_json::json!({"member": member.name, "fingerprint": member.grouped_fingerprint()});
        self.store_write(|w| {
            w.mark_member(&member.fingerprint, revoke)?;
            if revoke {
                // Changes from them still held back will not be applied.
                w.drop_held(Some(&member.fingerprint))?;
            }
            w.audit(action, None, &detail)
        })?;
        self.find_member(&member.fingerprint)
    }
}

//! The keyring: the other members' cards (DESIGN.md §5).
//!
//! A card is added unverified. Once its card fingerprint has been compared with its owner out
//! of band (aloud, on paper) and its name, Member State and clearance confirmed, it is marked
//! verified; only then are the member's bundles and changes trusted. A new card for the same
//! keys (a changed clearance, say) replaces the old one and must be verified again. A version
//! 1 card (fingerprint over the keys only) is shown as "re-verify" and cannot be verified: its
//! owner sends a version 2 card, which replaces it. A revoked card stays listed, revoked for
//! good. Every change is audited.

use std::str::FromStr as _;

use super::{ServiceError, Session};
use crate::crypto::{CardVersion, MemberCard};
use crate::store::MemberInfo;

/// What adding a card did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAdded {
    /// The member as now in the keyring (unverified).
    pub member: MemberInfo,
    /// The member as it was before, when the card replaced an older card of the same keys.
    pub replaced: Option<MemberInfo>,
}

/// The refusal for a version 1 card of `name`.
fn version_1_refusal(name: &str) -> ServiceError {
    ServiceError::Invalid(format!(
        "the card of {name} is a version 1 card: its fingerprint does not cover name, Member State and clearance, so it cannot be verified. Ask {name} for a new card (`observatory card`, or \"Copy my member card\" in the app) and add it"
    ))
}

/// The profile part of an audit detail.
fn profile_detail(m: &MemberInfo) -> serde_json::Value {
    serde_json::json!({
        "name": m.name, "member_state": m.member_state, "clearance": m.clearance.code(),
        "card_version": m.card_version, "card_fingerprint": m.grouped_card_fingerprint(),
    })
}

impl Session {
    /// The keyring, by name.
    pub fn members(&self) -> Result<Vec<MemberInfo>, ServiceError> {
        Ok(self.store().members()?)
    }

    /// Adds a member card (its text); returns what was added. See [`Session::add_member_card`].
    pub fn add_member(&mut self, card_text: &str) -> Result<MemberInfo, ServiceError> {
        Ok(self.add_member_card(card_text)?.member)
    }

    /// Adds a member card (its text), or replaces the card of the same keys when this one
    /// states another profile or is the version 2 card of a version 1 card in the keyring.
    /// Either way the member is then unverified. Refused: a card that does not read (altered,
    /// damaged), one's own card, a version 1 card not in the keyring, the same card again, an
    /// older card, a new card of a revoked member.
    pub fn add_member_card(&mut self, card_text: &str) -> Result<MemberAdded, ServiceError> {
        self.check_writable()?;
        let card =
            MemberCard::from_str(card_text).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let key_id = card.author_id();
        if key_id == self.author() {
            return Err(ServiceError::Invalid(
                "this is your own card: the keyring holds the other members' cards".into(),
            ));
        }
        let info = MemberInfo {
            fingerprint: key_id,
            name: card.profile.name.clone(),
            member_state: card.profile.member_state.clone(),
            clearance: card.profile.clearance,
            card: card.to_string(),
            added_at: String::new(),
            verified_at: None,
            revoked_at: None,
            card_version: card.version().number(),
            card_fingerprint: (card.version() >= CardVersion::V2)
                .then(|| crate::fsutil::hex_upper(&card.fingerprint_bytes())),
        };
        let known = self
            .members()?
            .into_iter()
            .find(|m| m.fingerprint == info.fingerprint);
        let Some(known) = known else {
            if card.version() < CardVersion::V2 {
                return Err(version_1_refusal(&info.name));
            }
            let detail = serde_json::json!({
                "member": info.name, "member_state": info.member_state,
                "clearance": info.clearance.code(), "fingerprint": info.grouped_fingerprint(),
                "card_fingerprint": info.grouped_card_fingerprint(),
            });
            self.store_write(|w| {
                w.insert_member(&info)?;
                w.audit("member-add", None, &detail)
            })?;
            return Ok(MemberAdded {
                member: self.find_member(&info.fingerprint)?,
                replaced: None,
            });
        };
        let same_card = known.card_version == info.card_version
            && known.card_fingerprint == info.card_fingerprint
            && (info.card_version >= 2 || known.card == info.card);
        if same_card {
            return Err(ServiceError::Invalid(format!(
                "the card of {} ({}) is in the keyring already ({})",
                known.name,
                known
                    .grouped_card_fingerprint()
                    .unwrap_or_else(|| known.grouped_fingerprint()),
                known.status()
            )));
        }
        if let Some(revoked_at) = &known.revoked_at {
            return Err(ServiceError::Invalid(format!(
                "the card of {} was revoked on {revoked_at}: a revocation is final, so no new card for the same keys is accepted",
                known.name
            )));
        }
        if card.version() < CardVersion::V2 {
            return Err(if known.card_version >= 2 {
                ServiceError::Invalid(format!(
                    "this is an older, version 1 card of {}: the keyring holds their version 2 card, which stays",
                    known.name
                ))
            } else {
                version_1_refusal(&info.name)
            });
        }
        let detail = serde_json::json!({
            "member": info.name, "fingerprint": info.grouped_fingerprint(),
            "old": profile_detail(&known), "new": profile_detail(&info),
        });
        self.store_write(|w| {
            if !w.replace_member_card(&info)? {
                return Err(crate::store::StoreError::Rejected {
                    problems: vec![format!(
                        "the keyring row of {} changed meanwhile: add the card again",
                        info.grouped_fingerprint()
                    )],
                });
            }
            w.audit("member-card-replaced", None, &detail)
        })?;
        Ok(MemberAdded {
            member: self.find_member(&info.fingerprint)?,
            replaced: Some(known),
        })
    }

    /// The member whose name (whole, case-insensitive), key id or card fingerprint (with or
    /// without spaces, or its first 8 or more hex digits) is `key`.
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
                m.name.eq_ignore_ascii_case(wanted)
                    || (is_hex
                        && (m.fingerprint.starts_with(&hex)
                            || m.card_fingerprint
                                .as_deref()
                                .is_some_and(|f| f.starts_with(&hex))))
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

    /// Marks a member verified: its card fingerprint was compared with its owner out of band,
    /// and its name, Member State and clearance confirmed.
    pub fn verify_member(&mut self, key: &str) -> Result<MemberInfo, ServiceError> {
        self.verify_member_confirming(key, None)
    }

    /// Marks a member verified, as [`Session::verify_member`]; with `card_fingerprint` (as
    /// read aloud, spaces and case ignored), only if it is the fingerprint of the card in the
    /// keyring. The audit entry `member-verify` records what was confirmed.
    pub fn verify_member_confirming(
        &mut self,
        key: &str,
        card_fingerprint: Option<&str>,
    ) -> Result<MemberInfo, ServiceError> {
        self.check_writable()?;
        let member = self.find_member(key)?;
        if let Some(revoked_at) = &member.revoked_at {
            return Err(ServiceError::Invalid(format!(
                "the card of {} was revoked on {revoked_at}: a revocation is final",
                member.name
            )));
        }
        let Some(stored) = member
            .card_fingerprint
            .clone()
            .filter(|_| member.card_version >= 2)
        else {
            return Err(version_1_refusal(&member.name));
        };
        if let Some(given) = card_fingerprint {
            let given: String = given
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_uppercase();
            if given != stored {
                return Err(ServiceError::Invalid(format!(
                    "the fingerprint given ({}) is not that of the card of {} in the keyring ({}): not verified. Compare again; if they differ, the card may have been altered on its way: ask {} for it again",
                    crate::fsutil::group_hex(&given),
                    member.name,
                    crate::fsutil::group_hex(&stored),
                    member.name
                )));
            }
        }
        if member.verified_at.is_some() {
            return Ok(member);
        }
        let detail = serde_json::json!({
            "member": member.name, "name": member.name, "member_state": member.member_state,
            "clearance": member.clearance.code(), "fingerprint": member.grouped_fingerprint(),
            "card_fingerprint": crate::fsutil::group_hex(&stored),
        });
        self.store_write(|w| {
            if !w.verify_member(&member.fingerprint, &stored)? {
                return Err(crate::store::StoreError::Rejected {
                    problems: vec![format!(
                        "the card of {} changed meanwhile: compare its new fingerprint and verify again",
                        member.name
                    )],
                });
            }
            w.audit("member-verify", None, &detail)
        })?;
        self.find_member(&member.fingerprint)
    }

    /// Revokes a member's card for good (lost key, left the group).
    pub fn revoke_member(&mut self, key: &str) -> Result<MemberInfo, ServiceError> {
        self.check_writable()?;
        let member = self.find_member(key)?;
        if let Some(revoked_at) = &member.revoked_at {
            return Err(ServiceError::Invalid(format!(
                "the card of {} was revoked on {revoked_at}: a revocation is final",
                member.name
            )));
        }
        let detail = serde_json::json!({
            "member": member.name, "fingerprint": member.grouped_fingerprint(),
            "card_fingerprint": member.grouped_card_fingerprint(),
        });
        self.store_write(|w| {
            w.revoke_member(&member.fingerprint)?;
            // Changes from them still held back will not be applied.
            w.drop_held(Some(&member.fingerprint))?;
            w.audit("member-revoke", None, &detail)
        })?;
        self.find_member(&member.fingerprint)
    }
}

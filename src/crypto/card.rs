//! Member cards: the public half of an identity, exchanged on paper or removable media.
//!
//! # Card format
//! UTF-8 text, one `key: value` per line after a fixed first line:
//! ```text
//! Observatory member card v1
//! name: Jane Doe
//! member-state: FR
//! clearance: SECRET
//! age-recipient: age1...
//! signing-key: <Ed25519 public key, 32 bytes, standard base64>
//! fingerprint: 1A2B 3C4D 5E6F 7081 92A3 B4C5 D6E7 F809 1A2B 3C4D
//! ```
//! The fingerprint is the first 20 bytes of SHA-256 over
//! `"observatory-member-v1\n" || age-recipient || "\n" || signing-key bytes`, as upper-case
//! hex in groups of four. It binds both keys; it is what members compare aloud before one is
//! trusted. A card whose fingerprint line does not match its keys is refused. Name, Member
//! State and clearance are claims, checked by people, not by the fingerprint.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::identity::Profile;
use crate::model::Classification;

const FIRST_LINE: &str = "Observatory member card v1";

/// The public card of a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberCard {
    /// Name, Member State and clearance.
    pub profile: Profile,
    /// age X25519 recipient (`age1...`).
    pub age_recipient: String,
    /// Ed25519 public signing key.
    pub signing_key: VerifyingKey,
}

/// JSON form of a card (`card --format json`).
#[derive(Debug, Serialize)]
pub struct CardJson<'a> {
    /// Full name.
    pub name: &'a str,
    /// Member State.
    pub member_state: &'a str,
    /// Clearance code.
    pub clearance: &'a str,
    /// age recipient.
    pub age_recipient: &'a str,
    /// Signing key, base64.
    pub signing_key: String,
    /// Fingerprint, grouped.
    pub fingerprint: String,
}

/// Why a card was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// Not a card.
    #[error("not an Observatory member card (the first line must be {FIRST_LINE:?})")]
    NotACard,
    /// A line is missing or malformed.
    #[error("member card: {0}")]
    Malformed(String),
    /// The fingerprint line does not match the keys.
    #[error(
        "member card: the fingerprint does not match the keys (card altered or damaged): do not trust it"
    )]
    FingerprintMismatch,
}

impl MemberCard {
    /// A card for these keys.
    #[must_use]
    pub fn new(profile: Profile, age_recipient: String, signing_key: VerifyingKey) -> Self {
        MemberCard {
            profile,
            age_recipient,
            signing_key,
        }
    }

    /// The fingerprint bytes (20 bytes).
    #[must_use]
    pub fn fingerprint_bytes(&self) -> [u8; 20] {
        let mut hasher = Sha256::new();
        hasher.update(b"observatory-member-v1\n");
        hasher.update(self.age_recipient.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.signing_key.as_bytes());
        let digest = hasher.finalize();
        let mut out = [0u8; 20];
        out.copy_from_slice(&digest[..20]);
        out
    }

    /// Fingerprint as upper-case hex in groups of four, for reading aloud.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let hex = self.author_id();
        hex.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Fingerprint as 40 upper-case hex digits: the author id on changes and audit entries.
    #[must_use]
    pub fn author_id(&self) -> String {
        crate::fsutil::hex_upper(&self.fingerprint_bytes())
    }

    /// The signing key in base64.
    #[must_use]
    pub fn signing_key_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.signing_key.as_bytes())
    }

    /// JSON view.
    #[must_use]
    pub fn to_json(&self) -> CardJson<'_> {
        CardJson {
            name: &self.profile.name,
            member_state: &self.profile.member_state,
            clearance: self.profile.clearance.code(),
            age_recipient: &self.age_recipient,
            signing_key: self.signing_key_base64(),
            fingerprint: self.fingerprint(),
        }
    }
}

impl fmt::Display for MemberCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{FIRST_LINE}")?;
        writeln!(f, "name: {}", self.profile.name)?;
        writeln!(f, "member-state: {}", self.profile.member_state)?;
        writeln!(f, "clearance: {}", self.profile.clearance.code())?;
        writeln!(f, "age-recipient: {}", self.age_recipient)?;
        writeln!(f, "signing-key: {}", self.signing_key_base64())?;
        writeln!(f, "fingerprint: {}", self.fingerprint())
    }
}

impl FromStr for MemberCard {
    type Err = CardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next() != Some(FIRST_LINE) {
            return Err(CardError::NotACard);
        }
        let mut values = std::collections::BTreeMap::new();
        for line in lines {
            let (key, value) = line.split_once(':').ok_or_else(|| {
                CardError::Malformed(format!("line {line:?} is not 'key: value'"))
            })?;
            values.insert(key.trim().to_owned(), value.trim().to_owned());
        }
        let get = |key: &str| {
            values
                .get(key)
                .cloned()
                .ok_or_else(|| CardError::Malformed(format!("no {key} line")))
        };
        let clearance: Classification = get("clearance")?
            .parse()
            .map_err(|e| CardError::Malformed(format!("{e}")))?;
        let profile = Profile::new(&get("name")?, &get("member-state")?, clearance)
            .map_err(|e| CardError::Malformed(e.to_string()))?;
        let age_recipient = get("age-recipient")?;
        age::x25519::Recipient::from_str(&age_recipient)
            .map_err(|e| CardError::Malformed(format!("age-recipient: {e}")))?;
        let key_bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(get("signing-key")?)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| CardError::Malformed("signing-key is not 32 bytes of base64".into()))?;
        let signing_key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| CardError::Malformed("signing-key is not an Ed25519 public key".into()))?;
        let card = MemberCard {
            profile,
            age_recipient,
            signing_key,
        };
        let claimed: String = get("fingerprint")?
            .split_whitespace()
            .collect::<String>()
            .to_uppercase();
        if claimed != card.author_id() {
            return Err(CardError::FingerprintMismatch);
        }
        Ok(card)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Identity;

    #[test]
    fn card_text_round_trip_and_tamper() {
        let profile = Profile::new("Jan Novák", "CZ", Classification::Confidential).unwrap();
        let card = Identity::generate(profile).card();
        let text = card.to_string();
        assert_eq!(text.parse::<MemberCard>(), Ok(card.clone()));
        assert_eq!(card.fingerprint().len(), 49);
        let other = Identity::generate(card.profile.clone()).card();
        let tampered = text.replace(&card.age_recipient, &other.age_recipient);
        assert_eq!(
            tampered.parse::<MemberCard>(),
            Err(CardError::FingerprintMismatch)
        );
        assert_eq!("hello".parse::<MemberCard>(), Err(CardError::NotACard));
    }
}

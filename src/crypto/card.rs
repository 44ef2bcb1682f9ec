//! Member cards: the public half of an identity, exchanged on paper or removable media.
//!
//! A card says who a member is (name, Member State, clearance) and which keys are theirs (the
//! age recipient that files for them are encrypted to, the Ed25519 key their bundles and
//! changes are signed with). Members compare its **card fingerprint** aloud or on paper before
//! one trusts another's card; since version 2 that fingerprint covers the profile as well as
//! the keys, and the card is signed by its own key, so a card altered on the medium (a raised
//! clearance, another name, a swapped key) is refused as altered.
//!
//! # Two identifiers
//! - The **key id** names a member's keys: the first 20 bytes of SHA-256 over
//!   `"observatory-member-v1\n" || age-recipient || "\n" || signing-key bytes` (the 32 raw key
//!   bytes, not base64), as 40 upper-case hex digits. It is the member's id everywhere in the
//!   files: change-log and audit authors, bundle sender and recipients, the keyring's key
//!   ([`MemberCard::author_id`]). It never changes for a member, whatever their profile; it is
//!   also what a version 1 card printed as its fingerprint.
//! - The **card fingerprint** names the keys *and* the profile ([`MemberCard::fingerprint`]).
//!   A member whose clearance (or name, or Member State) changes issues a new card: same key
//!   id, new card fingerprint, and the others verify it again.
//!
//! Both are shown as upper-case hex in ten groups of four (`1A2B 3C4D … 3C4D`).
//!
//! # Card format, version 2
//! UTF-8 text, lines separated by `\n` (a `\r` before it is ignored), in this order:
//! ```text
//! Observatory member card v2
//! name: Jane Doe
//! member-state: FR
//! clearance: SECRET
//! age-recipient: age1...
//! signing-key: <Ed25519 public key, 32 bytes, standard base64 with padding>
//! fingerprint: 1A2B 3C4D 5E6F 7081 92A3 B4C5 D6E7 F809 1A2B 3C4D
//! signature: <Ed25519 signature, 64 bytes, standard base64 with padding>
//! ```
//! - A line is `key: value`: the key is the text before the first `:`, the value the rest; both
//!   have leading and trailing white space removed. Blank lines are ignored. Each of the seven
//!   keys must appear exactly once; any other key refuses the card.
//! - `name`: 1 to 200 characters, no control characters, no `#`, no line or paragraph
//!   separator (U+2028, U+2029); no leading or trailing white space.
//! - `member-state`: an EU Member State code as ISO 3166-1 alpha-2, upper case (Greece is `GR`),
//!   or `EU` for Commission staff.
//! - `clearance`: exactly one of `UNCLASSIFIED`, `RESTRICTED`, `CONFIDENTIAL`, `SECRET`,
//!   `TOP-SECRET`.
//! - `age-recipient`: an age X25519 recipient (`age1…`, Bech32).
//! - The values are written exactly so (a reader refuses `secret` or `gr`), so that every
//!   implementation hashes the same bytes.
//!
//! The **signed bytes** are the UTF-8 encoding of
//! ```text
//! "observatory-member-card-v2\n"
//! "name: " name "\n"
//! "member-state: " member-state "\n"
//! "clearance: " clearance "\n"
//! "age-recipient: " age-recipient "\n"
//! "signing-key: " signing-key "\n"
//! ```
//! with each value exactly as on its line (the signing key as its base64 text). No value can
//! hold a newline, and the keys come in a fixed order, so different cards never give the same
//! bytes. The label on the first line keeps these bytes apart from anything else Observatory
//! signs (nothing else starts with it).
//!
//! - `fingerprint` (the card fingerprint): the first 20 bytes of SHA-256 over the signed bytes,
//!   upper-case hex in groups of four (a reader ignores spaces and case).
//! - `signature`: Ed25519 (RFC 8032) over the signed bytes by the card's own `signing-key`,
//!   proving that whoever made the card holds that key. Readers verify it strictly (canonical
//!   `S`, no small-order keys or `R`).
//!
//! A reader refuses, each with its own [`CardError`]: a first line that is not a card
//! ([`CardError::NotACard`]) or a card of an unknown version ([`CardError::UnsupportedVersion`]);
//! a missing or unreadable line ([`CardError::Malformed`]); an unknown or repeated key
//! ([`CardError::UnknownKey`], [`CardError::DuplicateKey`]); a fingerprint line that is not the
//! fingerprint of the card's content ([`CardError::FingerprintMismatch`]: the card was altered
//! or damaged); a signature that does not verify ([`CardError::BadSignature`]: the card was
//! altered by someone without the key — its fingerprint recomputed to match — or was not made
//! by the key's owner).
//!
//! Checking a card independently, with Python 3 and the `cryptography` package (prints the card
//! fingerprint and the key id; exits with an error on an altered card):
//! ```python
//! import base64, hashlib, sys
//! from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
//!
//! lines = [l.strip() for l in open(sys.argv[1], encoding="utf-8").read().split("\n")]
//! lines = [l for l in lines if l]
//! if lines[0] != "Observatory member card v2":
//!     sys.exit("not a version 2 member card")
//! card = {}
//! for line in lines[1:]:
//!     key, value = line.split(":", 1)
//!     if key.strip() in card:
//!         sys.exit("repeated line " + key)
//!     card[key.strip()] = value.strip()
//! keys = ("name", "member-state", "clearance", "age-recipient", "signing-key")
//! signed = ("observatory-member-card-v2\n"
//!           + "".join(k + ": " + card[k] + "\n" for k in keys)).encode("utf-8")
//! fingerprint = hashlib.sha256(signed).hexdigest().upper()[:40]
//! if card["fingerprint"].replace(" ", "").upper() != fingerprint:
//!     sys.exit("card altered or damaged: the fingerprint does not match")
//! key = base64.b64decode(card["signing-key"], validate=True)
//! signature = base64.b64decode(card["signature"], validate=True)
//! Ed25519PublicKey.from_public_bytes(key).verify(signature, signed)  # raises if altered
//! key_id = hashlib.sha256(b"observatory-member-v1\n" + card["age-recipient"].encode("ascii")
//!                         + b"\n" + key).hexdigest().upper()[:40]
//! group = lambda h: " ".join(h[i:i + 4] for i in range(0, 40, 4))
//! print("card fingerprint:", group(fingerprint))
//! print("key id:", group(key_id))
//! ```
//!
//! # Version 1 (read only)
//! First line `Observatory member card v1`; the lines `name`, `member-state`, `clearance`,
//! `age-recipient`, `signing-key` and `fingerprint`, where the fingerprint is the key id: it
//! binds the keys but not the profile, and there is no signature. Such cards are still read
//! (keyrings made before version 2 hold them) and marked [`CardVersion::V1`], but they cannot
//! be verified: the keyring shows them as "re-verify" until their owner sends a version 2 card.
//! Observatory never writes them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::identity::Profile;
use crate::model::Classification;

/// What every card's first line starts with; the version number follows.
const FIRST_LINE_PREFIX: &str = "Observatory member card v";
/// Label of the key id (the version 1 fingerprint); frozen, since ids in files depend on it.
const KEY_ID_LABEL: &[u8] = b"observatory-member-v1\n";
/// First line of the signed bytes of a version 2 card.
const SIGNED_LABEL: &str = "observatory-member-card-v2\n";
/// The lines of a version 1 card, after the first.
const V1_KEYS: [&str; 6] = [
    "name",
    "member-state",
    "clearance",
    "age-recipient",
    "signing-key",
    "fingerprint",
];
/// The lines of a version 2 card, after the first, in the order they are written.
const V2_KEYS: [&str; 7] = [
    "name",
    "member-state",
    "clearance",
    "age-recipient",
    "signing-key",
    "fingerprint",
    "signature",
];

/// Which card format a card was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CardVersion {
    /// Fingerprint over the keys only, no signature: read, never written, never verified.
    V1,
    /// Fingerprint over keys and profile, self-signed.
    V2,
}

impl CardVersion {
    /// The number on the card's first line.
    #[must_use]
    pub fn number(self) -> u8 {
        match self {
            CardVersion::V1 => 1,
            CardVersion::V2 => 2,
        }
    }
}

/// What proves a card: nothing for version 1, the self-signature for version 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seal {
    V1,
    V2(Signature),
}

/// The public card of a member.
///
/// The fields are public to read; a card whose fields were changed afterwards no longer
/// matches its signature, and its text is refused by every reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberCard {
    /// Name, Member State and clearance.
    pub profile: Profile,
    /// age X25519 recipient (`age1...`).
    pub age_recipient: String,
    /// Ed25519 public signing key.
    pub signing_key: VerifyingKey,
    seal: Seal,
}

/// JSON form of a card (`card --format json`).
#[derive(Debug, Serialize)]
pub struct CardJson<'a> {
    /// Card format version (1 or 2).
    pub version: u8,
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
    /// Card fingerprint, grouped (for version 1, the key id).
    pub fingerprint: String,
    /// Key id, 40 hex digits: the member's id in files and bundles.
    pub key_id: String,
    /// Self-signature, base64 (version 2).
    pub signature: Option<String>,
}

/// Why a card was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// Not a card.
    #[error("not an Observatory member card (the first line must be \"{FIRST_LINE_PREFIX}2\")")]
    NotACard,
    /// A card of a version this build does not know.
    #[error(
        "a member card of version {0}, which this Observatory cannot read: update Observatory, or ask its owner for a version 2 card"
    )]
    UnsupportedVersion(String),
    /// A line is missing or malformed.
    #[error("member card: {0}")]
    Malformed(String),
    /// A line whose key is not part of the format.
    #[error(
        "member card: unknown line {0:?}: the card is damaged or was not made by Observatory; ask its owner for the card again"
    )]
    UnknownKey(String),
    /// A line given twice.
    #[error(
        "member card: the {0:?} line appears twice: the card is damaged or altered; ask its owner for the card again"
    )]
    DuplicateKey(String),
    /// The fingerprint line does not match the card's content.
    #[error(
        "member card: the fingerprint does not match the card (card altered or damaged): do not trust it; ask its owner for the card again"
    )]
    FingerprintMismatch,
    /// The self-signature does not verify.
    #[error(
        "member card: the signature does not verify with the card's own key (card altered, or not made by the key's owner): do not trust it; ask its owner for the card again"
    )]
    BadSignature,
}

impl MemberCard {
    /// A version 2 card for these keys, signed with `signing` (whose public half it carries).
    #[must_use]
    pub fn signed(profile: Profile, age_recipient: String, signing: &SigningKey) -> Self {
        let mut card = MemberCard {
            profile,
            age_recipient,
            signing_key: signing.verifying_key(),
            seal: Seal::V1,
        };
        card.seal = Seal::V2(signing.sign(&card.signed_bytes()));
        card
    }

    /// The card format this card was read from or made in.
    #[must_use]
    pub fn version(&self) -> CardVersion {
        match self.seal {
            Seal::V1 => CardVersion::V1,
            Seal::V2(_) => CardVersion::V2,
        }
    }

    /// The self-signature (version 2 cards).
    #[must_use]
    pub fn signature(&self) -> Option<&Signature> {
        match &self.seal {
            Seal::V1 => None,
            Seal::V2(signature) => Some(signature),
        }
    }

    /// The bytes a version 2 fingerprint and signature cover (see the module docs).
    #[must_use]
    pub fn signed_bytes(&self) -> Vec<u8> {
        format!(
            "{SIGNED_LABEL}name: {}\nmember-state: {}\nclearance: {}\nage-recipient: {}\nsigning-key: {}\n",
            self.profile.name,
            self.profile.member_state,
            self.profile.clearance.code(),
            self.age_recipient,
            self.signing_key_base64()
        )
        .into_bytes()
    }

    /// The key id (20 bytes): names the keys, whatever the profile.
    #[must_use]
    pub fn key_id_bytes(&self) -> [u8; 20] {
        let mut hasher = Sha256::new();
        hasher.update(KEY_ID_LABEL);
        hasher.update(self.age_recipient.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.signing_key.as_bytes());
        first_20(&hasher.finalize())
    }

    /// The card fingerprint (20 bytes): keys and profile for version 2; for a version 1 card,
    /// what it printed as its fingerprint (the key id).
    #[must_use]
    pub fn fingerprint_bytes(&self) -> [u8; 20] {
        match self.seal {
            Seal::V1 => self.key_id_bytes(),
            Seal::V2(_) => first_20(&Sha256::digest(self.signed_bytes())),
        }
    }

    /// The card fingerprint in groups of four, as compared aloud before a card is trusted.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        crate::fsutil::group_hex(&crate::fsutil::hex_upper(&self.fingerprint_bytes()))
    }

    /// The key id in groups of four.
    #[must_use]
    pub fn key_id(&self) -> String {
        crate::fsutil::group_hex(&self.author_id())
    }

    /// The key id as 40 upper-case hex digits: the member's id on changes, audit entries,
    /// bundles and in the keyring. Unchanged by card version 2 (files depend on it).
    #[must_use]
    pub fn author_id(&self) -> String {
        crate::fsutil::hex_upper(&self.key_id_bytes())
    }

    /// The signing key in base64.
    #[must_use]
    pub fn signing_key_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.signing_key.as_bytes())
    }

    /// The self-signature in base64 (version 2 cards).
    #[must_use]
    pub fn signature_base64(&self) -> Option<String> {
        self.signature()
            .map(|s| base64::engine::general_purpose::STANDARD.encode(s.to_bytes()))
    }

    /// JSON view.
    #[must_use]
    pub fn to_json(&self) -> CardJson<'_> {
        CardJson {
            version: self.version().number(),
            name: &self.profile.name,
            member_state: &self.profile.member_state,
            clearance: self.profile.clearance.code(),
            age_recipient: &self.age_recipient,
            signing_key: self.signing_key_base64(),
            fingerprint: self.fingerprint(),
            key_id: self.author_id(),
            signature: self.signature_base64(),
        }
    }
}

fn first_20(digest: &[u8]) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest[..20]);
    out
}

impl fmt::Display for MemberCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{FIRST_LINE_PREFIX}{}", self.version().number())?;
        writeln!(f, "name: {}", self.profile.name)?;
        writeln!(f, "member-state: {}", self.profile.member_state)?;
        writeln!(f, "clearance: {}", self.profile.clearance.code())?;
        writeln!(f, "age-recipient: {}", self.age_recipient)?;
        writeln!(f, "signing-key: {}", self.signing_key_base64())?;
        writeln!(f, "fingerprint: {}", self.fingerprint())?;
        if let Some(signature) = self.signature_base64() {
            writeln!(f, "signature: {signature}")?;
        }
        Ok(())
    }
}

impl FromStr for MemberCard {
    type Err = CardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next().ok_or(CardError::NotACard)?;
        let version = match first.strip_prefix(FIRST_LINE_PREFIX) {
            Some("1") => CardVersion::V1,
            Some("2") => CardVersion::V2,
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(CardError::UnsupportedVersion(n.to_owned()));
            }
            _ => return Err(CardError::NotACard),
        };
        let allowed: &[&str] = match version {
            CardVersion::V1 => &V1_KEYS,
            CardVersion::V2 => &V2_KEYS,
        };
        let mut values = BTreeMap::new();
        for line in lines {
            let (key, value) = line.split_once(':').ok_or_else(|| {
                CardError::Malformed(format!("line {line:?} is not 'key: value'"))
            })?;
            let key = key.trim();
            if !allowed.contains(&key) {
                return Err(CardError::UnknownKey(key.to_owned()));
            }
            if values.insert(key, value.trim()).is_some() {
                return Err(CardError::DuplicateKey(key.to_owned()));
            }
        }
        let get = |key: &str| {
            values
                .get(key)
                .copied()
                .ok_or_else(|| CardError::Malformed(format!("no {key} line")))
        };
        let (name, member_state, clearance_text) =
            (get("name")?, get("member-state")?, get("clearance")?);
        let clearance: Classification = clearance_text
            .parse()
            .map_err(|e| CardError::Malformed(format!("{e}")))?;
        let profile = Profile::new(name, member_state, clearance)
            .map_err(|e| CardError::Malformed(e.to_string()))?;
        // Version 2 hashes the values as written: refuse other spellings of the same profile
        // rather than hash bytes another implementation would not.
        if version == CardVersion::V2 {
            if clearance_text != clearance.code() {
                return Err(CardError::Malformed(format!(
                    "clearance {clearance_text:?} must be written {:?}",
                    clearance.code()
                )));
            }
            if member_state != profile.member_state {
                return Err(CardError::Malformed(format!(
                    "member-state {member_state:?} must be written {:?}",
                    profile.member_state
                )));
            }
        }
        let age_recipient = get("age-recipient")?.to_owned();
        age::x25519::Recipient::from_str(&age_recipient)
            .map_err(|e| CardError::Malformed(format!("age-recipient: {e}")))?;
        let key_bytes: [u8; 32] = decode_base64(get("signing-key")?)
            .ok_or_else(|| CardError::Malformed("signing-key is not 32 bytes of base64".into()))?;
        let signing_key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| CardError::Malformed("signing-key is not an Ed25519 public key".into()))?;
        let seal = match version {
            CardVersion::V1 => Seal::V1,
            CardVersion::V2 => {
                let bytes: [u8; 64] = decode_base64(get("signature")?).ok_or_else(|| {
                    CardError::Malformed("signature is not 64 bytes of base64".into())
                })?;
                Seal::V2(Signature::from_bytes(&bytes))
            }
        };
        let card = MemberCard {
            profile,
            age_recipient,
            signing_key,
            seal,
        };
        let claimed: String = get("fingerprint")?
            .split_whitespace()
            .collect::<String>()
            .to_uppercase();
        if claimed != crate::fsutil::hex_upper(&card.fingerprint_bytes()) {
            return Err(CardError::FingerprintMismatch);
        }
        if let Seal::V2(signature) = &card.seal {
            card.signing_key
                .verify_strict(&card.signed_bytes(), signature)
                .map_err(|_| CardError::BadSignature)?;
        }
        Ok(card)
    }
}

/// Standard base64 (canonical padding) of exactly `N` bytes.
fn decode_base64<const N: usize>(text: &str) -> Option<[u8; N]> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Identity;

    fn replace_line(text: &str, key: &str, value: &str) -> String {
        text.lines()
            .map(|l| {
                if l.starts_with(&format!("{key}:")) {
                    format!("{key}: {value}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect()
    }

    #[test]
    fn card_text_round_trip_and_tamper() {
        let profile = Profile::new("Jan Novák", "CZ", Classification::Confidential).unwrap();
        let identity = Identity::generate(profile);
        let card = identity.card();
        assert_eq!(card.version(), CardVersion::V2);
        let text = card.to_string();
        assert!(text.starts_with("Observatory member card v2\nname: Jan Novák\n"));
        assert_eq!(text.parse::<MemberCard>(), Ok(card.clone()));
        assert_eq!(identity.card().to_string(), text, "deterministic");
        assert_eq!(card.fingerprint().len(), 49);
        assert_ne!(card.fingerprint(), card.key_id());
        let other = Identity::generate(card.profile.clone()).card();
        let tampered = text.replace(&card.age_recipient, &other.age_recipient);
        assert_eq!(
            tampered.parse::<MemberCard>(),
            Err(CardError::FingerprintMismatch)
        );
        assert_eq!("hello".parse::<MemberCard>(), Err(CardError::NotACard));
        assert_eq!(
            text.replace("card v2", "card v3").parse::<MemberCard>(),
            Err(CardError::UnsupportedVersion("3".into()))
        );
        assert_eq!(
            format!("{text}comment: hi\n").parse::<MemberCard>(),
            Err(CardError::UnknownKey("comment".into()))
        );
        assert_eq!(
            format!("{text}name: Jan Novák\n").parse::<MemberCard>(),
            Err(CardError::DuplicateKey("name".into()))
        );
        assert!(matches!(
            replace_line(&text, "clearance", "confidential").parse::<MemberCard>(),
            Err(CardError::Malformed(_))
        ));
        assert!(matches!(
            replace_line(&text, "signature", "AAAA").parse::<MemberCard>(),
            Err(CardError::Malformed(_))
        ));
        // CRLF line ends and surrounding blanks do not change the card.
        let crlf = format!("\n{}\n", text.replace('\n', "\r\n"));
        assert_eq!(crlf.parse::<MemberCard>(), Ok(card));
    }

    #[test]
    fn profile_changed_with_fingerprint_recomputed_fails_the_signature() {
        let identity = Identity::generate(
            Profile::new("Ana Silva", "PT", Classification::Restricted).unwrap(),
        );
        let card = identity.card();
        let mut raised = card.clone();
        raised.profile.clearance = Classification::TopSecret;
        let forged = replace_line(
            &replace_line(&card.to_string(), "clearance", "TOP-SECRET"),
            "fingerprint",
            &raised.fingerprint(),
        );
        assert_eq!(forged.parse::<MemberCard>(), Err(CardError::BadSignature));
    }

    #[test]
    fn version_1_cards_are_read_and_keep_the_key_id() {
        let card =
            Identity::generate(Profile::new("Old Card", "BE", Classification::Secret).unwrap())
                .card();
        let v1 = format!(
            "Observatory member card v1\nname: Old Card\nmember-state: BE\nclearance: SECRET\nage-recipient: {}\nsigning-key: {}\nfingerprint: {}\n",
            card.age_recipient,
            card.signing_key_base64(),
            card.key_id()
        );
        let parsed: MemberCard = v1.parse().unwrap();
        assert_eq!(parsed.version(), CardVersion::V1);
        assert_eq!(parsed.author_id(), card.author_id());
        assert_eq!(parsed.fingerprint(), card.key_id());
        assert!(parsed.signature().is_none());
        assert_eq!(parsed.to_string(), v1);
        assert_eq!(
            format!("{v1}signature: {}\n", card.signature_base64().unwrap()).parse::<MemberCard>(),
            Err(CardError::UnknownKey("signature".into()))
        );
    }
}

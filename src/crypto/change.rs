//! Signed authorship of changes (DESIGN.md §7).
//!
//! Every change-log row a member makes is signed with their Ed25519 key when it is made, and
//! the signature travels unchanged with every relay, so a receiver can check each change
//! against its author's card whoever sent the bundle.
//!
//! # Why one signature per row
//! One signature per local transaction (a changeset) would be fewer signatures, but a
//! changeset cannot be split: a bundle could then only carry whole transactions, and one
//! transaction often touches records that may not leave together (an import that creates a
//! SECRET and an UNCLASSIFIED record, a record lowered later whose older values must stay
//! behind). Per-row signatures let the sender pick exactly the rows a recipient may see, each
//! still verifiable, and make a forged value detectable per field.
//!
//! # Signed message
//! UTF-8, lines joined by `\n`, no final newline:
//! ```text
//! observatory-change v1
//! <record_kind>
//! <record_id>
//! <field>
//! <hlc>
//! <author>
//! <value_sha256>
//! ```
//! `value_sha256` is the lower-case hex SHA-256 of the value's JSON text exactly as carried
//! (`value` in the change log and in bundles). The signature is Ed25519 (RFC 8032) by the
//! author's signing key, carried in standard base64 (64 bytes). None of the lines may contain a
//! newline (kinds and fields come from fixed lists, ids are UUIDs, clocks and authors hex), so
//! the message reads one way only.

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// First line of the signed message.
pub const CHANGE_TAG: &str = "observatory-change v1";

/// What identifies a change and what it sets (the digest of its value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeId<'a> {
    /// Record kind.
    pub record_kind: &'a str,
    /// Record id.
    pub record_id: &'a str,
    /// Field (`*` for a creation).
    pub field: &'a str,
    /// Clock, as text.
    pub hlc: &'a str,
    /// Author id.
    pub author: &'a str,
    /// Lower-case hex SHA-256 of the value's JSON text.
    pub value_sha256: &'a str,
}

impl ChangeId<'_> {
    /// Its parts, in the order of the message.
    fn parts(&self) -> [&str; 6] {
        [
            self.record_kind,
            self.record_id,
            self.field,
            self.hlc,
            self.author,
            self.value_sha256,
        ]
    }

    /// The bytes that are signed.
    #[must_use]
    pub fn message(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(200);
        out.extend_from_slice(CHANGE_TAG.as_bytes());
        for part in self.parts() {
            out.push(b'\n');
            out.extend_from_slice(part.as_bytes());
        }
        out
    }

    /// Whether every part is one line (a message that reads one way only).
    #[must_use]
    pub fn is_well_formed(&self) -> bool {
        self.parts()
            .iter()
            .all(|p| !p.is_empty() && !p.contains(['\n', '\r']))
    }

    /// Signs it; the signature in base64.
    #[must_use]
    pub fn sign(&self, key: &SigningKey) -> String {
        base64::engine::general_purpose::STANDARD.encode(key.sign(&self.message()).to_bytes())
    }
}

/// The lower-case hex SHA-256 of a value's JSON text.
#[must_use]
pub fn value_sha256(value_json: &str) -> String {
    crate::fsutil::hex_lower(&Sha256::digest(value_json.as_bytes()))
}

/// Reads a base64 signature.
#[must_use]
pub fn read_signature(text: &str) -> Option<Signature> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
}

/// Whether a signature's R is one strict verification refuses outright and batch verification
/// would not: a small-order point, or a non-canonical encoding. Checked on the bytes (no
/// decompression, which would cost as much as the batch itself): the eight small-order points'
/// canonical encodings, the same with the sign bit set where x = 0 (y = 1 and y = -1), and
/// any y at or above the field prime (2^255 - 19).
fn small_order_r(signature: &Signature) -> bool {
    use std::sync::LazyLock;
    static SMALL: LazyLock<Vec<[u8; 32]>> = LazyLock::new(|| {
        let mut out = Vec::new();
        for p in curve25519_dalek::constants::EIGHT_TORSION {
            let c = p.compress().to_bytes();
            out.push(c);
            let mut flipped = c;
            flipped[31] ^= 0x80;
            if p.compress().to_bytes() != flipped
                && curve25519_dalek::edwards::CompressedEdwardsY(flipped)
                    .decompress()
                    .is_some_and(|q| q.is_small_order())
            {
                out.push(flipped);
            }
        }
        out
    });
    let r = signature.r_bytes();
    let y_at_least_p = r[0] >= 0xed && r[1..31].iter().all(|b| *b == 0xff) && r[31] & 0x7f == 0x7f;
    y_at_least_p || SMALL.iter().any(|s| s == r)
}

/// Verifies many (message, signature, key) triples: in batches (Ed25519 batch verification,
/// about twice as fast), on every core; a batch that fails is checked one by one with strict
/// verification to find the bad ones. Returns, for each triple, whether it verifies.
#[must_use]
pub fn verify_many(items: &[(Vec<u8>, Signature, VerifyingKey)]) -> Vec<bool> {
    const BATCH: usize = 512;
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let per_thread = items.len().div_ceil(threads.max(1)).max(BATCH);
    let check_chunk = |chunk: &[(Vec<u8>, Signature, VerifyingKey)]| -> Vec<bool> {
        let mut out = Vec::with_capacity(chunk.len());
        for batch in chunk.chunks(BATCH) {
            let messages: Vec<&[u8]> = batch.iter().map(|(m, _, _)| m.as_slice()).collect();
            let signatures: Vec<Signature> = batch.iter().map(|(_, s, _)| *s).collect();
            let keys: Vec<VerifyingKey> = batch.iter().map(|(_, _, k)| *k).collect();
            // Batch verification is not strict: it accepts a small-order R (or key) that strict
            // verification refuses. Those never take the batch path; a failed batch is checked
            // one by one, strictly.
            let plain = batch
                .iter()
                .all(|(_, s, k)| !k.is_weak() && !small_order_r(s));
            let batch_ok =
                plain && ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok();
            for (m, s, k) in batch {
                out.push(batch_ok || k.verify_strict(m, s).is_ok());
            }
        }
        out
    };
    if items.len() <= BATCH || threads < 2 {
        return check_chunk(items);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || check_chunk(chunk)))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for (handle, chunk) in handles.into_iter().zip(items.chunks(per_thread)) {
            match handle.join() {
                Ok(part) => out.extend(part),
                // A verifier thread cannot panic on input; if it did, nothing counts.
                Err(_) => out.extend(std::iter::repeat_n(false, chunk.len())),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_change_verifies_and_a_changed_part_does_not() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let digest = value_sha256("\"UNCLASSIFIED\"");
        let id = ChangeId {
            record_kind: "item",
            record_id: "0190a0b0-0000-7000-8000-000000000001",
            field: "classification",
            hlc: "000000000001-0000",
            author: "AB",
            value_sha256: &digest,
        };
        assert!(id.is_well_formed());
        let sig = read_signature(&id.sign(&key)).unwrap();
        let other_digest = value_sha256("\"SECRET\"");
        let forged = ChangeId {
            value_sha256: &other_digest,
            ..id
        };
        let items: Vec<_> = (0..300)
            .map(|i| {
                let m = if i == 150 {
                    forged.message()
                } else {
                    id.message()
                };
                (m, sig, key.verifying_key())
            })
            .collect();
        let ok = verify_many(&items);
        assert_eq!(ok.iter().filter(|b| !**b).count(), 1);
        assert!(!ok[150]);
    }

    #[test]
    fn small_order_r_is_recognised_on_the_bytes() {
        for p in curve25519_dalek::constants::EIGHT_TORSION {
            let mut bytes = [0u8; 64];
            bytes[..32].copy_from_slice(&p.compress().to_bytes());
            assert!(small_order_r(&Signature::from_bytes(&bytes)));
        }
        let key = SigningKey::from_bytes(&[3; 32]);
        let genuine = key.sign(b"x");
        assert!(!small_order_r(&genuine));
    }
}

//! Exchange between members (DESIGN.md §7): the bundle format, per-change and bundle
//! signatures, their verification, and the merge plan. Pure: no store, no egui; the service
//! (`service::bundle`) orchestrates, the store keeps the ledger.
//!
//! # Bundle format (version 2)
//! A binary age file encrypted to every recipient's X25519 recipient **and the sender's**. Its
//! plaintext is UTF-8:
//! ```text
//! observatory-bundle v2
//! sender: <sender's member id, 40 upper-case hex digits>
//! signature: <Ed25519 signature, 64 bytes, standard base64>
//!
//! <body: one JSON object, exactly the bytes that were signed>
//! ```
//! The sender is named outside the body so that a receiver takes the sender's key from its
//! keyring and **verifies the signature over the raw body bytes before parsing any JSON**. The
//! signature is Ed25519 (RFC 8032, verified strictly) by the sender's signing key over the body
//! bytes after the blank line, to the end.
//!
//! The body: `format` (`"observatory-bundle"`), `version` (2), `bundle_id` (a UUID), `sender`
//! (the same member id as the envelope), `sender_name`, `recipients` (member ids), `sequence`
//! (per sender, from 1), `created` (the sender's hybrid logical clock, `WWWWWWWWWWWW-CCCC`
//! hex), `classification` (code of the highest level of the records it carries) and
//! `changes`. Each change is a change-log row **with its author's signature**:
//! `{record_kind, record_id, field, value, value_sha256, hlc, author, signature}`: `value` is
//! the JSON text of the value as a string (exactly the bytes the author signed the digest of),
//! or `null` when withheld (only a creation row, see below); `value_sha256` the lower-case hex
//! SHA-256 of that text; `signature` the author's Ed25519 signature over the change message of
//! [`crate::crypto::change`]. No other field is allowed anywhere (readers refuse unknown fields).
//! A member id is the first 20 bytes of SHA-256 over `"observatory-member-v1\n" ||
//! age-recipient || "\n" || signing key` in upper-case hex: it names a member's keys (see
//! [`crate::crypto::MemberCard`]).
//!
//! A version 1 bundle (first line `observatory-bundle v1`, from an older Observatory, without
//! signed authorship) is refused with its own message: ask the sender to update and send again.
//!
//! Worked example, with the reference tools only:
//! ```sh
//! age -d -i anna.identity -o plain.txt bundle.obx      # asks for the identity's passphrase
//! sed -n 2p plain.txt | cut -d' ' -f2                  # the sender's member id
//! sed -n 3p plain.txt | cut -d' ' -f2 | base64 -d > sig.bin
//! tail -n +5 plain.txt > body.json                     # the bytes after the blank line
//! ```
//! then, with the sender's signing key from their card (base64, 32 bytes) and any Ed25519
//! library, e.g. Python's `cryptography`:
//! ```text
//! Ed25519PublicKey.from_public_bytes(sender_key).verify(sig, body)
//! for c in json.loads(body)["changes"]:
//!     assert c["value"] is None or sha256(c["value"].encode()).hexdigest() == c["value_sha256"]
//!     msg = "\n".join(["observatory-change v1", c["record_kind"], c["record_id"], c["field"],
//!                      c["hlc"], c["author"], c["value_sha256"]]).encode()
//!     Ed25519PublicKey.from_public_bytes(author_key).verify(b64decode(c["signature"]), msg)
//! ```
//! (`plain.txt` is plaintext on disk: do that only where the material may be stored.) The test
//! suite runs exactly this with Python (`tests/bundles.rs`).
//!
//! # Trust
//! The sender's signature vouches for the bundle (it was made by that member, for these
//! recipients); each author's signature vouches for each change, whoever relays it. A receiver
//! checks every change against its author's card in the keyring (its own card included): a
//! change whose author is not in the keyring, not verified, or revoked at the change's clock,
//! or whose signature does not verify, is refused and listed with its reason, never merged
//! under that author's name; the bundle's other changes are merged. The same (record, field,
//! clock, author) with another value, or a second creation of a record, is a forgery and is
//! refused the same way. (Clocks are the author's claim: a revoked key whose holder backdates
//! its changes is stopped only by the verification of the members who relay them.)
//!
//! # Importing
//! Refused as a whole, with the file unchanged: more than [`MAX_BUNDLE_BYTES`] (counted while
//! reading; FIFOs and devices are refused), not age, not addressed to this identity, damaged
//! or cut short, a sender not in the keyring, not verified or revoked, a signature that does
//! not verify, this member not in the signed recipient list, a change whose form or value
//! breaks the rules of a local edit (types, codes, ranges, lengths, one-line names), a record
//! that would stand above this member's clearance or not releasable to this member's Member
//! State, a bundle from the same sender with the same id imported before ("already
//! imported"). A sequence number not newer than the last one from the same sender is flagged.
//! Changes more than ten minutes ahead are held back in `quarantine` and merged at the first
//! import once the clock has come within ten minutes of them (their author checked again); a
//! day ahead refuses the bundle. The rest is merged in one transaction: every new row is
//! logged as it came (with its signature), and each record touched is settled from its change
//! log: last writer wins per field by (clock, author), with tombstones, and **originator
//! control** for `classification` and `releasable_to` ([`crate::model::control`]): lowering a
//! level or widening releasability counts only when the record's originator signed it;
//! anyone else's such change stays a *proposal* for the originator (listed by `bundle
//! proposals`, accepted or rejected there). When two members set a field to different values,
//! the loser is kept in the conflict list. Applying the same bundles in any order, any number
//! of times, gives the same records.
//!
//! # What leaves
//! Every change of the records the recipients may see (or those after the last bundle to the
//! same recipients, by the change log's local order; or of chosen records), only rows that
//! carry their author's signature, and only of records at or below the lowest clearance among
//! the recipients, releasable to each recipient's Member State, and whose references all point
//! to records that may leave too. A record that may leave now but was once above that leaves
//! without its history: only the value standing for each field (with its own clock, author and
//! signature) and, for recipients who never had it, its creation row **with the value
//! withheld** (`value: null`, the digest and signature as signed), so its originator is known
//! and verifiable. When an originator lowers or widens a record, the values still standing
//! from its creation are logged again as their own changes, so that they can leave without the
//! creation row.

mod format;
pub mod merge;
pub mod verify;

pub use format::{
    BUNDLE_FORMAT, BUNDLE_VERSION, BundleBody, Change, Envelope, MAX_BUNDLE_BYTES, decrypt,
    envelope_for, open_bundle, read_envelope, seal, verify_and_parse,
};

/// Why a bundle could not be read or made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// Not an age file.
    #[error("not an age-encrypted bundle")]
    NotAge,
    /// Not encrypted to this identity.
    #[error("it is not addressed to you")]
    NotForYou,
    /// The age layer does not verify, or it is cut short.
    #[error("it is damaged or cut short (the encryption does not verify)")]
    Damaged,
    /// Larger than [`MAX_BUNDLE_BYTES`].
    #[error("larger than {} MiB", MAX_BUNDLE_BYTES >> 20)]
    TooLarge,
    /// A version 1 bundle.
    #[error(
        "it is a version 1 bundle (an older Observatory, without signed authorship): ask the sender to update Observatory and send it again"
    )]
    OldVersion,
    /// The layout or the body cannot be read.
    #[error("not a valid bundle: {0}")]
    Malformed(String),
    /// The sender's signature does not verify.
    #[error("the signature does not verify: altered, or not from this sender")]
    BadSignature,
    /// One change is malformed.
    #[error("change {index}: {why}")]
    BadChange {
        /// 1-based position.
        index: usize,
        /// Why.
        why: String,
    },
    /// Sealing failed.
    #[error("cannot seal the bundle: {0}")]
    Seal(String),
}

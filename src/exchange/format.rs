//! The bundle file: envelope, signed body, changes (see the module docs of [`crate::exchange`]
//! for the specification).

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::ExchangeError;
use crate::crypto::change::{ChangeId, value_sha256};

/// Format tag in the body.
pub const BUNDLE_FORMAT: &str = "observatory-bundle";
/// The version this build writes and reads.
pub const BUNDLE_VERSION: u32 = 2;
const FIRST_LINE: &str = "observatory-bundle v2";
const FIRST_LINE_V1: &str = "observatory-bundle v1";

/// Bundles larger than this are refused while they are read (512 MiB).
pub const MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

/// The signed body of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleBody {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// [`BUNDLE_VERSION`].
    pub version: u32,
    /// Bundle id (a UUID).
    pub bundle_id: String,
    /// Sender's member id (40 hex digits), as on the envelope.
    pub sender: String,
    /// Sender's name (as on the card).
    pub sender_name: String,
    /// Recipients' member ids.
    pub recipients: Vec<String>,
    /// Per-sender sequence number, from 1.
    pub sequence: u64,
    /// Sender's clock when it was made.
    pub created: String,
    /// Code of the highest classification it carries.
    pub classification: String,
    /// The changes.
    pub changes: Vec<Change>,
}

/// One change-log row with its author's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Record kind.
    pub record_kind: String,
    /// Record id.
    pub record_id: String,
    /// Field (`*` for a new record with all its values).
    pub field: String,
    /// The value's JSON text, exactly as signed; `None` when withheld (a creation sent without
    /// its values).
    pub value: Option<String>,
    /// Lower-case hex SHA-256 of the value's JSON text.
    pub value_sha256: String,
    /// Clock of the change.
    pub hlc: String,
    /// Author's member id.
    pub author: String,
    /// The author's Ed25519 signature over the change (base64; see [`crate::crypto::change`]).
    pub signature: String,
}

impl Change {
    /// What its author signed.
    #[must_use]
    pub fn id(&self) -> ChangeId<'_> {
        ChangeId {
            record_kind: &self.record_kind,
            record_id: &self.record_id,
            field: &self.field,
            hlc: &self.hlc,
            author: &self.author,
            value_sha256: &self.value_sha256,
        }
    }

    /// Whether the value (when carried) has the digest the signature covers.
    #[must_use]
    pub fn value_matches_digest(&self) -> bool {
        self.value
            .as_deref()
            .is_none_or(|v| value_sha256(v) == self.value_sha256)
    }

    /// The parsed value (`Null` when withheld or unreadable).
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        self.value
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or(serde_json::Value::Null)
    }
}

/// The envelope of a decrypted bundle, read without parsing the body.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// The sender's member id, as the envelope names it.
    pub sender: &'a str,
    /// The sender's signature over `body`.
    pub signature: Signature,
    /// The body bytes (what was signed).
    pub body: &'a [u8],
}

fn bad(what: &str) -> ExchangeError {
    ExchangeError::Malformed(what.to_owned())
}

/// Reads the envelope (the three header lines and the blank line), nothing more.
pub fn read_envelope(plain: &[u8]) -> Result<Envelope<'_>, ExchangeError> {
    let line = |from: usize| -> Result<(&str, usize), ExchangeError> {
        let rest = plain.get(from..).ok_or_else(|| bad("cut short"))?;
        let end = rest
            .iter()
            .take(512)
            .position(|b| *b == b'\n')
            .ok_or_else(|| bad("unknown layout"))?;
        let text = std::str::from_utf8(&rest[..end]).map_err(|_| bad("unknown layout"))?;
        Ok((text, from + end + 1))
    };
    let (first, next) = line(0)?;
    if first == FIRST_LINE_V1 {
        return Err(ExchangeError::OldVersion);
    }
    if first != FIRST_LINE {
        return Err(bad(
            "unknown layout (not an Observatory bundle of version 2)",
        ));
    }
    let (sender_line, next) = line(next)?;
    let sender = sender_line
        .strip_prefix("sender: ")
        .filter(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| bad("the sender line cannot be read"))?;
    let (signature_line, next) = line(next)?;
    let signature = signature_line
        .strip_prefix("signature: ")
        .and_then(crate::crypto::change::read_signature)
        .ok_or_else(|| bad("the signature line cannot be read"))?;
    let (blank, next) = line(next)?;
    if !blank.is_empty() {
        return Err(bad("no blank line after the header"));
    }
    Ok(Envelope {
        sender,
        signature,
        body: plain.get(next..).unwrap_or_default(),
    })
}

/// Verifies the envelope's signature over the raw body with the sender's key, and only then
/// parses the body strictly. The body must name the same sender.
pub fn verify_and_parse(
    envelope: &Envelope<'_>,
    sender_key: &VerifyingKey,
) -> Result<BundleBody, ExchangeError> {
    sender_key
        .verify_strict(envelope.body, &envelope.signature)
        .map_err(|_| ExchangeError::BadSignature)?;
    let body: BundleBody = serde_json::from_slice(envelope.body)
        .map_err(|e| ExchangeError::Malformed(format!("the body cannot be read: {e}")))?;
    if body.format != BUNDLE_FORMAT || body.version != BUNDLE_VERSION {
        return Err(bad("unknown format or version in the body"));
    }
    if body.sender != envelope.sender {
        return Err(bad("the body names another sender than the envelope"));
    }
    if uuid::Uuid::parse_str(&body.bundle_id).is_err() {
        return Err(bad("the bundle id is not a UUID"));
    }
    Ok(body)
}

/// Decrypts a bundle with one identity, reading at most [`MAX_BUNDLE_BYTES`] of plaintext.
pub fn decrypt(
    bytes: &[u8],
    identity: &age::x25519::Identity,
) -> Result<Zeroizing<Vec<u8>>, ExchangeError> {
    let decryptor = age::Decryptor::new_buffered(bytes).map_err(|_| ExchangeError::NotAge)?;
    let reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => ExchangeError::NotForYou,
            _ => ExchangeError::Damaged,
        })?;
    // Reserved up front (age plaintext is at most the ciphertext's size), so the buffer that
    // holds the plaintext is never reallocated and left unwiped.
    let mut plain = Zeroizing::new(Vec::with_capacity(bytes.len()));
    reader
        .take(MAX_BUNDLE_BYTES + 1)
        .read_to_end(&mut plain)
        .map_err(|_| ExchangeError::Damaged)?;
    if plain.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(ExchangeError::TooLarge);
    }
    Ok(plain)
}

/// Decrypts, reads the envelope, verifies it with `sender_key` and parses the body.
pub fn open_bundle(
    bytes: &[u8],
    identity: &age::x25519::Identity,
    sender_key: &VerifyingKey,
) -> Result<BundleBody, ExchangeError> {
    let plain = decrypt(bytes, identity)?;
    let envelope = read_envelope(&plain)?;
    verify_and_parse(&envelope, sender_key)
}

/// Signs and encrypts a body to the recipients (their age recipients, the sender's included).
pub fn seal(
    body: &BundleBody,
    key: &SigningKey,
    recipients: &[age::x25519::Recipient],
) -> Result<Vec<u8>, ExchangeError> {
    let failed = |e: String| ExchangeError::Seal(e);
    let json = Zeroizing::new(serde_json::to_vec(body).map_err(|e| failed(e.to_string()))?);
    let signature = key.sign(&json);
    let header = format!(
        "{FIRST_LINE}\nsender: {}\nsignature: {}\n\n",
        body.sender,
        base64::engine::general_purpose::STANDARD.encode(signature.to_bytes())
    );
    let mut plain = Zeroizing::new(Vec::with_capacity(header.len() + json.len()));
    plain.extend_from_slice(header.as_bytes());
    plain.extend_from_slice(&json);
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| failed(e.to_string()))?;
    let mut out = Vec::with_capacity(plain.len() + plain.len() / 4096 * 16 + 1024);
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| failed(e.to_string()))?;
    writer
        .write_all(&plain)
        .and_then(|()| writer.finish().map(|_| ()))
        .map_err(|e| failed(e.to_string()))?;
    Ok(out)
}

/// Signs an envelope over raw body bytes (for tests and the fuzz target).
#[doc(hidden)]
#[must_use]
pub fn envelope_for(sender: &str, body: &[u8], key: &SigningKey) -> Vec<u8> {
    let mut plain = format!(
        "{FIRST_LINE}\nsender: {sender}\nsignature: {}\n\n",
        base64::engine::general_purpose::STANDARD.encode(key.sign(body).to_bytes())
    )
    .into_bytes();
    plain.extend_from_slice(body);
    plain
}

//! The member identity and its passphrase-protected file.
//!
//! # Identity file format
//! A standard age identity file, encrypted to a passphrase (age scrypt recipient, work factor
//! `log_n` = [`DEFAULT_WORK_FACTOR`] unless chosen otherwise) and ASCII-armored
//! (`-----BEGIN AGE ENCRYPTED FILE-----`). Its plaintext is:
//! ```text
//! # Observatory identity v1
//! # name: Jane Doe
//! # member-state: FR
//! # clearance: SECRET
//! # created: 2026-11-29T10:00:00Z
//! # public key: age1...
//! AGE-SECRET-KEY-1...
//! ```
//! The `#` lines are comments for age; Observatory reads the profile from them. On read, a work
//! factor above [`MAX_WORK_FACTOR`] is refused before any key derivation, so a hostile file
//! cannot make the tool spend minutes or gigabytes.
//!
//! # Signing key
//! The Ed25519 signing key is HKDF-SHA256 (no salt, info `observatory/v1/ed25519-signing-key`)
//! over the UTF-8 bytes of the `AGE-SECRET-KEY-1...` line, expanded to 32 bytes, used as the
//! Ed25519 secret key (RFC 8032).

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use age::secrecy::ExposeSecret as _;
use ed25519_dalek::SigningKey;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::card::MemberCard;
use super::passphrase::Passphrase;
use crate::model::{Classification, country};

/// scrypt work factor for new identity files (2^18: about 256 MiB and a second).
pub const DEFAULT_WORK_FACTOR: u8 = 18;
/// Highest work factor accepted when reading (2^20: 1 GiB, a few seconds).
pub const MAX_WORK_FACTOR: u8 = 20;
/// Lowest work factor allowed when writing (for tests and slow machines only).
pub const MIN_WORK_FACTOR: u8 = 10;

const SIGNING_KEY_INFO: &[u8] = b"observatory/v1/ed25519-signing-key";
const HEADER_LINE: &str = "# Observatory identity v1";
/// Largest identity file read (it is a few hundred bytes).
const MAX_IDENTITY_FILE_BYTES: u64 = 64 * 1024;

/// Who a member is: shown on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Full name.
    pub name: String,
    /// Member State (ISO 3166-1 alpha-2), or `EU` for Commission staff.
    pub member_state: String,
    /// Security clearance.
    pub clearance: Classification,
}

impl Profile {
    /// Checks and normalises a profile typed by a user.
    pub fn new(
        name: &str,
        member_state: &str,
        clearance: Classification,
    ) -> Result<Self, IdentityError> {
        let name = name.trim();
        // One line for every reader: no control characters, and not the Unicode line and
        // paragraph separators either (some tools split lines there; the card format is
        // line-based and hashes the name as written).
        if name.is_empty()
            || name.chars().count() > 200
            || name
                .chars()
                .any(|c| c.is_control() || matches!(c, '#' | '\u{2028}' | '\u{2029}'))
        {
            return Err(IdentityError::InvalidProfile(
                "the name must be one line of 1-200 characters without '#' or control characters"
                    .into(),
            ));
        }
        let upper = member_state.trim().to_uppercase();
        let member_state = if upper == "EU" {
            upper
        } else {
            match country::normalise(&upper) {
                Some(code) if country::is_eu(&code) => code,
                _ => {
                    return Err(IdentityError::InvalidProfile(format!(
                        "{member_state:?} is not an EU Member State code (or EU for the Commission)"
                    )));
                }
            }
        };
        Ok(Profile {
            name: name.to_owned(),
            member_state,
            clearance,
        })
    }
}

/// A member's secret identity: the age key, the derived signing key and the profile.
pub struct Identity {
    age: age::x25519::Identity,
    signing: SigningKey,
    profile: Profile,
    created: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("card", &self.card())
            .finish_non_exhaustive()
    }
}

/// Why an identity could not be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The profile is not acceptable.
    #[error("invalid member profile: {0}")]
    InvalidProfile(String),
    /// A new identity must be protected by a passphrase.
    #[error("an empty passphrase is refused: choose a passphrase to protect the new identity")]
    EmptyPassphrase,
    /// The file could not be read.
    #[error("cannot read the identity file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write the identity file {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Refusing to overwrite an existing identity.
    #[error("{path} already exists: choose another file name (an identity is never overwritten)")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// Not an age file at all.
    #[error("{path} is not an identity file (not an age-encrypted file)")]
    NotAnIdentityFile {
        /// The file.
        path: PathBuf,
    },
    /// An age file, but not passphrase-protected.
    #[error(
        "{path} is not protected by a passphrase: Observatory only uses identity files encrypted with `age -p`"
    )]
    NotPassphraseProtected {
        /// The file.
        path: PathBuf,
    },
    /// The passphrase does not open the identity.
    #[error("wrong passphrase for the identity file {path}")]
    WrongPassphrase {
        /// The file.
        path: PathBuf,
    },
    /// The file asks for too much scrypt work.
    #[error(
        "the identity file {path} demands an scrypt work factor of 2^{required}, above the limit 2^{max}: refused without trying (it could take minutes and gigabytes)"
    )]
    ExcessiveWork {
        /// The file.
        path: PathBuf,
        /// What the file asks for.
        required: u8,
        /// The limit.
        max: u8,
    },
    /// The decrypted content is not an age identity.
    #[error("{path} decrypts, but holds no AGE-SECRET-KEY-1 line: it is not an identity file")]
    NoSecretKey {
        /// The file.
        path: PathBuf,
    },
    /// The work factor asked for is out of range.
    #[error("work factor must be between {MIN_WORK_FACTOR} and {MAX_WORK_FACTOR}")]
    WorkFactor,
    /// age failed to encrypt.
    #[error("encryption failed: {0}")]
    Encrypt(String),
}

impl Identity {
    /// Makes a new random identity.
    #[must_use]
    pub fn generate(profile: Profile) -> Self {
        let age = age::x25519::Identity::generate();
        let signing = derive_signing_key(&age);
        let created = now_rfc3339();
        Identity {
            age,
            signing,
            profile,
            created,
        }
    }

    /// The same keys with another profile (a changed clearance, say): its card has the same
    /// key id and a new card fingerprint, which the other members verify again.
    #[must_use]
    pub fn with_profile(self, profile: Profile) -> Self {
        Identity { profile, ..self }
    }

    /// The member's profile.
    #[must_use]
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The age recipient that files for this member are encrypted to.
    #[must_use]
    pub fn recipient(&self) -> age::x25519::Recipient {
        self.age.to_public()
    }

    /// The age identity that decrypts them.
    #[must_use]
    pub fn age_identity(&self) -> &age::x25519::Identity {
        &self.age
    }

    /// The Ed25519 signing key.
    #[must_use]
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The public card of this member: a version 2 card, signed with this identity's key (the
    /// same text every time: Ed25519 signatures are deterministic).
    #[must_use]
    pub fn card(&self) -> MemberCard {
        MemberCard::signed(
            self.profile.clone(),
            self.recipient().to_string(),
            &self.signing,
        )
    }

    /// The identity file's plaintext (see the module docs).
    fn plaintext(&self) -> Zeroizing<String> {
        let secret = self.age.to_string();
        Zeroizing::new(format!(
            "{HEADER_LINE}\n# name: {}\n# member-state: {}\n# clearance: {}\n# created: {}\n# public key: {}\n{}\n",
            self.profile.name,
            self.profile.member_state,
            self.profile.clearance.code(),
            self.created,
            self.recipient(),
            secret.expose_secret()
        ))
    }

    /// Writes the identity, encrypted with `passphrase`, to a new file (mode 0600). An
    /// existing file is never overwritten.
    pub fn write_new_file(
        &self,
        path: &Path,
        passphrase: &Passphrase,
        work_factor: u8,
    ) -> Result<(), IdentityError> {
        if !(MIN_WORK_FACTOR..=MAX_WORK_FACTOR).contains(&work_factor) {
            return Err(IdentityError::WorkFactor);
        }
        if passphrase.is_empty() {
            return Err(IdentityError::EmptyPassphrase);
        }
        let mut recipient = age::scrypt::Recipient::new(passphrase.secret());
        recipient.set_work_factor(work_factor);
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|e| IdentityError::Encrypt(e.to_string()))?;
        let mut armored = Vec::new();
        {
            let writer = age::armor::ArmoredWriter::wrap_output(
                &mut armored,
                age::armor::Format::AsciiArmor,
            )
            .map_err(|e| IdentityError::Encrypt(e.to_string()))?;
            let mut stream = encryptor
                .wrap_output(writer)
                .map_err(|e| IdentityError::Encrypt(e.to_string()))?;
            stream
                .write_all(self.plaintext().as_bytes())
                .and_then(|()| stream.finish())
                .and_then(age::armor::ArmoredWriter::finish)
                .map_err(|e| IdentityError::Encrypt(e.to_string()))?;
        }
        let write_err = |source| IdentityError::Write {
            path: path.to_owned(),
            source,
        };
        let mut file = crate::fsutil::create_private_file(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                IdentityError::Exists {
                    path: path.to_owned(),
                }
            } else {
                write_err(source)
            }
        })?;
        let written = file.write_all(&armored).and_then(|()| file.sync_all());
        if let Err(source) = written {
            drop(file);
            let _ = fs::remove_file(path);
            return Err(write_err(source));
        }
        Ok(())
    }

    /// Reads and decrypts an identity file.
    pub fn read_file(path: &Path, passphrase: &Passphrase) -> Result<Self, IdentityError> {
        let read_err = |source| IdentityError::Read {
            path: path.to_owned(),
            source,
        };
        // Bounded while reading; a FIFO or a device is refused unread.
        let bytes = zeroize::Zeroizing::new(
            crate::fsutil::read_bounded(path, MAX_IDENTITY_FILE_BYTES).map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound
                    || source.kind() == std::io::ErrorKind::PermissionDenied
                {
                    read_err(source)
                } else {
                    IdentityError::NotAnIdentityFile {
                        path: path.to_owned(),
                    }
                }
            })?,
        );
        let not_identity = || IdentityError::NotAnIdentityFile {
            path: path.to_owned(),
        };
        let reader = age::armor::ArmoredReader::new(bytes.as_slice());
        let decryptor = age::Decryptor::new(reader).map_err(|_| not_identity())?;
        if !decryptor.is_scrypt() {
            return Err(IdentityError::NotPassphraseProtected {
                path: path.to_owned(),
            });
        }
        let mut scrypt = age::scrypt::Identity::new(passphrase.secret());
        scrypt.set_max_work_factor(MAX_WORK_FACTOR);
        let mut stream = decryptor
            .decrypt(std::iter::once(&scrypt as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::ExcessiveWork { required, .. } => IdentityError::ExcessiveWork {
                    path: path.to_owned(),
                    required,
                    max: MAX_WORK_FACTOR,
                },
                age::DecryptError::DecryptionFailed
                | age::DecryptError::KeyDecryptionFailed
                | age::DecryptError::NoMatchingKeys => IdentityError::WrongPassphrase {
                    path: path.to_owned(),
                },
                _ => not_identity(),
            })?;
        // Reserved up front (the plaintext is smaller than the armored file), and never read
        // past that: the buffer is not reallocated, so no unwiped copy of the secret is freed.
        let mut plaintext = Zeroizing::new(Vec::with_capacity(bytes.len()));
        (&mut stream)
            .take(bytes.len() as u64)
            .read_to_end(&mut plaintext)
            .map_err(|_| not_identity())?;
        let text = std::str::from_utf8(&plaintext).map_err(|_| not_identity())?;
        Self::parse(text).ok_or_else(|| IdentityError::NoSecretKey {
            path: path.to_owned(),
        })
    }

    fn parse(text: &str) -> Option<Self> {
        let mut name = None;
        let mut member_state = None;
        let mut clearance = Classification::Unclassified;
        let mut created = String::new();
        let mut age = None;
        for line in text.lines().map(str::trim) {
            if let Some(comment) = line.strip_prefix('#') {
                let Some((key, value)) = comment.trim().split_once(':') else {
                    continue;
                };
                let value = value.trim();
                match key.trim() {
                    "name" => name = Some(value.to_owned()),
                    "member-state" => member_state = Some(value.to_owned()),
                    "clearance" => clearance = value.parse().unwrap_or_default(),
                    "created" => value.clone_into(&mut created),
                    _ => {}
                }
            } else if line.starts_with("AGE-SECRET-KEY-1") {
                age = age::x25519::Identity::from_str(line).ok();
            }
        }
        let age = age?;
        let signing = derive_signing_key(&age);
        let profile = Profile {
            name: name.unwrap_or_else(|| "(unnamed)".to_owned()),
            member_state: member_state.unwrap_or_else(|| "EU".to_owned()),
            clearance,
        };
        Some(Identity {
            age,
            signing,
            profile,
            created,
        })
    }
}

fn derive_signing_key(age: &age::x25519::Identity) -> SigningKey {
    let secret = age.to_string();
    let hkdf = Hkdf::<Sha256>::new(None, secret.expose_secret().as_bytes());
    let mut okm = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail; a zero key
    // would still be refused by every verifier, never silently accepted.
    if hkdf.expand(SIGNING_KEY_INFO, okm.as_mut()).is_err() {
        okm.fill(0);
    }
    SigningKey::from_bytes(&okm)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_file_round_trip_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("me.identity");
        let profile = Profile::new("Jane Doe", "fr", Classification::Secret).unwrap();
        let identity = Identity::generate(profile);
        let pass = Passphrase::new("correct horse");
        identity
            .write_new_file(&path, &pass, MIN_WORK_FACTOR)
            .unwrap();
        assert!(matches!(
            identity.write_new_file(&path, &pass, MIN_WORK_FACTOR),
            Err(IdentityError::Exists { .. })
        ));
        let back = Identity::read_file(&path, &pass).unwrap();
        assert_eq!(back.card(), identity.card());
        assert_eq!(back.profile().member_state, "FR");
        assert!(matches!(
            Identity::read_file(&path, &Passphrase::new("wrong")),
            Err(IdentityError::WrongPassphrase { .. })
        ));
        assert!(Profile::new("x", "US", Classification::Secret).is_err());
        assert!(Profile::new("a\nb", "FR", Classification::Secret).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}

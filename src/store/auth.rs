//! The file authenticator: the owner's Ed25519 signature over the database image, carried in
//! the age header as a stanza that age itself ignores (see the module docs of [`crate::store`],
//! "Authenticator").
//!
//! Every member holds the owner's public age recipient, so anyone can *encrypt* a file to the
//! owner. Only the owner's identity can *sign* it: a file decrypted, changed and encrypted again
//! by anyone else (or a backup swapped for such a file) does not verify and is refused.

use std::cell::RefCell;
use std::io::Read;

use age_core::format::{FileKey, Stanza};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rusqlite::Connection;
use sha2::{Digest as _, Sha256};

/// The stanza's tag (`-> observatory-auth v1 <key> ...`).
pub const STANZA_TAG: &str = "observatory-auth";
/// The stanza's version argument.
const VERSION: &str = "v1";
/// What is signed starts with this line.
const CONTEXT: &[u8] = b"observatory-file v1\n";

/// The message the owner signs: `observatory-file v1\n`, the owner's 32-byte Ed25519 public
/// key, and the 32-byte SHA-256 of the database image (72 bytes in all).
#[must_use]
pub fn message(owner: &VerifyingKey, image_sha256: &[u8; 32]) -> Vec<u8> {
    let mut message = Vec::with_capacity(CONTEXT.len() + 64);
    message.extend_from_slice(CONTEXT);
    message.extend_from_slice(owner.as_bytes());
    message.extend_from_slice(image_sha256);
    message
}

/// SHA-256 of a database image.
#[must_use]
pub fn image_sha256(image: &[u8]) -> [u8; 32] {
    Sha256::digest(image).into()
}

/// A pseudo-recipient that adds the authenticator stanza to the header. It wraps nothing: the
/// stanza carries no file key, so age (and every other implementation) skips it.
pub struct AuthStanza {
    stanza: Found,
}

/// An authenticator stanza as read from (or written to) a header: its arguments and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The arguments after the tag.
    pub args: Vec<String>,
    /// The body (the signature).
    pub body: Vec<u8>,
}

impl AuthStanza {
    /// The stanza for an image signed by `key`.
    #[must_use]
    pub fn new(key: &SigningKey, image: &[u8]) -> Self {
        let owner = key.verifying_key();
        let signature = key.sign(&message(&owner, &image_sha256(image)));
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
        AuthStanza {
            stanza: Found {
                args: vec![
                    VERSION.to_owned(),
                    base64::Engine::encode(&b64, owner.as_bytes()),
                ],
                body: signature.to_bytes().to_vec(),
            },
        }
    }
}

impl age::Recipient for AuthStanza {
    fn wrap_file_key(
        &self,
        _file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, std::collections::HashSet<String>), age::EncryptError> {
        let stanza = Stanza {
            tag: STANZA_TAG.to_owned(),
            args: self.stanza.args.clone(),
            body: self.stanza.body.clone(),
        };
        Ok((vec![stanza], std::collections::HashSet::new()))
    }
}

/// An identity that decrypts with the owner's X25519 identity and keeps the authenticator
/// stanzas it sees in the header.
pub struct Capture<'a> {
    inner: &'a age::x25519::Identity,
    found: RefCell<Vec<Found>>,
}

impl<'a> Capture<'a> {
    /// Wraps the owner's identity.
    #[must_use]
    pub fn new(inner: &'a age::x25519::Identity) -> Self {
        Capture {
            inner,
            found: RefCell::new(Vec::new()),
        }
    }

    /// The authenticator stanzas of the header read.
    #[must_use]
    pub fn stanzas(&self) -> Vec<Found> {
        self.found.borrow().clone()
    }
}

impl age::Identity for Capture<'_> {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        age::Identity::unwrap_stanza(self.inner, stanza)
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        self.found
            .borrow_mut()
            .extend(
                stanzas
                    .iter()
                    .filter(|s| s.tag == STANZA_TAG)
                    .map(|s| Found {
                        args: s.args.clone(),
                        body: s.body.clone(),
                    }),
            );
        age::Identity::unwrap_stanzas(self.inner, stanzas)
    }
}

/// A reader that hashes what passes through it (the image, on its way into SQLite).
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R> Hashing<R> {
    /// Wraps a reader.
    pub fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The SHA-256 of everything read.
    #[must_use]
    pub fn finish(self) -> [u8; 32] {
        self.hasher.finalize().into()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(read) = buf.get(..n) {
            self.hasher.update(read);
        }
        Ok(n)
    }
}

/// What the header's authenticator says about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by the owner over exactly this image.
    Authentic,
    /// No authenticator at all (a file saved before authenticators, or one made by hand).
    Missing,
    /// An authenticator that does not hold: why.
    Forged(String),
}

/// Checks the authenticator stanzas against the owner's key and the image's SHA-256.
#[must_use]
pub fn verdict(stanzas: &[Found], owner: &VerifyingKey, image_sha256: &[u8; 32]) -> Verdict {
    let stanza = match stanzas {
        [] => return Verdict::Missing,
        [one] => one,
        _ => return Verdict::Forged("its header carries more than one authenticator".to_owned()),
    };
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let [version, key] = stanza.args.as_slice() else {
        return Verdict::Forged("its authenticator is malformed".to_owned());
    };
    if version != VERSION {
        return Verdict::Forged(format!(
            "its authenticator has an unknown version {version}"
        ));
    }
    let key_bytes = base64::Engine::decode(&b64, key).unwrap_or_default();
    if key_bytes.as_slice() != owner.as_bytes() {
        return Verdict::Forged(
            "it was signed by another identity than the one opening it".to_owned(),
        );
    }
    let Ok(signature) = Signature::from_slice(&stanza.body) else {
        return Verdict::Forged("its authenticator is malformed".to_owned());
    };
    match owner.verify_strict(&message(owner, image_sha256), &signature) {
        Ok(()) => Verdict::Authentic,
        Err(_) => Verdict::Forged(
            "its content is not what its owner signed: it was changed after the last save by its owner"
                .to_owned(),
        ),
    }
}

/// The triggers and views of a database: name and SQL text (whitespace collapsed).
pub fn code(conn: &Connection) -> Result<Vec<(String, String)>, rusqlite::Error> {
    let mut found: Vec<(String, String)> = conn
        .prepare("SELECT type || ' ' || name, coalesce(sql, '') FROM sqlite_master WHERE type IN ('trigger', 'view')")?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<_, _>>()?;
    for (_, sql) in &mut found {
        *sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    found.sort();
    Ok(found)
}

/// The first trigger or view of `conn` that is not, word for word, one that Observatory makes
/// (`expected`): another program's code would run on our writes (triggers) or disguise data
/// (views).
pub fn foreign_code(
    conn: &Connection,
    expected: &[(String, String)],
) -> Result<Option<String>, rusqlite::Error> {
    Ok(code(conn)?
        .into_iter()
        .find(|object| !expected.contains(object))
        .map(|(name, _)| name))
}

/// The schema as a sorted list of lines: every table, index, view and trigger by type and
/// name, and every table's columns (name, declared type, not null, primary key). SQLite's own
/// tables (`sqlite_%`) are left out.
pub fn schema_outline(conn: &Connection) -> Result<Vec<String>, rusqlite::Error> {
    let mut objects: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    objects.sort();
    let mut lines = Vec::with_capacity(objects.len() * 8);
    for (kind, name, table) in &objects {
        lines.push(format!("{kind} {name} on {table}"));
        if kind == "table" {
            let mut stmt =
                conn.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_xinfo(?1)")?;
            let mut columns: Vec<String> = stmt
                .query_map([name], |r| {
                    Ok(format!(
                        "column {name}.{} {} notnull={} pk={}",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?.to_ascii_uppercase(),
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?
                    ))
                })?
                .collect::<Result<_, _>>()?;
            columns.sort();
            lines.extend(columns);
        }
    }
    Ok(lines)
}

/// The first difference between two schema outlines, as a phrase.
#[must_use]
pub fn first_difference(found: &[String], expected: &[String]) -> Option<String> {
    let found_set: std::collections::BTreeSet<&String> = found.iter().collect();
    let expected_set: std::collections::BTreeSet<&String> = expected.iter().collect();
    // Whole objects first: a foreign table is named as such, not by its first column.
    let first = |mut lines: Vec<&&String>| {
        lines.sort_by_key(|l| (l.starts_with("column "), String::clone(l)));
        lines.first().map(|l| (**l).clone())
    };
    if let Some(extra) = first(found_set.difference(&expected_set).collect()) {
        return Some(format!("it has a foreign {extra}"));
    }
    first(expected_set.difference(&found_set).collect())
        .map(|missing| format!("it lacks {missing}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_image_and_key_only() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let image = b"SQLite format 3\0 and so on".to_vec();
        let stanza = AuthStanza::new(&key, &image).stanza;
        let owner = key.verifying_key();
        assert_eq!(
            verdict(std::slice::from_ref(&stanza), &owner, &image_sha256(&image)),
            Verdict::Authentic
        );
        let mut changed = image.clone();
        changed[3] ^= 1;
        assert!(matches!(
            verdict(
                std::slice::from_ref(&stanza),
                &owner,
                &image_sha256(&changed)
            ),
            Verdict::Forged(_)
        ));
        assert!(matches!(
            verdict(
                std::slice::from_ref(&stanza),
                &other.verifying_key(),
                &image_sha256(&image)
            ),
            Verdict::Forged(_)
        ));
        assert_eq!(
            verdict(&[], &owner, &image_sha256(&image)),
            Verdict::Missing
        );
        assert!(matches!(
            verdict(&[stanza.clone(), stanza], &owner, &image_sha256(&image)),
            Verdict::Forged(_)
        ));
        // Independent check of the message layout: 20 + 32 + 32 bytes.
        let m = message(&owner, &[1; 32]);
        assert_eq!(m.len(), 84);
        assert_eq!(&m[..20], b"observatory-file v1\n");
    }
}

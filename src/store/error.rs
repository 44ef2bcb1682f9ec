//! Errors of the store: each says what happened and what to do, paths last, secrets never.

use std::path::PathBuf;

use crate::model::Kind;

/// Why opening, saving or changing the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No file at that path.
    #[error("no observatory file at {path}: check the path, or create one with `observatory init`")]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// `init` on an existing file.
    #[error(
        "{path} already exists: choose another name (an observatory file is never overwritten by init)"
    )]
    AlreadyExists {
        /// The path.
        path: PathBuf,
    },
    /// Not an age file, or an age file holding something else.
    #[error("{path} is not an observatory file ({detail})")]
    NotObservatory {
        /// The path.
        path: PathBuf,
        /// What it looks like instead.
        detail: String,
    },
    /// Our identity is not among the file's recipients.
    #[error(
        "this identity cannot open {path}: the file is encrypted for another member's identity (use the identity it was created with)"
    )]
    NotARecipient {
        /// The path.
        path: PathBuf,
    },
    /// Truncated or damaged.
    #[error(
        "{path} is damaged or truncated ({detail}): nothing was changed; open the newest backup beside it ({backups})"
    )]
    Corrupted {
        /// The path.
        path: PathBuf,
        /// What failed.
        detail: String,
        /// Backup file names found, or "none found".
        backups: String,
    },
    /// Made or changed by someone other than its owner: its authenticator does not hold.
    #[error(
        "{path} was not saved by its owner's identity ({detail}): it was not opened and is left as it is; it may have been replaced or tampered with, so report it to your security officer; {backups}"
    )]
    NotAuthentic {
        /// The path.
        path: PathBuf,
        /// What does not hold.
        detail: String,
        /// Which backups beside it verify.
        backups: String,
    },
    /// No authenticator: saved before authenticators existed, or made by hand.
    #[error(
        "{path} has no authenticator: it was saved by an Observatory from before file authenticators (schema 12 or older), or someone else made it; it was not opened. If you saved it yourself with an older version, run `observatory authenticate FILE` (or choose \"I saved it myself\" in the app) once to sign it; {backups}"
    )]
    Unauthenticated {
        /// The path.
        path: PathBuf,
        /// Which backups beside it verify.
        backups: String,
    },
    /// Written by a newer version.
    #[error(
        "{path} uses schema version {found}, newer than this Observatory supports ({supported}): update Observatory to open it"
    )]
    NewerSchema {
        /// The path.
        path: PathBuf,
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// Another process holds the lock.
    #[error(
        "{path} is open in another Observatory ({holder}): close it there first, or open this file read-only"
    )]
    Locked {
        /// The path.
        path: PathBuf,
        /// Who holds it (pid and host), as far as known.
        holder: String,
    },
    /// The file was changed by something else since it was opened.
    #[error(
        "{path} was changed on disk by another program since it was opened: not overwritten; your changes are still in memory (save them under another name or reopen)"
    )]
    ChangedOnDisk {
        /// The path.
        path: PathBuf,
    },
    /// Opened read-only.
    #[error("{path} is open read-only: changes cannot be saved")]
    ReadOnly {
        /// The path.
        path: PathBuf,
    },
    /// The disk is full.
    #[error(
        "the disk is full while saving {path}: the file on disk is unchanged and your data is still in memory; free some space and save again"
    )]
    DiskFull {
        /// The path.
        path: PathBuf,
    },
    /// Any other I/O failure.
    #[error("cannot {action} {path}: {source}; the file on disk is unchanged")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file written does not read back identically.
    #[error(
        "saving {path} failed: what was written does not read back identically (faulty medium?); the file on disk is unchanged"
    )]
    VerifyFailed {
        /// The path.
        path: PathBuf,
    },
    /// Encryption failed.
    #[error("encryption failed: {0}")]
    Encrypt(String),
    /// No such record.
    #[error("no {kind} with id {id}")]
    UnknownRecord {
        /// Kind.
        kind: Kind,
        /// Id looked for.
        id: String,
    },
    /// A reference to a record that does not exist (or is of the wrong kind).
    #[error("{kind}.{field}: {id} is not {expected}")]
    BrokenReference {
        /// Kind of the record holding the reference.
        kind: Kind,
        /// Field.
        field: &'static str,
        /// Id referenced.
        id: String,
        /// What was expected.
        expected: String,
    },
    /// A record with that id exists already.
    #[error("a record with id {id} exists already")]
    DuplicateId {
        /// The id.
        id: String,
    },
    /// A batch of changes was refused as a whole (the transaction was rolled back).
    #[error("{} problem(s):\n{}", .problems.len(), .problems.join("\n"))]
    Rejected {
        /// One line per problem.
        problems: Vec<String>,
    },
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Built-in reference data is broken (a build defect).
    #[error(transparent)]
    Reference(#[from] crate::model::reference::ReferenceError),
}

impl StoreError {
    /// An I/O error, with "disk full" told apart.
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::StorageFull || source.raw_os_error() == Some(28) {
            StoreError::DiskFull {
                path: path.to_owned(),
            }
        } else {
            StoreError::Io {
                action,
                path: path.to_owned(),
                source,
            }
        }
    }
}

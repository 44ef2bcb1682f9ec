//! Errors of the operations the CLI and GUI share.

use crate::crypto::{IdentityError, PassphraseError};
use crate::model::{FieldError, Kind};
use crate::store::StoreError;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The store failed (open, save, query).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The identity could not be used.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The passphrase could not be read.
    #[error(transparent)]
    Passphrase(#[from] PassphraseError),
    /// A value was refused.
    #[error("{kind}: {source}")]
    Field {
        /// Record kind.
        kind: Kind,
        /// What is wrong.
        source: FieldError,
    },
    /// Input (JSON, CSV, flags) that cannot be used; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// An import with problems; nothing was imported.
    #[error("{} problem(s) in {what}, nothing was imported:\n{}", .problems.len(), .problems.join("\n"))]
    ImportRejected {
        /// What was being imported.
        what: String,
        /// One line per problem, with its position.
        problems: Vec<String>,
    },
    /// A change was attempted while the register is viewed as of a past date.
    #[error("the register is shown as it stood on {0}: return to today to make changes")]
    ViewingPast(String),
    /// No member of the keyring has that name or fingerprint.
    #[error("no member {0:?} in the keyring: see `observatory member list`")]
    NoMember(String),
    /// No edition has that id or title.
    #[error("no edition {0:?}: see `observatory edition list`")]
    NoEdition(String),
    /// An export file could not be written.
    #[error("cannot write {path}: {source}")]
    Export {
        /// The path.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

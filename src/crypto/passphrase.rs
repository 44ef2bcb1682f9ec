//! Passphrases: held in zeroizing memory, read from a file or the terminal.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use age::secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// A passphrase in memory that is wiped when dropped.
pub struct Passphrase(SecretString);

impl Passphrase {
    /// Wraps a passphrase.
    #[must_use]
    pub fn new(text: &str) -> Self {
        Passphrase(SecretString::from(text.to_owned()))
    }

    /// The age secret wrapper for it.
    #[must_use]
    pub fn secret(&self) -> SecretString {
        SecretString::from(self.0.expose_secret().to_owned())
    }

    /// Whether it is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.expose_secret().is_empty()
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(<hidden>)")
    }
}

/// A passphrase that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PassphraseError {
    /// The passphrase file could not be read.
    #[error("cannot read the passphrase file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The passphrase file is empty.
    #[error("the passphrase file {path} is empty: write the passphrase on its first line")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The passphrase file is not UTF-8 text.
    #[error("the passphrase file {path} is not UTF-8 text")]
    NotText {
        /// The file.
        path: PathBuf,
    },
}

/// The longest passphrase file read.
const MAX_PASSPHRASE_FILE_BYTES: usize = 4096;

/// Reads a passphrase from the first line of a file (the line end is not part of it).
pub fn read_passphrase_file(path: &Path) -> Result<Passphrase, PassphraseError> {
    // Reserved up front and read no further: the buffer is never reallocated, so no unwiped
    // copy of the passphrase is freed. A passphrase file longer than that is refused.
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_PASSPHRASE_FILE_BYTES + 1));
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(MAX_PASSPHRASE_FILE_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .and_then(|n| {
            if n > MAX_PASSPHRASE_FILE_BYTES {
                Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "longer than 4 KiB: not a passphrase file",
                ))
            } else {
                Ok(n)
            }
        })
        .map_err(|source| PassphraseError::File {
            path: path.to_owned(),
            source,
        })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| PassphraseError::NotText {
        path: path.to_owned(),
    })?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(PassphraseError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(Passphrase::new(line))
}

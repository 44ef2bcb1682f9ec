//! Opening, locking and saving the encrypted observatory file.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::{Connection, MAIN_DB};

use super::auth;
use super::error::StoreError;
use super::schema;
use crate::fsutil;

/// Whether a file without an authenticator may be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Only a file its owner signed (the default).
    Authenticated,
    /// Also a file saved before authenticators existed (schema 12 or older), on the owner's
    /// word that they saved it themselves: the next save signs it.
    AllowUnauthenticated,
}

/// Number of previous generations kept beside the file.
pub const BACKUP_GENERATIONS: u32 = 3;

/// How a file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Take the writer's lock; fail if another process holds it.
    ReadWrite,
    /// No lock, never saved (a second instance looking at the file).
    ReadOnly,
}

/// What identifies the file's content on disk without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DiskStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    /// Unix only; Windows compares the length and the modification time.
    #[cfg(unix)]
    dev_ino_ctime: (u64, u64, i64, i64),
}

impl DiskStamp {
    fn of(path: &Path) -> std::io::Result<Self> {
        let meta = fs::metadata(path)?;
        Ok(DiskStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            dev_ino_ctime: {
                use std::os::unix::fs::MetadataExt as _;
                (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
            },
        })
    }
}

/// Whether the file is still what was opened or last saved (`None`: never written, so it
/// must not exist).
fn unchanged_on_disk(path: &Path, expected: Option<&DiskStamp>) -> bool {
    match expected {
        None => !path.exists(),
        Some(stamp) => DiskStamp::of(path).is_ok_and(|now| &now == stamp),
    }
}

/// The writer's lock beside the file; released when dropped.
#[derive(Debug)]
struct WriterLock {
    _file: File,
}

/// An open observatory: the in-memory database and where it is saved.
pub struct Store {
    pub(in crate::store) conn: Connection,
    path: PathBuf,
    recipient: age::x25519::Recipient,
    mode: OpenMode,
    stamp: Option<DiskStamp>,
    lock: Option<WriterLock>,
    fail_after_bytes: Option<u64>,
    /// SQLite's change counter when what is on disk was serialized (None: never saved).
    saved_mark: Option<u64>,
    /// The counter captured by a save that is being written.
    pending_mark: Option<u64>,
    /// Wall clock (ms) that writes use instead of the system's: only for building the demo's
    /// simulated history.
    pub(super) simulated_now_ms: Option<u64>,
    /// The owner's signing key: every change-log row the owner writes is signed with it, and
    /// every save's authenticator.
    pub(in crate::store) signing_key: Option<ed25519_dalek::SigningKey>,
    /// Opened without an authenticator, on the owner's word ([`Trust::AllowUnauthenticated`]).
    opened_unauthenticated: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `NAME.lock` beside `NAME`.
fn lock_path(path: &Path) -> PathBuf {
    fsutil::parent_dir(path).join(format!("{}.lock", file_name(path)))
}

fn temp_prefix(path: &Path) -> String {
    format!(".{}.tmp-", file_name(path))
}

/// `NAME.bakN` beside `NAME`.
#[must_use]
pub fn backup_path(path: &Path, generation: u32) -> PathBuf {
    fsutil::parent_dir(path).join(format!("{}.bak{generation}", file_name(path)))
}

fn existing_backups(path: &Path) -> String {
    let found: Vec<String> = (1..=BACKUP_GENERATIONS)
        .map(|g| backup_path(path, g))
        .filter(|p| p.exists())
        .map(|p| file_name(&p))
        .collect();
    if found.is_empty() {
        "none found".to_owned()
    } else {
        found.join(", ")
    }
}

/// A fresh in-memory connection with the settings that keep plaintext off the disk.
pub(super) fn secure_connection() -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_in_memory()?;
    apply_pragmas(&conn)?;
    Ok(conn)
}

fn apply_pragmas(conn: &Connection) -> Result<(), rusqlite::Error> {
    // Every kind has its own statements: keep them all prepared (rusqlite keeps 16).
    conn.set_prepared_statement_cache_capacity(256);
    conn.execute_batch(
        "PRAGMA temp_store = MEMORY;
         PRAGMA secure_delete = ON;
         PRAGMA trusted_schema = OFF;
         PRAGMA journal_mode = MEMORY;
         PRAGMA foreign_keys = OFF;",
    )
}

fn acquire_lock(path: &Path) -> Result<WriterLock, StoreError> {
    let lock_path = lock_path(path);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Never through a symbolic link planted where the lock file goes (it would make us
        // truncate and write to whatever it points at).
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    // Windows: the lock file inherits the folder's ACL; a link planted there is refused by the
    // regular-file check below (and making one needs a privilege). The lock itself is
    // `File::try_lock` on both (`flock` / `LockFileEx`).
    let mut file = options.open(&lock_path).map_err(|e| {
        let symlink = fs::symlink_metadata(&lock_path).is_ok_and(|m| m.file_type().is_symlink());
        if symlink {
            StoreError::io(
                "use the lock file, which is a symbolic link (remove it),",
                &lock_path,
                e,
            )
        } else {
            StoreError::io("create the lock file", &lock_path, e)
        }
    })?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(StoreError::io(
            "use the lock file, which is not a regular file (remove it),",
            &lock_path,
            std::io::Error::other("not a regular file"),
        ));
    }
    // A lock released a moment ago can still be held by a process forked in between (the
    // descriptor lives until that child's exec): try a few times over a quarter second.
    let mut attempt = 0;
    let locked = loop {
        match file.try_lock() {
            Err(fs::TryLockError::WouldBlock) if attempt < 5 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => break other,
        }
    };
    match locked {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(StoreError::Locked {
                path: path.to_owned(),
                holder: if holder.is_empty() {
                    "unknown process".to_owned()
                } else {
                    holder.to_owned()
                },
            });
        }
        Err(fs::TryLockError::Error(e)) => return Err(StoreError::io("lock", &lock_path, e)),
    }
    let host = fs::read_to_string("/etc/hostname").unwrap_or_default();
    let info = format!("pid {} on {}", std::process::id(), host.trim());
    let _ = file
        .set_len(0)
        .and_then(|()| file.write_all(info.as_bytes()));
    Ok(WriterLock { _file: file })
}

fn remove_stale_temp_files(path: &Path) {
    let prefix = temp_prefix(path);
    let Ok(entries) = fs::read_dir(fsutil::parent_dir(path)) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

impl Store {
    /// Creates a new observatory in memory, to be saved at `path` (which must not exist),
    /// encrypted to `recipient`, with the schema and reference data. Nothing is written until
    /// the first [`Store::save`].
    pub fn create(
        path: &Path,
        recipient: age::x25519::Recipient,
        owner: &ed25519_dalek::SigningKey,
        author: &str,
    ) -> Result<Store, StoreError> {
        if path.exists() {
            return Err(StoreError::AlreadyExists {
                path: path.to_owned(),
            });
        }
        let lock = acquire_lock(path)?;
        let mut conn = secure_connection()?;
        schema::create(&mut conn, author)?;
        Ok(Store {
            conn,
            path: path.to_owned(),
            recipient,
            mode: OpenMode::ReadWrite,
            stamp: None,
            lock: Some(lock),
            fail_after_bytes: None,
            saved_mark: None,
            pending_mark: None,
            simulated_now_ms: None,
            signing_key: Some(owner.clone()),
            opened_unauthenticated: false,
        })
    }

    /// Opens and decrypts an observatory file into memory. The file must carry its owner's
    /// authenticator (see the module docs), unless `trust` allows a file saved before
    /// authenticators; the schema must be exactly the expected one.
    pub fn open(
        path: &Path,
        identity: &age::x25519::Identity,
        owner: &ed25519_dalek::SigningKey,
        mode: OpenMode,
        trust: Trust,
    ) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::NotFound {
                path: path.to_owned(),
            });
        }
        let lock = match mode {
            OpenMode::ReadWrite => Some(acquire_lock(path)?),
            OpenMode::ReadOnly => None,
        };
        if lock.is_some() {
            remove_stale_temp_files(path);
        }
        let stamp = DiskStamp::of(path).map_err(|e| StoreError::io("read", path, e))?;
        let (conn, unauthenticated) = match open_authentic(path, identity, owner, trust) {
            Ok(opened) => opened,
            Err(e) => return Err(with_verified_backups(e, path, identity, owner)),
        };
        let mut store = Store {
            conn,
            path: path.to_owned(),
            recipient: identity.to_public(),
            mode,
            stamp: Some(stamp),
            lock,
            fail_after_bytes: None,
            saved_mark: None,
            pending_mark: None,
            simulated_now_ms: None,
            signing_key: Some(owner.clone()),
            opened_unauthenticated: unauthenticated,
        };
        store.saved_mark = Some(store.conn.total_changes());
        if unauthenticated {
            // Counts as unsaved: the next save writes the authenticator.
            store.saved_mark = None;
        }
        Ok(store)
    }

    /// Whether the database changed since it was last saved (or was never saved).
    #[must_use]
    pub fn has_unsaved_changes(&self) -> bool {
        self.saved_mark != Some(self.conn.total_changes())
    }

    /// Whether it was opened without an authenticator, on the owner's word (the next save
    /// signs it).
    #[must_use]
    pub fn opened_unauthenticated(&self) -> bool {
        self.opened_unauthenticated
    }

    /// Where the file is.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How it was opened.
    #[must_use]
    pub fn mode(&self) -> OpenMode {
        self.mode
    }

    /// Fault injection for the save tests: the next saves fail with "disk full" after this many
    /// bytes of the temporary file (`None` = off).
    #[doc(hidden)]
    pub fn inject_write_failure_after(&mut self, bytes: Option<u64>) {
        self.fail_after_bytes = bytes;
    }

    /// The size of the database image in bytes.
    pub fn image_size(&self) -> Result<u64, StoreError> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(u64::try_from(pages * size).unwrap_or(0))
    }

    /// Encrypts the database image for the file's recipient (what `save` writes).
    pub fn encrypt_image(&mut self) -> Result<Vec<u8>, StoreError> {
        let Some(owner) = &self.signing_key else {
            return Err(StoreError::Encrypt(
                "no owner's key to sign the file with".to_owned(),
            ));
        };
        let data = self.conn.serialize(MAIN_DB)?;
        let authenticator = auth::AuthStanza::new(owner, &data);
        let recipients: [&dyn age::Recipient; 2] = [&self.recipient, &authenticator];
        let encryptor = age::Encryptor::with_recipients(recipients.into_iter())
            .map_err(|e| StoreError::Encrypt(e.to_string()))?;
        // age adds 16 bytes per 64 KiB chunk plus a header of about 200 bytes.
        let mut out = Vec::with_capacity(data.len() + data.len() / 4096 + 1024);
        let mut writer = encryptor
            .wrap_output(&mut out)
            .map_err(|e| StoreError::Encrypt(e.to_string()))?;
        writer
            .write_all(&data)
            .and_then(|()| writer.finish().map(|_| ()))
            .map_err(|e| StoreError::Encrypt(e.to_string()))?;
        Ok(out)
    }

    /// Saves atomically (see the module docs). On error the file on disk is unchanged and the
    /// data stays in memory.
    pub fn save(&mut self) -> Result<(), StoreError> {
        let job = self.prepare_save()?;
        let result = job.run();
        self.finish_save(result)
    }

    /// The first half of a save, on the thread that owns the store: checks, serializes and
    /// encrypts. The returned job holds only ciphertext and can be written on any thread.
    pub fn prepare_save(&mut self) -> Result<SaveJob, StoreError> {
        if self.mode == OpenMode::ReadOnly {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
            });
        }
        self.check_unchanged_on_disk()?;
        self.pending_mark = Some(self.conn.total_changes());
        let ciphertext = self.encrypt_image()?;
        Ok(SaveJob {
            path: self.path.clone(),
            ciphertext,
            expected: self.stamp.clone(),
            fail_after_bytes: self.fail_after_bytes,
        })
    }

    /// The last half of a save: records what is now on disk.
    pub fn finish_save(
        &mut self,
        result: Result<SaveOutcome, StoreError>,
    ) -> Result<(), StoreError> {
        match result {
            Ok(outcome) => {
                self.stamp = outcome.stamp;
                self.saved_mark = self.pending_mark.take();
                outcome.sync_error.map_or(Ok(()), Err)
            }
            Err(e) => Err(e),
        }
    }

    fn check_unchanged_on_disk(&self) -> Result<(), StoreError> {
        if unchanged_on_disk(&self.path, self.stamp.as_ref()) {
            Ok(())
        } else {
            Err(StoreError::ChangedOnDisk {
                path: self.path.clone(),
            })
        }
    }
}

/// The register kept in memory, encrypted and signed, when the app locks while saving fails
/// (a full disk, a stick pulled out, a file changed on disk): nothing readable stays, and the
/// next unlock offers to save it elsewhere ([`Store::open_held`], [`Store::save_as`]).
pub struct HeldImage {
    path: PathBuf,
    ciphertext: Vec<u8>,
    stamp: Option<DiskStamp>,
}

impl std::fmt::Debug for HeldImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldImage")
            .field("path", &self.path)
            .field("bytes", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

impl HeldImage {
    /// The file it was opened from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Store {
    /// Encrypts the register for holding in memory (see [`HeldImage`]).
    pub fn hold(&mut self) -> Result<HeldImage, StoreError> {
        Ok(HeldImage {
            path: self.path.clone(),
            ciphertext: self.encrypt_image()?,
            stamp: self.stamp.clone(),
        })
    }

    /// Opens a held image again: it counts as unsaved. The writer's lock on its file is taken
    /// when it can be (the folder may be gone); saving to the original file still checks that
    /// it did not change on disk.
    pub fn open_held(
        held: &HeldImage,
        identity: &age::x25519::Identity,
        owner: &ed25519_dalek::SigningKey,
    ) -> Result<Store, StoreError> {
        let prefix: Vec<u8> = held.ciphertext.iter().take(64).copied().collect();
        let decrypted = decrypt_into_memory(
            &held.path,
            &prefix,
            std::io::Cursor::new(held.ciphertext.as_slice()),
            identity,
        )?;
        let (conn, _) = check_authentic(&held.path, decrypted, owner, Trust::Authenticated)?;
        Ok(Store {
            conn,
            path: held.path.clone(),
            recipient: identity.to_public(),
            mode: OpenMode::ReadWrite,
            stamp: held.stamp.clone(),
            lock: acquire_lock(&held.path).ok(),
            fail_after_bytes: None,
            saved_mark: None,
            pending_mark: None,
            simulated_now_ms: None,
            signing_key: Some(owner.clone()),
            opened_unauthenticated: false,
        })
    }

    /// Saves to another file (chosen by the user; an existing one is replaced, its previous
    /// content kept as its backup), which becomes this store's file. On error nothing changes.
    pub fn save_as(&mut self, path: &Path) -> Result<(), StoreError> {
        if path == self.path {
            return self.save();
        }
        if self.mode == OpenMode::ReadOnly {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
            });
        }
        let lock = acquire_lock(path)?;
        let stamp = if path.exists() {
            Some(DiskStamp::of(path).map_err(|e| StoreError::io("read", path, e))?)
        } else {
            None
        };
        let old_path = std::mem::replace(&mut self.path, path.to_owned());
        let old_stamp = std::mem::replace(&mut self.stamp, stamp);
        let old_lock = self.lock.replace(lock);
        match self.save() {
            Ok(()) => Ok(()),
            Err(e) => {
                self.path = old_path;
                self.stamp = old_stamp;
                self.lock = old_lock;
                Err(e)
            }
        }
    }
}

/// Encrypted bytes on their way to disk (see [`Store::prepare_save`]).
pub struct SaveJob {
    path: PathBuf,
    ciphertext: Vec<u8>,
    expected: Option<DiskStamp>,
    fail_after_bytes: Option<u64>,
}

/// What a finished write left on disk.
#[derive(Debug)]
pub struct SaveOutcome {
    stamp: Option<DiskStamp>,
    sync_error: Option<StoreError>,
}

impl std::fmt::Debug for SaveJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaveJob")
            .field("path", &self.path)
            .field("bytes", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

impl SaveJob {
    /// Where it goes.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the temporary file, fsyncs, reads back, rotates backups, renames, fsyncs the
    /// folder. Safe to run on a background thread.
    pub fn run(self) -> Result<SaveOutcome, StoreError> {
        let SaveJob {
            path,
            ciphertext,
            expected,
            fail_after_bytes,
        } = self;
        // Checked again here: time passes between preparing and writing.
        if !unchanged_on_disk(&path, expected.as_ref()) {
            return Err(StoreError::ChangedOnDisk { path });
        }
        let dir = fsutil::parent_dir(&path).to_owned();
        let temp = dir.join(format!(
            "{}{}-{}",
            temp_prefix(&path),
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fsutil::write_new_durable(&temp, &ciphertext, fail_after_bytes)
            .map_err(|e| StoreError::io("write a temporary file for", &path, e))?;
        let verified = same_content(&temp, &ciphertext);
        match verified {
            Ok(true) => {}
            Ok(false) => {
                let _ = fs::remove_file(&temp);
                return Err(StoreError::VerifyFailed { path });
            }
            Err(e) => {
                let _ = fs::remove_file(&temp);
                return Err(StoreError::io("read back the temporary file for", &path, e));
            }
        }
        if expected.is_some()
            && let Err(e) = rotate_backups(&path)
        {
            let _ = fs::remove_file(&temp);
            return Err(StoreError::io("keep a backup of", &path, e));
        }
        if let Err(e) = fs::rename(&temp, &path) {
            let _ = fs::remove_file(&temp);
            return Err(StoreError::io("replace", &path, e));
        }
        let sync_error = fsutil::sync_dir(&dir)
            .err()
            .map(|e| StoreError::io("flush the folder of", &path, e));
        Ok(SaveOutcome {
            stamp: DiskStamp::of(&path).ok(),
            sync_error,
        })
    }
}

/// Whether the file holds exactly `expected`, read back in chunks (no second copy in memory).
fn same_content(path: &Path, expected: &[u8]) -> std::io::Result<bool> {
    use std::io::Read;
    let mut file = File::open(path)?;
    if file.metadata()?.len() != expected.len() as u64 {
        return Ok(false);
    }
    let mut buffer = vec![0u8; 1 << 20];
    let mut offset = 0usize;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(offset == expected.len());
        }
        if expected.get(offset..offset + n) != Some(&buffer[..n]) {
            return Ok(false);
        }
        offset += n;
    }
}

/// bak2 -> bak3, bak1 -> bak2, current -> bak1 (as a hard link or copy; the current file stays
/// in place until the rename that replaces it).
fn rotate_backups(path: &Path) -> std::io::Result<()> {
    for generation in (1..BACKUP_GENERATIONS).rev() {
        let from = backup_path(path, generation);
        if from.exists() {
            fs::rename(&from, backup_path(path, generation + 1))?;
        }
    }
    let newest = backup_path(path, 1);
    if fs::hard_link(path, &newest).is_err() {
        fs::copy(path, &newest)?;
        File::open(&newest)?.sync_all()?;
    }
    Ok(())
}

const AGE_MAGIC: &[u8] = b"age-encryption.org/";

/// A decrypted image in memory, with what its header says about who made it.
struct Decrypted {
    conn: Connection,
    stanzas: Vec<auth::Found>,
    image_sha256: [u8; 32],
}

/// The schema version from which every save writes an authenticator.
const AUTHENTICATED_SINCE: i64 = 13;

/// Decrypts, checks the authenticator, the schema, and migrates. Returns the database and
/// whether it was opened without an authenticator (`trust` allowed it).
fn open_authentic(
    path: &Path,
    identity: &age::x25519::Identity,
    owner: &ed25519_dalek::SigningKey,
    trust: Trust,
) -> Result<(Connection, bool), StoreError> {
    // Decrypt straight from the file (no copy of the whole ciphertext in memory).
    let mut file = File::open(path).map_err(|e| StoreError::io("read", path, e))?;
    let mut prefix = Vec::with_capacity(64);
    (&mut file)
        .take(64)
        .read_to_end(&mut prefix)
        .and_then(|_| file.seek(SeekFrom::Start(0)))
        .map_err(|e| StoreError::io("read", path, e))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let decrypted = decrypt_into_memory(path, &prefix, reader, identity)?;
    check_authentic(path, decrypted, owner, trust)
}

/// The checks of [`open_authentic`] on a decrypted image.
fn check_authentic(
    path: &Path,
    decrypted: Decrypted,
    owner: &ed25519_dalek::SigningKey,
    trust: Trust,
) -> Result<(Connection, bool), StoreError> {
    let not_authentic = |detail: String| StoreError::NotAuthentic {
        path: path.to_owned(),
        detail,
        backups: String::new(),
    };
    let Decrypted {
        mut conn,
        stanzas,
        image_sha256,
    } = decrypted;
    let verdict = auth::verdict(&stanzas, &owner.verifying_key(), &image_sha256);
    let mut unauthenticated = false;
    match verdict {
        auth::Verdict::Authentic => {}
        auth::Verdict::Forged(why) => return Err(not_authentic(why)),
        auth::Verdict::Missing => {
            let version: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap_or(0);
            if version >= AUTHENTICATED_SINCE {
                return Err(not_authentic(format!(
                    "it has no authenticator, yet its schema version {version} is one that every save signs"
                )));
            }
            if trust != Trust::AllowUnauthenticated {
                return Err(StoreError::Unauthenticated {
                    path: path.to_owned(),
                    backups: String::new(),
                });
            }
            unauthenticated = true;
        }
    }
    // Before anything writes to it: no code of anyone else's may run on our writes.
    let expected = schema::expected_outline()?;
    if let Some(found) = auth::foreign_code(&conn, &expected.code)? {
        return Err(not_authentic(format!(
            "it holds a {found}, which Observatory never makes"
        )));
    }
    // A migration changes the database: it counts as unsaved.
    schema::check_and_migrate(&mut conn, path)?;
    let found = auth::schema_outline(&conn)?;
    if let Some(difference) = auth::first_difference(&found, &expected.outline) {
        return Err(not_authentic(format!(
            "its schema is not the one Observatory makes: {difference}"
        )));
    }
    Ok((conn, unauthenticated))
}

/// Fills in, for a file refused as not authentic or unauthenticated, the backups beside it that
/// do verify (each is decrypted and checked: this runs only when opening failed).
fn with_verified_backups(
    error: StoreError,
    path: &Path,
    identity: &age::x25519::Identity,
    owner: &ed25519_dalek::SigningKey,
) -> StoreError {
    let verified = || {
        let found: Vec<String> = (1..=BACKUP_GENERATIONS)
            .map(|g| backup_path(path, g))
            .filter(|p| p.exists())
            .filter(|p| open_authentic(p, identity, owner, Trust::Authenticated).is_ok())
            .map(|p| file_name(&p))
            .collect();
        if found.is_empty() {
            "none of the backups beside it verifies either".to_owned()
        } else {
            format!("these backups beside it verify: {}", found.join(", "))
        }
    };
    match error {
        StoreError::NotAuthentic { path, detail, .. } => StoreError::NotAuthentic {
            path,
            detail,
            backups: verified(),
        },
        StoreError::Unauthenticated { path, .. } => StoreError::Unauthenticated {
            path,
            backups: verified(),
        },
        other => other,
    }
}

/// Decrypts an observatory file image straight into SQLite's memory.
/// `prefix` is the start of the file (up to 64 bytes), used to say what a foreign file is;
/// `reader` reads the whole file from its start.
fn decrypt_into_memory<R: std::io::BufRead + std::io::Seek>(
    path: &Path,
    prefix: &[u8],
    reader: R,
    identity: &age::x25519::Identity,
) -> Result<Decrypted, StoreError> {
    let not_observatory = |detail: &str| StoreError::NotObservatory {
        path: path.to_owned(),
        detail: detail.to_owned(),
    };
    let corrupted = |detail: String| StoreError::Corrupted {
        path: path.to_owned(),
        detail,
        backups: existing_backups(path),
    };
    // A file cut inside the magic line is still a (truncated) age file.
    let is_age =
        prefix.starts_with(AGE_MAGIC) || (prefix.len() >= 3 && AGE_MAGIC.starts_with(prefix));
    if !is_age {
        return Err(if prefix.starts_with(b"SQLite format 3\0") {
            not_observatory("it is an unencrypted SQLite database")
        } else if prefix.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
            not_observatory("it is an ASCII-armored age file, perhaps an identity or a bundle")
        } else if prefix.is_empty() {
            corrupted("the file is empty".to_owned())
        } else {
            not_observatory("it is not an age-encrypted file")
        });
    }
    let decryptor = age::Decryptor::new_buffered(reader).map_err(|e| match e {
        age::DecryptError::UnknownFormat => {
            not_observatory("an age file of an unknown newer version")
        }
        other => corrupted(format!("the age header cannot be read: {other}")),
    })?;
    if decryptor.is_scrypt() {
        return Err(not_observatory(
            "it is a passphrase-encrypted age file, perhaps an identity",
        ));
    }
    let capture = auth::Capture::new(identity);
    let mut reader = decryptor
        .decrypt(std::iter::once(&capture as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => StoreError::NotARecipient {
                path: path.to_owned(),
            },
            other => corrupted(format!("the age header does not verify: {other}")),
        })?;
    let plaintext_len = reader
        .seek(SeekFrom::End(0))
        .and_then(|len| reader.seek(SeekFrom::Start(0)).map(|_| len))
        .map_err(|e| {
            corrupted(format!(
                "the encrypted content is damaged or cut short: {e}"
            ))
        })?;
    let len = usize::try_from(plaintext_len).map_err(|_| corrupted("too large".to_owned()))?;
    if len < 512 {
        return Err(not_observatory("its content is too small to be a database"));
    }
    let mut conn = Connection::open_in_memory()?;
    let mut hashing = auth::Hashing::new(&mut reader);
    conn.deserialize_read_exact(MAIN_DB, &mut hashing, len, false)
        .map_err(|e| {
            corrupted(format!(
                "the encrypted content is damaged or cut short: {e}"
            ))
        })?;
    let image_sha256 = hashing.finish();
    let decrypted = Decrypted {
        conn,
        stanzas: capture.stanzas(),
        image_sha256,
    };
    let conn = &decrypted.conn;
    apply_pragmas(conn).map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
            not_observatory("it decrypts, but its content is not a SQLite database")
        }
        other => StoreError::Sqlite(other),
    })?;
    let check: Result<String, _> = conn.query_row("PRAGMA quick_check", [], |r| r.get(0));
    match check {
        Ok(ok) if ok == "ok" => Ok(decrypted),
        Ok(problem) => Err(corrupted(format!(
            "database integrity check failed: {problem}"
        ))),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(not_observatory(
                "it decrypts, but its content is not a SQLite database",
            ))
        }
        Err(e) => Err(corrupted(format!("database integrity check failed: {e}"))),
    }
}

impl Store {
    /// Read access to the database for queries the typed API does not cover (analysis,
    /// tests). Writes go through [`Store::write`].
    #[must_use]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

//! Small file-system helpers shared by the layers that write files: private file creation,
//! durable writes, and the fault injection used by the save tests.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Upper-case hexadecimal of bytes.
#[must_use]
pub fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Lower-case hexadecimal of bytes.
#[must_use]
pub fn hex_lower(bytes: &[u8]) -> String {
    hex_upper(bytes).to_ascii_lowercase()
}

/// Hex digits in groups of four separated by spaces, as fingerprints are read aloud.
#[must_use]
pub fn group_hex(hex: &str) -> String {
    hex.as_bytes()
        .chunks(4)
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Creates a new file readable and writable by its owner only (0600 on Unix). Fails if it
/// exists: nothing is ever overwritten in place. Windows: no mode; the file inherits the
/// folder's ACL (in the user's profile: the user, SYSTEM and Administrators only). See the
/// README's "Windows" section.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// Flushes a folder's entries to disk (after a rename), where the platform supports it.
/// Windows: a no-op. A folder cannot be flushed there; the file itself was flushed
/// (`sync_all` is `FlushFileBuffers`) before the rename, and NTFS journals the rename.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The folder holding `path` (`.` for a bare file name).
#[must_use]
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to a new private file at `path`, fsyncs it, and removes it again if anything
/// fails. `fail_after` injects a "disk full" error after that many bytes (tests only).
pub fn write_new_durable(path: &Path, bytes: &[u8], fail_after: Option<u64>) -> io::Result<()> {
    let file = create_private_file(path)?;
    let result = (|| {
        let mut writer = FailAfter {
            inner: &file,
            remaining: fail_after,
        };
        for chunk in bytes.chunks(1 << 20) {
            writer.write_all(chunk)?;
        }
        writer.flush()?;
        file.sync_all()
    })();
    if result.is_err() {
        drop(file);
        let _ = fs::remove_file(path);
    }
    result
}

/// A writer that fails with "storage full" once `remaining` bytes have been written.
struct FailAfter<W> {
    inner: W,
    remaining: Option<u64>,
}

impl<W: Write> Write for FailAfter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(remaining) = self.remaining else {
            return self.inner.write(buf);
        };
        if remaining == 0 {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device (injected)",
            ));
        }
        let take = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let written = self.inner.write(&buf[..take])?;
        self.remaining = Some(remaining - written as u64);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads a whole file of at most `max_bytes`, bounded while reading: the file is opened
/// without blocking (a FIFO with no writer does not hang the program), must be a regular file
/// by the open handle (not a FIFO, a device or a directory; checked on the handle, so it cannot
/// be swapped between the check and the read), and reading stops one byte past the limit (a
/// file that grows while it is read is refused too). The buffer is reserved once from the
/// size, so that a plaintext read into it is never left behind by a reallocation.
pub fn read_bounded(path: &Path, max_bytes: u64) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    // On Windows a named pipe or device is not opened by a plain path in practice, and the
    // handle's metadata below refuses anything but a file.
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a pipe, a device or a folder): refused unread",
        ));
    }
    if meta.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    let mut out = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)?;
    if out.len() as u64 > max_bytes {
        return Err(too_large(max_bytes));
    }
    Ok(out)
}

fn too_large(max_bytes: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "larger than the {} KiB such a file may be: refused",
            max_bytes >> 10
        ),
    )
}

//! Process hygiene (DESIGN.md §5): what the process does before it reads any secret.
//!
//! - **No core dumps.** The core-file size limit is set to 0 (soft and hard, so no child or
//!   later call can raise it) and, on Linux, the process is marked not dumpable
//!   (`PR_SET_DUMPABLE` 0): no core file, no `ptrace` attach by other processes of the same
//!   user, `/proc/PID/mem` closed to them. A dump would hold the decrypted database and the
//!   identity's secret key.
//! - On Windows (not built here), the equivalent is to exclude the process from Windows Error
//!   Reporting dumps: `WerAddExcludedApplication` for the executable and
//!   `SetErrorMode(SEM_NOGPFAULTERRORBOX)` at start, and `SetProcessMitigationPolicy` to forbid
//!   dynamic code; those need `windows-sys` behind `cfg(windows)`.
//!
//! - **Memory locked** where the system allows it: when the locked-memory limit is unlimited
//!   (root, or `memlock unlimited` in `limits.conf`, as an accredited workstation should set),
//!   all current and future pages are locked (`mlockall`), so no plaintext reaches swap. Under a
//!   finite limit (8 MiB by default on Linux) locking every future page would make allocations
//!   fail once the limit is reached, so nothing is locked, and the About box says so (swap
//!   should then be encrypted or off). On Windows: `SetProcessWorkingSetSize` and
//!   `VirtualLock` on the plaintext buffers.
//! - **SQLite keeps its temporary files in memory**: the bundled SQLite is built with
//!   `SQLITE_TEMP_STORE=3` (temporary tables and indexes always in memory, whatever a
//!   `PRAGMA temp_store` says). [`sqlite_temp_store_in_memory`] reads `PRAGMA compile_options`
//!   at start and the program refuses to run on a build without it.
//!
//! Failures are reported, never fatal (except the SQLite check): a system that refuses a hardening step still runs, and
//! says so on standard error (no secret is involved in the message).

/// What hardening achieved, for the log line and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hardening {
    /// The core-file limit is 0.
    pub no_core_dumps: bool,
    /// The process is not dumpable (Linux).
    pub not_dumpable: bool,
    /// All pages are locked in memory (never swapped).
    pub memory_locked: bool,
}

/// What hardening achieved, kept for the About box.
static HARDENING: std::sync::OnceLock<Hardening> = std::sync::OnceLock::new();

/// What [`harden`] achieved in this process (all false if it was not called).
#[must_use]
pub fn status() -> Hardening {
    HARDENING.get().copied().unwrap_or_default()
}

/// Whether the SQLite linked in keeps temporary files in memory (`TEMP_STORE=3` among its
/// compile options).
#[must_use]
pub fn sqlite_temp_store_in_memory() -> bool {
    let Ok(conn) = rusqlite::Connection::open_in_memory() else {
        return false;
    };
    let Ok(mut stmt) = conn.prepare("PRAGMA compile_options") else {
        return false;
    };
    let Ok(options) = stmt.query_map([], |r| r.get::<_, String>(0)) else {
        return false;
    };
    options.flatten().any(|o| o == "TEMP_STORE=3")
}

#[cfg(unix)]
fn lock_memory() -> bool {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Memlock);
    if limit.current.is_some() && limit.current != limit.maximum {
        // Raise the soft limit to the hard one (allowed without privileges).
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Memlock, raised).is_ok() {
            limit = raised;
        }
    }
    // Only with no limit: under one, future allocations would fail once it is reached.
    limit.current.is_none()
        && rustix::mm::mlockall(
            rustix::mm::MlockAllFlags::CURRENT | rustix::mm::MlockAllFlags::FUTURE,
        )
        .is_ok()
}

/// Turns core dumps off for this process (see the module docs).
#[must_use]
pub fn harden() -> Hardening {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, setrlimit};
        let no_core_dumps = setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        )
        .is_ok();
        #[cfg(target_os = "linux")]
        let not_dumpable =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
                .is_ok();
        #[cfg(not(target_os = "linux"))]
        let not_dumpable = false;
        let hardening = Hardening {
            no_core_dumps,
            not_dumpable,
            memory_locked: lock_memory(),
        };
        let _ = HARDENING.set(hardening);
        hardening
    }
    #[cfg(not(unix))]
    {
        Hardening::default()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sqlite_built_in_keeps_temporary_files_in_memory() {
        assert!(super::sqlite_temp_store_in_memory());
    }
}

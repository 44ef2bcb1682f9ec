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
//! Failures are reported, never fatal: a system that refuses a hardening step still runs, and
//! says so on standard error (no secret is involved in the message).

/// What hardening achieved, for the log line and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hardening {
    /// The core-file limit is 0.
    pub no_core_dumps: bool,
    /// The process is not dumpable (Linux).
    pub not_dumpable: bool,
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
        Hardening {
            no_core_dumps,
            not_dumpable,
        }
    }
    #[cfg(not(unix))]
    {
        Hardening::default()
    }
}

//! Thin entry point: arguments -> command line or desktop app; errors -> exit codes.

/// mimalloc: the register materialises hundreds of thousands of small records (as-of views,
/// imports, analysis); glibc's allocator spent a third of that time freeing them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Before any passphrase, identity or observatory file is read: no core dumps.
    let hardening = observatory::hygiene::harden();
    if !hardening.no_core_dumps {
        eprintln!("warning: core dumps could not be turned off on this system");
    }
    if !observatory::hygiene::sqlite_temp_store_in_memory() {
        eprintln!(
            "error: this build's SQLite may write temporary files to disk (it lacks SQLITE_TEMP_STORE=3): rebuild Observatory with the bundled SQLite"
        );
        return std::process::ExitCode::from(1);
    }
    observatory::cli::main()
}

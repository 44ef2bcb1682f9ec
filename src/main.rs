//! Thin entry point: arguments -> command line or desktop app; errors -> exit codes.

/// mimalloc: the register materialises hundreds of thousands of small records (as-of views,
/// imports, analysis); glibc's allocator spent a third of that time freeing them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    observatory::cli::main()
}

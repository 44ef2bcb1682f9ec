//! Thin entry point: arguments -> command line or desktop app; errors -> exit codes.

fn main() -> std::process::ExitCode {
    observatory::cli::main()
}

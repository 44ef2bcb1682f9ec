//! `man` and `completions`: the manual pages and the shell completions, generated from the
//! command definitions (for packages: `observatory man --out DIR`, then
//! `observatory completions bash|zsh|fish`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, ValueEnum};

use super::{Cli, InputError};

/// Arguments of `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The folder to write `observatory.1` and one page per command into (made if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// A shell.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

pub(super) fn man(_cli: &Cli, args: &ManArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out).map_err(|e| {
        InputError(format!(
            "cannot make the folder {}: {e}",
            args.out.display()
        ))
    })?;
    let command = Cli::command();
    let mut written = Vec::new();
    let mut page = |name: String, cmd: clap::Command| -> anyhow::Result<()> {
        let mut bytes = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut bytes)?;
        let path = args.out.join(format!("{name}.1"));
        std::fs::write(&path, bytes)
            .map_err(|e| InputError(format!("cannot write {}: {e}", path.display())))?;
        written.push(path);
        Ok(())
    };
    page("observatory".to_owned(), command.clone())?;
    for sub in command.get_subcommands() {
        let name = format!("observatory-{}", sub.get_name());
        let shown = format!("observatory {}", sub.get_name());
        page(name.clone(), sub.clone().name(name).bin_name(shown))?;
    }
    outln!(
        "wrote {} manual page(s) to {}",
        written.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn completions(args: &CompletionsArgs) -> ExitCode {
    let mut command = Cli::command();
    // Into memory first: printing to a closed pipe (`| head`) is not an error to panic on.
    let mut bytes: Vec<u8> = Vec::new();
    match args.shell {
        Shell::Bash => {
            clap_complete::generate(
                clap_complete::shells::Bash,
                &mut command,
                "observatory",
                &mut bytes,
            );
        }
        Shell::Zsh => {
            clap_complete::generate(
                clap_complete::shells::Zsh,
                &mut command,
                "observatory",
                &mut bytes,
            );
        }
        Shell::Fish => {
            clap_complete::generate(
                clap_complete::shells::Fish,
                &mut command,
                "observatory",
                &mut bytes,
            );
        }
    }
    out!("{}", String::from_utf8_lossy(&bytes));
    ExitCode::SUCCESS
}

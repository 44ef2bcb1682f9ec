//! `man`, `completions` and `sbom`: the manual pages and the shell completions, generated from
//! the command definitions (for packages: `observatory man --out DIR`, then
//! `observatory completions bash|zsh|fish`), and the software bill of materials compiled into
//! the binary.
//!
//! # The SBOM
//!
//! `observatory sbom` prints a [CycloneDX 1.5](https://cyclonedx.org/docs/1.5/json/) JSON
//! document, made by the build script (`src/build.rs`) when the binary was built, so it lists
//! exactly what this binary was built from:
//!
//! - `metadata.component`: Observatory itself; `metadata.timestamp`: `SOURCE_DATE_EPOCH`
//!   (absent when the build had none); `metadata.properties`: `observatory:commit`,
//!   `observatory:target` (the Rust target triple), `observatory:profile` (`release` for
//!   packages), `observatory:linked-crates`.
//! - `components[]` of `type` `library`: every crate of the dependency graph for this target and
//!   these features, resolved as for this build (no dev-dependencies). `scope` is `required`
//!   for crates linked into the binary (`cargo tree -e normal,no-proc-macro`) and `excluded`
//!   for crates that only run while building: build scripts' dependencies, proc-macros (an
//!   `observatory:role` property says so: they run in the compiler, their expansion is
//!   compiled in) and the proc-macros' own dependencies. Each has `name`, `version`, `purl`
//!   (`pkg:cargo/NAME@VERSION`), `hashes` (the SHA-256 of the `.crate` file, from
//!   `Cargo.lock`), `licenses[0].expression` (SPDX, as
//!   the crate declares it; the legacy `/` is written `OR`) and the repository as a `vcs`
//!   reference.
//! - `components[]` of `type` `data`: what is compiled in but is not a crate (fonts, reference
//!   data, demo data, SQLite's and mimalloc's C sources), with their licences.
//!
//! `observatory sbom --format licences` prints the licence report: each licence expression
//! with the components under it. The policy those licences are checked against is
//! `assets/packaging/deny.toml` (`cargo deny --manifest-path Cargo.toml check --config
//! assets/packaging/deny.toml licenses`, and the test suite's own check of this SBOM).

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

/// What `sbom` prints.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum SbomFormat {
    /// The CycloneDX 1.5 JSON document.
    #[default]
    Cyclonedx,
    /// Each licence expression with the components under it.
    Licences,
}

/// Arguments of `sbom`.
#[derive(Debug, Args)]
pub struct SbomArgs {
    /// What to print.
    #[arg(long, value_enum, default_value_t)]
    format: SbomFormat,
}

/// The CycloneDX SBOM of this build (see the module docs).
pub const SBOM: &str = include_str!(concat!(env!("OUT_DIR"), "/sbom.cdx.json"));
/// How many crates are linked into this binary (the SBOM's `required` libraries).
pub const SBOM_LINKED_CRATES: &str = env!("OBSERVATORY_SBOM_LINKED");
/// How many components the SBOM lists (crates, build-time crates and embedded data).
pub const SBOM_COMPONENTS: &str = env!("OBSERVATORY_SBOM_COMPONENTS");

pub(super) fn sbom(args: &SbomArgs) -> anyhow::Result<ExitCode> {
    match args.format {
        SbomFormat::Cyclonedx => out!("{SBOM}"),
        SbomFormat::Licences => {
            let doc: serde_json::Value = serde_json::from_str(SBOM)?;
            let mut by_licence: std::collections::BTreeMap<String, Vec<String>> =
                std::collections::BTreeMap::new();
            let components = doc["components"].as_array().cloned().unwrap_or_default();
            for c in &components {
                let licence = c["licenses"][0]["expression"]
                    .as_str()
                    .unwrap_or("(none declared)")
                    .to_owned();
                let mut entry = format!(
                    "{} {}",
                    c["name"].as_str().unwrap_or("?"),
                    c["version"].as_str().unwrap_or("?")
                );
                if c["scope"] == "excluded" {
                    entry.push_str(" (build time only)");
                }
                by_licence.entry(licence).or_default().push(entry);
            }
            outln!(
                "Licences of observatory {} ({} components: {} crates linked in; policy: assets/packaging/deny.toml)",
                super::VERSION,
                components.len(),
                SBOM_LINKED_CRATES
            );
            for (licence, names) in &by_licence {
                outln!("\n{licence} ({}):", names.len());
                for n in names {
                    outln!("  {n}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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

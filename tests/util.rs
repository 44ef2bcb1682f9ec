//! Shared helpers: a private folder with an identity, running the binary, reference tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use observatory::crypto::{Identity, MIN_WORK_FACTOR, Passphrase, Profile};
use observatory::model::Classification;

pub const PASSPHRASE: &str = "correct horse battery staple";

/// A temporary folder with an identity (work factor 2^10 for speed) and a passphrase file.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub identity: PathBuf,
    pub passphrase_file: PathBuf,
    pub tmpdir: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        Env::with_name("Jane Doe")
    }

    pub fn with_name(name: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let identity = dir.path().join("me.identity");
        let passphrase_file = dir.path().join("passphrase.txt");
        std::fs::write(&passphrase_file, format!("{PASSPHRASE}\n")).unwrap();
        let profile = Profile::new(name, "FR", Classification::Secret).unwrap();
        Identity::generate(profile)
            .write_new_file(&identity, &Passphrase::new(PASSPHRASE), MIN_WORK_FACTOR)
            .unwrap();
        let tmpdir = dir.path().join("tmp");
        std::fs::create_dir(&tmpdir).unwrap();
        Env {
            dir,
            identity,
            passphrase_file,
            tmpdir,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn identity(&self) -> Identity {
        Identity::read_file(&self.identity, &Passphrase::new(PASSPHRASE)).unwrap()
    }

    /// The binary with this env's identity, passphrase file and private temp folders.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_observatory"));
        cmd.env("OBSERVATORY_IDENTITY", &self.identity)
            .env("OBSERVATORY_PASSPHRASE_FILE", &self.passphrase_file)
            .env("TMPDIR", &self.tmpdir)
            .env("SQLITE_TMPDIR", &self.tmpdir)
            .current_dir(self.dir.path());
        cmd
    }

    /// Runs the binary with `args`; returns the output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs the binary and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}):\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs the binary, asserts the exit code; returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{args:?}: stderr:\n{stderr}");
        stderr
    }

    /// `init` a file named `name`; returns its path.
    pub fn init(&self, name: &str) -> PathBuf {
        let path = self.path(name);
        self.ok(&["init", path.to_str().unwrap()]);
        path
    }
}

/// Whether a reference tool is installed. Missing: the caller skips, except under `CI=true`,
/// where CI installs the tools and a missing one is a failure.
pub fn have_tool(name: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is required when CI=true (.ci/run installs it)"
        );
        eprintln!("SKIPPED: {name} is not installed");
    }
    found
}

/// Every file below `dir`, recursively.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A deterministic pseudo-random sequence (xorshift), seeded.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

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

/// Whether Python 3 with the `cryptography` package is installed; as [`have_tool`], missing is
/// a skip, except under `CI=true`, where it is a failure.
pub fn have_python_cryptography() -> bool {
    let found = Command::new("python3")
        .args([
            "-c",
            "import cryptography.hazmat.primitives.asymmetric.ed25519",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 with the cryptography package is required when CI=true"
        );
        eprintln!("SKIPPED: python3 with the cryptography package is not installed");
    }
    found
}

/// A card's text with the value of its `key:` line replaced (as an editor on the stick would).
pub fn set_card_line(text: &str, key: &str, value: &str) -> String {
    let prefix = format!("{key}:");
    let mut found = false;
    let out: String = text
        .lines()
        .map(|l| {
            if l.starts_with(&prefix) {
                found = true;
                format!("{key}: {value}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert!(found, "no {key} line in {text}");
    out
}

/// The value of a card's `key:` line.
pub fn card_line(text: &str, key: &str) -> String {
    let prefix = format!("{key}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} line in {text}"))
        .trim()
        .to_owned()
}

fn grouped(hex: &str) -> String {
    hex.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The version 2 fingerprint of a card's text as its lines stand, computed here from the
/// documented format (as an attacker without the private key can).
pub fn v2_fingerprint_of(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut signed = String::from("observatory-member-card-v2\n");
    for key in [
        "name",
        "member-state",
        "clearance",
        "age-recipient",
        "signing-key",
    ] {
        signed.push_str(&format!("{key}: {}\n", card_line(text, key)));
    }
    let digest = Sha256::digest(signed.as_bytes());
    grouped(&observatory_hex(&digest[..20]))
}

/// The version 1 fingerprint (the key id) of a card's keys as its lines stand.
pub fn v1_fingerprint_of(text: &str) -> String {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let key = base64::engine::general_purpose::STANDARD
        .decode(card_line(text, "signing-key"))
        .unwrap();
    let mut hasher = Sha256::new();
    hasher.update(b"observatory-member-v1\n");
    hasher.update(card_line(text, "age-recipient").as_bytes());
    hasher.update(b"\n");
    hasher.update(&key);
    grouped(&observatory_hex(&hasher.finalize()[..20]))
}

fn observatory_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The version 1 card (as Observatory wrote before card version 2) of `identity`.
pub fn v1_card(identity: &Identity) -> String {
    let card = identity.card();
    format!(
        "Observatory member card v1\nname: {}\nmember-state: {}\nclearance: {}\nage-recipient: {}\nsigning-key: {}\nfingerprint: {}\n",
        card.profile.name,
        card.profile.member_state,
        card.profile.clearance.code(),
        card.age_recipient,
        card.signing_key_base64(),
        card.key_id()
    )
}

/// Puts `identity`'s version 1 card in `session`'s keyring, verified if `verified`, as a
/// keyring made before schema 12 holds it (the row as schema 7 wrote it, migrated).
pub fn insert_v1_member(
    session: &observatory::service::Session,
    identity: &Identity,
    verified: bool,
) {
    let card = identity.card();
    let verified_at = verified.then_some("2026-01-05T10:00:00Z");
    session
        .store()
        .connection()
        .execute(
            "INSERT INTO member (fingerprint, card, name, member_state, clearance, added_at, added_by, verified_at, verified_by)
             VALUES (?1, ?2, ?3, ?4, ?5, '2026-01-02T10:00:00Z', ?6, ?7, ?6)",
            rusqlite::params![
                card.author_id(),
                v1_card(identity),
                card.profile.name,
                card.profile.member_state,
                i64::from(card.profile.clearance.rank()),
                session.author(),
                verified_at
            ],
        )
        .unwrap();
}

/// SQL that takes a current file back to schema 13 (before the consultation cycle and blocs), for the
/// tests that make a file look older than it is: run it before lowering `user_version`.
pub const UNDO_SCHEMA_14: &str = "DELETE FROM search WHERE kind IN ('bloc', 'roadmap');
DROP TABLE bloc; DROP TABLE roadmap;
ALTER TABLE measure DROP COLUMN gaps_addressed; ALTER TABLE measure DROP COLUMN causes_addressed;
ALTER TABLE measure DROP COLUMN effect_item_id; ALTER TABLE measure DROP COLUMN effect_country;
ALTER TABLE measure DROP COLUMN effect_share; ALTER TABLE measure DROP COLUMN effect_trl;
ALTER TABLE measure DROP COLUMN effect_date;
DELETE FROM search WHERE kind IN ('round', 'proposal', 'list_version');
DROP TABLE round; DROP TABLE proposal; DROP TABLE list_version; DROP INDEX assessment_round;
ALTER TABLE assessment DROP COLUMN round_id; ALTER TABLE assessment DROP COLUMN assessment_kind;
ALTER TABLE assessment DROP COLUMN member_state; ALTER TABLE assessment DROP COLUMN stance;
ALTER TABLE assessment DROP COLUMN free_answers; ALTER TABLE assessment DROP COLUMN based_on_ids;
ALTER TABLE technology DROP COLUMN watch_status; ALTER TABLE technology DROP COLUMN signal_date;
ALTER TABLE technology DROP COLUMN watch_date; ALTER TABLE technology DROP COLUMN listed_date;
ALTER TABLE technology DROP COLUMN retired_date; ALTER TABLE technology DROP COLUMN uptake_to;
ALTER TABLE technology DROP COLUMN uptake_route; ALTER TABLE technology DROP COLUMN uptake_date;";

/// How many cases a property test runs: `full` in the long run (`OBSERVATORY_LONG_TESTS=1`,
/// see the README), a quarter of it in the suite, so that its slowest test stays well under
/// its time limit (tests/nextest.toml).
pub fn property_cases(full: usize) -> usize {
    if std::env::var("OBSERVATORY_LONG_TESTS").as_deref() == Ok("1") {
        full
    } else {
        (full / 4).max(1)
    }
}

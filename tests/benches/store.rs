//! Open and save of observatory files of 10 MB and 100 MB, against the reference `age` tool
//! decrypting and encrypting the same bytes in the same run (issue: within 1.3x, plus fsync).
//!
//! Two kinds of figure, never mixed in one ratio:
//! - in process: `Store::open`, `encrypt_image`, `save`;
//! - **whole processes** on both sides, like for like: `observatory list FILE measure` (start,
//!   unlock the identity, open, query, exit) against `age -d -i KEY FILE > /dev/null`, and
//!   `observatory add FILE source …` (open, change, save with fsync) against `age -d` followed
//!   by `age -r` of the same plaintext and one `sync`. The observatory identity is written at
//!   the minimum scrypt work factor (2^10, about 1 ms) because the reference is given an
//!   unencrypted key; at the default 2^18 the unlock alone costs about 0.37 s and 256 MiB (it
//!   does not depend on the file). Before timing, the two sides are checked to agree: age's
//!   plaintext has the size `observatory info` gives for the database.
//!
//! Run: `cargo bench --bench store`. The reference tool is skipped if `age` is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up: a failure should stop the run

/// The same allocator as the application (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use observatory::crypto::{Identity, Profile};
use observatory::model::Classification;
use observatory::service::Session;
use observatory::store::{OpenMode, Store, Trust};

/// Fills the file's database with `megabytes` of sources (random text, so nothing compresses).
fn build(dir: &Path, megabytes: usize, identity: &Identity) -> std::path::PathBuf {
    let path = dir.join(format!("bench-{megabytes}mb.observatory"));
    let mut session = Session::create(&path, clone_identity(identity)).unwrap();
    let rows = megabytes * 1024; // ~1 KiB each
    session
        .store()
        .connection()
        .execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
             INSERT INTO source (id, classification, releasable_to, created_at, updated_hlc, updated_by, title, citation)
             SELECT printf('00000000-0000-7000-8000-%012d', i), 1, '[]', '2026-01-01T00:00:00Z',
                    '000000000000-0000', 'BENCH', 'source ' || i, hex(randomblob(480)) FROM n;"
        ))
        .unwrap();
    session.save().unwrap();
    path
}

fn clone_identity(identity: &Identity) -> Identity {
    // Identities are not Clone (secrets); round-trip through a private temp file.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("id");
    let pass = observatory::crypto::Passphrase::new("bench");
    identity
        .write_new_file(&p, &pass, observatory::crypto::MIN_WORK_FACTOR)
        .unwrap();
    Identity::read_file(&p, &pass).unwrap()
}

/// `age -d -i IDENTITY -o OUT FILE` with the reference tool.
fn age_decrypt(identity: &Path, file: &Path, out: &Path) {
    let status = Command::new("age")
        .args(["-d", "-i"])
        .arg(identity)
        .arg("-o")
        .arg(out)
        .arg(file)
        .status()
        .unwrap();
    assert!(status.success());
}

fn have_age() -> bool {
    Command::new("age")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate(Profile::new("Bench", "FR", Classification::Secret).unwrap());
    // The reference tool needs the key as a plain identity file: a throwaway key, in a temp dir.
    let plain_identity = dir.path().join("plain.identity");
    std::fs::write(
        &plain_identity,
        format!(
            "{}\n",
            age::secrecy::ExposeSecret::expose_secret(&identity.age_identity().to_string())
        ),
    )
    .unwrap();
    let recipient = identity.recipient().to_string();
    let reference = have_age();
    for megabytes in [10, 100] {
        let path = build(dir.path(), megabytes, &identity);
        let plaintext = dir.path().join(format!("plain-{megabytes}.db"));
        let mut group = c.benchmark_group(format!("{megabytes}MB"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(if megabytes > 50 { 20 } else { 8 }));
        group.bench_function(
            "observatory open (read + decrypt + deserialize + hash + quick_check + verify)",
            |b| {
                b.iter(|| {
                    Store::open(
                        &path,
                        identity.age_identity(),
                        identity.signing_key(),
                        OpenMode::ReadOnly,
                        Trust::Authenticated,
                    )
                    .unwrap()
                });
            },
        );
        let mut store = Store::open(
            &path,
            identity.age_identity(),
            identity.signing_key(),
            OpenMode::ReadWrite,
            Trust::Authenticated,
        )
        .unwrap();
        group.bench_function("observatory encrypt only (serialize + encrypt)", |b| {
            b.iter(|| store.encrypt_image().unwrap());
        });
        group.bench_function(
            "observatory save (+ write, fsync, read back, backups, rename)",
            |b| {
                b.iter(|| store.save().unwrap());
            },
        );
        drop(store);
        if reference {
            whole_processes(&mut group, dir.path(), &identity, &plain_identity, &path);
            let decrypt = || age_decrypt(&plain_identity, &path, &plaintext);
            group.bench_function("reference age -d", |b| {
                b.iter(|| {
                    decrypt();
                    std::fs::remove_file(&plaintext).unwrap();
                });
            });
            decrypt();
            let encrypted = dir.path().join("ref.age");
            group.bench_function("reference age -r (encrypt to file)", |b| {
                b.iter(|| {
                    let s = Command::new("age")
                        .args(["-r", &recipient, "-o"])
                        .arg(&encrypted)
                        .arg(&plaintext)
                        .status()
                        .unwrap();
                    assert!(s.success());
                    std::fs::remove_file(&encrypted).unwrap();
                });
            });
            std::fs::remove_file(&plaintext).unwrap();
        } else {
            eprintln!("SKIPPED: reference age tool not installed");
        }
        group.finish();
    }
}

/// The whole-process comparison (module docs).
fn whole_processes(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    dir: &Path,
    identity: &Identity,
    plain_identity: &Path,
    path: &Path,
) {
    let bin = env!("CARGO_BIN_EXE_observatory");
    let id_file = dir.join("cli.identity");
    let pass_file = dir.join("cli.pass");
    if !id_file.exists() {
        std::fs::write(&pass_file, "bench-passphrase\n").unwrap();
        identity
            .write_new_file(
                &id_file,
                &observatory::crypto::Passphrase::new("bench-passphrase"),
                observatory::crypto::MIN_WORK_FACTOR,
            )
            .unwrap();
    }
    let cli = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .env("OBSERVATORY_IDENTITY", &id_file)
            .env("OBSERVATORY_PASSPHRASE_FILE", &pass_file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let file = path.to_str().unwrap();
    // The two sides agree on what the file holds before anything is timed.
    let info = cli(&["info", file]);
    let db_bytes: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("size:"))
        .and_then(|l| l.split(" bytes encrypted, ").nth(1))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("info gives the database size");
    let age_out = Command::new("age")
        .args(["-d", "-i"])
        .arg(plain_identity)
        .arg(path)
        .output()
        .unwrap();
    assert!(age_out.status.success());
    assert_eq!(
        age_out.stdout.len() as u64,
        db_bytes,
        "age and observatory disagree"
    );
    let plain = dir.join("whole-process.db");
    std::fs::write(&plain, &age_out.stdout).unwrap();
    drop(age_out);
    group.bench_function("whole process: observatory list FILE measure", |b| {
        b.iter(|| cli(&["list", file, "measure"]));
    });
    group.bench_function("whole process: age -d -i KEY FILE > /dev/null", |b| {
        b.iter(|| {
            let s = Command::new("age")
                .args(["-d", "-i"])
                .arg(plain_identity)
                .arg(path)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(s.success());
        });
    });
    let mut n = 0_u64;
    group.bench_function(
        "whole process: observatory add FILE source (open, change, save)",
        |b| {
            b.iter(|| {
                n += 1;
                cli(&["add", file, "source", "--title", &format!("bench {n}")]);
            });
        },
    );
    let recipient = identity.recipient().to_string();
    let encrypted = dir.join("whole-process.age");
    group.bench_function(
        "whole process: age -d > /dev/null, then age -r of the plaintext, sync",
        |b| {
            b.iter(|| {
                let d = Command::new("age")
                    .args(["-d", "-i"])
                    .arg(plain_identity)
                    .arg(path)
                    .stdout(std::process::Stdio::null())
                    .status()
                    .unwrap();
                let e = Command::new("age")
                    .args(["-r", &recipient, "-o"])
                    .arg(&encrypted)
                    .arg(&plain)
                    .status()
                    .unwrap();
                let f = std::fs::File::open(&encrypted).unwrap();
                f.sync_all().unwrap();
                assert!(d.success() && e.success());
                std::fs::remove_file(&encrypted).unwrap();
            });
        },
    );
    std::fs::remove_file(&plain).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);

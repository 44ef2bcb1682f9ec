//! What the workstation keeps: authentic observatory files (a file or backup made by anyone
//! else is refused), audit rows that cannot be changed or removed unseen, the core limit.

use std::io::{Read as _, Write as _};
use std::path::Path;

use observatory::service::Session;
use observatory::store::{OpenMode, backup_path};

use crate::util::{Env, have_tool};

/// The plaintext database image of an observatory file (decrypted with the age crate, as the
/// reference tool would).
fn decrypt(env: &Env, path: &Path) -> Vec<u8> {
    let identity = env.identity();
    let bytes = std::fs::read(path).unwrap();
    let decryptor = age::Decryptor::new_buffered(&bytes[..]).unwrap();
    let mut reader = decryptor
        .decrypt(std::iter::once(
            identity.age_identity() as &dyn age::Identity
        ))
        .unwrap();
    let mut plain = Vec::new();
    reader.read_to_end(&mut plain).unwrap();
    plain
}

/// What any member can do with the owner's public recipient: decrypt a copy (here with the
/// owner's key, standing for a copy left on a shared machine), change it with SQL, and encrypt
/// it again to the owner. Nobody but the owner can add the authenticator.
fn forge(env: &Env, from: &Path, to: &Path, sql: &str) {
    let plain = decrypt(env, from);
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.deserialize_read_exact("main", &plain[..], plain.len(), false)
        .unwrap();
    conn.execute_batch(sql).unwrap();
    let image = conn.serialize("main").unwrap().to_vec();
    let recipient = env.identity().recipient();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let mut writer = encryptor.wrap_output(&mut out).unwrap();
    writer.write_all(&image).unwrap();
    writer.finish().unwrap();
    std::fs::write(to, out).unwrap();
}

/// A file with a SECRET technology, saved three times (so it has backups).
fn file_with_a_secret(env: &Env) -> std::path::PathBuf {
    let file = env.init("w.observatory");
    let f = file.to_str().unwrap();
    env.ok(&[
        "add",
        f,
        "technology",
        "--name",
        "Secret sensor",
        "--classification",
        "secret",
    ]);
    env.ok(&[
        "add",
        f,
        "item",
        "--name",
        "Gallium",
        "--item-kind",
        "material",
    ]);
    file
}

const LOWER_EVERYTHING: &str = "UPDATE technology SET classification = 0;";

#[test]
fn a_file_forged_with_the_owners_recipient_is_refused_and_verified_backups_are_named() {
    let env = Env::new();
    let file = file_with_a_secret(&env);
    let f = file.to_str().unwrap();
    assert!(env.ok(&["info", f]).contains("SECRET"));
    assert!(env.ok(&["verify", f]).contains("authenticator:   ok"));
    forge(&env, &file, &file, LOWER_EVERYTHING);
    let forged = std::fs::read(&file).unwrap();
    let err = env.fails(&["info", f], 14);
    assert!(
        err.contains("not saved by its owner's identity")
            && err.contains("left as it is")
            && err.contains("these backups beside it verify: w.observatory.bak1"),
        "{err}"
    );
    env.fails(&["list", f, "technology"], 14);
    env.fails(&["verify", f], 14);
    assert_eq!(
        forged,
        std::fs::read(&file).unwrap(),
        "the file is left as it is"
    );
    // The GUI and the library say the same.
    let e = Session::open(&file, env.identity(), OpenMode::ReadWrite)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not saved by its owner's identity"), "{e}");
    // The backup it names opens, with the technology still SECRET.
    let bak1 = backup_path(&file, 1);
    let list = env.ok(&["list", bak1.to_str().unwrap(), "technology"]);
    assert!(list.contains("Secret sensor"), "{list}");
    assert!(env.ok(&["info", bak1.to_str().unwrap()]).contains("SECRET"));
}

#[test]
fn a_forged_backup_is_refused_and_not_offered() {
    let env = Env::new();
    let file = file_with_a_secret(&env);
    let bak1 = backup_path(&file, 1);
    let bak2 = backup_path(&file, 2);
    assert!(bak2.exists());
    forge(&env, &bak1, &bak1, LOWER_EVERYTHING);
    let err = env.fails(&["info", bak1.to_str().unwrap()], 14);
    assert!(err.contains("not saved by its owner's identity"), "{err}");
    // Now the file itself is forged too: only bak2 is named.
    forge(&env, &file, &file, LOWER_EVERYTHING);
    let err = env.fails(&["info", file.to_str().unwrap()], 14);
    assert!(
        err.contains("these backups beside it verify: w.observatory.bak2") && !err.contains("bak1"),
        "{err}"
    );
}

#[test]
fn an_authenticator_copied_from_another_save_or_stripped_does_not_hold() {
    let env = Env::new();
    let file = file_with_a_secret(&env);
    let f = file.to_str().unwrap();
    // The forger keeps the header of a real save (with its authenticator) and swaps the
    // encrypted body for his own: the age header's MAC fails first (another file key), so
    // he must re-encrypt, and then the copied stanza signs another image.
    let real = std::fs::read(&file).unwrap();
    let header_end = real.windows(4).position(|w| w == b"--- ").unwrap();
    let header = std::str::from_utf8(&real[..header_end]).unwrap();
    let stanza_at = header.find("-> observatory-auth v1 ").unwrap();
    let stanza = &header[stanza_at..];
    forge(&env, &file, &file, LOWER_EVERYTHING);
    let forged = std::fs::read(&file).unwrap();
    let forged_header_end = forged.windows(4).position(|w| w == b"--- ").unwrap();
    let mut spliced = forged[..forged_header_end].to_vec();
    spliced.extend_from_slice(stanza.as_bytes());
    spliced.extend_from_slice(&forged[forged_header_end..]);
    std::fs::write(&file, &spliced).unwrap();
    let err = env.fails(&["info", f], 6);
    assert!(
        err.contains("damaged"),
        "the header MAC no longer holds: {err}"
    );
    // Stripped of any authenticator at schema 13: never from Observatory.
    forge(&env, &backup_path(&file, 1), &file, "SELECT 1;");
    let err = env.fails(&["info", f], 14);
    assert!(
        err.contains("no authenticator, yet its schema version"),
        "{err}"
    );
}

#[test]
fn a_file_from_before_authenticators_opens_only_on_its_owners_word() {
    let env = Env::new();
    let file = file_with_a_secret(&env);
    let f = file.to_str().unwrap();
    // As an Observatory of schema 12 saved it: no authenticator.
    forge(
        &env,
        &file,
        &file,
        &format!(
            "{}DELETE FROM meta WHERE key = 'authenticator'; PRAGMA user_version = 12;",
            crate::util::UNDO_SCHEMA_14
        ),
    );
    let err = env.fails(&["info", f], 14);
    assert!(
        err.contains("has no authenticator") && err.contains("observatory authenticate FILE"),
        "{err}"
    );
    let out = env.ok(&["authenticate", f]);
    assert!(out.contains("now carries the authenticator"), "{out}");
    let info = env.ok(&["info", f]);
    assert!(info.contains("SECRET"), "{info}");
    assert!(env.ok(&["verify", f]).contains("authenticator:   ok"));
    let session = Session::open(&file, env.identity(), OpenMode::ReadOnly).unwrap();
    let actions: Vec<String> = session
        .store()
        .connection()
        .prepare("SELECT action FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(actions.iter().any(|a| a == "authenticate"), "{actions:?}");
    drop(session);
    // Authenticating an authentic file changes nothing.
    let before = std::fs::read(&file).unwrap();
    env.ok(&["authenticate", f]);
    assert_eq!(before, std::fs::read(&file).unwrap());
}

#[test]
fn an_old_file_with_foreign_code_or_tables_is_refused_even_on_the_owners_word() {
    let env = Env::new();
    let file = file_with_a_secret(&env);
    let f = file.to_str().unwrap();
    let old = &format!(
        "{}DELETE FROM meta WHERE key = 'authenticator'; PRAGMA user_version = 12;",
        crate::util::UNDO_SCHEMA_14
    );
    // A trigger that would lower every technology written from now on.
    let good = backup_path(&file, 1);
    forge(
        &env,
        &good,
        &file,
        &format!(
            "{old} CREATE TRIGGER lower AFTER UPDATE ON technology BEGIN UPDATE technology SET classification = 0 WHERE id = NEW.id; END;"
        ),
    );
    let err = env.fails(&["authenticate", f], 14);
    assert!(err.contains("holds a trigger lower"), "{err}");
    // A view that disguises a table.
    forge(
        &env,
        &good,
        &file,
        &format!("{old} CREATE VIEW shown AS SELECT * FROM technology;"),
    );
    let err = env.fails(&["authenticate", f], 14);
    assert!(err.contains("holds a view shown"), "{err}");
    // A foreign table, and a changed one.
    forge(
        &env,
        &good,
        &file,
        &format!("{old} CREATE TABLE stash (x);"),
    );
    let err = env.fails(&["authenticate", f], 14);
    assert!(err.contains("foreign table stash"), "{err}");
    forge(
        &env,
        &good,
        &file,
        &format!("{old} ALTER TABLE technology ADD COLUMN shadow TEXT;"),
    );
    let err = env.fails(&["authenticate", f], 14);
    assert!(err.contains("foreign column technology.shadow"), "{err}");
}

#[test]
fn a_file_forged_with_the_reference_age_and_sqlite3_tools_is_refused() {
    if !(have_tool("age") && have_tool("sqlite3") && have_tool("script")) {
        return;
    }
    let env = Env::new();
    let file = file_with_a_secret(&env);
    let f = file.to_str().unwrap();
    let copy = env.path("copy.db");
    let out = crate::interop::age_decrypt(Some(&env.identity), &file, &copy);
    assert!(out.status.success(), "{out:?}");
    let status = std::process::Command::new("sqlite3")
        .arg(&copy)
        .arg(LOWER_EVERYTHING)
        .status()
        .unwrap();
    assert!(status.success());
    let recipient = env.identity().recipient().to_string();
    let forged = env.path("forged.observatory");
    let status = std::process::Command::new("age")
        .args(["-r", &recipient, "-o"])
        .arg(&forged)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::copy(&forged, &file).unwrap();
    let err = env.fails(&["info", f], 14);
    assert!(err.contains("not saved by its owner's identity"), "{err}");
}

#[test]
fn a_tampered_and_a_deleted_audit_row_are_found_by_verify() {
    let env = Env::new();
    let file = file_with_a_secret(&env);
    let f = file.to_str().unwrap();
    assert!(env.ok(&["verify", f]).contains("audit chain:     ok"));
    // Changed through the owner's own identity (a tool with the key): the file is authentic,
    // the chain is not.
    let tamper = |sql: &str| {
        let mut session = Session::open(&file, env.identity(), OpenMode::ReadWrite).unwrap();
        session.store().connection().execute_batch(sql).unwrap();
        session.save().unwrap();
    };
    tamper("UPDATE audit SET detail = '{\"name\":\"Harmless\"}' WHERE seq = 2");
    let out = env.run(&["verify", f]);
    assert_eq!(out.status.code(), Some(13));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("BROKEN at entry 2 "), "{text}");
    // Put back (restore from the backup), then delete a row.
    let bak = backup_path(&file, 1);
    std::fs::copy(&bak, &file).unwrap();
    assert!(env.ok(&["verify", f]).contains("audit chain:     ok"));
    tamper("DELETE FROM audit WHERE seq = 2");
    let out = env.run(&["verify", f]);
    assert_eq!(out.status.code(), Some(13));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("BROKEN at entry 2 "),
        "the missing entry is named: {text}"
    );
}

#[test]
fn the_lock_file_is_never_followed_through_a_symbolic_link() {
    let env = Env::new();
    let file = env.init("s.observatory");
    let target = env.path("victim.txt");
    std::fs::write(&target, "precious").unwrap();
    let lock = env.path("s.observatory.lock");
    let _ = std::fs::remove_file(&lock);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    let err = env.fails(
        &[
            "add",
            file.to_str().unwrap(),
            "item",
            "--name",
            "x",
            "--item-kind",
            "data",
        ],
        10,
    );
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
}

#[test]
fn an_empty_passphrase_is_refused_for_a_new_identity() {
    let env = Env::new();
    let empty = env.path("empty.txt");
    std::fs::write(&empty, "\n").unwrap();
    let out = env
        .cmd()
        .env("OBSERVATORY_PASSPHRASE_FILE", &empty)
        .args([
            "keygen",
            "--out",
            env.path("new.identity").to_str().unwrap(),
            "--name",
            "New Member",
            "--member-state",
            "DE",
            "--clearance",
            "restricted",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!env.path("new.identity").exists());
    // The library refuses it too, whatever the caller.
    let identity = observatory::crypto::Identity::generate(
        observatory::crypto::Profile::new(
            "X",
            "DE",
            observatory::model::Classification::Restricted,
        )
        .unwrap(),
    );
    let err = identity
        .write_new_file(
            &env.path("lib.identity"),
            &observatory::crypto::Passphrase::new(""),
            observatory::crypto::MIN_WORK_FACTOR,
        )
        .unwrap_err();
    assert!(err.to_string().contains("empty passphrase"), "{err}");
}

/// A technology named like a spreadsheet formula is written to a CSV export as text: a
/// leading `'` before `=`, `+`, `-`, `@`, tab and CR, so no spreadsheet runs it.
#[test]
fn a_csv_export_neutralises_formulas() {
    let env = Env::new();
    let file = env.init("csv.observatory");
    let f = file.to_str().unwrap();
    let names = [
        "=HYPERLINK(\"http://x.example/\",\"click\")",
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\tTabbed",
        "\rReturn",
        "Plain sensor",
    ];
    for name in names {
        env.ok(&["add", f, "technology", &format!("--name={name}")]);
    }
    env.ok(&[
        "export",
        f,
        "--format",
        "csv",
        "--out",
        "out",
        "--unencrypted-output",
    ]);
    let text = std::fs::read_to_string(env.path("out/technology.csv")).unwrap();
    // No cell of the file starts with a formula mark (RFC 4180 quoting aside).
    let cells: Vec<String> = text
        .lines()
        .skip(1)
        .flat_map(|line| {
            line.split(',')
                .map(|c| c.trim_start_matches('"').to_owned())
        })
        .collect();
    for cell in &cells {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a live formula in the CSV: {cell:?}\n{text}"
        );
    }
    assert!(text.contains("'=HYPERLINK("), "{text}");
    assert!(text.contains("'+1+1"), "{text}");
    assert!(text.contains("'@SUM(A1)"), "{text}");
    assert!(
        text.contains(",Plain sensor"),
        "plain text stays as typed: {text}"
    );
}

//! The observatory file and the identity work with the reference `age` tool and `sqlite3`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::util::{Env, PASSPHRASE, have_tool};

/// Runs the reference `age -d [-i IDENTITY] -o OUT FILE`, typing the passphrase at the
/// terminal prompt (age reads it from a tty; `script` gives it one).
pub(crate) fn age_decrypt(
    identity: Option<&std::path::Path>,
    file: &std::path::Path,
    out: &std::path::Path,
) -> std::process::Output {
    let identity = identity
        .map(|i| format!("-i '{}'", i.display()))
        .unwrap_or_default();
    let command = format!(
        "age -d {identity} -o '{}' '{}'",
        out.display(),
        file.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // If age already gave up, the output below says why.
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSPHRASE}\n").as_bytes());
    child.wait_with_output().unwrap()
}

#[test]
fn reference_age_and_sqlite3_open_the_file() {
    if !(have_tool("age") && have_tool("sqlite3") && have_tool("script")) {
        return;
    }
    let env = Env::new();
    let file = env.init("ref.observatory");
    let f = file.to_str().unwrap();
    env.ok(&[
        "add",
        f,
        "technology",
        "--name",
        "Interop check technology",
        "--classification",
        "restricted",
    ]);
    let copy = env.path("copy.db");
    let out = age_decrypt(Some(&env.identity), &file, &copy);
    assert!(
        out.status.success(),
        "age failed: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let query = Command::new("sqlite3")
        .arg(&copy)
        .arg("SELECT name, classification FROM technology WHERE reference = 0; SELECT count(*) FROM technology; PRAGMA user_version; SELECT value FROM meta WHERE key = 'format';")
        .output()
        .unwrap();
    assert!(query.status.success());
    let text = String::from_utf8(query.stdout).unwrap();
    assert_eq!(
        text,
        format!(
            "Interop check technology|1\n43\n{}\nobservatory\n",
            observatory::store::SCHEMA_VERSION
        )
    );
    // The identity file itself is a standard passphrase-protected age file holding an age key.
    let plain = env.path("identity.txt");
    let out = age_decrypt(None, &env.identity, &plain);
    assert!(out.status.success());
    let identity_text = std::fs::read_to_string(&plain).unwrap();
    assert!(
        identity_text
            .lines()
            .any(|l| l.starts_with("AGE-SECRET-KEY-1"))
    );
    assert!(identity_text.contains("# name: Jane Doe"));
}

#[test]
fn excessive_work_factor_is_refused_quickly() {
    use observatory::crypto::{Identity, IdentityError, Passphrase};
    let env = Env::new();
    // Re-encrypt the identity's content with log_n 10, binary, then claim log_n 30 in the header.
    let mut recipient = age::scrypt::Recipient::new(Passphrase::new(PASSPHRASE).secret());
    recipient.set_work_factor(10);
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut bytes = Vec::new();
    let mut w = encryptor.wrap_output(&mut bytes).unwrap();
    w.write_all(b"AGE-SECRET-KEY-1QQQ\n").unwrap();
    w.finish().unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let stanza_end = text.find(" 10\n").unwrap();
    bytes.splice(stanza_end..stanza_end + 4, b" 30\n".iter().copied());
    let path = env.path("greedy.identity");
    std::fs::write(&path, &bytes).unwrap();
    let started = std::time::Instant::now();
    let result = Identity::read_file(&path, &Passphrase::new(PASSPHRASE));
    assert!(
        matches!(
            result,
            Err(IdentityError::ExcessiveWork { required: 30, .. })
        ),
        "{result:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "refused without doing the work"
    );
    // The CLI says so with exit code 3.
    let err = env.fails(&["card", "--identity", path.to_str().unwrap()], 3);
    assert!(err.contains("work factor of 2^30"), "{err}");
}

//! During a workload, no plaintext reaches the disk: the working folder and a private TMPDIR
//! are scanned for a canary string written into records.

use crate::util::{Env, files_below};

const CANARY: &str = "CANARY-d41d8cd98f00b204";

#[test]
fn no_plaintext_reaches_the_disk() {
    let env = Env::new();
    let file = env.init("p.observatory");
    let f = file.to_str().unwrap();
    // A sizeable import (its input file lives outside the scanned folders: it is the user's own).
    let input_dir = tempfile::tempdir().unwrap();
    let records: Vec<_> = (0..3000)
        .map(|i| {
            serde_json::json!({
                "kind": "item", "name": format!("{CANARY} item {i}"), "item_kind": "component",
                "description": format!("{CANARY} {}", "x".repeat(300)),
            })
        })
        .collect();
    let doc =
        serde_json::json!({"format": "observatory-records", "version": 1, "records": records});
    let data = input_dir.path().join("data.json");
    std::fs::write(&data, doc.to_string()).unwrap();
    env.ok(&["import", f, data.to_str().unwrap()]);
    let tech = env.ok(&[
        "add",
        f,
        "technology",
        "--name",
        &format!("{CANARY} technology"),
        "--classification",
        "secret",
    ]);
    env.ok(&[
        "edit",
        f,
        "technology",
        tech.trim(),
        "--description",
        CANARY,
    ]);
    env.ok(&["list", f, "item"]);
    env.ok(&["info", f]);
    env.ok(&["verify", f]);
    env.ok(&["delete", f, "technology", tech.trim()]);

    let scanned = files_below(env.dir.path());
    assert!(
        scanned.len() >= 4,
        "the file, its backups and the lock: {scanned:?}"
    );
    for path in scanned {
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
            "plaintext found in {}",
            path.display()
        );
    }
    assert!(
        files_below(&env.tmpdir).is_empty(),
        "nothing was written to TMPDIR"
    );
}

//! kill -9 during saves never leaves a file that fails to open, and what survives is either
//! the old or the new state.

use std::time::{Duration, Instant};

use observatory::model::Kind;
use observatory::service::Session;
use observatory::store::OpenMode;

use crate::util::{Env, Rng};

fn description(env: &Env, file: &std::path::Path, id: uuid::Uuid) -> Option<String> {
    let session = Session::open(file, env.identity(), OpenMode::ReadOnly)
        .unwrap_or_else(|e| panic!("the file no longer opens: {e}"));
    session
        .get(Kind::Technology, id)
        .unwrap()
        .text("description")
        .map(str::to_owned)
}

#[test]
fn kill_during_save_loop_leaves_old_or_new_state() {
    let env = Env::new();
    let file = env.init("k.observatory");
    let f = file.to_str().unwrap();
    // Make the file a few megabytes so that saves take a while.
    let records: Vec<_> = (0..6000)
        .map(|i| serde_json::json!({"kind": "source", "title": format!("source {i}"), "citation": "y".repeat(450)}))
        .collect();
    let doc =
        serde_json::json!({"format": "observatory-records", "version": 1, "records": records});
    std::fs::write(env.path("bulk.json"), doc.to_string()).unwrap();
    env.ok(&["import", f, "bulk.json"]);
    let id: uuid::Uuid = env
        .ok(&[
            "add",
            f,
            "technology",
            "--name",
            "crash target",
            "--description",
            "state 0",
        ])
        .trim()
        .parse()
        .unwrap();

    let started = Instant::now();
    env.ok(&[
        "edit",
        f,
        "technology",
        &id.to_string(),
        "--description",
        "state warmup",
    ]);
    let typical = started.elapsed().as_micros().max(1000) as u64;

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut current = description(&env, &file, id);
    let temp_files = || -> usize {
        crate::util::files_below(env.dir.path())
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(".k.observatory.tmp-")
            })
            .count()
    };
    let mut completed = 0;
    let mut killed = 0;
    // Kills that left a temporary file: the save was in progress (writing, syncing or
    // renaming) when the process died.
    let mut mid_save = 0;
    let mut iterations = 0;
    for i in 1..=400 {
        // At least 100 rounds; then go on only until a kill has hit a save in progress.
        if i > 100 && mid_save > 0 && completed > 0 && killed > 0 {
            break;
        }
        iterations = i;
        let new = format!("state {i}");
        let mut child = env
            .cmd()
            .args([
                "edit",
                f,
                "technology",
                &id.to_string(),
                "--description",
                &new,
            ])
            .spawn()
            .unwrap();
        // Kill somewhere between start and a bit after the typical run time; every other
        // round in its last third, where the save is.
        let delay = if i % 2 == 0 {
            typical * 2 / 3 + rng.below(typical / 2)
        } else {
            rng.below(typical * 12 / 10)
        };
        std::thread::sleep(Duration::from_micros(delay));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            completed += 1;
        } else {
            killed += 1;
            if temp_files() > 0 {
                mid_save += 1;
            }
        }
        let now = description(&env, &file, id);
        assert!(
            now == current || now.as_deref() == Some(new.as_str()),
            "iteration {i}: found {now:?}, expected {current:?} or {new:?}"
        );
        if status.success() {
            assert_eq!(
                now.as_deref(),
                Some(new.as_str()),
                "a completed save is on disk"
            );
        }
        current = now;
    }
    eprintln!(
        "{completed} of {iterations} saves completed before the kill; {mid_save} kills hit a save in progress (a temporary file left)"
    );
    assert!(
        completed > 0 && completed < iterations,
        "the kills must fall both before and after the end of the save: {completed} of {iterations} completed"
    );
    assert!(
        mid_save > 0,
        "no kill hit a save in progress in {iterations} rounds: the test proves nothing"
    );
    // Leftover temporary files are cleaned at the next writing open.
    env.ok(&[
        "edit",
        f,
        "technology",
        &id.to_string(),
        "--description",
        "final",
    ]);
    let leftovers: Vec<_> = crate::util::files_below(env.dir.path())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".k.observatory.tmp-")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(description(&env, &file, id).as_deref(), Some("final"));
    assert!(env.ok(&["verify", f]).contains("audit chain:     ok"));
}

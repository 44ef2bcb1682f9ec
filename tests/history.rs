//! The register as it stood at an earlier moment, and what changed between two dates.

use observatory::model::{Classification, Hlc, Kind};
use observatory::service::{RecordInput, Session};
use serde_json::{Value, json};

use crate::util::Env;

fn input(fields: Value) -> RecordInput {
    RecordInput {
        classification: Some(Classification::Unclassified),
        fields: serde_json::from_value(fields).unwrap(),
        ..RecordInput::default()
    }
}

fn clock(session: &Session, kind: Kind, id: uuid::Uuid) -> Hlc {
    session.store().get(kind, id).unwrap().unwrap().meta.updated
}

#[test]
fn as_of_replays_additions_share_changes_deletions_and_restores() {
    let env = Env::new();
    let mut session = Session::create(&env.path("h.observatory"), env.identity()).unwrap();
    let before_anything = clock(
        &session,
        Kind::Technology,
        observatory::model::reference::reference_technology_id("quantum-computing"),
    );
    let gallium = session
        .add(
            Kind::Item,
            None,
            &input(json!({"name": "Gallium", "item_kind": "material"})),
        )
        .unwrap();
    let t1 = clock(&session, Kind::Item, gallium);
    let link = session
        .add(
            Kind::Link,
            None,
            &input(json!({"from_id": gallium.to_string(), "to_id": "CN", "link_kind": "produced-in", "share": 0.5, "year": 2022})),
        )
        .unwrap();
    let t2 = clock(&session, Kind::Link, link);
    session
        .edit(
            Kind::Link,
            link,
            &input(json!({"share": 0.7, "year": 2023})),
        )
        .unwrap();
    let t3 = clock(&session, Kind::Link, link);
    let spare = session
        .add(
            Kind::Item,
            None,
            &input(json!({"name": "Spare", "item_kind": "component"})),
        )
        .unwrap();
    let t4 = clock(&session, Kind::Item, spare);
    session.delete(Kind::Item, spare).unwrap();
    let t5 = clock(&session, Kind::Item, spare);
    session.restore(Kind::Item, spare).unwrap();
    let t6 = clock(&session, Kind::Item, spare);
    assert!(t1 < t2 && t2 < t3 && t3 < t4 && t4 < t5 && t5 < t6);

    let store = session.store();
    let links = |at| store.as_of(Kind::Link, at).unwrap();
    let items = |at| -> Vec<String> {
        store
            .as_of(Kind::Item, at)
            .unwrap()
            .iter()
            .map(|r| r.label())
            .collect()
    };
    assert!(links(t1).is_empty(), "the link did not exist yet");
    assert_eq!(links(t2)[0].fields["share"], json!(0.5));
    assert_eq!(links(t2)[0].fields["year"], json!(2022));
    assert_eq!(links(t3)[0].fields["share"], json!(0.7));
    assert_eq!(links(t3)[0].fields["year"], json!(2023));
    assert_eq!(items(t1), vec!["Gallium"]);
    assert_eq!(items(t4), vec!["Gallium", "Spare"]);
    assert_eq!(items(t5), vec!["Gallium"], "deleted then");
    assert_eq!(items(t6), vec!["Gallium", "Spare"], "restored");
    // The reference technologies exist from the date of the list on.
    assert_eq!(store.as_of(Kind::Technology, t1).unwrap().len(), 42);
    let long_ago = observatory::store::end_of_day("2020-01-01").unwrap();
    assert!(store.as_of(Kind::Technology, long_ago).unwrap().is_empty());
    assert!(before_anything <= t1);
}

#[test]
fn analyse_as_of_and_changes_between_dates() {
    let env = Env::new();
    let file = env.init("c.observatory");
    let f = file.to_str().unwrap();
    let item = env.ok(&[
        "add",
        f,
        "item",
        "--name",
        "Gallium",
        "--item-kind",
        "material",
    ]);
    env.ok(&[
        "add",
        f,
        "link",
        "--from-id",
        item.trim(),
        "--to-id",
        "CN",
        "--link-kind",
        "produced-in",
        "--share",
        "0.938",
        "--year",
        "2023",
    ]);
    let today = time::OffsetDateTime::now_utc().date();
    let yesterday = today.previous_day().unwrap().to_string();
    let today = today.to_string();
    // Yesterday the register had no items; today gallium is there.
    let then: Value =
        serde_json::from_str(&env.ok(&["analyse", f, "--as-of", &yesterday, "--format", "json"]))
            .unwrap();
    assert_eq!(then["items"], json!([]));
    assert_eq!(then["as_of"], json!(yesterday));
    let now: Value =
        serde_json::from_str(&env.ok(&["analyse", f, "--as-of", &today, "--format", "json"]))
            .unwrap();
    assert_eq!(now["items"][0]["top_country"], "CN");
    // What changed since yesterday: the item and the link added, a new concentration risk.
    let changes: Value = serde_json::from_str(&env.ok(&[
        "changes", f, "--from", &yesterday, "--to", &today, "--format", "json",
    ]))
    .unwrap();
    assert_eq!(changes["added"].as_array().unwrap().len(), 2, "{changes}");
    assert_eq!(changes["links_added"].as_array().unwrap().len(), 1);
    assert_eq!(changes["risks_new"][0]["name"], "Gallium");
    assert_eq!(changes["removed"], json!([]));
    let table = env.ok(&["changes", f, "--from", &yesterday, "--to", &today]);
    assert!(table.contains("new concentration risks: 1"), "{table}");
    env.fails(&["changes", f, "--from", &today, "--to", &yesterday], 11);
    env.fails(&["changes", f, "--from", "soon", "--to", &today], 11);
    env.fails(&["analyse", f, "--as-of", "2026-13-40"], 11);
}

#[test]
fn editions_freeze_list_and_diff() {
    let env = Env::new();
    let path = env.path("e.observatory");
    let mut session = Session::create(&path, env.identity()).unwrap();
    let tech = session
        .add(
            Kind::Technology,
            None,
            &input(json!({"name": "GaN radar", "area": "semiconductors"})),
        )
        .unwrap();
    let gallium = session
        .add(
            Kind::Item,
            None,
            &input(json!({"name": "Gallium", "item_kind": "material"})),
        )
        .unwrap();
    session
        .add(Kind::Link, None, &input(json!({"from_id": tech.to_string(), "to_id": gallium.to_string(), "link_kind": "requires"})))
        .unwrap();
    let share = session
        .add(Kind::Link, None, &input(json!({"from_id": gallium.to_string(), "to_id": "CN", "link_kind": "produced-in", "share": 0.5})))
        .unwrap();
    session
        .add(
            Kind::Assessment,
            None,
            &input(json!({"subject_id": tech.to_string(), "date": "2026-06-30", "trl": 5})),
        )
        .unwrap();
    let measure = session
        .add(
            Kind::Measure,
            None,
            &input(
                json!({"name": "EDF call", "status": "planned", "target_ids": [tech.to_string()]}),
            ),
        )
        .unwrap();
    session.save().unwrap();
    drop(session);
    let f = path.to_str().unwrap();
    let out = env.ok(&["edition", "freeze", f, "--title", "Report 2026"]);
    assert!(out.contains("as \"Report 2026\" (UNCLASSIFIED)"), "{out}");

    let mut session = Session::open(
        &path,
        env.identity(),
        observatory::store::OpenMode::ReadWrite,
    )
    .unwrap();
    session
        .add(
            Kind::Technology,
            None,
            &input(json!({"name": "New sensing technology"})),
        )
        .unwrap();
    session
        .add(
            Kind::Assessment,
            None,
            &input(json!({"subject_id": tech.to_string(), "date": "2028-06-30", "trl": 6})),
        )
        .unwrap();
    session
        .edit(Kind::Measure, measure, &input(json!({"status": "ongoing"})))
        .unwrap();
    session
        .edit(Kind::Link, share, &input(json!({"share": 1.0})))
        .unwrap();
    let secret = RecordInput {
        classification: Some(Classification::Secret),
        ..input(json!({"name": "Classified note", "item_kind": "data"}))
    };
    session.add(Kind::Item, None, &secret).unwrap();
    // Editions cannot be changed, even through SQL.
    let err = session
        .store()
        .connection()
        .execute("UPDATE edition SET title = 'x'", [])
        .unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
    session.save().unwrap();
    drop(session);
    env.ok(&["edition", "freeze", f, "--title", "Report 2028"]);

    let list: Value =
        serde_json::from_str(&env.ok(&["edition", "list", f, "--format", "json"])).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["classification"], "UNCLASSIFIED");
    assert_eq!(
        list[1]["classification"], "SECRET",
        "the highest level it contains"
    );
    let diff: Value = serde_json::from_str(&env.ok(&[
        "edition",
        "diff",
        f,
        "Report 2026",
        "Report 2028",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(diff["marking"], "SECRET UE/EU SECRET");
    assert_eq!(
        diff["technologies_added"][0]["name"],
        "New sensing technology"
    );
    assert_eq!(diff["technologies_removed"], json!([]));
    assert_eq!(diff["trl_changes"][0]["from"], 5);
    assert_eq!(diff["trl_changes"][0]["to"], 6);
    assert_eq!(diff["measures_started"][0]["name"], "EDF call");
    assert_eq!(diff["measures_finished"], json!([]));
    // Gallium went from half to all Chinese: the radar's supply risk rose (2.5 -> 10).
    assert_eq!(diff["risk_changes"][0]["from"], 2.5);
    assert_eq!(diff["risk_changes"][0]["to"], 10.0);
    let table = env.ok(&["edition", "diff", f, "Report 2026", "Report 2028"]);
    assert!(table.starts_with("== SECRET UE/EU SECRET =="), "{table}");
    env.fails(&["edition", "diff", f, "Report 2026", "Report 1999"], 12);
    env.fails(&["edition", "freeze", f, "--title", "  "], 11);
}

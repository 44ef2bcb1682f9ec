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

fn today() -> String {
    observatory::store::now_rfc3339().chars().take(10).collect()
}

fn yesterday() -> String {
    let day = observatory::service::timeline::day_number(&today()).unwrap();
    observatory::service::timeline::date_of_day(day - 1.0)
}

#[test]
fn viewing_a_past_date_reads_the_register_then_and_refuses_changes() {
    let env = Env::new();
    let mut session = Session::create(&env.path("v.observatory"), env.identity()).unwrap();
    let quantum = observatory::model::reference::reference_technology_id("quantum-computing");
    // A built-in technology renamed today, and a new item.
    session
        .edit(
            Kind::Technology,
            quantum,
            &input(json!({"name": "Quantum computers (renamed)"})),
        )
        .unwrap();
    let gallium = session
        .add(
            Kind::Item,
            None,
            &input(json!({"name": "Gallium", "item_kind": "material"})),
        )
        .unwrap();
    session.view_as_of(Some(&yesterday())).unwrap();
    assert_eq!(session.viewing().unwrap().date, yesterday());
    // Yesterday: the built-in name (the reference record's history starts from the built-in
    // values, it has no creation row), no Gallium.
    let then = session.get(Kind::Technology, quantum).unwrap();
    assert_eq!(then.text("name"), Some("Quantum computing"));
    assert_eq!(then.text("area"), Some("quantum"));
    assert_eq!(session.list(Kind::Technology).unwrap().len(), 42);
    assert!(session.list(Kind::Item).unwrap().is_empty());
    assert!(session.get(Kind::Item, gallium).is_err());
    // Nothing can be changed while viewing the past; the file is untouched.
    let log = session.store().change_log_len().unwrap();
    let refused = [
        session
            .add(
                Kind::Item,
                None,
                &input(json!({"name": "X", "item_kind": "material"})),
            )
            .err(),
        session
            .edit(Kind::Technology, quantum, &input(json!({"name": "Y"})))
            .err(),
        session.delete(Kind::Technology, quantum).err(),
        session.set_governance("CN", Some(5.0)).err(),
    ];
    for error in refused {
        let error = error.expect("refused");
        assert!(
            matches!(error, observatory::service::ServiceError::ViewingPast(ref d) if *d == yesterday()),
            "{error}"
        );
        assert!(error.to_string().contains("return to today"), "{error}");
    }
    assert_eq!(session.store().change_log_len().unwrap(), log);
    // An edition frozen while viewing the past is of that date.
    let edition = session.freeze_edition("Yesterday", None).unwrap();
    let info = session.find_edition(&edition.to_string()).unwrap();
    assert_eq!(info.as_of, yesterday());
    assert_eq!(
        info.records, 47,
        "the 42 technologies, version 1 of the list and the 4 built-in blocs"
    );
    // Back to today.
    session.view_as_of(None).unwrap();
    assert!(session.viewing().is_none());
    assert_eq!(
        session.get(Kind::Technology, quantum).unwrap().text("name"),
        Some("Quantum computers (renamed)")
    );
    assert_eq!(session.list(Kind::Item).unwrap().len(), 1);
    assert!(session.view_as_of(Some("2024-13-40")).is_err());
}

#[test]
fn timeline_plots_assessments_measures_events_and_two_releases_as_change() {
    use observatory::service::timeline::{Metric, report_cycles};
    use observatory::sources::{self, ReadOptions, SourceFormat};
    let env = Env::new();
    let mut session = Session::create(&env.path("t.observatory"), env.identity()).unwrap();
    let fixture = |name: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/usgs")
            .join(name)
    };
    // Two USGS releases of the same table, one after the other.
    for (file, what) in [
        ("mcs2023-galli_world.csv", "2023"),
        ("mcs2024-galli_world.csv", "2024"),
    ] {
        let parsed =
            sources::read(SourceFormat::Usgs, &fixture(file), &ReadOptions::default()).unwrap();
        session.import_source(&parsed, what, false, false).unwrap();
    }
    let items = session.list(Kind::Item).unwrap();
    assert_eq!(items.len(), 1, "one item, not one per release");
    let gallium = items[0].meta.id;
    let tech = session
        .add(
            Kind::Technology,
            None,
            &input(json!({"name": "Alpha radars", "area": "semiconductors"})),
        )
        .unwrap();
    for (date, trl, risk) in [
        ("2022-12-31", 4, 3.0),
        ("2024-12-31", 5, 4.5),
        ("2024-12-31", 6, 5.0),
    ] {
        session
            .add(
                Kind::Assessment,
                None,
                &input(json!({"subject_id": tech.to_string(), "date": date, "trl": trl, "supply_risk": risk})),
            )
            .unwrap();
    }
    let aimed = session
        .add(Kind::Measure, None, &input(json!({"name": "EDF call", "instrument": "edf", "status": "ongoing", "start": "2024-01-01", "end": "2027-12-31", "target_ids": [tech.to_string()]})))
        .unwrap();
    session
        .add(Kind::Measure, None, &input(json!({"name": "Unrelated", "instrument": "ipcei", "status": "planned", "start": "2025-01-01", "target_ids": [gallium.to_string()]})))
        .unwrap();
    let event = session
        .add(Kind::Event, None, &input(json!({"title": "Export licensing", "date": "2023-08-01", "event_kind": "security"})))
        .unwrap();
    let data = session.timeline(&[tech, gallium]).unwrap();
    let series = |metric: Metric, subject| {
        data.series
            .iter()
            .find(|s| s.metric == metric && s.subject == subject)
            .unwrap_or_else(|| panic!("{metric:?} series of {subject}"))
    };
    // Two judgements on the same date: the later one stands.
    let trl: Vec<(String, f64)> = series(Metric::Trl, tech)
        .points
        .iter()
        .map(|p| (p.date.clone(), p.value))
        .collect();
    assert_eq!(
        trl,
        [
            ("2022-12-31".to_owned(), 4.0),
            ("2024-12-31".to_owned(), 6.0)
        ]
    );
    assert_eq!(series(Metric::SupplyRisk, tech).points.len(), 2);
    assert!(!data.series.iter().any(|s| s.metric == Metric::Criticality));
    // The two releases: one concentration point per data year, from the share history.
    let hhi = series(Metric::Concentration, gallium);
    let years: Vec<&str> = hhi.points.iter().map(|p| &p.date[..4]).collect();
    assert_eq!(years, ["2022", "2023"]);
    let expected_2022 = (500.0f64 / 510.0 * 100.0).powi(2) + (3.0f64 / 510.0 * 100.0).powi(2);
    assert!(
        (hhi.points[0].value - expected_2022).abs() <= 1.0,
        "{}",
        hhi.points[0].value
    );
    assert!(hhi.points[0].value != hhi.points[1].value);
    // Measures aimed at the subjects; events; the report cycles.
    assert_eq!(data.measures.len(), 2);
    assert!(
        data.measures
            .iter()
            .any(|m| m.id == aimed && m.end.as_deref() == Some("2027-12-31"))
    );
    let only_tech = session.timeline(&[tech]).unwrap();
    assert_eq!(
        only_tech.measures.len(),
        1,
        "the gallium measure is not aimed at it"
    );
    assert_eq!(data.events.len(), 1);
    assert_eq!(data.events[0].id, event);
    assert_eq!(
        report_cycles("2026-11-29"),
        ["2022-12-31", "2024-12-31", "2026-12-31"]
    );
    // As of yesterday nothing of this existed.
    session.view_as_of(Some(&yesterday())).unwrap();
    let then = session.timeline(&[tech, gallium]).unwrap();
    assert!(then.series.is_empty() && then.measures.is_empty() && then.events.is_empty());
}

#[test]
fn the_demo_has_a_history_to_view() {
    let env = Env::new();
    let mut session = Session::create(&env.path("demo.observatory"), env.identity()).unwrap();
    session.build_demo().unwrap();
    let names = |session: &Session| -> Vec<String> {
        session
            .list(Kind::Item)
            .unwrap()
            .iter()
            .map(observatory::model::Record::label)
            .collect()
    };
    let now = names(&session);
    assert!(now.iter().any(|n| n == "NdFeB permanent magnets"));
    // Before the CRM study was recorded: no items at all.
    session.view_as_of(Some("2023-01-31")).unwrap();
    assert!(names(&session).is_empty());
    // After the CRM study and the first USGS release, before the example components.
    session.view_as_of(Some("2023-06-30")).unwrap();
    let mid = names(&session);
    assert!(mid.iter().any(|n| n == "Gallium (processing)"), "CRM items");
    assert!(!mid.iter().any(|n| n == "NdFeB permanent magnets"));
    let assessments = session.list(Kind::Assessment).unwrap();
    assert!(
        assessments
            .iter()
            .any(|a| a.text("date") == Some("2022-12-31")),
        "the 2022 example assessment"
    );
    assert!(
        !assessments
            .iter()
            .any(|a| a.text("date") == Some("2026-06-30"))
    );
    session.view_as_of(Some("2024-06-30")).unwrap();
    assert!(
        names(&session)
            .iter()
            .any(|n| n == "NdFeB permanent magnets")
    );
    session.view_as_of(None).unwrap();
    // Later edits use the real clock again.
    let id = session
        .add(
            Kind::Item,
            None,
            &input(json!({"name": "Today", "item_kind": "material"})),
        )
        .unwrap();
    let at = session
        .store()
        .get(Kind::Item, id)
        .unwrap()
        .unwrap()
        .meta
        .updated;
    assert!(at.wall_ms + 60_000 >= Hlc::now_ms());
}

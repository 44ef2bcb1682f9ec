//! Every record kind, with every field filled, survives save and reopen unchanged.

use serde_json::json;

use observatory::model::{Classification, Kind};
use observatory::service::{RecordInput, Session};
use observatory::store::OpenMode;

use crate::util::Env;

fn input(level: Classification, fields: serde_json::Value) -> RecordInput {
    RecordInput {
        classification: Some(level),
        releasable_to: Some(vec!["FR".into(), "DE".into()]),
        fields: serde_json::from_value(fields).unwrap(),
    }
}

#[test]
fn every_kind_round_trips_through_save_and_reopen() {
    let env = Env::new();
    let path = env.path("all.observatory");
    let mut session = Session::create(&path, env.identity()).unwrap();
    let source = session
        .add(Kind::Source, None, &input(Classification::Restricted, json!({
            "title": "CRM study 2023", "publisher": "European Commission", "date": "2023-03-16",
            "citation": "doi:10.2873/725585", "reliability": "A", "attachment_name": "note.txt",
            "attachment": "aGVsbG8gd29ybGQ=",
        })))
        .unwrap();
    let parent = session.list(Kind::Technology).unwrap()[0].meta.id;
    let technology = session
        .add(Kind::Technology, None, &input(Classification::Secret, json!({
            "name": "GaN-on-SiC MMIC", "area": "semiconductors", "parent_id": parent.to_string(),
            "description": "Power amplifiers for AESA radars\nsecond line", "domains": ["space", "defence"],
            "dual_use": true, "criteria": ["multi-use", "strategic-dependency"], "reference_code": "x-1",
            "watch_status": "watch", "signal_date": "2024-01-10", "watch_date": "2025-02-01",
            "listed_date": "2026-01-01", "retired_date": "2026-06-01", "uptake_to": "EIC",
            "uptake_route": "eic-transition", "uptake_date": "2026-02-02",
        })))
        .unwrap();
    let item = session
        .add(Kind::Item, None, &input(Classification::Unclassified, json!({
            "name": "Gallium", "item_kind": "material", "stage": "processing", "cn_codes": ["8112 92"],
            "dual_use_entry": "1C229", "description": "by-product of alumina", "recycling_rate": 0.0,
            "source_ids": [source.to_string()],
        })))
        .unwrap();
    let organisation = session
        .add(Kind::Organisation, None, &input(Classification::Confidential, json!({
            "name": "Example Gallium Ltd", "organisation_kind": "supplier", "aliases": ["EGL"],
            "hq_country": "CN", "production_countries": ["CN", "KZ"], "owner_country": "CN",
            "sme": false, "description": "refiner", "source_ids": [source.to_string()],
        })))
        .unwrap();
    let link = session
        .add(Kind::Link, None, &input(Classification::Restricted, json!({
            "from_id": item.to_string(), "to_id": organisation.to_string(), "link_kind": "supplied-by",
            "share": 0.938, "year": 2023, "substitutability": "low", "notes": "processing",
            "source_ids": [source.to_string()],
        })))
        .unwrap();
    session
        .add(Kind::Assessment, None, &input(Classification::Secret, json!({
            "subject_id": technology.to_string(), "date": "2026-06-30", "trl": 6, "criticality": 8.5,
            "supply_risk": 3.9, "economic_importance": 4.1, "eu_position": "lagging",
            "gaps": ["hardware", "skills"], "root_causes": ["critical-raw-materials"],
            "confidence": "medium", "narrative": "Depends on Chinese gallium.", "assessor": "JD",
            "source_ids": [source.to_string()],
        })))
        .unwrap();
    let measure = session
        .add(Kind::Measure, None, &input(Classification::Restricted, json!({
            "name": "EDF call on GaN", "instrument": "edf", "target_ids": [technology.to_string(), link.to_string()],
            "status": "ongoing", "start": "2025-01-01", "end": "2028-12-31", "budget_eur": 45000000.0,
            "description": "call", "source_ids": [source.to_string()],
            "gaps_addressed": ["skills"], "causes_addressed": ["critical-raw-materials"],
            "effect_item_id": item.to_string(), "effect_country": "DE", "effect_share": 0.3,
            "effect_trl": 7, "effect_date": "2028-12-31",
        })))
        .unwrap();
    session
        .add(
            Kind::Bloc,
            None,
            &input(
                Classification::Restricted,
                json!({
                    "name": "Nordic-Baltic", "countries": ["DK", "EE", "FI", "LT", "LV", "SE"],
                    "description": "a members' bloc",
                }),
            ),
        )
        .unwrap();
    session
        .add(Kind::Roadmap, None, &input(Classification::Restricted, json!({
            "title": "GaN roadmap", "technology_id": technology.to_string(), "area": "semiconductors",
            "bloc": "EU", "targets": ["2030: TRL 8, outside bloc 50 %, EU capacity 20 %"],
            "milestones": ["2027-06-30: pilot line"], "measure_ids": [measure.to_string()],
            "narrative": "where it stands",
        })))
        .unwrap();
    session
        .add(Kind::Event, None, &input(Classification::Unclassified, json!({
            "title": "China export controls on gallium", "date": "2023-08-01", "event_kind": "security",
            "description": "licences required", "source_ids": [source.to_string()],
        })))
        .unwrap();
    // The consultation cycle: a proposal accepted into list version 2, two rounds (the
    // second a follow-up) with an answer and their consolidated assessments.
    let proposal = session
        .add_proposal(&observatory::service::consultation::ProposalSpec {
            action: "add".into(),
            technology: Some(technology),
            name: Some("GaN MMIC".into()),
            area: Some("semiconductors".into()),
            criteria: vec!["multi-use".into()],
            rationale: Some("radar".into()),
            sources: vec![source],
            classification: Some(Classification::Restricted),
        })
        .unwrap();
    let spec = |follow_up_of| observatory::service::consultation::RoundSpec {
        title: "Round".into(),
        deadline: "2099-01-01".into(),
        technology_ids: vec![technology],
        free_questions: vec!["What else?".into()],
        proposal_ids: vec![proposal],
        follow_up_of,
        description: Some("why".into()),
        classification: Classification::Restricted,
        ..Default::default()
    };
    let first = session.open_round(&spec(None)).unwrap();
    session
        .answer_round(
            first,
            &observatory::service::consultation::AnswerSpec {
                subject: technology,
                trl: Some(5),
                criticality: Some(7.0),
                supply_risk: Some(6.0),
                eu_position: Some("lagging".into()),
                gaps: vec!["skills".into()],
                root_causes: vec!["skills".into()],
                narrative: Some("ours".into()),
                free_answers: vec!["What else?: nothing".into()],
                confidence: Some("high".into()),
                classification: Some(Classification::Secret),
                ..Default::default()
            },
        )
        .unwrap();
    session
        .answer_round(
            first,
            &observatory::service::consultation::AnswerSpec {
                subject: proposal,
                stance: Some("support".into()),
                ..Default::default()
            },
        )
        .unwrap();
    session.close_round(first).unwrap();
    let second = session.open_round(&spec(Some(first))).unwrap();
    session.close_round(second).unwrap();
    session
        .accept_proposals(&[proposal], Some("Version 2"))
        .unwrap();
    session.save().unwrap();
    // Everything that cites the source, and what refers to the technology.
    let citing: Vec<Kind> = session
        .referring_to(source)
        .unwrap()
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        citing,
        [
            Kind::Item,
            Kind::Organisation,
            Kind::Link,
            Kind::Assessment,
            Kind::Measure,
            Kind::Event,
            Kind::Proposal
        ]
    );
    let on_technology: Vec<Kind> = session
        .referring_to(technology)
        .unwrap()
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        on_technology,
        [
            Kind::Assessment, // its own
            Kind::Assessment, // the answer to the first round
            Kind::Assessment, // the first round's consolidated assessment
            Kind::Measure,
            Kind::Round,
            Kind::Round,
            Kind::Proposal,
            Kind::Roadmap
        ]
    );
    assert_eq!(
        session.describe(&link.to_string()),
        "Gallium supplied-by Example Gallium Ltd"
    );
    assert_eq!(session.describe("DE"), "Germany (DE)");

    let before: Vec<_> = Kind::ALL
        .iter()
        .map(|k| session.store().list(*k, true).unwrap())
        .collect();
    let audit_before = session.store().audit_entries(None).unwrap();
    drop(session);
    let reopened = Session::open(&path, env.identity(), OpenMode::ReadOnly).unwrap();
    let after: Vec<_> = Kind::ALL
        .iter()
        .map(|k| reopened.store().list(*k, true).unwrap())
        .collect();
    assert_eq!(before, after);
    assert_eq!(audit_before, reopened.store().audit_entries(None).unwrap());
    // Every kind is present, and every field of it is filled in one of its records.
    for (kind, records) in Kind::ALL.iter().zip(&after) {
        let mine: Vec<_> = records.iter().filter(|r| !r.meta.reference).collect();
        assert!(!mine.is_empty(), "no {kind}");
        for field in kind.fields() {
            assert!(
                mine.iter().any(|r| r.fields.contains_key(field.name)),
                "{kind}.{} lost",
                field.name
            );
        }
    }

    assert_eq!(
        reopened.store().highest_classification().unwrap(),
        Classification::Secret
    );
    let report = reopened.verify().unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.audit.entries, 22);
}

#[test]
fn edits_and_deletes_write_audit_and_change_log() {
    let env = Env::new();
    let path = env.path("edit.observatory");
    let mut session = Session::create(&path, env.identity()).unwrap();
    assert!(!session.store().has_unsaved_changes(), "create saves");
    let id = session
        .add(
            Kind::Item,
            None,
            &input(
                Classification::Unclassified,
                json!({"name": "Germanium", "item_kind": "material"}),
            ),
        )
        .unwrap();
    assert!(
        session.store().has_unsaved_changes(),
        "an edit is unsaved until saved"
    );
    session.save().unwrap();
    assert!(!session.store().has_unsaved_changes());
    let log_after_add = session.store().change_log_len().unwrap();
    assert_eq!(
        log_after_add, 1,
        "one row with every value of the new record"
    );
    let history = session
        .store()
        .field_history(Kind::Item, id, "name")
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].2, json!("Germanium"));
    let changed = session
        .edit(
            Kind::Item,
            id,
            &RecordInput {
                fields: serde_json::from_value(json!({"stage": "refining", "name": "Germanium"}))
                    .unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap();
    assert_eq!(changed, 1, "an unchanged value is not a change");
    // A required field cannot be cleared; nothing changes.
    let err = session
        .edit(
            Kind::Item,
            id,
            &RecordInput {
                fields: serde_json::from_value(json!({"name": null})).unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("name is required"), "{err}");
    session.delete(Kind::Item, id).unwrap();
    assert!(session.get(Kind::Item, id).is_err());
    let tombstone = session.store().get(Kind::Item, id).unwrap().unwrap();
    assert!(tombstone.meta.deleted);
    assert_eq!(session.store().change_log_len().unwrap(), log_after_add + 2);
    let actions: Vec<_> = session
        .store()
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["init", "add", "edit", "delete"]);
    assert!(session.verify().unwrap().is_ok());
}

#[test]
fn full_text_search_follows_edits_and_deletions() {
    let env = Env::new();
    let path = env.path("search.observatory");
    let mut session = Session::create(&path, env.identity()).unwrap();
    let quantum = session.search(Kind::Technology, "quant").unwrap();
    assert_eq!(quantum.len(), 4, "prefix match on the reference list");
    assert_eq!(
        session
            .search(Kind::Technology, "quantum sensing")
            .unwrap()
            .len(),
        1,
        "every word"
    );
    let id = session
        .add(Kind::Item, None, &input(Classification::Unclassified, json!({
            "name": "Gadolinium", "item_kind": "material", "description": "Aimants à base de terres rares",
        })))
        .unwrap();
    assert!(
        session
            .search(Kind::Item, "aimants terres")
            .unwrap()
            .contains(&id)
    );
    assert!(
        session.search(Kind::Item, "a base").unwrap().contains(&id),
        "accents ignored"
    );
    assert!(
        session
            .search(Kind::Item, "\"quoted\" AND OR (")
            .unwrap()
            .is_empty(),
        "query syntax is escaped"
    );
    session
        .edit(
            Kind::Item,
            id,
            &RecordInput {
                fields: serde_json::from_value(json!({"description": "Permanent magnets"}))
                    .unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap();
    assert!(session.search(Kind::Item, "aimants").unwrap().is_empty());
    assert!(session.search(Kind::Item, "magnets").unwrap().contains(&id));
    assert!(
        session
            .search(Kind::Technology, "magnets")
            .unwrap()
            .is_empty(),
        "per kind"
    );
    session.delete(Kind::Item, id).unwrap();
    assert!(
        session.search(Kind::Item, "magnets").unwrap().is_empty(),
        "tombstones are not found"
    );
    session.save().unwrap();
    drop(session);
    let reopened = Session::open(&path, env.identity(), OpenMode::ReadOnly).unwrap();
    assert_eq!(
        reopened.search(Kind::Technology, "quantum").unwrap().len(),
        4
    );
}

#[test]
fn a_version_1_file_is_migrated_on_open() {
    let env = Env::new();
    let path = env.path("v1.observatory");
    let mut session = Session::create(&path, env.identity()).unwrap();
    // Make it look like a file written by schema version 1 (no search index, no graph
    // positions, no editions, no indexes on the clocks).
    let mut downgrade = crate::util::UNDO_SCHEMA_14.to_owned()
        + "DROP TABLE search; DROP TABLE graph_position; DROP TABLE edition; DROP TABLE member; DROP TABLE bundle_out; DROP TABLE bundle_in; DROP TABLE conflict; DROP TABLE quarantine; DROP TABLE bundle_sent; DROP TABLE proposal_decision; DROP TABLE refused_change; ALTER TABLE change_log DROP COLUMN signature; ALTER TABLE change_log DROP COLUMN value_sha256;";
    // (The kinds of schema 14 went with their tables.)
    for kind in &Kind::ALL[..8] {
        downgrade.push_str(&format!("DROP INDEX {}_updated;", kind.name()));
    }
    downgrade.push_str("PRAGMA user_version = 1;");
    session
        .store()
        .connection()
        .execute_batch(&downgrade)
        .unwrap();
    session.save().unwrap();
    drop(session);
    let mut migrated = Session::open(&path, env.identity(), OpenMode::ReadWrite).unwrap();
    assert_eq!(
        migrated.store().schema_version().unwrap(),
        observatory::store::SCHEMA_VERSION
    );
    assert_eq!(
        migrated.search(Kind::Technology, "quantum").unwrap().len(),
        4,
        "index rebuilt"
    );
    migrated.save().unwrap();
    assert!(migrated.verify().unwrap().is_ok());
}

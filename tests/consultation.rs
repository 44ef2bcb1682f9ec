//! Consultation rounds, the Delphi follow-up, revision of the list and horizon scanning
//! (issue 17), through real bundles and the command line.

use observatory::model::reference::reference_technology_id;
use observatory::model::{Classification, Kind};
use observatory::service::bundle::ExportScope;
use observatory::service::consultation::{AnswerSpec, RoundSpec};
use serde_json::{Value, json};

use crate::bundles::{Replica, introduce, replica_in, send};
use crate::util::Env;

fn answer(
    tech: uuid::Uuid,
    trl: i64,
    crit: f64,
    risk: f64,
    pos: &str,
    level: Classification,
) -> AnswerSpec {
    AnswerSpec {
        subject: tech,
        trl: Some(trl),
        criticality: Some(crit),
        supply_risk: Some(risk),
        eu_position: Some(pos.into()),
        gaps: vec!["skills".into()],
        narrative: Some(format!("TRL {trl} in our view")),
        classification: Some(level),
        ..AnswerSpec::default()
    }
}

fn import(to: &mut Replica, bytes: &[u8]) {
    let report = to.session.import_bundle(bytes, false).unwrap();
    assert!(report.refused.is_empty(), "{report:?}");
}

/// The coordinator (Commission, EU) and three Member States, each verified by the others.
fn group(env: &Env) -> (Replica, Replica, Replica, Replica) {
    let mut coord = replica_in(env, "coordinator", "EU", Classification::Secret);
    let mut fr = replica_in(env, "francoise", "FR", Classification::Secret);
    let mut de = replica_in(env, "dieter", "DE", Classification::Secret);
    let mut it = replica_in(env, "iris", "IT", Classification::Secret);
    introduce(&mut [&mut coord, &mut fr, &mut de, &mut it]);
    (coord, fr, de, it)
}

#[test]
fn a_three_member_round_through_bundles_counts_medians_missing_states_and_dissent() {
    let env = Env::new();
    let (mut coord, mut fr, mut de, mut it) = group(&env);
    let quantum = reference_technology_id("quantum-computing");
    let chips = reference_technology_id("high-frequency-chips");
    let round = coord
        .session
        .open_round(&RoundSpec {
            title: "2026 consultation".into(),
            deadline: "2099-01-31".into(),
            technology_ids: vec![quantum, chips],
            classification: Classification::Restricted,
            ..RoundSpec::default()
        })
        .unwrap();
    for member in [&mut fr, &mut de, &mut it] {
        let bundle = send(&mut coord, member, &ExportScope::SinceLast);
        import(member, &bundle);
        assert_eq!(member.session.rounds().unwrap()[0].id, round);
    }
    // FR answers at CONFIDENTIAL, DE at RESTRICTED, IT does not answer.
    fr.session
        .answer_round(
            round,
            &answer(
                quantum,
                3,
                8.0,
                7.0,
                "lagging",
                Classification::Confidential,
            ),
        )
        .unwrap();
    de.session
        .answer_round(
            round,
            &answer(quantum, 7, 7.0, 6.0, "leading", Classification::Restricted),
        )
        .unwrap();
    // Answering again changes the member's answer, never adds a second one.
    let first = de
        .session
        .answer_round(
            round,
            &answer(chips, 4, 5.0, 5.0, "on-par", Classification::Restricted),
        )
        .unwrap();
    let again = de
        .session
        .answer_round(
            round,
            &answer(chips, 5, 5.0, 5.0, "on-par", Classification::Restricted),
        )
        .unwrap();
    assert_eq!(first, again);
    // Something not in scope is refused.
    let other = reference_technology_id("ai-computing");
    let err = de
        .session
        .answer_round(
            round,
            &answer(other, 5, 5.0, 5.0, "on-par", Classification::Restricted),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("not in the scope"), "{err}");
    for member in [&mut fr, &mut de] {
        let bundle = send(member, &coord, &ExportScope::SinceLast);
        import(&mut coord, &bundle);
    }
    let view = coord.session.round_view(round).unwrap();
    assert_eq!(
        view.classification,
        Classification::Confidential,
        "the highest answer"
    );
    assert_eq!(
        view.expected,
        vec!["DE", "FR", "IT"],
        "the Commission coordinates"
    );
    let q = view.technologies.iter().find(|t| t.id == quantum).unwrap();
    assert_eq!(
        (q.answers, q.member_states.clone(), q.missing.clone()),
        (
            2,
            vec!["DE".to_owned(), "FR".to_owned()],
            vec!["IT".to_owned()]
        )
    );
    assert_eq!(
        (q.trl.median, q.trl.min, q.trl.max),
        (Some(5.0), Some(3.0), Some(7.0))
    );
    assert!(q.trl.dissent, "4 TRL levels apart");
    assert_eq!(
        (q.criticality.median, q.criticality.dissent),
        (Some(7.5), false)
    );
    assert_eq!(q.supply_risk.median, Some(6.5));
    assert!(
        q.eu_position_dissent,
        "leading and lagging are two steps apart"
    );
    assert_eq!(q.dissent_on, vec!["trl", "eu_position"]);
    assert_eq!(
        q.responses[1].narrative.as_deref(),
        Some("TRL 3 in our view")
    );
    let c = view.technologies.iter().find(|t| t.id == chips).unwrap();
    assert_eq!((c.answers, c.trl.median, c.dissent), (1, Some(5.0), false));
    assert_eq!(c.missing, vec!["FR", "IT"]);

    // The coordinator cannot change a member's answer.
    let fr_answer = q
        .responses
        .iter()
        .find(|r| r.member_state == "FR")
        .unwrap()
        .id;
    let err = coord
        .session
        .edit(
            Kind::Assessment,
            fr_answer,
            &observatory::service::RecordInput {
                fields: serde_json::from_value(json!({"trl": 9})).unwrap(),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("only by the member who gave it"), "{err}");
    // Nor can a member close the coordinator's round.
    let err = fr.session.close_round(round).unwrap_err().to_string();
    assert!(err.contains("only by its coordinator"), "{err}");

    // Closing writes one consolidated assessment per technology answered, at the highest
    // level of the answers it rests on, linked to them.
    let report = coord.session.close_round(round).unwrap();
    assert_eq!(report.consolidated.len(), 2);
    assert_eq!(report.classification, Classification::Confidential);
    let (_, consolidated) = report
        .consolidated
        .iter()
        .find(|(t, _)| *t == quantum)
        .unwrap();
    let a = coord.session.get(Kind::Assessment, *consolidated).unwrap();
    assert_eq!(a.meta.classification, Classification::Confidential);
    assert_eq!(a.text("assessment_kind"), Some("consolidated"));
    assert_eq!(a.fields["trl"], json!(5), "the median");
    assert_eq!(
        a.fields["eu_position"],
        json!("on-par"),
        "the median position"
    );
    assert_eq!(a.fields["criticality"], json!(7.5));
    assert_eq!(a.texts("based_on_ids").len(), 2);
    assert_eq!(a.text("confidence"), Some("low"), "dissent");
    let narrative = a.text("narrative").unwrap();
    assert!(
        narrative.contains("No answer from IT") && narrative.contains("Dissent on TRL"),
        "{narrative}"
    );
    let (_, chips_c) = report
        .consolidated
        .iter()
        .find(|(t, _)| *t == chips)
        .unwrap();
    let chips_c = coord.session.get(Kind::Assessment, *chips_c).unwrap();
    assert_eq!(
        chips_c.meta.classification,
        Classification::Restricted,
        "its own answers only"
    );
    let view = coord.session.round_view(round).unwrap();
    assert_eq!(view.round.status, "closed");
    assert_eq!(view.consolidated.len(), 2);
    // Closed: no more answers, no second closing.
    let bundle = send(&mut coord, &it, &ExportScope::SinceLast);
    import(&mut it, &bundle);
    let err = it
        .session
        .answer_round(
            round,
            &answer(quantum, 5, 5.0, 5.0, "on-par", Classification::Restricted),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("is closed"), "{err}");
    assert!(coord.session.close_round(round).is_err());

    // The Delphi follow-up carries the distribution, without names or Member States, at the
    // level of what it summarises.
    let follow = coord
        .session
        .open_round(&RoundSpec {
            title: "2026 consultation, second round".into(),
            deadline: "2099-03-31".into(),
            technology_ids: vec![quantum],
            follow_up_of: Some(round),
            ..RoundSpec::default()
        })
        .unwrap();
    let r2 = coord.session.get(Kind::Round, follow).unwrap();
    assert_eq!(r2.meta.classification, Classification::Confidential);
    let distribution = r2.text("previous_distribution").unwrap();
    for name in ["FR", "DE", "francoise", "dieter", "TRL 3 in our view"] {
        assert!(!distribution.contains(name), "{name} in {distribution}");
    }
    let bundle = send(&mut coord, &fr, &ExportScope::SinceLast);
    import(&mut fr, &bundle);
    let seen = fr.session.round_view(follow).unwrap();
    let previous = seen.technologies[0].previous.clone().unwrap();
    assert_eq!(previous["trl"], json!([3.0, 7.0]));
    assert_eq!(previous["answers"], json!(2));
    let own = fr.session.own_answer(round, quantum).unwrap().unwrap();
    assert_eq!(own.fields["trl"], json!(3), "beside their own answer");
}

#[test]
fn the_round_commands_follow_their_contract() {
    let env = Env::new();
    let file = env.init("r.observatory");
    let f = file.to_str().unwrap();
    let quantum = reference_technology_id("quantum-computing").to_string();
    let chips = reference_technology_id("high-frequency-chips").to_string();
    let round = env
        .ok(&[
            "round",
            "open",
            f,
            "--title",
            "Spring round",
            "--deadline",
            "2099-05-01",
            "--technology",
            &quantum,
            "--technology",
            &chips,
        ])
        .trim()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&round).is_ok(), "{round}");
    let list: Value =
        serde_json::from_str(&env.ok(&["round", "list", f, "--format", "json"])).unwrap();
    assert_eq!(list["rounds"][0]["title"], "Spring round");
    assert_eq!(list["rounds"][0]["status"], "open");
    env.ok(&[
        "round",
        "answer",
        f,
        &round,
        "--technology",
        &quantum,
        "--trl",
        "6",
        "--criticality",
        "8.5",
        "--supply-risk",
        "7",
        "--eu-position",
        "lagging",
        "--narrative",
        "Our view",
        "--classification",
        "SECRET",
    ]);
    // Bad input: its own message and exit code, nothing changed.
    env.fails(
        &[
            "round",
            "answer",
            f,
            &round,
            "--technology",
            &quantum,
            "--trl",
            "12",
        ],
        2,
    );
    env.fails(
        &[
            "round",
            "answer",
            f,
            &round,
            "--technology",
            &quantum,
            "--eu-position",
            "ahead",
        ],
        11,
    );
    let err = env.fails(
        &[
            "round",
            "answer",
            f,
            &round,
            "--technology",
            &uuid::Uuid::nil().to_string(),
            "--trl",
            "3",
        ],
        11,
    );
    assert!(err.contains("not in the scope"), "{err}");
    env.fails(&["round", "show", f, &uuid::Uuid::nil().to_string()], 12);
    env.fails(
        &[
            "round",
            "open",
            f,
            "--title",
            "x",
            "--deadline",
            "31/12/2026",
            "--technology",
            &quantum,
        ],
        11,
    );
    let show: Value =
        serde_json::from_str(&env.ok(&["round", "show", f, &round, "--format", "json"])).unwrap();
    assert_eq!(show["round"]["id"], round.as_str());
    assert_eq!(show["round"]["title"], "Spring round");
    assert_eq!(show["round"]["deadline"], "2099-05-01");
    assert_eq!(show["round"]["status"], "open");
    assert_eq!(show["classification"], "SECRET");
    let by_id = |id: &str| {
        show["technologies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()
            .clone()
    };
    let t = &by_id(&quantum);
    assert_eq!(t["answers"], 1);
    assert_eq!(t["member_states"], json!(["FR"]));
    assert_eq!(t["missing"], json!([]));
    for (q, v) in [("trl", 6.0), ("criticality", 8.5), ("supply_risk", 7.0)] {
        for k in ["median", "min", "max"] {
            assert_eq!(t[q][k], json!(v), "{q}.{k}");
        }
    }
    assert_eq!(t["dissent"], false);
    assert_eq!(by_id(&chips)["answers"], 0);
    assert_eq!(by_id(&chips)["missing"], json!(["FR"]));
    // Answering again with one value changes that value and keeps the rest.
    env.ok(&[
        "round",
        "answer",
        f,
        &round,
        "--technology",
        &quantum,
        "--trl",
        "7",
    ]);
    let table = env.ok(&["round", "show", f, &round]);
    assert!(table.starts_with("== SECRET"), "{table}");
    assert!(
        table.contains("Our view") && table.contains("TRL 7 | criticality 8.5"),
        "{table}"
    );
    let out = env.ok(&["round", "close", f, &round]);
    assert!(
        out.contains("1 consolidated assessment(s)") && out.contains("SECRET"),
        "{out}"
    );
    let list: Value =
        serde_json::from_str(&env.ok(&["round", "list", f, "--format", "json"])).unwrap();
    assert_eq!(list["rounds"][0]["status"], "closed");
    let err = env.fails(&["round", "close", f, &round], 11);
    assert!(err.contains("already closed"), "{err}");
    env.ok(&["verify", f]);
}

#[test]
fn an_accepted_proposal_makes_list_version_two_and_the_diff_shows_it() {
    let env = Env::new();
    let file = env.init("l.observatory");
    let f = file.to_str().unwrap();
    let quantum = reference_technology_id("quantum-computing").to_string();
    let chips = reference_technology_id("high-frequency-chips").to_string();
    let id = |out: String| out.trim().to_owned();
    let rename = id(env.ok(&[
        "proposal",
        "add",
        f,
        "--action",
        "rename",
        "--technology",
        &quantum,
        "--name",
        "Quantum computing and simulation",
        "--criterion",
        "multi-use",
        "--rationale",
        "simulation is where the capability is",
    ]));
    let add = id(env.ok(&[
        "proposal",
        "add",
        f,
        "--action",
        "add",
        "--name",
        "Neuromorphic computing",
        "--area",
        "ai",
        "--criterion",
        "strategic-dependency",
        "--criterion",
        "multi-use",
    ]));
    let remove = id(env.ok(&[
        "proposal",
        "add",
        f,
        "--action",
        "remove",
        "--technology",
        &chips,
    ]));
    let rejected = id(env.ok(&[
        "proposal",
        "add",
        f,
        "--action",
        "move",
        "--technology",
        &chips,
        "--area",
        "quantum",
    ]));
    // Checked against the list: a listed technology cannot be added again.
    env.fails(
        &[
            "proposal",
            "add",
            f,
            "--action",
            "add",
            "--technology",
            &quantum,
        ],
        11,
    );
    env.fails(
        &[
            "proposal",
            "add",
            f,
            "--action",
            "teleport",
            "--technology",
            &quantum,
        ],
        11,
    );
    env.ok(&["proposal", "reject", f, &rejected]);
    let list: Value =
        serde_json::from_str(&env.ok(&["proposal", "list", f, "--format", "json"])).unwrap();
    assert_eq!(list["proposals"].as_array().unwrap().len(), 4);
    let out = env.ok(&["proposal", "accept", f, &rename, &add, &remove]);
    assert!(out.contains("version 2"), "{out}");
    env.fails(&["proposal", "accept", f, &rename], 11);
    env.fails(&["proposal", "accept", f, &rejected], 11);
    let versions: Value =
        serde_json::from_str(&env.ok(&["list-version", "list", f, "--format", "json"])).unwrap();
    let v = versions["versions"].as_array().unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(
        (v[0]["number"].clone(), v[1]["number"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(
        v[1]["technologies"], v[0]["technologies"],
        "one added, one removed"
    );
    let diff: Value =
        serde_json::from_str(&env.ok(&["list-version", "diff", f, "1", "2", "--format", "json"]))
            .unwrap();
    let changes = diff["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{diff}");
    assert_eq!(changes[0]["change"], "removed");
    assert_eq!(changes[0]["entry"]["id"], chips.as_str());
    assert_eq!(changes[1]["change"], "added");
    assert_eq!(changes[1]["entry"]["name"], "Neuromorphic computing");
    assert_eq!(changes[2]["change"], "renamed");
    assert_eq!(changes[2]["to"], "Quantum computing and simulation");
    let table = env.ok(&["list-version", "diff", f]);
    assert!(
        table.contains("removed") && table.contains("Neuromorphic computing"),
        "{table}"
    );
    // The removed technology stays in the register, marked as no longer listed.
    let techs: Value =
        serde_json::from_str(&env.ok(&["list", f, "technology", "--format", "json"])).unwrap();
    let chip = techs["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == chips.as_str())
        .unwrap_or_else(|| panic!("{techs}"));
    assert_eq!(chip["watch_status"], "retired", "{chip}");
    let history: Value =
        serde_json::from_str(&env.ok(&["list-version", "history", f, &chips, "--format", "json"]))
            .unwrap();
    assert!(
        history["versions"][0]["entry"].is_object() && history["versions"][1]["entry"].is_null(),
        "{history}"
    );
    // A version never changes, even by the one who made it.
    let v2 = v[1]["id"].as_str().unwrap();
    let err = env.fails(
        &["edit", f, "list_version", v2, "--set", "title=Forged"],
        11,
    );
    assert!(err.contains("versions never change"), "{err}");
    env.fails(&["delete", f, "list_version", v2], 11);
    env.ok(&["verify", f]);
}

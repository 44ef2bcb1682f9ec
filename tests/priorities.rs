//! Where to act first (issue 18): the urgency ranking computed by hand on a small register,
//! blocs, the Critical Raw Materials Act flags, and measures' expected effects.

use observatory::model::{Classification, Kind};
use observatory::service::{RecordInput, Session};
use serde_json::{Value, json};

use crate::util::Env;

fn add(s: &mut Session, kind: Kind, fields: Value) -> uuid::Uuid {
    let input = RecordInput {
        classification: Some(Classification::Unclassified),
        fields: serde_json::from_value(fields).unwrap(),
        ..RecordInput::default()
    };
    s.add(kind, None, &input).unwrap()
}

pub(crate) struct Small {
    pub(crate) session: Session,
    pub(crate) alpha: uuid::Uuid,
    pub(crate) beta: uuid::Uuid,
    pub(crate) gallium: uuid::Uuid,
    pub(crate) measure: uuid::Uuid,
}

/// Alpha (defence, TRL 4, lagging, gaps skills + hardware, root cause CRM) needs gallium
/// (processing: CN 93.8 %, DE 6.2 %, 2023); Beta (civil, TRL 6, leading) needs a widget
/// (US 50 %, FR 50 %); Gamma has nothing. One ongoing measure aims at Alpha's skills gap, and
/// if it succeeds DE supplies half of the gallium and Alpha reaches TRL 7.
pub(crate) fn small(env: &Env) -> Small {
    let mut s = Session::create(&env.path("p.observatory"), env.identity()).unwrap();
    let alpha = add(
        &mut s,
        Kind::Technology,
        json!({"name": "Alpha radar", "domains": ["defence"]}),
    );
    let beta = add(
        &mut s,
        Kind::Technology,
        json!({"name": "Beta sensor", "domains": ["civil"]}),
    );
    add(&mut s, Kind::Technology, json!({"name": "Gamma"}));
    let gallium = add(
        &mut s,
        Kind::Item,
        json!({"name": "Gallium (processing)", "item_kind": "material", "stage": "processing"}),
    );
    let widget = add(
        &mut s,
        Kind::Item,
        json!({"name": "Widget", "item_kind": "component"}),
    );
    for (item, country, share) in [
        (gallium, "CN", 0.938),
        (gallium, "DE", 0.062),
        (widget, "US", 0.5),
        (widget, "FR", 0.5),
    ] {
        add(
            &mut s,
            Kind::Link,
            json!({"from_id": item.to_string(), "to_id": country, "link_kind": "produced-in", "share": share, "year": 2023}),
        );
    }
    add(
        &mut s,
        Kind::Link,
        json!({"from_id": alpha.to_string(), "to_id": gallium.to_string(), "link_kind": "requires"}),
    );
    add(
        &mut s,
        Kind::Link,
        json!({"from_id": beta.to_string(), "to_id": widget.to_string(), "link_kind": "requires"}),
    );
    add(
        &mut s,
        Kind::Assessment,
        json!({"subject_id": alpha.to_string(), "date": "2026-01-01", "trl": 4,
        "eu_position": "lagging", "gaps": ["skills", "hardware"], "root_causes": ["critical-raw-materials"]}),
    );
    add(
        &mut s,
        Kind::Assessment,
        json!({"subject_id": beta.to_string(), "date": "2026-01-01", "trl": 6, "eu_position": "leading"}),
    );
    let measure = add(
        &mut s,
        Kind::Measure,
        json!({"name": "EDF GaN line", "instrument": "edf", "status": "ongoing",
        "start": "2025-01-01", "end": "2099-12-31", "budget_eur": 40000000.0,
        "target_ids": [alpha.to_string()], "gaps_addressed": ["skills"],
        "effect_item_id": gallium.to_string(), "effect_country": "DE", "effect_share": 0.5, "effect_trl": 7}),
    );
    Small {
        session: s,
        alpha,
        beta,
        gallium,
        measure,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.051
}

#[test]
fn the_ranking_matches_a_computation_by_hand() {
    let env = Env::new();
    let s = small(&env);
    let r = s.session.priorities("EU", &[]).unwrap();
    assert_eq!(r.bloc, "EU");
    let a = &r.technologies[0];
    assert_eq!(a.id, s.alpha);
    // dependency: E = 0.938 outside the EU (CN), W = 0.938 (CN), C = 1 (gallium fails the
    // CRMA benchmarks): 100 × min(1, 0.469 + 0.2814 + 0.2) = 95.04.
    assert!(close(a.components["dependency"], 95.0), "{a:?}");
    // capability: lagging 66.67 and TRL 4 against 7 for defence: 100 × 3/6 = 50; mean 58.33.
    assert!(close(a.components["capability"], 58.3), "{a:?}");
    // gaps: 3 of 5.
    assert!(close(a.components["gaps"], 60.0));
    // mitigation: skills covered; hardware, the root cause uncovered; the dependency covered
    // (the measure targets Alpha): 2 of 4.
    assert!(close(a.components["mitigation"], 50.0));
    assert_eq!(
        a.uncovered_gaps,
        vec!["gap: hardware", "root cause: critical-raw-materials"]
    );
    // (35·95.0 + 25·58.3 + 15·60 + 25·50) / 100 = 69.33.
    assert!(close(a.score, 69.3), "{}", a.score);
    assert!(
        a.concerns
            .iter()
            .any(|c| c
                .contains("exceeds 65 % from one third country: China 93.8 %, processing, 2023")),
        "{:?}",
        a.concerns
    );
    assert_eq!((a.trl, a.trl_needed), (Some(4), 7));
    let b = &r.technologies[1];
    assert_eq!(b.id, s.beta);
    // dependency: E = 0.5 (US), W = 0.5, C = 0: 40; capability 0; gaps 0; nothing needs a
    // measure: mitigation 0. Score 35·40/100 = 14.
    assert!(
        close(b.components["dependency"], 40.0) && close(b.score, 14.0),
        "{b:?}"
    );
    assert_eq!(b.outside_bloc_exposure, Some(0.5));
    // Ties (everything else scores 0) are in name order; Gamma's unknown parts are listed.
    let rest: Vec<&str> = r.technologies[2..]
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let mut sorted = rest.clone();
    sorted.sort_unstable();
    assert_eq!(rest, sorted);
    let gamma = r.technologies.iter().find(|t| t.name == "Gamma").unwrap();
    assert_eq!(
        (gamma.score, gamma.unknown.clone()),
        (
            0.0,
            vec![
                "dependency".to_owned(),
                "capability".to_owned(),
                "gaps".to_owned()
            ]
        )
    );
    // For the like-minded bloc, Beta's supply is all inside: dependency 0.
    let lm = s.session.priorities("like-minded", &[]).unwrap();
    let b = lm.technologies.iter().find(|t| t.id == s.beta).unwrap();
    assert_eq!(
        (b.components["dependency"], b.outside_bloc_exposure),
        (0.0, Some(0.0))
    );
    let err = s
        .session
        .priorities("Atlantis", &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("there is no bloc \"Atlantis\"") && err.contains("like-minded"),
        "{err}"
    );
}

#[test]
fn a_measure_that_succeeds_changes_the_ranking_as_computed_by_hand() {
    let env = Env::new();
    let s = small(&env);
    let r = s.session.priorities("EU", &[s.measure]).unwrap();
    let a = r.technologies.iter().find(|t| t.id == s.alpha).unwrap();
    // Gallium: CN 0.469, DE 0.031 + 0.5. E = W = 0.469, no flag: 100 × 0.8 × 0.469 = 37.52.
    assert!(close(a.components["dependency"], 37.5), "{a:?}");
    // TRL 7 reached: capability = mean(66.67, 0) = 33.33.
    assert!(close(a.components["capability"], 33.3), "{a:?}");
    // The dependency is under 50: only the gaps need measures, 2 of 3 uncovered.
    assert!(close(a.components["mitigation"], 66.7), "{a:?}");
    // (35·37.5 + 25·33.3 + 15·60 + 25·66.7) / 100 = 47.13; before: 69.3.
    assert!(close(a.score, 47.1), "{}", a.score);
    assert!(close(a.score_before.unwrap(), 69.3));
    assert!(a.concerns.is_empty(), "{:?}", a.concerns);
    // The register itself is untouched.
    let links = s.session.list(Kind::Link).unwrap();
    assert_eq!(
        links
            .iter()
            .filter(|l| l.text("from_id") == Some(s.gallium.to_string().as_str()))
            .count(),
        2
    );
}

#[test]
fn the_priorities_command_and_analyse_read_a_bloc() {
    let env = Env::new();
    let mut s = small(&env);
    s.session.save().unwrap();
    let (alpha, gallium) = (s.alpha.to_string(), s.gallium.to_string());
    drop(s);
    let f = env.path("p.observatory");
    let f = f.to_str().unwrap();
    let out: Value = serde_json::from_str(&env.ok(&["priorities", f, "--format", "json"])).unwrap();
    let first = &out["technologies"][0];
    assert_eq!(first["id"], alpha.as_str());
    for key in ["id", "name", "score", "components", "uncovered_gaps"] {
        assert!(first.get(key).is_some(), "{key}");
    }
    assert_eq!(first["components"]["gaps"], 60.0);
    let scores: Vec<f64> = out["technologies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "highest first");
    let table = env.ok(&["priorities", f, "--bloc", "NATO"]);
    assert!(
        table.starts_with("== UNCLASSIFIED") && table.contains("Alpha radar"),
        "{table}"
    );
    env.fails(&["priorities", f, "--bloc", "Atlantis"], 11);
    let a: Value = serde_json::from_str(&env.ok(&[
        "analyse",
        f,
        "--bloc",
        "EU",
        "--cut-outside",
        "--format",
        "json",
    ]))
    .unwrap();
    let g = a["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == gallium.as_str())
        .unwrap();
    assert_eq!(g["bloc_share"], 0.062);
    assert_eq!(g["crma_flags"][0]["benchmark"], "single-third-country");
    assert_eq!(
        g["crma_flags"][0]["text"],
        "exceeds 65 % from one third country: China 93.8 %, processing, 2023 (world supply: the EU's own sourcing is not recorded)"
    );
    let t = a["technologies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == alpha.as_str())
        .unwrap();
    assert_eq!(t["outside_bloc_exposure"], 0.938);
    assert_eq!(
        a["scenario"][alpha.as_str()],
        0.938,
        "everything outside the EU cut"
    );
    env.fails(&["analyse", f, "--cut-outside"], 2);
    // The analysis as if the measure succeeds: DE supplies half of the gallium.
    let measure = {
        let s = observatory::service::Session::open(
            &env.path("p.observatory"),
            env.identity(),
            observatory::store::OpenMode::ReadOnly,
        )
        .unwrap();
        s.list(Kind::Measure).unwrap()[0].meta.id.to_string()
    };
    let a: Value = serde_json::from_str(&env.ok(&[
        "analyse", f, "--bloc", "EU", "--apply", &measure, "--format", "json",
    ]))
    .unwrap();
    let g = a["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == gallium.as_str())
        .unwrap();
    assert_eq!(g["bloc_share"], 0.531, "0.062 × 0.5 + 0.5");
    assert_eq!(g["top_country"], "DE");
    assert!(g["crma_flags"].as_array().unwrap().is_empty(), "{g}");
}

#[test]
fn a_roadmap_pdf_reads_back_with_its_marking_targets_measures_and_what_moved() {
    if !crate::util::have_tool("pdftotext") {
        return;
    }
    let env = Env::new();
    let mut s = small(&env);
    let roadmap = s
        .session
        .add(
            Kind::Roadmap,
            None,
            &RecordInput {
                classification: Some(Classification::Restricted),
                fields: serde_json::from_value(json!({
                    "title": "Alpha roadmap", "technology_id": s.alpha.to_string(), "bloc": "EU",
                    "targets": ["2030: TRL 8, outside bloc 40 %, EU capacity 20 %", "2028: TRL 6; a pilot"],
                    "milestones": ["2027-06-30: pilot line"],
                    "measure_ids": [s.measure.to_string()],
                })).unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap();
    s.session.freeze_edition("Report 2026", None).unwrap();
    s.session
        .edit(
            Kind::Roadmap,
            roadmap,
            &RecordInput {
                fields: serde_json::from_value(json!({"milestones": ["2027-06-30: pilot line", "2029-01-31: series production"]})).unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap();
    s.session.save().unwrap();
    let alpha = s.alpha.to_string();
    drop(s);
    let f = env.path("p.observatory");
    let f = f.to_str().unwrap();
    let out = env.ok(&[
        "roadmap",
        f,
        "--technology",
        &alpha,
        "--out",
        "r.pdf",
        "--markdown",
        "r.md",
    ]);
    assert!(out.contains("marked RESTREINT UE/EU RESTRICTED"), "{out}");
    let text = std::process::Command::new("pdftotext")
        .arg(env.path("r.pdf"))
        .arg("-")
        .output()
        .unwrap();
    let raw = String::from_utf8_lossy(&text.stdout).to_string();
    // Table cells wrap: compare with runs of white space as one space.
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "RESTREINT UE/EU RESTRICTED",
        "Technology roadmap: Alpha radar",
        "Where it stands",
        "4 (needs 7)",
        "2030",
        "40 %",
        "20 %",
        "a pilot (not read)",
        "pilot line",
        "EDF GaN line",
        "EUR 40.0",
        "What moved since the previous edition",
        "series production",
    ] {
        assert!(text.contains(want), "{want} not in:\n{raw}");
    }
    // Every page is marked.
    let text = raw;
    let pages = text.split('\u{c}').filter(|p| !p.trim().is_empty()).count();
    assert!(
        text.matches("RESTREINT UE/EU RESTRICTED").count() > 2 * pages,
        "{pages} pages: a banner at the top and the bottom of each, and the title page's level"
    );
    let md = std::fs::read_to_string(env.path("r.md")).unwrap();
    assert!(
        md.starts_with("**RESTREINT UE/EU RESTRICTED**") && md.contains("| (R) | 2030 |"),
        "{md}"
    );
    // A new file only; an unknown area is its own error.
    env.fails(
        &["roadmap", f, "--technology", &alpha, "--out", "r.pdf"],
        11,
    );
    env.fails(&["roadmap", f, "--area", "alchemy", "--out", "x.pdf"], 11);
    env.fails(&["roadmap", f, "--out", "y.pdf"], 2);
}

#[test]
fn what_a_row_rests_on_marks_it_and_effects_apply_only_where_they_can() {
    let env = Env::new();
    let mut s = small(&env);
    // A SECRET supply figure behind Alpha: the row, the ranking and Alpha's roadmap are SECRET.
    let link = s
        .session
        .list(Kind::Link)
        .unwrap()
        .into_iter()
        .find(|l| {
            l.text("from_id") == Some(s.gallium.to_string().as_str())
                && l.text("to_id") == Some("CN")
        })
        .unwrap();
    s.session
        .edit(
            Kind::Link,
            link.meta.id,
            &RecordInput {
                classification: Some(Classification::Secret),
                ..RecordInput::default()
            },
        )
        .unwrap();
    let r = s.session.priorities("EU", &[]).unwrap();
    let a = r.technologies.iter().find(|t| t.id == s.alpha).unwrap();
    let b = r.technologies.iter().find(|t| t.id == s.beta).unwrap();
    assert_eq!(
        (a.classification, b.classification),
        (Classification::Secret, Classification::Unclassified)
    );
    assert_eq!(r.classification, Classification::Secret);
    let doc = observatory::report::roadmap::build(
        &s.session,
        &observatory::report::roadmap::Subject::Technology(s.alpha),
    )
    .unwrap();
    assert_eq!(
        doc.classification,
        Classification::Secret,
        "its figures rest on the SECRET link"
    );
    // A measure given twice succeeds once: DE 0.5, not 0.75.
    let twice = s.session.priorities("EU", &[s.measure, s.measure]).unwrap();
    let a2 = twice.technologies.iter().find(|t| t.id == s.alpha).unwrap();
    assert!(close(a2.components["dependency"], 37.5), "{a2:?}");
    // A new supplier never joins firm figures: an item with firms only is left as it is, and
    // the ranking says why.
    let firm = add(
        &mut s.session,
        Kind::Organisation,
        json!({"name": "Sole Refiner Ltd", "hq_country": "CN"}),
    );
    let wafers = add(
        &mut s.session,
        Kind::Item,
        json!({"name": "Wafers", "item_kind": "component"}),
    );
    add(
        &mut s.session,
        Kind::Link,
        json!({"from_id": wafers.to_string(), "to_id": firm.to_string(), "link_kind": "supplied-by", "share": 1.0, "year": 2023}),
    );
    add(
        &mut s.session,
        Kind::Link,
        json!({"from_id": s.beta.to_string(), "to_id": wafers.to_string(), "link_kind": "requires"}),
    );
    let m = add(
        &mut s.session,
        Kind::Measure,
        json!({"name": "Wafer fab", "status": "planned", "target_ids": [s.beta.to_string()],
        "effect_item_id": wafers.to_string(), "effect_country": "FR", "effect_share": 0.5}),
    );
    let before = s.session.priorities("EU", &[]).unwrap();
    let after = s.session.priorities("EU", &[m]).unwrap();
    let (b0, b1) = (
        before.technologies.iter().find(|t| t.id == s.beta).unwrap(),
        after.technologies.iter().find(|t| t.id == s.beta).unwrap(),
    );
    assert_eq!(b0.components["dependency"], b1.components["dependency"]);
    assert!(
        b1.concerns
            .iter()
            .any(|c| c.contains("Wafer fab: its item has no country figures")),
        "{:?}",
        b1.concerns
    );
}

#[test]
fn crma_flags_only_strategic_raw_materials() {
    use observatory::analysis::crma::is_strategic;
    for yes in [
        "Gallium (processing)",
        "Cobalt (extraction)",
        "Rare earth elements",
        "Gadolinium",
        "Silicon metal (processing)",
        "Platinum group metals",
    ] {
        assert!(is_strategic(yes), "{yes}");
    }
    for no in [
        "Titanium dioxide",
        "Gallium nitride wafers",
        "Lithium niobate",
        "Boron carbide",
        "NdFeB permanent magnets",
        "Lithium-ion battery cells",
        "Iron ore",
        "Tantalum",
    ] {
        assert!(!is_strategic(no), "{no}");
    }
}

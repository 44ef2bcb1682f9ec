//! Importers of public datasets (ETO, EU CRM 2023, USGS) and the demo observatory.

use std::path::{Path, PathBuf};

use observatory::analysis::concentration;
use observatory::model::{Classification, Kind, Record};
use observatory::service::{ServiceError, Session};
use observatory::sources::{self, ReadOptions, SourceFormat, stable_id};
use serde_json::Value;

use crate::util::Env;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn asset(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/data")
        .join(path)
}

fn read(format: SourceFormat, path: &Path, year: Option<i64>) -> sources::Parsed {
    sources::read(
        format,
        path,
        &ReadOptions {
            year,
            ..ReadOptions::default()
        },
    )
    .unwrap()
}

fn import(session: &mut Session, format: SourceFormat, path: &Path, year: Option<i64>) {
    let parsed = read(format, path, year);
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    session
        .import_source(&parsed, &path.display().to_string(), false, false)
        .unwrap();
}

fn by_name<'a>(records: &'a [Record], name: &str) -> &'a Record {
    records
        .iter()
        .find(|r| r.text("name") == Some(name))
        .unwrap_or_else(|| panic!("no record named {name}"))
}

fn links_from<'a>(links: &'a [Record], from: &Record) -> Vec<&'a Record> {
    let id = from.meta.id.to_string();
    links
        .iter()
        .filter(|l| l.text("from_id") == Some(id.as_str()))
        .collect()
}

fn share(link: &Record) -> Option<f64> {
    link.fields.get("share").and_then(Value::as_f64)
}

#[test]
fn crm_study_tables_give_32_critical_materials_and_gallium_concentration() {
    let env = Env::new();
    let mut session = Session::create(&env.path("crm.observatory"), env.identity()).unwrap();
    import(&mut session, SourceFormat::Crm, &asset("eu_crm_2023"), None);
    let items = session.list(Kind::Item).unwrap();
    let assessments = session.list(Kind::Assessment).unwrap();
    // The 2023 thresholds on the 2023 scores.
    let critical: Vec<String> = assessments
        .iter()
        .filter(|a| a.text("date") == Some("2023-01-01"))
        .filter(|a| {
            let sr = a.fields.get("supply_risk").and_then(Value::as_f64);
            let ei = a.fields.get("economic_importance").and_then(Value::as_f64);
            matches!((sr, ei), (Some(sr), Some(ei)) if sr >= 1.0 && ei >= 2.8)
        })
        .map(|a| session.describe(a.text("subject_id").unwrap()))
        .collect();
    assert_eq!(critical.len(), 32, "{critical:?}");
    assert!(critical.iter().any(|c| c.contains("Gallium")));
    // Scores over time: five assessments of gallium, 2011 to 2023; "-" is no assessment.
    let gallium = by_name(&items, "Gallium");
    let gallium_scores: Vec<&Record> = assessments
        .iter()
        .filter(|a| a.text("subject_id") == Some(gallium.meta.id.to_string().as_str()))
        .collect();
    assert_eq!(gallium_scores.len(), 5);
    let aggregates = by_name(&items, "Aggregates");
    assert!(
        assessments
            .iter()
            .filter(|a| a.text("subject_id") == Some(aggregates.meta.id.to_string().as_str()))
            .all(|a| a.text("date") != Some("2011-01-01")),
        "not assessed in 2011"
    );
    // The quoted name with an embedded newline is one material.
    by_name(&items, "Natural Teak wood");
    // Concentration of gallium processing: China 93.8 %.
    let orgs = session.list(Kind::Organisation).unwrap();
    let links = session.list(Kind::Link).unwrap();
    let result = concentration(&items, &orgs, &links);
    let processing = result
        .iter()
        .find(|c| c.name == "Gallium (processing)")
        .unwrap();
    assert_eq!(processing.top_country, "CN");
    // The study's shares add up to 100.1 %: rounding, kept as published.
    assert!(
        (processing.top_share - 0.938).abs() < 0.002,
        "{}",
        processing.top_share
    );
    let china = links
        .iter()
        .find(|l| l.meta.id == stable_id(SourceFormat::Crm, "global/gallium/P/CN"))
        .unwrap();
    assert_eq!(share(china), Some(0.938));
    assert!(processing.hhi > 8_800.0, "{}", processing.hhi);
    // Windows-1252: "Türkiye" (byte 0xFC) is read and mapped; "<0.1%" is half the bound.
    let turkey: Vec<&Record> = links
        .iter()
        .filter(|l| l.text("to_id") == Some("TR"))
        .collect();
    assert!(!turkey.is_empty());
    let tiny = links
        .iter()
        .find(|l| l.text("notes").is_some_and(|n| n.contains("<0.1%")))
        .unwrap();
    assert_eq!(share(tiny), Some(0.0005));
    // End uses link materials to applications.
    let uses = links_from(&links, gallium);
    assert!(
        uses.iter()
            .any(|l| l.text("link_kind") == Some("input-to") && share(l).is_some()),
        "gallium end uses"
    );
    // EU sourcing shares are their own item.
    by_name(&items, "Gallium (processing, EU sourcing)");
    // Everything is public, UNCLASSIFIED, and cites the study.
    assert!(
        items
            .iter()
            .all(|i| i.meta.classification == Classification::Unclassified)
    );
    assert_eq!(session.list(Kind::Source).unwrap().len(), 1);
    assert!(session.verify().unwrap().is_ok());
    // Importing the same tables again changes nothing.
    let parsed = read(SourceFormat::Crm, &asset("eu_crm_2023"), None);
    let again = session
        .import_source(&parsed, "again", false, false)
        .unwrap();
    assert_eq!((again.import.new, again.import.changed), (0, 0));
}

#[test]
fn eto_releases_update_the_same_records_and_keep_the_old_shares_as_history() {
    let env = Env::new();
    let mut session = Session::create(&env.path("eto.observatory"), env.identity()).unwrap();
    // The older release has no year column: --year says which year its shares are from.
    import(
        &mut session,
        SourceFormat::Eto,
        &fixture("eto/release-2021"),
        Some(2021),
    );
    let items = session.list(Kind::Item).unwrap();
    let orgs = session.list(Kind::Organisation).unwrap();
    assert_eq!(items.len(), 7, "five inputs and two whole stages");
    assert_eq!(
        orgs.len(),
        3,
        "three organisations; countries are not organisations"
    );
    let asml = by_name(&orgs, "ASML");
    assert_eq!(asml.text("hq_country"), Some("NL"), "alpha-3 NLD mapped");
    let litho = by_name(&items, "Photolithography tools");
    assert_eq!(litho.text("item_kind"), Some("equipment"));
    assert_eq!(
        litho.text("stage"),
        Some("Fabrication materials and tools"),
        "stage name from stages.csv"
    );
    let links = session.list(Kind::Link).unwrap();
    let asml_link_id = stable_id(SourceFormat::Eto, "provision/P1/N2");
    let asml_link = links.iter().find(|l| l.meta.id == asml_link_id).unwrap();
    assert_eq!(share(asml_link), Some(0.61));
    assert_eq!(asml_link.fields.get("year"), Some(&Value::from(2021)));
    assert_eq!(asml_link.text("link_kind"), Some("supplied-by"));
    // Negligible market share: a link without a share that says so.
    let wafers = by_name(&items, "Silicon wafers");
    let wafer_links = links_from(&links, wafers);
    let negligible = wafer_links
        .iter()
        .find(|l| l.text("notes").is_some_and(|n| n.contains("negligible")))
        .unwrap();
    assert_eq!(share(negligible), None);
    // Country providers: produced-in links to the country.
    let chip = by_name(&items, "Logic chip");
    let chip_links = links_from(&links, chip);
    assert!(
        chip_links
            .iter()
            .any(|l| l.text("to_id") == Some("TW") && share(l) == Some(0.63))
    );
    // Sequence: input-to and is-a.
    assert!(
        links_from(&links, litho)
            .iter()
            .any(|l| l.text("link_kind") == Some("input-to"))
    );
    let euv = by_name(&items, "EUV scanners");
    assert!(
        links_from(&links, euv)
            .iter()
            .any(|l| l.text("link_kind") == Some("is-a"))
    );
    let count_2021 = links.len();

    // The newer release: same ids, new shares, one provider more; nothing duplicated.
    let parsed = read(SourceFormat::Eto, &fixture("eto/release-2023"), None);
    let report = session
        .import_source(&parsed, "release-2023", false, false)
        .unwrap();
    assert_eq!(report.import.new, 2, "SMEE and its link: {report:?}");
    assert!(report.import.changed >= 5, "{report:?}");
    assert_eq!(session.list(Kind::Item).unwrap().len(), 7);
    assert_eq!(session.list(Kind::Organisation).unwrap().len(), 4);
    assert_eq!(session.list(Kind::Link).unwrap().len(), count_2021 + 1);
    let asml_link = session.get(Kind::Link, asml_link_id).unwrap();
    assert_eq!(share(&asml_link), Some(0.55));
    assert_eq!(asml_link.fields.get("year"), Some(&Value::from(2023)));
    // The history (what the timeline plots): 61 % in 2021, then 55 % in 2023.
    let shares: Vec<Value> = session
        .store()
        .field_history(Kind::Link, asml_link_id, "share")
        .unwrap()
        .into_iter()
        .map(|(_, _, v)| v)
        .collect();
    assert_eq!(shares, vec![Value::from(0.61), Value::from(0.55)]);
    let years: Vec<Value> = session
        .store()
        .field_history(Kind::Link, asml_link_id, "year")
        .unwrap()
        .into_iter()
        .map(|(_, _, v)| v)
        .collect();
    assert_eq!(years, vec![Value::from(2021), Value::from(2023)]);
    // The analysis uses the latest figures.
    let result = concentration(
        &session.list(Kind::Item).unwrap(),
        &session.list(Kind::Organisation).unwrap(),
        &session.list(Kind::Link).unwrap(),
    );
    let litho = result
        .iter()
        .find(|c| c.name == "Photolithography tools")
        .unwrap();
    assert_eq!(litho.top_country, "NL");
    assert_eq!(litho.year, Some(2023));
    assert!(session.verify().unwrap().is_ok());
}

#[test]
fn usgs_world_tables_map_names_and_report_what_could_not_be_mapped() {
    let env = Env::new();
    let mut session = Session::create(&env.path("usgs.observatory"), env.identity()).unwrap();
    let parsed = read(
        SourceFormat::Usgs,
        &fixture("usgs/mcs2023-galli_world.csv"),
        None,
    );
    session
        .import_source(&parsed, "2023", false, false)
        .unwrap();
    let parsed = read(
        SourceFormat::Usgs,
        &fixture("usgs/mcs2024-galli_world.csv"),
        None,
    );
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    assert!(
        parsed.notes.iter().any(|n| n.contains("Atlantis")),
        "unmapped name reported: {:?}",
        parsed.notes
    );
    assert!(
        parsed.notes.iter().any(|n| n.contains("withheld")),
        "{:?}",
        parsed.notes
    );
    let report = session
        .import_source(&parsed, "2024", false, false)
        .unwrap();
    assert!(report.notes.iter().any(|n| n.contains("Atlantis")));
    let items = session.list(Kind::Item).unwrap();
    assert_eq!(items.len(), 1, "the same item in both releases");
    let gallium = &items[0];
    // The CRM study's item for gallium processing: one item for both sources.
    assert_eq!(gallium.text("name"), Some("Gallium (processing)"));
    assert_eq!(
        gallium.meta.id,
        observatory::sources::crm::stage_id("Gallium", 'P')
    );
    let links = session.list(Kind::Link).unwrap();
    let from = links_from(&links, gallium);
    let china = from
        .iter()
        .find(|l| l.text("to_id") == Some("CN") && l.fields.get("year") == Some(&Value::from(2023)))
        .unwrap();
    // 540,000 of a world total of 550,000 kg in 2023 (estimated).
    assert_eq!(
        share(china),
        Some((540_000.0f64 / 550_000.0 * 1e6).round() / 1e6)
    );
    assert_eq!(china.fields.get("year"), Some(&Value::from(2023)));
    assert!(
        china
            .text("notes")
            .unwrap()
            .contains("540,000 kg in 2023 (estimated)")
    );
    let japan = from.iter().find(|l| l.text("to_id") == Some("JP")).unwrap();
    assert!(share(japan).is_some(), "\"Japane\" is Japan");
    assert!(
        !from
            .iter()
            .any(|l| ["US", "KR"].contains(&l.text("to_id").unwrap())),
        "no link for zero or withheld production"
    );
    // The 2023 release's figure (data year 2022) stays beside it, as its own link: the
    // analysis takes the latest data year, or the one asked for with --year.
    assert!(
        from.iter()
            .any(|l| l.text("to_id") == Some("CN")
                && l.fields.get("year") == Some(&Value::from(2022))),
        "the 2022 figure is kept"
    );
    // --year picks the other column.
    let parsed = read(
        SourceFormat::Usgs,
        &fixture("usgs/mcs2024-galli_world.csv"),
        Some(2022),
    );
    let china = parsed
        .records
        .iter()
        .find(|r| r.get("to_id") == Some(&Value::from("CN")))
        .unwrap();
    assert_eq!(china.get("year"), Some(&Value::from(2022)));
    let parsed = read(
        SourceFormat::Usgs,
        &fixture("usgs/mcs2024-galli_world.csv"),
        Some(2019),
    );
    assert!(
        parsed.problems[0]
            .message
            .contains("no production figures for 2019")
    );
}

#[test]
fn real_usgs_releases_import_with_their_quirks() {
    let env = Env::new();
    let mut session = Session::create(&env.path("real.observatory"), env.identity()).unwrap();
    for year in ["world_2023", "world_2024"] {
        let parsed = read(
            SourceFormat::Usgs,
            &asset(&format!("usgs_mcs/{year}")),
            None,
        );
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        session.import_source(&parsed, year, false, false).unwrap();
    }
    let items = session.list(Kind::Item).unwrap();
    let links = session.list(Kind::Link).unwrap();
    let rare_earths = items
        .iter()
        .find(|i| i.text("name").is_some_and(|n| n.starts_with("Rare earths")))
        .unwrap();
    let china = links_from(&links, rare_earths)
        .into_iter()
        .find(|l| l.text("to_id") == Some("CN"))
        .unwrap();
    // 240,000 t of 350,000 t (2023, estimated).
    let s = share(china).unwrap();
    assert!((0.6..0.75).contains(&s), "{s}");
    assert!(session.verify().unwrap().is_ok());
}

fn counts(session: &Session) -> Vec<u64> {
    Kind::ALL
        .iter()
        .map(|k| session.store().counts(*k).unwrap().live)
        .collect()
}

#[test]
fn a_bad_row_rejects_the_whole_import_unless_skipped() {
    let env = Env::new();
    let dir = env.path("bad-eto");
    std::fs::create_dir(&dir).unwrap();
    for file in ["inputs.csv", "providers.csv", "sequence.csv", "stages.csv"] {
        std::fs::copy(fixture("eto/release-2023").join(file), dir.join(file)).unwrap();
    }
    let provision = std::fs::read_to_string(fixture("eto/release-2023/provision.csv")).unwrap();
    let broken = provision
        .replace(
            "Nikon,P2,Photolithography tools,N2,28,",
            "Nikon,P2,Photolithography tools,N2,twenty,",
        )
        .replace("Taiwan,P6,", "Nobody Inc,P99,");
    std::fs::write(dir.join("provision.csv"), broken).unwrap();
    let mut session = Session::create(&env.path("bad.observatory"), env.identity()).unwrap();
    let before = counts(&session);
    let parsed = read(SourceFormat::Eto, &dir, None);
    let err = session
        .import_source(&parsed, "bad-eto", false, false)
        .unwrap_err();
    let ServiceError::ImportRejected { problems, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("provision.csv line 4: share_provided"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("provision.csv line 8: provider_id \"P99\""),
        "{problems:?}"
    );
    assert_eq!(counts(&session), before, "nothing imported");
    // The user chooses to skip the listed rows.
    let report = session
        .import_source(&parsed, "bad-eto", true, false)
        .unwrap();
    assert_eq!(report.skipped.len(), 2);
    assert!(counts(&session)[Kind::ALL.iter().position(|k| *k == Kind::Link).unwrap()] > 0);
    // A missing column is an error for the whole file.
    std::fs::write(
        dir.join("provision.csv"),
        "provider_name,provided_id\nASML,N2\n",
    )
    .unwrap();
    let err = sources::read(SourceFormat::Eto, &dir, &ReadOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("provision.csv has no column \"provider_id\""),
        "{err}"
    );
    // A folder of another format.
    let err = sources::read(SourceFormat::Crm, &dir, &ReadOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("has no dimension_CRMsOverTime.csv"),
        "{err}"
    );
}

#[test]
fn cli_import_formats_exit_codes_and_dry_run() {
    let env = Env::new();
    let file = env.init("cli.observatory");
    let f = file.to_str().unwrap();
    let usgs = fixture("usgs/mcs2024-galli_world.csv");
    let out = env.ok(&[
        "import",
        f,
        usgs.to_str().unwrap(),
        "--format",
        "usgs",
        "--dry-run",
    ]);
    // The item, China, Japan and the unattributed rest (other countries and "Atlantis").
    assert!(out.contains("would import: 5 new"), "{out}");
    assert!(out.contains("Atlantis"), "{out}");
    assert!(
        !env.ok(&["list", f, "item"]).contains("Gallium"),
        "dry run wrote nothing"
    );
    let out = env.ok(&["import", f, usgs.to_str().unwrap(), "--format", "usgs"]);
    assert!(out.contains("imported: 5 new"), "{out}");
    assert!(
        env.ok(&["list", f, "item"])
            .contains("Gallium (processing)")
    );
    // A malformed table: exit 11, the line named, the file untouched.
    let bad = env.path("mcs2024-tin_world.csv");
    std::fs::write(
        &bad,
        "Source,Country,Type,Prod_t_2022,Prod_t_est_2023\nMCS2024,China,Mine production,\"1,000\",lots\n",
    )
    .unwrap();
    let before = std::fs::read(&file).unwrap();
    let err = env.fails(
        &["import", f, bad.to_str().unwrap(), "--format", "usgs"],
        11,
    );
    assert!(
        err.contains("mcs2024-tin_world.csv line 2: Prod_t_est_2023: \"lots\" is not a number"),
        "{err}"
    );
    assert!(err.contains("--skip-bad-rows"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    // Not there, or not the format.
    env.fails(&["import", f, "/nonexistent", "--format", "crm"], 11);
    let err = env.fails(
        &["import", f, usgs.to_str().unwrap(), "--format", "eto"],
        11,
    );
    assert!(err.contains("not a folder"), "{err}");
    env.fails(&["import", f, usgs.to_str().unwrap(), "--year", "2023"], 2);
}

#[test]
fn the_demo_observatory_is_built_from_the_public_data_and_examples() {
    let env = Env::new();
    let mut session = Session::create(&env.path("demo.observatory"), env.identity()).unwrap();
    session.build_demo().unwrap();
    let report = session.verify().unwrap();
    assert!(report.is_ok(), "{report:?}");
    // The 42 of the EU 2023 list and one on the watch, proposed for the list.
    assert_eq!(session.list(Kind::Technology).unwrap().len(), 43);
    assert_eq!(session.list(Kind::Proposal).unwrap().len(), 1);
    // A past round answered by three of four demo members through real bundles, closed, and
    // its open follow-up.
    let rounds = session.rounds().unwrap();
    assert_eq!(rounds.len(), 2);
    let past = rounds.iter().find(|r| r.status == "closed").unwrap();
    assert_eq!(past.answers, 8);
    let view = session.round_view(past.id).unwrap();
    assert_eq!(view.expected, vec!["DE", "FR", "IT", "PL"]);
    assert_eq!(view.consolidated.len(), 3);
    let qc = observatory::model::reference::reference_technology_id("quantum-computing");
    let t = view.technologies.iter().find(|t| t.id == qc).unwrap();
    assert_eq!((t.answers, t.missing.clone()), (3, vec!["PL".to_owned()]));
    assert_eq!((t.trl.median, t.trl.dissent), (Some(4.0), true));
    let open = rounds.iter().find(|r| r.status == "open").unwrap();
    assert!(!open.overdue && open.follow_up_of == Some(past.id));
    let follow = session.round_view(open.id).unwrap();
    assert_eq!(
        follow.technologies[0].previous.as_ref().unwrap()["trl"],
        serde_json::json!([3.0, 4.0, 6.0])
    );
    // Roadmaps for two technologies.
    assert_eq!(session.list(Kind::Roadmap).unwrap().len(), 2);
    // The incubator flagged quantum sensing for uptake.
    assert!(
        session
            .incubator()
            .unwrap()
            .iter()
            .any(|e| e.uptake_route.as_deref() == Some("eic-transition"))
    );
    let items = session.list(Kind::Item).unwrap();
    let links = session.list(Kind::Link).unwrap();
    assert!(
        items.len() > 500 && links.len() > 4000,
        "{} {}",
        items.len(),
        links.len()
    );
    // Example records are marked; everything is UNCLASSIFIED.
    for kind in Kind::ALL {
        for record in session.list(kind).unwrap() {
            assert_eq!(record.meta.classification, Classification::Unclassified);
        }
    }
    for kind in [Kind::Measure, Kind::Event] {
        for record in session.list(kind).unwrap() {
            let text: String = record.fields.values().filter_map(|v| v.as_str()).collect();
            assert!(
                text.contains(observatory::service::EXAMPLE_NOTE),
                "{}",
                record.label()
            );
        }
    }
    // Gallium is what high-frequency chips need, through the GaN wafers.
    let tech = observatory::model::reference::reference_technology_id("high-frequency-chips");
    let needs: Vec<String> = links
        .iter()
        .filter(|l| l.text("from_id") == Some(tech.to_string().as_str()))
        .map(|l| session.describe(l.text("to_id").unwrap()))
        .collect();
    assert!(
        needs.iter().any(|n| n.contains("GaN-on-SiC wafers")),
        "{needs:?}"
    );
    assert!(needs.iter().any(|n| n.contains("Gallium")), "{needs:?}");
    // Rare earths go into the magnets that robotics needs.
    let magnets = by_name(&items, "NdFeB permanent magnets");
    let into_magnets = links
        .iter()
        .filter(|l| l.text("to_id") == Some(magnets.meta.id.to_string().as_str()))
        .count();
    assert!(into_magnets >= 2);
    // USGS data years: the 2023 release's figures (2022) beside the 2024 release's (2023).
    let rare_earths = items
        .iter()
        .find(|i| i.text("name").is_some_and(|n| n.starts_with("Rare earths")))
        .unwrap();
    let mut years: Vec<i64> = links_from(&links, rare_earths)
        .into_iter()
        .filter(|l| l.text("to_id") == Some("CN"))
        .filter_map(|l| l.fields.get("year").and_then(Value::as_i64))
        .collect();
    years.sort_unstable();
    assert_eq!(years, vec![2022, 2023]);
    // Report cycles for the timeline.
    let events = session.list(Kind::Event).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.text("event_kind") == Some("report-cycle"))
            .count(),
        3
    );
}

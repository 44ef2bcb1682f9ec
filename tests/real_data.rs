//! Figures that hold on real data: the structures of the published releases (aliases, whole
//! stages, residual providers, regional aggregates, non-ISO codes, forms that are not
//! comparable, renamed types, one material in several sources), each reproduced in a fixture
//! made here, with figures computed by hand or independently of the engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use observatory::analysis::ItemConcentration;
use observatory::model::{Kind, Record};
use observatory::service::{RecordInput, Session};
use observatory::sources::{self, ReadOptions, SourceFormat};
use serde_json::{Value, json};

use crate::util::Env;

/// Stages: the design, fabrication and ATP market shares by country are given for them.
const STAGES: &str = "stage_id,stage_name,description\nS1,Design,\nS2,Fabrication,\nS3,ATP,Assembly testing and packaging\n";

const INPUTS: &str = "\
input_id,input_name,type,stage_name,stage_id,description,year
N10,Wafer bonding and aligning tools,tool_resource,,S2,,2023
N20,EUV scanners,tool_resource,,S2,,2023
N30,Photoresist,material_resource,,S2,,2023
N40,Mystery input,material_resource,,S2,,2023
";

/// Columns in another order than the documented one; providers listed once per alias; a
/// residual country provider, a residual firm provider, a regional aggregate, a non-ISO code.
const PROVIDERS: &str = "\
provider_type,provider_id,provider_name,alias,country
country,P1,USA,,
country,P4,JPN,,
country,P5,Various countries,,
country,P7,TWN,,
country,P32,DEU,,
country,P45,NLD,,
country,P46,MAL,,
country,P47,SGP,,
country,P80,AUT,,
country,P90,EUR,,
organization,P67,EV Group,EVG,AUT
organization,P67,EV Group,EV Group GmbH,AUT
organization,P68,SUSS MicroTec,,DEU
organization,P105,Tokyo Electron,TEL,JPN
organization,P88,ASML,ASML Holding,NLD
organization,P88,ASML,ASML Holding N.V.,NLD
organization,P200,Various companies,,
organization,P201,Shin-Etsu,,JPN
organization,P202,JSR,,JPN
";

/// Market shares by country and by firm for the same inputs, whole stages, the rest.
const PROVISION: &str = "\
provider_name,provider_id,provided_name,provided_id,share_provided,year,source
AUT,P80,Wafer bonding and aligning tools,N10,47.9,2023,CSET
JPN,P4,Wafer bonding and aligning tools,N10,25.6,2023,CSET
DEU,P32,Wafer bonding and aligning tools,N10,20.9,2023,CSET
TWN,P7,Wafer bonding and aligning tools,N10,4.5,2023,CSET
USA,P1,Wafer bonding and aligning tools,N10,0.8,2023,CSET
Various countries,P5,Wafer bonding and aligning tools,N10,0.3,2023,CSET
EV Group,P67,Wafer bonding and aligning tools,N10,47.9,2023,CSET
Tokyo Electron,P105,Wafer bonding and aligning tools,N10,25.6,2023,CSET
SUSS MicroTec,P68,Wafer bonding and aligning tools,N10,20.9,2023,CSET
Various companies,P200,Wafer bonding and aligning tools,N10,5.6,2023,CSET
NLD,P45,EUV scanners,N20,100,2023,CSET
ASML,P88,EUV scanners,N20,100,2023,CSET
ASML,P88,EUV scanners,N20,100,2023,CSET
JPN,P4,Photoresist,N30,90,2023,CSET
EUR,P90,Photoresist,N30,10,2023,CSET
JSR,P202,Photoresist,N30,50,2023,CSET
Shin-Etsu,P201,Photoresist,N30,40,2023,CSET
Various companies,P200,Photoresist,N30,10,2023,CSET
Various countries,P5,Mystery input,N40,100,2023,CSET
USA,P1,Design,S1,61,2023,CSET
TWN,P7,Design,S1,9,2023,CSET
JPN,P4,Design,S1,6,2023,CSET
Various countries,P5,Design,S1,24,2023,CSET
TWN,P7,ATP,S3,29,2023,CSET
USA,P1,ATP,S3,28,2023,CSET
JPN,P4,ATP,S3,7,2023,CSET
MAL,P46,ATP,S3,2,2023,CSET
SGP,P47,ATP,S3,2,2023,CSET
Various countries,P5,ATP,S3,32,2023,CSET
";

fn write_folder(env: &Env, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = env.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

fn eto_release(env: &Env) -> PathBuf {
    write_folder(
        env,
        "eto-current",
        &[
            ("stages.csv", STAGES),
            ("inputs.csv", INPUTS),
            ("providers.csv", PROVIDERS),
            ("provision.csv", PROVISION),
        ],
    )
}

fn read(format: SourceFormat, path: &Path) -> sources::Parsed {
    sources::read(format, path, &ReadOptions::default()).unwrap()
}

fn import(session: &mut Session, format: SourceFormat, path: &Path) -> sources::Parsed {
    let parsed = read(format, path);
    assert!(
        parsed.problems.is_empty(),
        "no problem rows: {:?}",
        parsed.problems
    );
    session
        .import_source(&parsed, &path.display().to_string(), false, false)
        .unwrap();
    parsed
}

fn metrics(session: &Session) -> Vec<ItemConcentration> {
    session
        .supply_records_at(None)
        .unwrap()
        .graph()
        .item_metrics()
}

fn item<'a>(metrics: &'a [ItemConcentration], name: &str) -> &'a ItemConcentration {
    metrics
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no figures for {name}: {metrics:#?}"))
}

/// Country HHI per input, computed from the raw CSV text alone: the rows of country-type
/// providers that are not residual, `Σ share²` in percent points, nothing rescaled.
fn independent_country_hhi(providers: &str, provision: &str) -> BTreeMap<String, f64> {
    let mut country_ids = std::collections::BTreeSet::new();
    for line in providers.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[0] == "country" && !cells[2].starts_with("Various") {
            country_ids.insert(cells[1].to_owned());
        }
    }
    let mut hhi: BTreeMap<String, f64> = BTreeMap::new();
    for line in provision.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if country_ids.contains(cells[1]) {
            let share: f64 = cells[4].parse().unwrap();
            *hhi.entry(cells[2].to_owned()).or_default() += share * share;
        }
    }
    hhi
}

#[test]
fn an_eto_release_as_published_imports_whole_and_counts_each_share_once() {
    let env = Env::new();
    let mut session = Session::create(&env.path("eto.observatory"), env.identity()).unwrap();
    let dir = eto_release(&env);
    let parsed = import(&mut session, SourceFormat::Eto, &dir);
    // The import report lists what was mapped.
    let notes = parsed.notes.join("\n");
    assert!(
        notes.contains("MAL read as MY (Malaysia): built-in alias table"),
        "{notes}"
    );
    assert!(notes.contains("EUR is a regional aggregate"), "{notes}");
    assert!(
        notes.contains("merged into that organisation's aliases"),
        "{notes}"
    );
    // The unattributed rest and regions are valid link targets, not dangling references.
    let verified = session.verify().unwrap();
    assert!(verified.is_ok(), "{verified:?}");

    // Aliases merge into one organisation.
    let orgs = session.list(Kind::Organisation).unwrap();
    let asml: Vec<&Record> = orgs
        .iter()
        .filter(|o| o.text("name") == Some("ASML"))
        .collect();
    assert_eq!(asml.len(), 1);
    let aliases = asml[0].fields.get("aliases").unwrap();
    assert_eq!(aliases, &json!(["ASML Holding", "ASML Holding N.V."]));
    assert!(
        !orgs
            .iter()
            .any(|o| o.text("name").is_some_and(|n| n.starts_with("Various"))),
        "residual providers are no organisations"
    );

    let m = metrics(&session);
    // Wafer bonding: the country rows alone, as published (no rescaling, no firms added).
    let wafer = item(&m, "Wafer bonding and aligning tools");
    let by_hand =
        47.9f64.powi(2) + 25.6f64.powi(2) + 20.9f64.powi(2) + 4.5f64.powi(2) + 0.8f64.powi(2);
    assert!((by_hand - 3407.47).abs() < 1e-9);
    assert!((wafer.hhi - by_hand).abs() < 0.01, "{}", wafer.hhi);
    assert_eq!(wafer.hhi.round(), 3407.0);
    assert!((wafer.unattributed_share - 0.003).abs() < 1e-9);
    assert_eq!(wafer.country_basis, "country rows");
    assert_eq!((wafer.top_country.as_str(), wafer.top_share), ("AT", 0.479));
    assert!((wafer.eu_share - (0.479 + 0.209)).abs() < 1e-9);
    assert!(!wafer.single_source);
    // Firm concentration from the firm rows: 47.9² + 25.6² + 20.9², the 5.6 % rest adding
    // nothing.
    let firm_by_hand = 47.9f64.powi(2) + 25.6f64.powi(2) + 20.9f64.powi(2);
    assert!((wafer.firm_hhi.unwrap() - firm_by_hand).abs() < 0.01);
    assert_eq!(wafer.top_organisation.as_deref(), Some("EV Group"));
    assert_eq!(wafer.top_organisation_share, Some(0.479));
    assert!(!wafer.single_firm);

    // Every item's country HHI agrees with a computation over the raw rows.
    let independent = independent_country_hhi(PROVIDERS, PROVISION);
    for (name, expected) in &independent {
        let got = item(&m, name);
        assert!(
            (got.hhi - expected).abs() < 0.01,
            "{name}: engine {} against {expected} from the rows",
            got.hhi
        );
    }

    // Whole stages are items with their shares; the residual 32 % is unattributed, Malaysia
    // is a country.
    let atp = item(&m, "ATP");
    assert!((atp.unattributed_share - 0.32).abs() < 1e-9);
    assert_eq!(atp.country_shares.get("MY"), Some(&0.02));
    assert!(item(&m, "Design").top_country == "US");

    // A regional aggregate counts as one supplier, never as a country.
    let resist = item(&m, "Photoresist");
    assert!((resist.hhi - (90f64.powi(2) + 10f64.powi(2))).abs() < 0.01);
    assert!((resist.region_share - 0.1).abs() < 1e-9);
    assert_eq!(resist.top_country, "JP");
    assert!(!resist.single_source, "a region beside it");

    // Only the unattributed rest: no country, no concentration, no single source.
    let mystery = item(&m, "Mystery input");
    assert_eq!((mystery.hhi, mystery.top_country.as_str()), (0.0, ""));
    assert!(!mystery.single_source);
    assert!((mystery.unattributed_share - 1.0).abs() < 1e-9);

    // One firm at 100 % of a tool is a chokepoint, even in an allied country.
    let euv = item(&m, "EUV scanners");
    assert!(euv.single_source && euv.single_firm);
    assert_eq!(euv.top_organisation.as_deref(), Some("ASML"));
    let tech = session
        .add(
            Kind::Technology,
            None,
            &RecordInput {
                fields: serde_json::from_value(json!({"name": "Advanced logic"})).unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap();
    let link = RecordInput {
        fields: serde_json::from_value(json!({
            "from_id": tech.to_string(), "to_id": euv.id.to_string(), "link_kind": "requires"
        }))
        .unwrap(),
        ..RecordInput::default()
    };
    session.add(Kind::Link, None, &link).unwrap();
    let graph = session.supply_records_at(None).unwrap().graph();
    let t = graph
        .technology_metrics(Some(&tech.to_string()))
        .pop()
        .unwrap();
    assert_eq!(
        t.chokepoints,
        vec![euv.id.to_string(), asml[0].meta.id.to_string()],
        "the EUV scanners, then ASML"
    );
    // Exposure follows the country rows only: the Netherlands, once.
    assert!((t.exposure["NL"] - 1.0).abs() < 1e-12, "{:?}", t.exposure);
}

#[test]
fn a_code_the_alias_table_lacks_is_extended_by_the_user() {
    let env = Env::new();
    let file = env.init("alias.observatory");
    let f = file.to_str().unwrap();
    let providers = format!("{PROVIDERS}country,P99,XYZ,,\n");
    let provision = format!("{PROVISION}XYZ,P99,Photoresist,N30,0,2023,CSET\n");
    let dir = write_folder(
        &env,
        "eto-xyz",
        &[
            ("stages.csv", STAGES),
            ("inputs.csv", INPUTS),
            ("providers.csv", &providers),
            ("provision.csv", &provision),
        ],
    );
    let d = dir.to_str().unwrap();
    // Without it: one problem row, named, with the way out.
    let err = env.fails(&["import", f, d, "--format", "eto"], 11);
    assert!(err.contains("--country-alias XYZ=CC"), "{err}");
    let out = env.ok(&[
        "import",
        f,
        d,
        "--format",
        "eto",
        "--country-alias",
        "XYZ=KR",
    ]);
    assert!(
        out.contains("mapped: XYZ read as KR (your country alias)"),
        "{out}"
    );
    env.fails(
        &["import", f, d, "--format", "eto", "--country-alias", "XYZ"],
        2,
    );
}

/// A boron-like world table: each country reports its own form, and the world total cannot be
/// calculated (`XX`). Two releases word the forms differently, with a typo.
const BORON_2023: &str = "\u{feff}Source,Country,Type,Prod_kt_est_2021,Prod_kt_est_2022,Prod_notes
MCS2023,United States,\"Mine production, borates\",W,W,
MCS2023,\"Argentina, crude ore\",\"Mine production, crude ore\",130,130,
MCS2023,\"Chile, ulexite\",\"Mine production, ulexite\",290,300,
MCS2023,\"China, boric oxide equivalent\",\"Mine production, boric oxide equivalent\",380,300,
MCS2023,\"Peru, crude borates\",\"Mine production, crude borates\",246,250,
MCS2023,\"Turkey, refined borates\",\"Plant production, refined borates\",1700,1700,
MCS2023,World total,XX,XX,XX,Not applicable
";

const BORON_2024: &str = "\u{feff}Source,Country,Type,Prod_kt_2022,Prod_kt_est_2023,Prod_note
MCS2024,United States,borates,W,W,
MCS2024,\"Argentina, crude ore\",\"boron, crude ore\",130,130,
MCS2024,\"Chile, ulexite\",ulexite,360,360,
MCS2024,\"China, boric oxide equivalent\",boric oxide eqivalent,200,200,
MCS2024,\"Peru, crude borates\",crude borates,200,200,
MCS2024,\"Turkey, refined borates\",refined borates,2200,2200,
MCS2024,World total,boron total all types,XX,XX,World totals cannot be calculated
";

#[test]
fn forms_that_are_not_comparable_give_quantities_and_no_single_source() {
    let env = Env::new();
    let mut session = Session::create(&env.path("b.observatory"), env.identity()).unwrap();
    for (name, text) in [
        ("mcs2023-boron_world.csv", BORON_2023),
        ("mcs2024-boron_world.csv", BORON_2024),
    ] {
        let dir = env.path(name.trim_end_matches(".csv"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
        let parsed = import(&mut session, SourceFormat::Usgs, &dir.join(name));
        assert!(
            parsed.notes.iter().any(|n| n.contains("not comparable")),
            "{:?}",
            parsed.notes
        );
    }
    // One item for boron, across both releases and all forms.
    let items = session.list(Kind::Item).unwrap();
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0].text("name"), Some("Boron (extraction)"));
    let links = session.list(Kind::Link).unwrap();
    assert!(!links.is_empty());
    assert!(
        links.iter().all(|l| !l.fields.contains_key("share")),
        "no shares for forms that cannot be added up"
    );
    // The quantities stay, with their unit and form.
    assert!(links.iter().any(|l| {
        l.text("to_id") == Some("TR")
            && l.text("notes")
                .is_some_and(|n| n.contains("2,200 kt of refined borates in 2023"))
    }));
    // No concentration, no single source.
    assert!(metrics(&session).is_empty(), "{:#?}", metrics(&session));
}

const CHROMIUM_2023: &str = "Source,Country,Type,Prod_kt_2021,Prod_kt_est_2022
MCS2023,India,\"Mine production, marketable chromite ore\",4000,4200
MCS2023,Kazakhstan,\"Mine production, marketable chromite ore\",6000,6000
MCS2023,South Africa,\"Mine production, marketable chromite ore\",18000,18000
MCS2023,Other countries,\"Mine production, marketable chromite ore\",12000,12000
MCS2023,World total (rounded),\"Mine production, marketable chromite ore\",40000,40200
";

const CHROMIUM_2024: &str = "Source,Country,Type,Prod_kt_2022,Prod_kt_est_2023
MCS2024,India,\"Mne production, grosss weight marketable chromite ore\",4200,4300
MCS2024,Kazakhstan,\"Mne production, grosss weight marketable chromite ore\",6000,6500
MCS2024,South Africa,\"Mne production, grosss weight marketable chromite ore\",18000,20000
MCS2024,Other countries,\"Mne production, grosss weight marketable chromite ore\",10800,11200
MCS2024,World total (rounded),\"Mne production, grosss weight marketable chromite ore\",39000,42000
";

#[test]
fn two_releases_with_renamed_types_give_one_item() {
    let env = Env::new();
    let mut session = Session::create(&env.path("c.observatory"), env.identity()).unwrap();
    for (name, text) in [
        ("mcs2023-chrom_world.csv", CHROMIUM_2023),
        ("mcs2024-chrom_world.csv", CHROMIUM_2024),
    ] {
        let path = env.path(name);
        std::fs::write(&path, text).unwrap();
        import(&mut session, SourceFormat::Usgs, &path);
    }
    let items = session.list(Kind::Item).unwrap();
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0].text("name"), Some("Chromium (extraction)"));
    let m = metrics(&session);
    let chromium = item(&m, "Chromium (extraction)");
    // The latest data year (2023): South Africa 20,000 of a world total of 42,000 kt.
    assert_eq!(chromium.year, Some(2023));
    assert_eq!(chromium.top_country, "ZA");
    assert!((chromium.top_share - 20_000.0 / 42_000.0).abs() < 1e-6);
    let by_hand = [4300.0f64, 6500.0, 20_000.0]
        .iter()
        .map(|v| (v / 42_000.0 * 100.0).powi(2))
        .sum::<f64>();
    assert!(
        (chromium.hhi - by_hand).abs() < 0.01,
        "{} {by_hand}",
        chromium.hhi
    );
    // Both releases are one source each; figures of 2022 stay, beside.
    assert_eq!(chromium.sources.len(), 2);
}

fn asset(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/data")
        .join(path)
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

#[test]
fn a_crm_and_a_usgs_figure_for_one_material_give_one_item_with_both() {
    let env = Env::new();
    let mut session = Session::create(&env.path("g.observatory"), env.identity()).unwrap();
    import(&mut session, SourceFormat::Crm, &asset("eu_crm_2023"));
    import(
        &mut session,
        SourceFormat::Usgs,
        &fixture("usgs/mcs2024-galli_world.csv"),
    );
    let items = session.list(Kind::Item).unwrap();
    let gallium: Vec<&Record> = items
        .iter()
        .filter(|i| i.text("name") == Some("Gallium (processing)"))
        .collect();
    assert_eq!(gallium.len(), 1, "one item for gallium processing");
    assert!(
        gallium[0]
            .text("description")
            .is_some_and(|d| d.contains("CRM")),
        "the study's description is kept"
    );
    let m = metrics(&session);
    let figures: Vec<&ItemConcentration> =
        m.iter().filter(|c| c.name.starts_with("Gallium")).collect();
    assert_eq!(
        figures
            .iter()
            .filter(|c| c.name == "Gallium (processing)")
            .count(),
        1
    );
    let ga = item(&m, "Gallium (processing)");
    // Side by side: the study's 93.8 % and USGS's 540,000 of 550,000 kg.
    assert_eq!(ga.sources.len(), 2, "{:#?}", ga.sources);
    let shares: Vec<f64> = ga.sources.iter().map(|s| s.top_share).collect();
    assert!(
        shares.iter().any(|s| (s - 0.938).abs() < 1e-9),
        "{shares:?}"
    );
    assert!(
        shares
            .iter()
            .any(|s| (s - (540_000.0f64 / 550_000.0 * 1e6).round() / 1e6).abs() < 1e-9),
        "{shares:?}"
    );
    assert_eq!(ga.sources.iter().filter(|s| s.chosen).count(), 1);
    let spread = ga.source_spread.unwrap();
    let (lo, hi) = ga.sources.iter().fold((f64::MAX, f64::MIN), |(lo, hi), s| {
        (lo.min(s.hhi), hi.max(s.hhi))
    });
    assert!((spread - (hi - lo)).abs() < 1e-9 && spread > 0.0);
    // Never added together: China is not counted twice.
    assert!(ga.top_share <= 1.0 && ga.hhi <= 10_000.0);
    assert!(ga.top_share == 0.938 || (ga.top_share - 0.981818).abs() < 1e-6);
}

#[test]
fn analyse_by_data_year_and_changes_between_data_years() {
    let env = Env::new();
    let file = env.init("y.observatory");
    let f = file.to_str().unwrap();
    for release in ["mcs2023-galli_world.csv", "mcs2024-galli_world.csv"] {
        let path = fixture(&format!("usgs/{release}"));
        env.ok(&["import", f, path.to_str().unwrap(), "--format", "usgs"]);
    }
    let analyse = |year: Option<&str>| -> Value {
        let mut args = vec!["analyse", f, "--format", "json"];
        if let Some(y) = year {
            args.extend(["--year", y]);
        }
        serde_json::from_str(&env.ok(&args)).unwrap()
    };
    let ga = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == "Gallium (processing)")
            .cloned()
            .unwrap()
    };
    let latest = ga(&analyse(None));
    assert_eq!(latest["year"], 2023);
    let then = analyse(Some("2022"));
    assert_eq!(then["year"], 2022);
    let old = ga(&then);
    assert_eq!(old["year"], 2022, "the latest figures at or before 2022");
    // 2023 asked, 2023 figures; a year before every figure: nothing.
    assert_eq!(ga(&analyse(Some("2030")))["year"], 2023);
    assert!(
        analyse(Some("1990"))["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["name"] != "Gallium (processing)")
    );
    // The changes between the two data years agree with the two analyses.
    let changes: Value = serde_json::from_str(&env.ok(&[
        "changes",
        f,
        "--from-year",
        "2022",
        "--to-year",
        "2023",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(changes["classification"], "UNCLASSIFIED");
    let c = changes["concentration_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Gallium (processing)")
        .unwrap();
    assert_eq!(c["hhi_from"], old["hhi"]);
    assert_eq!(c["same_source"], true, "both years from USGS: {c}");
    assert_eq!(c["hhi_to"], latest["hhi"]);
    let delta = latest["hhi"].as_f64().unwrap() - old["hhi"].as_f64().unwrap();
    assert!((c["hhi_change"].as_f64().unwrap() - delta).abs() < 1e-5);
    let cn = changes["share_shifts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["country"] == "CN")
        .unwrap();
    assert_eq!(cn["from"], old["top_share"]);
    assert_eq!(cn["to"], latest["top_share"]);
    // Dates and data years are two different questions: not both at once.
    env.fails(
        &[
            "changes",
            f,
            "--from",
            "2024-01-01",
            "--from-year",
            "2022",
            "--to-year",
            "2023",
        ],
        2,
    );
    env.fails(&["changes", f, "--from-year", "2022"], 2);
}

fn add_record(session: &mut Session, kind: Kind, fields: Value) -> uuid::Uuid {
    let input = RecordInput {
        fields: serde_json::from_value(fields).unwrap(),
        ..RecordInput::default()
    };
    session.add(kind, None, &input).unwrap()
}

#[test]
fn merging_two_records_moves_references_and_replicates_through_a_bundle() {
    use crate::bundles::{content, introduce, replica_in, send};
    use observatory::model::Classification;
    use observatory::service::bundle::ExportScope;
    let env = Env::new();
    let mut a = replica_in(&env, "alpha", "FR", Classification::Secret);
    let mut b = replica_in(&env, "bravo", "DE", Classification::Secret);
    introduce(&mut [&mut a, &mut b]);
    let s = &mut a.session;
    let keep = add_record(
        s,
        Kind::Item,
        json!({"name": "Gallium (processing)", "item_kind": "material"}),
    );
    let other = add_record(
        s,
        Kind::Item,
        json!({"name": "Gallium: Primary production", "item_kind": "material",
               "description": "USGS world table"}),
    );
    let radar = add_record(s, Kind::Technology, json!({"name": "GaN radar"}));
    let id = |u: uuid::Uuid| u.to_string();
    // The same figure on both (it would count twice), and one only the other has.
    for (from, to, share) in [(keep, "CN", 0.9), (other, "CN", 0.9), (other, "JP", 0.05)] {
        add_record(
            s,
            Kind::Link,
            json!({"from_id": id(from), "to_id": to, "link_kind": "produced-in",
                   "share": share, "year": 2023}),
        );
    }
    add_record(
        s,
        Kind::Link,
        json!({"from_id": id(radar), "to_id": id(other), "link_kind": "requires"}),
    );
    let assessment = add_record(
        s,
        Kind::Assessment,
        json!({"subject_id": id(other), "date": "2026-01-15", "criticality": 8.0}),
    );
    // The first bundle: bravo has both records.
    let first = send(&mut a, &b, &ExportScope::Everything);
    b.session.import_bundle(&first, false).unwrap();

    let report = a.session.merge(Kind::Item, keep, other).unwrap();
    assert_eq!(report.references, 4, "{report:?}");
    // The other's figures of the same source and year are the same supply described twice:
    // the kept side's stay, and the two sets never mix (no CN from one, JP from the other).
    assert_eq!(report.dropped, 2, "the other's CN and JP figures");
    // Refused: itself, another kind, a deleted record.
    assert!(a.session.merge(Kind::Item, keep, keep).is_err());
    assert!(a.session.merge(Kind::Item, keep, other).is_err());
    let check = |s: &Session| {
        assert!(
            s.get(Kind::Item, other).is_err() || s.get(Kind::Item, other).unwrap().meta.deleted
        );
        let kept = s.get(Kind::Item, keep).unwrap();
        assert_eq!(kept.text("description"), Some("USGS world table"));
        let subject = s.get(Kind::Assessment, assessment).unwrap();
        assert_eq!(subject.text("subject_id"), Some(id(keep).as_str()));
        let links = s.list(Kind::Link).unwrap();
        assert!(
            links
                .iter()
                .all(|l| l.text("from_id") != Some(id(other).as_str())
                    && l.text("to_id") != Some(id(other).as_str())),
            "nothing refers to the merged record"
        );
        let m = metrics(s);
        let ga: Vec<&ItemConcentration> =
            m.iter().filter(|c| c.name.starts_with("Gallium")).collect();
        assert_eq!(ga.len(), 1);
        // CN 90 % once: 8,100.
        assert!((ga[0].hhi - 8100.0).abs() < 1e-6, "{}", ga[0].hhi);
        let graph = s.supply_records_at(None).unwrap().graph();
        let t = graph.technology_metrics(Some(&id(radar))).pop().unwrap();
        assert!((t.exposure["CN"] - 0.9).abs() < 1e-9);
    };
    check(&a.session);
    // The merge replicates: bravo ends where alpha is.
    let second = send(&mut a, &b, &ExportScope::SinceLast);
    b.session.import_bundle(&second, false).unwrap();
    check(&b.session);
    assert_eq!(content(&a.session), content(&b.session));
    // Audited.
    assert!(a.session.verify().unwrap().is_ok());
}

#[test]
fn the_merge_command_joins_a_firm_known_under_two_names() {
    let env = Env::new();
    let file = env.init("m.observatory");
    let f = file.to_str().unwrap();
    let add = |args: &[&str]| {
        let mut all = vec!["add", f];
        all.extend_from_slice(args);
        env.ok(&all).trim().to_owned()
    };
    let keep = add(&["organisation", "--name", "ASML", "--hq-country", "NL"]);
    let other = add(&["organisation", "--name", "ASML Holding N.V."]);
    let item = add(&["item", "--name", "EUV scanners", "--item-kind", "equipment"]);
    add(&[
        "link",
        "--from-id",
        &item,
        "--to-id",
        &other,
        "--link-kind",
        "supplied-by",
        "--share",
        "1",
    ]);
    let out: Value = serde_json::from_str(&env.ok(&[
        "merge",
        f,
        "organisation",
        &keep,
        &other,
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(out["references"], 1);
    let orgs = env.ok(&["list", f, "organisation", "--format", "json"]);
    assert!(!orgs.contains(&other), "{orgs}");
    assert!(
        orgs.contains("ASML Holding N.V."),
        "the other name is an alias: {orgs}"
    );
    let analysis: Value =
        serde_json::from_str(&env.ok(&["analyse", f, "--format", "json"])).unwrap();
    assert_eq!(analysis["items"][0]["top_organisation"], "ASML");
    assert_eq!(
        analysis["items"][0]["top_country"], "NL",
        "the kept firm's country"
    );
    // Unknown ids and a record merged into itself are refused.
    env.fails(&["merge", f, "organisation", &keep, &keep], 11);
    env.fails(&["merge", f, "organisation", &keep, &other], 12);
}

#[test]
fn hostile_listings_count_each_share_once_across_ids_years_and_releases() {
    let env = Env::new();
    let mut session = Session::create(&env.path("h.observatory"), env.identity()).unwrap();
    let inputs = "input_id,input_name,type,stage_id\nN10,Bonders,tool_resource,S2\n";
    // Japan under two provider ids; several years in one file, in two orders.
    let providers = "provider_id,provider_name,provider_type,country\nP4,JPN,country,\nP9,Japan,country,\nP1,USA,country,\n";
    let release_a = "provider_id,provided_id,share_provided,year\n\
        P4,N10,60,2022\nP9,N10,60,2022\nP1,N10,40,2022\nP4,N10,55,2023\nP1,N10,45,2023\n";
    let release_b = "provider_id,provided_id,share_provided,year\n\
        P4,N10,55,2023\nP1,N10,45,2023\nP4,N10,60,2022\nP9,N10,60,2022\nP1,N10,40,2022\n";
    for (name, provision) in [("a", release_a), ("b", release_b)] {
        let dir = write_folder(
            &env,
            name,
            &[
                ("stages.csv", STAGES),
                ("inputs.csv", inputs),
                ("providers.csv", providers),
                ("provision.csv", provision),
            ],
        );
        let parsed = import(&mut session, SourceFormat::Eto, &dir);
        assert!(
            parsed.notes.iter().any(|n| n.contains("repeat")),
            "{:?}",
            parsed.notes
        );
    }
    let records = session.supply_records_at(None).unwrap();
    let at = |year| {
        records
            .graph_at(Some(year))
            .item_metrics()
            .into_iter()
            .find(|c| c.name == "Bonders")
            .unwrap()
    };
    assert!((at(2022).hhi - (60f64.powi(2) + 40f64.powi(2))).abs() < 0.01);
    assert_eq!(at(2022).top_share, 0.6, "Japan once");
    assert!((at(2023).hhi - (55f64.powi(2) + 45f64.powi(2))).abs() < 0.01);
    let links = session.list(Kind::Link).unwrap();
    let japan_2022 = links
        .iter()
        .filter(|l| {
            l.text("to_id") == Some("JP") && l.fields.get("year") == Some(&Value::from(2022))
        })
        .count();
    assert_eq!(japan_2022, 1, "{links:#?}");
}

#[test]
fn a_folder_with_two_releases_of_a_table_imports_and_the_rest_is_unattributed() {
    let env = Env::new();
    let dir = env.path("usgs-both");
    std::fs::create_dir_all(&dir).unwrap();
    for release in ["mcs2023-galli_world.csv", "mcs2024-galli_world.csv"] {
        std::fs::copy(fixture(&format!("usgs/{release}")), dir.join(release)).unwrap();
    }
    let mut session = Session::create(&env.path("u.observatory"), env.identity()).unwrap();
    import(&mut session, SourceFormat::Usgs, &dir);
    let m = metrics(&session);
    let ga = item(&m, "Gallium (processing)");
    assert_eq!(ga.year, Some(2023));
    // Other countries 1,900 and the unmapped "Atlantis" 100 of a world total of 550,000 kg.
    assert!(
        (ga.unattributed_share - (2_000.0f64 / 550_000.0 * 1e6).round() / 1e6).abs() < 1e-9,
        "{}",
        ga.unattributed_share
    );
    assert!(!ga.single_source);
    // --year 2022 reads the 2023 release's figures.
    let then = session
        .supply_records_at(None)
        .unwrap()
        .graph_at(Some(2022))
        .item_metrics();
    assert_eq!(item(&then, "Gallium (processing)").year, Some(2022));
}

#[test]
fn the_user_matches_a_usgs_commodity_to_a_crm_material() {
    let env = Env::new();
    let file = env.init("mat.observatory");
    let f = file.to_str().unwrap();
    let path = env.path("mcs2024-xeno_world.csv");
    std::fs::write(
        &path,
        "Source,Country,Type,Prod_t_2022,Prod_t_est_2023\n\
         MCS2024,Russia,Plant production,10,12\n\
         MCS2024,Ukraine,Plant production,5,4\n\
         MCS2024,World total (rounded),Plant production,20,20\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    env.ok(&[
        "import",
        f,
        p,
        "--format",
        "usgs",
        "--material",
        "xeno=Xenon:P",
    ]);
    let items = env.ok(&["list", f, "item"]);
    assert!(items.contains("Xenon (processing)"), "{items}");
    let id = observatory::sources::crm::stage_id("Xenon", 'P').to_string();
    assert!(
        env.ok(&["list", f, "item", "--format", "json"])
            .contains(&id),
        "the CRM study's id for xenon processing"
    );
    env.fails(
        &[
            "import",
            f,
            p,
            "--format",
            "usgs",
            "--material",
            "xeno=Xenon",
        ],
        2,
    );
    env.fails(
        &[
            "import",
            f,
            p,
            "--format",
            "eto",
            "--material",
            "xeno=Xenon:P",
        ],
        2,
    );
}

#[test]
fn an_import_after_a_merge_follows_it() {
    let env = Env::new();
    let mut session = Session::create(&env.path("after.observatory"), env.identity()).unwrap();
    let table = |year_a: i64, year_b: i64, a: i64, b: i64| {
        format!(
            "Source,Country,Type,Prod_t_{year_a},Prod_t_est_{year_b}\n\
             MCS{year_b},Russia,Plant production,{a},{b}\n\
             MCS{year_b},Ukraine,Plant production,5,5\n\
             MCS{year_b},World total (rounded),Plant production,20,20\n"
        )
    };
    let first = env.path("mcs2023-xeno_world.csv");
    std::fs::write(&first, table(2021, 2022, 10, 12)).unwrap();
    import(&mut session, SourceFormat::Usgs, &first);
    let imported = session.list(Kind::Item).unwrap()[0].meta.id;
    let keep = add_record(
        &mut session,
        Kind::Item,
        json!({"name": "Xenon (noble gas)", "item_kind": "material"}),
    );
    session.merge(Kind::Item, keep, imported).unwrap();
    // The same release again: nothing new, nothing renamed, the figures stay on the kept item.
    let parsed = read(SourceFormat::Usgs, &first);
    let report = session
        .import_source(&parsed, "again", false, false)
        .unwrap();
    assert_eq!(report.import.new, 0, "{report:?}");
    assert!(report.import.merged > 0);
    let items = session.list(Kind::Item).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].text("name"), Some("Xenon (noble gas)"));
    // A later release: its new figures go to the kept item too.
    let second = env.path("mcs2024-xeno_world.csv");
    std::fs::write(&second, table(2022, 2023, 12, 14)).unwrap();
    import(&mut session, SourceFormat::Usgs, &second);
    assert_eq!(session.list(Kind::Item).unwrap().len(), 1);
    let m = metrics(&session);
    let xenon = item(&m, "Xenon (noble gas)");
    assert_eq!((xenon.year, xenon.top_share), (Some(2023), 0.7));
    assert!(session.verify().unwrap().is_ok());
}

//! The report: PDF text read back with a PDF-reading crate, markings on every page, the
//! ceiling, Markdown, editions, and the reference renderer (pdftoppm).

use observatory::model::{Classification, Kind};
use observatory::report::{self, ReportSource};
use observatory::service::{RecordInput, Session};
use serde_json::{Value, json};

use crate::util::{Env, have_tool};

fn add(session: &mut Session, kind: Kind, level: Classification, fields: Value) -> uuid::Uuid {
    let input = RecordInput {
        classification: Some(level),
        fields: serde_json::from_value(fields).unwrap(),
        ..RecordInput::default()
    };
    session.add(kind, None, &input).unwrap()
}

fn pages(pdf: &[u8]) -> Vec<String> {
    pdf_extract::extract_text_from_mem_by_pages(pdf).unwrap()
}

/// Every page carries the marking in words at least twice (top and bottom banners).
fn assert_banners(pages: &[String], marking: &str) {
    assert!(!pages.is_empty());
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.matches(marking).count() >= 2,
            "page {} lacks the {marking} banners:\n{page}",
            i + 1
        );
        assert!(page.contains(&format!("Page {} of {}", i + 1, pages.len())));
    }
}

#[test]
fn the_demo_report_has_banners_a_title_page_and_the_analysis_figures() {
    let env = Env::new();
    let mut session = Session::create(&env.path("demo.observatory"), env.identity()).unwrap();
    session.build_demo().unwrap();
    let built = report::build(
        &session,
        &ReportSource::Now,
        None,
        Some("Biennial report 2026"),
    )
    .unwrap();
    assert_eq!(built.classification, Classification::Unclassified);
    let (pdf, count) = report::to_pdf(&built).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pages(&pdf);
    assert_eq!(text.len(), count);
    assert_banners(&text, "UNCLASSIFIED");
    let title = &text[0];
    for expected in [
        "Biennial report 2026",
        "Classification: UNCLASSIFIED",
        "Releasable to: the whole expert group",
        "Distribution",
        "cleared to",
    ] {
        assert!(
            title.contains(expected),
            "{expected} not on the title page:\n{title}"
        );
    }
    assert!(text[1].contains("Contents") && text[1].contains("Dependency risks"));
    let all = text.join("\n");
    for section in [
        "Critical technologies by area",
        "Risk matrix",
        "Most concentrated supply",
        "Single sources",
        "Chokepoints",
        "Exposure of technologies by country",
        "Mitigating measures and technology roadmaps",
        "Roadmap: 1. Advanced semiconductors technologies",
        "Changes since the previous edition",
        "Annex: method",
        "Annex: sources",
    ] {
        assert!(all.contains(section), "{section} missing");
    }
    // Key figures from the analysis engine appear as computed.
    let records = session.supply_records().unwrap();
    let graph = records.graph();
    let robots = graph
        .technology_metrics(None)
        .into_iter()
        .find(|m| m.name == "Robots and robot-controlled precision systems")
        .unwrap();
    assert!(all.contains(&format!("{:.1}", robots.supply_risk.unwrap())));
    assert!(
        all.contains("NdFeB permanent magnets"),
        "the chokepoint of robots"
    );
    let metrics = graph.technology_metrics(None);
    let exposed: Vec<_> = metrics.iter().filter(|m| !m.exposure.is_empty()).collect();
    let cn: f64 = exposed
        .iter()
        .map(|m| m.exposure.get("CN").copied().unwrap_or(0.0))
        .sum::<f64>()
        / exposed.len() as f64;
    assert!(
        all.contains(&format!("{:.1} %", cn * 100.0)),
        "mean exposure to China {cn}"
    );
    // Portion markings on rows.
    assert!(all.contains("(U)"));
    // The same content as Markdown.
    let md = report::to_markdown(&built);
    assert!(md.starts_with("**UNCLASSIFIED**") && md.trim_end().ends_with("**UNCLASSIFIED**"));
    assert!(md.contains("| (U) | Robots and robot-controlled precision systems |"));
    assert!(md.contains("Figure 2: Risk matrix"));
}

/// A register of RESTRICTED records, then one SECRET record, then a ceiling.
#[test]
fn the_marking_follows_the_highest_record_and_the_ceiling_leaves_records_out() {
    let env = Env::new();
    let path = env.path("r.observatory");
    let mut session = Session::create(&path, env.identity()).unwrap();
    let r = Classification::Restricted;
    let tech = add(
        &mut session,
        Kind::Technology,
        r,
        json!({"name": "Alpha radars", "area": "semiconductors"}),
    );
    add(
        &mut session,
        Kind::Assessment,
        r,
        json!({"subject_id": tech.to_string(), "date": "2024-12-31", "trl": 4, "criticality": 6.0, "supply_risk": 3.0}),
    );
    // The built-in technologies are UNCLASSIFIED; the highest level is RESTRICTED.
    let built = report::build(&session, &ReportSource::Now, None, None).unwrap();
    assert_eq!(built.classification, r);
    let text = pages(&report::to_pdf(&built).unwrap().0);
    assert_banners(&text, "RESTREINT UE/EU RESTRICTED");
    assert!(!text.join("\n").contains("SECRET UE/EU SECRET"));
    assert!(
        text.join("\n").contains("(R)"),
        "portion marking of the RESTRICTED rows"
    );
    // One SECRET record makes the whole report SECRET.
    add(
        &mut session,
        Kind::Assessment,
        Classification::Secret,
        json!({"subject_id": tech.to_string(), "date": "2026-06-30", "trl": 7, "criticality": 9.0, "supply_risk": 8.0}),
    );
    let built = report::build(&session, &ReportSource::Now, None, None).unwrap();
    assert_eq!(built.classification, Classification::Secret);
    let text = pages(&report::to_pdf(&built).unwrap().0);
    assert_banners(&text, "SECRET UE/EU SECRET");
    let all = text.join("\n");
    assert!(text[1..].join("\n").contains("(S)") && all.contains("2026-06-30"));
    // --max-classification RESTRICTED drops it again, and says so.
    let built = report::build(&session, &ReportSource::Now, Some(r), None).unwrap();
    assert_eq!((built.classification, built.omitted), (r, 1));
    let text = pages(&report::to_pdf(&built).unwrap().0);
    assert_banners(&text, "RESTREINT UE/EU RESTRICTED");
    let all = text.join("\n");
    assert!(!all.contains("SECRET UE/EU SECRET"));
    // (The title page explains every portion marking; the body has no SECRET portion.)
    assert!(!text[1..].join("\n").contains("(S)"));
    assert!(
        !all.contains("2026-06-30"),
        "nothing of the SECRET assessment"
    );
    assert!(
        text[0].contains("1 record(s) above it left out"),
        "{}",
        text[0]
    );
    assert!(all.contains("1 record(s) above it were left out of this report"));
    session.save().unwrap();
    drop(session);
    // The command line.
    let f = path.to_str().unwrap();
    let out = env.ok(&[
        "report",
        f,
        "--out",
        "r.pdf",
        "--max-classification",
        "RESTRICTED",
        "--markdown",
        "r.md",
    ]);
    assert!(out.contains("marked RESTREINT UE/EU RESTRICTED"), "{out}");
    assert!(
        out.contains("1 record(s) above RESTREINT UE/EU RESTRICTED were left out"),
        "{out}"
    );
    let pdf = std::fs::read(env.path("r.pdf")).unwrap();
    assert_banners(&pages(&pdf), "RESTREINT UE/EU RESTRICTED");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(env.path("r.pdf"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "a report is private to its owner");
    }
    let md = std::fs::read_to_string(env.path("r.md")).unwrap();
    assert!(md.starts_with("**RESTREINT UE/EU RESTRICTED**"));
    assert!(md.contains("| (R) | Alpha radars | 4 |"), "{md}");
    // A report is never written over an existing file; bad levels are refused.
    let err = env.fails(&["report", f, "--out", "r.pdf"], 11);
    assert!(err.contains("exists already"), "{err}");
    let err = env.fails(
        &[
            "report",
            f,
            "--out",
            "x.pdf",
            "--max-classification",
            "VERY SECRET",
        ],
        11,
    );
    assert!(err.contains("is not a level"), "{err}");
    assert!(!env.path("x.pdf").exists());
    let err = env.fails(&["report", f, "--out", "x.pdf", "--edition", "nope"], 12);
    assert!(err.contains("no edition"), "{err}");
    // Whole report as Markdown by extension.
    env.ok(&["report", f, "--out", "whole.md"]);
    let md = std::fs::read_to_string(env.path("whole.md")).unwrap();
    assert!(md.starts_with("**SECRET UE/EU SECRET**"));
}

#[test]
fn a_report_from_an_edition_and_the_changes_since_the_previous_one() {
    let env = Env::new();
    let mut session = Session::create(&env.path("e.observatory"), env.identity()).unwrap();
    let u = Classification::Unclassified;
    let tech = add(
        &mut session,
        Kind::Technology,
        u,
        json!({"name": "Alpha radars", "area": "semiconductors"}),
    );
    add(
        &mut session,
        Kind::Assessment,
        u,
        json!({"subject_id": tech.to_string(), "date": "2024-12-31", "trl": 4}),
    );
    let first = session.freeze_edition("Report 2024", None).unwrap();
    add(
        &mut session,
        Kind::Technology,
        u,
        json!({"name": "Beta sensors", "area": "sensing"}),
    );
    add(
        &mut session,
        Kind::Assessment,
        u,
        json!({"subject_id": tech.to_string(), "date": "2026-06-30", "trl": 6}),
    );
    // The first edition: Beta sensors did not exist.
    let old = report::build(
        &session,
        &ReportSource::Edition(first.to_string()),
        None,
        None,
    )
    .unwrap();
    let old_text = pages(&report::to_pdf(&old).unwrap().0).join("\n");
    assert!(old_text.contains("Alpha radars") && !old_text.contains("Beta sensors"));
    assert!(old_text.contains("Edition \"Report 2024\""));
    assert!(old_text.contains("There is no earlier edition to compare with."));
    // A later edition, compared with the first. Editions are by date: freeze the second one
    // as of tomorrow so that it comes after.
    let tomorrow = {
        let today: String = observatory::store::now_rfc3339().chars().take(10).collect();
        observatory::service::timeline::date_of_day(
            observatory::service::timeline::day_number(&today).unwrap() + 1.0,
        )
    };
    let second = session
        .freeze_edition("Report 2026", Some(&tomorrow))
        .unwrap();
    let new = report::build(
        &session,
        &ReportSource::Edition(second.to_string()),
        None,
        None,
    )
    .unwrap();
    let text = pages(&report::to_pdf(&new).unwrap().0).join("\n");
    assert!(
        text.contains("Compared with the edition \"Report 2024\""),
        "{text}"
    );
    assert!(text.contains("Technologies added: 1"));
    assert!(text.contains("Beta sensors"));
    assert!(text.contains("TRL changes: 1"));
    assert!(text.contains("Alpha radars: 4 → 6"), "{text}");
}

/// The PDF opens in the reference renderer (poppler's pdftoppm), page by page.
#[test]
fn the_pdf_renders_with_pdftoppm() {
    if !have_tool("pdftoppm") {
        return;
    }
    let env = Env::new();
    let mut session = Session::create(&env.path("p.observatory"), env.identity()).unwrap();
    session.build_demo().unwrap();
    let built = report::build(&session, &ReportSource::Now, None, None).unwrap();
    let (pdf, count) = report::to_pdf(&built).unwrap();
    let file = env.path("p.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "30", "-png"])
        .arg(&file)
        .arg(env.path("page"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "pdftoppm complained: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pngs = std::fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".png"))
        .count();
    assert_eq!(pngs, count);
}

fn tomorrow() -> String {
    let today: String = observatory::store::now_rfc3339().chars().take(10).collect();
    observatory::service::timeline::date_of_day(
        observatory::service::timeline::day_number(&today).unwrap() + 1.0,
    )
}

#[test]
fn the_marking_covers_the_previous_editions_removed_records() {
    let env = Env::new();
    let mut session = Session::create(&env.path("m.observatory"), env.identity()).unwrap();
    let u = Classification::Unclassified;
    add(
        &mut session,
        Kind::Technology,
        u,
        json!({"name": "Open radars", "area": "semiconductors"}),
    );
    let secret = add(
        &mut session,
        Kind::Technology,
        Classification::Secret,
        json!({"name": "Hidden sensor", "area": "sensing"}),
    );
    session.freeze_edition("Edition one", None).unwrap();
    session.delete(Kind::Technology, secret).unwrap();
    let second = session
        .freeze_edition("Edition two", Some(&tomorrow()))
        .unwrap();
    let built = report::build(
        &session,
        &ReportSource::Edition(second.to_string()),
        None,
        None,
    )
    .unwrap();
    // Nothing in the second edition is above UNCLASSIFIED, but the report prints the SECRET
    // technology removed since the first: the whole document is SECRET.
    assert_eq!(built.classification, Classification::Secret);
    let md = report::to_markdown(&built);
    assert!(md.starts_with("**SECRET UE/EU SECRET**"), "{}", &md[..200]);
    assert!(md.contains("- Classification: **SECRET UE/EU SECRET**"));
    let removed = md
        .lines()
        .find(|l| l.contains("Hidden sensor"))
        .unwrap_or_else(|| panic!("the removed technology is listed:\n{md}"));
    assert!(removed.starts_with("| (S) |"), "{removed}");
    let text = pages(&report::to_pdf(&built).unwrap().0);
    assert_banners(&text, "SECRET UE/EU SECRET");
}

#[test]
fn an_edition_shows_a_record_at_its_level_now_when_raised_later() {
    let env = Env::new();
    let mut session = Session::create(&env.path("r.observatory"), env.identity()).unwrap();
    let tech = add(
        &mut session,
        Kind::Technology,
        Classification::Unclassified,
        json!({"name": "Later secret", "area": "sensing"}),
    );
    let first = session.freeze_edition("Before", None).unwrap();
    let raise = RecordInput {
        classification: Some(Classification::Secret),
        ..RecordInput::default()
    };
    session.edit(Kind::Technology, tech, &raise).unwrap();
    let built = report::build(
        &session,
        &ReportSource::Edition(first.to_string()),
        None,
        None,
    )
    .unwrap();
    assert_eq!(built.classification, Classification::Secret);
    let records = session
        .store()
        .edition_records(&session.find_edition(&first.to_string()).unwrap().id)
        .unwrap();
    let shown = records.iter().find(|r| r.meta.id == tech).unwrap();
    assert_eq!(shown.meta.classification, Classification::Secret);
}

#[test]
fn markdown_escapes_record_text_so_no_fake_marking_line_appears() {
    let env = Env::new();
    let mut session = Session::create(&env.path("x.observatory"), env.identity()).unwrap();
    add(
        &mut session,
        Kind::Technology,
        Classification::Restricted,
        json!({"name": "**TOP SECRET UE/EU TOP SECRET** <b>x</b> [link](http://e) | cell", "area": "sensing"}),
    );
    let built = report::build(&session, &ReportSource::Now, None, None).unwrap();
    let md = report::to_markdown(&built);
    assert!(!md.contains("**TOP SECRET"), "{md}");
    assert!(
        md.contains("\\*\\*TOP SECRET UE/EU TOP SECRET\\*\\*"),
        "{md}"
    );
    assert!(
        !md.contains("<b>") && md.contains("\\[link\\](http"),
        "{md}"
    );
    // Every non-empty line outside tables and headings starts with a portion marking or is
    // the document's own marking, a title or a front-matter line.
    for line in md.lines().filter(|l| !l.is_empty()) {
        let ok = line.starts_with('(')
            || line.starts_with('|')
            || line.starts_with('#')
            || line.starts_with("- ")
            || line.starts_with("**RESTREINT")
            || line == built.basis;
        assert!(ok, "an unmarked line: {line}");
    }
}

/// A firm's name printed beside an item (top firm, only firm) is marked at the firm's level,
/// not only the item's and the link's.
#[test]
fn a_row_naming_a_firm_is_marked_at_the_firms_level() {
    let env = Env::new();
    let mut session = Session::create(&env.path("firm.observatory"), env.identity()).unwrap();
    let u = Classification::Unclassified;
    let item = add(
        &mut session,
        Kind::Item,
        u,
        json!({"name": "Gyroscopes", "item_kind": "component"}),
    );
    let firm = add(
        &mut session,
        Kind::Organisation,
        Classification::Confidential,
        json!({"name": "Hidden Gyro Works", "hq_country": "FR"}),
    );
    add(
        &mut session,
        Kind::Link,
        u,
        json!({"from_id": item.to_string(), "to_id": firm.to_string(),
               "link_kind": "supplied-by", "share": 1.0}),
    );
    let built = report::build(&session, &ReportSource::Now, None, None).unwrap();
    let md = report::to_markdown(&built);
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.contains("Hidden Gyro Works"))
        .collect();
    assert!(!rows.is_empty(), "{md}");
    for row in rows {
        assert!(row.starts_with("| (C)"), "{row}");
    }
}

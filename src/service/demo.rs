//! The demo observatory: the EU 2023 list of critical technologies, the EU critical raw
//! materials study 2023 (scores 2011-2023, supply shares by country and stage, EU sourcing,
//! end uses) and USGS production figures (2023 and 2024 releases, imported one after the other
//! so the change shows as history), all read by the same importers users run, from copies
//! embedded in the program (`assets/data`). On top, a handful of example components, links from
//! technologies to the materials they need, assessments, measures and events, UNCLASSIFIED and
//! marked as examples ([`EXAMPLE_NOTE`]).

use serde_json::{Value, json};
use uuid::Uuid;

use super::demo_data::{CRM_2023, EmbeddedFile, USGS_2023, USGS_2024};
use super::{RecordInput, ServiceError, Session};
use crate::model::{Classification, Kind, reference};
use crate::sources::crm::material_id;
use crate::sources::{Files, ReadOptions, SourceFormat, read_files};

/// Marks every example record (the imported public data is not marked: it is real).
pub const EXAMPLE_NOTE: &str =
    "Example record for exploring Observatory: illustrative, not an assessment.";

/// The public datasets the demo is built from, for the About box and the report annex.
pub const DEMO_SOURCES: &[&str] = &[
    "European Commission, Study on the critical raw materials for the EU 2023 - Final report (2023); tables transcribed by E. Emilsson, CC BY 4.0",
    "U.S. Geological Survey, Mineral Commodity Summaries 2023 and 2024 data releases (doi:10.5066/P9WCYUI6, doi:10.5066/P144BA54), public domain",
    "Commission Recommendation (EU) 2023/2113 on critical technology areas for the EU's economic security",
];

fn input(fields: Value) -> RecordInput {
    RecordInput {
        classification: Some(Classification::Unclassified),
        releasable_to: None,
        fields: serde_json::from_value(fields).unwrap_or_default(),
    }
}

/// The demo's other members: name, Member State.
const DEMO_MEMBERS: [(&str, &str); 4] = [
    ("Amélie Laurent (demo)", "FR"),
    ("Jonas Weber (demo)", "DE"),
    ("Giulia Rossi (demo)", "IT"),
    ("Marta Nowak (demo)", "PL"),
];

/// One demo answer: technology code, (TRL, criticality, supply risk), EU position, date.
type DemoAnswer = (&'static str, (i64, f64, f64), &'static str, &'static str);

/// What the demo members answer in the 2025 round (the fourth does not answer): they agree
/// on quantum sensing, disagree on quantum computing (TRL 3 to 6, lagging to leading), and
/// Italy skips microelectronics.
const DEMO_ANSWERS: [&[DemoAnswer]; 4] = [
    &[
        ("quantum-sensing", (5, 7.0, 2.5), "on-par", "2025-07-14"),
        ("quantum-computing", (3, 8.0, 2.0), "lagging", "2025-07-14"),
        ("microelectronics", (8, 9.0, 3.5), "lagging", "2025-07-14"),
    ],
    &[
        ("quantum-sensing", (5, 6.5, 2.0), "on-par", "2025-09-02"),
        ("quantum-computing", (6, 8.5, 1.5), "leading", "2025-09-02"),
        ("microelectronics", (8, 8.5, 3.0), "lagging", "2025-09-02"),
    ],
    &[
        ("quantum-sensing", (6, 7.5, 3.0), "on-par", "2025-09-29"),
        ("quantum-computing", (4, 7.5, 2.0), "on-par", "2025-09-29"),
    ],
    &[],
];

/// Technology code, date, (TRL, criticality, supply risk), EU position.
type Assessment = (&'static str, &'static str, (i64, f64, f64), &'static str);

/// Example assessments: technology code, date, (TRL, criticality, supply risk), EU position.
/// Two report cycles for some technologies, so TRL and risk move over time.
const ASSESSMENTS: &[Assessment] = &[
    (
        "high-frequency-chips",
        "2022-12-31",
        (5, 8.0, 3.2),
        "lagging",
    ),
    ("microelectronics", "2024-12-31", (8, 8.5, 3.0), "lagging"),
    (
        "high-frequency-chips",
        "2024-12-31",
        (6, 8.5, 4.1),
        "lagging",
    ),
    ("quantum-sensing", "2024-12-31", (4, 6.5, 2.0), "on-par"),
    ("microelectronics", "2026-06-30", (8, 9.0, 3.4), "lagging"),
    ("quantum-sensing", "2026-06-30", (5, 7.0, 2.0), "on-par"),
    ("drones-vehicles", "2026-06-30", (7, 7.5, 3.0), "on-par"),
    ("quantum-computing", "2026-06-30", (4, 8.0, 1.5), "on-par"),
    (
        "semiconductor-equipment",
        "2026-06-30",
        (9, 9.5, 1.8),
        "leading",
    ),
    ("robots-precision", "2026-06-30", (7, 7.0, 4.5), "lagging"),
];

/// Example measures: name, instrument, status, start, end, target technology, recorded on.
const MEASURES: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "Chips Act pilot lines (example)",
        "chips-act",
        "ongoing",
        "2024-01-01",
        "2028-12-31",
        "microelectronics",
        "2024-01-01",
    ),
    (
        "Horizon Europe quantum sensing (example)",
        "horizon-europe",
        "ongoing",
        "2025-01-01",
        "2027-12-31",
        "quantum-sensing",
        "2024-12-31",
    ),
    (
        "EDF call on GaN radar components (example)",
        "edf",
        "planned",
        "2026-09-01",
        "2029-08-31",
        "high-frequency-chips",
        "2026-06-30",
    ),
];

/// Events: title, date, kind, recorded on.
const EVENTS: &[(&str, &str, &str, &str)] = &[
    (
        "Report cycle: critical technologies report",
        "2022-12-31",
        "report-cycle",
        "2022-12-31",
    ),
    (
        "Export licensing of gallium and germanium by China",
        "2023-08-01",
        "security",
        "2023-08-01",
    ),
    (
        "Commission Recommendation on critical technology areas",
        "2023-10-03",
        "policy",
        "2023-10-03",
    ),
    (
        "Critical Raw Materials Act enters into force",
        "2024-05-23",
        "policy",
        "2024-05-23",
    ),
    (
        "Report cycle: critical technologies report",
        "2024-12-31",
        "report-cycle",
        "2024-12-31",
    ),
    (
        "Report cycle: critical technologies report",
        "2026-12-31",
        "report-cycle",
        "2026-06-30",
    ),
];

/// When each part of the demo is recorded (its simulated history), in order.
const STEPS: &[(&str, Step)] = &[
    ("2022-12-31", Step::Dated),
    ("2023-03-16", Step::Import(0)),
    ("2023-04-03", Step::Import(1)),
    ("2023-08-01", Step::Dated),
    ("2023-10-03", Step::Dated),
    ("2024-01-01", Step::Dated),
    ("2024-02-01", Step::Import(2)),
    ("2024-03-01", Step::Components),
    ("2024-05-23", Step::Dated),
    ("2024-12-31", Step::Dated),
    ("2025-06-30", Step::Consultation),
    ("2026-06-30", Step::Dated),
];

/// A part of the demo.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// One of the public datasets (index into the list in `build_demo`).
    Import(usize),
    /// The example components, their supply, what technologies need, domains.
    Components,
    /// The assessments, measures and events recorded on that date.
    Dated,
    /// A consultation round of four demo members (opened then, answered, closed).
    Consultation,
}

impl Session {
    /// Imports the embedded public datasets and adds the example records (see the module
    /// docs). The demo has a simulated history: each part is recorded at the clock of a date
    /// (the datasets on their publication, assessments on their date, never later than now),
    /// so that "as of" views and the timeline have a past to show.
    pub fn build_demo(&mut self) -> Result<(), ServiceError> {
        let datasets: [(SourceFormat, &str, &[EmbeddedFile]); 3] = [
            (SourceFormat::Crm, "eu_crm_2023 (demo)", CRM_2023),
            (SourceFormat::Usgs, "usgs_mcs/world_2023 (demo)", USGS_2023),
            (SourceFormat::Usgs, "usgs_mcs/world_2024 (demo)", USGS_2024),
        ];
        let now = crate::model::Hlc::now_ms();
        let result = (|| -> Result<(), ServiceError> {
            for (date, step) in STEPS {
                let noon = crate::store::end_of_day(date)
                    .map_or(now, |h| h.wall_ms.saturating_sub(12 * 3_600_000));
                self.store_mut().simulate_clock(Some(noon.min(now)));
                match *step {
                    Step::Import(i) => {
                        let Some((format, name, files)) = datasets.get(i) else {
                            continue;
                        };
                        let parsed = read_files(
                            *format,
                            &Files::Memory { name, files },
                            &ReadOptions::default(),
                        )
                        .map_err(|e| ServiceError::Invalid(format!("demo data {name}: {e}")))?;
                        self.import_source(&parsed, name, false, false)?;
                    }
                    Step::Components => self.add_components()?,
                    Step::Consultation => self.add_consultation(noon)?,
                    Step::Dated => self.add_dated(date)?,
                }
            }
            Ok(())
        })();
        self.store_mut().simulate_clock(None);
        result?;
        self.add_open_round()?;
        self.add_roadmaps()
    }

    /// Roadmaps for two technologies, and what the EDF call is expected to change.
    fn add_roadmaps(&mut self) -> Result<(), ServiceError> {
        let tech = |code: &str| reference::reference_technology_id(code).to_string();
        let measure = |s: &Session, name: &str| -> Option<String> {
            s.list(Kind::Measure)
                .ok()?
                .into_iter()
                .find(|m| m.text("name") == Some(name))
                .map(|m| m.meta.id.to_string())
        };
        let edf = measure(self, "EDF call on GaN radar components (example)");
        let horizon = measure(self, "Horizon Europe quantum sensing (example)");
        if let Some(edf) = &edf
            && let Ok(id) = Uuid::parse_str(edf)
        {
            self.edit(
                Kind::Measure,
                id,
                &input(json!({"gaps_addressed": ["hardware"], "causes_addressed": ["critical-raw-materials"],
                    "effect_trl": 7, "effect_date": "2029-08-31", "budget_eur": 60_000_000.0})),
            )?;
        }
        for (title, code, targets, milestones, m) in [
            (
                "GaN radar chips: roadmap (example)",
                "high-frequency-chips",
                json!([
                    "2028: TRL 7, outside bloc 80 %",
                    "2030: TRL 8, outside bloc 60 %, EU capacity 20 %"
                ]),
                json!([
                    "2027-06-30: EU GaN-on-SiC pilot line qualified",
                    "2029-03-31: first EU-sourced radar modules"
                ]),
                edf,
            ),
            (
                "Quantum sensing: roadmap (example)",
                "quantum-sensing",
                json!(["2027: TRL 6", "2030: TRL 8"]),
                json!([
                    "2026-12-31: field trials of gravimeters",
                    "2028-06-30: defence qualification"
                ]),
                horizon,
            ),
        ] {
            self.add(
                Kind::Roadmap,
                None,
                &input(json!({
                    "title": title, "technology_id": tech(code), "bloc": "EU",
                    "targets": targets, "milestones": milestones,
                    "measure_ids": m.map(|m| vec![m]).unwrap_or_default(),
                    "narrative": EXAMPLE_NOTE,
                })),
            )?;
        }
        Ok(())
    }

    /// The demo's members, by name and Member State (throwaway keys, made for the demo).
    fn demo_members(&self) -> Result<Vec<(Session, std::path::PathBuf)>, ServiceError> {
        let folder = self
            .store()
            .path()
            .parent()
            .map_or_else(std::env::temp_dir, std::path::Path::to_path_buf)
            .join(format!(".demo-members-{}", Uuid::now_v7()));
        #[cfg_attr(not(unix), allow(unused_mut))]
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        // Windows: the folder inherits the ACL of the demo's private temporary folder.
        builder.create(&folder).map_err(|e| {
            ServiceError::Invalid(format!("cannot make the demo members' folder: {e}"))
        })?;
        let mut out = Vec::new();
        for (name, state) in DEMO_MEMBERS {
            let profile = crate::crypto::Profile::new(name, state, Classification::Unclassified)?;
            let session = Session::create(
                &folder.join(format!("{state}.observatory")),
                crate::crypto::Identity::generate(profile),
            )?;
            out.push((session, folder.clone()));
        }
        Ok(out)
    }

    /// A past consultation round (opened on the date of `noon`, answered by three of four
    /// demo members through real bundles, closed with its consolidated assessments), and a
    /// proposal to add a technology on the watch.
    fn add_consultation(&mut self, noon: u64) -> Result<(), ServiceError> {
        let mut members = self.demo_members()?;
        let folder = members.first().map(|m| m.1.clone());
        let result = self.consult_with(&mut members, noon);
        drop(members);
        if let Some(folder) = folder {
            let _ = std::fs::remove_dir_all(folder);
        }
        result
    }

    fn consult_with(
        &mut self,
        members: &mut [(Session, std::path::PathBuf)],
        noon: u64,
    ) -> Result<(), ServiceError> {
        use super::bundle::ExportScope;
        use super::consultation::{AnswerSpec, RoundSpec};
        let tech = reference::reference_technology_id;
        let own_card = self.identity().card().to_string();
        for (m, _) in members.iter_mut() {
            m.store_mut().simulate_clock(Some(noon));
            let added = self.add_member(&m.identity().card().to_string())?;
            self.verify_member(&added.fingerprint)?;
            let me = m.add_member(&own_card)?;
            m.verify_member(&me.fingerprint)?;
        }
        let round = self.open_round(&RoundSpec {
            title: "2025 consultation: quantum and microelectronics".into(),
            deadline: "2025-09-30".into(),
            technology_ids: vec![
                tech("quantum-sensing"),
                tech("quantum-computing"),
                tech("microelectronics"),
            ],
            description: Some(EXAMPLE_NOTE.into()),
            opened: Some("2025-06-30".into()),
            ..RoundSpec::default()
        })?;
        for (m, _) in members.iter_mut() {
            let bundle = self.export_bundle(
                &[m.author().to_owned()],
                &ExportScope::Selection(vec![round]),
            )?;
            m.import_bundle(&bundle.bytes, false)?;
        }
        for (i, (m, _)) in members.iter_mut().enumerate() {
            let answers = DEMO_ANSWERS.get(i).copied().unwrap_or_default();
            if answers.is_empty() {
                continue; // the fourth member does not answer
            }
            for (code, (trl, criticality, risk), position, date) in answers {
                m.answer_round(
                    round,
                    &AnswerSpec {
                        subject: tech(code),
                        trl: Some(*trl),
                        criticality: Some(*criticality),
                        supply_risk: Some(*risk),
                        eu_position: Some((*position).into()),
                        narrative: Some(EXAMPLE_NOTE.into()),
                        date: Some((*date).into()),
                        ..AnswerSpec::default()
                    },
                )?;
            }
            let bundle = m.export_bundle(&[self.author().to_owned()], &ExportScope::SinceLast)?;
            self.import_bundle(&bundle.bytes, false)?;
        }
        let closing = noon + 107 * 86_400_000; // 2025-10-15
        self.store_mut().simulate_clock(Some(closing));
        self.close_round_on(round, "2025-10-15")?;
        // A technology on the watch, proposed for the list.
        let neuromorphic = self.add(
            Kind::Technology,
            None,
            &input(json!({
                "name": "Neuromorphic computing", "area": "ai", "domains": ["defence", "civil"],
                "dual_use": true, "watch_status": "watch", "signal_date": "2024-05-23",
                "watch_date": "2025-10-15", "description": EXAMPLE_NOTE,
            })),
        )?;
        self.add_proposal(&super::consultation::ProposalSpec {
            action: "add".into(),
            technology: Some(neuromorphic),
            area: Some("ai".into()),
            criteria: vec!["multi-use".into(), "strategic-dependency".into()],
            rationale: Some(EXAMPLE_NOTE.into()),
            ..super::consultation::ProposalSpec::default()
        })?;
        // The incubator flags quantum sensing (TRL 5, defence and civil security).
        self.flag_for_uptake(
            tech("quantum-sensing"),
            "EIC programme managers",
            "eic-transition",
            Some("2025-10-15"),
        )?;
        Ok(())
    }

    /// The open round of now: a follow-up (Delphi) of the 2025 round on quantum computing,
    /// with the proposal to add neuromorphic computing, due in six weeks.
    fn add_open_round(&mut self) -> Result<(), ServiceError> {
        let Some(past) = self.rounds()?.into_iter().find(|r| r.status == "closed") else {
            return Ok(());
        };
        let proposals: Vec<Uuid> = self
            .list(Kind::Proposal)?
            .iter()
            .map(|p| p.meta.id)
            .collect();
        let today = time::OffsetDateTime::now_utc().date();
        let deadline = today
            .checked_add(time::Duration::days(42))
            .map_or_else(String::new, |d| d.to_string());
        self.open_round(&super::consultation::RoundSpec {
            title: "2027 report: quantum computing, second round".into(),
            deadline,
            technology_ids: vec![reference::reference_technology_id("quantum-computing")],
            proposal_ids: proposals,
            follow_up_of: Some(past.id),
            description: Some(EXAMPLE_NOTE.into()),
            ..super::consultation::RoundSpec::default()
        })?;
        Ok(())
    }

    /// The assessments, measures and events recorded on `recorded`.
    fn add_dated(&mut self, recorded: &str) -> Result<(), ServiceError> {
        let tech = |code: &str| reference::reference_technology_id(code).to_string();
        for (code, date, (trl, criticality, risk), position) in ASSESSMENTS {
            if *date == recorded {
                self.add(
                    Kind::Assessment,
                    None,
                    &input(json!({
                        "subject_id": tech(code), "date": date, "trl": trl,
                        "criticality": criticality, "supply_risk": risk, "eu_position": position,
                        "confidence": "low", "narrative": EXAMPLE_NOTE, "assessor": "Demo",
                    })),
                )?;
            }
        }
        for (name, instrument, status, start, end, target, on) in MEASURES {
            if *on == recorded {
                self.add(
                    Kind::Measure,
                    None,
                    &input(json!({
                        "name": name, "instrument": instrument, "status": status, "start": start,
                        "end": end, "target_ids": [tech(target)], "description": EXAMPLE_NOTE,
                    })),
                )?;
            }
        }
        for (title, date, kind, on) in EVENTS {
            if *on == recorded {
                self.add(Kind::Event, None, &input(json!({
                    "title": title, "date": date, "event_kind": kind, "description": EXAMPLE_NOTE,
                })))?;
            }
        }
        Ok(())
    }

    /// The example components, their supply, what the technologies need, and domains.
    #[allow(clippy::too_many_lines)]
    fn add_components(&mut self) -> Result<(), ServiceError> {
        let tech = |code: &str| reference::reference_technology_id(code);
        let material = |name: &str| material_id(name).to_string();
        let item =
            |s: &mut Session, name: &str, kind: &str, stage: &str| -> Result<Uuid, ServiceError> {
                s.add(Kind::Item, None, &input(json!({
                "name": name, "item_kind": kind, "stage": stage, "description": EXAMPLE_NOTE,
            })))
            };
        let wafers = item(self, "GaN-on-SiC wafers", "component", "manufacturing")?;
        let magnets = item(
            self,
            "NdFeB permanent magnets",
            "component",
            "manufacturing",
        )?;
        let cells = item(
            self,
            "Lithium-ion battery cells",
            "component",
            "manufacturing",
        )?;
        let optics = item(
            self,
            "Germanium infrared optics",
            "component",
            "manufacturing",
        )?;
        let link = |s: &mut Session, from: String, to: String, kind: &str, share: Option<f64>| {
            let mut fields =
                json!({"from_id": from, "to_id": to, "link_kind": kind, "notes": EXAMPLE_NOTE});
            if let Some(share) = share {
                fields["share"] = json!(share);
                fields["year"] = json!(2023);
            }
            s.add(Kind::Link, None, &input(fields))
        };
        // Illustrative supply of the example components.
        for (component, country, share) in [
            (magnets, "CN", 0.90),
            (magnets, "JP", 0.07),
            (magnets, "DE", 0.01),
            (wafers, "US", 0.40),
            (wafers, "FR", 0.25),
            (wafers, "JP", 0.20),
            (cells, "CN", 0.75),
            (cells, "KR", 0.12),
            (cells, "PL", 0.06),
            (optics, "US", 0.30),
            (optics, "BE", 0.25),
            (optics, "CN", 0.35),
        ] {
            link(
                self,
                component.to_string(),
                country.into(),
                "produced-in",
                Some(share),
            )?;
        }
        // What the components are made from (materials of the CRM study).
        for (name, component) in [
            ("Gallium", wafers),
            ("LREEs", magnets),
            ("HREEs", magnets),
            ("Lithium", cells),
            ("Cobalt", cells),
            ("Natural graphite", cells),
            ("Nickel", cells),
            ("Manganese", cells),
            ("Germanium", optics),
        ] {
            link(
                self,
                material(name),
                component.to_string(),
                "input-to",
                None,
            )?;
        }
        // What the technologies need.
        let needs: [(&str, &[Uuid], &[&str]); 10] = [
            ("high-frequency-chips", &[wafers], &["Gallium"]),
            (
                "microelectronics",
                &[],
                &["Gallium", "Germanium", "Silicon metal", "PGMs"],
            ),
            ("photonics", &[optics], &["Germanium", "Indium"]),
            ("robots-precision", &[magnets], &[]),
            ("drones-vehicles", &[magnets, cells], &[]),
            ("smart-grids-storage", &[cells], &["Lithium"]),
            ("sensing-electro-optical", &[optics], &["Gallium"]),
            ("space-dedicated", &[cells], &["Germanium", "Gallium"]),
            (
                "propulsion-hypersonics",
                &[],
                &["Tungsten", "Hafnium", "Niobium"],
            ),
            ("net-zero", &[], &["Silicon metal", "Gallium"]),
        ];
        for (code, components, materials) in needs {
            for component in components {
                link(
                    self,
                    tech(code).to_string(),
                    component.to_string(),
                    "requires",
                    None,
                )?;
            }
            for name in materials {
                link(
                    self,
                    tech(code).to_string(),
                    material(name),
                    "requires",
                    None,
                )?;
            }
        }
        let domains = |s: &mut Session, code: &str, domains: &[&str]| {
            s.edit(
                Kind::Technology,
                tech(code),
                &input(json!({"domains": domains, "dual_use": true})),
            )
        };
        domains(self, "high-frequency-chips", &["defence", "space", "civil"])?;
        domains(self, "quantum-sensing", &["defence", "civil-security"])?;
        domains(
            self,
            "drones-vehicles",
            &["defence", "civil-security", "civil"],
        )?;
        domains(self, "microelectronics", &["defence", "space", "civil"])?;
        Ok(())
    }
}

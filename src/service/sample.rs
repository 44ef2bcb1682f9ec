//! A small sample register to explore the app before real data is loaded: a few example
//! items, supply links, assessments, measures and events on top of the EU 2023 list, all
//! UNCLASSIFIED and marked as examples. (The demo observatory built from public datasets
//! replaces it when the importers land.)

use serde_json::{Value, json};
use uuid::Uuid;

use super::{RecordInput, ServiceError, Session};
use crate::model::{Classification, Kind, reference};

/// Marks every sample record.
pub const EXAMPLE_NOTE: &str =
    "Example record for exploring Observatory: illustrative, not an assessment.";

fn input(fields: Value) -> RecordInput {
    RecordInput {
        classification: Some(Classification::Unclassified),
        releasable_to: None,
        fields: serde_json::from_value(fields).unwrap_or_default(),
    }
}

impl Session {
    /// Adds the sample records (see the module docs).
    pub fn add_sample_records(&mut self) -> Result<(), ServiceError> {
        let tech = |code: &str| reference::reference_technology_id(code);
        let source = self.add(
            Kind::Source,
            None,
            &input(json!({
                "title": "Study on the critical raw materials for the EU 2023 - Final report",
                "publisher": "European Commission", "date": "2023-03-16", "reliability": "A",
            })),
        )?;
        let src = || json!([source.to_string()]);
        let item =
            |s: &mut Session, name: &str, kind: &str, stage: &str| -> Result<Uuid, ServiceError> {
                s.add(Kind::Item, None, &input(json!({
                "name": name, "item_kind": kind, "stage": stage, "description": EXAMPLE_NOTE,
            })))
            };
        let gallium = item(self, "Gallium", "material", "processing")?;
        let germanium = item(self, "Germanium", "material", "processing")?;
        let wafers = item(self, "GaN-on-SiC wafers", "component", "manufacturing")?;
        let magnets = item(
            self,
            "NdFeB permanent magnets",
            "component",
            "manufacturing",
        )?;
        let rare_earths = item(
            self,
            "Rare earth elements (heavy)",
            "material",
            "processing",
        )?;
        let link = |s: &mut Session, from: String, to: String, kind: &str, share: Option<f64>| {
            let mut fields =
                json!({"from_id": from, "to_id": to, "link_kind": kind, "notes": EXAMPLE_NOTE});
            if let Some(share) = share {
                fields["share"] = json!(share);
                fields["year"] = json!(2023);
                fields["source_ids"] = src();
            }
            s.add(Kind::Link, None, &input(fields))
        };
        // Supply figures: gallium processing as in the CRM 2023 study; the others illustrative.
        link(
            self,
            gallium.to_string(),
            "CN".into(),
            "produced-in",
            Some(0.938),
        )?;
        link(
            self,
            gallium.to_string(),
            "JP".into(),
            "produced-in",
            Some(0.02),
        )?;
        link(
            self,
            germanium.to_string(),
            "CN".into(),
            "produced-in",
            Some(0.68),
        )?;
        link(
            self,
            germanium.to_string(),
            "US".into(),
            "produced-in",
            Some(0.12),
        )?;
        link(
            self,
            germanium.to_string(),
            "BE".into(),
            "produced-in",
            Some(0.10),
        )?;
        link(
            self,
            rare_earths.to_string(),
            "CN".into(),
            "produced-in",
            Some(0.98),
        )?;
        link(
            self,
            magnets.to_string(),
            "CN".into(),
            "produced-in",
            Some(0.90),
        )?;
        link(
            self,
            magnets.to_string(),
            "JP".into(),
            "produced-in",
            Some(0.07),
        )?;
        link(
            self,
            wafers.to_string(),
            "US".into(),
            "produced-in",
            Some(0.40),
        )?;
        link(
            self,
            wafers.to_string(),
            "FR".into(),
            "produced-in",
            Some(0.25),
        )?;
        link(
            self,
            wafers.to_string(),
            "JP".into(),
            "produced-in",
            Some(0.20),
        )?;
        link(
            self,
            gallium.to_string(),
            wafers.to_string(),
            "input-to",
            None,
        )?;
        link(
            self,
            rare_earths.to_string(),
            magnets.to_string(),
            "input-to",
            None,
        )?;
        link(
            self,
            tech("high-frequency-chips").to_string(),
            wafers.to_string(),
            "requires",
            None,
        )?;
        link(
            self,
            tech("microelectronics").to_string(),
            germanium.to_string(),
            "requires",
            None,
        )?;
        link(
            self,
            tech("robots-precision").to_string(),
            magnets.to_string(),
            "requires",
            None,
        )?;
        link(
            self,
            tech("drones-vehicles").to_string(),
            magnets.to_string(),
            "requires",
            None,
        )?;

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
        let assess =
            |s: &mut Session, code: &str, trl: i64, criticality: f64, risk: f64, position: &str| {
                s.add(
                    Kind::Assessment,
                    None,
                    &input(json!({
                        "subject_id": tech(code).to_string(), "date": "2026-06-30", "trl": trl,
                        "criticality": criticality, "supply_risk": risk, "eu_position": position,
                        "confidence": "low", "narrative": EXAMPLE_NOTE, "assessor": "Sample",
                    })),
                )
            };
        assess(self, "microelectronics", 8, 9.0, 3.4, "lagging")?;
        assess(self, "high-frequency-chips", 6, 8.5, 4.1, "lagging")?;
        assess(self, "quantum-sensing", 5, 7.0, 2.0, "on-par")?;
        assess(self, "drones-vehicles", 7, 7.5, 3.0, "on-par")?;
        assess(self, "quantum-computing", 4, 8.0, 1.5, "on-par")?;
        assess(self, "semiconductor-equipment", 9, 9.5, 1.8, "leading")?;
        for (name, instrument, status, start, end, target) in [
            (
                "Chips Act pilot lines (example)",
                "chips-act",
                "ongoing",
                "2024-01-01",
                "2028-12-31",
                "microelectronics",
            ),
            (
                "EDF call on GaN radar components (example)",
                "edf",
                "planned",
                "2026-09-01",
                "2029-08-31",
                "high-frequency-chips",
            ),
            (
                "Horizon Europe quantum sensing (example)",
                "horizon-europe",
                "ongoing",
                "2025-01-01",
                "2027-12-31",
                "quantum-sensing",
            ),
        ] {
            self.add(Kind::Measure, None, &input(json!({
                "name": name, "instrument": instrument, "status": status, "start": start,
                "end": end, "target_ids": [tech(target).to_string()], "description": EXAMPLE_NOTE,
            })))?;
        }
        for (title, date, kind) in [
            (
                "Export licensing of gallium and germanium by China",
                "2023-08-01",
                "security",
            ),
            (
                "Critical Raw Materials Act enters into force",
                "2024-05-23",
                "policy",
            ),
            (
                "Commission Recommendation on critical technology areas",
                "2023-10-03",
                "policy",
            ),
        ] {
            self.add(
                Kind::Event,
                None,
                &input(json!({
                    "title": title, "date": date, "event_kind": kind, "description": EXAMPLE_NOTE,
                })),
            )?;
        }
        Ok(())
    }
}

//! Pure, deterministic metrics over the register (DESIGN.md §8). No store, no UI: functions
//! take records and return sorted results.
//!
//! # Concentration of supply (per item)
//! The supply of an item is read from its links: `produced-in` links from the item to a
//! country, and `supplied-by` links from the item to an organisation, counted for the
//! organisation's headquarters country. Where links carry years, only the latest year is used
//! (older figures are history). Shares of the same country are added. Published shares are
//! rounded, so totals up to 1.02 are taken as published (China's 93.8 % of gallium processing
//! in the CRM study, whose shares add up to 100.1 %, stays 93.8 %); totals above that are
//! scaled to 1; totals below 1 leave the rest unknown, left out.
//! - Herfindahl-Hirschman index: `HHI = Σ (100 · share_c)²`, 0-10,000 (10,000 = one country).
//! - EU share: the sum of the shares of EU Member States.
//! - Single source: one country only.
//!
//! Technology metrics (look-through exposure, chokepoints, supply risk) and cut-off scenarios
//! are computed on the supply graph: see [`graph`].

pub mod graph;

pub use graph::{GraphBuilder, NodeKind, ScenarioImpact, SupplyGraph, TechnologyMetrics};

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::model::Record;

/// Concentration of the supply of one item.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ItemConcentration {
    /// Item id.
    pub id: Uuid,
    /// Item name.
    pub name: String,
    /// Herfindahl-Hirschman index, 0-10,000.
    pub hhi: f64,
    /// Share of EU Member States, 0-1.
    pub eu_share: f64,
    /// Country with the largest share.
    pub top_country: String,
    /// Its share, 0-1.
    pub top_share: f64,
    /// Only one supplying country.
    pub single_source: bool,
    /// Year of the figures, when recorded.
    pub year: Option<i64>,
}

/// How far recorded shares may add up over 1 and still be read as rounding (2 points).
pub const ROUNDING_TOLERANCE: f64 = 0.02;

/// Supply concentration of every item with supply links, highest HHI first (then by name and
/// id, so the order is deterministic).
#[must_use]
pub fn concentration(
    items: &[Record],
    organisations: &[Record],
    links: &[Record],
) -> Vec<ItemConcentration> {
    GraphBuilder::from_records(&[], items, organisations, links)
        .build()
        .item_metrics()
}

/// The latest assessment (by date, then clock) of each subject.
#[must_use]
pub fn latest_assessments(assessments: &[Record]) -> BTreeMap<Uuid, &Record> {
    let mut latest: BTreeMap<Uuid, &Record> = BTreeMap::new();
    for a in assessments.iter().filter(|a| !a.meta.deleted) {
        let Some(subject) = a.text("subject_id").and_then(|s| Uuid::parse_str(s).ok()) else {
            continue;
        };
        let key = |r: &Record| {
            (
                r.text("date").unwrap_or_default().to_owned(),
                r.meta.updated,
            )
        };
        if latest
            .get(&subject)
            .is_none_or(|current| key(a) > key(current))
        {
            latest.insert(subject, a);
        }
    }
    latest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Classification, Hlc, Kind, Meta};

    fn record(kind: Kind, n: u128, fields: serde_json::Value) -> Record {
        Record {
            kind,
            meta: Meta {
                id: Uuid::from_u128(n),
                classification: Classification::Unclassified,
                releasable_to: vec![],
                created_at: String::new(),
                updated: Hlc::default(),
                updated_by: String::new(),
                deleted: false,
                reference: false,
            },
            fields: serde_json::from_value(fields).unwrap(),
        }
    }

    #[test]
    fn hhi_eu_share_and_single_source_by_hand() {
        let gallium = record(Kind::Item, 1, serde_json::json!({"name": "Gallium"}));
        let cobalt = record(Kind::Item, 2, serde_json::json!({"name": "Cobalt"}));
        let umicore = record(
            Kind::Organisation,
            3,
            serde_json::json!({"name": "U", "hq_country": "BE"}),
        );
        let id = |n: u128| Uuid::from_u128(n).to_string();
        let links = vec![
            // Gallium 2023: CN 0.938, JP 0.03 (2022 figures are history)
            record(
                Kind::Link,
                10,
                serde_json::json!({"from_id": id(1), "to_id": "CN", "link_kind": "produced-in", "share": 0.938, "year": 2023}),
            ),
            record(
                Kind::Link,
                11,
                serde_json::json!({"from_id": id(1), "to_id": "JP", "link_kind": "produced-in", "share": 0.03, "year": 2023}),
            ),
            record(
                Kind::Link,
                12,
                serde_json::json!({"from_id": id(1), "to_id": "DE", "link_kind": "produced-in", "share": 0.5, "year": 2022}),
            ),
            // Cobalt: one supplier in Belgium, 100 %
            record(
                Kind::Link,
                13,
                serde_json::json!({"from_id": id(2), "to_id": id(3), "link_kind": "supplied-by", "share": 1.0}),
            ),
        ];
        let result = concentration(&[cobalt, gallium], &[umicore], &links);
        assert_eq!(result.len(), 2);
        assert_eq!(result[0].name, "Cobalt");
        assert!((result[0].hhi - 10_000.0).abs() < 1e-6);
        assert!(result[0].single_source);
        assert!((result[0].eu_share - 1.0).abs() < 1e-9);
        let ga = &result[1];
        assert!(
            (ga.hhi - (93.8f64.powi(2) + 3.0f64.powi(2))).abs() < 1e-6,
            "{}",
            ga.hhi
        );
        assert_eq!((ga.top_country.as_str(), ga.year), ("CN", Some(2023)));
        assert!(ga.eu_share.abs() < 1e-12 && !ga.single_source);
        assert!(ga.eu_share.is_sign_positive(), "no -0.0");
    }

    #[test]
    fn rounded_totals_are_kept_and_larger_ones_scaled() {
        let item = record(Kind::Item, 1, serde_json::json!({"name": "Ga"}));
        let id = Uuid::from_u128(1).to_string();
        let link = |n: u128, to: &str, share: f64| {
            record(
                Kind::Link,
                n,
                serde_json::json!({"from_id": id, "to_id": to, "link_kind": "produced-in", "share": share}),
            )
        };
        // 100.1 %: rounding, kept as published.
        let result = concentration(
            std::slice::from_ref(&item),
            &[],
            &[link(2, "CN", 0.938), link(3, "UA", 0.063)],
        );
        assert!((result[0].top_share - 0.938).abs() < 1e-12);
        assert!((result[0].hhi - (93.8f64.powi(2) + 6.3f64.powi(2))).abs() < 1e-6);
        // 150 %: scaled to 1.
        let result = concentration(&[item], &[], &[link(2, "CN", 1.0), link(3, "UA", 0.5)]);
        assert!((result[0].top_share - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn needed_by_follows_requires_then_inputs_upstream() {
        let id = |n: u128| Uuid::from_u128(n).to_string();
        let tech = record(Kind::Technology, 1, serde_json::json!({"name": "Radar"}));
        let other = record(Kind::Technology, 2, serde_json::json!({"name": "Other"}));
        let items: Vec<Record> = [10, 11, 12, 13, 99]
            .iter()
            .map(|n| record(Kind::Item, *n, serde_json::json!({"name": format!("i{n}")})))
            .collect();
        let link = |n: u128, from: String, to: String, kind: &str| {
            record(
                Kind::Link,
                n,
                serde_json::json!({"from_id": from, "to_id": to, "link_kind": kind}),
            )
        };
        // Radar requires wafers (10); gallium (11) is input to wafers; processing (12) to
        // gallium; a cycle back from wafers to processing is harmless; 13 is unrelated.
        let links = [
            link(20, id(1), id(10), "requires"),
            link(21, id(11), id(10), "input-to"),
            link(22, id(12), id(11), "input-to"),
            link(23, id(10), id(12), "input-to"),
            link(24, id(13), id(99), "input-to"),
            link(25, id(10), "CN".into(), "produced-in"),
        ];
        let needed = SupplyGraph::from_records(&[tech, other], &items, &[], &links).needed_by();
        let keys: Vec<&String> = needed.keys().collect();
        let mut expected = [id(10), id(11), id(12)];
        expected.sort();
        assert_eq!(keys, expected.iter().collect::<Vec<_>>());
        assert_eq!(needed[&id(11)], vec![id(1)]);
    }
}

//! Pure, deterministic metrics over the register (DESIGN.md §8). No store, no UI: functions
//! take records and return sorted results.
//!
//! # Concentration of supply (per item)
//! The supply of an item is read from its links that carry a share: `produced-in` links to a
//! country (or a regional aggregate, or the unattributed rest `ZZ`), and `supplied-by` links
//! to an organisation (or `ZZ`, the unattributed rest of the firms). These are two **bases**
//! that describe the same supply and are never added together:
//! - **country figures**: the `produced-in` links;
//! - **firm figures**: the `supplied-by` links.
//!
//! Within a basis, figures of different sources (the link's first `source_ids` entry) are
//! never added either. For each source, only its latest data year counts (at or before the
//! `--year` asked for; undated figures only where the source has no dated one). The analysis
//! uses one source per basis: the latest data year, then the one whose shares add up to most
//! (the most complete), then the source id; every source's figures are reported side by side
//! (`sources`), with the spread of their HHIs (`source_spread`).
//!
//! **Country concentration** uses the country figures where the item has any; otherwise the
//! firm figures, each firm counted for its country: its one recorded production site, else its
//! headquarters (`country_basis` says which). Published shares are rounded, so totals up to
//! 1.02 are taken as published (China's 93.8 % of gallium processing in the CRM study, whose
//! shares add up to 100.1 %, stays 93.8 %); totals above that are scaled to 1; totals below 1
//! leave the rest unknown, left out. Shares are never rescaled to hide an unattributed rest.
//! - Herfindahl-Hirschman index: `HHI = Σ (100 · share_c)²`, 0-10,000 (10,000 = one country),
//!   over countries and regional aggregates (a region counts as one supplier, so concentration
//!   is never understated); the unattributed rest and firms without a known country add
//!   nothing (`unattributed_share`).
//! - EU share: the sum of the shares of EU Member States.
//! - Single source: one country only, with no region and no unattributed rest, that makes at
//!   least 98 % of the item (one country at 2 % with the rest unrecorded is no single source).
//!
//! **Firm concentration** uses the firm figures alone: `firm_hhi = Σ (100 · share_o)²` over
//! organisations, the top organisation and its share; `single_firm`: one organisation with
//! no unattributed rest that makes at least 98 % of the item.
//!
//! Worked example (ETO, wafer bonding and aligning tools): country rows AUT 47.9 %, JPN 25.6 %,
//! DEU 20.9 %, TWN 4.5 %, USA 0.8 % and "Various" 0.3 % give `HHI = 47.9² + 25.6² + 20.9² +
//! 4.5² + 0.8² = 3,407` and `unattributed_share = 0.003`; the firm rows give `firm_hhi`.
//!
//! Technology metrics (look-through exposure, chokepoints, supply risk) and cut-off scenarios
//! are computed on the supply graph: see [`graph`].

pub mod crma;
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
    /// Only one supplying country, with nothing beside it, for at least 98 % of the item.
    pub single_source: bool,
    /// Year of the figures, when recorded.
    pub year: Option<i64>,
    /// What the country figures rest on: `country rows` (the source's own figures by
    /// country), or `firms by headquarters` / `firms by production site` / `firms by
    /// headquarters and production site` (firm figures counted for each firm's country).
    pub country_basis: String,
    /// The shares used, by country (alpha-2) and region code, 0-1 (the unattributed rest is
    /// `unattributed_share`).
    pub country_shares: BTreeMap<String, f64>,
    /// The unattributed rest ("Various", "Other countries"), 0-1: in the total, never a
    /// country.
    pub unattributed_share: f64,
    /// Shares of regional aggregates ("Europe"), 0-1.
    pub region_share: f64,
    /// Herfindahl-Hirschman index over organisations (firm figures), 0-10,000.
    pub firm_hhi: Option<f64>,
    /// The organisation with the largest share of the firm figures.
    pub top_organisation: Option<String>,
    /// Its share, 0-1.
    pub top_organisation_share: Option<f64>,
    /// One organisation makes all of it (no other firm, no unattributed rest).
    pub single_firm: bool,
    /// Year of the firm figures.
    pub firm_year: Option<i64>,
    /// The source record whose figures are used (empty: figures recorded without a source).
    pub source: String,
    /// The figures of every source, side by side.
    pub sources: Vec<SourceFigure>,
    /// The spread between sources: the highest HHI minus the lowest (None with one source).
    pub source_spread: Option<f64>,
}

/// One source's figures for an item.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceFigure {
    /// Source record id (empty: recorded without a source).
    pub source: String,
    /// Data year.
    pub year: Option<i64>,
    /// Country HHI from this source alone.
    pub hhi: f64,
    /// Its top country.
    pub top_country: String,
    /// That country's share, 0-1.
    pub top_share: f64,
    /// The analysis uses this source.
    pub chosen: bool,
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
    concentration_at(items, organisations, links, None)
}

/// [`concentration`] from the figures of a data year (the latest year at or before it).
#[must_use]
pub fn concentration_at(
    items: &[Record],
    organisations: &[Record],
    links: &[Record],
    year: Option<i64>,
) -> Vec<ItemConcentration> {
    GraphBuilder::from_records(&[], items, organisations, links)
        .at_year(year)
        .build()
        .item_metrics()
}

/// The latest assessment (by date, then clock) of each subject.
#[must_use]
pub fn latest_assessments(assessments: &[Record]) -> BTreeMap<Uuid, &Record> {
    let mut latest: BTreeMap<Uuid, &Record> = BTreeMap::new();
    // One member's answer to a consultation round is not the register's judgement: the
    // consolidated assessment the closed round writes is.
    for a in assessments
        .iter()
        .filter(|a| !a.meta.deleted && !a.is_round_answer())
    {
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
        let result = concentration(
            std::slice::from_ref(&item),
            &[],
            &[link(2, "CN", 1.0), link(3, "UA", 0.5)],
        );
        assert!((result[0].top_share - 2.0 / 3.0).abs() < 1e-12);
        // One country with 2 % recorded and the rest unknown is no single source; at 98.5 %
        // (rounding) it is.
        let result = concentration(std::slice::from_ref(&item), &[], &[link(2, "US", 0.021)]);
        assert!(!result[0].single_source);
        let result = concentration(&[item], &[], &[link(2, "US", 0.985)]);
        assert!(result[0].single_source);
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

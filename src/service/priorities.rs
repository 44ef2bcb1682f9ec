//! Where to act first: the urgency ranking of technologies, read for a bloc of partners, with
//! chosen measures applied or not ("what if this measure succeeds").
//!
//! # The score
//! Four components, each 0-100 (higher: more urgent), combined with fixed weights into a score
//! 0-100. A component the register has nothing for (no supply figures, no assessment) is
//! *unknown*: it is left out and the weights of the others are scaled up, and the technology
//! lists it under `unknown`, so a blank is never read as "no problem" nor as "urgent".
//!
//! - **dependency** (weight 35): `100 × min(1, 0.5·E + 0.3·W + 0.2·C)`, where E is the
//!   look-through exposure to countries outside the bloc (the analysis gives the unattributed
//!   rest and regional aggregates no exposure, so they count in neither), W the loss in the
//!   worst plausible cut-off (the largest exposure to one country outside the bloc: what
//!   `analyse --cut` of that country loses), and C is 1 when an item it depends on is
//!   single-sourced from outside the bloc, when it has a chokepoint firm, or when an item it
//!   depends on gets more than 65 % from one third country (the Critical Raw Materials Act
//!   benchmark, [`crate::analysis::crma`]); else 0. The EU capacity benchmarks are listed
//!   among its concerns but not in C: most materials miss them, so they would not tell
//!   technologies apart.
//! - **capability** (weight 25): the mean of the EU position (leading 0, on-par 33.3, lagging
//!   66.7, absent 100) and the TRL shortfall against what its domains need
//!   (`100 × max(0, need − TRL) / (need − 1)`, need: defence 7, space 7, civil-security 6,
//!   civil 5, the highest of its domains; 5 without a domain), from its latest assessment
//!   (answers to consultation rounds excluded; a consolidated assessment counts).
//! - **gaps** (weight 15): `100 × min(1, n / 5)` for the n gaps and root causes of its latest
//!   assessment.
//! - **mitigation** (weight 25): the share of what needs a measure that no measure covers,
//!   ×100. What needs a measure: each gap and root cause of the latest assessment, and the
//!   dependency itself when its component is 50 or more. A measure covers a gap or root cause
//!   when it is planned or ongoing, its end is not past, it targets the technology, and it
//!   lists that gap (`gaps_addressed`) or cause (`causes_addressed`); it covers the dependency
//!   when it targets the technology or an item the technology depends on. With nothing that
//!   needs a measure, mitigation is 0.
//!
//! `score = (35·dependency + 25·capability + 15·gaps + 25·mitigation) / (sum of the weights
//! of the known components)`. Ties are ordered by name, then id. *Uncovered gaps* are the gaps
//! and root causes (and the dependency) no measure covers.
//!
//! # Measures applied
//! A measure can carry its expected effect: a new supplier (`effect_country`, e.g. a Member
//! State) with a share (`effect_share`) of an item (`effect_item_id`), and a TRL its target
//! technologies reach (`effect_trl`) by a date (`effect_date`). Applied, the new supplier
//! joins the item's country figures that the analysis uses (the source and year it chooses:
//! the latest year up to the data year, then the most complete, then the smaller source id)
//! with its share, and every other share of those figures scales by `1 − share`; an item
//! with firm figures only is left as it is (a country never joins firm figures) and the
//! ranking says so among the technology's concerns; a measure given twice succeeds once. The
//! TRL of its targets is at least `effect_trl`.
//! The ranking is then computed again, beside the one without: `score_before`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{ServiceError, Session, SupplyRecords};
use crate::analysis::{self, crma};
use crate::model::bloc::Bloc;
use crate::model::{Classification, Kind, Record};

/// Component weights: dependency, capability, gaps, mitigation.
pub const WEIGHTS: [(&str, f64); 4] = [
    ("dependency", 35.0),
    ("capability", 25.0),
    ("gaps", 15.0),
    ("mitigation", 25.0),
];

/// The TRL a domain needs.
pub const DOMAIN_TRL_NEED: [(&str, i64); 4] = [
    ("defence", 7),
    ("space", 7),
    ("civil-security", 6),
    ("civil", 5),
];

/// One technology's place in the ranking.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Priority {
    /// Technology id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Score 0-100.
    pub score: f64,
    /// Component name → 0-100 (known components only).
    pub components: BTreeMap<String, f64>,
    /// Components the register has nothing for.
    pub unknown: Vec<String>,
    /// Gaps, root causes (and the dependency) no measure covers.
    pub uncovered_gaps: Vec<String>,
    /// Look-through exposure outside the bloc, 0-1.
    pub outside_bloc_exposure: Option<f64>,
    /// The country outside the bloc it is most exposed to, and that exposure.
    pub worst_cut_off: Option<(String, f64)>,
    /// Single sources outside the bloc, chokepoint firms, CRMA flags of what it depends on.
    pub concerns: Vec<String>,
    /// Latest TRL and what its domains need.
    pub trl: Option<i64>,
    /// The TRL its domains need.
    pub trl_needed: i64,
    /// Latest EU position.
    pub eu_position: Option<String>,
    /// The measures aimed at it (name, instrument, status, budget, end).
    pub measures: Vec<String>,
    /// With measures applied: the score without them.
    pub score_before: Option<f64>,
    /// Highest level of the records behind it (the technology, the items it depends on,
    /// their supply links and the firms they name, its latest assessment, the measures aimed
    /// at it or its items, measures applied).
    pub classification: Classification,
    /// The ids of those records (for a document's releasability).
    #[serde(skip)]
    pub behind: Vec<Uuid>,
}

/// The ranking.
#[derive(Debug, Clone, Serialize)]
pub struct Priorities {
    /// The bloc it is read for.
    pub bloc: String,
    /// Measures applied.
    pub applied: Vec<Uuid>,
    /// Highest first.
    pub technologies: Vec<Priority>,
    /// Highest level of everything behind it.
    pub classification: Classification,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn position_score(p: &str) -> Option<f64> {
    match p {
        "leading" => Some(0.0),
        "on-par" => Some(100.0 / 3.0),
        "lagging" => Some(200.0 / 3.0),
        "absent" => Some(100.0),
        _ => None,
    }
}

/// The TRL a technology's domains need (the highest; 5 without a domain).
#[must_use]
pub fn trl_needed(domains: &[String]) -> i64 {
    domains
        .iter()
        .filter_map(|d| DOMAIN_TRL_NEED.iter().find(|(n, _)| n == d).map(|x| x.1))
        .max()
        .unwrap_or(5)
}

/// The score from known components (see the module docs).
#[must_use]
pub fn combine(components: &BTreeMap<String, f64>) -> f64 {
    let (mut sum, mut weights) = (0.0, 0.0);
    for (name, w) in WEIGHTS {
        if let Some(v) = components.get(name) {
            sum += w * v;
            weights += w;
        }
    }
    if weights > 0.0 { sum / weights } else { 0.0 }
}

/// Whether a measure is in force or planned and not ended (as of `today`, `YYYY-MM-DD`).
#[must_use]
pub fn is_active(m: &Record, today: &str) -> bool {
    matches!(m.text("status"), Some("planned" | "ongoing"))
        && m.text("end").is_none_or(|e| e >= today)
}

impl Session {
    /// A bloc by name (case-insensitive; the built-in EU, EU+EEA, NATO, like-minded, or one
    /// of the members').
    pub fn bloc(&self, name: &str) -> Result<(Bloc, Classification), ServiceError> {
        let wanted = name.trim().to_lowercase();
        // The treaties' blocs come from the country table, whatever any record says.
        if let Some(fixed) = crate::model::bloc::FIXED
            .iter()
            .find(|n| n.to_lowercase() == wanted)
        {
            return Ok((
                Bloc {
                    name: (*fixed).to_owned(),
                    countries: crate::model::bloc::built_in_countries(fixed)
                        .into_iter()
                        .collect(),
                },
                Classification::Unclassified,
            ));
        }
        let blocs = self.list(Kind::Bloc)?;
        // A built-in name is the built-in record's (never a member's bloc of the same name).
        let found = blocs
            .iter()
            .filter(|b| b.text("name").is_some_and(|n| n.to_lowercase() == wanted))
            .min_by_key(|b| (!b.meta.reference, b.meta.id))
            .ok_or_else(|| {
                let own = blocs.iter().filter(|b| !b.meta.reference).count();
                ServiceError::Invalid(format!(
                    "there is no bloc {name:?}: the built-in blocs are EU, EU+EEA, NATO and like-minded{}",
                    if own > 0 {
                        format!(", and this file has {own} of the members' own (see the Blocs register)")
                    } else {
                        String::new()
                    }
                ))
            })?;
        Ok((
            Bloc {
                name: found.label(),
                countries: found.texts("countries").into_iter().collect(),
            },
            found.meta.classification,
        ))
    }

    /// The urgency ranking for `bloc`, with the measures `apply` applied (see the module docs).
    pub fn priorities(&self, bloc: &str, apply: &[Uuid]) -> Result<Priorities, ServiceError> {
        let (bloc, bloc_level) = self.bloc(bloc)?;
        let records = self.supply_records()?;
        let assessments = self.list(Kind::Assessment)?;
        let measures = self.list(Kind::Measure)?;
        let mut applied = Vec::new();
        for id in apply {
            let m = self.get(Kind::Measure, *id)?;
            applied.push(m);
        }
        let technologies = rank_records(&records, &assessments, &measures, &bloc, &applied);
        // Marked with what it shows: every row's records, the bloc, the measures applied.
        let level = Classification::highest(technologies.iter().map(|t| t.classification))
            .max(bloc_level)
            .max(Classification::highest(
                applied.iter().map(|m| m.meta.classification),
            ));
        Ok(Priorities {
            bloc: bloc.name,
            applied: apply.to_vec(),
            technologies,
            classification: level,
        })
    }
}

/// The ranking from given records (a report's, under its ceiling or from an edition).
#[must_use]
pub fn rank_records(
    records: &SupplyRecords,
    assessments: &[Record],
    measures: &[Record],
    bloc: &Bloc,
    applied: &[Record],
) -> Vec<Priority> {
    let mut out = rank(
        records,
        assessments,
        measures,
        bloc,
        applied,
        records.data_year,
    );
    if !applied.is_empty() {
        let before: BTreeMap<Uuid, f64> =
            rank(records, assessments, measures, bloc, &[], records.data_year)
                .into_iter()
                .map(|b| (b.id, b.score))
                .collect();
        for t in &mut out {
            t.score_before = before.get(&t.id).copied();
        }
    }
    out
}

/// Applies measures' expected effects to copies of the supply records (see the module docs).
/// Returns the records and, per measure that could not be applied, why.
#[must_use]
pub fn with_effects(records: &SupplyRecords, applied: &[Record]) -> SupplyRecords {
    apply_effects(records, applied).0
}

/// [`with_effects`], with a note per effect that could not be applied.
#[must_use]
pub fn apply_effects(records: &SupplyRecords, applied: &[Record]) -> (SupplyRecords, Vec<String>) {
    let mut out = SupplyRecords {
        technologies: records.technologies.clone(),
        items: records.items.clone(),
        organisations: records.organisations.clone(),
        links: records.links.clone(),
        governance: records.governance.clone(),
        data_year: records.data_year,
    };
    let mut notes = Vec::new();
    let mut seen = BTreeSet::new();
    for m in applied {
        if !seen.insert(m.meta.id) {
            continue; // the same measure twice succeeds once
        }
        let (Some(item), Some(country), Some(share)) = (
            m.text("effect_item_id"),
            m.text("effect_country"),
            m.fields.get("effect_share").and_then(Value::as_f64),
        ) else {
            continue;
        };
        let first_source = |l: &Record| l.texts("source_ids").first().cloned().unwrap_or_default();
        let year_of = |l: &Record| l.fields.get("year").and_then(Value::as_i64);
        let limit = out.data_year;
        // Country figures of the item (firm figures are never mixed with countries).
        let country_links: Vec<&Record> = out
            .links
            .iter()
            .filter(|l| {
                !l.meta.deleted
                    && l.text("from_id") == Some(item)
                    && l.text("link_kind") == Some("produced-in")
                    && l.fields.contains_key("share")
                    && limit.is_none_or(|y| year_of(l).is_none_or(|ly| ly <= y))
            })
            .collect();
        if country_links.is_empty() {
            notes.push(format!(
                "{}: its item has no country figures{} for a new supplier to join; not applied",
                m.label(),
                limit.map_or_else(String::new, |y| format!(" up to {y}"))
            ));
            continue;
        }
        // The group the analysis uses: per (first source, year), the latest year, then the
        // highest total, then the smaller source id (see `analysis::graph::choose`).
        let mut groups: BTreeMap<(String, Option<i64>), f64> = BTreeMap::new();
        for l in &country_links {
            *groups.entry((first_source(l), year_of(l))).or_insert(0.0) +=
                l.fields.get("share").and_then(Value::as_f64).unwrap_or(0.0);
        }
        let Some(((source, year), _)) = groups.iter().max_by(|a, b| {
            a.0.1
                .cmp(&b.0.1)
                .then(a.1.total_cmp(b.1))
                .then_with(|| b.0.0.cmp(&a.0.0))
        }) else {
            continue;
        };
        let (source, year) = (source.clone(), *year);
        let source_ids = country_links
            .iter()
            .find(|l| first_source(l) == source && year_of(l) == year)
            .map(|l| l.texts("source_ids"))
            .unwrap_or_default();
        for l in &mut out.links {
            if !l.meta.deleted
                && l.text("from_id") == Some(item)
                && l.text("link_kind") == Some("produced-in")
                && first_source(l) == source
                && year_of(l) == year
                && let Some(s) = l.fields.get("share").and_then(Value::as_f64)
            {
                l.fields
                    .insert("share".to_owned(), Value::from(s * (1.0 - share)));
            }
        }
        let mut fields = BTreeMap::new();
        fields.insert("from_id".to_owned(), Value::from(item));
        fields.insert("to_id".to_owned(), Value::from(country));
        fields.insert("link_kind".to_owned(), Value::from("produced-in"));
        fields.insert("share".to_owned(), Value::from(share));
        if let Some(y) = year {
            fields.insert("year".to_owned(), Value::from(y));
        }
        if !source_ids.is_empty() {
            fields.insert("source_ids".to_owned(), Value::from(source_ids));
        }
        let mut link = m.clone();
        link.kind = Kind::Link;
        link.meta.id = Uuid::now_v7();
        link.meta.deleted = false;
        link.fields = fields;
        out.links.push(link);
    }
    (out, notes)
}

#[allow(clippy::too_many_lines)]
fn rank(
    records: &SupplyRecords,
    assessments: &[Record],
    measures: &[Record],
    bloc: &Bloc,
    applied: &[Record],
    year: Option<i64>,
) -> Vec<Priority> {
    use std::collections::HashMap;
    let today: String = crate::store::now_rfc3339().chars().take(10).collect();
    let (records, effect_notes) = apply_effects(records, applied);
    let graph = records.graph_at(year);
    let metrics: HashMap<String, analysis::TechnologyMetrics> = graph
        .technology_metrics(None)
        .into_iter()
        .map(|m| (m.id.clone(), m))
        .collect();
    let items: HashMap<String, analysis::ItemConcentration> = graph
        .item_metrics()
        .into_iter()
        .map(|c| (c.id.to_string(), c))
        .collect();
    // Technology → the items it depends on.
    let mut depends: HashMap<String, Vec<String>> = HashMap::new();
    for (item, techs) in graph.needed_by() {
        for t in techs {
            depends.entry(t).or_default().push(item.clone());
        }
    }
    let latest = analysis::latest_assessments(assessments);
    let item_records: HashMap<String, &Record> = records
        .items
        .iter()
        .map(|r| (r.meta.id.to_string(), r))
        .collect();
    let org_records: HashMap<String, &Record> = records
        .organisations
        .iter()
        .map(|r| (r.meta.id.to_string(), r))
        .collect();
    // Item → its supply links (what its figures and the named firms come from).
    let mut links_from: HashMap<String, Vec<&Record>> = HashMap::new();
    for l in &records.links {
        if let Some(f) = l.text("from_id") {
            links_from.entry(f.to_owned()).or_default().push(l);
        }
    }
    // Record → the measures aimed at it.
    let mut aimed_at: HashMap<String, Vec<&Record>> = HashMap::new();
    for m in measures {
        for t in m.texts("target_ids") {
            aimed_at.entry(t).or_default().push(m);
        }
    }
    let mut out = Vec::new();
    for t in &records.technologies {
        let tid = t.meta.id.to_string();
        let m = metrics.get(&tid);
        let needed: &[String] = depends.get(&tid).map_or(&[], Vec::as_slice);
        let mut concerns = Vec::new();
        // Everything the row is derived from: its level and releasability.
        let mut behind: Vec<&Record> = vec![t];
        for item in needed {
            if let Some(r) = item_records.get(item) {
                behind.push(r);
            }
            for l in links_from.get(item).map_or(&[][..], Vec::as_slice) {
                behind.push(l);
                if let Some(o) = l.text("to_id").and_then(|o| org_records.get(o)) {
                    behind.push(o);
                }
            }
        }
        // Dependency.
        let (dependency, outside, worst) = match m.filter(|m| !m.exposure.is_empty()) {
            Some(m) => {
                let outside: f64 = bloc.outside(m.exposure.iter()).min(1.0);
                let worst = m
                    .exposure
                    .iter()
                    .filter(|(c, _)| {
                        !bloc.contains(c) && crate::model::country::by_code(c).is_some()
                    })
                    .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
                    .map(|(c, s)| (c.clone(), s.min(1.0)));
                let mut critical = false;
                for c in needed.iter().filter_map(|i| items.get(i)) {
                    if c.single_source && !bloc.contains(&c.top_country) {
                        critical = true;
                        concerns.push(format!(
                            "{}: single source {} ({:.1} %)",
                            c.name,
                            c.top_country,
                            c.top_share * 100.0
                        ));
                    }
                    if let Some(item) = item_records.get(&c.id.to_string()) {
                        for f in crma::flags(item, c) {
                            // Only the 65 % benchmark is a concentration of supply; the EU
                            // capacity benchmarks are shown, but most materials miss them.
                            if f.benchmark == "single-third-country" {
                                critical = true;
                            }
                            concerns.push(format!("{}: {}", c.name, f.text));
                        }
                    }
                }
                for ch in &m.chokepoints {
                    if let Some(o) = org_records.get(ch) {
                        critical = true;
                        behind.push(o);
                        concerns.push(format!("chokepoint firm {}", o.label()));
                    }
                }
                let w = worst.as_ref().map_or(0.0, |x| x.1);
                let c = if critical { 1.0 } else { 0.0 };
                (
                    Some(100.0 * (0.5 * outside + 0.3 * w + 0.2 * c).min(1.0)),
                    Some(outside),
                    worst,
                )
            }
            None => (None, None, None),
        };
        // Capability.
        let a = latest.get(&t.meta.id).copied();
        if let Some(a) = a {
            behind.push(a);
        }
        let mut trl = a.and_then(|a| a.fields.get("trl")).and_then(Value::as_i64);
        let domains = t.texts("domains");
        let need = trl_needed(&domains);
        for m in applied {
            if m.texts("target_ids").contains(&tid)
                && let Some(reach) = m.fields.get("effect_trl").and_then(Value::as_i64)
            {
                behind.push(m);
                trl = Some(trl.map_or(reach, |x| x.max(reach)));
            }
        }
        let eu_position = a.and_then(|a| a.text("eu_position")).map(str::to_owned);
        #[allow(clippy::cast_precision_loss)] // TRL 1-9
        let shortfall = trl.map(|x| 100.0 * ((need - x).max(0) as f64) / ((need - 1) as f64));
        let parts: Vec<f64> = [eu_position.as_deref().and_then(position_score), shortfall]
            .into_iter()
            .flatten()
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let capability =
            (!parts.is_empty()).then(|| parts.iter().sum::<f64>() / parts.len() as f64);
        // Gaps.
        let gaps = a.map(|a| a.texts("gaps")).unwrap_or_default();
        let causes = a.map(|a| a.texts("root_causes")).unwrap_or_default();
        #[allow(clippy::cast_precision_loss)]
        let gaps_score = a.map(|_| 100.0 * ((gaps.len() + causes.len()) as f64 / 5.0).min(1.0));
        // Mitigation.
        let aimed: Vec<&Record> = aimed_at
            .get(&tid)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
            .filter(|m| is_active(m, &today))
            .collect();
        let via_items: Vec<&Record> = needed
            .iter()
            .flat_map(|i| aimed_at.get(i).map_or(&[][..], Vec::as_slice))
            .copied()
            .filter(|m| is_active(m, &today))
            .collect();
        let mut needs: Vec<(String, bool)> = Vec::new();
        for g in &gaps {
            let covered = aimed.iter().any(|m| m.texts("gaps_addressed").contains(g));
            needs.push((format!("gap: {g}"), covered));
        }
        for c in &causes {
            let covered = aimed
                .iter()
                .any(|m| m.texts("causes_addressed").contains(c));
            needs.push((format!("root cause: {c}"), covered));
        }
        if dependency.is_some_and(|d| d >= 50.0) {
            let covered = !aimed.is_empty() || !via_items.is_empty();
            behind.extend(via_items.iter().copied());
            needs.push((
                format!(
                    "dependency outside {} ({:.0} %)",
                    bloc.name,
                    outside.unwrap_or(0.0) * 100.0
                ),
                covered,
            ));
        }
        #[allow(clippy::cast_precision_loss)]
        let mitigation = if needs.is_empty() {
            0.0
        } else {
            100.0 * needs.iter().filter(|(_, c)| !c).count() as f64 / needs.len() as f64
        };
        let uncovered: Vec<String> = needs
            .iter()
            .filter(|(_, c)| !c)
            .map(|(n, _)| n.clone())
            .collect();
        let mut components = BTreeMap::new();
        let mut unknown = Vec::new();
        for (name, value) in [
            ("dependency", dependency),
            ("capability", capability),
            ("gaps", gaps_score),
            ("mitigation", Some(mitigation)),
        ] {
            match value {
                Some(v) => {
                    components.insert(name.to_owned(), round1(v));
                }
                None => unknown.push(name.to_owned()),
            }
        }
        let all_aimed = aimed_at.get(&tid).map_or(&[][..], Vec::as_slice);
        behind.extend(all_aimed.iter().copied());
        let measures_text: Vec<String> = all_aimed
            .iter()
            .map(|m| {
                format!(
                    "{} ({}, {}{}{})",
                    m.label(),
                    m.text("instrument").unwrap_or("no instrument"),
                    m.text("status").unwrap_or("no status"),
                    m.fields
                        .get("budget_eur")
                        .and_then(Value::as_f64)
                        .map_or_else(String::new, |b| format!(", EUR {:.1} M", b / 1e6)),
                    m.text("end")
                        .map_or_else(String::new, |e| format!(", to {e}"))
                )
            })
            .collect();
        concerns.extend(effect_notes.iter().cloned());
        let level = Classification::highest(behind.iter().map(|r| r.meta.classification)).max(
            Classification::highest(applied.iter().map(|m| m.meta.classification)),
        );
        let mut behind_ids: Vec<Uuid> = behind.iter().map(|r| r.meta.id).collect();
        behind_ids.sort_unstable();
        behind_ids.dedup();
        out.push(Priority {
            id: t.meta.id,
            name: t.label(),
            score: round1(combine(&components)),
            components,
            unknown,
            uncovered_gaps: uncovered,
            outside_bloc_exposure: outside.map(|x| (x * 1e4).round() / 1e4),
            worst_cut_off: worst,
            concerns,
            trl,
            trl_needed: need,
            eu_position,
            measures: measures_text,
            score_before: None,
            classification: level,
            behind: behind_ids,
        });
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_rescale_over_known_components() {
        let c = |pairs: &[(&str, f64)]| -> BTreeMap<String, f64> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
        };
        let all = c(&[
            ("dependency", 80.0),
            ("capability", 40.0),
            ("gaps", 20.0),
            ("mitigation", 100.0),
        ]);
        // (35·80 + 25·40 + 15·20 + 25·100) / 100 = 66
        assert!((combine(&all) - 66.0).abs() < 1e-9);
        // Without dependency: (25·40 + 15·20 + 25·100) / 65 = 58.46…
        let some = c(&[("capability", 40.0), ("gaps", 20.0), ("mitigation", 100.0)]);
        assert!((combine(&some) - 3800.0 / 65.0).abs() < 1e-9);
        assert!(combine(&BTreeMap::new()).abs() < f64::EPSILON);
        assert_eq!(trl_needed(&["civil".into(), "space".into()]), 7);
        assert_eq!(trl_needed(&[]), 5);
    }
}

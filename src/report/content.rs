//! What the report says: sections of headings, marked paragraphs, marked table rows and charts,
//! computed from the records the report may contain.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::analysis::{self, SupplyGraph};
use crate::model::{Classification, Kind, Record, country, reference};
use crate::service::timeline::day_number;
use crate::service::{ServiceError, Session, compare};

/// Where the records come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSource {
    /// The register now.
    Now,
    /// The register as it stood at the end of a date (`YYYY-MM-DD`).
    AsOf(String),
    /// An edition (id or whole title).
    Edition(String),
}

/// One table row, with the marking of the records it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Highest level of the records behind the row.
    pub level: Classification,
    /// Cell texts.
    pub cells: Vec<String>,
}

/// A chart, drawn as vector graphics in the PDF and as a table in Markdown.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Horizontal bars: label, value (0..`max`).
    Bars {
        /// Value axis caption.
        unit: String,
        /// The bars.
        bars: Vec<(String, f64)>,
        /// Full scale.
        max: f64,
    },
    /// Stacked horizontal bars: one per group, a segment per series.
    Stacked {
        /// Series names (segments).
        series: Vec<String>,
        /// Group label and the value of each series.
        groups: Vec<(String, Vec<f64>)>,
    },
    /// Points on two 0-10 axes (the risk matrix).
    Scatter {
        /// X axis caption.
        x_label: String,
        /// Y axis caption.
        y_label: String,
        /// Label, x, y.
        points: Vec<(String, f64, f64)>,
    },
    /// Bars from start to end on a date axis (days since 1970-01-01): label, start, end, status.
    Gantt {
        /// The bars.
        bars: Vec<(String, f64, f64, String)>,
    },
}

/// A block of a section.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A sub-heading.
    Heading(String),
    /// A paragraph with its marking.
    Paragraph(Classification, String),
    /// A table: column titles with relative widths, then rows.
    Table {
        /// Column titles and relative widths.
        columns: Vec<(String, f32)>,
        /// The rows.
        rows: Vec<Row>,
    },
    /// A chart with a caption and its marking.
    Chart {
        /// Caption.
        title: String,
        /// Highest level of the data drawn.
        level: Classification,
        /// The chart.
        chart: Chart,
    },
}

impl Block {
    /// The highest level of what the block prints.
    #[must_use]
    pub fn level(&self) -> Classification {
        match self {
            Block::Heading(_) => Classification::Unclassified,
            Block::Paragraph(level, _) | Block::Chart { level, .. } => *level,
            Block::Table { rows, .. } => Classification::highest(rows.iter().map(|r| r.level)),
        }
    }
}

/// A numbered section.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// "1", "2", ..., "A".
    pub number: String,
    /// Title.
    pub title: String,
    /// Content.
    pub blocks: Vec<Block>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Title.
    pub title: String,
    /// What it was made from ("Edition ...", "The register as of ...").
    pub basis: String,
    /// The date of the data (`YYYY-MM-DD`).
    pub date: String,
    /// When it was generated (RFC 3339).
    pub generated: String,
    /// Highest level of what it contains: the document's marking.
    pub classification: Classification,
    /// To whom it may be released.
    pub releasability: String,
    /// Distribution list.
    pub distribution: Vec<String>,
    /// The ceiling, if one was set.
    pub ceiling: Option<Classification>,
    /// Records left out because they are above the ceiling.
    pub omitted: usize,
    /// Sections in order.
    pub sections: Vec<Section>,
}

/// Records of the report by kind.
struct Register {
    by_kind: BTreeMap<Kind, Vec<Record>>,
    /// Level of every technology, item and organisation, by id text.
    levels: std::collections::HashMap<String, Classification>,
}

impl Register {
    fn of(&self, kind: Kind) -> &[Record] {
        self.by_kind.get(&kind).map_or(&[], Vec::as_slice)
    }

    fn level_of(&self, id: &str) -> Classification {
        self.levels
            .get(id)
            .copied()
            .unwrap_or(Classification::Unclassified)
    }
}

fn split(records: Vec<Record>) -> Register {
    let mut by_kind: BTreeMap<Kind, Vec<Record>> = BTreeMap::new();
    for r in records {
        by_kind.entry(r.kind).or_default().push(r);
    }
    let levels = [Kind::Technology, Kind::Item, Kind::Organisation]
        .iter()
        .flat_map(|k| by_kind.get(k).into_iter().flatten())
        .map(|r| (r.meta.id.to_string(), r.meta.classification))
        .collect();
    Register { by_kind, levels }
}

/// The records of a source, every kind.
fn records_of(
    session: &Session,
    source: &ReportSource,
) -> Result<(Vec<Record>, String, String), ServiceError> {
    let store = session.store();
    Ok(match source {
        ReportSource::Edition(key) => {
            let e = session.find_edition(key)?;
            (
                store.edition_records(&e.id)?,
                format!(
                    "Edition \"{}\" ({}), the register as of {}",
                    e.title, e.id, e.as_of
                ),
                e.as_of,
            )
        }
        ReportSource::AsOf(date) => {
            let cutoff = crate::store::end_of_day(date).ok_or_else(|| {
                ServiceError::Invalid(format!("{date:?} is not a date (YYYY-MM-DD)"))
            })?;
            let mut all = Vec::new();
            for kind in Kind::ALL {
                all.extend(store.as_of(kind, cutoff)?);
            }
            (
                all,
                format!("The register as of the end of {date} (UTC)"),
                date.clone(),
            )
        }
        ReportSource::Now => {
            let mut all = Vec::new();
            for kind in Kind::ALL {
                all.extend(store.list(kind, false)?);
            }
            let today: String = crate::store::now_rfc3339().chars().take(10).collect();
            (all, format!("The register on {today}"), today)
        }
    })
}

/// Keeps the records at or below the ceiling; returns them and how many were left out.
fn under(records: Vec<Record>, ceiling: Option<Classification>) -> (Vec<Record>, usize) {
    let before = records.len();
    let kept: Vec<Record> = records
        .into_iter()
        .filter(|r| ceiling.is_none_or(|c| r.meta.classification <= c))
        .collect();
    let omitted = before - kept.len();
    (kept, omitted)
}

fn number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

fn fmt1(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

fn list_text(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn country_name(code: &str) -> String {
    country::by_code(code).map_or_else(|| code.to_owned(), |c| format!("{} ({})", c.name, c.code))
}

/// Builds the report (see the module docs).
pub fn build(
    session: &Session,
    source: &ReportSource,
    ceiling: Option<Classification>,
    title: Option<&str>,
) -> Result<Report, ServiceError> {
    let (records, basis, date) = records_of(session, source)?;
    // Consultation figures choose each member's newest answer before the ceiling applies.
    let all_assessments: Vec<Record> = records
        .iter()
        .filter(|r| r.kind == Kind::Assessment && r.fields.contains_key("round_id"))
        .cloned()
        .collect();
    let (records, omitted) = under(records, ceiling);
    let mut classification = Classification::highest(records.iter().map(|r| r.meta.classification));
    let releasability = releasability_text(records.iter());
    let register = split(records);
    let mut sections = vec![
        technologies_section(&register),
        dependencies_section(session, &register),
        gaps_section(&register),
        measures_section(&register),
        changes_section(session, source, &date, ceiling, &register)?,
        consultation_section(session, &register, &all_assessments, ceiling)?,
        priorities_section(session, &register),
        method_section(ceiling, omitted),
        sources_section(&register),
    ];
    sections.retain(|s| !s.blocks.is_empty());
    // The marking covers everything printed, also what is not in the register shown: the
    // previous edition's records in "changes since", removed records among them.
    classification = classification.max(Classification::highest(
        sections.iter().flat_map(|s| &s.blocks).map(Block::level),
    ));
    let profile = session.identity().profile();
    let mut distribution = vec![format!(
        "{} ({}), cleared to {}: author",
        profile.name,
        profile.member_state,
        profile.clearance.code()
    )];
    // The verified members of the keyring cleared to the report's level (and, when its
    // records restrict releasability, of a Member State it may go to).
    let allowed: Option<Vec<String>> = (!releasability.starts_with("the whole"))
        .then(|| releasability.split(", ").map(str::to_owned).collect());
    for m in session.members()? {
        if m.status() != "verified" {
            continue;
        }
        let cleared = m.clearance >= classification;
        let releasable = allowed.as_ref().is_none_or(|a| a.contains(&m.member_state));
        if cleared && releasable {
            distribution.push(format!(
                "{} ({}), cleared to {}",
                m.name,
                m.member_state,
                m.clearance.code()
            ));
        }
    }
    Ok(Report {
        title: title.map_or_else(
            || "Critical technologies and strategic dependencies".to_owned(),
            str::to_owned,
        ),
        basis,
        date,
        generated: crate::store::now_rfc3339(),
        classification,
        releasability,
        distribution,
        ceiling,
        omitted,
        sections,
    })
}

/// To whom a document drawn on `records` may be released: the Member States every one of
/// them is releasable to, in words.
pub(crate) fn releasability_text<'a>(records: impl Iterator<Item = &'a Record>) -> String {
    let lists: Vec<&[String]> = records.map(|r| r.meta.releasable_to.as_slice()).collect();
    match crate::model::control::common_releasability(lists) {
        Some(states) if states.is_empty() => "the whole expert group".to_owned(),
        Some(states) => states.join(", "),
        None => "no Member State (records with disjoint releasability): the author only".to_owned(),
    }
}

/// The latest assessment of each subject, by subject id text.
fn latest(register: &Register) -> BTreeMap<String, &Record> {
    analysis::latest_assessments(register.of(Kind::Assessment))
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn technologies_section(register: &Register) -> Section {
    let latest = latest(register);
    let mut blocks = Vec::new();
    let areas = reference::technology_list()
        .map(|l| l.areas)
        .unwrap_or_default();
    let mut distribution: Vec<(String, Vec<f64>)> = Vec::new();
    let mut chart_level = Classification::Unclassified;
    let mut area_codes: Vec<(String, String)> = areas
        .iter()
        .map(|a| (a.code.clone(), format!("{}. {}", a.number, a.name)))
        .collect();
    // Technologies with an area outside the list (or none) come last.
    area_codes.push((String::new(), "Other technologies".to_owned()));
    let known: BTreeSet<String> = areas.iter().map(|a| a.code.clone()).collect();
    for (code, name) in &area_codes {
        let techs: Vec<&Record> = register
            .of(Kind::Technology)
            .iter()
            .filter(|t| {
                let area = t.text("area").unwrap_or_default();
                if code.is_empty() {
                    !known.contains(area)
                } else {
                    area == code
                }
            })
            .collect();
        if techs.is_empty() {
            continue;
        }
        let mut counts = vec![0.0; 4];
        let mut rows = Vec::new();
        for t in techs {
            let a = latest.get(&t.meta.id.to_string());
            let level = a.map_or(t.meta.classification, |a| {
                t.meta.classification.max(a.meta.classification)
            });
            let trl = a.and_then(|a| a.fields.get("trl")).and_then(Value::as_i64);
            match trl {
                Some(1..=3) => counts[0] += 1.0,
                Some(4..=6) => counts[1] += 1.0,
                Some(_) => counts[2] += 1.0,
                None => counts[3] += 1.0,
            }
            if trl.is_some() {
                chart_level = chart_level.max(level);
            }
            rows.push(Row {
                level,
                cells: vec![
                    t.label(),
                    trl.map_or_else(|| "–".to_owned(), |v| v.to_string()),
                    a.and_then(|a| a.text("eu_position"))
                        .unwrap_or("–")
                        .to_owned(),
                    fmt1(a.and_then(|a| number(a.fields.get("criticality")))),
                    fmt1(a.and_then(|a| number(a.fields.get("supply_risk")))),
                    a.and_then(|a| a.text("date"))
                        .unwrap_or("not assessed")
                        .to_owned(),
                ],
            });
        }
        distribution.push((name.clone(), counts));
        blocks.push(Block::Heading(name.clone()));
        blocks.push(Block::Table {
            columns: vec![
                ("Technology".into(), 5.0),
                ("TRL".into(), 0.8),
                ("EU position".into(), 1.4),
                ("Criticality".into(), 1.3),
                ("Supply risk".into(), 1.3),
                ("Assessed".into(), 1.6),
            ],
            rows,
        });
    }
    if !distribution.is_empty() {
        blocks.insert(
            0,
            Block::Chart {
                title: "Technologies by area and TRL of their latest assessment".into(),
                level: chart_level,
                chart: Chart::Stacked {
                    series: vec![
                        "TRL 1-3".into(),
                        "TRL 4-6".into(),
                        "TRL 7-9".into(),
                        "not assessed".into(),
                    ],
                    groups: distribution,
                },
            },
        );
        blocks.insert(
            0,
            Block::Paragraph(
                Classification::Unclassified,
                "The technologies of the register by area of the EU 2023 list, with the TRL, the EU's position, criticality and supply risk (0-10) of their latest assessment.".into(),
            ),
        );
    }
    Section {
        number: "1".into(),
        title: "Critical technologies by area".into(),
        blocks,
    }
}

#[allow(clippy::too_many_lines)]
fn dependencies_section(session: &Session, register: &Register) -> Section {
    let mut blocks = Vec::new();
    let latest = latest(register);
    // The risk matrix.
    let mut points = Vec::new();
    let mut level = Classification::Unclassified;
    for t in register.of(Kind::Technology) {
        if let Some(a) = latest.get(&t.meta.id.to_string())
            && let (Some(c), Some(r)) = (
                number(a.fields.get("criticality")),
                number(a.fields.get("supply_risk")),
            )
        {
            level = level.max(t.meta.classification).max(a.meta.classification);
            points.push((t.label(), c, r));
        }
    }
    if !points.is_empty() {
        blocks.push(Block::Chart {
            title: "Risk matrix: criticality against supply risk (latest assessments)".into(),
            level,
            chart: Chart::Scatter {
                x_label: "criticality".into(),
                y_label: "supply risk".into(),
                points,
            },
        });
    }
    let mut builder = analysis::GraphBuilder::from_records(
        register.of(Kind::Technology),
        register.of(Kind::Item),
        register.of(Kind::Organisation),
        register.of(Kind::Link),
    );
    for (code, score) in session.store().governance().unwrap_or_default() {
        builder.governance(&code, score / 10.0);
    }
    let graph: SupplyGraph = builder.build();
    // Level of an item's figures: the item, the supply links from it, and what they point
    // to (an organisation's name and country are printed beside the item).
    let mut link_level: BTreeMap<String, Classification> = BTreeMap::new();
    for l in register.of(Kind::Link) {
        if let Some(from) = l.text("from_id") {
            let target = l
                .text("to_id")
                .map_or(Classification::Unclassified, |to| register.level_of(to));
            let e = link_level
                .entry(from.to_owned())
                .or_insert(Classification::Unclassified);
            *e = (*e).max(l.meta.classification).max(target);
        }
    }
    let figures_level = |id: &str| {
        register.level_of(id).max(
            link_level
                .get(id)
                .copied()
                .unwrap_or(Classification::Unclassified),
        )
    };
    let mut items = graph.item_metrics();
    items.sort_by(|a, b| b.hhi.total_cmp(&a.hhi).then(a.name.cmp(&b.name)));
    if !items.is_empty() {
        blocks.push(Block::Heading("Most concentrated supply".into()));
        blocks.push(Block::Paragraph(
            Classification::Unclassified,
            format!(
                "The {} items with the most concentrated supply, by Herfindahl-Hirschman index over countries (0-10,000; 2,500 and above is highly concentrated). Firm figures are shown beside, never added to the country figures; \"Rest\" is the share the source attributes to no one (\"various\").",
                items.len().min(20)
            ),
        ));
        blocks.push(Block::Table {
            columns: vec![
                ("Item".into(), 3.4),
                ("HHI".into(), 0.8),
                ("Top country".into(), 2.2),
                ("Top firm".into(), 2.2),
                ("EU share".into(), 0.9),
                ("Rest".into(), 0.8),
                ("Year".into(), 0.7),
            ],
            rows: items
                .iter()
                .take(20)
                .map(|c| Row {
                    level: figures_level(&c.id.to_string()),
                    cells: vec![
                        c.name.clone(),
                        format!("{:.0}", c.hhi),
                        if c.top_country.is_empty() {
                            "–".into()
                        } else {
                            format!(
                                "{} {:.0} %",
                                country_name(&c.top_country),
                                c.top_share * 100.0
                            )
                        },
                        match (&c.top_organisation, c.top_organisation_share) {
                            (Some(name), Some(share)) => format!("{name} {:.0} %", share * 100.0),
                            _ => "–".into(),
                        },
                        format!("{:.0} %", c.eu_share * 100.0),
                        format!("{:.0} %", c.unattributed_share * 100.0),
                        c.year.map_or_else(|| "–".into(), |y| y.to_string()),
                    ],
                })
                .collect(),
        });
        let single: Vec<Row> = items
            .iter()
            .filter(|c| c.single_source || c.single_firm)
            .map(|c| Row {
                level: figures_level(&c.id.to_string()),
                cells: vec![
                    c.name.clone(),
                    if c.single_source {
                        country_name(&c.top_country)
                    } else {
                        "several".into()
                    },
                    if c.single_firm {
                        c.top_organisation.clone().unwrap_or_default()
                    } else {
                        "–".into()
                    },
                    if c.single_source {
                        format!("{:.0} %", c.top_share * 100.0)
                    } else {
                        "–".into()
                    },
                ],
            })
            .collect();
        blocks.push(Block::Heading("Single sources".into()));
        if single.is_empty() {
            blocks.push(Block::Paragraph(
                Classification::Unclassified,
                "No item depends on a single source.".into(),
            ));
        } else {
            blocks.push(Block::Table {
                columns: vec![
                    ("Item".into(), 3.6),
                    ("Only country".into(), 2.4),
                    ("Only firm".into(), 2.4),
                    ("Share".into(), 0.8),
                ],
                rows: single,
            });
        }
    }
    let metrics = graph.technology_metrics(None);
    // Level of a technology's figures: it, and everything upstream of it.
    let needed_by = graph.needed_by();
    let mut upstream_level: BTreeMap<String, Classification> = BTreeMap::new();
    for (node, techs) in &needed_by {
        let l = figures_level(node);
        for t in techs {
            let e = upstream_level
                .entry(t.clone())
                .or_insert(Classification::Unclassified);
            *e = (*e).max(l);
        }
    }
    let tech_level = |id: &str| {
        figures_level(id).max(
            upstream_level
                .get(id)
                .copied()
                .unwrap_or(Classification::Unclassified),
        )
    };
    let chokepoints: Vec<Row> = metrics
        .iter()
        .filter(|m| !m.chokepoints.is_empty())
        .map(|m| Row {
            level: tech_level(&m.id),
            cells: vec![
                m.name.clone(),
                m.chokepoints
                    .iter()
                    .take(5)
                    .map(|c| {
                        graph
                            .node(c)
                            .map_or_else(|| c.clone(), |n| graph.name(n).to_owned())
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                fmt1(m.supply_risk),
            ],
        })
        .collect();
    if !chokepoints.is_empty() {
        blocks.push(Block::Heading("Chokepoints".into()));
        blocks.push(Block::Paragraph(
            Classification::Unclassified,
            "Items and suppliers on every supply path of a technology (its post-dominators in the supply graph), nearest first, with the technology's computed supply risk.".into(),
        ));
        blocks.push(Block::Table {
            columns: vec![
                ("Technology".into(), 3.0),
                ("Chokepoints".into(), 4.5),
                ("Supply risk".into(), 1.1),
            ],
            rows: chokepoints,
        });
    }
    // Exposure by country across the technologies.
    let mut by_country: BTreeMap<String, (f64, usize, String, f64, Classification)> =
        BTreeMap::new();
    let exposed: Vec<_> = metrics.iter().filter(|m| !m.exposure.is_empty()).collect();
    for m in &exposed {
        for (code, share) in &m.exposure {
            let e = by_country.entry(code.clone()).or_insert((
                0.0,
                0,
                String::new(),
                0.0,
                Classification::Unclassified,
            ));
            e.0 += share;
            if *share >= 0.1 {
                e.1 += 1;
            }
            if *share > e.3 {
                e.2.clone_from(&m.name);
                e.3 = *share;
            }
            e.4 = e.4.max(tech_level(&m.id));
        }
    }
    if !exposed.is_empty() {
        let n = exposed.len() as f64;
        let mut countries: Vec<_> = by_country.into_iter().collect();
        countries.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(a.0.cmp(&b.0)));
        let level = countries
            .iter()
            .fold(Classification::Unclassified, |l, c| l.max(c.1.4));
        blocks.push(Block::Heading("Exposure of technologies by country".into()));
        blocks.push(Block::Chart {
            title: format!(
                "Mean look-through exposure of {} technologies to each country",
                exposed.len()
            ),
            level,
            chart: Chart::Bars {
                unit: "% of supply, mean over the technologies".into(),
                bars: countries
                    .iter()
                    .take(12)
                    .map(|(code, v)| (country_name(code), v.0 / n * 100.0))
                    .collect(),
                max: 100.0,
            },
        });
        blocks.push(Block::Table {
            columns: vec![
                ("Country".into(), 2.6),
                ("Mean exposure".into(), 1.3),
                ("Technologies ≥ 10 %".into(), 1.6),
                ("Most exposed technology".into(), 3.5),
            ],
            rows: countries
                .iter()
                .take(15)
                .map(|(code, v)| Row {
                    level: v.4,
                    cells: vec![
                        country_name(code),
                        format!("{:.1} %", v.0 / n * 100.0),
                        v.1.to_string(),
                        format!("{} ({:.0} %)", v.2, v.3 * 100.0),
                    ],
                })
                .collect(),
        });
    }
    Section {
        number: "2".into(),
        title: "Dependency risks".into(),
        blocks,
    }
}

fn gaps_section(register: &Register) -> Section {
    let latest = latest(register);
    let names: BTreeMap<String, String> = register
        .of(Kind::Technology)
        .iter()
        .chain(register.of(Kind::Item))
        .map(|r| (r.meta.id.to_string(), r.label()))
        .collect();
    let mut blocks = Vec::new();
    for (field, title, caption) in [
        ("gaps", "Gap", "Technology gaps"),
        ("root_causes", "Root cause", "Root causes"),
    ] {
        let mut by: BTreeMap<String, (Vec<String>, Classification)> = BTreeMap::new();
        for (subject, a) in &latest {
            for g in list_text(a.fields.get(field)) {
                let e = by
                    .entry(g)
                    .or_insert((Vec::new(), Classification::Unclassified));
                e.0.push(
                    names
                        .get(subject)
                        .cloned()
                        .unwrap_or_else(|| subject.clone()),
                );
                e.1 = e.1.max(a.meta.classification);
            }
        }
        if by.is_empty() {
            continue;
        }
        blocks.push(Block::Heading(caption.into()));
        let mut rows: Vec<_> = by.into_iter().collect();
        rows.sort_by(|a, b| b.1.0.len().cmp(&a.1.0.len()).then(a.0.cmp(&b.0)));
        blocks.push(Block::Table {
            columns: vec![
                (title.into(), 2.5),
                ("Count".into(), 0.8),
                ("Technologies and items".into(), 5.0),
            ],
            rows: rows
                .into_iter()
                .map(|(g, (subjects, level))| Row {
                    level,
                    cells: vec![
                        g.replace('-', " "),
                        subjects.len().to_string(),
                        subjects.join("; "),
                    ],
                })
                .collect(),
        });
    }
    if blocks.is_empty() {
        blocks.push(Block::Paragraph(
            Classification::Unclassified,
            "No assessment records technology gaps or root causes.".into(),
        ));
    }
    Section {
        number: "3".into(),
        title: "Gaps and root causes".into(),
        blocks,
    }
}

/// Label, start day, end day, status.
type GanttBar = (String, f64, f64, String);

fn measures_section(register: &Register) -> Section {
    let names: BTreeMap<String, (String, String)> = register
        .of(Kind::Technology)
        .iter()
        .map(|r| {
            (
                r.meta.id.to_string(),
                (r.label(), r.text("area").unwrap_or_default().to_owned()),
            )
        })
        .chain(
            register
                .of(Kind::Item)
                .iter()
                .map(|r| (r.meta.id.to_string(), (r.label(), String::new()))),
        )
        .collect();
    let area_names: BTreeMap<String, String> = reference::technology_list()
        .map(|l| {
            l.areas
                .into_iter()
                .map(|a| (a.code, format!("{}. {}", a.number, a.name)))
                .collect()
        })
        .unwrap_or_default();
    let mut blocks = Vec::new();
    let mut rows = Vec::new();
    let mut by_area: BTreeMap<String, (Vec<GanttBar>, Classification)> = BTreeMap::new();
    let measures = register.of(Kind::Measure);
    for m in measures {
        let targets = list_text(m.fields.get("target_ids"));
        let target_names: Vec<String> = targets
            .iter()
            .map(|t| names.get(t).map_or_else(|| t.clone(), |n| n.0.clone()))
            .collect();
        let start = m.text("start").unwrap_or_default();
        let end = m.text("end").unwrap_or_default();
        rows.push(Row {
            level: m.meta.classification,
            cells: vec![
                m.label(),
                m.text("instrument").unwrap_or("–").to_owned(),
                m.text("status").unwrap_or("–").to_owned(),
                format!(
                    "{} – {}",
                    if start.is_empty() { "?" } else { start },
                    if end.is_empty() { "open" } else { end }
                ),
                target_names.join("; "),
            ],
        });
        let (Some(s), e) = (day_number(start), day_number(end)) else {
            continue;
        };
        let e = e.unwrap_or(s + 365.0);
        let mut areas: BTreeSet<String> = targets
            .iter()
            .filter_map(|t| names.get(t))
            .map(|n| {
                area_names
                    .get(&n.1)
                    .cloned()
                    .unwrap_or_else(|| "Other".to_owned())
            })
            .collect();
        if areas.is_empty() {
            areas.insert("Other".into());
        }
        for area in areas {
            let entry = by_area
                .entry(area)
                .or_insert((Vec::new(), Classification::Unclassified));
            entry.0.push((
                format!("{} ({})", m.label(), m.text("instrument").unwrap_or("–")),
                s,
                e,
                m.text("status").unwrap_or("planned").to_owned(),
            ));
            entry.1 = entry.1.max(m.meta.classification);
        }
    }
    if rows.is_empty() {
        blocks.push(Block::Paragraph(
            Classification::Unclassified,
            "No mitigating measures are recorded.".into(),
        ));
    } else {
        blocks.push(Block::Table {
            columns: vec![
                ("Measure".into(), 3.4),
                ("Instrument".into(), 1.4),
                ("Status".into(), 1.1),
                ("Period".into(), 2.0),
                ("Aimed at".into(), 3.0),
            ],
            rows,
        });
        for (area, (mut bars, level)) in by_area {
            bars.sort_by(|a, b| a.1.total_cmp(&b.1));
            blocks.push(Block::Chart {
                title: format!("Roadmap: {area}"),
                level,
                chart: Chart::Gantt { bars },
            });
        }
    }
    Section {
        number: "4".into(),
        title: "Mitigating measures and technology roadmaps".into(),
        blocks,
    }
}

fn changes_section(
    session: &Session,
    source: &ReportSource,
    date: &str,
    ceiling: Option<Classification>,
    register: &Register,
) -> Result<Section, ServiceError> {
    let store = session.store();
    let this_id = match source {
        ReportSource::Edition(key) => Some(session.find_edition(key)?.id),
        _ => None,
    };
    let previous = store
        .editions()?
        .into_iter()
        .filter(|e| Some(&e.id) != this_id.as_ref() && e.as_of.as_str() < date)
        .max_by(|a, b| {
            (a.as_of.as_str(), a.created_at.as_str())
                .cmp(&(b.as_of.as_str(), b.created_at.as_str()))
        });
    let mut blocks = Vec::new();
    match previous {
        None => blocks.push(Block::Paragraph(
            Classification::Unclassified,
            "There is no earlier edition to compare with.".into(),
        )),
        Some(prev) => {
            let (before, left_out) = under(store.edition_records(&prev.id)?, ceiling);
            let now: Vec<Record> = register.by_kind.values().flatten().cloned().collect();
            let level =
                Classification::highest(before.iter().chain(&now).map(|r| r.meta.classification));
            let diff = compare::diff_editions(&before, &now);
            blocks.push(Block::Paragraph(
                Classification::Unclassified,
                format!(
                    "Compared with the edition \"{}\" (as of {}){}.",
                    prev.title,
                    prev.as_of,
                    if left_out > 0 {
                        format!("; {left_out} of its records above the ceiling left out")
                    } else {
                        String::new()
                    }
                ),
            ));
            let name = |v: &Value| v["name"].as_str().unwrap_or_default().to_owned();
            let moved = |v: &Value| {
                let text = |x: &Value| match x {
                    Value::Null => "–".to_owned(),
                    Value::Number(n) => n.as_f64().map_or_else(
                        || n.to_string(),
                        |f| format!("{f:.1}").trim_end_matches(".0").to_owned(),
                    ),
                    other => other.to_string(),
                };
                format!("{}: {} → {}", name(v), text(&v["from"]), text(&v["to"]))
            };
            for (key, title, line) in [
                (
                    "technologies_added",
                    "Technologies added",
                    &name as &dyn Fn(&Value) -> String,
                ),
                ("technologies_removed", "Technologies removed", &name),
                ("trl_changes", "TRL changes", &moved),
                ("risk_changes", "Supply risk changes", &moved),
                ("measures_started", "Measures started", &name),
                ("measures_finished", "Measures finished", &name),
            ] {
                let list = diff[key].as_array().cloned().unwrap_or_default();
                blocks.push(Block::Heading(format!("{title}: {}", list.len())));
                if !list.is_empty() {
                    blocks.push(Block::Table {
                        columns: vec![(title.into(), 1.0)],
                        rows: list
                            .iter()
                            .take(100)
                            .map(|v| Row {
                                level,
                                cells: vec![line(v)],
                            })
                            .collect(),
                    });
                }
            }
        }
    }
    Ok(Section {
        number: "5".into(),
        title: "Changes since the previous edition".into(),
        blocks,
    })
}

/// Section 6: the consultation rounds (participation, where Member States disagree, the
/// consolidated assessments), the version of the list in force, and the incubator's flags.
/// Computed from the records the report prints only: an answer above the ceiling is left out,
/// a technology above it is not named.
fn consultation_section(
    session: &Session,
    register: &Register,
    all_assessments: &[Record],
    ceiling: Option<Classification>,
) -> Result<Section, ServiceError> {
    let mut blocks = Vec::new();
    let lookup = |kind: Kind, id: uuid::Uuid| {
        register.of(kind).iter().find(|r| r.meta.id == id).map(|r| {
            let label = if kind == Kind::Proposal {
                session.describe_proposal(r)
            } else {
                r.label()
            };
            (label, r.meta.classification)
        })
    };
    let mut rounds: Vec<&Record> = register.of(Kind::Round).iter().collect();
    rounds.sort_by(|a, b| (a.text("deadline"), a.meta.id).cmp(&(b.text("deadline"), b.meta.id)));
    let mut participation = Vec::new();
    let mut disagreements = Vec::new();
    for r in &rounds {
        let view = session.tally(r, all_assessments, &lookup, true, ceiling)?;
        let answered: BTreeSet<&String> = view
            .technologies
            .iter()
            .flat_map(|t| &t.member_states)
            .collect();
        let expected = view.expected.len();
        let answers: usize = view.technologies.iter().map(|t| t.answers).sum();
        let level = view.classification;
        participation.push(Row {
            level,
            cells: vec![
                view.round.title.clone(),
                view.round.deadline.clone(),
                view.round.status.clone(),
                view.technologies.len().to_string(),
                answers.to_string(),
                if answered.is_empty() {
                    format!("0 of {expected}")
                } else {
                    format!(
                        "{} of {} ({})",
                        answered
                            .iter()
                            .filter(|s| view.expected.contains(s))
                            .count(),
                        expected,
                        answered
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            ],
        });
        for t in view.technologies.iter().filter(|t| t.dissent) {
            let row_level = Classification::highest(t.responses.iter().map(|a| a.classification))
                .max(lookup(Kind::Technology, t.id).map_or(Classification::Unclassified, |x| x.1))
                .max(r.meta.classification);
            let mut what = Vec::new();
            for (q, s) in [
                ("TRL", &t.trl),
                ("criticality", &t.criticality),
                ("supply risk", &t.supply_risk),
            ] {
                if s.dissent {
                    let each: Vec<String> = t
                        .responses
                        .iter()
                        .filter_map(|a| {
                            let v = match q {
                                "TRL" => a.trl.map(|x| x.to_string()),
                                "criticality" => a.criticality.map(|x| format!("{x}")),
                                _ => a.supply_risk.map(|x| format!("{x}")),
                            }?;
                            Some(format!("{} {v}", a.member_state))
                        })
                        .collect();
                    what.push(format!("{q}: {}", each.join(", ")));
                }
            }
            if t.eu_position_dissent {
                let each: Vec<String> = t
                    .responses
                    .iter()
                    .filter_map(|a| {
                        Some(format!("{} {}", a.member_state, a.eu_position.as_deref()?))
                    })
                    .collect();
                what.push(format!("EU position: {}", each.join(", ")));
            }
            disagreements.push(Row {
                level: row_level,
                cells: vec![t.name.clone(), view.round.title.clone(), what.join("; ")],
            });
        }
    }
    if !participation.is_empty() {
        blocks.push(Block::Paragraph(
            Classification::Unclassified,
            format!(
                "The expert group consults the Member States in rounds. Figures count one answer per member (the newest), attributed to the Member State on the member's verified card. Dissent: at least two answers and a spread of at least {:.0} % of the scale (3 TRL levels, 3 points of criticality or supply risk), or EU positions two steps apart.",
                crate::service::consultation::DISSENT_SHARE * 100.0
            ),
        ));
        blocks.push(Block::Heading("Rounds and participation".into()));
        blocks.push(Block::Table {
            columns: vec![
                ("Round".into(), 2.8),
                ("Deadline".into(), 1.4),
                ("Status".into(), 1.0),
                ("Technologies".into(), 1.6),
                ("Answers".into(), 1.2),
                ("Member States answering".into(), 2.8),
            ],
            rows: participation,
        });
        blocks.push(Block::Heading("Where Member States disagree".into()));
        if disagreements.is_empty() {
            blocks.push(Block::Paragraph(
                Classification::Unclassified,
                "No answers are in dissent.".into(),
            ));
        } else {
            blocks.push(Block::Table {
                columns: vec![
                    ("Technology".into(), 2.5),
                    ("Round".into(), 2.0),
                    ("Answers by Member State".into(), 5.0),
                ],
                rows: disagreements,
            });
        }
        let consolidated: Vec<Row> = register
            .of(Kind::Assessment)
            .iter()
            .filter(|a| {
                a.text("assessment_kind") == Some("consolidated") && session.is_consolidation(a)
            })
            .filter_map(|a| {
                let subject = a.text("subject_id")?;
                let id = uuid::Uuid::parse_str(subject).ok()?;
                let (name, tl) = lookup(Kind::Technology, id)?;
                let num = |f: &str| {
                    number(a.fields.get(f)).map_or_else(|| "–".to_owned(), |v| format!("{v}"))
                };
                Some(Row {
                    level: a.meta.classification.max(tl),
                    cells: vec![
                        name,
                        a.text("date").unwrap_or_default().to_owned(),
                        num("trl"),
                        num("criticality"),
                        num("supply_risk"),
                        a.text("eu_position").unwrap_or("–").to_owned(),
                        a.texts("based_on_ids").len().to_string(),
                    ],
                })
            })
            .collect();
        if !consolidated.is_empty() {
            blocks.push(Block::Heading("Consolidated assessments".into()));
            blocks.push(Block::Table {
                columns: vec![
                    ("Technology".into(), 2.6),
                    ("Date".into(), 1.4),
                    ("TRL".into(), 0.6),
                    ("Criticality".into(), 1.3),
                    ("Supply risk".into(), 1.1),
                    ("EU position".into(), 1.3),
                    ("Answers".into(), 1.2),
                ],
                rows: consolidated,
            });
        }
    }
    // The version of the list in force.
    let heads: Vec<_> = register
        .of(Kind::ListVersion)
        .iter()
        .map(crate::service::consultation::version_head)
        .collect();
    let in_force = crate::model::listing::in_force(&heads, None);
    let newest = register
        .of(Kind::ListVersion)
        .iter()
        .find(|v| Some(v.meta.id) == in_force);
    if let Some(v) = newest {
        let count = v
            .text("entries")
            .and_then(crate::model::listing::parse_entries)
            .map_or(0, |e| e.len());
        blocks.push(Block::Paragraph(
            v.meta.classification,
            format!(
                "The list of critical technologies in force is version {} of {} ({count} technologies): {}.",
                v.fields.get("number").and_then(Value::as_i64).unwrap_or(1),
                v.text("date").unwrap_or("?"),
                v.label()
            ),
        ));
    }
    // The incubator's flags (TRL 5-6 with security, space or defence potential).
    let latest = latest(register);
    let mut flagged = Vec::new();
    for t in register.of(Kind::Technology) {
        let a = latest.get(&t.meta.id.to_string());
        let trl = a.and_then(|a| a.fields.get("trl")).and_then(Value::as_i64);
        let domains: Vec<String> = t
            .texts("domains")
            .into_iter()
            .filter(|d| crate::service::consultation::INCUBATOR_DOMAINS.contains(&d.as_str()))
            .collect();
        let candidate = trl
            .is_some_and(|x| crate::service::consultation::INCUBATOR_TRL.contains(&x))
            && !domains.is_empty();
        let action = t.text("uptake_to").is_some() || t.text("uptake_route").is_some();
        if candidate || action {
            flagged.push(Row {
                level: t
                    .meta
                    .classification
                    .max(a.map_or(Classification::Unclassified, |a| a.meta.classification)),
                cells: vec![
                    t.label(),
                    trl.map_or_else(|| "–".to_owned(), |x| x.to_string()),
                    domains.join(", "),
                    if action {
                        format!(
                            "{} to {} ({})",
                            t.text("uptake_date").unwrap_or("?"),
                            t.text("uptake_to").unwrap_or("?"),
                            t.text("uptake_route").unwrap_or("?")
                        )
                    } else {
                        "not yet flagged".to_owned()
                    },
                ],
            });
        }
    }
    if !flagged.is_empty() {
        blocks.push(Block::Heading("Incubator: flagged for uptake".into()));
        blocks.push(Block::Table {
            columns: vec![
                ("Technology".into(), 3.0),
                ("TRL".into(), 0.6),
                ("Potential".into(), 2.0),
                ("Flagged for uptake".into(), 3.5),
            ],
            rows: flagged,
        });
    }
    Ok(Section {
        number: "6".into(),
        title: "Consultation and horizon scanning".into(),
        blocks,
    })
}

/// Section 7: where to act first, for the EU: the ranking with its parts and uncovered gaps,
/// the items that fail a Critical Raw Materials Act benchmark, and, where measures record an
/// expected effect, the ranking before and after they succeed. Computed from the report's own
/// records (see [`crate::service::priorities`]).
fn priorities_section(session: &Session, register: &Register) -> Section {
    use crate::service::priorities::{WEIGHTS, rank_records};
    let mut blocks = Vec::new();
    // The EU bloc is the treaties' (the country table), never a record's.
    let bloc = crate::model::bloc::Bloc {
        name: "EU".into(),
        countries: crate::model::bloc::built_in_countries("EU")
            .into_iter()
            .collect(),
    };
    let records = crate::service::SupplyRecords {
        technologies: register.of(Kind::Technology).to_vec(),
        items: register.of(Kind::Item).to_vec(),
        organisations: register.of(Kind::Organisation).to_vec(),
        links: register.of(Kind::Link).to_vec(),
        governance: session.store().governance().unwrap_or_default(),
        data_year: session.data_year(),
    };
    let measures = register.of(Kind::Measure);
    // Only measures in force or planned can still succeed.
    let today: String = crate::store::now_rfc3339().chars().take(10).collect();
    let effects: Vec<Record> = measures
        .iter()
        .filter(|m| m.fields.contains_key("effect_trl") || m.fields.contains_key("effect_share"))
        .filter(|m| crate::service::priorities::is_active(m, &today))
        .cloned()
        .collect();
    let ranking = rank_records(
        &records,
        register.of(Kind::Assessment),
        measures,
        &bloc,
        &[],
    );
    let after: BTreeMap<uuid::Uuid, (f64, Classification)> = if effects.is_empty() {
        BTreeMap::new()
    } else {
        rank_records(
            &records,
            register.of(Kind::Assessment),
            measures,
            &bloc,
            &effects,
        )
        .into_iter()
        .map(|t| (t.id, (t.score, t.classification)))
        .collect()
    };
    let shown: Vec<_> = ranking.iter().filter(|t| t.score > 0.0).take(25).collect();
    if shown.is_empty() {
        blocks.push(Block::Paragraph(
            Classification::Unclassified,
            "Nothing to rank: no technology has supply figures, an assessment or a measure.".into(),
        ));
    } else {
        blocks.push(Block::Paragraph(
            Classification::Unclassified,
            format!(
                "Technologies ranked by urgency for the EU, 0-100: dependency outside the EU (look-through exposure, the worst single third country, single sources, chokepoint firms, Critical Raw Materials Act benchmarks) weighs {}, capability (EU position, TRL against what the domains need) {}, open gaps and root causes {}, and what no measure in force or planned covers {}. A part with no data is left out and the others weigh more.{}",
                WEIGHTS[0].1,
                WEIGHTS[1].1,
                WEIGHTS[2].1,
                WEIGHTS[3].1,
                if effects.is_empty() {
                    String::new()
                } else {
                    format!(
                        " \"If they succeed\" is the score if the {} measure(s) in force or planned that record an expected effect succeed.",
                        effects.len()
                    )
                }
            ),
        ));
        let part = |t: &crate::service::priorities::Priority, n: &str| {
            t.components
                .get(n)
                .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.0}"))
        };
        let mut columns = vec![("Technology".into(), 3.0), ("Score".into(), 0.9)];
        if !effects.is_empty() {
            columns.push(("If they succeed".into(), 1.1));
        }
        columns.extend([
            ("Dep.".into(), 0.7),
            ("Cap.".into(), 0.7),
            ("Gaps".into(), 0.7),
            ("Mitig.".into(), 0.8),
            ("Uncovered".into(), 3.2),
        ]);
        blocks.push(Block::Table {
            columns,
            rows: shown
                .iter()
                .map(|t| {
                    let mut cells = vec![t.name.clone(), format!("{:.1}", t.score)];
                    let mut level = t.classification;
                    if !effects.is_empty() {
                        let then = after.get(&t.id);
                        cells.push(then.map_or_else(String::new, |(s, _)| format!("{s:.1}")));
                        level = level.max(then.map_or(Classification::Unclassified, |x| x.1));
                    }
                    cells.extend([
                        part(t, "dependency"),
                        part(t, "capability"),
                        part(t, "gaps"),
                        part(t, "mitigation"),
                        if t.uncovered_gaps.is_empty() {
                            "–".to_owned()
                        } else {
                            t.uncovered_gaps.join("; ")
                        },
                    ]);
                    Row { level, cells }
                })
                .collect(),
        });
        blocks.push(Block::Chart {
            title: "The parts of each score (their contribution, same scale)".into(),
            level: Classification::highest(shown.iter().map(|t| t.classification)),
            chart: Chart::Stacked {
                series: WEIGHTS.iter().map(|(n, _)| (*n).to_owned()).collect(),
                groups: shown
                    .iter()
                    .take(12)
                    .map(|t| {
                        let known: f64 = WEIGHTS
                            .iter()
                            .filter(|(n, _)| t.components.contains_key(*n))
                            .map(|(_, w)| w)
                            .sum();
                        (
                            t.name.chars().take(40).collect(),
                            WEIGHTS
                                .iter()
                                .map(|(n, w)| {
                                    t.components.get(*n).map_or(0.0, |v| {
                                        if known > 0.0 { w * v / known } else { 0.0 }
                                    })
                                })
                                .collect(),
                        )
                    })
                    .collect(),
            },
        });
    }
    // The Critical Raw Materials Act benchmarks.
    let graph = records.graph_at(records.data_year);
    let items: BTreeMap<String, &Record> = register
        .of(Kind::Item)
        .iter()
        .map(|r| (r.meta.id.to_string(), r))
        .collect();
    // Each item's links, once (not a scan of every link per item).
    let mut links_level: BTreeMap<String, Classification> = BTreeMap::new();
    for l in register.of(Kind::Link) {
        if let Some(f) = l.text("from_id") {
            let e = links_level
                .entry(f.to_owned())
                .or_insert(Classification::Unclassified);
            *e = (*e).max(l.meta.classification);
        }
    }
    let mut flags = Vec::new();
    for c in graph.item_metrics() {
        let Some(item) = items.get(&c.id.to_string()) else {
            continue;
        };
        let links_level = links_level
            .get(&c.id.to_string())
            .copied()
            .unwrap_or(Classification::Unclassified);
        for f in crate::analysis::crma::flags(item, &c) {
            flags.push(Row {
                level: item.meta.classification.max(links_level),
                cells: vec![c.name.clone(), f.text],
            });
        }
    }
    if !flags.is_empty() {
        blocks.push(Block::Heading(
            "Critical Raw Materials Act benchmarks (Regulation (EU) 2024/1252, Art. 5)".into(),
        ));
        blocks.push(Block::Table {
            columns: vec![("Material".into(), 2.5), ("Benchmark not met".into(), 6.0)],
            rows: flags,
        });
    }
    Section {
        number: "7".into(),
        title: "Where to act first".into(),
        blocks,
    }
}

fn method_section(ceiling: Option<Classification>, omitted: usize) -> Section {
    let u = Classification::Unclassified;
    let mut blocks = vec![
        Block::Paragraph(u, "Concentration. The Herfindahl-Hirschman index of an item's supply is the sum of the squared shares (in per cent) of the countries it comes from: 10,000 for a single source; 2,500 and above counts as highly concentrated. Shares come from the supply links of the register, with their data year: for each source its latest data year, and one source per item (the latest data year, then the most complete); figures of different sources are shown side by side in the register, never added.".into()),
        Block::Paragraph(u, "Countries and firms. Where a source gives shares by country, country concentration uses those alone; only where it gives none are firm shares counted for each firm's country (its one recorded production site, else its headquarters). Firm concentration is the same index over organisations. A share the source attributes to no one (\"various countries\", \"various companies\") counts in the total and adds nothing to the index; it is never a country and never a single source. A regional aggregate (\"Europe\") counts as one supplier, so concentration is never understated, and is never a country. A single source is one country with nothing beside it; a single firm is one organisation with nothing beside it, and such a firm is a chokepoint of every technology that depends on its item alone.".into()),
        Block::Paragraph(u, "Comparable quantities only. Where a table's countries report different forms (crude ore, refined borates, oxide equivalent) with no world total, no shares are computed: the quantities are kept with their units and forms, with no index and no single source. Where a world total exists, shares are against it.".into()),
        Block::Paragraph(u, "Exposure. The look-through exposure of a technology to a country follows the supply graph from the technology through the components and materials it needs (each part counting equally) to the countries their supply comes from, weighted by the recorded shares; a technology's exposures sum to at most 100 %.".into()),
        Block::Paragraph(u, "Supply risk. For each item with recorded supply: HHI/10,000, weighted by the governance scores of the supplying countries where recorded (EU raw-materials method), times one minus the end-of-life recycling rate, times a substitutability factor; a technology takes the highest value on its paths (weakest link), on a 0-10 scale. Chokepoints are the items and suppliers on every path from a technology to a source (post-dominators).".into()),
        Block::Paragraph(u, "Assessments. TRL (1-9), criticality and supply risk (0-10), the EU's position, gaps and root causes are expert judgements recorded as dated assessments; the latest one per technology is shown.".into()),
    ];
    blocks.push(Block::Paragraph(
        u,
        match (ceiling, omitted) {
            (Some(c), 0) => format!("Ceiling: {}. No record of the register is above it.", c.marking()),
            (Some(c), n) => format!(
                "Ceiling: {}. {n} record(s) above it were left out of this report before anything was computed.",
                c.marking()
            ),
            (None, _) => "No ceiling was set: every record of the register is included.".into(),
        },
    ));
    Section {
        number: "A".into(),
        title: "Annex: method".into(),
        blocks,
    }
}

fn sources_section(register: &Register) -> Section {
    let rows: Vec<Row> = register
        .of(Kind::Source)
        .iter()
        .map(|s| Row {
            level: s.meta.classification,
            cells: vec![
                s.label(),
                s.text("publisher").unwrap_or("–").to_owned(),
                s.text("date").unwrap_or("–").to_owned(),
                s.text("reliability").unwrap_or("–").to_owned(),
            ],
        })
        .collect();
    let blocks = if rows.is_empty() {
        vec![Block::Paragraph(
            Classification::Unclassified,
            "No sources are recorded.".into(),
        )]
    } else {
        vec![Block::Table {
            columns: vec![
                ("Source".into(), 5.0),
                ("Publisher".into(), 2.5),
                ("Date".into(), 1.2),
                ("Reliability".into(), 1.1),
            ],
            rows,
        }]
    };
    Section {
        number: "B".into(),
        title: "Annex: sources".into(),
        blocks,
    }
}

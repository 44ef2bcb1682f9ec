//! Technology roadmaps as documents (`observatory roadmap`): for a technology or an area, where
//! it stands (TRL, EU position, dependencies, its place in the priorities), the targets by year
//! beside today's figures, the milestones, the measures by instrument with budgets, dates,
//! status and what each is meant to change, a Gantt chart of measures and milestones, and what
//! moved since the previous edition. Marked like the report (the highest level of every record
//! it draws on; portion markings on every row).
//!
//! A roadmap record's `targets` are lines `YEAR: TRL N, outside bloc P %, EU capacity P %`
//! (any of the three, in any order); its `milestones` lines `YYYY-MM-DD: what`. A part that
//! cannot be read is printed as it was written, marked "(not read)", never dropped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;
use uuid::Uuid;

use super::content::{Block, Chart, Report, Row, Section};
use crate::model::{Classification, Kind, Record};
use crate::service::timeline::day_number;
use crate::service::{ServiceError, Session};

/// One target line, read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Target {
    /// Year.
    pub year: i64,
    /// TRL to reach.
    pub trl: Option<i64>,
    /// Share from outside the bloc, at most, 0-1.
    pub outside: Option<f64>,
    /// EU capacity, at least, 0-1.
    pub capacity: Option<f64>,
    /// Parts that could not be read, as written.
    pub unread: Vec<String>,
}

fn percent(text: &str) -> Option<f64> {
    let digits: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .collect::<String>()
        .replace(',', ".");
    let v: f64 = digits.parse().ok()?;
    (0.0..=100.0).contains(&v).then_some(v / 100.0)
}

/// Reads a target line (see the module docs); `None` if it has no year.
#[must_use]
pub fn parse_target(line: &str) -> Option<Target> {
    let (year, rest) = line.split_once(':')?;
    let year: i64 = year
        .trim()
        .parse()
        .ok()
        .filter(|y| (1900..=2200).contains(y))?;
    let mut t = Target {
        year,
        ..Target::default()
    };
    for part in rest
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let lower = part.to_lowercase();
        if let Some(n) = lower.strip_prefix("trl") {
            match n.trim().parse::<i64>() {
                Ok(v) if (1..=9).contains(&v) => t.trl = Some(v),
                _ => t.unread.push(part.to_owned()),
            }
        } else if lower.contains("outside") && lower.contains('%') {
            match percent(&lower) {
                Some(v) => t.outside = Some(v),
                None => t.unread.push(part.to_owned()),
            }
        } else if lower.contains("capacity") && lower.contains('%') {
            match percent(&lower) {
                Some(v) => t.capacity = Some(v),
                None => t.unread.push(part.to_owned()),
            }
        } else {
            t.unread.push(part.to_owned());
        }
    }
    Some(t)
}

/// Reads a milestone line: date and what.
#[must_use]
pub fn parse_milestone(line: &str) -> Option<(String, String)> {
    let date = line.get(..10)?;
    day_number(date)?;
    let what = line[10..].trim_start_matches([':', ' ', '-']).trim();
    Some((date.to_owned(), what.to_owned()))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |x| format!("{:.0} %", x * 100.0))
}

/// What the roadmap is for.
#[derive(Debug, Clone)]
pub enum Subject {
    /// One technology.
    Technology(Uuid),
    /// An area of the EU 2023 list (its code).
    Area(String),
}

/// Builds the roadmap document (see the module docs).
#[allow(clippy::too_many_lines)]
pub fn build(session: &Session, subject: &Subject) -> Result<Report, ServiceError> {
    let technologies: Vec<Record> = match subject {
        Subject::Technology(id) => vec![session.get(Kind::Technology, *id)?],
        Subject::Area(area) => {
            if !crate::model::kind::AREAS.contains(&area.as_str()) {
                return Err(ServiceError::Invalid(format!(
                    "{area:?} is not an area of the EU 2023 list: use one of {}",
                    crate::model::kind::AREAS.join(", ")
                )));
            }
            session
                .list(Kind::Technology)?
                .into_iter()
                .filter(|t| t.text("area") == Some(area.as_str()))
                .collect()
        }
    };
    let ids: Vec<String> = technologies.iter().map(|t| t.meta.id.to_string()).collect();
    let roadmaps: Vec<Record> = session
        .list(Kind::Roadmap)?
        .into_iter()
        .filter(|r| match subject {
            Subject::Technology(_) => r
                .text("technology_id")
                .is_some_and(|t| ids.iter().any(|i| i == t)),
            Subject::Area(a) => {
                r.text("area") == Some(a.as_str())
                    || r.text("technology_id")
                        .is_some_and(|t| ids.iter().any(|i| i == t))
            }
        })
        .collect();
    let bloc_name = roadmaps
        .iter()
        .find_map(|r| r.text("bloc"))
        .unwrap_or("EU")
        .to_owned();
    let ranking = session.priorities(&bloc_name, &[])?;
    // The bloc is named in headings: at its level.
    let bloc_level = session.bloc(&bloc_name)?.1;
    let mut level = bloc_level.max(Classification::highest(
        technologies
            .iter()
            .chain(&roadmaps)
            .map(|r| r.meta.classification),
    ));
    // Every row of the technologies' figures rests on what their priorities rest on.
    for p in ranking
        .technologies
        .iter()
        .filter(|p| ids.contains(&p.id.to_string()))
    {
        level = level.max(p.classification);
    }
    let title = match subject {
        Subject::Technology(_) => format!(
            "Technology roadmap: {}",
            technologies.first().map(Record::label).unwrap_or_default()
        ),
        Subject::Area(a) => format!("Technology roadmap: area {a}"),
    };
    let mut sections = Vec::new();
    // 1. Where it stands.
    let mut rows = Vec::new();
    for t in &technologies {
        if let Some(p) = ranking.technologies.iter().find(|p| p.id == t.meta.id) {
            let row_level = p.classification.max(t.meta.classification);
            rows.push(Row {
                level: row_level,
                cells: vec![
                    t.label(),
                    p.trl.map_or_else(
                        || "–".to_owned(),
                        |x| format!("{x} (needs {})", p.trl_needed),
                    ),
                    p.eu_position.clone().unwrap_or_else(|| "–".to_owned()),
                    pct(p.outside_bloc_exposure),
                    p.worst_cut_off.as_ref().map_or_else(
                        || "–".to_owned(),
                        |(c, s)| format!("{c} {:.0} %", s * 100.0),
                    ),
                    format!("{:.1}", p.score),
                ],
            });
        }
    }
    let mut stands = vec![Block::Table {
        columns: vec![
            ("Technology".into(), 3.0),
            ("TRL".into(), 1.2),
            ("EU position".into(), 1.2),
            (format!("Outside {bloc_name}"), 1.2),
            ("Worst third country".into(), 1.5),
            ("Priority".into(), 0.9),
        ],
        rows,
    }];
    for t in &technologies {
        if let Some(p) = ranking.technologies.iter().find(|p| p.id == t.meta.id)
            && !(p.concerns.is_empty() && p.uncovered_gaps.is_empty())
        {
            let mut text = format!("{}: ", t.label());
            if !p.concerns.is_empty() {
                text.push_str(&p.concerns.join("; "));
            }
            if !p.uncovered_gaps.is_empty() {
                let _ = write!(
                    text,
                    ". Not covered by any measure: {}",
                    p.uncovered_gaps.join("; ")
                );
            }
            stands.push(Block::Paragraph(p.classification, text));
        }
    }
    for r in &roadmaps {
        if let Some(n) = r.text("narrative") {
            stands.push(Block::Paragraph(r.meta.classification, n.to_owned()));
        }
    }
    sections.push(Section {
        number: "1".into(),
        title: "Where it stands".into(),
        blocks: stands,
    });
    // 2. Targets.
    let now_trl = ranking
        .technologies
        .iter()
        .filter(|p| ids.contains(&p.id.to_string()))
        .filter_map(|p| p.trl)
        .min();
    let now_outside = ranking
        .technologies
        .iter()
        .filter(|p| ids.contains(&p.id.to_string()))
        .filter_map(|p| p.outside_bloc_exposure)
        .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))));
    let mut target_rows = Vec::new();
    for r in &roadmaps {
        for line in r.texts("targets") {
            let row = match parse_target(&line) {
                Some(t) => vec![
                    t.year.to_string(),
                    t.trl.map_or_else(|| "–".to_owned(), |x| x.to_string()),
                    pct(t.outside),
                    pct(t.capacity),
                    if t.unread.is_empty() {
                        String::new()
                    } else {
                        format!("{} (not read)", t.unread.join(", "))
                    },
                ],
                None => vec![
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    format!("{line} (not read)"),
                ],
            };
            target_rows.push(Row {
                level: r.meta.classification,
                cells: row,
            });
        }
    }
    // Today's figures come from its assessments and supply: at their level.
    let today_level = ranking
        .technologies
        .iter()
        .filter(|p| ids.contains(&p.id.to_string()))
        .map(|p| p.classification)
        .fold(level, Classification::max);
    let mut target_blocks = vec![Block::Paragraph(
        today_level,
        format!(
            "Today: TRL {}, {} of the supply from outside {bloc_name}.",
            now_trl.map_or_else(|| "not assessed".to_owned(), |t| t.to_string()),
            pct(now_outside)
        ),
    )];
    if target_rows.is_empty() {
        target_blocks.push(Block::Paragraph(
            Classification::Unclassified,
            "No targets are set: add a roadmap record with targets (\"2030: TRL 8, outside bloc 40 %, EU capacity 20 %\").".into(),
        ));
    } else {
        target_rows.sort_by(|a, b| a.cells[0].cmp(&b.cells[0]));
        target_blocks.push(Block::Table {
            columns: vec![
                ("Year".into(), 0.8),
                ("TRL".into(), 0.8),
                (format!("Outside {bloc_name} at most"), 1.6),
                ("EU capacity at least".into(), 1.6),
                ("Other".into(), 2.5),
            ],
            rows: target_rows,
        });
    }
    sections.push(Section {
        number: "2".into(),
        title: "Targets".into(),
        blocks: target_blocks,
    });
    // 3. Milestones and measures.
    let measures: Vec<Record> = session
        .list(Kind::Measure)?
        .into_iter()
        .filter(|m| {
            m.texts("target_ids").iter().any(|t| ids.contains(t))
                || roadmaps
                    .iter()
                    .any(|r| r.texts("measure_ids").contains(&m.meta.id.to_string()))
        })
        .collect();
    let mut bars = Vec::new();
    let mut milestone_rows = Vec::new();
    for r in &roadmaps {
        for line in r.texts("milestones") {
            match parse_milestone(&line) {
                Some((date, what)) => {
                    if let Some(d) = day_number(&date) {
                        bars.push((
                            format!("Milestone: {what}"),
                            d,
                            d + 7.0,
                            "milestone".to_owned(),
                        ));
                    }
                    milestone_rows.push(Row {
                        level: r.meta.classification,
                        cells: vec![date, what],
                    });
                }
                None => milestone_rows.push(Row {
                    level: r.meta.classification,
                    cells: vec![String::new(), format!("{line} (not read)")],
                }),
            }
        }
    }
    milestone_rows.sort_by(|a, b| a.cells[0].cmp(&b.cells[0]));
    let mut by_instrument: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for m in &measures {
        level = level.max(m.meta.classification);
        by_instrument
            .entry(m.text("instrument").unwrap_or("no instrument").to_owned())
            .or_default()
            .push(m);
        if let (Some(s), Some(e)) = (
            m.text("start").and_then(day_number),
            m.text("end").and_then(day_number),
        ) {
            bars.push((m.label(), s, e, m.text("status").unwrap_or("").to_owned()));
        }
    }
    let names: BTreeMap<String, (String, Classification)> = session
        .list(Kind::Item)?
        .iter()
        .map(|i| (i.meta.id.to_string(), (i.label(), i.meta.classification)))
        .collect();
    let mut measure_rows = Vec::new();
    for (instrument, list) in &by_instrument {
        for m in list {
            let mut row_level = m.meta.classification;
            let mut change = Vec::new();
            let addressed: Vec<String> = m
                .texts("gaps_addressed")
                .into_iter()
                .map(|g| format!("gap {g}"))
                .chain(
                    m.texts("causes_addressed")
                        .into_iter()
                        .map(|c| format!("cause {c}")),
                )
                .collect();
            if !addressed.is_empty() {
                change.push(addressed.join(", "));
            }
            if let (Some(c), Some(s)) = (
                m.text("effect_country"),
                m.fields.get("effect_share").and_then(Value::as_f64),
            ) {
                let item = m
                    .text("effect_item_id")
                    .and_then(|i| names.get(i).cloned())
                    .map_or_else(
                        || "its item".to_owned(),
                        |(name, l)| {
                            row_level = row_level.max(l);
                            name
                        },
                    );
                change.push(format!("{c} supplies {:.0} % of {item}", s * 100.0));
            }
            if let Some(t) = m.fields.get("effect_trl").and_then(Value::as_i64) {
                change.push(format!("TRL {t}"));
            }
            if let Some(d) = m.text("effect_date") {
                change.push(format!("by {d}"));
            }
            level = level.max(row_level);
            measure_rows.push(Row {
                level: row_level,
                cells: vec![
                    instrument.clone(),
                    m.label(),
                    m.text("status").unwrap_or("–").to_owned(),
                    format!(
                        "{} – {}",
                        m.text("start").unwrap_or("?"),
                        m.text("end").unwrap_or("?")
                    ),
                    m.fields
                        .get("budget_eur")
                        .and_then(Value::as_f64)
                        .map_or_else(|| "–".to_owned(), |b| format!("EUR {:.1} M", b / 1e6)),
                    if change.is_empty() {
                        "not recorded".to_owned()
                    } else {
                        change.join("; ")
                    },
                ],
            });
        }
    }
    let mut plan = Vec::new();
    // A page holds about 40 bars: the rest are in the tables below.
    if bars.len() > 40 {
        bars.sort_by(|a, b| a.1.total_cmp(&b.1));
        plan.push(Block::Paragraph(
            Classification::Unclassified,
            format!(
                "The chart shows the first 40 of {} measures and milestones; all are listed below.",
                bars.len()
            ),
        ));
        bars.truncate(40);
    }
    if !bars.is_empty() {
        plan.push(Block::Chart {
            title: "Measures and milestones".into(),
            level,
            chart: Chart::Gantt { bars },
        });
    }
    plan.push(Block::Heading("Milestones".into()));
    if milestone_rows.is_empty() {
        plan.push(Block::Paragraph(
            Classification::Unclassified,
            "No milestones are set.".into(),
        ));
    } else {
        plan.push(Block::Table {
            columns: vec![("Date".into(), 1.2), ("Milestone".into(), 6.0)],
            rows: milestone_rows,
        });
    }
    plan.push(Block::Heading("Measures by instrument".into()));
    if measure_rows.is_empty() {
        plan.push(Block::Paragraph(
            Classification::Unclassified,
            "No measure is aimed at it.".into(),
        ));
    } else {
        plan.push(Block::Table {
            columns: vec![
                ("Instrument".into(), 1.3),
                ("Measure".into(), 2.4),
                ("Status".into(), 1.0),
                ("Dates".into(), 1.8),
                ("Budget".into(), 1.1),
                ("Meant to change".into(), 2.6),
            ],
            rows: measure_rows,
        });
    }
    sections.push(Section {
        number: "3".into(),
        title: "Milestones and measures".into(),
        blocks: plan,
    });
    // 4. What moved since the previous edition.
    let mut moved = Vec::new();
    let store = session.store();
    if let Some(previous) = store.editions()?.into_iter().max_by(|a, b| {
        (a.as_of.as_str(), a.created_at.as_str()).cmp(&(b.as_of.as_str(), b.created_at.as_str()))
    }) {
        let then = store.edition_records(&previous.id)?;
        for r in &roadmaps {
            let before = then.iter().find(|x| x.meta.id == r.meta.id);
            match before {
                None => moved.push(Row {
                    level: r.meta.classification,
                    cells: vec![r.label(), "new since the edition".into()],
                }),
                Some(b) => {
                    for field in ["targets", "milestones", "measure_ids"] {
                        if b.fields.get(field) != r.fields.get(field) {
                            level = level.max(b.meta.classification);
                            moved.push(Row {
                                level: r.meta.classification.max(b.meta.classification),
                                cells: vec![
                                    r.label(),
                                    format!(
                                        "{field}: {} → {}",
                                        b.texts(field).join("; "),
                                        r.texts(field).join("; ")
                                    ),
                                ],
                            });
                        }
                    }
                }
            }
        }
        let trl_then = crate::service::compare::trl_by_subject(
            &then
                .iter()
                .filter(|r| r.kind == Kind::Assessment)
                .cloned()
                .collect::<Vec<_>>(),
        );
        for t in &technologies {
            let was = trl_then.get(&t.meta.id.to_string());
            let is = ranking
                .technologies
                .iter()
                .find(|p| p.id == t.meta.id)
                .and_then(|p| p.trl);
            if was.copied() != is {
                let now_level = ranking
                    .technologies
                    .iter()
                    .find(|p| p.id == t.meta.id)
                    .map_or(t.meta.classification, |p| p.classification);
                moved.push(Row {
                    level: now_level.max(previous.classification),
                    cells: vec![
                        t.label(),
                        format!(
                            "TRL {} → {}",
                            was.map_or_else(|| "–".to_owned(), ToString::to_string),
                            is.map_or_else(|| "–".to_owned(), |x| x.to_string())
                        ),
                    ],
                });
            }
        }
        let mut blocks = vec![Block::Paragraph(
            Classification::Unclassified,
            format!(
                "Compared with the previous edition, as of {}.",
                previous.as_of
            ),
        )];
        if moved.is_empty() {
            blocks.push(Block::Paragraph(
                Classification::Unclassified,
                "Nothing moved.".into(),
            ));
        } else {
            blocks.push(Block::Table {
                columns: vec![("Of".into(), 2.5), ("What moved".into(), 6.0)],
                rows: moved,
            });
        }
        sections.push(Section {
            number: "4".into(),
            title: "What moved since the previous edition".into(),
            blocks,
        });
    }
    let classification = level.max(Classification::highest(
        sections.iter().flat_map(|s| &s.blocks).map(Block::level),
    ));
    // Releasable to the Member States every record it draws on is releasable to.
    let mut drawn: Vec<Record> = Vec::new();
    for p in ranking
        .technologies
        .iter()
        .filter(|p| ids.contains(&p.id.to_string()))
    {
        for id in &p.behind {
            if let Some((kind, false)) = session.store().find_kind(*id)?
                && let Ok(r) = session.get(kind, *id)
            {
                drawn.push(r);
            }
        }
    }
    let releasability = super::content::releasability_text(
        technologies
            .iter()
            .chain(&roadmaps)
            .chain(&measures)
            .chain(&drawn),
    );
    let profile = session.identity().profile();
    Ok(Report {
        title,
        basis: "The register now".into(),
        date: crate::store::now_rfc3339().chars().take(10).collect(),
        generated: crate::store::now_rfc3339(),
        classification,
        releasability,
        distribution: vec![format!(
            "{} ({}), cleared to {}: author",
            profile.name,
            profile.member_state,
            profile.clearance.code()
        )],
        ceiling: None,
        omitted: 0,
        sections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_milestones_are_read_or_kept_as_written() {
        let t = parse_target("2030: TRL 8, outside bloc 40 %, EU capacity 20 %").unwrap();
        assert_eq!(
            (t.year, t.trl, t.outside, t.capacity),
            (2030, Some(8), Some(0.4), Some(0.2))
        );
        assert!(t.unread.is_empty());
        let t = parse_target("2028: trl 12; pilot line").unwrap();
        assert_eq!(t.trl, None);
        assert_eq!(t.unread, vec!["trl 12", "pilot line"]);
        assert!(parse_target("soon: TRL 9").is_none());
        assert_eq!(
            parse_milestone("2027-06-30: pilot line running"),
            Some(("2027-06-30".into(), "pilot line running".into()))
        );
        assert!(parse_milestone("mid-2027 pilot").is_none());
    }
}

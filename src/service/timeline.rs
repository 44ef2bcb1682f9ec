//! What the timeline view plots, gathered from the register (as of the date being viewed, if
//! any): for each chosen subject (technology or item), its dated assessments (TRL,
//! criticality, supply risk) and, for items, the concentration of their supply (HHI) per data
//! year, read from the history of the supply shares; the events and the report cycles; the
//! mitigating measures aimed at the subjects as bars from start to end.
//!
//! The concentration series is how a dataset released again with newer figures shows as
//! change: a second release updates the same link records (same ids, newer `share` and
//! `year`), so each data year keeps its own shares in the change log and becomes one point.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use uuid::Uuid;

use super::{ServiceError, Session};
use crate::model::{Classification, Kind, Record};

/// What a series plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// Technology readiness level, 1-9, from assessments.
    Trl,
    /// Criticality, 0-10, from assessments.
    Criticality,
    /// Supply risk, 0-10, from assessments.
    SupplyRisk,
    /// Concentration of supply (HHI, 0-10,000) per data year, from the supply shares.
    Concentration,
}

impl Metric {
    /// All metrics, in the order of the plots.
    pub const ALL: [Metric; 4] = [
        Metric::Trl,
        Metric::Criticality,
        Metric::SupplyRisk,
        Metric::Concentration,
    ];

    /// Title of its plot.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Metric::Trl => "TRL",
            Metric::Criticality => "Criticality",
            Metric::SupplyRisk => "Supply risk",
            Metric::Concentration => "Concentration (HHI)",
        }
    }

    /// The range of its values.
    #[must_use]
    pub fn range(self) -> (f64, f64) {
        match self {
            Metric::Trl => (1.0, 9.0),
            Metric::Criticality | Metric::SupplyRisk => (0.0, 10.0),
            Metric::Concentration => (0.0, 10_000.0),
        }
    }
}

/// One plotted value.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Days since 1970-01-01 (the plot's x axis).
    pub day: f64,
    /// The value.
    pub value: f64,
    /// The record it comes from (an assessment; for concentration, the subject item).
    pub record: (Kind, Uuid),
    /// Hover text.
    pub detail: String,
}

/// The values of one metric of one subject, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The technology or item.
    pub subject: Uuid,
    /// Its name.
    pub name: String,
    /// What is plotted.
    pub metric: Metric,
    /// The points.
    pub points: Vec<Point>,
}

/// A dated event (a vertical marker).
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// The record it comes from: an event, or a technology (its watch and list dates).
    pub id: Uuid,
    /// The kind of that record.
    pub record_kind: Kind,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Days since 1970-01-01.
    pub day: f64,
    /// Title.
    pub title: String,
    /// Kind of event (`report-cycle`, `policy`, ...).
    pub event_kind: String,
}

/// A mitigating measure as a bar from start to end.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureBar {
    /// The measure record.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Instrument (EDF, Horizon Europe, ...), the bars' group.
    pub instrument: String,
    /// Status (proposed, planned, ongoing, completed, cancelled), the bar's colour.
    pub status: String,
    /// Start, `YYYY-MM-DD`.
    pub start: String,
    /// End, `YYYY-MM-DD` (open-ended measures run to the end of the plot: `None`).
    pub end: Option<String>,
    /// Start in days since 1970-01-01.
    pub start_day: f64,
    /// End in days since 1970-01-01, if any.
    pub end_day: Option<f64>,
}

/// Everything the timeline shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimelineData {
    /// The series, by metric then subject.
    pub series: Vec<Series>,
    /// Events, by date.
    pub events: Vec<Marker>,
    /// Mitigating measures aimed at the subjects, by instrument then start.
    pub measures: Vec<MeasureBar>,
    /// Highest classification of everything shown.
    pub level: Classification,
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
#[must_use]
pub fn day_number(date: &str) -> Option<f64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date.get(..10)?, format).ok()?;
    Some(f64::from(
        day.to_julian_day() - time::macros::date!(1970 - 01 - 01).to_julian_day(),
    ))
}

/// The `YYYY-MM-DD` date of a day number (rounded down); empty when out of range.
#[must_use]
pub fn date_of_day(day: f64) -> String {
    if !day.is_finite() || day.abs() > 3_000_000.0 {
        return String::new();
    }
    #[allow(clippy::cast_possible_truncation)] // bounded just above
    let days = day.floor() as i32;
    time::Date::from_julian_day(time::macros::date!(1970 - 01 - 01).to_julian_day() + days)
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// The report cycles: the end of 2022 and every two years after, up to `until` (`YYYY-MM-DD`).
#[must_use]
pub fn report_cycles(until: &str) -> Vec<String> {
    let last: i32 = until.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2022);
    (2022..=last.max(2022))
        .step_by(2)
        .map(|year| format!("{year}-12-31"))
        .collect()
}

impl Session {
    /// The timeline of `subjects` (technology or item ids); measures aimed at none of them are
    /// left out unless `subjects` is empty (then every measure is shown).
    pub fn timeline(&self, subjects: &[Uuid]) -> Result<TimelineData, ServiceError> {
        let mut data = TimelineData::default();
        let mut level = Classification::Unclassified;
        let wanted: BTreeSet<Uuid> = subjects.iter().copied().collect();
        let mut names: BTreeMap<Uuid, (Kind, String)> = BTreeMap::new();
        for kind in [Kind::Technology, Kind::Item] {
            for r in self.list(kind)? {
                if wanted.contains(&r.meta.id) {
                    level = level.max(r.meta.classification);
                    names.insert(r.meta.id, (kind, r.label()));
                }
            }
        }
        let assessments = self.list(Kind::Assessment)?;
        let mut by_subject: BTreeMap<Uuid, Vec<&Record>> = BTreeMap::new();
        for a in assessments.iter().filter(|a| !a.is_round_answer()) {
            if let Some(subject) = a.text("subject_id").and_then(|s| Uuid::parse_str(s).ok())
                && names.contains_key(&subject)
            {
                by_subject.entry(subject).or_default().push(a);
            }
        }
        for (subject, (kind, name)) in &names {
            let mut list = by_subject.remove(subject).unwrap_or_default();
            list.sort_by(|a, b| {
                (a.text("date"), a.meta.updated).cmp(&(b.text("date"), b.meta.updated))
            });
            for metric in [Metric::Trl, Metric::Criticality, Metric::SupplyRisk] {
                let field = match metric {
                    Metric::Trl => "trl",
                    Metric::Criticality => "criticality",
                    _ => "supply_risk",
                };
                let mut points: Vec<Point> = Vec::new();
                for a in &list {
                    let (Some(value), Some(on)) =
                        (a.fields.get(field).and_then(Value::as_f64), a.text("date"))
                    else {
                        continue;
                    };
                    let Some(day) = day_number(on) else {
                        continue;
                    };
                    level = level.max(a.meta.classification);
                    let point = Point {
                        date: on.to_owned(),
                        day,
                        value,
                        record: (Kind::Assessment, a.meta.id),
                        detail: format!(
                            "{name}\n{} {value} on {on}{}",
                            metric.title(),
                            a.text("assessor")
                                .map(|s| format!(" by {s}"))
                                .unwrap_or_default()
                        ),
                    };
                    // Two judgements on the same date: the later one stands.
                    match points.last_mut() {
                        Some(previous) if previous.date == point.date => *previous = point,
                        _ => points.push(point),
                    }
                }
                if !points.is_empty() {
                    data.series.push(Series {
                        subject: *subject,
                        name: name.clone(),
                        metric,
                        points,
                    });
                }
            }
            if *kind == Kind::Item {
                let (points, links_level) = self.concentration_by_year(*subject, name)?;
                level = level.max(links_level);
                if !points.is_empty() {
                    data.series.push(Series {
                        subject: *subject,
                        name: name.clone(),
                        metric: Metric::Concentration,
                        points,
                    });
                }
            }
        }
        data.series
            .sort_by(|a, b| (a.metric, &a.name).cmp(&(b.metric, &b.name)));
        for e in self.list(Kind::Event)? {
            let Some(day) = e.text("date").and_then(day_number) else {
                continue;
            };
            level = level.max(e.meta.classification);
            data.events.push(Marker {
                id: e.meta.id,
                record_kind: Kind::Event,
                date: e.text("date").unwrap_or_default().to_owned(),
                day,
                title: e.label(),
                event_kind: e.text("event_kind").unwrap_or("other").to_owned(),
            });
        }
        // Horizon scanning: when a technology was first signalled, entered the watch, the
        // list, left it, and was flagged for uptake.
        for r in self.list(Kind::Technology)? {
            if !wanted.contains(&r.meta.id) {
                continue;
            }
            for (field, what) in [
                ("signal_date", "signal"),
                ("watch_date", "on the watch"),
                ("listed_date", "on the list"),
                ("retired_date", "off the list"),
                ("uptake_date", "flagged for uptake"),
            ] {
                let Some(on) = r.text(field) else { continue };
                let Some(day) = day_number(on) else { continue };
                data.events.push(Marker {
                    id: r.meta.id,
                    record_kind: Kind::Technology,
                    date: on.to_owned(),
                    day,
                    title: format!("{}: {what}", r.label()),
                    event_kind: "horizon".to_owned(),
                });
            }
        }
        data.events.sort_by(|a, b| a.day.total_cmp(&b.day));
        for m in self.list(Kind::Measure)? {
            let targets: Vec<Uuid> = m
                .fields
                .get("target_ids")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
                        .collect()
                })
                .unwrap_or_default();
            if !wanted.is_empty() && !targets.iter().any(|t| wanted.contains(t)) {
                continue;
            }
            let Some((start, start_day)) = m
                .text("start")
                .and_then(|s| Some((s.to_owned(), day_number(s)?)))
            else {
                continue;
            };
            level = level.max(m.meta.classification);
            let end = m.text("end").map(str::to_owned);
            data.measures.push(MeasureBar {
                id: m.meta.id,
                name: m.label(),
                instrument: m.text("instrument").unwrap_or("other").to_owned(),
                status: m.text("status").unwrap_or("planned").to_owned(),
                end_day: end.as_deref().and_then(day_number),
                start,
                end,
                start_day,
            });
        }
        data.measures.sort_by(|a, b| {
            (&a.instrument, a.start_day, &a.name)
                .partial_cmp(&(&b.instrument, b.start_day, &b.name))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        data.level = level;
        Ok(data)
    }

    /// The HHI of an item's supply per data year: every value its `produced-in` /
    /// `supplied-by` links' `share` and `year` have had (from the change log, up to the date
    /// being viewed), the share standing at each year summed as HHI. Also the highest
    /// classification of the links used.
    fn concentration_by_year(
        &self,
        item: Uuid,
        name: &str,
    ) -> Result<(Vec<Point>, Classification), ServiceError> {
        let item_text = item.to_string();
        let mut level = Classification::Unclassified;
        // year -> link -> share
        let mut shares: BTreeMap<i64, BTreeMap<Uuid, f64>> = BTreeMap::new();
        let cutoff = self.viewing().map(|v| v.cutoff.to_string());
        for link in self.list(Kind::Link)? {
            if link.text("from_id") != Some(item_text.as_str())
                || !matches!(link.text("link_kind"), Some("produced-in" | "supplied-by"))
            {
                continue;
            }
            level = level.max(link.meta.classification);
            let mut changes: Vec<(String, &str, Value)> = Vec::new();
            let share = self
                .store()
                .field_history(Kind::Link, link.meta.id, "share")?;
            let year = self
                .store()
                .field_history(Kind::Link, link.meta.id, "year")?;
            changes.extend(share.into_iter().map(|(hlc, _, v)| (hlc, "share", v)));
            changes.extend(year.into_iter().map(|(hlc, _, v)| (hlc, "year", v)));
            changes.retain(|(hlc, _, _)| cutoff.as_ref().is_none_or(|c| hlc <= c));
            changes.sort_by(|a, b| a.0.cmp(&b.0));
            // Replay both fields together; the state after each clock value counts for the
            // year it names.
            let (mut current_share, mut current_year) = (None, None);
            let mut i = 0;
            while i < changes.len() {
                let hlc = changes[i].0.clone();
                while i < changes.len() && changes[i].0 == hlc {
                    let (_, field, value) = &changes[i];
                    if *field == "share" {
                        current_share = value.as_f64();
                    } else {
                        current_year = value.as_i64();
                    }
                    i += 1;
                }
                if let (Some(s), Some(y)) = (current_share, current_year) {
                    shares.entry(y).or_default().insert(link.meta.id, s);
                }
            }
        }
        let points = shares
            .into_iter()
            .filter_map(|(year, links)| {
                let date = format!("{year}-12-31");
                let day = day_number(&date)?;
                let hhi: f64 = links.values().map(|s| (s * 100.0).powi(2)).sum();
                let top = links.values().copied().fold(0.0, f64::max);
                Some(Point {
                    detail: format!(
                        "{name}\nHHI {hhi:.0} in {year} ({} source(s), largest {:.0} %)",
                        links.len(),
                        top * 100.0
                    ),
                    date,
                    day,
                    value: hhi.round(),
                    record: (Kind::Item, item),
                })
            })
            .collect();
        Ok((points, level))
    }
}

//! The timeline view: how the chosen technologies and items moved over the years. Linked
//! plots (`egui_plot`) share the date axis: TRL, criticality and supply risk from the dated
//! assessments, the concentration of an item's supply per data year, and the mitigating
//! measures as bars from start to end, grouped by instrument and coloured by status. Events
//! and the report cycles (end of 2022, then every two years) are vertical markers. Drag to
//! pan, scroll or pinch to zoom (the date axis of all plots moves together), hover for details,
//! click a point, bar or marker to open its record; double-click resets the view.

use std::collections::BTreeSet;

use egui::Color32;
use egui_plot::{
    Bar, BarChart, Legend, Line, LineStyle, MarkerShape, Plot, PlotPoints, Points, VLine,
};
use uuid::Uuid;

use super::app::{Command, View};
use crate::model::{Classification, Kind};
use crate::service::Session;
use crate::service::timeline::{self, Metric, TimelineData, date_of_day, day_number};

/// Series colours, by subject (colour-blind-safe palette, Okabe-Ito).
const PALETTE: [Color32; 7] = [
    Color32::from_rgb(0x00, 0x72, 0xb2),
    Color32::from_rgb(0xd5, 0x5e, 0x00),
    Color32::from_rgb(0x00, 0x9e, 0x73),
    Color32::from_rgb(0xcc, 0x79, 0xa7),
    Color32::from_rgb(0xe6, 0x9f, 0x00),
    Color32::from_rgb(0x56, 0xb4, 0xe9),
    Color32::from_rgb(0x80, 0x80, 0x80),
];

/// Bar colour of a measure's status.
fn status_colour(status: &str) -> Color32 {
    match status {
        "completed" => Color32::from_rgb(0x1b, 0x7a, 0x35),
        "ongoing" => Color32::from_rgb(0x00, 0x72, 0xb2),
        "planned" => Color32::from_rgb(0xe6, 0x9f, 0x00),
        "cancelled" => Color32::from_rgb(0x99, 0x99, 0x99),
        _ => Color32::from_rgb(0xcc, 0x79, 0xa7), // proposed
    }
}

/// Width of the value axis of every plot, so that their dates line up.
const AXIS_WIDTH: f32 = 190.0;

/// The statuses, in the legend's order.
const STATUSES: [&str; 5] = ["proposed", "planned", "ongoing", "completed", "cancelled"];

/// The view's state.
#[derive(Default)]
pub struct TimelineView {
    /// The technologies and items shown.
    pub selected: BTreeSet<Uuid>,
    /// What can be chosen: (kind, id, name, number of assessments).
    candidates: Vec<(Kind, Uuid, String)>,
    /// Filter typed above the list.
    filter: String,
    /// What is plotted.
    pub data: TimelineData,
    /// Today (`YYYY-MM-DD`): the last report cycle shown and the "today" marker.
    pub today: String,
    /// The date being viewed, if not today: the dotted marker stands there.
    viewing: Option<String>,
    /// Read again at the next frame.
    stale: bool,
    /// The first subjects were chosen (the most assessed technologies).
    started: bool,
}

impl TimelineView {
    /// Reads the candidates and the plotted data again (after edits, a new date viewed).
    pub fn refresh(&mut self, session: &Session) {
        if self.today.is_empty() {
            self.today = crate::store::now_rfc3339().chars().take(10).collect();
        }
        let assessments = session.list(Kind::Assessment).unwrap_or_default();
        let mut assessed: std::collections::BTreeMap<&str, usize> =
            std::collections::BTreeMap::new();
        for a in &assessments {
            if let Some(subject) = a.text("subject_id") {
                *assessed.entry(subject).or_default() += 1;
            }
        }
        self.candidates.clear();
        for kind in [Kind::Technology, Kind::Item] {
            for r in session.list(kind).unwrap_or_default() {
                // Technologies always; items when assessed.
                if kind == Kind::Technology || assessed.contains_key(r.meta.id.to_string().as_str())
                {
                    self.candidates.push((kind, r.meta.id, r.label()));
                }
            }
        }
        if !self.started && self.selected.is_empty() {
            // Start with the technologies that have the most assessments.
            let mut counts: Vec<(usize, Uuid)> = self
                .candidates
                .iter()
                .filter(|(k, _, _)| *k == Kind::Technology)
                .filter_map(|(_, id, _)| Some((*assessed.get(id.to_string().as_str())?, *id)))
                .collect();
            counts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            self.selected = counts.into_iter().take(3).map(|(_, id)| id).collect();
        }
        self.started = true;
        self.viewing = session.viewing().map(|v| v.date.clone());
        let subjects: Vec<Uuid> = self.selected.iter().copied().collect();
        self.data = session.timeline(&subjects).unwrap_or_default();
        self.stale = false;
    }

    /// Adds a subject (from the registers or the graph) and reads the data again.
    pub fn show_subject(&mut self, session: &Session, id: Uuid) {
        self.selected.insert(id);
        self.refresh(session);
    }

    /// The highest classification on screen.
    #[must_use]
    pub fn level(&self) -> Classification {
        self.data.level
    }

    /// The view.
    pub fn ui(&mut self, ui: &mut egui::Ui, session: &Session, commands: &mut Vec<Command>) {
        if self.stale {
            self.refresh(session);
        }
        let height = ui.available_height();
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(230.0);
                ui.set_height(height);
                self.subjects_ui(ui);
            });
            ui.separator();
            ui.vertical(|ui| self.plots_ui(ui, commands));
        });
    }

    fn subjects_ui(&mut self, ui: &mut egui::Ui) {
        ui.strong("Shown on the timeline");
        let l = ui.label("Filter");
        ui.add(egui::TextEdit::singleline(&mut self.filter).hint_text("name"))
            .labelled_by(l.id);
        let needle = self.filter.to_lowercase();
        let mut changed = false;
        let colours: Vec<(Uuid, Color32)> = self
            .selected
            .iter()
            .map(|id| (*id, self.colour_of(*id)))
            .collect();
        let mut ordered: Vec<&(Kind, Uuid, String)> = self.candidates.iter().collect();
        ordered.sort_by_key(|(_, id, _)| !self.selected.contains(id));
        let selected = &mut self.selected;
        egui::ScrollArea::vertical().show(ui, |ui| {
            for (kind, id, name) in ordered {
                let on = selected.contains(id);
                if !on && !needle.is_empty() && !name.to_lowercase().contains(&needle) {
                    continue;
                }
                let mut checked = on;
                let mut text = egui::RichText::new(if *kind == Kind::Item {
                    format!("{name} (item)")
                } else {
                    name.clone()
                });
                if let Some((_, colour)) = colours.iter().find(|(s, _)| s == id) {
                    text = text.color(*colour).strong();
                }
                if ui.checkbox(&mut checked, text).changed() {
                    if checked {
                        selected.insert(*id);
                    } else {
                        selected.remove(id);
                    }
                    changed = true;
                }
            }
        });
        if changed {
            self.stale = true;
        }
    }

    fn colour_of(&self, subject: Uuid) -> Color32 {
        let index = self
            .selected
            .iter()
            .position(|s| *s == subject)
            .unwrap_or(0);
        PALETTE[index % PALETTE.len()]
    }

    fn plots_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.horizontal_wrapped(|ui| {
            ui.heading("Timeline");
            ui.label(format!(
                "{} series, {} event(s), {} measure(s)",
                self.data.series.len(),
                self.data.events.len(),
                self.data.measures.len()
            ));
            if let Some(first) = self.selected.iter().next().copied()
                && ui
                    .button("Show in graph")
                    .on_hover_text("Select the first chosen technology or item in the supply graph")
                    .clicked()
            {
                commands.push(Command::FocusGraph(first));
            }
        });
        if self.selected.is_empty() {
            ui.label("Choose technologies or items on the left.");
        }
        let cycles = timeline::report_cycles(&self.today);
        let today = day_number(self.viewing.as_deref().unwrap_or(&self.today));
        let metrics: Vec<Metric> = Metric::ALL
            .into_iter()
            .filter(|m| {
                *m != Metric::Concentration || self.data.series.iter().any(|s| s.metric == *m)
            })
            .collect();
        let measures_height = if self.data.measures.is_empty() {
            0.0
        } else {
            (self.data.measures.len() as f32 * 22.0 + 60.0).clamp(110.0, 320.0)
        };
        let available = ui.available_height() - measures_height;
        let plot_height = (available / metrics.len() as f32 - 8.0).max(90.0);
        // The x range: everything dated, and the report cycles.
        let mut days: Vec<f64> = self
            .data
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.day))
            .chain(self.data.events.iter().map(|e| e.day))
            .chain(self.data.measures.iter().map(|m| m.start_day))
            .chain(self.data.measures.iter().filter_map(|m| m.end_day))
            .collect();
        days.extend(cycles.iter().filter_map(|c| day_number(c)));
        let (min_day, max_day) = days
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), d| (a.min(*d), b.max(*d)));
        let (min_day, max_day) = if min_day <= max_day {
            (min_day - 120.0, max_day + 120.0)
        } else {
            (0.0, 1.0)
        };
        let group = egui::Id::unique("timeline_axis");
        let mut clicked: Option<(Kind, Uuid)> = None;
        for metric in metrics {
            let series: Vec<_> = self
                .data
                .series
                .iter()
                .filter(|s| s.metric == metric)
                .collect();
            let (lo, hi) = metric.range();
            let pad = (hi - lo) * 0.05;
            let response = Plot::new(("timeline", metric.title()))
                .height(plot_height)
                .link_axis(group, [true, false])
                .link_cursor(group, [true, false])
                .default_x_bounds(min_day, max_day)
                .include_y(lo - pad)
                .include_y(hi + pad)
                .allow_zoom([true, false])
                .allow_scroll([true, false])
                .allow_drag([true, false])
                .y_axis_label(metric.title())
                .y_axis_min_width(AXIS_WIDTH)
                .x_grid_spacer(calendar_grid)
                .x_axis_formatter(|mark, _| axis_date(mark.value, mark.step_size))
                .label_formatter(|hover| hover_text(hover, &series))
                .show(ui, |plot| {
                    markers(plot, &self.data, &cycles, today);
                    for s in &series {
                        let colour = self.colour_of(s.subject);
                        let points: PlotPoints<'_> =
                            s.points.iter().map(|p| [p.day, p.value]).collect();
                        let marks: PlotPoints<'_> =
                            s.points.iter().map(|p| [p.day, p.value]).collect();
                        plot.line(Line::new(s.name.clone(), points).color(colour).width(2.0));
                        plot.points(
                            Points::new(s.name.clone(), marks)
                                .color(colour)
                                .radius(4.0)
                                .shape(MarkerShape::Circle)
                                .filled(true),
                        );
                    }
                });
            if response.response.clicked()
                && let Some(pointer) = response.response.interact_pointer_pos()
            {
                clicked = nearest(&response.transform, pointer, &series, &self.data);
            }
            event_tooltip(&response, &self.data);
        }
        if !self.data.measures.is_empty() {
            clicked =
                clicked.or_else(|| self.measures_ui(ui, group, (min_day, max_day), &cycles, today));
        }
        if let Some((kind, id)) = clicked {
            commands.push(Command::Edit(kind, Some(id)));
        }
    }

    /// The measures as horizontal bars, one row each, grouped by instrument.
    fn measures_ui(
        &self,
        ui: &mut egui::Ui,
        group: egui::Id,
        (min_day, max_day): (f64, f64),
        cycles: &[String],
        today: Option<f64>,
    ) -> Option<(Kind, Uuid)> {
        let measures = &self.data.measures;
        let end_of_plot = max_day;
        let rows: Vec<String> = measures
            .iter()
            .map(|m| format!("{}: {}", m.instrument, m.name))
            .collect();
        let response = Plot::new("timeline_measures")
            .height(ui.available_height().max(100.0))
            .link_axis(group, [true, false])
            .link_cursor(group, [true, false])
            .default_x_bounds(min_day, max_day)
            .include_y(-0.7)
            .include_y(measures.len() as f64 - 0.3)
            .allow_zoom([true, false])
            .allow_scroll([true, false])
            .allow_drag([true, false])
            .show_grid([true, false])
            .y_axis_label("Measures")
            .y_axis_min_width(AXIS_WIDTH)
            .y_axis_formatter(move |mark, _| {
                let index = mark.value.round();
                if (mark.value - index).abs() > 0.01 || index < 0.0 {
                    return String::new();
                }
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                rows.get(index as usize)
                    .map(|r| {
                        if r.chars().count() > 22 {
                            format!("{}…", r.chars().take(21).collect::<String>())
                        } else {
                            r.clone()
                        }
                    })
                    .unwrap_or_default()
            })
            .x_grid_spacer(calendar_grid)
            .x_axis_formatter(|mark, _| axis_date(mark.value, mark.step_size))
            .label_formatter(|_| None)
            .legend(Legend::default().position(egui_plot::Corner::RightTop))
            .show(ui, |plot| {
                markers(plot, &self.data, cycles, today);
                for status in STATUSES {
                    let bars: Vec<Bar> = measures
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| m.status == status)
                        .map(|(row, m)| {
                            let end = m.end_day.unwrap_or(end_of_plot);
                            Bar::new(row as f64, (end - m.start_day).max(1.0))
                                .base_offset(m.start_day)
                                .width(0.6)
                                .name(format!(
                                    "{} ({}, {})\n{} to {}",
                                    m.name,
                                    m.instrument,
                                    m.status,
                                    m.start,
                                    m.end.as_deref().unwrap_or("open")
                                ))
                                .fill(status_colour(status))
                        })
                        .collect();
                    if !bars.is_empty() {
                        plot.bar_chart(
                            BarChart::new(status, bars)
                                .horizontal()
                                .color(status_colour(status))
                                .element_formatter(Box::new(|bar, _| bar.name.clone())),
                        );
                    }
                }
            });
        event_tooltip(&response, &self.data);
        if response.response.clicked()
            && let Some(pointer) = response.response.interact_pointer_pos()
        {
            let at = response.transform.value_from_position(pointer);
            let row = at.y.round();
            if (at.y - row).abs() <= 0.35 && row >= 0.0 {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                if let Some(m) = measures.get(row as usize) {
                    let end = m.end_day.unwrap_or(end_of_plot);
                    if at.x >= m.start_day && at.x <= end {
                        return Some((Kind::Measure, m.id));
                    }
                }
            }
            return event_near(&response.transform, pointer, &self.data);
        }
        None
    }

    /// Marks the data to be read again at the next frame (after an edit).
    pub fn invalidate(&mut self) {
        self.stale = true;
    }
}

/// Events (thin, by kind), report cycles (dashed) and today or the date viewed (dotted).
fn markers(
    plot: &mut egui_plot::PlotUi<'_>,
    data: &TimelineData,
    cycles: &[String],
    today: Option<f64>,
) {
    for cycle in cycles {
        if let Some(day) = day_number(cycle) {
            plot.vline(
                VLine::new("", day)
                    .color(Color32::from_rgb(0x6a, 0x3d, 0x9a))
                    .style(LineStyle::dashed_loose())
                    .width(1.5),
            );
        }
    }
    for e in &data.events {
        if e.event_kind == "report-cycle" {
            continue; // drawn as a cycle
        }
        plot.vline(
            VLine::new("", e.day)
                .color(Color32::from_rgb(0xb0, 0x6a, 0x00))
                .width(1.0),
        );
    }
    if let Some(day) = today {
        plot.vline(
            VLine::new("", day)
                .color(Color32::from_gray(120))
                .style(LineStyle::dotted_dense())
                .width(1.0),
        );
    }
}

/// Grid lines on calendar boundaries: years, and months when a few years or less are shown,
/// days when a few months or less.
#[allow(clippy::needless_pass_by_value)] // the signature egui_plot asks for
fn calendar_grid(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    let (lo, hi) = input.bounds;
    let (Some(first), Some(last)) = (
        date_of_day(lo).get(..4).and_then(|y| y.parse::<i32>().ok()),
        date_of_day(hi).get(..4).and_then(|y| y.parse::<i32>().ok()),
    ) else {
        return Vec::new();
    };
    let span = hi - lo;
    let mut marks = Vec::new();
    for year in first..=last + 1 {
        for month in 1..=12 {
            let Some(day) = day_number(&format!("{year:04}-{month:02}-01")) else {
                continue;
            };
            if day < lo || day > hi {
                continue;
            }
            if month == 1 {
                marks.push(egui_plot::GridMark {
                    value: day,
                    step_size: 365.0,
                });
            } else if span < 6.0 * 365.0 {
                marks.push(egui_plot::GridMark {
                    value: day,
                    step_size: 30.0,
                });
            }
        }
    }
    if span < 120.0 {
        let mut day = lo.ceil();
        while day <= hi {
            if !date_of_day(day).ends_with("-01") {
                marks.push(egui_plot::GridMark {
                    value: day,
                    step_size: 1.0,
                });
            }
            day += 1.0;
        }
    }
    marks
}

/// A date label for the axis, as precise as the grid step.
fn axis_date(day: f64, step: f64) -> String {
    let date = date_of_day(day);
    if step >= 300.0 {
        date.chars().take(4).collect()
    } else if step >= 28.0 {
        date.chars().take(7).collect()
    } else {
        date
    }
}

/// Hover text: the nearest point's details, or the date under the cursor.
fn hover_text(
    hover: &egui_plot::HoverPosition<'_>,
    series: &[&timeline::Series],
) -> Option<String> {
    match hover {
        egui_plot::HoverPosition::NearDataPoint {
            plot_name, index, ..
        } => series
            .iter()
            .find(|s| s.name == *plot_name)
            .and_then(|s| s.points.get(*index))
            .map(|p| p.detail.clone()),
        egui_plot::HoverPosition::Elsewhere { position } => Some(date_of_day(position.x)),
    }
}

/// The record of the point or event marker nearest to a click (within 10 pixels).
fn nearest(
    transform: &egui_plot::PlotTransform,
    pointer: egui::Pos2,
    series: &[&timeline::Series],
    data: &TimelineData,
) -> Option<(Kind, Uuid)> {
    let mut best: Option<(f32, (Kind, Uuid))> = None;
    for s in series {
        for p in &s.points {
            let at = transform.position_from_point(&egui_plot::PlotPoint::new(p.day, p.value));
            let d = at.distance(pointer);
            if d <= 10.0 && best.is_none_or(|(b, _)| d < b) {
                best = Some((d, p.record));
            }
        }
    }
    best.map(|(_, r)| r)
        .or_else(|| event_near(transform, pointer, data))
}

/// Hovering an event marker shows what happened.
fn event_tooltip<R>(response: &egui_plot::PlotResponse<R>, data: &TimelineData) {
    let Some(pointer) = response.response.hover_pos() else {
        return;
    };
    if let Some((_, id)) = event_near(&response.transform, pointer, data)
        && let Some(e) = data.events.iter().find(|e| e.id == id)
    {
        response.response.clone().on_hover_text_at_pointer(format!(
            "{} ({}, {})\nClick to open",
            e.title, e.date, e.event_kind
        ));
    }
}

/// The event whose marker is within 4 pixels of a click.
fn event_near(
    transform: &egui_plot::PlotTransform,
    pointer: egui::Pos2,
    data: &TimelineData,
) -> Option<(Kind, Uuid)> {
    data.events
        .iter()
        .map(|e| {
            let x = transform
                .position_from_point(&egui_plot::PlotPoint::new(e.day, 0.0))
                .x;
            ((x - pointer.x).abs(), (e.record_kind, e.id))
        })
        .filter(|(d, _)| *d <= 4.0)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, target)| target)
}

impl super::app::Unlocked {
    /// Shows a technology or item on the timeline (from a register or the graph).
    pub(super) fn show_on_timeline(&mut self, id: Uuid) {
        self.timeline.show_subject(&self.session, id);
        self.view = View::Timeline;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::timeline::{Marker, Point, Series};

    #[test]
    fn a_click_opens_the_nearest_point_or_event() {
        let assessment = Uuid::from_u128(1);
        let event = Uuid::from_u128(2);
        let series = Series {
            subject: Uuid::from_u128(3),
            name: "Alpha".into(),
            metric: Metric::Trl,
            points: vec![Point {
                date: "2024-12-31".into(),
                day: 20_088.0,
                value: 5.0,
                record: (Kind::Assessment, assessment),
                detail: String::new(),
            }],
        };
        let data = TimelineData {
            events: vec![Marker {
                record_kind: Kind::Event,
                id: event,
                date: "2023-08-01".into(),
                day: 19_570.0,
                title: "Export licensing".into(),
                event_kind: "security".into(),
            }],
            ..TimelineData::default()
        };
        // 1,000 days across 1,000 pixels, TRL 0-10 across 100 pixels.
        let transform = egui_plot::PlotTransform::new(
            egui::Rect::from_min_size(egui::pos2(0.0, 0.0), egui::vec2(1000.0, 100.0)),
            egui_plot::PlotBounds::from_min_max([19_500.0, 0.0], [20_500.0, 10.0]),
            [false, false],
        );
        let at = transform.position_from_point(&egui_plot::PlotPoint::new(20_088.0, 5.0));
        let series = [&series];
        assert_eq!(
            nearest(&transform, at + egui::vec2(6.0, -3.0), &series, &data),
            Some((Kind::Assessment, assessment))
        );
        assert_eq!(
            nearest(&transform, at + egui::vec2(30.0, 0.0), &series, &data),
            None
        );
        let marker = transform.position_from_point_x(19_570.0);
        assert_eq!(
            nearest(&transform, egui::pos2(marker + 3.0, 80.0), &series, &data),
            Some((Kind::Event, event))
        );
    }

    #[test]
    fn axis_dates_follow_the_zoom() {
        let day = day_number("2024-05-17").unwrap_or_default();
        assert_eq!(axis_date(day, 365.0), "2024");
        assert_eq!(axis_date(day, 30.0), "2024-05");
        assert_eq!(axis_date(day, 1.0), "2024-05-17");
        let marks = calendar_grid(egui_plot::GridInput {
            bounds: (
                day_number("2023-06-01").unwrap_or_default(),
                day_number("2025-06-01").unwrap_or_default(),
            ),
            base_step_size: 1.0,
        });
        let years: Vec<String> = marks
            .iter()
            .filter(|m| m.step_size >= 365.0)
            .map(|m| date_of_day(m.value))
            .collect();
        assert_eq!(years, ["2024-01-01", "2025-01-01"]);
        assert_eq!(
            marks
                .iter()
                .filter(|m| (m.step_size - 30.0).abs() < 1.0)
                .count(),
            23
        );
    }
}

//! The record editor: works on a draft, checks every field next to it, emits `Apply`.
//!
//! Generic over the field tables of [`crate::model::kind`], so every record kind has an
//! editor with the same rules as the command line.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::app::Command;
use super::theme;
use crate::model::kind::FieldType;
use crate::model::record::{normalise_releasability, parse_text};
use crate::model::{Classification, FieldError, Kind, Record};
use crate::service::{RecordInput, ServiceError, Session};

/// An open editor.
pub struct Editor {
    kind: Kind,
    id: Option<Uuid>,
    label: String,
    classification: Classification,
    releasable_to: String,
    drafts: BTreeMap<&'static str, String>,
    errors: BTreeMap<String, String>,
    general_error: Option<String>,
    attachment_bytes: Option<usize>,
    /// For each reference field: the records (or countries) it may point to, as (id, label).
    candidates: BTreeMap<&'static str, Vec<(String, String)>>,
    /// Filter typed in a picker.
    pick_filter: String,
    /// Live records that refer to this one, as (kind, id, description).
    related: Vec<(Kind, Uuid, String)>,
    /// The register is shown as of a past date: the record can be read, not changed.
    read_only: Option<String>,
    /// Other live records of the kind, for "Merge a duplicate into this record": (id,
    /// portion-marked label, level).
    merge_candidates: Vec<(Uuid, String, Classification)>,
    /// The merge section is open: its list is on screen (and its levels in the banner).
    merge_open: bool,
    /// The highest level of what the figures by source are drawn from.
    figures_level: Classification,
    /// The record picked to merge in, and whether the merge is being confirmed.
    merge_pick: Option<Uuid>,
    merge_confirm: bool,
    /// An item's supply figures by source, side by side: (source, year, HHI, top country
    /// and share, used by the analysis).
    figures: Vec<(String, String, String, String, bool)>,
    /// A technology's roadmaps (id, title), or a roadmap's plan: the Gantt bars (label, start
    /// day, end day, milestone) of its milestones and measures, and their highest level.
    roadmaps: Vec<(Uuid, String)>,
    gantt: Vec<(String, f64, f64, bool)>,
    roadmap_level: Classification,
}

/// A roadmap's milestones and measures as Gantt bars, and the highest level among them.
fn roadmap_plan(
    session: &Session,
    record: &Record,
) -> (Vec<(String, f64, f64, bool)>, Classification) {
    use crate::service::timeline::day_number;
    let mut bars = Vec::new();
    let mut level = Classification::Unclassified;
    for line in record.texts("milestones") {
        if let Some((date, what)) = crate::report::roadmap::parse_milestone(&line)
            && let Some(d) = day_number(&date)
        {
            bars.push((format!("{date} {what}"), d, d, true));
        }
    }
    for id in record.texts("measure_ids") {
        let Ok(id) = Uuid::parse_str(&id) else {
            continue;
        };
        let Ok(m) = session.get(Kind::Measure, id) else {
            continue;
        };
        level = level.max(m.meta.classification);
        if let (Some(s), Some(e)) = (
            m.text("start").and_then(day_number),
            m.text("end").and_then(day_number),
        ) {
            bars.push((m.label(), s, e, false));
        }
    }
    (bars, level)
}

/// A small Gantt chart: one row per bar, milestones as diamonds, a year scale on top.
fn gantt_ui(ui: &mut egui::Ui, bars: &[(String, f64, f64, bool)]) {
    let (Some(lo), Some(hi)) = (
        bars.iter().map(|b| b.1).reduce(f64::min),
        bars.iter().map(|b| b.2).reduce(f64::max),
    ) else {
        return;
    };
    let (lo, hi) = (lo - 60.0, hi.max(lo + 365.0) + 60.0);
    let label_width = 220.0;
    let row = 18.0;
    #[allow(clippy::cast_precision_loss)]
    let height = row * (bars.len() as f32 + 1.0);
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width().max(400.0), height),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    let left = rect.left() + label_width;
    let width = (rect.width() - label_width).max(50.0);
    #[allow(clippy::cast_possible_truncation)]
    let x = |day: f64| left + ((day - lo) / (hi - lo)) as f32 * width;
    let text = ui.visuals().text_color();
    // Year lines.
    #[allow(clippy::cast_possible_truncation)] // days since 1970 of dates that were parsed
    let (first_year, last_year) = (
        1970 + (lo / 365.25).floor() as i64,
        1970 + (hi / 365.25).ceil() as i64,
    );
    // A label every `step` years, at least 40 points apart.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let step = (((last_year - first_year).max(1) as f32 * 40.0 / width).ceil() as usize).max(1);
    for year in (first_year..=last_year).step_by(step) {
        if let Some(d) = crate::service::timeline::day_number(&format!("{year}-01-01"))
            && d >= lo
            && d <= hi
        {
            painter.line_segment(
                [
                    egui::pos2(x(d), rect.top()),
                    egui::pos2(x(d), rect.bottom()),
                ],
                egui::Stroke::new(0.5, egui::Color32::GRAY),
            );
            painter.text(
                egui::pos2(x(d) + 2.0, rect.top()),
                egui::Align2::LEFT_TOP,
                year.to_string(),
                egui::FontId::proportional(11.0),
                text,
            );
        }
    }
    for (i, (label, start, end, milestone)) in bars.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let y = rect.top() + row * (i as f32 + 1.0) + row / 2.0;
        let short: String = label.chars().take(34).collect();
        painter.text(
            egui::pos2(rect.left(), y),
            egui::Align2::LEFT_CENTER,
            short,
            egui::FontId::proportional(12.0),
            text,
        );
        if *milestone {
            let c = egui::pos2(x(*start), y);
            let r = 5.0;
            painter.add(egui::Shape::convex_polygon(
                vec![
                    egui::pos2(c.x, c.y - r),
                    egui::pos2(c.x + r, c.y),
                    egui::pos2(c.x, c.y + r),
                    egui::pos2(c.x - r, c.y),
                ],
                egui::Color32::from_rgb(192, 57, 43),
                egui::Stroke::NONE,
            ));
        } else {
            let bar = egui::Rect::from_min_max(
                egui::pos2(x(*start), y - 5.0),
                egui::pos2(x(*end).max(x(*start) + 2.0), y + 5.0),
            );
            painter.rect_filled(bar, 2.0, egui::Color32::from_rgb(230, 160, 30));
        }
    }
}

/// The highest level of an item's supply links, what they point to and the sources they
/// cite: what the figures by source are drawn from.
fn figures_level(session: &Session, id: Uuid) -> Classification {
    let id = id.to_string();
    let links = session.list(Kind::Link).unwrap_or_default();
    let mut level = Classification::Unclassified;
    for l in links
        .iter()
        .filter(|l| l.text("from_id") == Some(id.as_str()))
    {
        level = level.max(l.meta.classification);
        let cited = l.texts("source_ids");
        for other in l.text("to_id").into_iter().map(str::to_owned).chain(cited) {
            if let Ok(u) = Uuid::parse_str(&other) {
                for kind in [Kind::Organisation, Kind::Source] {
                    if let Ok(r) = session.get(kind, u) {
                        level = level.max(r.meta.classification);
                    }
                }
            }
        }
    }
    level
}

/// An item's supply figures, one row per source (see [`crate::analysis`]).
fn item_figures(session: &Session, id: Uuid) -> Vec<(String, String, String, String, bool)> {
    let Ok(records) = session.supply_records_at(None) else {
        return Vec::new();
    };
    let Some(item) = records
        .graph()
        .item_metrics()
        .into_iter()
        .find(|c| c.id == id)
    else {
        return Vec::new();
    };
    item.sources
        .iter()
        .map(|s| {
            let source = if s.source.is_empty() {
                "recorded by hand".to_owned()
            } else {
                session.describe(&s.source)
            };
            (
                source,
                s.year.map_or_else(|| "–".into(), |y| y.to_string()),
                format!("{:.0}", s.hhi),
                if s.top_country.is_empty() {
                    "–".into()
                } else {
                    format!("{} {:.1} %", s.top_country, s.top_share * 100.0)
                },
                s.chosen,
            )
        })
        .collect()
}

/// `dual_use` -> "Dual use".
pub(super) fn field_title(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let spaced = spaced
        .strip_suffix(" ids")
        .map_or(spaced.clone(), |s| format!("{s}s"));
    let spaced = spaced
        .strip_suffix(" id")
        .map_or(spaced.clone(), str::to_owned);
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

fn draft_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        other => other.to_string(),
    }
}

/// A "Pick" menu listing `candidates` (filtered by what is typed); a choice replaces the
/// draft, or is added to it for a list.
fn picker_ui(
    ui: &mut egui::Ui,
    field: &str,
    draft: &mut String,
    list: bool,
    candidates: &[(String, String)],
    filter: &mut String,
) {
    const SHOWN: usize = 50;
    ui.menu_button(
        format!("Pick {}…", field_title(field).to_lowercase()),
        |ui| {
            let l = ui.label("Filter");
            ui.add(egui::TextEdit::singleline(filter).desired_width(320.0))
                .labelled_by(l.id);
            let needle = filter.to_lowercase();
            let matching: Vec<&(String, String)> = candidates
                .iter()
                .filter(|(_, text)| text.to_lowercase().contains(&needle))
                .collect();
            egui::ScrollArea::vertical()
                .max_height(300.0)
                .show(ui, |ui| {
                    for (id, text) in matching.iter().take(SHOWN) {
                        if ui.button(text.as_str()).clicked() {
                            if list && !draft.trim().is_empty() {
                                if !draft.split(',').any(|d| d.trim() == id) {
                                    draft.push_str(", ");
                                    draft.push_str(id);
                                }
                            } else {
                                draft.clone_from(id);
                            }
                            filter.clear();
                            ui.close();
                        }
                    }
                });
            if matching.len() > SHOWN {
                ui.label(format!("{} more: type to narrow", matching.len() - SHOWN));
            }
        },
    );
}

/// A drop-down of `options` plus "—" (no value), editing the draft text.
fn choice_ui(ui: &mut egui::Ui, id: &str, draft: &mut String, options: &[&str], label: egui::Id) {
    let shown = if draft.is_empty() {
        "—".to_owned()
    } else {
        draft.clone()
    };
    egui::ComboBox::from_id_salt(id)
        .selected_text(shown)
        .show_ui(ui, |ui| {
            ui.selectable_value(draft, String::new(), "—");
            for option in options {
                ui.selectable_value(draft, (*option).to_owned(), *option);
            }
        })
        .response
        .labelled_by(label);
}

/// The records each reference field of `kind` may point to (read once, when the editor opens).
fn candidates(kind: Kind, session: &Session) -> BTreeMap<&'static str, Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    for field in kind.fields() {
        let kinds: &[Kind] = match field.ty {
            FieldType::Ref(kinds) | FieldType::RefList(kinds) => kinds,
            FieldType::Node => &[Kind::Technology, Kind::Item, Kind::Organisation],
            _ => continue,
        };
        let mut list: Vec<(String, String)> = kinds
            .iter()
            .flat_map(|k| session.list(*k).unwrap_or_default())
            .map(|r| {
                let id = r.meta.id.to_string();
                let label = format!("{}: {}", r.kind, session.describe(&id));
                (id, label)
            })
            .collect();
        if field.ty == FieldType::Node {
            list.extend(
                crate::model::country::all()
                    .map(|c| (c.code.clone(), format!("country: {} ({})", c.name, c.code))),
            );
        }
        out.insert(field.name, list);
    }
    out
}

impl Editor {
    /// An editor on `record`, or on a new record of `kind`.
    pub(super) fn new(kind: Kind, record: Option<&Record>, session: &Session) -> Self {
        let mut drafts = BTreeMap::new();
        for field in kind.fields() {
            let text = record
                .and_then(|r| r.fields.get(field.name))
                .map(draft_text)
                .unwrap_or_default();
            drafts.insert(field.name, text);
        }
        Editor {
            kind,
            id: record.map(|r| r.meta.id),
            label: record.map(Record::label).unwrap_or_default(),
            classification: record.map_or(Classification::Unclassified, |r| r.meta.classification),
            releasable_to: record
                .map(|r| r.meta.releasable_to.join(", "))
                .unwrap_or_default(),
            drafts,
            errors: BTreeMap::new(),
            general_error: None,
            attachment_bytes: record
                .and_then(|r| r.fields.get("attachment"))
                .and_then(|v| v.as_str())
                .map(|s| s.len() * 3 / 4),
            candidates: candidates(kind, session),
            read_only: session.viewing().map(|v| v.date.clone()),
            pick_filter: String::new(),
            related: record
                .and_then(|r| session.referring_to(r.meta.id).ok())
                .unwrap_or_default()
                .into_iter()
                .map(|r| (r.kind, r.meta.id, session.describe(&r.meta.id.to_string())))
                .collect(),
            merge_candidates: record
                .map(|r| {
                    session
                        .list(kind)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|o| o.meta.id != r.meta.id && !o.meta.reference)
                        .map(|o| {
                            (
                                o.meta.id,
                                format!(
                                    "{} {}",
                                    crate::report::portion(o.meta.classification),
                                    o.label()
                                ),
                                o.meta.classification,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            merge_pick: None,
            merge_confirm: false,
            merge_open: false,
            figures_level: record
                .filter(|_| kind == Kind::Item)
                .map_or(Classification::Unclassified, |r| {
                    figures_level(session, r.meta.id)
                }),
            figures: record
                .filter(|_| kind == Kind::Item)
                .map(|r| item_figures(session, r.meta.id))
                .unwrap_or_default(),
            roadmaps: Vec::new(),
            gantt: Vec::new(),
            roadmap_level: Classification::Unclassified,
        }
        .with_plan(kind, record, session)
    }

    fn with_plan(mut self, kind: Kind, record: Option<&Record>, session: &Session) -> Self {
        if kind == Kind::Roadmap
            && let Some(r) = record
        {
            (self.gantt, self.roadmap_level) = roadmap_plan(session, r);
        }
        if kind == Kind::Technology
            && let Some(r) = record
        {
            // Its roadmaps, listed and on screen: their level too.
            let id = r.meta.id.to_string();
            for m in session.list(Kind::Roadmap).unwrap_or_default() {
                if m.text("technology_id") == Some(id.as_str()) {
                    self.roadmap_level = self.roadmap_level.max(m.meta.classification);
                    self.roadmaps.push((m.meta.id, m.label()));
                }
            }
        }
        self
    }

    /// Prefills a new record's fields (a roadmap for a technology).
    pub(super) fn prefill(&mut self, values: &[(&'static str, String)]) {
        for (name, value) in values {
            self.drafts.insert(name, value.clone());
        }
    }

    /// The classification of the draft (what the banner must show while it is open).
    pub(super) fn level(&self) -> Classification {
        let mut level = self.classification;
        if !self.figures.is_empty() {
            level = level.max(self.figures_level);
        }
        if self.merge_open {
            level = self.merge_candidates.iter().fold(level, |l, c| l.max(c.2));
        }
        level.max(self.roadmap_level)
    }

    /// Shows an error from the service next to its field, or above the form.
    pub(super) fn show_error(&mut self, error: &ServiceError) {
        match error {
            ServiceError::Field {
                source: FieldError::Invalid { field, reason },
                ..
            } => {
                self.errors.insert((*field).to_owned(), reason.clone());
            }
            ServiceError::Field {
                source: FieldError::Missing { field },
                ..
            } => {
                self.errors
                    .insert((*field).to_owned(), "required".to_owned());
            }
            other => self.general_error = Some(other.to_string()),
        }
    }

    /// Checks every field; fills `errors`; returns the input if all are valid.
    pub(super) fn validate(&mut self) -> Option<RecordInput> {
        self.errors.clear();
        self.general_error = None;
        let mut input = RecordInput {
            classification: Some(self.classification),
            ..RecordInput::default()
        };
        let codes: Vec<String> = self
            .releasable_to
            .split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        match normalise_releasability(&codes) {
            Ok(codes) => input.releasable_to = Some(codes),
            Err(e) => {
                self.errors.insert("releasable_to".into(), e.to_string());
            }
        }
        for field in self.kind.fields() {
            if field.ty == FieldType::Bytes {
                continue;
            }
            let text = self.drafts.get(field.name).cloned().unwrap_or_default();
            match parse_text(field, &text) {
                Ok(Some(value)) => {
                    input.fields.insert(field.name.to_owned(), value);
                }
                Ok(None) if field.required => {
                    self.errors
                        .insert(field.name.to_owned(), "required".to_owned());
                }
                Ok(None) => {
                    if self.id.is_some() {
                        input
                            .fields
                            .insert(field.name.to_owned(), serde_json::Value::Null);
                    }
                }
                Err(FieldError::Invalid { reason, .. }) => {
                    self.errors.insert(field.name.to_owned(), reason);
                }
                Err(e) => {
                    self.errors.insert(field.name.to_owned(), e.to_string());
                }
            }
        }
        self.errors.is_empty().then_some(input)
    }

    /// The editor window.
    pub(super) fn window(
        &mut self,
        ctx: &egui::Context,
        commands: &mut Vec<Command>,
        close: &mut bool,
        confirm_delete: &mut Option<(Kind, Uuid, String)>,
    ) {
        let title = match (&self.read_only, self.id) {
            (Some(date), _) => format!("{} as of {date}", self.kind),
            (None, Some(_)) => format!("Edit {}", self.kind),
            (None, None) => format!("New {}", self.kind),
        };
        egui::Window::new(title)
            .collapsible(false)
            .default_width(560.0)
            .show(ctx, |ui| {
                // The fields scroll, shorter on a small screen, so that the sections below and
                // the buttons stay in sight.
                egui::ScrollArea::vertical()
                    .max_height((ctx.content_rect().height() - 330.0).clamp(200.0, 520.0))
                    .show(ui, |ui| {
                        egui::Grid::new("editor")
                            .num_columns(2)
                            .spacing([12.0, 6.0])
                            .show(ui, |ui| {
                                let l = ui.label("Classification");
                                egui::ComboBox::from_id_salt("classification")
                                    .selected_text(self.classification.marking())
                                    .show_ui(ui, |ui| {
                                        for level in Classification::ALL {
                                            ui.selectable_value(
                                                &mut self.classification,
                                                level,
                                                level.marking(),
                                            );
                                        }
                                    })
                                    .response
                                    .labelled_by(l.id);
                                ui.end_row();
                                let l = ui.label("Releasable to");
                                ui.vertical(|ui| {
                                    ui.add(
                                        egui::TextEdit::singleline(&mut self.releasable_to)
                                            .hint_text("whole group; or FR, DE, …"),
                                    )
                                    .labelled_by(l.id);
                                    self.error_ui(ui, "releasable_to");
                                });
                                ui.end_row();
                                for field in self.kind.fields() {
                                    self.field_ui(ui, field);
                                    ui.end_row();
                                }
                            });
                    });
                if !self.related.is_empty() {
                    egui::CollapsingHeader::new(format!(
                        "Related records ({})",
                        self.related.len()
                    ))
                    .default_open(true)
                    .show(ui, |ui| {
                        egui::ScrollArea::vertical()
                            .id_salt("related")
                            .max_height(140.0)
                            .show(ui, |ui| {
                                for (kind, id, text) in &self.related {
                                    if ui.link(format!("{kind}: {text}")).clicked() {
                                        commands.push(Command::Edit(*kind, Some(*id)));
                                    }
                                }
                            });
                    });
                }
                if !self.figures.is_empty() {
                    egui::CollapsingHeader::new(format!(
                        "Supply figures by source ({})",
                        self.figures.len()
                    ))
                    .default_open(self.figures.len() > 1)
                    .show(ui, |ui| {
                        egui::Grid::new("figures").striped(true).show(ui, |ui| {
                            for head in ["Source", "Year", "HHI", "Top country", ""] {
                                ui.strong(head);
                            }
                            ui.end_row();
                            for (source, year, hhi, top, used) in &self.figures {
                                ui.label(source);
                                ui.label(year);
                                ui.label(hhi);
                                ui.label(top);
                                ui.label(if *used { "used" } else { "" });
                                ui.end_row();
                            }
                        });
                    });
                }
                if self.kind == Kind::Technology
                    && let Some(id) = self.id
                {
                    egui::CollapsingHeader::new(format!("Roadmaps ({})", self.roadmaps.len()))
                        .default_open(true)
                        .show(ui, |ui| {
                            for (rid, title) in &self.roadmaps {
                                if ui.link(title).clicked() {
                                    commands.push(Command::Edit(Kind::Roadmap, Some(*rid)));
                                }
                            }
                            if ui
                                .add_enabled(
                                    self.read_only.is_none(),
                                    egui::Button::new("New roadmap for this technology"),
                                )
                                .clicked()
                            {
                                commands.push(Command::NewWith(
                                    Kind::Roadmap,
                                    vec![
                                        ("technology_id", id.to_string()),
                                        ("title", format!("Roadmap: {}", self.label)),
                                        ("bloc", "EU".to_owned()),
                                    ],
                                ));
                            }
                        });
                }
                if self.kind == Kind::Roadmap && !self.gantt.is_empty() {
                    egui::CollapsingHeader::new("Plan: milestones and measures")
                        .default_open(true)
                        .show(ui, |ui| gantt_ui(ui, &self.gantt));
                }
                if let Some(id) = self.id
                    && self.read_only.is_none()
                    && !self.merge_candidates.is_empty()
                {
                    self.merge_ui(ui, id, commands);
                }
                if let Some(error) = &self.general_error {
                    ui.colored_label(theme::ERROR, error);
                }
                ui.separator();
                if let Some(date) = &self.read_only {
                    ui.label(format!(
                        "As it stood on {date}: read-only. Return to today to change it."
                    ));
                }
                let writable = self.read_only.is_none();
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(writable, egui::Button::new("Apply"))
                        .clicked()
                        && let Some(input) = self.validate()
                    {
                        commands.push(Command::Apply {
                            kind: self.kind,
                            id: self.id,
                            input,
                        });
                    }
                    if ui.button("Cancel").clicked() {
                        *close = true;
                    }
                    if let Some(id) = self.id
                        && ui
                            .add_enabled(writable, egui::Button::new("Delete…"))
                            .clicked()
                    {
                        *confirm_delete = Some((self.kind, id, self.label.clone()));
                    }
                });
            });
    }

    /// "Merge a duplicate into this record": pick one, confirm, merge.
    fn merge_ui(&mut self, ui: &mut egui::Ui, keep: Uuid, commands: &mut Vec<Command>) {
        let shown = egui::CollapsingHeader::new("Merge a duplicate into this record")
            .default_open(false)
            .show(ui, |ui| {
                let picked = self
                    .merge_pick
                    .and_then(|id| self.merge_candidates.iter().find(|(c, _, _)| *c == id))
                    .map_or_else(|| "choose a record…".to_owned(), |(_, l, _)| l.clone());
                let l = ui.label("Duplicate");
                egui::ComboBox::from_id_salt("merge-pick")
                    .selected_text(picked)
                    .width(360.0)
                    .show_ui(ui, |ui| {
                        for (id, label, _) in &self.merge_candidates {
                            if ui
                                .selectable_label(self.merge_pick == Some(*id), label)
                                .clicked()
                            {
                                self.merge_pick = Some(*id);
                                self.merge_confirm = false;
                            }
                        }
                    })
                    .response
                    .labelled_by(l.id);
                let Some(other) = self.merge_pick else { return };
                if self.merge_confirm {
                    ui.label(
                        "Everything that refers to the duplicate will refer to this record; this \
                         record takes its missing values, its name as an alias, the higher level and \
                         the narrower releasability; the duplicate is deleted. The merge is \
                         audited and reaches the other members with the next bundle.",
                    );
                    ui.horizontal(|ui| {
                        if ui.button("Confirm merge").clicked() {
                            commands.push(Command::Merge {
                                kind: self.kind,
                                keep,
                                other,
                            });
                        }
                        if ui.button("Keep both").clicked() {
                            self.merge_confirm = false;
                        }
                    });
                } else if ui.button("Merge into this record…").clicked() {
                    self.merge_confirm = true;
                }
            });
        self.merge_open = shown.body_returned.is_some();
    }

    fn error_ui(&self, ui: &mut egui::Ui, name: &str) {
        if let Some(error) = self.errors.get(name) {
            ui.colored_label(theme::ERROR, error);
        }
    }

    fn field_ui(&mut self, ui: &mut egui::Ui, field: &crate::model::Field) {
        let title = if field.required {
            format!("{} *", field_title(field.name))
        } else {
            field_title(field.name)
        };
        let label = ui.label(&title).on_hover_text(field.help);
        let name = field.name;
        let Some(draft) = self.drafts.get_mut(name) else {
            return;
        };
        ui.vertical(|ui| {
            match field.ty {
                FieldType::Enum(codes) => choice_ui(ui, name, draft, codes, label.id),
                FieldType::EnumList(codes) => {
                    let mut chosen: Vec<String> = draft
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect();
                    ui.horizontal_wrapped(|ui| {
                        for code in codes {
                            let mut on = chosen.iter().any(|c| c == code);
                            if ui.checkbox(&mut on, *code).changed() {
                                if on {
                                    chosen.push((*code).to_owned());
                                } else {
                                    chosen.retain(|c| c != code);
                                }
                            }
                        }
                    });
                    *draft = chosen.join(", ");
                }
                FieldType::Bool => choice_ui(ui, name, draft, &["yes", "no"], label.id),
                FieldType::LongText => {
                    ui.add(
                        egui::TextEdit::multiline(draft)
                            .desired_rows(3)
                            .desired_width(380.0),
                    )
                    .labelled_by(label.id);
                }
                FieldType::Bytes => {
                    ui.label(match self.attachment_bytes {
                        Some(n) => format!("{n} bytes attached"),
                        None => "none (attach with the command line)".to_owned(),
                    });
                }
                FieldType::Ref(_) | FieldType::RefList(_) | FieldType::Node => {
                    let candidates = self.candidates.get(name).map_or(&[][..], Vec::as_slice);
                    ui.horizontal(|ui| {
                        ui.add(
                            egui::TextEdit::singleline(draft)
                                .desired_width(300.0)
                                .hint_text("record id"),
                        )
                        .labelled_by(label.id);
                        picker_ui(
                            ui,
                            name,
                            draft,
                            field.ty.is_list(),
                            candidates,
                            &mut self.pick_filter,
                        );
                    });
                    // What the ids refer to.
                    for id in draft.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        match candidates.iter().find(|(c, _)| c.eq_ignore_ascii_case(id)) {
                            Some((_, text)) => ui.small(format!("-> {text}")),
                            None => ui.small("-> not found"),
                        };
                    }
                }
                _ => {
                    ui.add(egui::TextEdit::singleline(draft).desired_width(380.0))
                        .labelled_by(label.id);
                }
            }
            if let Some(error) = self.errors.get(name) {
                ui.colored_label(theme::ERROR, error);
            }
        });
    }
}

//! The register over time: the "as of" bar above every view (a date field and a slider over
//! the days the register has history for; while a past date is shown an amber strip says
//! "Viewing `<date>`" and nothing can be changed), "Compare with" a second date (what changed
//! between the two, as `observatory changes` reports it), and the Editions window (freeze the
//! register as an immutable edition, list them, compare two).

use serde_json::Value;

use super::app::{Command, Unlocked};
use super::theme;
use crate::model::Classification;
use crate::service::compare;
use crate::service::timeline::{date_of_day, day_number};

/// Amber of the "viewing the past" strip.
const PAST: egui::Color32 = egui::Color32::from_rgb(0xb8, 0x6e, 0x00);

/// State of the bar and its windows.
#[derive(Default)]
pub struct History {
    /// The date typed or chosen (`YYYY-MM-DD`).
    pub date: String,
    /// The slider's day (days since 1970-01-01).
    day: f64,
    /// The first day the register has history for, and today.
    range: Option<(f64, f64)>,
    /// The data year typed (empty: the latest figures).
    pub data_year: String,
    /// The second date of "Compare with".
    pub compare_with: String,
    /// The last comparison: title, report, highest level.
    pub comparison: Option<(String, Value, Classification)>,
    /// The Editions window, when open.
    pub editions: Option<EditionsWindow>,
}

/// The Editions window.
#[derive(Default)]
pub struct EditionsWindow {
    /// Title of a new edition.
    pub title: String,
    /// Its date (empty: now, or the date being viewed).
    pub as_of: String,
    /// The two editions chosen for comparison (ids).
    pub a: Option<String>,
    /// See `a`.
    pub b: Option<String>,
    /// The last comparison of two editions, and its level.
    pub diff: Option<(Value, Classification)>,
    /// An error or confirmation.
    pub note: Option<String>,
    /// The editions, read when the window opens and after a freeze (not every frame: each
    /// holds a whole register).
    pub list: Option<Vec<crate::store::EditionInfo>>,
}

impl History {
    /// After an edit: the slider's range is read again, an open comparison is stale.
    pub fn invalidate(&mut self) {
        self.range = None;
        self.comparison = None;
    }

    /// Reads the range of the slider: the first day of the change log to today.
    pub fn refresh(&mut self, session: &crate::service::Session) {
        let first = session
            .store()
            .connection()
            .query_row("SELECT min(hlc) FROM change_log", [], |r| {
                r.get::<_, Option<String>>(0)
            })
            .ok()
            .flatten()
            .and_then(|h| h.parse::<crate::model::Hlc>().ok())
            .map(crate::model::Hlc::to_utc_minutes)
            .and_then(|d| day_number(&d));
        let today = day_number(&crate::store::now_rfc3339());
        // Dated judgements may be older than the file: let the slider reach them.
        let oldest_dated = session
            .store()
            .connection()
            .query_row(
                "SELECT min(date) FROM assessment WHERE deleted = 0",
                [],
                |r| r.get::<_, Option<String>>(0),
            )
            .ok()
            .flatten()
            .and_then(|d| day_number(&d))
            .unwrap_or(f64::MAX);
        self.range = match (first, today) {
            (Some(f), Some(t)) => Some((f.min(oldest_dated).min(t), t)),
            (None, Some(t)) => Some((t - 365.0, t)),
            _ => None,
        };
        if let Some((_, t)) = self.range
            && self.date.is_empty()
        {
            self.day = t;
        }
    }
}

impl Unlocked {
    /// The bar above the views.
    pub(super) fn history_bar_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        if self.history.range.is_none() {
            self.history.refresh(&self.session);
        }
        let viewing = self.session.viewing().map(|v| v.date.clone());
        if let Some(date) = &viewing {
            egui::Frame::new()
                .fill(PAST)
                .inner_margin(egui::Margin::symmetric(8, 4))
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.label(
                            egui::RichText::new(format!("Viewing {date} —"))
                                .strong()
                                .color(egui::Color32::WHITE),
                        );
                        ui.label(
                            egui::RichText::new(
                                "the register as it stood at the end of that day (UTC): read-only",
                            )
                            .color(egui::Color32::WHITE),
                        );
                        if ui.button("Back to today").clicked() {
                            commands.push(Command::ViewAsOf(None));
                        }
                    });
                });
        }
        let h = &mut self.history;
        ui.horizontal(|ui| {
            let l = ui.label("As of");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut h.date)
                        .desired_width(90.0)
                        .hint_text("YYYY-MM-DD"),
                )
                .labelled_by(l.id);
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if let Some((first, last)) = h.range {
                let slider = ui
                    .add(
                        egui::Slider::new(&mut h.day, first..=last)
                            .show_value(false)
                            .step_by(1.0),
                    )
                    .on_hover_text("Drag to a date; the register is shown as it stood then");
                if slider.changed() {
                    h.date = date_of_day(h.day);
                }
                if slider.drag_stopped() || (slider.changed() && !slider.dragged()) {
                    commands.push(Command::ViewAsOf(Some(h.date.clone())));
                }
            }
            if ui.button("View").clicked() || entered {
                if h.date.trim().is_empty() {
                    commands.push(Command::ViewAsOf(None));
                } else {
                    if let Some(d) = day_number(h.date.trim()) {
                        h.day = d;
                    }
                    commands.push(Command::ViewAsOf(Some(h.date.trim().to_owned())));
                }
            }
            if viewing.is_some() && ui.button("Today").clicked() {
                commands.push(Command::ViewAsOf(None));
            }
            ui.separator();
            let l = ui.label("Compare with");
            ui.add(
                egui::TextEdit::singleline(&mut h.compare_with)
                    .desired_width(90.0)
                    .hint_text("YYYY-MM-DD"),
            )
            .labelled_by(l.id);
            if ui
                .button("Compare")
                .on_hover_text("What changed between the date viewed (or today) and this date")
                .clicked()
            {
                commands.push(Command::Compare(h.compare_with.trim().to_owned()));
            }
            ui.separator();
            // Data year: which year's figures, beside "as of": what was recorded when.
            let l = ui.label("Data year");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut h.data_year)
                        .desired_width(48.0)
                        .hint_text("latest"),
                )
                .labelled_by(l.id)
                .on_hover_text(
                    "Compute the figures from this data year (each item's latest figures at or before it); \
                     \"As of\" is what the register recorded by a date",
                );
            if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                let text = h.data_year.trim().to_owned();
                if text.is_empty() {
                    commands.push(Command::DataYear(None));
                } else if let Ok(year) = text.parse::<i64>()
                    && (1900..=2200).contains(&year)
                {
                    commands.push(Command::DataYear(Some(year)));
                } else {
                    commands.push(Command::Notify(format!(
                        "{text:?} is not a year (1900-2200): leave it empty for the latest figures"
                    )));
                }
            }
            if self.session.data_year().is_some() && ui.button("Latest").clicked() {
                commands.push(Command::DataYear(None));
            }
            ui.separator();
            if ui
                .button("Editions…")
                .on_hover_text("Freeze the register as an edition; compare editions")
                .clicked()
            {
                h.editions = Some(EditionsWindow::default());
            }
        });
    }

    /// Runs "Compare with": the earlier of the two dates first.
    pub(super) fn compare(&mut self, other: &str) {
        let here = self.session.viewing().map_or_else(
            || crate::store::now_rfc3339().chars().take(10).collect(),
            |v| v.date.clone(),
        );
        let Some(_) = crate::store::end_of_day(other) else {
            self.message = Some(format!("{other:?} is not a date (YYYY-MM-DD)"));
            return;
        };
        let (from, to) = if other <= here.as_str() {
            (other.to_owned(), here)
        } else {
            (here, other.to_owned())
        };
        let (Some(a), Some(b)) = (
            crate::store::end_of_day(&from),
            crate::store::end_of_day(&to),
        ) else {
            return;
        };
        match compare::changes_between(&self.session, a, b) {
            Ok((report, level)) => {
                self.history.comparison =
                    Some((format!("Changes from {from} to {to}"), report, level));
            }
            Err(e) => self.message = Some(format!("Cannot compare: {e}")),
        }
    }

    /// The comparison and editions windows.
    pub(super) fn history_windows_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        if let Some((title, report, level)) = &self.history.comparison {
            let mut open = true;
            egui::Window::new(title.as_str())
                .id(egui::Id::unique("comparison"))
                .open(&mut open)
                .default_width(520.0)
                .default_height(480.0)
                .show(ctx, |ui| {
                    marking_line(ui, *level);
                    egui::ScrollArea::vertical().show(ui, |ui| changes_ui(ui, report));
                });
            if !open {
                self.history.comparison = None;
            }
        }
        self.editions_ui(ctx, commands);
    }

    fn editions_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some(w) = &mut self.history.editions else {
            return;
        };
        if w.list.is_none() {
            w.list = Some(self.session.store().editions().unwrap_or_default());
        }
        let editions = w.list.clone().unwrap_or_default();
        let viewing = self.session.viewing().map(|v| v.date.clone());
        let mut open = true;
        let mut compare = false;
        egui::Window::new("Editions")
            .open(&mut open)
            .default_width(560.0)
            .show(ctx, |ui| {
                ui.label("An edition is a frozen copy of the register at a date, for a report; it never changes.");
                egui::Grid::new("edition_new").num_columns(2).show(ui, |ui| {
                    let l = ui.label("Title");
                    ui.add(egui::TextEdit::singleline(&mut w.title).hint_text("Biennial report 2026"))
                        .labelled_by(l.id);
                    ui.end_row();
                    let l = ui.label("Edition date");
                    let hint = viewing.clone().unwrap_or_else(|| "today".into());
                    ui.add(egui::TextEdit::singleline(&mut w.as_of).hint_text(hint))
                        .labelled_by(l.id);
                    ui.end_row();
                });
                if ui.button("Freeze edition").clicked() {
                    commands.push(Command::FreezeEdition {
                        title: w.title.trim().to_owned(),
                        as_of: Some(w.as_of.trim().to_owned()).filter(|d| !d.is_empty()),
                    });
                }
                if let Some(note) = &w.note {
                    ui.label(note);
                }
                ui.separator();
                ui.strong(format!("{} edition(s)", editions.len()));
                egui::Grid::new("edition_list").striped(true).num_columns(5).show(ui, |ui| {
                    ui.label("");
                    ui.label("");
                    ui.label("As of");
                    ui.label("Classification");
                    ui.label("Edition");
                    ui.end_row();
                    for e in &editions {
                        if ui.radio(w.a.as_deref() == Some(e.id.as_str()), "from").on_hover_text("compare from this edition").clicked() {
                            w.a = Some(e.id.clone());
                        }
                        if ui.radio(w.b.as_deref() == Some(e.id.as_str()), "to").on_hover_text("to this edition").clicked() {
                            w.b = Some(e.id.clone());
                        }
                        ui.label(&e.as_of);
                        ui.colored_label(theme::banner_fill(e.classification), e.classification.marking());
                        ui.label(format!("{} ({} records)", e.title, e.records));
                        ui.end_row();
                    }
                });
                let ready = w.a.is_some() && w.b.is_some() && w.a != w.b;
                if ui.add_enabled(ready, egui::Button::new("Compare editions")).clicked() {
                    compare = true;
                }
                if let Some((report, level)) = &w.diff {
                    ui.separator();
                    marking_line(ui, *level);
                    egui::ScrollArea::vertical().max_height(300.0).show(ui, |ui| edition_diff_ui(ui, report));
                }
            });
        if compare && let (Some(a), Some(b)) = (w.a.clone(), w.b.clone()) {
            let store = self.session.store();
            let found = (|| {
                let ea = self.session.find_edition(&a)?;
                let eb = self.session.find_edition(&b)?;
                let ra = store.edition_records(&ea.id)?;
                let rb = store.edition_records(&eb.id)?;
                Ok::<_, crate::service::ServiceError>((
                    compare::diff_editions(&ra, &rb),
                    ea.classification.max(eb.classification),
                ))
            })();
            match found {
                Ok(diff) => w.diff = Some(diff),
                Err(e) => w.note = Some(e.to_string()),
            }
        }
        if !open {
            self.history.editions = None;
        }
    }

    /// The highest level of the history windows (for the banner).
    pub(super) fn history_level(&self) -> Classification {
        let mut level = self
            .history
            .comparison
            .as_ref()
            .map_or(Classification::Unclassified, |c| c.2);
        if let Some((_, l)) = self.history.editions.as_ref().and_then(|w| w.diff.as_ref()) {
            level = level.max(*l);
        }
        level
    }
}

fn marking_line(ui: &mut egui::Ui, level: Classification) {
    ui.colored_label(
        theme::banner_fill(level),
        format!("Contains up to {}", level.marking()),
    );
}

/// A section of a report: title with count, then one line per entry (at most 200).
fn section(ui: &mut egui::Ui, title: &str, list: &Value, line: &dyn Fn(&Value) -> String) {
    let items = list.as_array().map(Vec::as_slice).unwrap_or_default();
    egui::CollapsingHeader::new(format!("{title}: {}", items.len()))
        .id_salt(title)
        .default_open(!items.is_empty() && items.len() <= 20)
        .show(ui, |ui| {
            for item in items.iter().take(200) {
                ui.label(line(item));
            }
            if items.len() > 200 {
                ui.label(format!(
                    "… and {} more (observatory changes --format json)",
                    items.len() - 200
                ));
            }
        });
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => "–".into(),
        other => other.to_string(),
    }
}

fn changes_ui(ui: &mut egui::Ui, report: &Value) {
    let label = |v: &Value| format!("{} {}", text(v, "kind"), text(v, "label"));
    let moved = |name: &'static str| {
        move |v: &Value| {
            format!(
                "{}: {} -> {}",
                text(v, name),
                text(v, "from"),
                text(v, "to")
            )
        }
    };
    section(ui, "Links added", &report["links_added"], &label);
    section(ui, "Links removed", &report["links_removed"], &label);
    section(
        ui,
        "Share shifts",
        &report["share_changes"],
        &moved("label"),
    );
    section(ui, "TRL moves", &report["trl_changes"], &moved("name"));
    let risk = |v: &Value| format!("{} (HHI {})", text(v, "name"), text(v, "hhi"));
    section(ui, "New concentration risks", &report["risks_new"], &risk);
    section(
        ui,
        "Resolved concentration risks",
        &report["risks_resolved"],
        &risk,
    );
    section(ui, "Records added", &report["added"], &label);
    section(ui, "Records removed", &report["removed"], &label);
    section(ui, "Records changed", &report["changed"], &|v| {
        let fields: Vec<String> = v["fields"]
            .as_object()
            .map(|f| f.keys().cloned().collect())
            .unwrap_or_default();
        format!("{} ({})", label(v), fields.join(", "))
    });
}

fn edition_diff_ui(ui: &mut egui::Ui, report: &Value) {
    let name = |v: &Value| text(v, "name");
    let moved = |v: &Value| {
        format!(
            "{}: {} -> {}",
            text(v, "name"),
            text(v, "from"),
            text(v, "to")
        )
    };
    section(
        ui,
        "Technologies added",
        &report["technologies_added"],
        &name,
    );
    section(
        ui,
        "Technologies removed",
        &report["technologies_removed"],
        &name,
    );
    section(ui, "TRL changes", &report["trl_changes"], &moved);
    section(ui, "Supply risk changes", &report["risk_changes"], &moved);
    section(ui, "Measures started", &report["measures_started"], &name);
    section(ui, "Measures finished", &report["measures_finished"], &name);
}

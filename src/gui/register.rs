//! The main window: navigation, the registers (sortable, filterable tables), dashboard and
//! audit log.

use egui_extras::{Column, TableBuilder};

use super::app::{AppWindow, Command, Unlocked, View};
use super::theme;
use crate::model::{Classification, Kind, Record};

/// Sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    Classification,
    Name,
    Detail,
    Updated,
}

/// One register table: the records of a kind, the filter and the selection.
pub struct Register {
    kind: Kind,
    records: Vec<Record>,
    /// What the Name column shows for each record.
    names: Vec<String>,
    /// Show only records of this classification.
    level: Option<Classification>,
    /// Technologies only: show only this area.
    area: Option<String>,
    pub(super) filter: String,
    shown: Vec<usize>,
    sort: (SortBy, bool),
    selected: Option<usize>,
}

impl Default for Register {
    fn default() -> Self {
        Register {
            kind: Kind::Technology,
            records: Vec::new(),
            names: Vec::new(),
            level: None,
            area: None,
            filter: String::new(),
            shown: Vec::new(),
            sort: (SortBy::Name, true),
            selected: None,
        }
    }
}

/// Display name of a kind in the navigation.
pub(super) fn kind_title(kind: Kind) -> &'static str {
    match kind {
        Kind::Technology => "Technologies",
        Kind::Item => "Items",
        Kind::Organisation => "Organisations",
        Kind::Link => "Links",
        Kind::Assessment => "Assessments",
        Kind::Measure => "Measures",
        Kind::Source => "Sources",
        Kind::Event => "Events",
        Kind::Round => "Rounds",
        Kind::Proposal => "Proposals",
        Kind::ListVersion => "List versions",
        Kind::Bloc => "Blocs",
        Kind::Roadmap => "Roadmaps",
    }
}

impl Register {
    /// Reloads the records of `kind` from the session.
    pub(super) fn refresh(&mut self, session: &crate::service::Session, kind: Kind) {
        if kind != self.kind {
            self.filter.clear();
            self.level = None;
            self.area = None;
            self.selected = None;
        }
        self.kind = kind;
        self.records = session.list(kind).unwrap_or_default();
        // Links and assessments name other records: show those names, not ids.
        self.names = self
            .records
            .iter()
            .map(|r| match kind {
                Kind::Link | Kind::Assessment => session.describe(&r.meta.id.to_string()),
                _ => r.label(),
            })
            .collect();
        self.apply_filter(session);
    }

    /// Applies the search (full-text, through the session) and the sort order.
    fn apply_filter(&mut self, session: &crate::service::Session) {
        let matches = if self.filter.trim().is_empty() {
            None
        } else {
            Some(session.search(self.kind, &self.filter).unwrap_or_default())
        };
        self.shown = self
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| matches.as_ref().is_none_or(|ids| ids.contains(&r.meta.id)))
            .filter(|(_, r)| {
                self.level
                    .is_none_or(|level| r.meta.classification == level)
            })
            .filter(|(_, r)| {
                self.area
                    .as_deref()
                    .is_none_or(|area| r.text("area") == Some(area))
            })
            .map(|(i, _)| i)
            .collect();
        self.sort_shown();
    }

    fn sort_shown(&mut self) {
        let (by, ascending) = self.sort;
        let (records, names) = (&self.records, &self.names);
        self.shown.sort_by(|&a, &b| {
            let (ra, rb) = (&records[a], &records[b]);
            let order = match by {
                SortBy::Classification => ra.meta.classification.cmp(&rb.meta.classification),
                SortBy::Name => names[a].to_lowercase().cmp(&names[b].to_lowercase()),
                SortBy::Detail => ra.detail().cmp(&rb.detail()),
                SortBy::Updated => ra.meta.updated.cmp(&rb.meta.updated),
            };
            if ascending { order } else { order.reverse() }
        });
        if self.selected.is_some_and(|s| s >= self.shown.len()) {
            self.selected = None;
        }
    }

    /// The record of the selected row.
    pub(super) fn selected_record(&self) -> Option<&Record> {
        self.records.get(*self.shown.get(self.selected?)?)
    }

    /// The highest level among the rows shown.
    pub(super) fn visible_level(&self) -> Classification {
        Classification::highest(
            self.shown
                .iter()
                .map(|&i| self.records[i].meta.classification),
        )
    }

    fn ui(
        &mut self,
        ui: &mut egui::Ui,
        session: &crate::service::Session,
        commands: &mut Vec<Command>,
    ) {
        let kind = self.kind;
        ui.horizontal(|ui| {
            ui.heading(kind_title(kind));
            ui.label(format!(
                "{} of {} shown",
                self.shown.len(),
                self.records.len()
            ));
        });
        ui.horizontal(|ui| {
            let l = ui.label("Search");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.filter)
                        .hint_text("names, descriptions, narratives")
                        .desired_width(300.0),
                )
                .labelled_by(l.id);
            if r.changed() {
                self.apply_filter(session);
            }
            let mut changed = false;
            let shown = self.level.map_or("any", Classification::code);
            egui::ComboBox::from_label("Classification filter")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    changed |= ui.selectable_value(&mut self.level, None, "any").changed();
                    for level in Classification::ALL {
                        changed |= ui
                            .selectable_value(&mut self.level, Some(level), level.code())
                            .changed();
                    }
                });
            if kind == Kind::Technology {
                let shown = self.area.clone().unwrap_or_else(|| "any".to_owned());
                egui::ComboBox::from_label("Area filter")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        changed |= ui.selectable_value(&mut self.area, None, "any").changed();
                        for area in crate::model::kind::AREAS {
                            changed |= ui
                                .selectable_value(&mut self.area, Some((*area).to_owned()), *area)
                                .changed();
                        }
                    });
            }
            if changed {
                self.apply_filter(session);
            }
            if ui
                .add_enabled(
                    session.viewing().is_none(),
                    egui::Button::new(format!("Add {kind}")),
                )
                .clicked()
            {
                commands.push(Command::Edit(kind, None));
            }
            if matches!(kind, Kind::Technology | Kind::Item)
                && let Some(record) = self.selected_record()
                && ui
                    .button("Show on timeline")
                    .on_hover_text("TRL, criticality, supply risk and measures over time")
                    .clicked()
            {
                commands.push(Command::ShowTimeline(record.meta.id));
            }
        });
        if self.records.is_empty() {
            ui.add_space(20.0);
            ui.label(format!(
                "No {} yet: add one, or import a file with `observatory import`",
                kind_title(kind).to_lowercase()
            ));
            return;
        }
        // Keyboard navigation.
        let (down, up, enter) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::ArrowDown),
                i.key_pressed(egui::Key::ArrowUp),
                i.key_pressed(egui::Key::Enter),
            )
        });
        let typing = ui.ctx().memory(|m| m.focused().is_some());
        if !typing && !self.shown.is_empty() {
            if down {
                self.selected = Some(
                    self.selected
                        .map_or(0, |s| (s + 1).min(self.shown.len() - 1)),
                );
            }
            if up {
                self.selected = Some(self.selected.map_or(0, |s| s.saturating_sub(1)));
            }
            if enter && let Some(s) = self.selected {
                commands.push(Command::Edit(
                    kind,
                    Some(self.records[self.shown[s]].meta.id),
                ));
            }
        }
        let mut resort = None;
        let header = |ui: &mut egui::Ui,
                      label: &str,
                      by: SortBy,
                      sort: (SortBy, bool),
                      resort: &mut Option<SortBy>| {
            let arrow = if sort.0 == by {
                if sort.1 { " ^" } else { " v" }
            } else {
                ""
            };
            if ui.button(format!("{label}{arrow}")).clicked() {
                *resort = Some(by);
            }
        };
        let sort = self.sort;
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        TableBuilder::new(ui)
            .striped(true)
            .sense(egui::Sense::click())
            .column(Column::exact(120.0))
            .column(Column::remainder().at_least(240.0).clip(true))
            .column(Column::initial(180.0).clip(true))
            .column(Column::exact(150.0))
            .header(row_height + 4.0, |mut row| {
                row.col(|ui| {
                    header(
                        ui,
                        "Classification",
                        SortBy::Classification,
                        sort,
                        &mut resort,
                    );
                });
                row.col(|ui| header(ui, "Name", SortBy::Name, sort, &mut resort));
                row.col(|ui| header(ui, kind.detail_header(), SortBy::Detail, sort, &mut resort));
                row.col(|ui| header(ui, "Updated", SortBy::Updated, sort, &mut resort));
            })
            .body(|body| {
                body.rows(row_height, self.shown.len(), |mut row| {
                    let index = row.index();
                    let record = &self.records[self.shown[index]];
                    row.set_selected(self.selected == Some(index));
                    // Cells do not select text, so a click anywhere opens the record.
                    // An empty "updated" is built-in reference data.
                    let cell = |ui: &mut egui::Ui, text: egui::RichText| {
                        ui.add(egui::Label::new(text).selectable(false));
                    };
                    let level = record.meta.classification;
                    row.col(|ui| {
                        cell(
                            ui,
                            egui::RichText::new(level.code()).color(theme::banner_fill(level)),
                        );
                    });
                    let name = self.names[self.shown[index]].as_str();
                    row.col(|ui| cell(ui, egui::RichText::new(name)));
                    row.col(|ui| cell(ui, egui::RichText::new(record.detail())));
                    row.col(|ui| {
                        cell(
                            ui,
                            egui::RichText::new(record.meta.updated.to_utc_minutes()),
                        );
                    });
                    if row.response().clicked() {
                        self.selected = Some(index);
                        commands.push(Command::Edit(kind, Some(record.meta.id)));
                    }
                });
            });
        if let Some(by) = resort {
            self.sort = if self.sort.0 == by {
                (by, !self.sort.1)
            } else {
                (by, true)
            };
            self.sort_shown();
        }
    }
}

impl Unlocked {
    /// The main window below the banners.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        egui::Panel::left("nav")
            .exact_size(theme::NAV_WIDTH)
            .show(ui, |ui| {
                // The navigation scrolls on a small screen rather than hide its last buttons.
                egui::ScrollArea::vertical().id_salt("nav-scroll").show(ui, |ui| {
                ui.add_space(6.0);
                let mut nav = |ui: &mut egui::Ui, view: View, label: &str| {
                    if ui.selectable_label(self.view == view, label).clicked() {
                        commands.push(Command::Navigate(view));
                    }
                };
                nav(ui, View::Dashboard, "Dashboard");
                nav(ui, View::Register(Kind::Technology), "Technologies");
                ui.label(egui::RichText::new("Supply chain").small());
                nav(ui, View::Register(Kind::Item), "Items");
                nav(ui, View::Register(Kind::Organisation), "Organisations");
                nav(ui, View::Register(Kind::Link), "Links");
                nav(ui, View::Graph, "Supply graph");
                nav(ui, View::Timeline, "Timeline");
                nav(ui, View::Priorities, "Priorities");
                nav(ui, View::Reports, "Reports");
                ui.separator();
                nav(ui, View::Register(Kind::Assessment), "Assessments");
                nav(ui, View::Register(Kind::Measure), "Measures");
                nav(ui, View::Register(Kind::Source), "Sources");
                nav(ui, View::Register(Kind::Event), "Events");
                nav(ui, View::Members, "Members");
                nav(ui, View::Exchange, "Exchange");
                nav(ui, View::Consultation, "Consultation");
                nav(ui, View::Audit, "Audit log");
                ui.separator();
                let writable = self.session.viewing().is_none();
                if ui
                    .add_enabled(writable, egui::Button::new("Import data…"))
                    .on_hover_text("Import a public dataset: ETO supply chains, EU CRM 2023 tables, USGS world tables")
                    .clicked()
                {
                    commands.push(Command::ShowImport);
                }
                ui.horizontal_wrapped(|ui| {
                    if ui
                        .add_enabled(writable, egui::Button::new("Undo"))
                        .on_hover_text("Undo the last applied edit")
                        .clicked()
                    {
                        commands.push(Command::Undo);
                    }
                    if ui
                        .add_enabled(writable, egui::Button::new("Redo"))
                        .on_hover_text("Apply again what was undone")
                        .clicked()
                    {
                        commands.push(Command::Redo);
                    }
                    if ui
                        .button("Lock")
                        .on_hover_text("Lock now (Ctrl+L)")
                        .clicked()
                    {
                        commands.push(Command::Lock);
                    }
                });
                ui.separator();
                ui.horizontal_wrapped(|ui| {
                    for (label, window) in [
                        ("Settings", AppWindow::Settings),
                        ("Help", AppWindow::Help),
                        ("About", AppWindow::About),
                    ] {
                        if ui.button(label).clicked() {
                            commands.push(Command::Toggle(window));
                        }
                    }
                });
                });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            self.history_bar_ui(ui, commands);
            if let Some(message) = &self.message {
                ui.label(message);
            }
            match self.view {
                View::Register(_) => self.register.ui(ui, &self.session, commands),
                View::Dashboard => self.dashboard_ui(ui, commands),
                View::Audit => self.audit_ui(ui),
                View::Members => self.members_ui(ui, commands),
                View::Graph => self.graph.ui(ui, &self.session, commands),
                View::Timeline => self.timeline.ui(ui, &self.session, commands),
                View::Reports => self.reports.ui(ui, &self.session),
                View::Exchange => self.exchange.ui(ui, &self.session, commands),
                View::Consultation => self.consultation.ui(ui, &self.session, commands),
                View::Priorities => self.priorities.ui(ui, &self.session, commands),
            }
        });
        self.history_windows_ui(ui.ctx(), commands);
        if let Some(editor) = &mut self.editor {
            let mut close = false;
            editor.window(ui.ctx(), commands, &mut close, &mut self.confirm_delete);
            if close {
                self.editor = None;
            }
        }
        self.confirm_delete_ui(ui.ctx(), commands);
        self.import_ui(ui.ctx(), commands);
    }

    fn confirm_delete_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some((kind, id, label)) = self.confirm_delete.clone() else {
            return;
        };
        egui::Window::new("Delete?").collapsible(false).resizable(false).show(ctx, |ui| {
            ui.label(format!("Delete the {kind} \"{label}\"? It stays as a tombstone so that the deletion reaches the other members."));
            ui.horizontal(|ui| {
                if ui.button("Delete").clicked() {
                    commands.push(Command::Delete(kind, id));
                }
                if ui.button("Keep").clicked() {
                    self.confirm_delete = None;
                }
            });
        });
    }
}

//! The Priorities view: where to act first. Technologies ranked by urgency for a chosen bloc,
//! the four parts of each score as a stacked bar (each part's contribution to the score), the
//! uncovered gaps and the concerns behind the dependency, measures whose expected effect can
//! be applied ("what if this measure succeeds", the score before beside); a click opens the
//! technology. See [`crate::service::priorities`] for the method.

use egui::{Color32, Sense, Stroke, vec2};
use uuid::Uuid;

use super::app::Command;
use crate::model::{Classification, Kind};
use crate::service::Session;
use crate::service::priorities::{Priorities, WEIGHTS};

/// Colours of the four parts, in [`WEIGHTS`] order.
pub const PART_COLOURS: [Color32; 4] = [
    Color32::from_rgb(192, 57, 43),
    Color32::from_rgb(41, 128, 185),
    Color32::from_rgb(243, 156, 18),
    Color32::from_rgb(127, 140, 141),
];

/// The view's state.
#[derive(Default)]
pub struct PrioritiesView {
    /// The bloc it is read for ("EU" by default).
    pub bloc: String,
    /// Measures applied.
    pub applied: Vec<Uuid>,
    /// The ranking, read when stale.
    pub ranking: Option<Result<Priorities, String>>,
    /// Measures with an expected effect (id, label).
    measures: Vec<(Uuid, String, Classification)>,
    /// Blocs (name).
    blocs: Vec<(String, Classification, bool)>,
}

impl PrioritiesView {
    /// Forget what was read.
    pub fn invalidate(&mut self) {
        self.ranking = None;
    }

    /// The highest level on screen.
    #[must_use]
    pub fn level(&self) -> Classification {
        let mut level = match &self.ranking {
            Some(Ok(r)) => r.classification,
            _ => Classification::Unclassified,
        };
        for (_, _, l) in &self.measures {
            level = level.max(*l);
        }
        for (_, l, _) in &self.blocs {
            level = level.max(*l);
        }
        level
    }

    fn load(&mut self, session: &Session) {
        if self.bloc.is_empty() {
            "EU".clone_into(&mut self.bloc);
        }
        if self.ranking.is_none() {
            // A measure deleted (or not there at the date viewed) is no longer applied.
            let live: Vec<Uuid> = session
                .list(Kind::Measure)
                .unwrap_or_default()
                .iter()
                .map(|m| m.meta.id)
                .collect();
            self.applied.retain(|id| live.contains(id));
            self.ranking = Some(
                session
                    .priorities(&self.bloc, &self.applied)
                    .map_err(|e| e.to_string()),
            );
            self.measures = session
                .list(Kind::Measure)
                .unwrap_or_default()
                .iter()
                .filter(|m| {
                    m.fields.contains_key("effect_trl") || m.fields.contains_key("effect_share")
                })
                .map(|m| (m.meta.id, m.label(), m.meta.classification))
                .collect();
            // Built-in blocs first; a member's bloc is shown as theirs.
            let mut blocs = session.list(Kind::Bloc).unwrap_or_default();
            blocs.sort_by_key(|b| !b.meta.reference);
            self.blocs = blocs
                .iter()
                .map(|b| (b.label(), b.meta.classification, b.meta.reference))
                .collect();
        }
    }

    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, session: &Session, commands: &mut Vec<Command>) {
        self.load(session);
        ui.heading("Priorities: where to act first");
        ui.horizontal(|ui| {
            if ui
                .button("Blocs")
                .on_hover_text(
                    "The blocs of partners: EU, EU+EEA, NATO, like-minded (editable), and yours",
                )
                .clicked()
            {
                commands.push(Command::Navigate(super::app::View::Register(Kind::Bloc)));
            }
            if ui
                .button("Roadmaps")
                .on_hover_text("Technology roadmaps: targets, milestones, measures")
                .clicked()
            {
                commands.push(Command::Navigate(super::app::View::Register(Kind::Roadmap)));
            }
        });
        ui.horizontal(|ui| {
            ui.label("Bloc");
            let before = self.bloc.clone();
            egui::ComboBox::from_id_salt("priorities-bloc")
                .selected_text(self.bloc.clone())
                .show_ui(ui, |ui| {
                    for (name, _, built_in) in &self.blocs {
                        let shown = if *built_in {
                            name.clone()
                        } else {
                            format!("{name} (a member's)")
                        };
                        ui.selectable_value(&mut self.bloc, name.clone(), shown);
                    }
                });
            if self.bloc != before {
                self.ranking = None;
            }
            ui.separator();
            ui.label("What if these measures succeed:");
            let mut changed = false;
            for (id, label, _) in &self.measures {
                let mut on = self.applied.contains(id);
                if ui.checkbox(&mut on, label).changed() {
                    changed = true;
                    if on {
                        self.applied.push(*id);
                    } else {
                        self.applied.retain(|x| x != id);
                    }
                }
            }
            if self.measures.is_empty() {
                ui.label("(no measure records an expected effect)");
            }
            if changed {
                self.ranking = None;
            }
        });
        ui.horizontal(|ui| {
            for ((name, weight), colour) in WEIGHTS.iter().zip(PART_COLOURS) {
                ui.label(egui::RichText::new(format!("{name} ({weight:.0})")).color(colour));
            }
        });
        let ranking = match self.ranking.clone() {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                ui.label(e);
                return;
            }
            None => return,
        };
        egui::ScrollArea::vertical().show(ui, |ui| {
            egui::Grid::new("priorities-grid")
                .striped(true)
                .num_columns(5)
                .show(ui, |ui| {
                    for h in ["#", "Score", "Parts", "Uncovered", "Technology"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for (rank, t) in ranking.technologies.iter().enumerate() {
                        ui.label((rank + 1).to_string());
                        ui.label(match t.score_before {
                            Some(b) => format!("{:.1} (was {b:.1})", t.score),
                            None => format!("{:.1}", t.score),
                        });
                        stacked_bar(ui, t);
                        let uncovered = if t.uncovered_gaps.is_empty() {
                            "-".to_owned()
                        } else {
                            t.uncovered_gaps.join("; ")
                        };
                        ui.add_sized(
                            [280.0, 16.0],
                            egui::Label::new(uncovered.clone()).truncate(),
                        )
                        .on_hover_text(uncovered);
                        if ui
                            .link(&t.name)
                            .on_hover_text(t.concerns.join("\n"))
                            .clicked()
                        {
                            commands.push(Command::Edit(Kind::Technology, Some(t.id)));
                        }
                        ui.end_row();
                    }
                });
        });
    }
}

/// Each part's contribution to the score, as segments of one bar 200 points wide (= 100).
fn stacked_bar(ui: &mut egui::Ui, t: &crate::service::priorities::Priority) {
    let width = 200.0;
    let (rect, response) = ui.allocate_exact_size(vec2(width, 14.0), Sense::hover());
    let known: f64 = WEIGHTS
        .iter()
        .filter(|(n, _)| t.components.contains_key(*n))
        .map(|(_, w)| w)
        .sum();
    let painter = ui.painter();
    painter.rect_stroke(
        rect,
        0.0,
        Stroke::new(1.0, Color32::GRAY),
        egui::StrokeKind::Inside,
    );
    let mut x = rect.left();
    let mut tip = Vec::new();
    for ((name, weight), colour) in WEIGHTS.iter().zip(PART_COLOURS) {
        let Some(v) = t.components.get(*name) else {
            tip.push(format!("{name}: unknown"));
            continue;
        };
        let contribution = if known > 0.0 { weight * v / known } else { 0.0 };
        #[allow(clippy::cast_possible_truncation)]
        let w = (contribution / 100.0 * f64::from(width)) as f32;
        let seg = egui::Rect::from_min_size(egui::pos2(x, rect.top()), vec2(w, rect.height()));
        painter.rect_filled(seg, 0.0, colour);
        x += w;
        tip.push(format!("{name}: {v:.0} (adds {contribution:.1})"));
    }
    response.on_hover_text(tip.join("\n"));
}

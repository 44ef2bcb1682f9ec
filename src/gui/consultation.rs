//! The Consultation view: the rounds (deadlines, status, answers), a round's technology ×
//! Member State matrix coloured by the TRL each gave, the spread per question with dissent,
//! the narratives side by side, the answer form a member fills in (beside the anonymised
//! distribution of the previous round, for a follow-up), opening and closing rounds, and the
//! versions of the list with the proposals.

use std::collections::BTreeSet;

use egui::Color32;
use uuid::Uuid;

use super::app::Command;
use crate::model::kind::{EU_POSITIONS, GAPS};
use crate::model::{Classification, Kind};
use crate::service::Session;
use crate::service::consultation::{AnswerSpec, RoundSpec, RoundSummary, RoundView, Spread};

/// What the view asks the app to change.
#[derive(Debug, Clone)]
pub enum ConsultAction {
    /// Open a round.
    Open(RoundSpec),
    /// Answer a round.
    Answer(Uuid, AnswerSpec),
    /// Close a round.
    Close(Uuid),
    /// Support, oppose or abstain on a proposal a round carries.
    Stance(Uuid, Uuid, String),
    /// Accept proposals (a new version of the list).
    Accept(Vec<Uuid>),
    /// Reject a proposal.
    Reject(Uuid),
}

/// The answer form, as filled in.
#[derive(Debug, Clone, Default)]
pub struct AnswerForm {
    /// The technology answered on.
    pub technology: Option<Uuid>,
    /// TRL (0: no answer).
    pub trl: u8,
    /// Criticality, as typed.
    pub criticality: String,
    /// Supply risk, as typed.
    pub supply_risk: String,
    /// EU position (empty: no answer).
    pub eu_position: String,
    /// Gaps ticked.
    pub gaps: BTreeSet<String>,
    /// Narrative.
    pub narrative: String,
    /// Level of the answer.
    pub level: Classification,
    /// What was last wrong with it.
    pub error: Option<String>,
}

/// The new-round form.
#[derive(Debug, Clone, Default)]
pub struct NewRound {
    /// Shown.
    pub open: bool,
    /// Title.
    pub title: String,
    /// Deadline.
    pub deadline: String,
    /// Technologies ticked.
    pub technologies: BTreeSet<Uuid>,
    /// Filter of the technology list.
    pub filter: String,
    /// Follow-up of this round.
    pub follow_up: Option<Uuid>,
}

/// The view's state.
#[derive(Default)]
pub struct ConsultationView {
    /// The rounds, read when stale.
    pub rounds: Option<Vec<RoundSummary>>,
    /// The round shown.
    pub selected: Option<Uuid>,
    /// What it says, read when stale.
    pub view: Option<Result<RoundView, String>>,
    /// Whether this member coordinates the round shown.
    pub coordinator: bool,
    /// The answer form.
    pub form: AnswerForm,
    /// The new-round form.
    pub new_round: NewRound,
    /// Technologies (id, name) for the new-round form.
    technologies: Vec<(Uuid, String, Classification)>,
    /// The highest level of what else the view may show: the versions and proposals of the
    /// revision panel, the technologies of the new-round form, this member's answers to the
    /// previous round of a follow-up (read with the rest, so the marking is never late).
    extra_level: Classification,
    /// The revision panel, read with the rounds: the versions and the newest diff (lines),
    /// and the proposals waiting for a decision (id, line).
    revision: Vec<String>,
    waiting: Vec<(Uuid, String)>,
}

/// The colour of a TRL cell (red: low, green: high).
#[must_use]
pub fn trl_colour(trl: i64) -> Color32 {
    #[allow(clippy::cast_precision_loss)]
    let t = ((trl.clamp(1, 9) - 1) as f32) / 8.0;
    let lerp = |a: f32, b: f32| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = (a + (b - a) * t).round() as u8;
        v
    };
    Color32::from_rgb(lerp(190.0, 60.0), lerp(70.0, 150.0), lerp(60.0, 80.0))
}

fn show_spread(s: &Spread) -> String {
    match (s.median, s.min, s.max) {
        (Some(m), Some(lo), Some(hi)) => format!("{m} ({lo}-{hi}, n={})", s.n),
        _ => "-".to_owned(),
    }
}

impl ConsultationView {
    /// Forget what was read (the register changed).
    pub fn invalidate(&mut self) {
        self.rounds = None;
        self.view = None;
    }

    /// The highest level on screen: the rounds listed and the round shown.
    #[must_use]
    pub fn level(&self) -> Classification {
        let mut level = self
            .rounds
            .iter()
            .flatten()
            .map(|r| r.classification)
            .max()
            .unwrap_or_default();
        if let Some(Ok(v)) = &self.view {
            level = level.max(v.classification);
        }
        level.max(self.extra_level)
    }

    fn load(&mut self, session: &Session) {
        if self.rounds.is_none() {
            self.rounds = Some(session.rounds().unwrap_or_default());
            let versions = session.list_versions().unwrap_or_default();
            let proposals = session.list(Kind::Proposal).unwrap_or_default();
            self.revision = revision_lines(session, &versions);
            self.waiting = proposals
                .iter()
                .filter(|p| p.text("status") == Some("proposed"))
                .map(|p| {
                    (
                        p.meta.id,
                        format!(
                            "{} · criteria: {} · {}",
                            session.describe_proposal(p),
                            p.texts("criteria").join(", "),
                            p.meta.classification.code()
                        ),
                    )
                })
                .collect();
            self.extra_level = versions
                .iter()
                .map(|v| v.classification)
                .chain(proposals.iter().map(|p| p.meta.classification))
                .chain(proposals.iter().filter_map(|p| {
                    let t = p.text("technology_id")?;
                    let id = Uuid::parse_str(t).ok()?;
                    session
                        .get(Kind::Technology, id)
                        .ok()
                        .map(|t| t.meta.classification)
                }))
                .chain(self.technologies.iter().map(|t| t.2))
                .max()
                .unwrap_or_default();
            if self.selected.is_none() {
                self.selected = self.rounds.iter().flatten().next().map(|r| r.id);
            }
        }
        if self.view.is_none()
            && let Some(id) = self.selected
        {
            let view = session.round_view(id).map_err(|e| e.to_string());
            self.coordinator = session
                .store()
                .originator_of(Kind::Round, id)
                .ok()
                .flatten()
                .as_deref()
                == Some(session.author());
            if let Ok(v) = &view {
                if let Some(previous) = v.round.follow_up_of {
                    for t in &v.technologies {
                        if let Ok(Some(a)) = session.own_answer(previous, t.id) {
                            self.extra_level = self.extra_level.max(a.meta.classification);
                        }
                    }
                }
                let first = v.technologies.first().map(|t| t.id);
                if self.form.technology.is_none()
                    || !v
                        .technologies
                        .iter()
                        .any(|t| Some(t.id) == self.form.technology)
                {
                    self.form.technology = first;
                    self.prefill(session, id);
                }
            }
            self.view = Some(view);
        }
    }

    /// Fills the form with this member's own answer, if they gave one.
    fn prefill(&mut self, session: &Session, round: Uuid) {
        let Some(tech) = self.form.technology else {
            return;
        };
        let own = session.own_answer(round, tech).ok().flatten();
        let level = self.form.level;
        self.form = AnswerForm {
            technology: Some(tech),
            level,
            ..AnswerForm::default()
        };
        if let Some(a) = own {
            self.form.trl = a
                .fields
                .get("trl")
                .and_then(serde_json::Value::as_u64)
                .and_then(|t| u8::try_from(t).ok())
                .unwrap_or(0);
            let num = |f: &str| {
                a.fields
                    .get(f)
                    .and_then(serde_json::Value::as_f64)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            };
            self.form.criticality = num("criticality");
            self.form.supply_risk = num("supply_risk");
            a.text("eu_position")
                .unwrap_or_default()
                .clone_into(&mut self.form.eu_position);
            self.form.gaps = a.texts("gaps").into_iter().collect();
            a.text("narrative")
                .unwrap_or_default()
                .clone_into(&mut self.form.narrative);
            self.form.level = a.meta.classification;
        }
    }

    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, session: &Session, commands: &mut Vec<Command>) {
        self.load(session);
        ui.heading("Consultation");
        let writable = session.viewing().is_none();
        ui.horizontal(|ui| {
            if ui
                .add_enabled(writable, egui::Button::new("New round…"))
                .clicked()
            {
                self.new_round.open = !self.new_round.open;
                self.technologies.clear();
                if self.new_round.open {
                    let all = session.list(Kind::Technology).unwrap_or_default();
                    self.extra_level = all
                        .iter()
                        .map(|t| t.meta.classification)
                        .fold(self.extra_level, Classification::max);
                    self.technologies = all
                        .iter()
                        .map(|t| (t.meta.id, t.label(), t.meta.classification))
                        .collect();
                    self.technologies.sort_by(|a, b| a.1.cmp(&b.1));
                }
            }
            if ui
                .button("Proposals")
                .on_hover_text("Proposals to revise the list of critical technologies")
                .clicked()
            {
                commands.push(Command::Navigate(super::app::View::Register(
                    Kind::Proposal,
                )));
            }
            if ui
                .button("List versions")
                .on_hover_text("The versions of the list: dated, immutable")
                .clicked()
            {
                commands.push(Command::Navigate(super::app::View::Register(
                    Kind::ListVersion,
                )));
            }
        });
        if self.new_round.open {
            self.new_round_ui(ui, commands);
        }
        self.revision_ui(ui, writable, commands);
        let rounds = self.rounds.clone().unwrap_or_default();
        if rounds.is_empty() {
            ui.label("No consultation round yet: open one with \"New round…\", or receive one in a bundle.");
            return;
        }
        egui::Grid::new("rounds").striped(true).show(ui, |ui| {
            for h in [
                "Round",
                "Deadline",
                "Status",
                "Technologies",
                "Answers",
                "Level",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for r in &rounds {
                if ui
                    .selectable_label(self.selected == Some(r.id), &r.title)
                    .clicked()
                {
                    self.selected = Some(r.id);
                    self.view = None;
                    self.form.technology = None;
                }
                ui.label(&r.deadline);
                ui.label(if r.overdue {
                    format!("{} (overdue)", r.status)
                } else {
                    r.status.clone()
                });
                ui.label(r.technologies.to_string());
                ui.label(r.answers.to_string());
                ui.label(r.classification.code());
                ui.end_row();
            }
        });
        ui.separator();
        match self.view.clone() {
            Some(Ok(view)) => {
                egui::ScrollArea::vertical()
                    .id_salt("round-scroll")
                    .show(ui, |ui| {
                        self.round_ui(ui, session, &view, writable, commands);
                    });
            }
            Some(Err(e)) => {
                ui.label(e);
            }
            None => {}
        }
    }

    fn revision_ui(&self, ui: &mut egui::Ui, writable: bool, commands: &mut Vec<Command>) {
        egui::CollapsingHeader::new("Revision of the list: proposals and versions")
            .default_open(false)
            .show(ui, |ui| {
                for line in &self.revision {
                    ui.label(line);
                }
                if self.waiting.is_empty() {
                    ui.label("No proposal waiting for a decision.");
                }
                for (id, line) in &self.waiting {
                    ui.horizontal(|ui| {
                        ui.label(line);
                        if ui
                            .add_enabled(writable, egui::Button::new("Accept into a new version"))
                            .clicked()
                        {
                            commands.push(Command::Consult(ConsultAction::Accept(vec![*id])));
                        }
                        if ui
                            .add_enabled(writable, egui::Button::new("Reject"))
                            .clicked()
                        {
                            commands.push(Command::Consult(ConsultAction::Reject(*id)));
                        }
                    });
                }
            });
    }

    fn new_round_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                let l = ui.label("Round title");
                ui.add(egui::TextEdit::singleline(&mut self.new_round.title))
                    .labelled_by(l.id);
                let l = ui.label("Deadline");
                ui.add(
                    egui::TextEdit::singleline(&mut self.new_round.deadline)
                        .hint_text("YYYY-MM-DD")
                        .desired_width(100.0),
                )
                .labelled_by(l.id);
            });
            ui.horizontal(|ui| {
                ui.label("Follow-up of");
                let rounds = self.rounds.clone().unwrap_or_default();
                let shown = self
                    .new_round
                    .follow_up
                    .and_then(|id| rounds.iter().find(|r| r.id == id))
                    .map_or_else(|| "none".to_owned(), |r| r.title.clone());
                egui::ComboBox::from_id_salt("follow-up")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.new_round.follow_up, None, "none");
                        for r in &rounds {
                            ui.selectable_value(
                                &mut self.new_round.follow_up,
                                Some(r.id),
                                &r.title,
                            );
                        }
                    });
                let l = ui.label("Filter technologies");
                ui.text_edit_singleline(&mut self.new_round.filter)
                    .labelled_by(l.id);
            });
            let filter = self.new_round.filter.to_lowercase();
            egui::ScrollArea::vertical()
                .id_salt("round-techs")
                .max_height(140.0)
                .show(ui, |ui| {
                    for (id, name, _) in &self.technologies {
                        if !filter.is_empty() && !name.to_lowercase().contains(&filter) {
                            continue;
                        }
                        let mut on = self.new_round.technologies.contains(id);
                        if ui.checkbox(&mut on, name).changed() {
                            if on {
                                self.new_round.technologies.insert(*id);
                            } else {
                                self.new_round.technologies.remove(id);
                            }
                        }
                    }
                });
            if ui.button("Open the round").clicked() {
                commands.push(Command::Consult(ConsultAction::Open(RoundSpec {
                    title: self.new_round.title.trim().to_owned(),
                    deadline: self.new_round.deadline.trim().to_owned(),
                    technology_ids: self.new_round.technologies.iter().copied().collect(),
                    follow_up_of: self.new_round.follow_up,
                    ..RoundSpec::default()
                })));
            }
        });
    }

    fn round_ui(
        &mut self,
        ui: &mut egui::Ui,
        session: &Session,
        view: &RoundView,
        writable: bool,
        commands: &mut Vec<Command>,
    ) {
        ui.horizontal(|ui| {
            ui.strong(&view.round.title);
            ui.label(format!(
                "deadline {} · {} · marked {}",
                view.round.deadline,
                view.round.status,
                view.classification.marking()
            ));
            let can_close = writable && self.coordinator && view.round.status == "open";
            if ui
                .add_enabled(can_close, egui::Button::new("Close the round"))
                .on_disabled_hover_text("Only its coordinator closes an open round")
                .clicked()
            {
                commands.push(Command::Consult(ConsultAction::Close(view.round.id)));
            }
        });
        ui.columns(2, |cols| {
            let [left, right] = cols else { return };
            if let Some(t) = self.matrix_ui(left, view)
                && self.form.technology != Some(t)
            {
                self.form.technology = Some(t);
                self.prefill(session, view.round.id);
            }
            if view.round.status == "open" {
                self.answer_ui(right, session, view, writable, commands);
                stances_ui(right, view, writable, commands);
            } else {
                right.label(
                    "This round is closed: its consolidated assessments are in the register.",
                );
            }
        });
    }

    /// The matrix; returns the technology whose row was clicked (to answer it).
    fn matrix_ui(&self, ui: &mut egui::Ui, view: &RoundView) -> Option<Uuid> {
        let mut picked = None;
        // The matrix: technologies × Member States, coloured by the TRL given.
        let mut states: BTreeSet<String> = view.expected.iter().cloned().collect();
        for t in &view.technologies {
            states.extend(t.member_states.iter().cloned());
        }
        ui.label(egui::RichText::new("Answers by Member State (TRL; grey: no answer)").small());
        egui::ScrollArea::both()
            .id_salt("matrix")
            .max_height(260.0)
            .show(ui, |ui| {
                egui::Grid::new("matrix-grid").striped(true).show(ui, |ui| {
                    ui.strong("Technology");
                    for s in &states {
                        ui.strong(s);
                    }
                    for h in ["TRL", "Criticality", "Supply risk", "Dissent"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for t in &view.technologies {
                        if ui
                            .selectable_label(self.form.technology == Some(t.id), &t.name)
                            .on_hover_text("Answer this technology")
                            .clicked()
                        {
                            picked = Some(t.id);
                        }
                        for s in &states {
                            // Every counted answer of that Member State (two experts: "4/6").
                            let of_state: Vec<_> =
                                t.responses.iter().filter(|r| &r.member_state == s).collect();
                            if let Some(first) = of_state.first() {
                                let text = of_state
                                    .iter()
                                    .map(|r| r.trl.map_or_else(|| "yes".to_owned(), |x| x.to_string()))
                                    .collect::<Vec<_>>()
                                    .join("/");
                                let fill = first.trl.map_or(Color32::from_gray(120), trl_colour);
                                let hover = of_state
                                    .iter()
                                    .map(|r| {
                                        format!(
                                            "{} ({}), {}: criticality {}, supply risk {}, EU position {}",
                                            r.member,
                                            r.member_state,
                                            r.classification.code(),
                                            r.criticality.map_or_else(|| "-".into(), |x| x.to_string()),
                                            r.supply_risk.map_or_else(|| "-".into(), |x| x.to_string()),
                                            r.eu_position.as_deref().unwrap_or("-")
                                        )
                                    })
                                    .collect::<Vec<_>>()
                                    .join("\n");
                                ui.label(
                                    egui::RichText::new(format!(" {text} "))
                                        .background_color(fill)
                                        .color(Color32::WHITE),
                                )
                                .on_hover_text(hover);
                            } else {
                                ui.label(
                                    egui::RichText::new(" — ")
                                        .background_color(Color32::from_gray(200)),
                                );
                            }
                        }
                        ui.label(show_spread(&t.trl));
                        ui.label(show_spread(&t.criticality));
                        ui.label(show_spread(&t.supply_risk));
                        ui.label(if t.dissent {
                            egui::RichText::new(t.dissent_on.join(", ")).color(Color32::from_rgb(200, 60, 40))
                        } else {
                            egui::RichText::new("-")
                        });
                        ui.end_row();
                    }
                });
            });
        egui::CollapsingHeader::new("Narratives side by side")
            .default_open(false)
            .show(ui, |ui| {
                for t in &view.technologies {
                    if t.responses.iter().all(|r| r.narrative.is_none()) {
                        continue;
                    }
                    ui.strong(&t.name);
                    ui.columns(t.responses.len().max(1), |cols| {
                        for (col, r) in cols.iter_mut().zip(&t.responses) {
                            col.label(
                                egui::RichText::new(format!(
                                    "{} ({})",
                                    r.member_state,
                                    r.classification.code()
                                ))
                                .strong(),
                            );
                            col.label(r.narrative.as_deref().unwrap_or("-"));
                        }
                    });
                }
            });
        if !view.not_counted.is_empty() {
            ui.label(format!(
                "{} answer(s) not counted (their authors are not verified members)",
                view.not_counted.len()
            ));
        }
        picked
    }

    fn answer_ui(
        &mut self,
        ui: &mut egui::Ui,
        session: &Session,
        view: &RoundView,
        writable: bool,
        commands: &mut Vec<Command>,
    ) {
        ui.strong("Your answer");
        let before = self.form.technology;
        ui.horizontal(|ui| {
            ui.label("Technology");
            let shown = view
                .technologies
                .iter()
                .find(|t| Some(t.id) == self.form.technology)
                .map_or_else(String::new, |t| t.name.clone());
            egui::ComboBox::from_id_salt("answer-technology")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for t in &view.technologies {
                        ui.selectable_value(&mut self.form.technology, Some(t.id), &t.name);
                    }
                });
        });
        if self.form.technology != before {
            self.prefill(session, view.round.id);
        }
        let tech = view
            .technologies
            .iter()
            .find(|t| Some(t.id) == self.form.technology);
        if let Some(previous) = tech.and_then(|t| t.previous.as_ref()) {
            let values = |key: &str| {
                let list: Vec<String> = previous[key]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(serde_json::Value::as_f64)
                            .map(|v| v.to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                if list.is_empty() {
                    "-".to_owned()
                } else {
                    list.join(", ")
                }
            };
            let positions: Vec<String> = previous["eu_position"]
                .as_object()
                .map(|o| o.iter().map(|(k, n)| format!("{k} {n}")).collect())
                .unwrap_or_default();
            ui.label(format!(
                "Previous round, anonymised ({} answer(s)): TRL {} · criticality {} · supply risk {} · EU position {}",
                previous["answers"],
                values("trl"),
                values("criticality"),
                values("supply_risk"),
                if positions.is_empty() { "-".to_owned() } else { positions.join(", ") }
            ));
            let own = view
                .round
                .follow_up_of
                .zip(self.form.technology)
                .and_then(|(r, t)| session.own_answer(r, t).ok().flatten());
            ui.label(match own {
                Some(a) => format!(
                    "Your answer then: TRL {} · criticality {} · supply risk {} · EU position {}",
                    a.fields
                        .get("trl")
                        .map_or_else(|| "-".to_owned(), ToString::to_string),
                    a.fields
                        .get("criticality")
                        .map_or_else(|| "-".to_owned(), ToString::to_string),
                    a.fields
                        .get("supply_risk")
                        .map_or_else(|| "-".to_owned(), ToString::to_string),
                    a.text("eu_position").unwrap_or("-")
                ),
                None => "You did not answer it in the previous round.".to_owned(),
            });
        }
        egui::Grid::new("answer-form").show(ui, |ui| {
            let l = ui.label("Your TRL");
            egui::ComboBox::from_id_salt("answer-trl")
                .selected_text(if self.form.trl == 0 {
                    "TRL: no answer".to_owned()
                } else {
                    format!("TRL {}", self.form.trl)
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.form.trl, 0, "TRL: no answer");
                    for level in 1..=9u8 {
                        ui.selectable_value(&mut self.form.trl, level, format!("TRL {level}"));
                    }
                })
                .response
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Criticality 0-10");
            ui.add(egui::TextEdit::singleline(&mut self.form.criticality).desired_width(60.0))
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Supply risk 0-10");
            ui.add(egui::TextEdit::singleline(&mut self.form.supply_risk).desired_width(60.0))
                .labelled_by(l.id);
            ui.end_row();
            ui.label("EU position");
            egui::ComboBox::from_id_salt("answer-position")
                .selected_text(if self.form.eu_position.is_empty() {
                    "no answer"
                } else {
                    self.form.eu_position.as_str()
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.form.eu_position, String::new(), "no answer");
                    for p in EU_POSITIONS {
                        ui.selectable_value(&mut self.form.eu_position, (*p).to_owned(), *p);
                    }
                });
            ui.end_row();
            let l = ui.label("Narrative");
            ui.add(egui::TextEdit::multiline(&mut self.form.narrative).desired_rows(3))
                .labelled_by(l.id);
            ui.end_row();
            ui.label("Level of your answer");
            egui::ComboBox::from_id_salt("answer-level")
                .selected_text(self.form.level.code())
                .show_ui(ui, |ui| {
                    for l in Classification::ALL {
                        ui.selectable_value(&mut self.form.level, l, l.code());
                    }
                });
            ui.end_row();
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("Gaps");
            for g in GAPS {
                let mut on = self.form.gaps.contains(*g);
                if ui.checkbox(&mut on, *g).changed() {
                    if on {
                        self.form.gaps.insert((*g).to_owned());
                    } else {
                        self.form.gaps.remove(*g);
                    }
                }
            }
        });
        if let Some(e) = &self.form.error {
            ui.colored_label(Color32::from_rgb(200, 60, 40), e);
        }
        if ui
            .add_enabled(
                writable && tech.is_some(),
                egui::Button::new("Submit the answer"),
            )
            .clicked()
        {
            match self.spec() {
                Ok(spec) => {
                    self.form.error = None;
                    commands.push(Command::Consult(ConsultAction::Answer(view.round.id, spec)));
                }
                Err(e) => self.form.error = Some(e),
            }
        }
    }

    fn spec(&self) -> Result<AnswerSpec, String> {
        let number = |text: &str, what: &str| -> Result<Option<f64>, String> {
            let t = text.trim().replace(',', ".");
            if t.is_empty() {
                return Ok(None);
            }
            match t.parse::<f64>() {
                Ok(v) if (0.0..=10.0).contains(&v) => Ok(Some(v)),
                _ => Err(format!("{what} is a number from 0 to 10, not {text:?}")),
            }
        };
        Ok(AnswerSpec {
            subject: self.form.technology.ok_or("choose a technology")?,
            trl: (self.form.trl > 0).then_some(i64::from(self.form.trl)),
            criticality: number(&self.form.criticality, "Criticality")?,
            supply_risk: number(&self.form.supply_risk, "Supply risk")?,
            eu_position: (!self.form.eu_position.is_empty()).then(|| self.form.eu_position.clone()),
            gaps: self.form.gaps.iter().cloned().collect(),
            narrative: Some(self.form.narrative.trim().to_owned()).filter(|n| !n.is_empty()),
            classification: Some(self.form.level),
            replace: true,
            ..AnswerSpec::default()
        })
    }
}

/// The proposals a round carries, with the Member States' stances and the buttons to take one.
fn stances_ui(ui: &mut egui::Ui, view: &RoundView, writable: bool, commands: &mut Vec<Command>) {
    if view.proposals.is_empty() {
        return;
    }
    ui.separator();
    ui.strong("Proposals put to the members");
    for p in &view.proposals {
        ui.label(format!(
            "{}: support {} · oppose {} · abstain {}",
            p.label,
            if p.support.is_empty() {
                "-".to_owned()
            } else {
                p.support.join(", ")
            },
            if p.oppose.is_empty() {
                "-".to_owned()
            } else {
                p.oppose.join(", ")
            },
            if p.abstain.is_empty() {
                "-".to_owned()
            } else {
                p.abstain.join(", ")
            },
        ));
        ui.horizontal(|ui| {
            for (label, stance) in [
                ("Support", "support"),
                ("Oppose", "oppose"),
                ("Abstain", "abstain"),
            ] {
                if ui.add_enabled(writable, egui::Button::new(label)).clicked() {
                    commands.push(Command::Consult(ConsultAction::Stance(
                        view.round.id,
                        p.id,
                        stance.to_owned(),
                    )));
                }
            }
        });
    }
}

/// The versions of the list and the newest one's changes, as lines.
fn revision_lines(
    session: &Session,
    versions: &[crate::service::consultation::VersionSummary],
) -> Vec<String> {
    use crate::model::listing::Difference;
    let mut lines: Vec<String> = versions
        .iter()
        .map(|v| {
            format!(
                "Version {} of {}: {} technologies, {} proposal(s) accepted ({})",
                v.number,
                v.date,
                v.technologies,
                v.proposals,
                v.classification.code()
            )
        })
        .collect();
    if let [.., before, last] = versions
        && let Ok((_, _, diff)) = session.diff_versions(before.number, last.number)
    {
        lines.extend(diff.into_iter().map(|d| match d {
            Difference::Added { entry } => format!("  added {} ({})", entry.name, entry.area),
            Difference::Removed { entry } => {
                format!("  removed {} (stays in the register, retired)", entry.name)
            }
            Difference::Renamed { from, to, .. } => format!("  renamed {from} -> {to}"),
            Difference::Moved { name, from, to, .. } => format!("  moved {name}: {from} -> {to}"),
        }));
    }
    lines
}

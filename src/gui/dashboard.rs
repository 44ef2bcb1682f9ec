//! Dashboard (counts, risk matrix, dual-use watchlist, top dependencies, recent changes) and
//! the audit log view. Their data is read once per visit or change ([`Overview::load`]),
//! never per frame.

use egui_plot::{Plot, PlotPoints, Points};
use uuid::Uuid;

use super::app::{Command, Unlocked, View};
use super::register::kind_title;
use super::theme;
use crate::analysis::{self, ItemConcentration};
use crate::model::{Classification, Kind};
use crate::service::Session;
use crate::store::{AuditEntry, AuditReport};

/// Domains that put a technology on the dual-use watchlist.
const WATCH_DOMAINS: [&str; 3] = ["defence", "space", "civil-security"];

/// A technology in the risk matrix or on the watchlist.
#[derive(Debug, Clone)]
pub(super) struct Point {
    id: Uuid,
    name: String,
    criticality: Option<f64>,
    supply_risk: Option<f64>,
    trl: Option<i64>,
    date: String,
    /// The incubator's "flagged for uptake" action, in words, if taken.
    uptake: Option<String>,
}

/// What the dashboard and the audit view show.
#[derive(Debug, Default)]
pub(super) struct Overview {
    counts: Vec<(Kind, u64)>,
    matrix: Vec<Point>,
    watchlist: Vec<Point>,
    dependencies: Vec<ItemConcentration>,
    /// Whether `dependencies` are only those the technologies need.
    dependencies_needed: bool,
    audit_entries: Vec<AuditEntry>,
    audit: Option<AuditReport>,
    /// Open consultation rounds, nearest deadline first.
    rounds: Vec<crate::service::consultation::RoundSummary>,
    /// The five most urgent technologies for the EU (id, name, score, uncovered gaps).
    priorities: Vec<(Uuid, String, f64, usize)>,
    /// Highest classification of the records the view draws on.
    pub(super) level: Classification,
}

impl Overview {
    /// Reads what `view` needs.
    pub(super) fn load(session: &Session, view: View) -> Self {
        match view {
            View::Dashboard => Self::dashboard(session),
            View::Audit => {
                let store = session.store();
                Overview {
                    audit_entries: store.audit_entries(Some(500)).unwrap_or_default(),
                    audit: store.verify_audit().ok(),
                    ..Overview::default()
                }
            }
            View::Register(_)
            | View::Members
            | View::Graph
            | View::Timeline
            | View::Reports
            | View::Exchange
            | View::Consultation
            | View::Priorities => Overview::default(),
        }
    }

    fn dashboard(session: &Session) -> Self {
        let list = |kind| session.list(kind).unwrap_or_default();
        let (technologies, assessments) = (list(Kind::Technology), list(Kind::Assessment));
        let (items, organisations, links) =
            (list(Kind::Item), list(Kind::Organisation), list(Kind::Link));
        let latest = analysis::latest_assessments(&assessments);
        let mut level = Classification::Unclassified;
        let mut matrix = Vec::new();
        let mut watchlist = Vec::new();
        for t in &technologies {
            let Some(a) = latest.get(&t.meta.id) else {
                continue;
            };
            let number = |name: &str| a.fields.get(name).and_then(serde_json::Value::as_f64);
            let point = Point {
                id: t.meta.id,
                name: t.label(),
                criticality: number("criticality"),
                supply_risk: number("supply_risk"),
                trl: a.fields.get("trl").and_then(serde_json::Value::as_i64),
                date: a.text("date").unwrap_or_default().to_owned(),
                uptake: (t.text("uptake_to").is_some() || t.text("uptake_route").is_some()).then(
                    || {
                        format!(
                            "flagged for uptake {} to {} via {}",
                            t.text("uptake_date").unwrap_or("?"),
                            t.text("uptake_to").unwrap_or("?"),
                            t.text("uptake_route").unwrap_or("?")
                        )
                    },
                ),
            };
            let mut used = false;
            if point.criticality.is_some() && point.supply_risk.is_some() {
                matrix.push(point.clone());
                used = true;
            }
            let domains: Vec<&str> = t
                .fields
                .get("domains")
                .and_then(serde_json::Value::as_array)
                .map(|d| d.iter().filter_map(serde_json::Value::as_str).collect())
                .unwrap_or_default();
            if point.trl.is_some_and(|trl| (5..=6).contains(&trl))
                && domains.iter().any(|d| WATCH_DOMAINS.contains(d))
            {
                watchlist.push(point);
                used = true;
            }
            if used {
                level = level.max(t.meta.classification).max(a.meta.classification);
            }
        }
        watchlist.sort_by(|a, b| a.name.cmp(&b.name));
        // What the register's technologies need comes first; the rest only when nothing is
        // linked to a technology yet.
        let technologies = session.list(Kind::Technology).unwrap_or_default();
        let graph =
            analysis::GraphBuilder::from_records(&technologies, &items, &organisations, &links)
                .at_year(session.data_year())
                .build();
        let mut dependencies = graph.item_metrics();
        let needed = graph.needed_by();
        let (mut first, rest): (Vec<_>, Vec<_>) = dependencies
            .into_iter()
            .partition(|d| needed.contains_key(&d.id.to_string()));
        let needed_only = !first.is_empty();
        if !needed_only {
            first = rest;
        }
        dependencies = first;
        dependencies.truncate(10);
        // The supply figures behind the top dependencies are on screen too.
        let shown: std::collections::BTreeSet<String> =
            dependencies.iter().map(|d| d.id.to_string()).collect();
        // So are the organisations those figures name (top firm, a firm's country).
        let mut named: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for record in items.iter().chain(&links) {
            let concerns = shown.contains(&record.meta.id.to_string())
                || record.text("from_id").is_some_and(|f| shown.contains(f));
            if concerns {
                level = level.max(record.meta.classification);
                if let Some(to) = record.text("to_id") {
                    named.insert(to.to_owned());
                }
            }
        }
        for org in &organisations {
            if named.contains(&org.meta.id.to_string()) {
                level = level.max(org.meta.classification);
            }
        }
        let mut rounds: Vec<_> = session
            .rounds()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.status == "open")
            .collect();
        rounds.sort_by(|a, b| (&a.deadline, a.id).cmp(&(&b.deadline, b.id)));
        for r in &rounds {
            level = level.max(r.classification);
        }
        let mut priorities = Vec::new();
        if let Ok(ranking) = session.priorities("EU", &[]) {
            for t in ranking
                .technologies
                .iter()
                .filter(|t| t.score > 0.0)
                .take(5)
            {
                level = level.max(t.classification);
                priorities.push((t.id, t.name.clone(), t.score, t.uncovered_gaps.len()));
            }
        }
        Overview {
            rounds,
            priorities,
            counts: Kind::ALL
                .iter()
                .map(|k| (*k, session.store().counts(*k).map_or(0, |c| c.live)))
                .collect(),
            matrix,
            watchlist,
            dependencies,
            dependencies_needed: needed_only,
            audit_entries: session.store().audit_entries(Some(15)).unwrap_or_default(),
            audit: None,
            level,
        }
    }
}

impl Unlocked {
    pub(super) fn dashboard_ui(&self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let overview = &self.overview;
        ui.heading("Dashboard");
        ui.horizontal_wrapped(|ui| {
            for (kind, live) in &overview.counts {
                ui.label(format!("{}: {live}", kind_title(*kind)));
                ui.separator();
            }
        });
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.columns(2, |columns| {
                risk_matrix_ui(&mut columns[0], &overview.matrix, commands);
                let ui = &mut columns[1];
                ui.strong("Where to act first (EU): most urgent technologies");
                if overview.priorities.is_empty() {
                    ui.label("Nothing to rank yet: record supply figures, assessments and measures");
                }
                for (id, name, score, uncovered) in &overview.priorities {
                    let text = format!("{score:.0}  {name}  ({uncovered} uncovered)");
                    if ui.link(text).clicked() {
                        commands.push(Command::Edit(Kind::Technology, Some(*id)));
                    }
                }
                if ui.button("All priorities…").clicked() {
                    commands.push(Command::Navigate(View::Priorities));
                }
                ui.add_space(10.0);
                ui.strong("Consultation: open rounds");
                if overview.rounds.is_empty() {
                    ui.label("No open consultation round");
                }
                for r in &overview.rounds {
                    let text = format!(
                        "{}  {}{}  ({} answer(s))",
                        r.deadline,
                        r.title,
                        if r.overdue { "  OVERDUE" } else { "" },
                        r.answers
                    );
                    if ui.link(text).clicked() {
                        commands.push(Command::Navigate(View::Consultation));
                    }
                }
                ui.add_space(10.0);
                ui.strong("Incubator: dual-use watchlist (TRL 5-6, defence / space / security)");
                if overview.watchlist.is_empty() {
                    ui.label("No technology at TRL 5-6 with defence, space or security uses in the latest assessments");
                }
                for p in &overview.watchlist {
                    let text = format!("TRL {}  {} ({})", p.trl.unwrap_or_default(), p.name, p.date);
                    if ui.link(text).clicked() {
                        commands.push(Command::Edit(Kind::Technology, Some(p.id)));
                    }
                    ui.label(
                        egui::RichText::new(p.uptake.as_deref().unwrap_or(
                            "not yet flagged for uptake (set \"uptake\" in the technology, or `observatory incubator flag`)",
                        ))
                        .small(),
                    );
                }
                ui.add_space(10.0);
                ui.strong(if overview.dependencies_needed {
                    "Top dependencies of the technologies, by concentration"
                } else {
                    "Top dependencies by concentration"
                });
                if overview.dependencies.is_empty() {
                    ui.label("No supply shares recorded yet: add produced-in or supplied-by links with shares");
                }
                egui::Grid::new("dependencies").striped(true).show(ui, |ui| {
                    if !overview.dependencies.is_empty() {
                        ui.strong("Item");
                        ui.strong("HHI");
                        ui.strong("Top country");
                        ui.strong("Top firm");
                        ui.strong("EU share");
                        ui.strong("Year");
                        ui.end_row();
                    }
                    for d in &overview.dependencies {
                        if ui.link(&d.name).clicked() {
                            commands.push(Command::Edit(Kind::Item, Some(d.id)));
                        }
                        ui.label(format!("{:.0}", d.hhi));
                        let top = if d.top_country.is_empty() {
                            "–".to_owned()
                        } else {
                            format!("{} {:.1} %", d.top_country, d.top_share * 100.0)
                        };
                        if d.unattributed_share > 0.0 {
                            ui.label(format!(
                                "{top} (rest {:.1} %)",
                                d.unattributed_share * 100.0
                            ));
                        } else {
                            ui.label(top);
                        }
                        ui.label(match (&d.top_organisation, d.top_organisation_share) {
                            (Some(name), Some(share)) => format!("{name} {:.1} %", share * 100.0),
                            _ => "–".into(),
                        });
                        ui.label(format!("{:.1} %", d.eu_share * 100.0));
                        ui.label(d.year.map_or_else(|| "–".into(), |y| y.to_string()));
                        ui.end_row();
                    }
                });
            });
            ui.separator();
            ui.strong("Recent changes");
            self.audit_table(ui, 15);
        });
    }

    /// This member's card, to give to the others and to compare fingerprints aloud, and the
    /// keyring of the others' cards.
    pub(super) fn members_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        // A keyring of the whole expert group is taller than the window.
        egui::ScrollArea::vertical()
            .id_salt("members")
            .show(ui, |ui| self.members_body_ui(ui, commands));
        self.confirm_verify_ui(ui.ctx(), commands);
    }

    fn members_body_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.heading("Members");
        let card = self.session.identity().card();
        ui.strong("You");
        egui::Grid::new("card").num_columns(2).show(ui, |ui| {
            for (label, value) in [
                ("Name", card.profile.name.clone()),
                ("Member State", card.profile.member_state.clone()),
                ("Clearance", card.profile.clearance.marking().to_owned()),
                ("age recipient", card.age_recipient.clone()),
                ("Signing key (Ed25519)", card.signing_key_base64()),
                ("Fingerprint", card.fingerprint()),
                ("Key id", card.key_id()),
            ] {
                ui.label(label);
                ui.monospace(value);
                ui.end_row();
            }
        });
        if ui.button("Copy my member card").clicked() {
            ui.ctx().copy_text(card.to_string());
        }
        ui.add_space(8.0);
        ui.label("Read the fingerprint aloud or compare it on paper before another member trusts your card; a new clearance means a new card.");
        ui.separator();
        let members = self.session.members().unwrap_or_default();
        ui.strong(format!("Keyring: {} member(s)", members.len()));
        egui::Grid::new("keyring").striped(true).num_columns(6).show(ui, |ui| {
            for title in ["Name", "Member State", "Clearance", "Fingerprint", "Status", ""] {
                ui.strong(title);
            }
            ui.end_row();
            for m in &members {
                ui.label(&m.name);
                ui.label(&m.member_state);
                ui.label(m.clearance.marking());
                match m.grouped_card_fingerprint() {
                    Some(fingerprint) => ui.monospace(fingerprint),
                    None => ui.label("version 1 card").on_hover_text(format!("Key id {}", m.grouped_fingerprint())),
                };
                let status = match m.status() {
                    "verified" => egui::RichText::new("verified").color(theme::OK),
                    "revoked" => egui::RichText::new("revoked").color(theme::ERROR),
                    "re-verify" => egui::RichText::new("re-verify").color(theme::WARN),
                    other => egui::RichText::new(other),
                };
                let status = ui.label(status);
                if m.status() == "re-verify" {
                    status.on_hover_text(format!("An old card, without name, Member State and clearance in its fingerprint: ask {} for a new card and add it", m.name));
                }
                ui.horizontal(|ui| {
                    let writable = self.session.viewing().is_none();
                    if m.status() == "unverified"
                        && ui
                            .add_enabled(writable, egui::Button::new(format!("Verify {}", m.name)))
                            .on_hover_text("Shows what to compare with the member, aloud or on paper")
                            .clicked()
                    {
                        self.confirm_verify = Some(m.clone());
                    }
                    if m.status() != "revoked"
                        && ui
                            .add_enabled(writable, egui::Button::new(format!("Revoke {}", m.name)))
                            .on_hover_text("For good: a lost key, or the member left the group")
                            .clicked()
                    {
                        commands.push(Command::RevokeMember(m.fingerprint.clone()));
                    }
                });
                ui.end_row();
            }
        });
        ui.add_space(8.0);
        ui.label("Add a member card: paste the card text (from `observatory card`, or the member's \"Copy my member card\").");
        let l = ui.label("Member card");
        // A fixed height, so that the buttons below stay in place whatever is pasted.
        egui::ScrollArea::vertical()
            .id_salt("member_card")
            .max_height(120.0)
            .show(ui, |ui| {
                ui.add(
                    egui::TextEdit::multiline(&mut self.member_card)
                        .desired_rows(7)
                        .desired_width(640.0)
                        .font(egui::TextStyle::Monospace)
                        .hint_text("Observatory member card v2\nname: …"),
                )
                .labelled_by(l.id);
            });
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    self.session.viewing().is_none(),
                    egui::Button::new("Add the card"),
                )
                .clicked()
            {
                commands.push(Command::AddMember(self.member_card.clone()));
            }
            if ui.button("Read a card file…").clicked()
                && let Some(path) = rfd::FileDialog::new().pick_file()
            {
                match std::fs::read_to_string(&path) {
                    Ok(text) => self.member_card = text,
                    Err(e) => self.message = Some(format!("Cannot read {}: {e}", path.display())),
                }
            }
        });
    }

    /// Before a card is verified: what the member must confirm, one item a line.
    fn confirm_verify_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some(m) = self.confirm_verify.clone() else {
            return;
        };
        let Some(fingerprint) = m.card_fingerprint.clone() else {
            self.confirm_verify = None;
            return;
        };
        egui::Window::new("Verify member?")
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(format!(
                    "Compare each line with {}, aloud or on paper:",
                    m.name
                ));
                egui::Grid::new("confirm_verify")
                    .num_columns(2)
                    .show(ui, |ui| {
                        for (label, value) in [
                            ("Name", m.name.clone()),
                            ("Member State", m.member_state.clone()),
                            ("Clearance", m.clearance.marking().to_owned()),
                            ("Fingerprint", crate::fsutil::group_hex(&fingerprint)),
                        ] {
                            ui.label(label);
                            ui.monospace(value);
                            ui.end_row();
                        }
                    });
                ui.horizontal(|ui| {
                    if ui.button("All match: verify").clicked() {
                        commands.push(Command::VerifyMember {
                            member: m.fingerprint.clone(),
                            card_fingerprint: fingerprint.clone(),
                        });
                    }
                    if ui.button("Cancel").clicked() {
                        self.confirm_verify = None;
                    }
                });
            });
    }

    pub(super) fn audit_ui(&self, ui: &mut egui::Ui) {
        ui.heading("Audit log");
        match &self.overview.audit {
            Some(report) => match report.first_broken_seq {
                None => ui.colored_label(
                    theme::OK,
                    format!("Hash chain intact ({} entries)", report.entries),
                ),
                Some(seq) => ui.colored_label(
                    theme::ERROR,
                    format!("Hash chain broken at entry {seq}: the log was altered"),
                ),
            },
            None => ui.label(""),
        };
        egui::ScrollArea::vertical().show(ui, |ui| self.audit_table(ui, usize::MAX));
    }

    fn audit_table(&self, ui: &mut egui::Ui, limit: usize) {
        egui::Grid::new(format!("audit{limit}"))
            .striped(true)
            .show(ui, |ui| {
                for e in self.overview.audit_entries.iter().rev().take(limit) {
                    ui.label(&e.at);
                    ui.label(&e.action);
                    ui.label(e.record_kind.as_deref().unwrap_or(""));
                    ui.label(e.author.get(..8).unwrap_or(&e.author));
                    ui.end_row();
                }
            });
    }
}

/// Criticality against supply risk, a point per technology (latest assessment). Hover shows
/// the name and values; a click opens the nearest technology.
fn risk_matrix_ui(ui: &mut egui::Ui, points: &[Point], commands: &mut Vec<Command>) {
    ui.strong("Risk matrix (latest assessments)");
    if points.is_empty() {
        ui.label("No assessment with both criticality and supply risk yet");
        return;
    }
    let response = Plot::new("risk_matrix")
        .height(320.0)
        .x_axis_label("criticality (0-10)")
        .y_axis_label("supply risk")
        .include_x(0.0)
        .include_x(10.0)
        .include_y(0.0)
        .allow_scroll(false)
        .label_formatter(|pos| match pos {
            egui_plot::HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => Some(format!(
                "{plot_name}\ncriticality {:.1}, supply risk {:.2}",
                position.x, position.y
            )),
            egui_plot::HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot_ui| {
            for p in points {
                let xy = [
                    p.criticality.unwrap_or_default(),
                    p.supply_risk.unwrap_or_default(),
                ];
                plot_ui.points(
                    Points::new(p.name.clone(), PlotPoints::from(vec![xy]))
                        .radius(5.0)
                        .color(theme::MATRIX_POINT),
                );
            }
            plot_ui
                .response()
                .clicked()
                .then(|| plot_ui.pointer_coordinate())
                .flatten()
        });
    if let Some(at) = response.inner {
        // Nearest point in screen distance.
        let transform = &response.transform;
        let click = transform.position_from_point(&at);
        let nearest = points
            .iter()
            .map(|p| {
                let pos = transform.position_from_point(&egui_plot::PlotPoint::new(
                    p.criticality.unwrap_or_default(),
                    p.supply_risk.unwrap_or_default(),
                ));
                (pos.distance(click), p.id)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((distance, id)) = nearest
            && distance < 12.0
        {
            commands.push(Command::Edit(Kind::Technology, Some(id)));
        }
    }
}

//! The Exchange view: send a bundle to verified members (recipients, scope, a preview of what
//! leaves, written through the save dialog, read back and verified before it says the medium
//! may be removed), receive one (checked and previewed before anything is applied), settle
//! conflicts, and the outbox and inbox.

use std::collections::BTreeSet;
use std::path::PathBuf;

use uuid::Uuid;

use super::app::Command;
use super::theme;
use crate::model::{Classification, Kind};
use crate::service::Session;
use crate::service::bundle::{BundleImport, ExportPlan, ExportScope, MAX_BUNDLE_BYTES};
use crate::service::exchange::{
    ConflictInfo, HeldChange, InboxEntry, OutboxEntry, ProposalInfo, Resolution,
};
use crate::store::MemberInfo;

/// At most this many records are listed for a selection (narrow with the filter).
const SHOWN: usize = 500;

/// Which changes the bundle carries, as chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Everything the recipients may see.
    #[default]
    Everything,
    /// The changes since the last bundle to the same recipients.
    SinceLast,
    /// The changes of chosen records.
    Selection,
}

/// A record offered for a selection.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Kind.
    pub kind: Kind,
    /// Id.
    pub id: Uuid,
    /// Label.
    pub label: String,
    /// Label in lower case, for the filter.
    lower: String,
    /// Classification.
    pub level: Classification,
}

/// What the view reads from the file, once per change.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// The keyring.
    pub members: Vec<MemberInfo>,
    /// Bundles sent.
    pub outbox: Vec<OutboxEntry>,
    /// Bundles imported.
    pub inbox: Vec<InboxEntry>,
    /// Open conflicts.
    pub conflicts: Vec<ConflictInfo>,
    /// Changes held back (clocks ahead of this member's).
    pub held: Vec<HeldChange>,
    /// Proposed downgrades and releases (originator control).
    pub proposals: Vec<ProposalInfo>,
    /// Records that may be chosen.
    pub choices: Vec<Choice>,
}

/// A received bundle, checked (dry run) and waiting to be applied.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// What applying it would do, or why it is refused.
    pub check: Result<BundleImport, String>,
}

/// The view's state.
#[derive(Default)]
pub struct ExchangeView {
    /// Chosen recipients (fingerprints).
    pub recipients: BTreeSet<String>,
    /// Chosen scope.
    pub scope: Scope,
    /// Chosen records, for [`Scope::Selection`].
    pub selection: BTreeSet<Uuid>,
    /// Filter of the selection list.
    pub filter: String,
    /// The preview of what would leave.
    pub plan: Option<Result<ExportPlan, String>>,
    /// The bundle file to write.
    pub out: String,
    /// What the last write did (true: written and verified).
    pub sent: Option<(bool, String)>,
    /// The bundle file to read.
    pub incoming_path: String,
    /// A received bundle waiting to be applied.
    pub incoming: Option<Incoming>,
    /// What the last import did.
    pub received: Option<(bool, String)>,
    /// What the view shows from the file (None: read again).
    pub ledger: Option<Ledger>,
}

impl ExchangeView {
    /// Reads the file again when next shown.
    pub fn invalidate(&mut self) {
        self.ledger = None;
        self.plan = None;
    }

    /// Reads the file again now (the view is on screen: its marking must be right before the
    /// next frame draws the banners).
    pub fn reload(&mut self, session: &Session) {
        self.plan = None;
        self.ledger = Some(Self::load(session));
    }

    /// The scope as the service takes it.
    #[must_use]
    pub fn export_scope(&self) -> ExportScope {
        match self.scope {
            Scope::Everything => ExportScope::Everything,
            Scope::SinceLast => ExportScope::SinceLast,
            Scope::Selection => ExportScope::Selection(self.selection.iter().copied().collect()),
        }
    }

    /// The highest level on screen: what would leave, the conflicts, the outbox, and the
    /// selection list when it is shown.
    #[must_use]
    pub fn level(&self) -> Classification {
        let mut level = match &self.plan {
            Some(Ok(p)) => p.highest,
            _ => Classification::Unclassified,
        };
        if let Some(l) = &self.ledger {
            level = l
                .conflicts
                .iter()
                .map(|c| c.classification)
                .chain(l.outbox.iter().map(|b| b.classification))
                .chain(l.proposals.iter().map(|p| p.classification))
                .fold(level, Classification::max);
            if self.scope == Scope::Selection {
                level = self
                    .shown(&l.choices)
                    .iter()
                    .map(|c| c.level)
                    .fold(level, Classification::max);
            }
        }
        level
    }

    /// The records the selection list shows: those matching the filter, and those chosen.
    fn shown<'a>(&self, choices: &'a [Choice]) -> Vec<&'a Choice> {
        let filter = self.filter.trim().to_lowercase();
        choices
            .iter()
            .filter(|c| {
                filter.is_empty() || c.lower.contains(&filter) || self.selection.contains(&c.id)
            })
            .take(SHOWN)
            .collect()
    }

    fn load(session: &Session) -> Ledger {
        let mut choices = Vec::new();
        for kind in Kind::ALL {
            for r in session.list(kind).unwrap_or_default() {
                choices.push(Choice {
                    kind,
                    id: r.meta.id,
                    label: r.label(),
                    lower: r.label().to_lowercase(),
                    level: r.meta.classification,
                });
            }
        }
        Ledger {
            members: session.members().unwrap_or_default(),
            outbox: session.outbox().unwrap_or_default(),
            inbox: session.inbox().unwrap_or_default(),
            conflicts: session.conflicts(false).unwrap_or_default(),
            held: session.held_changes().unwrap_or_default(),
            proposals: session.proposals().unwrap_or_default(),
            choices,
        }
    }

    /// Reads a bundle file (size checked first) and asks for its check.
    fn read_incoming(&mut self, path: PathBuf, commands: &mut Vec<Command>) {
        // Whatever was checked before is forgotten: only this file can be applied now.
        self.received = None;
        self.incoming = None;
        // Bounded while reading: a FIFO, a device or a file that grows is refused.
        match crate::fsutil::read_bounded(&path, MAX_BUNDLE_BYTES) {
            Ok(bytes) => commands.push(Command::CheckBundle { path, bytes }),
            Err(e) => self.received = Some((false, format!("Cannot read {}: {e}", path.display()))),
        }
    }

    /// The view.
    pub fn ui(&mut self, ui: &mut egui::Ui, session: &Session, commands: &mut Vec<Command>) {
        let ledger = self.ledger.take().unwrap_or_else(|| Self::load(session));
        // A member revoked since they were chosen cannot stay chosen (nor be unticked).
        self.recipients.retain(|f| {
            ledger
                .members
                .iter()
                .any(|m| &m.fingerprint == f && m.status() == "verified")
        });
        let writable = session.viewing().is_none();
        ui.heading("Exchange");
        ui.label("Bundles are encrypted to their recipients and to you, signed with your key, and carry only what every recipient may see.");
        if !writable {
            ui.colored_label(
                theme::WARN,
                "Showing a past date: return to today to send or receive bundles.",
            );
        }
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.send_ui(ui, session, &ledger, writable, commands);
                ui.separator();
                self.receive_ui(ui, writable, commands);
                ui.separator();
                conflicts_ui(ui, &ledger.conflicts, writable, commands);
                proposals_ui(ui, &ledger.proposals, writable, commands);
                held_ui(ui, &ledger.held, writable, commands);
                ui.separator();
                ledger_ui(ui, &ledger);
            });
        self.ledger = Some(ledger);
    }

    fn send_ui(
        &mut self,
        ui: &mut egui::Ui,
        session: &Session,
        ledger: &Ledger,
        writable: bool,
        commands: &mut Vec<Command>,
    ) {
        ui.strong("Send a bundle");
        if ledger.members.is_empty() {
            ui.label("No member in your keyring yet: add and verify their cards in Members.");
        }
        ui.label("Recipients (verified members):");
        // A choice changed: the preview no longer says what would leave.
        let mut touched = false;
        ui.horizontal_wrapped(|ui| {
            for m in &ledger.members {
                let verified = m.status() == "verified";
                let mut on = self.recipients.contains(&m.fingerprint);
                let text = format!("{} ({}, {})", m.name, m.member_state, m.clearance.code());
                let response = ui.add_enabled(verified, egui::Checkbox::new(&mut on, text));
                let response = if verified {
                    response
                } else {
                    response
                        .on_disabled_hover_text(format!("{}: nothing is sent to it", m.status()))
                };
                if response.changed() {
                    touched = true;
                    toggle(&mut self.recipients, m.fingerprint.clone(), on);
                }
            }
        });
        ui.horizontal(|ui| {
            for (scope, label) in [
                (Scope::Everything, "Everything they may see"),
                (Scope::SinceLast, "Changes since the last bundle to them"),
                (Scope::Selection, "A selection of records"),
            ] {
                touched |= ui.radio_value(&mut self.scope, scope, label).changed();
            }
        });
        if self.scope == Scope::Selection {
            ui.horizontal(|ui| {
                let l = ui.label("Find");
                ui.add(egui::TextEdit::singleline(&mut self.filter).desired_width(240.0))
                    .labelled_by(l.id);
                ui.label(format!("{} chosen", self.selection.len()));
            });
            egui::ScrollArea::vertical()
                .id_salt("selection")
                .max_height(180.0)
                .show(ui, |ui| {
                    let shown = self.shown(&ledger.choices);
                    for c in shown {
                        let mut on = self.selection.contains(&c.id);
                        let text = format!(
                            "{} {}: {}",
                            crate::report::portion(c.level),
                            c.kind,
                            c.label
                        );
                        if ui.checkbox(&mut on, text).changed() {
                            touched = true;
                            toggle(&mut self.selection, c.id, on);
                        }
                    }
                });
        }
        if touched {
            self.plan = None;
        }
        let recipients: Vec<String> = self.recipients.iter().cloned().collect();
        let ready = writable && !recipients.is_empty();
        if ui
            .add_enabled(ready, egui::Button::new("Preview what leaves"))
            .clicked()
        {
            self.plan = Some(
                session
                    .plan_export(&recipients, &self.export_scope())
                    .map_err(|e| e.to_string()),
            );
        }
        match &self.plan {
            Some(Ok(plan)) => plan_ui(ui, plan),
            Some(Err(e)) => {
                ui.colored_label(theme::ERROR, format!("Nothing can be sent: {e}"));
            }
            None => {}
        }
        ui.horizontal(|ui| {
            let l = ui.label("Bundle file");
            ui.add(
                egui::TextEdit::singleline(&mut self.out)
                    .desired_width(360.0)
                    .hint_text("a new file on the removable medium"),
            )
            .labelled_by(l.id);
            if ui.button("Choose…").clicked()
                && let Some(path) = rfd::FileDialog::new()
                    .set_title("Write the bundle to")
                    .add_filter("Observatory bundle", &["obx"])
                    // A neutral name: nothing about the sender or the content on the medium.
                    .set_file_name(format!("bundle-{}.obx", ledger.outbox.len() + 1))
                    .save_file()
            {
                self.out = path.display().to_string();
            }
            let can_write = ready && !self.out.trim().is_empty();
            if ui
                .add_enabled(can_write, egui::Button::new("Write the bundle"))
                .on_hover_text("Written, then read back, decrypted and its signature checked")
                .clicked()
            {
                let path = PathBuf::from(self.out.trim());
                if path.exists() {
                    self.sent = Some((
                        false,
                        format!("{} exists already: choose a new file name", path.display()),
                    ));
                } else {
                    commands.push(Command::WriteBundle {
                        path,
                        recipients,
                        scope: self.export_scope(),
                    });
                }
            }
        });
        if let Some((ok, note)) = &self.sent {
            ui.colored_label(if *ok { theme::OK } else { theme::ERROR }, note);
        }
    }

    fn receive_ui(&mut self, ui: &mut egui::Ui, writable: bool, commands: &mut Vec<Command>) {
        ui.strong("Receive a bundle");
        ui.horizontal(|ui| {
            let l = ui.label("Bundle to import");
            ui.add(egui::TextEdit::singleline(&mut self.incoming_path).desired_width(360.0))
                .labelled_by(l.id);
            if ui
                .add_enabled(writable, egui::Button::new("Open…"))
                .clicked()
                && let Some(path) = rfd::FileDialog::new()
                    .set_title("Import a bundle")
                    .add_filter("Observatory bundle", &["obx"])
                    .pick_file()
            {
                self.incoming_path = path.display().to_string();
                self.read_incoming(path, commands);
            }
            if ui
                .add_enabled(
                    writable && !self.incoming_path.trim().is_empty(),
                    egui::Button::new("Check"),
                )
                .on_hover_text("Decrypt, verify and show what it would change; nothing is applied")
                .clicked()
            {
                self.read_incoming(PathBuf::from(self.incoming_path.trim()), commands);
            }
        });
        if let Some(incoming) = &self.incoming {
            match &incoming.check {
                Ok(r) => {
                    ui.label(format!("{}:", incoming.path.display()));
                    ui.label(format!(
                        "From {} (sequence {}): {} new record(s), {} changed, {} unchanged, {} conflicting, {} quarantined",
                        r.sender, r.sequence, r.new_records, r.changed, r.unchanged, r.conflicting, r.quarantined
                    ));
                    if r.proposed > 0 {
                        ui.colored_label(
                            theme::WARN,
                            format!("{} change(s) would lower a classification or widen a releasability without the originator's signature: kept as proposals for the originator, not applied", r.proposed),
                        );
                    }
                    for refused in &r.refused {
                        ui.colored_label(
                            theme::ERROR,
                            format!(
                                "Change {} ({} {}, {}) refused: {}",
                                refused.change,
                                refused.record_kind,
                                refused.record_id,
                                refused.field,
                                refused.reason
                            ),
                        );
                    }
                    if r.older_sequence {
                        ui.colored_label(
                            theme::WARN,
                            format!("Its sequence number is not newer than one imported before from {}: an old bundle?", r.sender),
                        );
                    }
                    if r.quarantined > 0 {
                        ui.colored_label(
                            theme::WARN,
                            format!("{} change(s) carry clocks more than ten minutes ahead of yours: they are held back, and applied at the first import after your clock reaches them", r.quarantined),
                        );
                    }
                    ui.horizontal(|ui| {
                        if ui
                            .add_enabled(writable, egui::Button::new("Apply the bundle"))
                            .clicked()
                        {
                            commands.push(Command::ImportBundle(incoming.bytes.clone()));
                        }
                        if ui.button("Discard").clicked() {
                            commands.push(Command::DiscardBundle);
                        }
                    });
                }
                Err(e) => {
                    ui.colored_label(theme::ERROR, e);
                }
            }
        }
        if let Some((ok, note)) = &self.received {
            ui.colored_label(if *ok { theme::OK } else { theme::ERROR }, note);
        }
    }
}

/// Adds `key` to the set when `on`, else removes it.
fn toggle<T: Ord>(set: &mut BTreeSet<T>, key: T, on: bool) {
    if on {
        set.insert(key);
    } else {
        set.remove(&key);
    }
}

fn plan_ui(ui: &mut egui::Ui, plan: &ExportPlan) {
    ui.label(format!(
        "{} change(s) of {} record(s) would leave — highest {}",
        plan.changes.len(),
        plan.records,
        plan.highest.marking()
    ));
    let join = |counts: &std::collections::BTreeMap<String, usize>| {
        counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    if !plan.changes.is_empty() {
        ui.label(format!("By classification: {}", join(&plan.by_level)));
        ui.label(format!("By record type: {}", join(&plan.by_kind)));
    }
    if plan.withheld > 0 {
        ui.label(format!(
            "{} record(s) stay behind: above a recipient's clearance or not releasable to them",
            plan.withheld
        ));
    }
    if plan.changes.is_empty() {
        ui.colored_label(theme::WARN, "Nothing new to send to them.");
    }
}

/// Whose value: "mine" or "<name>'s".
fn whose(name: &str, me: bool) -> String {
    if me {
        "mine".into()
    } else {
        format!("{name}'s")
    }
}

fn short(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "(empty)".into(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

fn conflicts_ui(
    ui: &mut egui::Ui,
    conflicts: &[ConflictInfo],
    writable: bool,
    commands: &mut Vec<Command>,
) {
    ui.strong(format!("Conflicts: {} open", conflicts.len()));
    if conflicts.is_empty() {
        ui.label("None: where two members changed the same field, the value that lost by clock waits here for a person to decide.");
        return;
    }
    egui::Grid::new("conflicts")
        .striped(true)
        .num_columns(5)
        .show(ui, |ui| {
            for title in ["Record", "Field", "Stands", "Other value", ""] {
                ui.strong(title);
            }
            ui.end_row();
            for c in conflicts {
                ui.label(format!(
                    "{} {}: {}",
                    crate::report::portion(c.classification),
                    c.kind,
                    c.label
                ));
                ui.label(&c.field);
                ui.label(format!("{} ({})", short(&c.current), c.winner));
                ui.label(format!("{} ({})", short(&c.other), c.loser));
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(
                            writable,
                            egui::Button::new(format!("Keep {}", whose(&c.winner, c.winner_is_me))),
                        )
                        .on_hover_text("The value that stands stays")
                        .clicked()
                    {
                        commands.push(Command::ResolveConflict(c.seq, Resolution::KeepCurrent));
                    }
                    if ui
                        .add_enabled(
                            writable,
                            egui::Button::new(format!("Take {}", whose(&c.loser, c.loser_is_me))),
                        )
                        .on_hover_text("Set the other value again, as your edit: it reaches the others with your next bundle")
                        .clicked()
                    {
                        commands.push(Command::ResolveConflict(c.seq, Resolution::TakeOther));
                    }
                });
                ui.end_row();
            }
        });
}

fn proposals_ui(
    ui: &mut egui::Ui,
    proposals: &[ProposalInfo],
    writable: bool,
    commands: &mut Vec<Command>,
) {
    if proposals.is_empty() {
        return;
    }
    ui.strong(format!(
        "Proposals: {} downgrade(s) or release(s) waiting for their originator",
        proposals.len()
    ));
    egui::Grid::new("proposals")
        .striped(true)
        .num_columns(5)
        .show(ui, |ui| {
            for title in ["Record", "Proposal", "Stands", "Proposed by", ""] {
                ui.strong(title);
            }
            ui.end_row();
            for p in proposals {
                ui.label(format!(
                    "{} {}: {}",
                    crate::report::portion(p.classification),
                    p.kind,
                    p.label
                ));
                ui.label(format!(
                    "{} {} to {}",
                    p.proposal,
                    p.field,
                    short(&p.proposed)
                ));
                ui.label(short(&p.current));
                ui.label(&p.proposer);
                ui.horizontal(|ui| {
                    let decide = writable && p.originator_is_you;
                    let hint = if p.originator_is_you {
                        "You are the originator: accepting makes it your own signed change"
                    } else {
                        "Only the originator may decide"
                    };
                    if ui
                        .add_enabled(decide, egui::Button::new("Accept"))
                        .on_hover_text(hint)
                        .on_disabled_hover_text(format!(
                            "Only the originator ({}) may decide",
                            p.originator
                        ))
                        .clicked()
                    {
                        commands.push(Command::DecideProposal(p.seq, true));
                    }
                    if ui
                        .add_enabled(decide, egui::Button::new("Reject"))
                        .on_hover_text("It stays in the history, never applied")
                        .clicked()
                    {
                        commands.push(Command::DecideProposal(p.seq, false));
                    }
                });
                ui.end_row();
            }
        });
}

fn held_ui(ui: &mut egui::Ui, held: &[HeldChange], writable: bool, commands: &mut Vec<Command>) {
    let Some(first) = held.first() else {
        return;
    };
    ui.colored_label(
        theme::WARN,
        format!(
            "Held back: {} received change(s) with clocks more than ten minutes ahead of yours (the first from {}); they are applied at the first import from {} UTC, unless their sender is revoked",
            held.len(),
            first.sender,
            first.due
        ),
    );
    if ui
        .add_enabled(writable, egui::Button::new("Discard the held changes"))
        .on_hover_text(
            "They will not be applied; the sender can send them again with a correct clock",
        )
        .clicked()
    {
        commands.push(Command::DiscardHeld);
    }
}

fn ledger_ui(ui: &mut egui::Ui, ledger: &Ledger) {
    ui.strong(format!("Outbox: {} bundle(s) sent", ledger.outbox.len()));
    if !ledger.outbox.is_empty() {
        egui::Grid::new("outbox")
            .striped(true)
            .num_columns(5)
            .show(ui, |ui| {
                for title in ["Written", "Sequence", "To", "Changes", "Highest"] {
                    ui.strong(title);
                }
                ui.end_row();
                for b in &ledger.outbox {
                    ui.label(&b.created_at);
                    ui.label(b.sequence.to_string());
                    ui.label(b.recipients.join(", "));
                    ui.label(b.changes.to_string());
                    ui.label(b.classification.marking());
                    ui.end_row();
                }
            });
    }
    ui.strong(format!("Inbox: {} bundle(s) imported", ledger.inbox.len()));
    if !ledger.inbox.is_empty() {
        egui::Grid::new("inbox")
            .striped(true)
            .num_columns(4)
            .show(ui, |ui| {
                for title in ["Imported", "From", "Sequence", "Applied"] {
                    ui.strong(title);
                }
                ui.end_row();
                for b in &ledger.inbox {
                    ui.label(&b.imported_at);
                    ui.label(&b.sender);
                    ui.label(b.sequence.to_string());
                    ui.label(b.applied.to_string());
                    ui.end_row();
                }
            });
    }
}

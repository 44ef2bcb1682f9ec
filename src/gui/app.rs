//! The app: screens, commands, background jobs, banner, lock.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant, SystemTime};

use uuid::Uuid;

use super::dashboard::Overview;
use super::editor::Editor;
use super::prefs::Preferences;
use super::register::Register;
use super::theme;
use super::welcome::Welcome;
use crate::crypto::{Identity, Passphrase, Profile};
use crate::model::{Classification, Kind};
use crate::service::{RecordInput, Session};
use crate::store::{HeldImage, OpenMode, SaveOutcome, StoreError};

/// Where time comes from (mocked in tests of the idle lock).
pub trait Clock {
    /// Now, on the monotonic clock (debounces, progress).
    fn now(&self) -> Instant;

    /// Now, on the wall clock: the idle lock counts on it too, since the monotonic clock stops
    /// while the machine is suspended.
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The system clipboard as the app uses it: read back what it holds, clear it (mocked in
/// tests; the real one is [`SystemClipboard`]).
pub trait Clipboard {
    /// The text it holds, if any.
    fn text(&mut self) -> Option<String>;
    /// Empties it.
    fn clear(&mut self);
}

/// No clipboard (tests and tools that must not touch the user's).
#[derive(Debug, Default)]
pub struct NoClipboard;

impl Clipboard for NoClipboard {
    fn text(&mut self) -> Option<String> {
        None
    }
    fn clear(&mut self) {}
}

/// The system clipboard, through `arboard` (opened when first needed).
#[derive(Default)]
pub struct SystemClipboard(Option<arboard::Clipboard>);

impl SystemClipboard {
    fn get(&mut self) -> Option<&mut arboard::Clipboard> {
        if self.0.is_none() {
            self.0 = arboard::Clipboard::new().ok();
        }
        self.0.as_mut()
    }
}

impl Clipboard for SystemClipboard {
    fn text(&mut self) -> Option<String> {
        self.get().and_then(|c| c.get_text().ok())
    }
    fn clear(&mut self) {
        if let Some(c) = self.get() {
            let _ = c.clear();
        }
    }
}

/// How long text copied from the app stays on the clipboard.
pub const CLIPBOARD_CLEAR_AFTER: Duration = Duration::from_secs(30);

/// Whether an event is the user's own input (what keeps the idle lock away). A focus change,
/// a pointer leaving the window or a screenshot is not.
fn is_user_input(event: &egui::Event) -> bool {
    !matches!(
        event,
        egui::Event::WindowFocused(_) | egui::Event::PointerGone
    )
}

/// The real clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// The shortcuts, as the Help window lists them.
const SHORTCUTS: &[(&str, &str)] = &[
    ("Ctrl+L", "lock now"),
    ("Ctrl+N", "new record in the register shown"),
    ("Ctrl+Z", "undo the last applied edit"),
    ("Ctrl+Y, Ctrl+Shift+Z", "redo what was undone"),
    (
        "Up / Down, Enter",
        "move in a table, open the selected record",
    ),
    ("Escape", "close the editor without applying"),
    ("F1", "this help"),
];

/// Credits shown in the About box.
const DATA_SOURCES: &[&str] = &[
    "Critical technology areas: Commission Recommendation (EU) 2023/2113, Annex",
    "Countries: ISO 3166-1, from Debian's iso-codes (LGPL-2.1+)",
    "Technology readiness levels: Horizon Europe General Annexes",
    "Demo observatory: European Commission, Study on the critical raw materials for the EU 2023 (tables transcribed by E. Emilsson, CC BY 4.0)",
    "Demo observatory: U.S. Geological Survey, Mineral Commodity Summaries 2023 and 2024 (public domain)",
];

/// Quiet time after an edit before the autosave starts.
const AUTOSAVE_DEBOUNCE: Duration = Duration::from_millis(1500);

/// The views of the main window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Counts and recent changes.
    Dashboard,
    /// A register of one kind.
    Register(Kind),
    /// The audit log.
    Audit,
    /// Members of the expert group (this member's card).
    Members,
    /// The supply-chain graph.
    Graph,
    /// TRL, criticality, supply risk and measures over time.
    Timeline,
    /// The report as PDF and Markdown.
    Reports,
    /// Bundles to and from other members, conflicts.
    Exchange,
    /// Consultation rounds, the versions of the list.
    Consultation,
    /// Where to act first.
    Priorities,
}

/// What views ask the app to do; applied once per frame.
#[must_use]
#[derive(Debug)]
pub enum Command {
    /// Unlock an observatory file.
    Unlock {
        /// The file.
        file: PathBuf,
        /// The identity file.
        identity: PathBuf,
        /// Its passphrase.
        passphrase: Passphrase,
        /// The owner vouches for a file without an authenticator (saved before file
        /// authenticators): sign it and open it ([`Session::authenticate`]).
        authenticate: bool,
    },
    /// Create an identity (if `new_identity`) and a new observatory file.
    Create {
        /// The new file.
        file: PathBuf,
        /// The identity file.
        identity: PathBuf,
        /// Its passphrase.
        passphrase: Passphrase,
        /// Create this identity first.
        new_identity: Option<Profile>,
    },
    /// Lock now.
    Lock,
    /// Show a view.
    Navigate(View),
    /// Open the editor on a record (None: a new one).
    Edit(Kind, Option<Uuid>),
    /// Open the editor on a new record with these fields filled in (name, draft text).
    NewWith(Kind, Vec<(&'static str, String)>),
    /// Apply an editor's draft.
    Apply {
        /// Kind.
        kind: Kind,
        /// Record (None: add).
        id: Option<Uuid>,
        /// Values.
        input: RecordInput,
    },
    /// Delete a record (after confirmation).
    Delete(Kind, Uuid),
    /// Merge a record into another of its kind (after confirmation; see
    /// [`Session::merge`]).
    Merge {
        /// Kind of both.
        kind: Kind,
        /// The record kept.
        keep: Uuid,
        /// The record merged into it and deleted.
        other: Uuid,
    },
    /// Undo the last applied edit.
    Undo,
    /// Apply again what was undone.
    Redo,
    /// Open or close one of the app's windows.
    Toggle(AppWindow),
    /// Create and open the demo observatory (throwaway key, temporary folder).
    OpenDemo,
    /// Open the Import dialog.
    ShowImport,
    /// Show a message above the current view.
    Notify(String),
    /// Open, answer or close a consultation round.
    Consult(super::consultation::ConsultAction),
    /// Show the register as it stood at the end of a date (`YYYY-MM-DD`), or now.
    ViewAsOf(Option<String>),
    /// Compute the figures of views from this data year (None: the latest).
    DataYear(Option<i64>),
    /// What changed between the date viewed (or today) and this date.
    Compare(String),
    /// Freeze the register as an edition.
    FreezeEdition {
        /// Title.
        title: String,
        /// Date (None: now, or the date being viewed).
        as_of: Option<String>,
    },
    /// Add a member card (its text) to the keyring.
    AddMember(String),
    /// Mark a member (key id) verified: its card fingerprint (40 hex digits), name, Member
    /// State and clearance were shown and confirmed.
    VerifyMember {
        /// Key id.
        member: String,
        /// The card fingerprint that was shown.
        card_fingerprint: String,
    },
    /// Revoke a member (key id) for good.
    RevokeMember(String),
    /// Write a bundle (then read it back and verify it) and record it in the outbox.
    WriteBundle {
        /// A new file.
        path: PathBuf,
        /// Recipients' fingerprints.
        recipients: Vec<String>,
        /// What it carries.
        scope: crate::service::bundle::ExportScope,
    },
    /// Check a received bundle (a dry run) and show what it would change.
    CheckBundle {
        /// Where it was read from.
        path: PathBuf,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// Apply a checked bundle.
    ImportBundle(Vec<u8>),
    /// Forget a checked bundle.
    DiscardBundle,
    /// Drop the changes held back (clocks too far ahead).
    DiscardHeld,
    /// Save the register to another file, which becomes the open one (after a failed save).
    SaveAs(PathBuf),
    /// Settle a conflict.
    ResolveConflict(i64, crate::service::exchange::Resolution),
    /// Accept (true) or reject a proposed downgrade or release, as its originator.
    DecideProposal(i64, bool),
    /// Show a technology or item on the timeline.
    ShowTimeline(Uuid),
    /// Select a technology or item in the supply graph.
    FocusGraph(Uuid),
    /// Keep where the supply graph's nodes are (empty: forget, back to the layered layout).
    SaveGraphPositions(Vec<(String, f64, f64)>),
    /// Import what the Import dialog read (all or nothing, or without the rows it could not
    /// read when `skip_bad_rows`).
    ImportSource {
        /// What was read.
        parsed: Box<crate::sources::Parsed>,
        /// The source, for messages and the audit log.
        what: String,
        /// Leave out the rows that could not be read.
        skip_bad_rows: bool,
    },
}

/// Windows of the app besides the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppWindow {
    /// Keyboard shortcuts and how things work.
    Help,
    /// Version, sources, security note.
    About,
    /// Preferences.
    Settings,
}

/// Save state shown in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveState {
    /// Everything is on disk.
    Saved,
    /// Changes wait for the autosave.
    Pending,
    /// A save is running.
    Saving,
    /// The last save failed.
    Failed(String),
}

/// What a background open or create job hands back: the session, and for the demo the
/// temporary folder to remove when it is locked.
type JobResult = Result<(Session, Option<PathBuf>), JobError>;

/// Why a background open or create failed.
#[derive(Debug)]
pub(super) struct JobError {
    message: String,
    /// The file has no authenticator (the welcome screen offers to sign it).
    unauthenticated: bool,
}

impl<E: std::fmt::Display> From<E> for JobError {
    fn from(e: E) -> Self {
        JobError {
            message: e.to_string(),
            unauthenticated: false,
        }
    }
}

/// The unlocked state.
pub struct Unlocked {
    pub(super) session: Session,
    pub(super) view: View,
    pub(super) register: Register,
    pub(super) overview: Overview,
    pub(super) editor: Option<Editor>,
    pub(super) save: SaveState,
    last_edit: Option<Instant>,
    save_job: Option<Receiver<Result<SaveOutcome, StoreError>>>,
    /// Save again as soon as the running save ends (a bundle applied or written meanwhile).
    save_soon: bool,
    undo: Vec<Step>,
    redo: Vec<Step>,
    pub(super) confirm_delete: Option<(Kind, Uuid, String)>,
    /// The Import dialog, when open.
    pub(super) import: Option<super::import::ImportDialog>,
    /// The supply-chain graph view.
    pub(super) graph: super::graph::GraphView,
    /// The timeline view.
    pub(super) timeline: super::timeline::TimelineView,
    /// The Reports view.
    pub(super) reports: super::reports::ReportsView,
    /// The Exchange view.
    pub(super) exchange: super::exchange::ExchangeView,
    /// The Consultation view.
    pub(super) consultation: super::consultation::ConsultationView,
    /// The Priorities view.
    pub(super) priorities: super::priorities::PrioritiesView,
    /// The member card being pasted in the Members view.
    pub(super) member_card: String,
    /// The member whose card details are shown for confirmation before verifying.
    pub(super) confirm_verify: Option<crate::store::MemberInfo>,
    /// The "as of" bar, comparisons and editions.
    pub(super) history: super::history::History,
    /// The demo's temporary folder, removed on lock.
    temp_dir: Option<PathBuf>,
    pub(super) message: Option<String>,
}

/// One applied edit, as undo and redo replay it.
#[derive(Debug)]
enum Step {
    /// A record was added (undo deletes it, redo restores it).
    Added(Kind, Uuid),
    /// Values changed: the values before and the values applied.
    Edited(Kind, Uuid, RecordInput, RecordInput),
    /// A record was deleted (undo restores it, redo deletes it again).
    Deleted(Kind, Uuid),
}

/// The whole app state.
pub struct ObservatoryApp {
    clock: Box<dyn Clock>,
    pub(super) welcome: Welcome,
    pub(super) unlocked: Option<Unlocked>,
    job: Option<Receiver<JobResult>>,
    pub(super) busy: Option<String>,
    pub(super) error: Option<String>,
    last_activity: Instant,
    /// The wall clock at the last user input.
    last_activity_wall: SystemTime,
    /// The register as ciphertext, when the app locked while saving failed, with why.
    held: Option<(Arc<HeldImage>, String)>,
    /// egui's memory is cleared at the next chance (it was just locked).
    clear_memory: bool,
    clipboard: Box<dyn Clipboard>,
    /// What the app last put on the clipboard (its SHA-256, never the text) and when.
    copied: Option<([u8; 32], SystemTime)>,
    /// Theme and idle lock.
    pub prefs: Preferences,
    persist: bool,
    theme_applied: Option<super::theme::Mode>,
    open_windows: Vec<AppWindow>,
    /// Highest level of what was on screen when last unlocked: the banner keeps it while locked.
    pub(super) last_marking: Classification,
    commands: Vec<Command>,
    title: String,
}

impl ObservatoryApp {
    /// A new app on the welcome screen, with default preferences and nothing read from or
    /// written to the user's config folder (tests, tools).
    #[must_use]
    pub fn new(clock: Box<dyn Clock>) -> Self {
        Self::build(clock, Preferences::default(), false)
    }

    /// The app as users start it: saved preferences and recent files.
    #[must_use]
    pub fn with_saved_preferences(clock: Box<dyn Clock>) -> Self {
        Self::build(clock, Preferences::load(), true)
    }

    fn build(clock: Box<dyn Clock>, prefs: Preferences, persist: bool) -> Self {
        let now = clock.now();
        let wall = clock.wall();
        let clipboard: Box<dyn Clipboard> = if persist {
            Box::new(SystemClipboard::default())
        } else {
            Box::new(NoClipboard)
        };
        ObservatoryApp {
            last_activity_wall: wall,
            held: None,
            clear_memory: false,
            clipboard,
            copied: None,
            clock,
            welcome: Welcome::new(persist),
            unlocked: None,
            job: None,
            busy: None,
            error: None,
            last_activity: now,
            prefs,
            persist,
            theme_applied: None,
            open_windows: Vec::new(),
            last_marking: Classification::Unclassified,
            commands: Vec::new(),
            title: String::new(),
        }
    }

    /// Uses this clipboard (tests).
    #[must_use]
    pub fn with_clipboard(mut self, clipboard: Box<dyn Clipboard>) -> Self {
        self.clipboard = clipboard;
        self
    }

    /// The file whose unsaved changes are held encrypted in memory since a lock with a failed
    /// save, and why the save failed.
    #[must_use]
    pub fn held(&self) -> Option<(&std::path::Path, &str)> {
        self.held
            .as_ref()
            .map(|(image, why)| (image.path(), why.as_str()))
    }

    /// Whether an observatory is open and unlocked.
    #[must_use]
    pub fn is_unlocked(&self) -> bool {
        self.unlocked.is_some()
    }

    /// The last error shown to the user.
    #[must_use]
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The marking currently shown on the banners.
    #[must_use]
    pub fn marking(&self) -> Classification {
        self.unlocked
            .as_ref()
            .map_or(self.last_marking, Unlocked::on_screen_level)
    }

    /// The window title.
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The open session (tests and tools).
    #[must_use]
    pub fn session(&self) -> Option<&Session> {
        self.unlocked.as_ref().map(|u| &u.session)
    }

    /// The open session, writable (fault injection in tests).
    #[doc(hidden)]
    pub fn session_mut(&mut self) -> Option<&mut Session> {
        self.unlocked.as_mut().map(|u| &mut u.session)
    }

    /// Waits for a background job (tests).
    pub fn wait_for_job(&mut self) {
        if let Some(rx) = self.job.take()
            && let Ok(result) = rx.recv()
        {
            self.finish_job(result);
        }
    }

    /// Blocks until a running save has finished (tests).
    pub fn wait_for_save(&mut self) {
        if let Some(u) = &mut self.unlocked {
            u.wait_for_save();
        }
    }

    /// Blocks until the Import dialog has read its dataset, and runs the preview (tests).
    pub fn wait_for_import(&mut self) {
        if let Some(u) = &mut self.unlocked
            && let Some(dialog) = &mut u.import
            && dialog.wait()
        {
            u.check_import();
        }
    }

    /// The supply-graph view's state, when unlocked (tests and tools).
    pub fn graph_view_mut(&mut self) -> Option<&mut super::graph::GraphView> {
        self.unlocked.as_mut().map(|u| &mut u.graph)
    }

    /// The Reports view's state, when unlocked (tests and tools).
    pub fn reports_view_mut(&mut self) -> Option<&mut super::reports::ReportsView> {
        self.unlocked.as_mut().map(|u| &mut u.reports)
    }

    /// The Exchange view's state, when unlocked (tests and tools).
    pub fn exchange_view_mut(&mut self) -> Option<&mut super::exchange::ExchangeView> {
        self.unlocked.as_mut().map(|u| &mut u.exchange)
    }

    /// The timeline view's state, when unlocked (tests and tools).
    pub fn timeline_view_mut(&mut self) -> Option<&mut super::timeline::TimelineView> {
        self.unlocked.as_mut().map(|u| &mut u.timeline)
    }

    /// The message shown above the current view, if any.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.unlocked.as_ref().and_then(|u| u.message.as_deref())
    }

    /// Shows an already unlocked session (tools and benchmarks; users unlock on the welcome
    /// screen).
    pub fn open_session(&mut self, session: Session) {
        self.unlocked = Some(Unlocked::new(session));
    }

    /// Shows a view of the unlocked observatory.
    pub fn show(&mut self, view: View) {
        let now = self.clock.now();
        self.apply(Command::Navigate(view), now);
    }

    /// Saves the open register to another file, as "Save as…" does after the file dialog.
    pub fn save_as(&mut self, path: &std::path::Path) {
        let now = self.clock.now();
        self.apply(Command::SaveAs(path.to_owned()), now);
    }

    /// Pre-fills the welcome screen (command line, tests).
    pub fn prefill(&mut self, file: &std::path::Path, identity: &std::path::Path) {
        self.welcome.file = file.display().to_string();
        self.welcome.identity = identity.display().to_string();
    }

    /// Draws one frame and applies the commands it produced.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let now = self.clock.now();
        let wall = self.clock.wall();
        let active = ui.ctx().input(|i| i.events.iter().any(is_user_input));
        if active {
            self.last_activity = now;
            self.last_activity_wall = wall;
        }
        if self.idle(now, wall) {
            self.commands.push(Command::Lock);
        }
        if self.theme_applied != Some(self.prefs.theme) {
            super::theme::apply(ui.ctx(), self.prefs.theme);
            self.theme_applied = Some(self.prefs.theme);
        }
        self.shortcuts(ui.ctx());
        self.poll_jobs();

        let level = self.marking();
        banner(ui, "banner_top", level, true);
        banner(ui, "banner_bottom", level, false);
        if self.unlocked.is_some() {
            self.status_bar(ui);
        }
        let mut commands = std::mem::take(&mut self.commands);
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(unlocked) = &mut self.unlocked {
                unlocked.ui(ui, &mut commands);
            } else {
                self.welcome.ui(
                    ui,
                    self.busy.as_deref(),
                    self.error.as_deref(),
                    &mut commands,
                );
            }
        });
        self.windows_ui(ui.ctx(), &mut commands);
        for command in commands {
            self.apply(command, now);
        }
        self.autosave(now);
        self.watch_clipboard(ui.ctx(), wall);
        self.clear_memory_if_locked(ui.ctx());
        let title = match &self.unlocked {
            Some(u) => format!(
                "Observatory — {} — {}",
                u.session
                    .store()
                    .path()
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                self.marking().marking()
            ),
            None => format!("Observatory — locked — {}", self.last_marking.marking()),
        };
        if title != self.title {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        // Wake up for the idle lock and for background jobs.
        ui.ctx()
            .request_repaint_after(Duration::from_millis(if self.job.is_some() {
                50
            } else {
                1000
            }));
    }

    /// What eframe calls before every frame and, while the window is hidden or minimised, on
    /// its own (the app wakes it every few seconds): the idle lock and the clipboard's timer
    /// run here, on the wall clock, whether or not anything is drawn.
    pub fn logic(&mut self, ctx: &egui::Context) {
        let now = self.clock.now();
        let wall = self.clock.wall();
        if self.idle(now, wall) {
            self.lock();
        }
        self.clipboard_timer(wall);
        self.clear_memory_if_locked(ctx);
    }

    /// Whether the idle time has passed since the last user input, on either clock (the
    /// monotonic one stops in suspend; the wall clock can be set back): the earlier wins.
    fn idle(&self, now: Instant, wall: SystemTime) -> bool {
        let limit = self.prefs.idle_lock();
        self.unlocked.is_some()
            && (now.duration_since(self.last_activity) >= limit
                || wall
                    .duration_since(self.last_activity_wall)
                    .is_ok_and(|idle| idle >= limit))
    }

    /// Notes text the app put on the clipboard this frame, and clears it when its time is up.
    fn watch_clipboard(&mut self, ctx: &egui::Context, wall: SystemTime) {
        let copied = ctx.output(|o| {
            o.commands.iter().rev().find_map(|c| match c {
                egui::OutputCommand::CopyText(text) => {
                    Some(crate::store::auth::image_sha256(text.as_bytes()))
                }
                _ => None,
            })
        });
        if let Some(digest) = copied {
            self.copied = Some((digest, wall));
        }
        self.clipboard_timer(wall);
    }

    fn clipboard_timer(&mut self, wall: SystemTime) {
        let due = self.copied.is_some_and(|(_, at)| {
            wall.duration_since(at)
                .is_ok_and(|age| age >= CLIPBOARD_CLEAR_AFTER)
        });
        if due {
            self.clear_clipboard();
        }
    }

    /// Empties the clipboard if it still holds what the app put there (text copied elsewhere
    /// meanwhile is left alone, as KeePassXC does).
    fn clear_clipboard(&mut self) {
        let Some((digest, _)) = self.copied.take() else {
            return;
        };
        if let Some(text) = self.clipboard.text()
            && crate::store::auth::image_sha256(text.as_bytes()) == digest
        {
            self.clipboard.clear();
        }
    }

    /// After a lock: text-edit undo states, drafts, selections, scroll positions and cached
    /// layouts are all dropped (egui's options, such as the theme, are kept).
    fn clear_memory_if_locked(&mut self, ctx: &egui::Context) {
        if std::mem::take(&mut self.clear_memory) {
            ctx.memory_mut(|m| {
                let options = m.options.clone();
                *m = egui::Memory::default();
                m.options = options;
            });
            self.theme_applied = None;
        }
    }

    /// Keyboard shortcuts (listed in the Help window).
    fn shortcuts(&mut self, ctx: &egui::Context) {
        let (lock, help, undo, redo, new, escape) = ctx.input(|i| {
            (
                i.modifiers.command && i.key_pressed(egui::Key::L),
                i.key_pressed(egui::Key::F1),
                i.modifiers.command && !i.modifiers.shift && i.key_pressed(egui::Key::Z),
                i.modifiers.command
                    && (i.key_pressed(egui::Key::Y)
                        || i.modifiers.shift && i.key_pressed(egui::Key::Z)),
                i.modifiers.command && i.key_pressed(egui::Key::N),
                i.key_pressed(egui::Key::Escape),
            )
        });
        if help {
            self.commands.push(Command::Toggle(AppWindow::Help));
        }
        let Some(u) = &mut self.unlocked else { return };
        if lock {
            self.commands.push(Command::Lock);
        }
        // Ctrl+Z in a text field undoes typing there, not the last applied edit.
        let typing = ctx.memory(|m| m.focused().is_some());
        if undo && !typing {
            self.commands.push(Command::Undo);
        }
        if redo && !typing {
            self.commands.push(Command::Redo);
        }
        if new && let View::Register(kind) = u.view {
            self.commands.push(Command::Edit(kind, None));
        }
        if escape {
            u.editor = None;
            u.confirm_delete = None;
            u.confirm_verify = None;
        }
    }

    /// Help, About and Settings.
    fn windows_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        for window in self.open_windows.clone() {
            let mut open = true;
            match window {
                AppWindow::Help => {
                    egui::Window::new("Help")
                        .open(&mut open)
                        .anchor(egui::Align2::RIGHT_TOP, [-16.0, 40.0])
                        .default_width(420.0).show(ctx, |ui| {
                        ui.strong("Keyboard shortcuts");
                        egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                            for (keys, what) in SHORTCUTS {
                                ui.label(*keys);
                                ui.label(*what);
                                ui.end_row();
                            }
                        });
                        ui.separator();
                        ui.label("Every record carries a classification. The banners at top and bottom and the window title show the highest level of anything on screen.");
                        ui.label("Changes are saved automatically, encrypted, a moment after each edit. Deleted records stay as tombstones so that deletions reach the other members.");
                    });
                }
                AppWindow::About => {
                    egui::Window::new("About Observatory")
                        .open(&mut open)
                        .anchor(egui::Align2::RIGHT_TOP, [-16.0, 40.0])
                        .default_width(420.0).show(ctx, |ui| {
                        ui.label(format!("Observatory {}", crate::cli::VERSION));
                        ui.label(format!(
                            "Contains {} crates (software bill of materials: {} components; `observatory sbom`)",
                            crate::cli::SBOM_LINKED_CRATES,
                            crate::cli::SBOM_COMPONENTS
                        ));
                        ui.label("Register, supply chains and dependencies of critical technologies, for the expert group of the EU Observatory of critical technologies.");
                        ui.separator();
                        ui.strong("Reference data");
                        for line in DATA_SOURCES {
                            ui.label(*line);
                        }
                        ui.separator();
                        ui.label("Files are encrypted with age (X25519, scrypt for identities). Deployment on a classified system needs accreditation and approved cryptography: this tool provides the technical controls, not the approval.");
                        ui.separator();
                        ui.strong("This workstation");
                        let h = crate::hygiene::status();
                        ui.label(if h.no_core_dumps && h.not_dumpable {
                            "Core dumps: off (core limit 0, process not dumpable)"
                        } else if h.no_core_dumps {
                            "Core dumps: off (core limit 0)"
                        } else {
                            "Core dumps: could not be turned off on this system"
                        });
                        ui.label(if h.memory_locked {
                            "Memory: locked, never written to swap"
                        } else {
                            "Memory: not locked (the system limits locked memory): swap should be encrypted or off"
                        });
                        ui.label(format!(
                            "Clipboard: text copied from Observatory is cleared after {} s, and on lock and exit",
                            CLIPBOARD_CLEAR_AFTER.as_secs()
                        ));
                    });
                }
                AppWindow::Settings => {
                    let mut changed = false;
                    egui::Window::new("Settings")
                        .open(&mut open)
                        .anchor(egui::Align2::RIGHT_TOP, [-16.0, 40.0])
                        .default_width(420.0)
                        .show(ctx, |ui| {
                            ui.horizontal(|ui| {
                                ui.label("Theme");
                                changed |= ui
                                    .radio_value(
                                        &mut self.prefs.theme,
                                        super::theme::Mode::Light,
                                        "Light",
                                    )
                                    .changed();
                                changed |= ui
                                    .radio_value(
                                        &mut self.prefs.theme,
                                        super::theme::Mode::Dark,
                                        "Dark",
                                    )
                                    .changed();
                            });
                            ui.horizontal(|ui| {
                                let l = ui.label("Lock after idle minutes");
                                changed |= ui
                                    .add(
                                        egui::DragValue::new(&mut self.prefs.idle_lock_minutes)
                                            .range(1..=120),
                                    )
                                    .labelled_by(l.id)
                                    .changed();
                            });
                        });
                    if changed && self.persist {
                        self.prefs.save();
                    }
                }
            }
            if !open {
                commands.push(Command::Toggle(window));
            }
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        let Some(u) = &self.unlocked else { return };
        let mut save_as = false;
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(u.session.store().path().display().to_string());
                ui.separator();
                match &u.save {
                    SaveState::Saved => ui.colored_label(theme::OK, "Saved"),
                    SaveState::Pending => ui.label("Unsaved changes"),
                    SaveState::Saving => ui.label("Saving…"),
                    SaveState::Failed(why) => {
                        save_as = ui.button("Save as…").clicked();
                        ui.colored_label(theme::ERROR, format!("Save failed: {why}"))
                    }
                };
                ui.separator();
                ui.label(format!("Member: {}", u.session.identity().profile().name));
            });
        });
        if save_as {
            let suggested = u.session.store().path().file_name().map_or_else(
                || "register.observatory".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            );
            if let Some(path) = rfd::FileDialog::new().set_file_name(suggested).save_file() {
                self.commands.push(Command::SaveAs(path));
            }
        }
    }

    fn poll_jobs(&mut self) {
        if let Some(rx) = &self.job
            && let Ok(result) = rx.try_recv()
        {
            self.job = None;
            self.finish_job(result);
        }
        if let Some(u) = &mut self.unlocked {
            u.poll_save();
        }
    }

    fn finish_job(&mut self, result: JobResult) {
        self.busy = None;
        match result {
            Ok((session, temp_dir)) => {
                self.error = None;
                zeroize::Zeroize::zeroize(&mut self.welcome.passphrase);
                zeroize::Zeroize::zeroize(&mut self.welcome.passphrase_again);
                self.welcome.offer_authenticate = false;
                if temp_dir.is_none() {
                    self.welcome.remember(session.store().path());
                }
                let from_held = self
                    .held
                    .as_ref()
                    .is_some_and(|(image, _)| image.path() == session.store().path())
                    && session.store().has_unsaved_changes();
                let mut unlocked = Unlocked::new(session);
                unlocked.temp_dir = temp_dir;
                if from_held && let Some((_, why)) = self.held.take() {
                    unlocked.save = SaveState::Failed(why.clone());
                    unlocked.message = Some(format!(
                        "These are the changes that could not be saved when the app locked ({why}). They are not on disk: choose \"Save as…\" below to save them to another place."
                    ));
                }
                self.unlocked = Some(unlocked);
            }
            Err(error) => {
                // The passphrase is typed again after a failure, never kept around.
                zeroize::Zeroize::zeroize(&mut self.welcome.passphrase);
                zeroize::Zeroize::zeroize(&mut self.welcome.passphrase_again);
                self.welcome.offer_authenticate = error.unauthenticated;
                self.error = Some(error.message);
            }
        }
    }

    fn start_job(
        &mut self,
        name: &str,
        busy: &str,
        job: impl FnOnce() -> JobResult + Send + 'static,
    ) {
        let (tx, rx): (Sender<JobResult>, Receiver<JobResult>) = channel();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let _ = tx.send(job());
            });
        match spawned {
            Ok(_) => {
                self.job = Some(rx);
                self.busy = Some(busy.to_owned());
                self.error = None;
            }
            Err(e) => self.error = Some(format!("cannot start a background task: {e}")),
        }
    }

    fn apply(&mut self, command: Command, now: Instant) {
        match command {
            Command::Unlock {
                file,
                identity,
                passphrase,
                authenticate,
            } => {
                let held = self
                    .held
                    .as_ref()
                    .filter(|(image, _)| image.path() == file.as_path())
                    .map(|(image, _)| Arc::clone(image));
                self.start_job("unlock", "Unlocking…", move || {
                    let identity = Identity::read_file(&identity, &passphrase)?;
                    let opened = if let Some(held) = held {
                        Session::open_held(&held, identity)
                    } else if authenticate {
                        Session::authenticate(&file, identity)
                    } else {
                        Session::open(&file, identity, OpenMode::ReadWrite)
                    };
                    let session = opened.map_err(|e| JobError {
                        unauthenticated: matches!(
                            e,
                            crate::service::ServiceError::Store(StoreError::Unauthenticated { .. })
                        ),
                        message: e.to_string(),
                    })?;
                    Ok((session, None))
                });
            }
            Command::Create {
                file,
                identity,
                passphrase,
                new_identity,
            } => {
                self.start_job("create", "Creating…", move || {
                    if let Some(profile) = new_identity {
                        Identity::generate(profile)
                            .write_new_file(
                                &identity,
                                &passphrase,
                                crate::crypto::DEFAULT_WORK_FACTOR,
                            )
                            .map_err(|e| e.to_string())?;
                    }
                    let identity =
                        Identity::read_file(&identity, &passphrase).map_err(|e| e.to_string())?;
                    let session = Session::create(&file, identity).map_err(|e| e.to_string())?;
                    Ok((session, None))
                });
            }
            Command::Lock => self.lock(),
            Command::SaveAs(path) => {
                if let Some(u) = &mut self.unlocked
                    && u.save_as(&path)
                    && u.temp_dir.is_none()
                {
                    self.welcome.remember(&path);
                }
            }
            Command::OpenDemo => self.start_job(
                "demo",
                "Building the demo from the public datasets…",
                open_demo,
            ),
            Command::Toggle(window) => {
                if let Some(i) = self.open_windows.iter().position(|w| *w == window) {
                    self.open_windows.remove(i);
                } else {
                    self.open_windows.push(window);
                }
            }
            other => {
                if let Some(u) = &mut self.unlocked {
                    u.apply(other, now);
                }
            }
        }
    }

    fn autosave(&mut self, now: Instant) {
        if let Some(u) = &mut self.unlocked {
            u.autosave(now);
        }
    }

    /// Locks: saves what is pending (waiting for it), drops the session and its secrets.
    pub fn lock(&mut self) {
        let Some(mut u) = self.unlocked.take() else {
            return;
        };
        self.last_marking = u.on_screen_level();
        u.wait_for_save();
        // The store knows best what is unsaved (edits may not have gone through this UI).
        if u.save != SaveState::Saved || u.session.store().has_unsaved_changes() {
            u.start_save();
            u.wait_for_save();
        }
        self.clear_clipboard();
        self.clear_memory = true;
        if let SaveState::Failed(why) = &u.save
            && u.temp_dir.is_none()
        {
            // Locking never waits on the disk: the register is kept as ciphertext (signed, as
            // a save would write it), the session and the identity are dropped, and the next
            // unlock offers "Save as…".
            match u.session.hold() {
                Ok(image) => {
                    self.error = Some(format!(
                        "Locked, but the last changes to {} could not be saved ({why}). They are held in memory, encrypted: unlock to save them to another place. Quitting now loses them.",
                        image.path().display()
                    ));
                    self.held = Some((Arc::new(image), why.clone()));
                }
                Err(e) => {
                    // Not even encrypted in memory (out of memory): the data would be lost.
                    self.last_activity = self.clock.now();
                    self.last_activity_wall = self.clock.wall();
                    self.error = Some(format!(
                        "Not locked: the last changes could not be saved ({why}) nor held encrypted ({e})"
                    ));
                    self.unlocked = Some(u);
                    return;
                }
            }
            self.welcome.file = u.session.store().path().display().to_string();
            drop(u);
            return;
        }
        let temp_dir = u.temp_dir.take();
        if temp_dir.is_none() {
            self.welcome.file = u.session.store().path().display().to_string();
        }
        drop(u);
        if let Some(dir) = temp_dir {
            // The demo's throwaway key is gone: its (encrypted) file can go too.
            let _ = std::fs::remove_dir_all(dir);
        }
        self.error = None;
    }

    /// Called on exit: saves pending changes.
    pub fn shutdown(&mut self) {
        self.lock();
    }
}

impl Unlocked {
    fn new(session: Session) -> Self {
        let mut register = Register::default();
        register.refresh(&session, Kind::Technology);
        Unlocked {
            session,
            view: View::Register(Kind::Technology),
            register,
            overview: Overview::default(),
            editor: None,
            save: SaveState::Saved,
            last_edit: None,
            save_job: None,
            save_soon: false,
            undo: Vec::new(),
            redo: Vec::new(),
            temp_dir: None,
            confirm_delete: None,
            import: None,
            graph: super::graph::GraphView::default(),
            timeline: super::timeline::TimelineView::default(),
            reports: super::reports::ReportsView::default(),
            exchange: super::exchange::ExchangeView::default(),
            consultation: super::consultation::ConsultationView::default(),
            priorities: super::priorities::PrioritiesView::default(),
            history: super::history::History::default(),
            member_card: String::new(),
            confirm_verify: None,
            message: None,
        }
    }

    /// The highest level of anything on screen: the rows shown and the record in the editor.
    pub(super) fn on_screen_level(&self) -> Classification {
        let mut level = match self.view {
            View::Register(_) => self.register.visible_level(),
            View::Dashboard => self.overview.level,
            View::Audit | View::Members => Classification::Unclassified,
            View::Graph => self
                .graph
                .layout
                .as_ref()
                .map_or(Classification::Unclassified, |l| l.level),
            View::Timeline => self.timeline.level(),
            View::Reports => self.reports.level(),
            View::Exchange => self.exchange.level(),
            View::Consultation => self.consultation.level(),
            View::Priorities => self.priorities.level(),
        };
        level = level.max(self.history_level());
        if let Some(editor) = &self.editor {
            level = level.max(editor.level());
        }
        level
    }

    fn apply(&mut self, command: Command, now: Instant) {
        self.message = None;
        match command {
            Command::Navigate(view) => {
                self.view = view;
                self.refresh_view();
            }
            Command::Edit(kind, id) => {
                let record = id.and_then(|id| self.session.get(kind, id).ok());
                self.editor = Some(Editor::new(kind, record.as_ref(), &self.session));
            }
            Command::NewWith(kind, values) => {
                let mut editor = Editor::new(kind, None, &self.session);
                editor.prefill(&values);
                self.editor = Some(editor);
            }
            Command::Apply { kind, id, input } => {
                let result = match id {
                    None => self.session.add(kind, None, &input).map(|new_id| {
                        self.undo.push(Step::Added(kind, new_id));
                    }),
                    Some(id) => {
                        let before = self.session.get(kind, id).ok();
                        self.session.edit(kind, id, &input).map(|_| {
                            if let Some(before) = before {
                                let previous = previous_values(&before, &input);
                                self.undo
                                    .push(Step::Edited(kind, id, previous, input.clone()));
                            }
                        })
                    }
                };
                match result {
                    Ok(()) => {
                        self.editor = None;
                        self.redo.clear();
                        self.changed(now, kind);
                    }
                    Err(e) => {
                        if let Some(editor) = &mut self.editor {
                            editor.show_error(&e);
                        }
                    }
                }
            }
            Command::Delete(kind, id) => match self.session.delete(kind, id) {
                Ok(()) => {
                    self.undo.push(Step::Deleted(kind, id));
                    self.redo.clear();
                    self.editor = None;
                    self.confirm_delete = None;
                    self.changed(now, kind);
                    self.message =
                        Some("Deleted (kept as a tombstone so the deletion replicates)".into());
                }
                Err(e) => self.message = Some(e.to_string()),
            },
            Command::Merge { kind, keep, other } => match self.session.merge(kind, keep, other) {
                Ok(report) => {
                    // A merge is many changes: it is not undone step by step.
                    self.undo.clear();
                    self.redo.clear();
                    self.editor = None;
                    self.changed(now, kind);
                    self.message = Some(format!(
                        "Merged {} into {}: {} record(s) now refer to it, {} duplicate figure(s) deleted",
                        report.other, report.keep, report.references, report.dropped
                    ));
                }
                Err(e) => {
                    if let Some(editor) = &mut self.editor {
                        editor.show_error(&e);
                    } else {
                        self.message = Some(e.to_string());
                    }
                }
            },
            Command::Undo | Command::Redo => {
                let forward = matches!(command, Command::Redo);
                let popped = if forward {
                    self.redo.pop()
                } else {
                    self.undo.pop()
                };
                let Some(step) = popped else { return };
                let (kind, result) = match (&step, forward) {
                    (Step::Added(k, id), false) | (Step::Deleted(k, id), true) => {
                        (*k, self.session.delete(*k, *id))
                    }
                    (Step::Added(k, id), true) | (Step::Deleted(k, id), false) => {
                        (*k, self.session.restore(*k, *id))
                    }
                    (Step::Edited(k, id, before, after), _) => {
                        let values = if forward { after } else { before };
                        (*k, self.session.edit(*k, *id, values).map(|_| ()))
                    }
                };
                match result {
                    Ok(()) => {
                        if forward {
                            self.undo.push(step);
                        } else {
                            self.redo.push(step);
                        }
                        self.changed(now, kind);
                    }
                    Err(e) => {
                        let verb = if forward { "redo" } else { "undo" };
                        self.message = Some(format!("Cannot {verb}: {e}"));
                    }
                }
            }
            Command::SaveGraphPositions(positions) => {
                match self.session.store_mut().set_graph_positions(&positions) {
                    Ok(()) => {
                        self.last_edit = Some(now);
                        if self.save != SaveState::Saving {
                            self.save = SaveState::Pending;
                        }
                    }
                    Err(e) => self.message = Some(format!("Cannot keep the graph layout: {e}")),
                }
            }
            Command::Notify(message) => self.message = Some(message),
            Command::Consult(action) => self.consult(action, now),
            Command::ViewAsOf(date) => {
                let date = date.filter(|d| !d.trim().is_empty());
                match self.session.view_as_of(date.as_deref()) {
                    Ok(()) => {
                        self.editor = None;
                        self.confirm_delete = None;
                        self.import = None;
                        self.graph.layout = None;
                        self.timeline.invalidate();
                        self.exchange.invalidate();
                        self.history.date = date.unwrap_or_default();
                        self.refresh_view();
                    }
                    Err(e) => self.message = Some(e.to_string()),
                }
            }
            Command::DataYear(year) => {
                self.session.set_data_year(year);
                self.history.data_year = year.map(|y| y.to_string()).unwrap_or_default();
                self.graph.layout = None;
                self.refresh_view();
                self.message = Some(match year {
                    Some(y) => format!(
                        "Figures of data year {y}: each item's latest figures at or before {y}"
                    ),
                    None => "The latest figures".into(),
                });
            }
            Command::Compare(date) => self.compare(&date),
            Command::FreezeEdition { title, as_of } => {
                let result = self.session.freeze_edition(&title, as_of.as_deref());
                let note = match result {
                    Ok(id) => {
                        self.last_edit = Some(now);
                        if self.save != SaveState::Saving {
                            self.save = SaveState::Pending;
                        }
                        format!("Edition {title:?} frozen ({id})")
                    }
                    Err(e) => format!("Not frozen: {e}"),
                };
                if let Some(w) = &mut self.history.editions {
                    w.note = Some(note);
                    w.list = None;
                }
                self.reports.editions = None;
            }
            Command::AddMember(text) => match self.session.add_member_card(&text) {
                Ok(added) => {
                    self.member_card.clear();
                    self.keyring_changed(now);
                    let m = &added.member;
                    let fingerprint = m.grouped_card_fingerprint().unwrap_or_default();
                    self.message = Some(match &added.replaced {
                        None => format!(
                            "Added {} ({}), unverified: compare the fingerprint {fingerprint} with them before trusting it",
                            m.name, m.member_state
                        ),
                        Some(old) => format!(
                            "New card for the same keys: {} ({}), {}, was {} ({}), {}. Unverified: compare the fingerprint {fingerprint} with them",
                            m.name,
                            m.member_state,
                            m.clearance.code(),
                            old.name,
                            old.member_state,
                            old.clearance.code()
                        ),
                    });
                }
                Err(e) => self.message = Some(format!("Card not added: {e}")),
            },
            Command::VerifyMember {
                member,
                card_fingerprint,
            } => {
                self.confirm_verify = None;
                match self
                    .session
                    .verify_member_confirming(&member, Some(&card_fingerprint))
                {
                    Ok(m) => {
                        self.keyring_changed(now);
                        self.message = Some(format!(
                            "{} is verified: {}, {}, fingerprint {}",
                            m.name,
                            m.member_state,
                            m.clearance.code(),
                            m.grouped_card_fingerprint().unwrap_or_default()
                        ));
                    }
                    Err(e) => self.message = Some(e.to_string()),
                }
            }
            Command::RevokeMember(member) => match self.session.revoke_member(&member) {
                Ok(m) => {
                    self.keyring_changed(now);
                    self.message = Some(format!("{} is {}", m.name, m.status()));
                }
                Err(e) => self.message = Some(e.to_string()),
            },
            Command::WriteBundle {
                path,
                recipients,
                scope,
            } => {
                let result = self.session.write_bundle(&path, &recipients, &scope);
                self.exchange.sent = Some(match result {
                    Ok(summary) => {
                        self.keyring_changed(now);
                        // The outbox (sequence, since-last mark) is saved at once.
                        self.save_now();
                        let b = &summary.body;
                        (
                            true,
                            format!(
                                "Wrote {}: bundle {} (sequence {}), {} change(s), highest {}. Read back, decrypted and signature verified: the medium may be removed.",
                                path.display(),
                                b.bundle_id,
                                b.sequence,
                                b.changes.len(),
                                b.classification
                            ),
                        )
                    }
                    Err(e) => (false, format!("No bundle written: {e}")),
                });
                if self.exchange.ledger.is_none() {
                    self.refresh_exchange();
                }
            }
            Command::CheckBundle { path, bytes } => {
                let check = self
                    .session
                    .import_bundle(&bytes, true)
                    .map_err(|e| e.to_string());
                self.exchange.incoming = Some(super::exchange::Incoming { path, bytes, check });
            }
            Command::ImportBundle(bytes) => {
                self.exchange.incoming = None;
                self.exchange.received = Some(match self.session.import_bundle(&bytes, false) {
                    Ok(r) => {
                        self.changed(now, Kind::Item);
                        self.save_now();
                        (true, format!("Imported {r}"))
                    }
                    Err(e) => (false, e.to_string()),
                });
                if self.exchange.ledger.is_none() {
                    self.refresh_exchange();
                }
            }
            Command::DiscardBundle => self.exchange.incoming = None,
            Command::DiscardHeld => {
                match self.session.discard_held() {
                    Ok(n) => {
                        self.keyring_changed(now);
                        self.message = Some(format!("{n} held change(s) discarded"));
                    }
                    Err(e) => self.message = Some(e.to_string()),
                }
                if self.exchange.ledger.is_none() {
                    self.refresh_exchange();
                }
            }
            Command::ResolveConflict(seq, how) => {
                match self.session.resolve_conflict(seq, how) {
                    Ok(c) => {
                        self.changed(now, c.kind);
                        self.message = Some(format!(
                            "Conflict settled: {} of {} is {}",
                            c.field,
                            c.label,
                            match &c.current {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            }
                        ));
                    }
                    Err(e) => self.message = Some(e.to_string()),
                }
                if self.exchange.ledger.is_none() {
                    self.refresh_exchange();
                }
            }
            Command::DecideProposal(seq, accept) => {
                let done = if accept {
                    self.session.accept_proposal(seq)
                } else {
                    self.session.reject_proposal(seq)
                };
                match done {
                    Ok(p) => {
                        self.changed(now, p.kind);
                        self.message = Some(format!(
                            "Proposal {} of {}: {}",
                            if accept { "accepted" } else { "rejected" },
                            p.label,
                            p.field
                        ));
                    }
                    Err(e) => self.message = Some(e.to_string()),
                }
                if self.exchange.ledger.is_none() {
                    self.refresh_exchange();
                }
            }
            Command::ShowTimeline(id) => self.show_on_timeline(id),
            Command::FocusGraph(id) => {
                self.view = View::Graph;
                self.graph.pending_select = Some(id.to_string());
            }
            Command::ShowImport => {
                if self.import.is_none() {
                    self.import = Some(super::import::ImportDialog::default());
                }
            }
            Command::ImportSource {
                parsed,
                what,
                skip_bad_rows,
            } => match self
                .session
                .import_source(&parsed, &what, skip_bad_rows, false)
            {
                Ok(report) => {
                    self.import = None;
                    self.changed(now, Kind::Item);
                    let r = &report.import;
                    self.message = Some(format!(
                        "Imported {}: {} new, {} changed, {} unchanged record(s){}",
                        report.dataset,
                        r.new,
                        r.changed,
                        r.unchanged,
                        if report.skipped.is_empty() {
                            String::new()
                        } else {
                            format!("; {} row(s) left out", report.skipped.len())
                        }
                    ));
                }
                Err(e) => self.message = Some(format!("Nothing was imported: {e}")),
            },
            Command::Unlock { .. }
            | Command::Create { .. }
            | Command::Lock
            | Command::SaveAs(_)
            | Command::Toggle(_)
            | Command::OpenDemo => {}
        }
    }

    fn changed(&mut self, now: Instant, kind: Kind) {
        self.last_edit = Some(now);
        // The graph is laid out again when next shown, the timeline read again.
        self.graph.layout = None;
        self.timeline.invalidate();
        self.history.invalidate();
        self.exchange.invalidate();
        self.consultation.invalidate();
        self.priorities.invalidate();
        if self.save != SaveState::Saving {
            self.save = SaveState::Pending;
        }
        if self.view == View::Register(kind) || !matches!(self.view, View::Register(_)) {
            self.refresh_view();
        }
    }

    /// Reads the Exchange view's data again: now if it is on screen, else when next shown.
    fn refresh_exchange(&mut self) {
        if self.view == View::Exchange {
            self.exchange.reload(&self.session);
        } else {
            self.exchange.invalidate();
        }
    }

    /// After a keyring change: saved like an edit.
    fn keyring_changed(&mut self, now: Instant) {
        self.last_edit = Some(now);
        self.exchange.invalidate();
        if self.save != SaveState::Saving {
            self.save = SaveState::Pending;
        }
    }

    /// Re-reads what the current view shows.
    fn consult(&mut self, action: super::consultation::ConsultAction, now: Instant) {
        use super::consultation::ConsultAction;
        let result = match action {
            ConsultAction::Open(spec) => self.session.open_round(&spec).map(|id| {
                self.consultation.selected = Some(id);
                self.consultation.new_round = super::consultation::NewRound::default();
                (Kind::Round, format!("Opened the round \"{}\"", spec.title))
            }),
            ConsultAction::Answer(round, spec) => self
                .session
                .answer_round(round, &spec)
                .map(|_| (Kind::Assessment, "Your answer is recorded: it travels in your next bundle to the coordinator".to_owned())),
            ConsultAction::Stance(round, proposal, stance) => self
                .session
                .answer_round(
                    round,
                    &crate::service::consultation::AnswerSpec {
                        subject: proposal,
                        stance: Some(stance.clone()),
                        ..Default::default()
                    },
                )
                .map(|_| (Kind::Assessment, format!("Your stance ({stance}) is recorded"))),
            ConsultAction::Accept(ids) => self.session.accept_proposals(&ids, None).map(|v| {
                (
                    Kind::ListVersion,
                    format!(
                        "Version {} of the list: {} technologies, {} proposal(s) accepted",
                        v.number, v.technologies, v.proposals
                    ),
                )
            }),
            ConsultAction::Reject(id) => self
                .session
                .reject_list_proposal(id)
                .map(|()| (Kind::Proposal, "Proposal rejected".to_owned())),
            ConsultAction::Close(round) => self.session.close_round(round).map(|r| {
                (
                    Kind::Assessment,
                    format!(
                        "Closed the round: {} consolidated assessment(s), marked {}",
                        r.consolidated.len(),
                        r.classification.marking()
                    ),
                )
            }),
        };
        match result {
            Ok((kind, message)) => {
                self.changed(now, kind);
                self.consultation.invalidate();
                self.message = Some(message);
            }
            Err(e) => {
                self.consultation.form.error = Some(e.to_string());
                self.message = Some(e.to_string());
            }
        }
    }

    fn refresh_view(&mut self) {
        match self.view {
            View::Register(kind) => self.register.refresh(&self.session, kind),
            View::Timeline => self.timeline.refresh(&self.session),
            View::Exchange => self.exchange.reload(&self.session),
            View::Consultation => self.consultation.invalidate(),
            View::Priorities => self.priorities.invalidate(),
            view => self.overview = Overview::load(&self.session, view),
        }
    }

    /// Starts a save now rather than after the quiet time (a bundle applied or written);
    /// if one is running, the changes wait for the next.
    fn save_now(&mut self) {
        if self.save_job.is_none() {
            self.start_save();
        } else {
            self.save_soon = true;
        }
    }

    /// Saves to another file (see [`Command::SaveAs`]): whether it worked.
    fn save_as(&mut self, path: &std::path::Path) -> bool {
        self.wait_for_save();
        match self.session.save_as(path) {
            Ok(()) => {
                self.save = SaveState::Saved;
                self.last_edit = None;
                self.message = Some(format!("Saved to {}", path.display()));
                true
            }
            Err(e) => {
                self.message = Some(format!("Not saved to {}: {e}", path.display()));
                self.save = SaveState::Failed(e.to_string());
                false
            }
        }
    }

    fn autosave(&mut self, now: Instant) {
        let due = self
            .last_edit
            .is_some_and(|t| now.duration_since(t) >= AUTOSAVE_DEBOUNCE);
        if due && self.save_job.is_none() {
            self.start_save();
        }
    }

    fn start_save(&mut self) {
        self.last_edit = None;
        match self.session.prepare_save() {
            Ok(job) => {
                let (tx, rx) = channel();
                let spawned = std::thread::Builder::new()
                    .name("save".into())
                    .spawn(move || {
                        let _ = tx.send(job.run());
                    });
                match spawned {
                    Ok(_) => {
                        self.save_job = Some(rx);
                        self.save = SaveState::Saving;
                    }
                    Err(e) => self.save = SaveState::Failed(e.to_string()),
                }
            }
            Err(e) => self.save = SaveState::Failed(e.to_string()),
        }
    }

    fn poll_save(&mut self) {
        if let Some(rx) = &self.save_job
            && let Ok(result) = rx.try_recv()
        {
            self.save_job = None;
            self.finish_save(result);
        }
    }

    fn finish_save(&mut self, result: Result<SaveOutcome, StoreError>) {
        self.save = match self.session.finish_save(result) {
            Ok(()) if self.last_edit.is_some() => SaveState::Pending,
            Ok(()) => SaveState::Saved,
            Err(e) => SaveState::Failed(e.to_string()),
        };
        if std::mem::take(&mut self.save_soon) && self.save == SaveState::Pending {
            self.start_save();
        }
    }

    /// Blocks until a running save finishes (lock, exit, tests).
    pub(super) fn wait_for_save(&mut self) {
        // A save asked for while one ran starts when it ends: wait for that one too.
        while let Some(rx) = self.save_job.take() {
            match rx.recv() {
                Ok(result) => self.finish_save(result),
                Err(_) => self.save = SaveState::Failed("the save task stopped".into()),
            }
        }
    }
}

/// Builds the demo observatory in a new private temporary folder, encrypted to a throwaway
/// key that lives only in memory.
fn open_demo() -> JobResult {
    let dir = std::env::temp_dir().join(format!(
        "observatory-demo-{}-{}",
        std::process::id(),
        Uuid::now_v7()
    ));
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    // Windows: the folder inherits the ACL of the user's temporary folder (the user's only).
    builder
        .create(&dir)
        .map_err(|e| format!("cannot create a folder for the demo: {e}"))?;
    let build = || -> Result<Session, crate::service::ServiceError> {
        let profile = Profile::new("Demo user", "EU", Classification::Unclassified)?;
        let mut session =
            Session::create(&dir.join("demo.observatory"), Identity::generate(profile))?;
        session.build_demo()?;
        session.save()?;
        Ok(session)
    };
    match build() {
        Ok(session) => Ok((session, Some(dir))),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(e.into())
        }
    }
}

/// The values a record had for the fields `input` changes, to undo the change.
fn previous_values(before: &crate::model::Record, input: &RecordInput) -> RecordInput {
    RecordInput {
        classification: input.classification.map(|_| before.meta.classification),
        releasable_to: input
            .releasable_to
            .as_ref()
            .map(|_| before.meta.releasable_to.clone()),
        fields: input
            .fields
            .keys()
            .map(|k| {
                (
                    k.clone(),
                    before
                        .fields
                        .get(k)
                        .cloned()
                        .unwrap_or(serde_json::Value::Null),
                )
            })
            .collect(),
    }
}

/// The classification banner (top or bottom).
fn banner(ui: &mut egui::Ui, id: &str, level: Classification, top: bool) {
    let panel = if top {
        egui::Panel::top(id)
    } else {
        egui::Panel::bottom(id)
    };
    panel
        .exact_size(theme::BANNER_HEIGHT)
        .frame(egui::Frame::NONE.fill(theme::banner_fill(level)))
        .show(ui, |ui| {
            ui.centered_and_justified(|ui| {
                ui.label(
                    egui::RichText::new(level.marking())
                        .strong()
                        .color(theme::BANNER_TEXT),
                );
            });
        });
}

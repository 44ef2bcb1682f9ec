//! The Import dialog: choose a public dataset (ETO, EU CRM 2023, USGS), read it on a
//! background thread with a progress bar, preview what would change (new / changed /
//! unchanged by kind, rows that cannot be read with their file and line, notes), then import
//! all or nothing — or, if the user ticks it, everything except the listed rows.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};

use super::app::{Command, Unlocked};
use super::theme;
use crate::service::SourceReport;
use crate::sources::{self, Parsed, ReadOptions, SourceFormat};

/// Rows of problems or notes shown before "and N more".
const SHOWN: usize = 200;

/// The dialog's state.
pub struct ImportDialog {
    pub(super) format: SourceFormat,
    pub(super) path: String,
    pub(super) year: String,
    /// ETO: country codes the alias table lacks, `MAL=MY, XYZ=KR` (as `--country-alias`).
    pub(super) country_aliases: String,
    pub(super) skip_bad_rows: bool,
    pub(super) stage: Stage,
}

/// Where the dialog is.
pub enum Stage {
    /// Choosing what to import.
    Choose {
        /// Why the last attempt failed.
        error: Option<String>,
    },
    /// Reading on a background thread.
    Reading {
        /// Bytes read so far.
        progress: Arc<AtomicUsize>,
        /// Bytes to read.
        total: u64,
        /// The result.
        result: Receiver<Result<Parsed, String>>,
    },
    /// Read; what importing would do.
    Preview {
        /// What was read.
        parsed: Box<Parsed>,
        /// The dry run (None: not run because rows cannot be read and are not skipped).
        dry_run: Option<Result<SourceReport, String>>,
    },
}

/// What the dialog asks its owner to do.
pub(super) enum Action {
    None,
    Close,
    /// Run the dry run for the preview.
    Check,
}

impl Default for ImportDialog {
    fn default() -> Self {
        ImportDialog {
            format: SourceFormat::Crm,
            path: String::new(),
            year: String::new(),
            country_aliases: String::new(),
            skip_bad_rows: false,
            stage: Stage::Choose { error: None },
        }
    }
}

impl ImportDialog {
    /// The path typed, as a path.
    fn source_path(&self) -> PathBuf {
        PathBuf::from(self.path.trim())
    }

    /// What to call the source in messages and the audit log.
    pub(super) fn what(&self) -> String {
        format!("{} ({})", self.path.trim(), self.format)
    }

    fn year(&self) -> Result<Option<i64>, String> {
        match self.year.trim() {
            "" => Ok(None),
            text => text
                .parse::<i64>()
                .ok()
                .filter(|y| (1900..=2200).contains(y))
                .map(Some)
                .ok_or_else(|| format!("{text:?} is not a year (YYYY)")),
        }
    }

    /// The country aliases typed (`MAL=MY, XYZ=KR`), for ETO.
    fn country_aliases(&self) -> Result<Vec<(String, String)>, String> {
        if self.format != SourceFormat::Eto {
            return Ok(Vec::new());
        }
        self.country_aliases
            .split([',', ';'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                let (alias, code) = t
                    .split_once('=')
                    .ok_or_else(|| format!("country alias {t:?}: write CODE=CC, such as MAL=MY"))?;
                let code = crate::model::country::normalise(code).ok_or_else(|| {
                    format!("country alias {t:?}: {code:?} is not an ISO 3166 alpha-2 code")
                })?;
                Ok((alias.trim().to_owned(), code))
            })
            .collect()
    }

    /// Starts reading on a background thread.
    pub(super) fn start(&mut self) {
        let path = self.source_path();
        if self.path.trim().is_empty() || !path.exists() {
            self.stage = Stage::Choose {
                error: Some(format!(
                    "{} does not exist: choose the dataset's folder or file",
                    if self.path.trim().is_empty() {
                        "nothing chosen; the path"
                    } else {
                        self.path.trim()
                    }
                )),
            };
            return;
        }
        let year = match self.year() {
            Ok(year) => year,
            Err(e) => {
                self.stage = Stage::Choose { error: Some(e) };
                return;
            }
        };
        let country_aliases = match self.country_aliases() {
            Ok(aliases) => aliases,
            Err(e) => {
                self.stage = Stage::Choose { error: Some(e) };
                return;
            }
        };
        let progress = Arc::new(AtomicUsize::new(0));
        let total = sources::input_size(&path);
        let (tx, rx) = channel();
        let format = self.format;
        let counter = Arc::clone(&progress);
        let spawned = std::thread::Builder::new()
            .name("import-read".into())
            .spawn(move || {
                let options = ReadOptions {
                    year,
                    progress: Some(&counter),
                    country_aliases,
                    ..ReadOptions::default()
                };
                let result = sources::read(format, &path, &options).map_err(|e| e.to_string());
                let _ = tx.send(result);
            });
        self.stage = match spawned {
            Ok(_) => Stage::Reading {
                progress,
                total,
                result: rx,
            },
            Err(e) => Stage::Choose {
                error: Some(format!("cannot start reading: {e}")),
            },
        };
    }

    /// Picks up the reader's result; true when a preview needs its dry run.
    pub(super) fn poll(&mut self) -> bool {
        let Stage::Reading { result, .. } = &self.stage else {
            return false;
        };
        match result.try_recv() {
            Ok(Ok(parsed)) => {
                self.stage = Stage::Preview {
                    parsed: Box::new(parsed),
                    dry_run: None,
                };
                true
            }
            Ok(Err(e)) => {
                self.stage = Stage::Choose { error: Some(e) };
                false
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => false,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.stage = Stage::Choose {
                    error: Some("reading stopped unexpectedly".into()),
                };
                false
            }
        }
    }

    /// Blocks until reading is done (tests).
    pub fn wait(&mut self) -> bool {
        if let Stage::Reading { result, .. } = &self.stage {
            match result.recv() {
                Ok(Ok(parsed)) => {
                    self.stage = Stage::Preview {
                        parsed: Box::new(parsed),
                        dry_run: None,
                    };
                    return true;
                }
                Ok(Err(e)) => self.stage = Stage::Choose { error: Some(e) },
                Err(_) => {
                    self.stage = Stage::Choose {
                        error: Some("reading stopped unexpectedly".into()),
                    }
                }
            }
        }
        false
    }

    fn browse(&mut self) {
        let dialog = rfd::FileDialog::new();
        let picked = match self.format {
            SourceFormat::Usgs => dialog
                .pick_file()
                .or_else(|| rfd::FileDialog::new().pick_folder()),
            _ => dialog.pick_folder(),
        };
        if let Some(path) = picked {
            self.path = path.display().to_string();
        }
    }

    /// Draws the dialog.
    #[allow(clippy::too_many_lines)]
    pub(super) fn window(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) -> Action {
        let mut action = Action::None;
        let mut open = true;
        let (mut browse, mut start, mut back) = (false, false, false);
        let what = self.what();
        egui::Window::new("Import data")
            .open(&mut open)
            .anchor(egui::Align2::RIGHT_TOP, [-16.0, 40.0])
            .default_width(560.0)
            .show(ctx, |ui| match &mut self.stage {
                Stage::Choose { error } => {
                    ui.label("Public datasets become UNCLASSIFIED records that cite their source. Importing a newer release updates the same records and keeps the older figures as history.");
                    ui.separator();
                    for format in SourceFormat::ALL {
                        ui.radio_value(&mut self.format, format, format.title());
                    }
                    ui.horizontal(|ui| {
                        let label = ui.label(if self.format == SourceFormat::Usgs {
                            "File or folder"
                        } else {
                            "Folder"
                        });
                        ui.add(egui::TextEdit::singleline(&mut self.path).desired_width(340.0))
                            .labelled_by(label.id);
                        if ui.button("Browse…").clicked() {
                            browse = true;
                        }
                    });
                    ui.horizontal(|ui| {
                        let label = ui.label("Year (optional)");
                        ui.add(egui::TextEdit::singleline(&mut self.year).desired_width(60.0))
                            .labelled_by(label.id)
                            .on_hover_text("ETO: the year of releases without a year column. USGS: which year's production (default the latest). CRM: the study year (default 2023).");
                    });
                    if self.format == SourceFormat::Eto {
                        ui.horizontal(|ui| {
                            let label = ui.label("Country aliases");
                            ui.add(
                                egui::TextEdit::singleline(&mut self.country_aliases)
                                    .desired_width(200.0)
                                    .hint_text("MAL=MY, XYZ=KR"),
                            )
                            .labelled_by(label.id)
                            .on_hover_text("Codes the built-in alias table lacks, read as ISO 3166 alpha-2 codes (as import --country-alias); the preview lists every mapping used");
                        });
                    }
                    if let Some(error) = error {
                        ui.colored_label(theme::ERROR, error.as_str());
                    }
                    ui.horizontal(|ui| {
                        if ui.button("Read and preview").clicked() {
                            start = true;
                        }
                        if ui.button("Cancel").clicked() {
                            action = Action::Close;
                        }
                    });
                }
                Stage::Reading {
                    progress, total, ..
                } => {
                    let done = progress.load(Ordering::Relaxed);
                    #[allow(clippy::cast_precision_loss)]
                    let fraction = if *total == 0 {
                        0.0
                    } else {
                        (done as f32 / *total as f32).min(1.0)
                    };
                    ui.label(format!("Reading {}…", self.path.trim()));
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .show_percentage()
                            .text(format!("{} of {} KB", done / 1024, *total / 1024)),
                    );
                    ctx.request_repaint_after(std::time::Duration::from_millis(50));
                }
                Stage::Preview { parsed, dry_run } => {
                    ui.strong(&parsed.dataset);
                    ui.label(format!("{} row(s) read, {} record(s).", parsed.rows, parsed.records.len()));
                    if !parsed.problems.is_empty() {
                        ui.separator();
                        ui.colored_label(
                            theme::ERROR,
                            format!("{} row(s) cannot be read:", parsed.problems.len()),
                        );
                        egui::ScrollArea::vertical()
                            .id_salt("import-problems")
                            .max_height(160.0)
                            .show(ui, |ui| {
                                for problem in parsed.problems.iter().take(SHOWN) {
                                    ui.label(problem.to_string());
                                }
                                if parsed.problems.len() > SHOWN {
                                    ui.label(format!("... and {} more", parsed.problems.len() - SHOWN));
                                }
                            });
                        if ui
                            .checkbox(&mut self.skip_bad_rows, "Skip these rows and import the rest")
                            .changed()
                        {
                            *dry_run = None;
                        }
                    }
                    if !parsed.notes.is_empty() {
                        ui.separator();
                        ui.label("Notes:");
                        egui::ScrollArea::vertical()
                            .id_salt("import-notes")
                            .max_height(120.0)
                            .show(ui, |ui| {
                                for note in parsed.notes.iter().take(SHOWN) {
                                    ui.label(note.as_str());
                                }
                            });
                    }
                    ui.separator();
                    let can_import = match dry_run {
                        None if parsed.problems.is_empty() || self.skip_bad_rows => {
                            action = Action::Check;
                            false
                        }
                        None => {
                            ui.label("Nothing can be imported while rows cannot be read: fix the file, or skip the rows.");
                            false
                        }
                        Some(Ok(report)) => {
                            let r = &report.import;
                            ui.label(format!(
                                "Importing would add {} record(s), change {} and leave {} as they are.",
                                r.new, r.changed, r.unchanged
                            ));
                            for (kind, n) in &r.by_kind {
                                ui.label(format!("    {kind}: {n}"));
                            }
                            if r.classification_kept > 0 {
                                ui.label(format!("{} record(s) keep the higher classification given to them since (an import never lowers one).", r.classification_kept));
                            }
                            r.new + r.changed > 0
                        }
                        Some(Err(e)) => {
                            ui.colored_label(theme::ERROR, e.as_str());
                            false
                        }
                    };
                    ui.horizontal(|ui| {
                        if ui.add_enabled(can_import, egui::Button::new("Import")).clicked() {
                            commands.push(Command::ImportSource {
                                parsed: parsed.clone(),
                                what: what.clone(),
                                skip_bad_rows: self.skip_bad_rows,
                            });
                        }
                        if ui.button("Back").clicked() {
                            back = true;
                        }
                        if ui.button("Cancel").clicked() {
                            action = Action::Close;
                        }
                    });
                }
            });
        if browse {
            self.browse();
        }
        if start {
            self.start();
        }
        if back {
            self.stage = Stage::Choose { error: None };
        }
        if !open {
            action = Action::Close;
        }
        action
    }
}

impl Unlocked {
    /// The Import dialog, when open.
    pub(super) fn import_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some(dialog) = &mut self.import else {
            return;
        };
        let mut check = dialog.poll();
        match dialog.window(ctx, commands) {
            Action::Close => {
                self.import = None;
                return;
            }
            Action::Check => check = true,
            Action::None => {}
        }
        if check {
            self.check_import();
        }
    }

    /// Runs the dry run of the dialog's preview.
    pub(super) fn check_import(&mut self) {
        let Some(dialog) = &mut self.import else {
            return;
        };
        let what = dialog.what();
        let skip = dialog.skip_bad_rows;
        if let Stage::Preview { parsed, dry_run } = &mut dialog.stage
            && dry_run.is_none()
            && (parsed.problems.is_empty() || skip)
        {
            *dry_run = Some(
                self.session
                    .import_source(parsed, &what, skip, true)
                    .map_err(|e| e.to_string()),
            );
        }
    }
}

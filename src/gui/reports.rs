//! The Reports view: choose what the report is made from (the register now, as of a date, or
//! an edition) and the classification ceiling, preview the outline (sections, marking, records
//! left out), then write the PDF (and the Markdown for drafting) on a background thread, behind
//! a plaintext warning with the marking; "Open the folder" shows where it went.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use crate::model::Classification;
use crate::report::{self, Block, Report, ReportSource};
use crate::service::Session;

/// What the report is made from, as chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Basis {
    /// The register now (or as of the date being viewed).
    #[default]
    Now,
    /// As of a date.
    AsOf,
    /// An edition.
    Edition,
}

/// The view's state.
#[derive(Default)]
pub struct ReportsView {
    /// What it is made from.
    pub basis: Basis,
    /// The date for [`Basis::AsOf`].
    pub date: String,
    /// The edition id for [`Basis::Edition`].
    pub edition: Option<String>,
    /// Leave out records above this level.
    pub ceiling: Option<Classification>,
    /// Title on the first page.
    pub title: String,
    /// Where the PDF goes (a new file).
    pub out: String,
    /// Also write the Markdown next to it.
    pub markdown: bool,
    /// The outline of the last preview.
    pub preview: Option<Report>,
    /// A running PDF job.
    job: Option<Receiver<Result<String, String>>>,
    /// What the last generation did, or why it failed.
    pub note: Option<String>,
    /// The folder of the last report written.
    folder: Option<PathBuf>,
    /// The editions, read once (each holds a whole register), again after a freeze.
    pub editions: Option<Vec<crate::store::EditionInfo>>,
}

impl ReportsView {
    fn source(&self, session: &Session) -> Result<ReportSource, String> {
        Ok(match self.basis {
            Basis::Now => match session.viewing() {
                Some(v) => ReportSource::AsOf(v.date.clone()),
                None => ReportSource::Now,
            },
            Basis::AsOf => {
                if crate::store::end_of_day(&self.date).is_none() {
                    return Err(format!("{:?} is not a date (YYYY-MM-DD)", self.date));
                }
                ReportSource::AsOf(self.date.trim().to_owned())
            }
            Basis::Edition => ReportSource::Edition(
                self.edition
                    .clone()
                    .ok_or_else(|| "choose an edition".to_owned())?,
            ),
        })
    }

    fn build(&self, session: &Session) -> Result<Report, String> {
        let source = self.source(session)?;
        let title = Some(self.title.trim()).filter(|t| !t.is_empty());
        report::build(session, &source, self.ceiling, title).map_err(|e| e.to_string())
    }

    /// The highest level on screen: the previewed outline's.
    #[must_use]
    pub fn level(&self) -> Classification {
        self.preview
            .as_ref()
            .map_or(Classification::Unclassified, |r| r.classification)
    }

    /// Waits for a running PDF job (tests).
    pub fn wait(&mut self) {
        if let Some(rx) = self.job.take() {
            self.note = Some(match rx.recv() {
                Ok(Ok(done)) => done,
                Ok(Err(e)) => e,
                Err(_) => "the report task stopped".into(),
            });
        }
    }

    fn poll(&mut self) {
        if let Some(rx) = &self.job {
            match rx.try_recv() {
                Ok(result) => {
                    self.note = Some(result.unwrap_or_else(|e| e));
                    self.job = None;
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.note = Some("the report task stopped".into());
                    self.job = None;
                }
            }
        }
    }

    /// Builds the content here (it reads the register), then lays out and writes the PDF on a
    /// background thread.
    fn generate(&mut self, session: &Session) {
        let out = PathBuf::from(self.out.trim());
        if self.out.trim().is_empty() {
            self.note = Some("Give the file to write (a new .pdf file)".into());
            return;
        }
        if out.exists() {
            self.note = Some(format!(
                "{} exists already: choose a new file name",
                out.display()
            ));
            return;
        }
        let built = match self.build(session) {
            Ok(r) => r,
            Err(e) => {
                self.note = Some(format!("No report: {e}"));
                return;
            }
        };
        let markdown = self.markdown.then(|| out.with_extension("md"));
        if let Some(md) = &markdown
            && md.exists()
        {
            self.note = Some(format!(
                "{} exists already: choose a new file name",
                md.display()
            ));
            return;
        }
        self.folder = Some(crate::fsutil::parent_dir(&out).to_owned());
        self.preview = Some(built.clone());
        let (tx, rx) = channel();
        let spawned = std::thread::Builder::new()
            .name("report".into())
            .spawn(move || {
                let result = (|| {
                    let (bytes, pages) = report::to_pdf(&built).map_err(|e| e.to_string())?;
                    crate::fsutil::write_new_durable(&out, &bytes, None)
                        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
                    if let Some(md) = &markdown {
                        crate::fsutil::write_new_durable(
                            md,
                            report::to_markdown(&built).as_bytes(),
                            None,
                        )
                        .map_err(|e| format!("cannot write {}: {e}", md.display()))?;
                    }
                    Ok(format!(
                        "Wrote {} ({pages} pages{}), UNENCRYPTED, marked {}",
                        out.display(),
                        if markdown.is_some() {
                            ", and the Markdown"
                        } else {
                            ""
                        },
                        built.classification.marking()
                    ))
                })();
                let _ = tx.send(result);
            });
        match spawned {
            Ok(_) => {
                self.job = Some(rx);
                self.note = Some("Writing the report…".into());
            }
            Err(e) => self.note = Some(format!("cannot start the report: {e}")),
        }
    }

    /// The view.
    pub fn ui(&mut self, ui: &mut egui::Ui, session: &Session) {
        self.poll();
        if self.job.is_some() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        ui.heading("Reports");
        ui.label("The report on critical technologies and dependency risks, with the technology roadmaps: made from the register, as PDF (and Markdown for drafting).");
        if self.editions.is_none() {
            self.editions = Some(session.store().editions().unwrap_or_default());
        }
        let editions = self.editions.clone().unwrap_or_default();
        egui::Grid::new("report_form")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                ui.label("Made from");
                ui.vertical(|ui| {
                    let now = match session.viewing() {
                        Some(v) => format!("The register as viewed ({})", v.date),
                        None => "The register now".to_owned(),
                    };
                    ui.radio_value(&mut self.basis, Basis::Now, now);
                    ui.horizontal(|ui| {
                        ui.radio_value(&mut self.basis, Basis::AsOf, "As of");
                        ui.add(
                            egui::TextEdit::singleline(&mut self.date)
                                .desired_width(90.0)
                                .hint_text("YYYY-MM-DD"),
                        );
                    });
                    ui.horizontal(|ui| {
                        ui.radio_value(&mut self.basis, Basis::Edition, "Edition");
                        let shown = self
                            .edition
                            .as_ref()
                            .and_then(|id| editions.iter().find(|e| &e.id == id))
                            .map_or_else(
                                || format!("{} edition(s)", editions.len()),
                                |e| format!("{} ({})", e.title, e.as_of),
                            );
                        egui::ComboBox::from_id_salt("report_edition")
                            .selected_text(shown)
                            .show_ui(ui, |ui| {
                                for e in &editions {
                                    if ui
                                        .selectable_label(
                                            self.edition.as_deref() == Some(e.id.as_str()),
                                            format!(
                                                "{} ({}, {})",
                                                e.title,
                                                e.as_of,
                                                e.classification.code()
                                            ),
                                        )
                                        .clicked()
                                    {
                                        self.edition = Some(e.id.clone());
                                        self.basis = Basis::Edition;
                                    }
                                }
                            });
                    });
                });
                ui.end_row();
                let l = ui.label("Ceiling");
                egui::ComboBox::from_id_salt("report_ceiling")
                    .selected_text(
                        self.ceiling
                            .map_or("none (everything)", Classification::marking),
                    )
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.ceiling, None, "none (everything)");
                        for level in Classification::ALL {
                            ui.selectable_value(&mut self.ceiling, Some(level), level.marking());
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Report title");
                ui.add(
                    egui::TextEdit::singleline(&mut self.title)
                        .hint_text("Critical technologies and strategic dependencies"),
                )
                .labelled_by(l.id);
                ui.end_row();
                let l = ui.label("Output file");
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut self.out)
                            .desired_width(360.0)
                            .hint_text("a new .pdf file"),
                    )
                    .labelled_by(l.id);
                    if ui.button("Choose…").clicked()
                        && let Some(path) = rfd::FileDialog::new()
                            .set_file_name("report.pdf")
                            .save_file()
                    {
                        self.out = path.display().to_string();
                    }
                });
                ui.end_row();
                ui.label("");
                ui.checkbox(
                    &mut self.markdown,
                    "Also write the Markdown (same name, .md) for drafting",
                );
                ui.end_row();
            });
        ui.horizontal(|ui| {
            if ui.button("Preview outline").clicked() {
                match self.build(session) {
                    Ok(r) => {
                        self.preview = Some(r);
                        self.note = None;
                    }
                    Err(e) => self.note = Some(format!("No report: {e}")),
                }
            }
            let busy = self.job.is_some();
            if ui
                .add_enabled(!busy, egui::Button::new("Generate PDF"))
                .clicked()
            {
                self.generate(session);
            }
            if busy {
                ui.spinner();
            }
            if let Some(folder) = self.folder.clone()
                && !busy
                && ui.button("Open the folder").clicked()
            {
                open_folder(&folder);
            }
        });
        if let Some(note) = &self.note {
            ui.label(note);
        }
        if let Some(r) = &self.preview {
            ui.separator();
            ui.colored_label(
                super::theme::banner_fill(r.classification),
                format!(
                    "Marked {}; releasable to {}",
                    r.classification.marking(),
                    r.releasability
                ),
            );
            ui.label(&r.basis);
            if let Some(c) = r.ceiling {
                ui.label(format!(
                    "{} record(s) above {} left out",
                    r.omitted,
                    c.marking()
                ));
            }
            ui.label("The PDF and Markdown are written UNENCRYPTED: store them only where material of this marking may be kept.");
            egui::ScrollArea::vertical()
                .id_salt("outline")
                .show(ui, |ui| {
                    for s in &r.sections {
                        let rows: usize = s
                            .blocks
                            .iter()
                            .map(|b| match b {
                                Block::Table { rows, .. } => rows.len(),
                                _ => 0,
                            })
                            .sum();
                        let charts = s
                            .blocks
                            .iter()
                            .filter(|b| matches!(b, Block::Chart { .. }))
                            .count();
                        egui::CollapsingHeader::new(format!(
                            "{}  {} ({rows} rows, {charts} charts)",
                            s.number, s.title
                        ))
                        .id_salt(("outline", &s.number))
                        .show(ui, |ui| {
                            for b in &s.blocks {
                                match b {
                                    Block::Heading(h) => {
                                        ui.strong(h);
                                    }
                                    Block::Chart { title, level, .. } => {
                                        ui.label(format!(
                                            "{} Figure: {title}",
                                            report::portion(*level)
                                        ));
                                    }
                                    Block::Table { rows, .. } => {
                                        ui.label(format!("table of {} rows", rows.len()));
                                    }
                                    Block::Paragraph(..) => {}
                                }
                            }
                        });
                    }
                });
        }
    }
}

/// Shows a folder in the desktop's file manager.
fn open_folder(folder: &std::path::Path) {
    let program = if cfg!(target_os = "windows") {
        "explorer"
    } else if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(program).arg(folder).spawn();
}

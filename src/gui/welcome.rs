//! The welcome screen: unlock an observatory, or create an identity and a new observatory.

use std::path::{Path, PathBuf};

use super::app::{AppWindow, Command};
use super::theme;
use crate::crypto::{Passphrase, Profile};
use crate::model::Classification;

/// Which path a file picker fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    File,
    Identity,
    NewFile,
}

/// The in-app file picker, for desktops without a native dialog.
#[derive(Debug)]
struct Picker {
    dir: PathBuf,
    target: Target,
    entries: Vec<(String, bool)>,
}

impl Picker {
    fn new(dir: PathBuf, target: Target) -> Self {
        let mut picker = Picker {
            dir,
            target,
            entries: Vec::new(),
        };
        picker.read();
        picker
    }

    fn read(&mut self) {
        let mut entries: Vec<(String, bool)> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().into_owned(),
                            e.path().is_dir(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        entries.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
        });
        self.entries = entries;
    }
}

/// State of the welcome screen (paths and drafts only; the passphrase is wiped on unlock).
pub struct Welcome {
    pub(super) file: String,
    pub(super) identity: String,
    pub(super) passphrase: String,
    /// The new identity's passphrase, typed a second time.
    pub(super) passphrase_again: String,
    /// The last unlock failed because the file has no authenticator: offer to sign it on the
    /// owner's word.
    pub(super) offer_authenticate: bool,
    create_identity: bool,
    name: String,
    member_state: String,
    clearance: Classification,
    new_file: String,
    recent: Vec<PathBuf>,
    picker: Option<Picker>,
    profile_error: Option<String>,
    persist: bool,
}

impl Welcome {
    /// `persist`: read and write the recent-files list (off in tests).
    pub(super) fn new(persist: bool) -> Self {
        let recent = if persist {
            super::prefs::recent_files()
        } else {
            Vec::new()
        };
        Welcome {
            file: std::env::var("OBSERVATORY_FILE").unwrap_or_default(),
            identity: std::env::var("OBSERVATORY_IDENTITY").unwrap_or_default(),
            passphrase: String::new(),
            passphrase_again: String::new(),
            offer_authenticate: false,
            create_identity: true,
            name: String::new(),
            member_state: String::new(),
            clearance: Classification::Restricted,
            new_file: String::new(),
            recent,
            picker: None,
            profile_error: None,
            persist,
        }
    }

    /// Remembers a file in the recent list (paths only: never domain data).
    pub(super) fn remember(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_owned());
        self.recent.truncate(8);
        if self.persist {
            super::prefs::save_recent_files(&self.recent);
        }
    }

    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        busy: Option<&str>,
        error: Option<&str>,
        commands: &mut Vec<Command>,
    ) {
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space(12.0);
                ui.heading("Observatory");
                ui.label("Register, supply chains and dependencies of critical technologies");
                ui.add_space(12.0);
            });
            if let Some(busy) = busy {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(busy);
                });
            }
            if let Some(error) = error {
                ui.colored_label(theme::ERROR, error);
            }
            ui.columns(2, |columns| {
                self.open_ui(&mut columns[0], busy.is_some(), commands);
                self.create_ui(&mut columns[1], busy.is_some(), commands);
            });
            ui.add_space(8.0);
            ui.group(|ui| {
                ui.strong("Explore first");
                ui.label("The demo observatory: the EU 2023 list of critical technologies, the EU critical raw materials study 2023 and USGS production figures (real public data), with a few example assessments, measures and events. UNCLASSIFIED, encrypted to a throwaway key and removed when you lock.");
                if ui.add_enabled(busy.is_none(), egui::Button::new("Open the demo observatory")).clicked() {
                    commands.push(Command::OpenDemo);
                }
            });
            ui.horizontal(|ui| {
                if ui.button("Help").clicked() {
                    commands.push(Command::Toggle(AppWindow::Help));
                }
                if ui.button("About").clicked() {
                    commands.push(Command::Toggle(AppWindow::About));
                }
            });
        });
        self.picker_ui(ui.ctx());
    }

    fn path_row(
        ui: &mut egui::Ui,
        label: &str,
        value: &mut String,
        browse: &mut Option<Target>,
        target: Target,
    ) {
        ui.horizontal(|ui| {
            let l = ui.label(label);
            // Leave room for the Browse button in a narrow column (1366x768 screens).
            let width = (ui.available_width() - 190.0).clamp(160.0, 320.0);
            ui.add(egui::TextEdit::singleline(value).desired_width(width))
                .labelled_by(l.id);
            if ui.button(format!("Browse {label}…")).clicked() {
                *browse = Some(target);
            }
        });
    }

    fn open_ui(&mut self, ui: &mut egui::Ui, busy: bool, commands: &mut Vec<Command>) {
        ui.group(|ui| {
            ui.strong("Open an observatory");
            let mut browse = None;
            Self::path_row(
                ui,
                "Observatory file",
                &mut self.file,
                &mut browse,
                Target::File,
            );
            Self::path_row(
                ui,
                "Identity file",
                &mut self.identity,
                &mut browse,
                Target::Identity,
            );
            let mut submit = false;
            ui.horizontal(|ui| {
                let l = ui.label("Passphrase");
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.passphrase)
                            .password(true)
                            .desired_width(240.0),
                    )
                    .labelled_by(l.id);
                submit = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            });
            if ui.add_enabled(!busy, egui::Button::new("Unlock")).clicked() || (submit && !busy) {
                commands.push(Command::Unlock {
                    file: PathBuf::from(self.file.trim()),
                    identity: PathBuf::from(self.identity.trim()),
                    passphrase: Passphrase::new(&self.passphrase),
                    authenticate: false,
                });
            }
            if self.offer_authenticate {
                ui.label("Only if you saved this file yourself with an Observatory from before file authenticators: type the passphrase again and sign it. Otherwise report it to your security officer.");
                if ui
                    .add_enabled(!busy, egui::Button::new("I saved it myself: sign it and open"))
                    .clicked()
                {
                    commands.push(Command::Unlock {
                        file: PathBuf::from(self.file.trim()),
                        identity: PathBuf::from(self.identity.trim()),
                        passphrase: Passphrase::new(&self.passphrase),
                        authenticate: true,
                    });
                }
            }
            if !self.recent.is_empty() {
                ui.separator();
                ui.label("Recent files");
                for path in self.recent.clone() {
                    if ui.link(path.display().to_string()).clicked() {
                        self.file = path.display().to_string();
                    }
                }
            }
            if let Some(target) = browse {
                self.browse(target);
            }
        });
    }

    fn create_ui(&mut self, ui: &mut egui::Ui, busy: bool, commands: &mut Vec<Command>) {
        ui.group(|ui| {
            ui.strong("Create a new observatory");
            ui.checkbox(&mut self.create_identity, "Create a new identity too");
            let mut browse = None;
            if self.create_identity {
                ui.horizontal(|ui| {
                    let l = ui.label("Your name");
                    ui.text_edit_singleline(&mut self.name).labelled_by(l.id);
                });
                ui.horizontal(|ui| {
                    let l = ui.label("Member State");
                    ui.add(egui::TextEdit::singleline(&mut self.member_state).desired_width(60.0)).labelled_by(l.id);
                    egui::ComboBox::from_label("Clearance")
                        .selected_text(self.clearance.code())
                        .show_ui(ui, |ui| {
                            for level in Classification::ALL {
                                ui.selectable_value(&mut self.clearance, level, level.code());
                            }
                        });
                });
                ui.label("The identity is written to the identity file above, protected by the passphrase above.");
                ui.horizontal(|ui| {
                    let l = ui.label("Passphrase again");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.passphrase_again)
                            .password(true)
                            .desired_width(240.0),
                    )
                    .labelled_by(l.id);
                });
            } else {
                ui.label("Uses the identity file and passphrase above.");
            }
            Self::path_row(ui, "New observatory file", &mut self.new_file, &mut browse, Target::NewFile);
            if ui.add_enabled(!busy, egui::Button::new("Create")).clicked() {
                let profile = if self.create_identity {
                    if self.passphrase.is_empty() {
                        Err("type a passphrase for the new identity (an empty one is refused)".to_owned())
                    } else if self.passphrase != self.passphrase_again {
                        Err("the two passphrases differ: type the same one twice".to_owned())
                    } else {
                        Profile::new(&self.name, &self.member_state, self.clearance)
                            .map(Some)
                            .map_err(|e| e.to_string())
                    }
                } else {
                    Ok(None)
                };
                match profile {
                    Ok(new_identity) => {
                        self.profile_error = None;
                        commands.push(Command::Create {
                            file: PathBuf::from(self.new_file.trim()),
                            identity: PathBuf::from(self.identity.trim()),
                            passphrase: Passphrase::new(&self.passphrase),
                            new_identity,
                        });
                    }
                    Err(e) => self.profile_error = Some(e),
                }
            }
            if let Some(problem) = &self.profile_error {
                ui.colored_label(theme::ERROR, problem);
            }
            if let Some(target) = browse {
                self.browse(target);
            }
        });
    }

    /// Native dialog first; the in-app picker when none is available.
    fn browse(&mut self, target: Target) {
        let dialog = rfd::FileDialog::new();
        let picked = match target {
            Target::NewFile => dialog.set_file_name("register.observatory").save_file(),
            _ => dialog.pick_file(),
        };
        if let Some(path) = picked {
            self.set(target, &path);
        } else {
            let start = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
            self.picker = Some(Picker::new(start, target));
        }
    }

    fn set(&mut self, target: Target, path: &Path) {
        let text = path.display().to_string();
        match target {
            Target::File => self.file = text,
            Target::Identity => self.identity = text,
            Target::NewFile => self.new_file = text,
        }
    }

    fn picker_ui(&mut self, ctx: &egui::Context) {
        let Some(picker) = &mut self.picker else {
            return;
        };
        let mut chosen = None;
        let mut close = false;
        let mut go = None;
        egui::Window::new("Choose a file")
            .collapsible(false)
            .default_size([480.0, 400.0])
            .show(ctx, |ui| {
                ui.label(picker.dir.display().to_string());
                if ui.button("Up").clicked() {
                    go = picker.dir.parent().map(Path::to_owned);
                }
                egui::ScrollArea::vertical()
                    .max_height(300.0)
                    .show(ui, |ui| {
                        for (name, is_dir) in &picker.entries {
                            let label = if *is_dir {
                                format!("{name}/")
                            } else {
                                name.clone()
                            };
                            if ui.selectable_label(false, label).clicked() {
                                if *is_dir {
                                    go = Some(picker.dir.join(name));
                                } else {
                                    chosen = Some(picker.dir.join(name));
                                }
                            }
                        }
                    });
                ui.horizontal(|ui| {
                    if picker.target == Target::NewFile && ui.button("Use this folder").clicked() {
                        chosen = Some(picker.dir.join("register.observatory"));
                    }
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                });
            });
        if let Some(dir) = go {
            picker.dir = dir;
            picker.read();
        }
        if let Some(path) = chosen {
            let target = picker.target;
            self.picker = None;
            self.set(target, &path);
        } else if close {
            self.picker = None;
        }
    }
}

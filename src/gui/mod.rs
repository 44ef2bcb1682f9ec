//! The desktop app (feature `gui`): eframe/egui on top of [`crate::service`].
//!
//! Rules: views never touch the store; they emit [`app::Command`]s that the app applies once
//! per frame. Slow work (key derivation + decryption on unlock, creating files, writing saves)
//! runs on named background threads and reports back by message. Nothing of the domain is kept
//! in eframe's persisted state (persistence is not even compiled in); the list of recent files
//! is a plain text file of paths.

pub mod app;
mod dashboard;
mod editor;
pub mod exchange;
pub mod force;
pub mod graph;
pub mod history;
pub mod import;
mod prefs;
mod register;
pub mod reports;
pub mod theme;
pub mod timeline;
mod welcome;

pub use app::{Clock, ObservatoryApp, SystemClock, View};

/// Starts the desktop app.
pub fn run() -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title("Observatory")
            .with_inner_size([1280.0, 760.0])
            .with_min_inner_size([900.0, 560.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Observatory",
        options,
        Box::new(|_cc| {
            Ok(Box::new(Native(ObservatoryApp::with_saved_preferences(
                Box::new(SystemClock),
            ))))
        }),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The eframe wrapper.
struct Native(ObservatoryApp);

impl eframe::App for Native {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.0.ui(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.0.shutdown();
    }
}

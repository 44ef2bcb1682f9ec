//! The desktop app (feature `gui`): eframe/egui on top of [`crate::service`].
//!
//! Rules: views never touch the store; they emit [`app::Command`]s that the app applies once
//! per frame. Slow work (key derivation + decryption on unlock, creating files, writing saves)
//! runs on named background threads and reports back by message. Nothing of the domain is kept
//! in eframe's persisted state (persistence is not even compiled in); the list of recent files
//! is a plain text file of paths.

pub mod app;
pub mod consultation;
mod dashboard;
mod editor;
pub mod exchange;
pub mod force;
pub mod graph;
pub mod history;
pub mod import;
mod prefs;
pub mod priorities;
mod register;
pub mod reports;
pub mod theme;
pub mod timeline;
mod welcome;

pub use app::{Clipboard, Clock, ObservatoryApp, SystemClock, View};

/// The application icon (`assets/packaging/icons`, the one the package installs), 256 px.
const ICON_PNG: &[u8] = include_bytes!("../../assets/packaging/icons/observatory-256.png");

/// The window icon, decoded from [`ICON_PNG`] (`None` if it does not decode: the window then
/// has the system's default icon).
#[must_use]
pub fn window_icon() -> Option<egui::IconData> {
    eframe::icon_data::from_png_bytes(ICON_PNG).ok()
}

/// Starts the desktop app.
pub fn run() -> anyhow::Result<()> {
    let mut viewport = egui::ViewportBuilder::default()
        // The desktop entry is `observatory.desktop`: the same id (Wayland app id, X11
        // WM_CLASS) ties the window to it, for its icon and name in the task bar.
        .with_app_id("observatory");
    if let Some(icon) = window_icon() {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: viewport
            .with_title("Observatory")
            .with_inner_size([1280.0, 760.0])
            .with_min_inner_size([900.0, 560.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Observatory",
        options,
        Box::new(|cc| {
            wake_regularly(&cc.egui_ctx);
            Ok(Box::new(Native(ObservatoryApp::with_saved_preferences(
                Box::new(SystemClock),
            ))))
        }),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Wakes eframe every few seconds, also while the window is hidden or minimised (when it
/// calls only [`eframe::App::logic`]), so that the idle lock and the clipboard timer run.
fn wake_regularly(ctx: &egui::Context) {
    let ctx = ctx.clone();
    let _ = std::thread::Builder::new()
        .name("idle-lock-timer".into())
        .spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                ctx.request_repaint();
            }
        });
}

/// The eframe wrapper.
struct Native(ObservatoryApp);

impl eframe::App for Native {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.0.logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.0.ui(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.0.shutdown();
    }
}

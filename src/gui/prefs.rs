//! Saved UI preferences and the recent-files list: small text files in the user's config
//! folder (`$XDG_CONFIG_HOME/observatory` or `~/.config/observatory`). They never hold domain
//! data: paths, a theme and a number of minutes.

use std::path::PathBuf;
use std::time::Duration;

use super::theme::Mode;

/// The preferences a user can set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    /// Light or dark.
    pub theme: Mode,
    /// Idle minutes before the app locks itself (1-120).
    pub idle_lock_minutes: u32,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            theme: Mode::Light,
            idle_lock_minutes: 10,
        }
    }
}

/// The config folder, if the environment names one.
fn config_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("observatory"))
}

fn write(name: &str, text: &str) {
    // Preferences are a convenience: failing to save them must not disturb the user's work.
    if let Some(dir) = config_dir() {
        let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(name), text));
    }
}

fn read(name: &str) -> String {
    config_dir()
        .and_then(|d| std::fs::read_to_string(d.join(name)).ok())
        .unwrap_or_default()
}

impl Preferences {
    /// The idle time before locking.
    #[must_use]
    pub fn idle_lock(&self) -> Duration {
        Duration::from_secs(u64::from(self.idle_lock_minutes.clamp(1, 120)) * 60)
    }

    /// Reads the saved preferences (defaults for anything missing or unreadable).
    #[must_use]
    pub fn load() -> Self {
        let mut prefs = Preferences::default();
        for line in read("preferences").lines() {
            match line.split_once('=') {
                Some(("theme", "dark")) => prefs.theme = Mode::Dark,
                Some(("theme", "light")) => prefs.theme = Mode::Light,
                Some(("idle_lock_minutes", n)) => {
                    if let Ok(n) = n.trim().parse::<u32>() {
                        prefs.idle_lock_minutes = n.clamp(1, 120);
                    }
                }
                _ => {}
            }
        }
        prefs
    }

    /// Saves them.
    pub fn save(&self) {
        let theme = match self.theme {
            Mode::Light => "light",
            Mode::Dark => "dark",
        };
        write(
            "preferences",
            &format!(
                "theme={theme}\nidle_lock_minutes={}\n",
                self.idle_lock_minutes
            ),
        );
    }
}

/// The recent files, newest first.
#[must_use]
pub fn recent_files() -> Vec<PathBuf> {
    read("recent-files")
        .lines()
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// Saves the recent files.
pub fn save_recent_files(files: &[PathBuf]) {
    let text = files.iter().fold(String::new(), |mut text, p| {
        text.push_str(&p.display().to_string());
        text.push('\n');
        text
    });
    write("recent-files", &text);
}

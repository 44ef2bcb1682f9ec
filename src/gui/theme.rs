//! Colours and spacing, in one place (views use these, not literals).

use egui::Color32;

use crate::model::Classification;

/// Light or dark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Light theme.
    #[default]
    Light,
    /// Dark theme.
    Dark,
}

/// Applies the theme.
pub fn apply(ctx: &egui::Context, mode: Mode) {
    ctx.set_theme(match mode {
        Mode::Light => egui::Theme::Light,
        Mode::Dark => egui::Theme::Dark,
    });
    ctx.all_styles_mut(|style| {
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(8.0, 4.0);
    });
}

/// Banner background for a level.
#[must_use]
pub fn banner_fill(level: Classification) -> Color32 {
    let [r, g, b] = level.colour_rgb();
    Color32::from_rgb(r, g, b)
}

/// Banner text colour.
pub const BANNER_TEXT: Color32 = Color32::WHITE;
/// Banner height in points.
pub const BANNER_HEIGHT: f32 = 22.0;
/// Text colour of errors.
pub const ERROR: Color32 = Color32::from_rgb(0xb0, 0x1c, 0x1c);
/// Warnings (amber, readable on light and dark).
pub const WARN: Color32 = Color32::from_rgb(0xb3, 0x6b, 0x00);
/// Text colour of "saved".
pub const OK: Color32 = Color32::from_rgb(0x1b, 0x7a, 0x35);
/// Points of the risk matrix.
pub const MATRIX_POINT: Color32 = Color32::from_rgb(0xc8, 0x10, 0x2e);
/// Width of the navigation panel.
pub const NAV_WIDTH: f32 = 170.0;

//! Page layout: the report as A4 pages of drawing operations (text, rectangles, lines,
//! circles), with text wrapped by the font's own advance widths. The PDF writer turns the
//! operations into PDF content; charts are drawn here as vector shapes.

// Drawing coordinates are f32 (PDF); values (shares, scores, day numbers) are f64 and small.
#![allow(clippy::cast_possible_truncation)]

use std::collections::HashMap;

use skrifa::instance::{LocationRef, Size};
use skrifa::raw::TableProvider;
use skrifa::{FontRef, MetadataProvider};

use super::content::{Block, Chart, Report, Row};
use super::portion;
use crate::model::Classification;

/// `DejaVu` Sans (`assets/fonts`, Bitstream Vera licence).
pub const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// `DejaVu` Sans Bold.
pub const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
pub const PAGE_W: f32 = 595.28;
/// A4 height.
pub const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.0;
const TOP: f32 = 70.0;
const BOTTOM: f32 = PAGE_H - 62.0;
const BODY: f32 = 9.0;
const MARK_W: f32 = 28.0;

/// An RGB colour.
pub type Rgb = [u8; 3];
const BLACK: Rgb = [0x20, 0x20, 0x20];
const GREY: Rgb = [0x80, 0x80, 0x80];
const LIGHT: Rgb = [0xee, 0xee, 0xee];
/// Series colours (Okabe-Ito).
const PALETTE: [Rgb; 6] = [
    [0x00, 0x72, 0xb2],
    [0xe6, 0x9f, 0x00],
    [0x00, 0x9e, 0x73],
    [0xcc, 0xcc, 0xcc],
    [0xd5, 0x5e, 0x00],
    [0xcc, 0x79, 0xa7],
];

/// One drawing operation; y grows downwards from the top of the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Text on a baseline.
    Text {
        /// Left.
        x: f32,
        /// Baseline.
        y: f32,
        /// Size in points.
        size: f32,
        /// Bold face.
        bold: bool,
        /// The text (one line).
        text: String,
        /// Colour.
        colour: Rgb,
    },
    /// A filled rectangle.
    Rect {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// Fill.
        fill: Rgb,
    },
    /// A line.
    Line {
        /// Start.
        from: (f32, f32),
        /// End.
        to: (f32, f32),
        /// Width.
        width: f32,
        /// Colour.
        colour: Rgb,
    },
    /// A filled circle.
    Circle {
        /// Centre x.
        x: f32,
        /// Centre y.
        y: f32,
        /// Radius.
        r: f32,
        /// Fill.
        fill: Rgb,
    },
}

/// A laid-out page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// What is drawn, in order.
    pub ops: Vec<Op>,
}

/// Advance widths of the two faces.
pub struct Measure {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
    cache: HashMap<(char, bool), f32>,
}

impl Measure {
    /// Reads the embedded fonts.
    #[must_use]
    pub fn new() -> Option<Self> {
        Some(Measure {
            regular: FontRef::new(REGULAR).ok()?,
            bold: FontRef::new(BOLD).ok()?,
            cache: HashMap::new(),
        })
    }

    /// Width of `text` at `size` points.
    pub fn width(&mut self, text: &str, size: f32, bold: bool) -> f32 {
        let mut units = 0.0;
        for c in text.chars() {
            let advance = if let Some(a) = self.cache.get(&(c, bold)) {
                *a
            } else {
                let font = if bold { &self.bold } else { &self.regular };
                let upem = f32::from(font.head().map_or(2048, |h| h.units_per_em()));
                let glyph = font.charmap().map(c).unwrap_or_default();
                let a = font
                    .glyph_metrics(Size::unscaled(), LocationRef::default())
                    .advance_width(glyph)
                    .unwrap_or(upem / 2.0)
                    / upem;
                self.cache.insert((c, bold), a);
                a
            };
            units += advance;
        }
        units * size
    }

    /// `text` broken into lines no wider than `width` (at spaces; long words are cut).
    pub fn wrap(&mut self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size, bold) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the column is cut.
                let mut piece = String::new();
                for c in word.chars() {
                    piece.push(c);
                    if self.width(&piece, size, bold) > width && piece.chars().count() > 1 {
                        piece.pop();
                        lines.push(std::mem::take(&mut piece));
                        piece.push(c);
                    }
                }
                line = piece;
            }
            lines.push(line);
        }
        lines
    }
}

/// The body pages and the page (0-based, within the body) each section starts on.
pub struct Laid {
    /// Pages.
    pub pages: Vec<Page>,
    /// Section number, title, first page.
    pub starts: Vec<(String, String, usize)>,
}

struct Layout<'m> {
    measure: &'m mut Measure,
    pages: Vec<Page>,
    y: f32,
    figure: usize,
}

impl Layout<'_> {
    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = TOP;
    }

    fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: String, colour: Rgb) {
        self.page().ops.push(Op::Text {
            x,
            y,
            size,
            bold,
            text,
            colour,
        });
    }

    /// A wrapped paragraph, with a portion marking in the margin column when `level` is set.
    fn paragraph(&mut self, level: Option<Classification>, text: &str, size: f32, bold: bool) {
        let x = MARGIN + if level.is_some() { MARK_W } else { 0.0 };
        let lines = self.measure.wrap(text, size, bold, PAGE_W - MARGIN - x);
        let line_h = size * 1.35;
        let mut first = true;
        for line in lines {
            self.ensure(line_h);
            self.y += line_h;
            if first && let Some(level) = level {
                self.text(MARGIN, self.y, size, true, portion(level).to_owned(), BLACK);
            }
            first = false;
            self.text(x, self.y, size, bold, line, BLACK);
        }
        self.y += size * 0.6;
    }

    fn heading(&mut self, text: &str, size: f32) {
        self.ensure(size * 3.0 + 30.0);
        self.y += size * 0.8;
        self.paragraph(None, text, size, true);
    }

    fn table(&mut self, columns: &[(String, f32)], rows: &[Row]) {
        let size = BODY - 0.5;
        let line_h = size * 1.3;
        let total: f32 = columns.iter().map(|c| c.1).sum::<f32>().max(0.1);
        let usable = PAGE_W - 2.0 * MARGIN - MARK_W;
        let widths: Vec<f32> = columns.iter().map(|c| c.1 / total * usable).collect();
        let header = |l: &mut Layout<'_>| {
            let heads: Vec<Vec<String>> = columns
                .iter()
                .zip(&widths)
                .map(|(c, w)| l.measure.wrap(&c.0, size, true, w - 4.0))
                .collect();
            let n = heads.iter().map(Vec::len).max().unwrap_or(1);
            let h = n as f32 * line_h + 4.0;
            let y = l.y;
            l.page().ops.push(Op::Rect {
                x: MARGIN,
                y,
                w: PAGE_W - 2.0 * MARGIN,
                h,
                fill: [0xd8, 0xdd, 0xe3],
            });
            let mut x = MARGIN + MARK_W;
            for (lines, w) in heads.into_iter().zip(&widths) {
                for (i, line) in lines.into_iter().enumerate() {
                    l.text(
                        x + 2.0,
                        y + 2.0 + (i + 1) as f32 * line_h - 2.0,
                        size,
                        true,
                        line,
                        BLACK,
                    );
                }
                x += w;
            }
            l.y += h;
        };
        self.ensure(3.0 * line_h + 8.0);
        header(self);
        for (index, row) in rows.iter().enumerate() {
            let cells: Vec<Vec<String>> = row
                .cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| self.measure.wrap(c, size, false, w - 4.0))
                .collect();
            let n = cells.iter().map(Vec::len).max().unwrap_or(1);
            let h = n as f32 * line_h + 3.0;
            if self.y + h > BOTTOM {
                self.new_page();
                header(self);
            }
            let y = self.y;
            if index % 2 == 1 {
                self.page().ops.push(Op::Rect {
                    x: MARGIN,
                    y,
                    w: PAGE_W - 2.0 * MARGIN,
                    h,
                    fill: [0xf5, 0xf6, 0xf8],
                });
            }
            self.text(
                MARGIN + 2.0,
                y + line_h,
                size,
                true,
                portion(row.level).to_owned(),
                BLACK,
            );
            let mut x = MARGIN + MARK_W;
            for (lines, w) in cells.into_iter().zip(&widths) {
                for (i, line) in lines.into_iter().enumerate() {
                    self.text(
                        x + 2.0,
                        y + (i + 1) as f32 * line_h,
                        size,
                        false,
                        line,
                        BLACK,
                    );
                }
                x += w;
            }
            self.y += h;
        }
        self.y += 8.0;
    }

    fn chart(&mut self, title: &str, level: Classification, chart: &Chart) {
        let height = chart_height(chart);
        self.ensure(height + 30.0);
        self.figure += 1;
        let caption = format!("Figure {}: {title}", self.figure);
        self.y += 4.0;
        self.paragraph(Some(level), &caption, BODY, true);
        let origin = (MARGIN + MARK_W, self.y);
        let width = PAGE_W - 2.0 * MARGIN - MARK_W;
        let ops = draw_chart(self.measure, chart, origin, width);
        self.page().ops.extend(ops);
        self.y += height + 10.0;
    }
}

/// Lays out the body (every section) from the first body page on.
pub fn body(report: &Report, measure: &mut Measure) -> Laid {
    let mut layout = Layout {
        measure,
        pages: Vec::new(),
        y: TOP,
        figure: 0,
    };
    let mut starts = Vec::new();
    for section in &report.sections {
        // Every section starts on a new page.
        layout.new_page();
        starts.push((
            section.number.clone(),
            section.title.clone(),
            layout.pages.len() - 1,
        ));
        layout.paragraph(
            None,
            &format!("{}  {}", section.number, section.title),
            15.0,
            true,
        );
        layout.y += 4.0;
        for block in &section.blocks {
            match block {
                Block::Heading(text) => layout.heading(text, 11.0),
                Block::Paragraph(level, text) => layout.paragraph(Some(*level), text, BODY, false),
                Block::Table { columns, rows } => layout.table(columns, rows),
                Block::Chart {
                    title,
                    level,
                    chart,
                } => layout.chart(title, *level, chart),
            }
        }
    }
    Laid {
        pages: layout.pages,
        starts,
    }
}

/// The title page.
pub fn title_page(report: &Report, measure: &mut Measure) -> Page {
    let mut layout = Layout {
        measure,
        pages: vec![Page::default()],
        y: 150.0,
        figure: 0,
    };
    layout.paragraph(None, &report.title, 22.0, true);
    layout.y += 10.0;
    layout.paragraph(None, &report.basis, 11.0, false);
    layout.y += 24.0;
    let lines = [
        ("Classification", report.classification.marking().to_owned()),
        ("Date of the data", report.date.clone()),
        ("Generated", report.generated.clone()),
        ("Releasable to", report.releasability.clone()),
        (
            "Ceiling",
            report.ceiling.map_or_else(
                || "none: every record included".to_owned(),
                |c| {
                    format!(
                        "{} ({} record(s) above it left out)",
                        c.marking(),
                        report.omitted
                    )
                },
            ),
        ),
    ];
    for (label, value) in lines {
        layout.paragraph(
            None,
            &format!("{label}: {value}"),
            10.5,
            label == "Classification",
        );
    }
    layout.y += 18.0;
    layout.paragraph(None, "Distribution", 11.0, true);
    for d in &report.distribution {
        layout.paragraph(None, d, 10.0, false);
    }
    layout.paragraph(
        None,
        "Handle according to the marking above. Every table row and paragraph carries the marking of the records it is drawn from: (U) UNCLASSIFIED, (R) RESTRICTED, (C) CONFIDENTIAL, (S) SECRET, (TS) TOP SECRET.",
        9.0,
        false,
    );
    layout.pages.remove(0)
}

/// The contents page: section titles and the (1-based, whole-document) page they start on.
pub fn contents_page(
    starts: &[(String, String, usize)],
    first_body_page: usize,
    measure: &mut Measure,
) -> Page {
    let mut layout = Layout {
        measure,
        pages: vec![Page::default()],
        y: TOP,
        figure: 0,
    };
    layout.paragraph(None, "Contents", 15.0, true);
    layout.y += 8.0;
    for (number, title, page) in starts {
        layout.y += 16.0;
        let y = layout.y;
        layout.text(MARGIN, y, 10.5, false, format!("{number}  {title}"), BLACK);
        let n = (page + first_body_page + 1).to_string();
        let w = layout.measure.width(&n, 10.5, false);
        layout.text(PAGE_W - MARGIN - w, y, 10.5, false, n, BLACK);
    }
    layout.pages.remove(0)
}

/// The marking banners and the page number, added to every page once the count is known.
pub fn frame(
    page: &mut Page,
    level: Classification,
    number: usize,
    count: usize,
    measure: &mut Measure,
) {
    let fill = level.colour_rgb();
    let text = level.marking().to_owned();
    let w = measure.width(&text, 10.0, true);
    for y in [18.0, PAGE_H - 40.0] {
        page.ops.push(Op::Rect {
            x: MARGIN,
            y,
            w: PAGE_W - 2.0 * MARGIN,
            h: 20.0,
            fill,
        });
        page.ops.push(Op::Text {
            x: (PAGE_W - w) / 2.0,
            y: y + 14.0,
            size: 10.0,
            bold: true,
            text: text.clone(),
            colour: [0xff, 0xff, 0xff],
        });
    }
    let n = format!("Page {number} of {count}");
    let w = measure.width(&n, 8.0, false);
    page.ops.push(Op::Text {
        x: PAGE_W - MARGIN - w,
        y: PAGE_H - 46.0,
        size: 8.0,
        bold: false,
        text: n,
        colour: GREY,
    });
}

fn chart_height(chart: &Chart) -> f32 {
    match chart {
        Chart::Bars { bars, .. } => bars.len() as f32 * 16.0 + 30.0,
        Chart::Stacked { groups, .. } => groups.len() as f32 * 16.0 + 46.0,
        Chart::Scatter { .. } => 262.0,
        Chart::Gantt { bars } => bars.len() as f32 * 16.0 + 46.0,
    }
}

fn clip(measure: &mut Measure, text: &str, size: f32, width: f32) -> String {
    if measure.width(text, size, false) <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        out.push(c);
        if measure.width(&format!("{out}…"), size, false) > width {
            out.pop();
            break;
        }
    }
    format!("{out}…")
}

/// A chart as drawing operations, its top-left at `origin`, `width` wide.
#[allow(clippy::too_many_lines)]
fn draw_chart(measure: &mut Measure, chart: &Chart, origin: (f32, f32), width: f32) -> Vec<Op> {
    let (x0, y0) = origin;
    let mut ops = Vec::new();
    let label_w = 170.0;
    let text = |ops: &mut Vec<Op>, x: f32, y: f32, size: f32, t: String, colour: Rgb| {
        ops.push(Op::Text {
            x,
            y,
            size,
            bold: false,
            text: t,
            colour,
        });
    };
    match chart {
        Chart::Bars { unit, bars, max } => {
            let area = width - label_w - 40.0;
            let scale = if *max > 0.0 { area / *max as f32 } else { 0.0 };
            for (i, (label, value)) in bars.iter().enumerate() {
                let y = y0 + i as f32 * 16.0;
                let l = clip(measure, label, 8.0, label_w - 6.0);
                text(&mut ops, x0, y + 10.0, 8.0, l, BLACK);
                let w = (*value as f32 * scale).clamp(0.0, area);
                ops.push(Op::Rect {
                    x: x0 + label_w,
                    y: y + 2.0,
                    w,
                    h: 11.0,
                    fill: PALETTE[0],
                });
                text(
                    &mut ops,
                    x0 + label_w + w + 3.0,
                    y + 10.0,
                    7.5,
                    format!("{value:.1}"),
                    BLACK,
                );
            }
            let axis_y = y0 + bars.len() as f32 * 16.0 + 2.0;
            ops.push(Op::Line {
                from: (x0 + label_w, axis_y),
                to: (x0 + label_w + area, axis_y),
                width: 0.5,
                colour: GREY,
            });
            for step in 0..=4 {
                let v = *max * f64::from(step) / 4.0;
                let x = x0 + label_w + v as f32 * scale;
                ops.push(Op::Line {
                    from: (x, axis_y),
                    to: (x, axis_y + 3.0),
                    width: 0.5,
                    colour: GREY,
                });
                text(
                    &mut ops,
                    x - 6.0,
                    axis_y + 12.0,
                    7.0,
                    format!("{v:.0}"),
                    GREY,
                );
            }
            text(
                &mut ops,
                x0 + label_w,
                axis_y + 24.0,
                7.0,
                unit.clone(),
                GREY,
            );
        }
        Chart::Stacked { series, groups } => {
            let area = width - label_w - 10.0;
            let max = groups
                .iter()
                .map(|g| g.1.iter().sum::<f64>())
                .fold(1.0, f64::max);
            let scale = area / max as f32;
            // Legend.
            let mut lx = x0 + label_w;
            for (i, s) in series.iter().enumerate() {
                ops.push(Op::Rect {
                    x: lx,
                    y: y0 + 2.0,
                    w: 9.0,
                    h: 9.0,
                    fill: PALETTE[i % PALETTE.len()],
                });
                text(&mut ops, lx + 12.0, y0 + 10.0, 7.5, s.clone(), BLACK);
                lx += measure.width(s, 7.5, false) + 28.0;
            }
            for (i, (label, values)) in groups.iter().enumerate() {
                let y = y0 + 18.0 + i as f32 * 16.0;
                let l = clip(measure, label, 8.0, label_w - 6.0);
                text(&mut ops, x0, y + 10.0, 8.0, l, BLACK);
                let mut x = x0 + label_w;
                for (j, v) in values.iter().enumerate() {
                    let w = *v as f32 * scale;
                    if w > 0.0 {
                        ops.push(Op::Rect {
                            x,
                            y: y + 2.0,
                            w,
                            h: 11.0,
                            fill: PALETTE[j % PALETTE.len()],
                        });
                    }
                    x += w;
                }
                let total: f64 = values.iter().sum();
                text(
                    &mut ops,
                    x + 3.0,
                    y + 10.0,
                    7.5,
                    format!("{total:.0}"),
                    BLACK,
                );
            }
        }
        Chart::Scatter {
            x_label,
            y_label,
            points,
        } => {
            let side = 210.0;
            let (px, py) = (x0 + 40.0, y0 + 16.0);
            // Quadrants: high criticality and high risk shaded.
            ops.push(Op::Rect {
                x: px,
                y: py,
                w: side,
                h: side,
                fill: [0xfa, 0xfa, 0xfa],
            });
            ops.push(Op::Rect {
                x: px + side / 2.0,
                y: py,
                w: side / 2.0,
                h: side / 2.0,
                fill: [0xfb, 0xe3, 0xe0],
            });
            for step in 0..=10 {
                let f = step as f32 / 10.0;
                let colour = if step % 5 == 0 { GREY } else { LIGHT };
                ops.push(Op::Line {
                    from: (px + f * side, py),
                    to: (px + f * side, py + side),
                    width: 0.4,
                    colour,
                });
                ops.push(Op::Line {
                    from: (px, py + side - f * side),
                    to: (px + side, py + side - f * side),
                    width: 0.4,
                    colour,
                });
                if step % 5 == 0 {
                    text(
                        &mut ops,
                        px + f * side - 3.0,
                        py + side + 10.0,
                        7.0,
                        step.to_string(),
                        GREY,
                    );
                    text(
                        &mut ops,
                        px - 14.0,
                        py + side - f * side + 3.0,
                        7.0,
                        step.to_string(),
                        GREY,
                    );
                }
            }
            text(
                &mut ops,
                px + side / 2.0 - 20.0,
                py + side + 22.0,
                7.5,
                x_label.clone(),
                BLACK,
            );
            text(&mut ops, x0, y0 + 7.0, 7.5, y_label.clone(), BLACK);
            // Points, and a numbered key on the right.
            let key_x = px + side + 20.0;
            for (i, (label, x, y)) in points.iter().enumerate() {
                let cx = px + (*x as f32 / 10.0).clamp(0.0, 1.0) * side;
                let cy = py + side - (*y as f32 / 10.0).clamp(0.0, 1.0) * side;
                ops.push(Op::Circle {
                    x: cx,
                    y: cy,
                    r: 3.0,
                    fill: [0xc8, 0x10, 0x2e],
                });
                text(
                    &mut ops,
                    cx + 4.0,
                    cy - 3.0,
                    6.5,
                    (i + 1).to_string(),
                    BLACK,
                );
                if i < 24 {
                    let l = clip(
                        measure,
                        &format!("{}  {label} ({x:.1}, {y:.1})", i + 1),
                        7.0,
                        width - (key_x - x0),
                    );
                    text(&mut ops, key_x, py + 8.0 + i as f32 * 9.5, 7.0, l, BLACK);
                }
            }
            if points.len() > 24 {
                text(
                    &mut ops,
                    key_x,
                    py + 8.0 + 24.0 * 9.5,
                    7.0,
                    format!("… and {} more", points.len() - 24),
                    GREY,
                );
            }
        }
        Chart::Gantt { bars } => {
            let area = width - label_w - 10.0;
            let start = bars.iter().map(|b| b.1).fold(f64::MAX, f64::min);
            let end = bars.iter().map(|b| b.2).fold(f64::MIN, f64::max);
            if start >= end {
                return ops;
            }
            let first_year = super::super::service::timeline::date_of_day(start)
                .get(..4)
                .and_then(|y| y.parse::<i32>().ok())
                .unwrap_or(2020);
            let last_year = super::super::service::timeline::date_of_day(end)
                .get(..4)
                .and_then(|y| y.parse::<i32>().ok())
                .unwrap_or(first_year)
                + 1;
            let span_start =
                super::super::service::timeline::day_number(&format!("{first_year}-01-01"))
                    .unwrap_or(start);
            let span_end =
                super::super::service::timeline::day_number(&format!("{last_year}-01-01"))
                    .unwrap_or(end);
            let scale = area / (span_end - span_start).max(1.0) as f32;
            let bottom = y0 + 14.0 + bars.len() as f32 * 16.0;
            for year in first_year..=last_year {
                if let Some(d) =
                    super::super::service::timeline::day_number(&format!("{year}-01-01"))
                {
                    let x = x0 + label_w + (d - span_start) as f32 * scale;
                    ops.push(Op::Line {
                        from: (x, y0 + 10.0),
                        to: (x, bottom),
                        width: 0.4,
                        colour: LIGHT,
                    });
                    text(&mut ops, x + 2.0, y0 + 8.0, 7.0, year.to_string(), GREY);
                }
            }
            for (i, (label, s, e, status)) in bars.iter().enumerate() {
                let y = y0 + 14.0 + i as f32 * 16.0;
                let l = clip(measure, label, 7.5, label_w - 6.0);
                text(&mut ops, x0, y + 10.0, 7.5, l, BLACK);
                let colour = match status.as_str() {
                    "completed" => [0x1b, 0x7a, 0x35],
                    "ongoing" => PALETTE[0],
                    "planned" => PALETTE[1],
                    "cancelled" => [0x99, 0x99, 0x99],
                    _ => PALETTE[5],
                };
                let x = x0 + label_w + (s - span_start) as f32 * scale;
                let w = ((e - s) as f32 * scale).max(2.0);
                ops.push(Op::Rect {
                    x,
                    y: y + 2.0,
                    w,
                    h: 11.0,
                    fill: colour,
                });
                text(&mut ops, x + w + 3.0, y + 10.0, 6.5, status.clone(), GREY);
            }
        }
    }
    ops
}

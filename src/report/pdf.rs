//! The report as a PDF (krilla): title page, contents, the sections; the marking banners and
//! page numbers on every page; the fonts embedded (subset).

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};

use super::content::Report;
use super::layout::{self, BOLD, Measure, Op, PAGE_H, PAGE_W, Page, REGULAR};
use crate::service::ServiceError;

fn fill(c: [u8; 3]) -> Fill {
    Fill {
        paint: rgb::Color::new(c[0], c[1], c[2]).into(),
        opacity: NormalizedF32::ONE,
        rule: krilla::paint::FillRule::default(),
    }
}

/// Lays out and writes the report; returns the PDF bytes and the number of pages.
pub fn to_pdf(report: &Report) -> Result<(Vec<u8>, usize), ServiceError> {
    let failed = |what: &str| ServiceError::Invalid(format!("cannot write the PDF: {what}"));
    let mut measure = Measure::new().ok_or_else(|| failed("the embedded font cannot be read"))?;
    let title = layout::title_page(report, &mut measure);
    let body = layout::body(report, &mut measure);
    let contents = layout::contents_page(&body.starts, 2, &mut measure);
    let mut pages: Vec<Page> = vec![title, contents];
    pages.extend(body.pages);
    let count = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        layout::frame(page, report.classification, i + 1, count, &mut measure);
    }
    let regular = Font::new(REGULAR.into(), 0).ok_or_else(|| failed("the regular font"))?;
    let bold = Font::new(BOLD.into(), 0).ok_or_else(|| failed("the bold font"))?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "{} — {}",
                report.title,
                report.classification.marking()
            ))
            .creator(format!("Observatory {}", env!("CARGO_PKG_VERSION"))),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| failed("page size"))?;
    for page in &pages {
        let mut pdf_page = document.start_page_with(settings.clone());
        let mut surface = pdf_page.surface();
        for op in &page.ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold: b,
                    text,
                    colour,
                } => {
                    surface.set_fill(Some(fill(*colour)));
                    let font = if *b { bold.clone() } else { regular.clone() };
                    surface.draw_text(
                        Point::from_xy(*x, *y),
                        font,
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Rect {
                    x,
                    y,
                    w,
                    h,
                    fill: c,
                } => {
                    if let Some(rect) = Rect::from_xywh(*x, *y, w.max(0.01), h.max(0.01)) {
                        let mut pb = PathBuilder::new();
                        pb.push_rect(rect);
                        if let Some(path) = pb.finish() {
                            surface.set_stroke(None);
                            surface.set_fill(Some(fill(*c)));
                            surface.draw_path(&path);
                        }
                    }
                }
                Op::Line {
                    from,
                    to,
                    width,
                    colour,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(from.0, from.1);
                    pb.line_to(to.0, to.1);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(colour[0], colour[1], colour[2]).into(),
                            width: *width,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                }
                Op::Circle { x, y, r, fill: c } => {
                    // Four cubic arcs.
                    let k = 0.552_284_8 * r;
                    let mut pb = PathBuilder::new();
                    pb.move_to(x + r, *y);
                    pb.cubic_to(x + r, y + k, x + k, y + r, *x, y + r);
                    pb.cubic_to(x - k, y + r, x - r, y + k, x - r, *y);
                    pb.cubic_to(x - r, y - k, x - k, y - r, *x, y - r);
                    pb.cubic_to(x + k, y - r, x + r, y - k, x + r, *y);
                    pb.close();
                    if let Some(path) = pb.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(fill(*c)));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        pdf_page.finish();
    }
    let bytes = document.finish().map_err(|e| failed(&format!("{e:?}")))?;
    Ok((bytes, count))
}

//! The same content as Markdown, for drafting: the marking at the top and bottom, portion
//! markings on every row and paragraph, charts as tables of the numbers they draw.

use std::fmt::Write as _;

use super::content::{Block, Chart, Report};
use super::portion;
use crate::service::timeline::date_of_day;

/// Text from the register, escaped so that Markdown shows it as typed: the marks that make
/// emphasis, code, links, HTML, headings and tables are backslash-escaped (`CommonMark` allows
/// it before any ASCII punctuation), so no record can print bold text such as a fake marking
/// line. What starts a line (lists, headings, rules) cannot act: every line starts with a
/// portion marking or a table bar.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A table cell: escaped, on one line.
fn cell(text: &str) -> String {
    esc(text).replace('\n', " ")
}

/// A paragraph: every line is its own paragraph with the portion marking in front, so that
/// a line break inside a record's text cannot start an unmarked line.
fn paragraph(out: &mut String, marking: &str, text: &str) {
    for line in text.split('\n') {
        let line = line.trim();
        if !line.is_empty() {
            let _ = writeln!(out, "{marking} {}\n", esc(line));
        }
    }
}

/// The report as Markdown.
#[must_use]
pub fn to_markdown(report: &Report) -> String {
    let mut out = String::new();
    let marking = report.classification.marking();
    let _ = writeln!(out, "**{marking}**\n");
    let _ = writeln!(out, "# {}\n", cell(&report.title));
    let _ = writeln!(out, "{}\n", cell(&report.basis));
    let _ = writeln!(out, "- Classification: **{marking}**");
    let _ = writeln!(out, "- Date of the data: {}", report.date);
    let _ = writeln!(out, "- Generated: {}", report.generated);
    let _ = writeln!(out, "- Releasable to: {}", cell(&report.releasability));
    match report.ceiling {
        Some(c) => {
            let _ = writeln!(
                out,
                "- Ceiling: {} ({} record(s) above it left out)",
                c.marking(),
                report.omitted
            );
        }
        None => {
            let _ = writeln!(out, "- Ceiling: none, every record included");
        }
    }
    let _ = writeln!(
        out,
        "- Distribution: {}\n",
        cell(&report.distribution.join("; "))
    );
    let mut figure = 0;
    for section in &report.sections {
        let _ = writeln!(out, "## {} {}\n", section.number, cell(&section.title));
        for block in &section.blocks {
            match block {
                Block::Heading(text) => {
                    let _ = writeln!(out, "### {}\n", cell(text));
                }
                Block::Paragraph(level, text) => paragraph(&mut out, portion(*level), text),
                Block::Table { columns, rows } => {
                    let _ = writeln!(
                        out,
                        "| | {} |",
                        columns
                            .iter()
                            .map(|c| cell(&c.0))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                    let _ = writeln!(out, "|---|{}", "---|".repeat(columns.len()));
                    for row in rows {
                        let _ = writeln!(
                            out,
                            "| {} | {} |",
                            portion(row.level),
                            row.cells
                                .iter()
                                .map(|c| cell(c))
                                .collect::<Vec<_>>()
                                .join(" | ")
                        );
                    }
                    out.push('\n');
                }
                Block::Chart {
                    title,
                    level,
                    chart,
                } => {
                    figure += 1;
                    let _ = writeln!(
                        out,
                        "{} *Figure {figure}: {}*\n",
                        portion(*level),
                        cell(title)
                    );
                    match chart {
                        Chart::Bars { unit, bars, .. } => {
                            let _ = writeln!(out, "| | {} |\n|---|---|", cell(unit));
                            for (label, v) in bars {
                                let _ = writeln!(out, "| {} | {v:.1} |", cell(label));
                            }
                        }
                        Chart::Stacked { series, groups } => {
                            let _ = writeln!(
                                out,
                                "| | {} |\n|---|{}",
                                series
                                    .iter()
                                    .map(|s| cell(s))
                                    .collect::<Vec<_>>()
                                    .join(" | "),
                                "---|".repeat(series.len())
                            );
                            for (label, values) in groups {
                                let v: Vec<String> =
                                    values.iter().map(|v| format!("{v:.0}")).collect();
                                let _ = writeln!(out, "| {} | {} |", cell(label), v.join(" | "));
                            }
                        }
                        Chart::Scatter {
                            x_label,
                            y_label,
                            points,
                        } => {
                            let _ = writeln!(
                                out,
                                "| | {} | {} |\n|---|---|---|",
                                cell(x_label),
                                cell(y_label)
                            );
                            for (label, x, y) in points {
                                let _ = writeln!(out, "| {} | {x:.1} | {y:.1} |", cell(label));
                            }
                        }
                        Chart::Gantt { bars } => {
                            let _ = writeln!(out, "| | start | end | status |\n|---|---|---|---|");
                            for (label, s, e, status) in bars {
                                let _ = writeln!(
                                    out,
                                    "| {} | {} | {} | {} |",
                                    cell(label),
                                    date_of_day(*s),
                                    date_of_day(*e),
                                    cell(status)
                                );
                            }
                        }
                    }
                    out.push('\n');
                }
            }
        }
    }
    let _ = writeln!(out, "**{marking}**");
    out
}

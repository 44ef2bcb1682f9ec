//! The same content as Markdown, for drafting: the marking at the top and bottom, portion
//! markings on every row and paragraph, charts as tables of the numbers they draw.

use std::fmt::Write as _;

use super::content::{Block, Chart, Report};
use super::portion;
use crate::service::timeline::date_of_day;

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The report as Markdown.
#[must_use]
pub fn to_markdown(report: &Report) -> String {
    let mut out = String::new();
    let marking = report.classification.marking();
    let _ = writeln!(out, "**{marking}**\n");
    let _ = writeln!(out, "# {}\n", report.title);
    let _ = writeln!(out, "{}\n", report.basis);
    let _ = writeln!(out, "- Classification: **{marking}**");
    let _ = writeln!(out, "- Date of the data: {}", report.date);
    let _ = writeln!(out, "- Generated: {}", report.generated);
    let _ = writeln!(out, "- Releasable to: {}", report.releasability);
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
    let _ = writeln!(out, "- Distribution: {}\n", report.distribution.join("; "));
    let mut figure = 0;
    for section in &report.sections {
        let _ = writeln!(out, "## {} {}\n", section.number, section.title);
        for block in &section.blocks {
            match block {
                Block::Heading(text) => {
                    let _ = writeln!(out, "### {text}\n");
                }
                Block::Paragraph(level, text) => {
                    let _ = writeln!(out, "{} {text}\n", portion(*level));
                }
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
                    let _ = writeln!(out, "{} *Figure {figure}: {title}*\n", portion(*level));
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
                                series.join(" | "),
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
                            let _ = writeln!(out, "| | {x_label} | {y_label} |\n|---|---|---|");
                            for (label, x, y) in points {
                                let _ = writeln!(out, "| {} | {x:.1} | {y:.1} |", cell(label));
                            }
                        }
                        Chart::Gantt { bars } => {
                            let _ = writeln!(out, "| | start | end | status |\n|---|---|---|---|");
                            for (label, s, e, status) in bars {
                                let _ = writeln!(
                                    out,
                                    "| {} | {} | {} | {status} |",
                                    cell(label),
                                    date_of_day(*s),
                                    date_of_day(*e)
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

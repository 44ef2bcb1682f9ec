//! The biennial report on critical technologies and dependency risks, and the technology
//! roadmaps, as documents: a PDF (vector charts, embedded `DejaVu` Sans, see `assets/fonts`) and
//! the same content as Markdown for drafting.
//!
//! # What goes in
//! The register as of a date (replayed from the change log), an edition, or the register now.
//! Records above the ceiling (`--max-classification`) are left out **before** anything is
//! computed, so no figure (HHI, exposure, supply risk, counts) is derived from them; the report
//! says how many were left out. The document's marking is the highest level among the records it
//! contains, in words, in a banner at the top and bottom of every page; every table row and
//! paragraph drawn from records carries the portion marking of the highest level among them:
//! `(U)` UNCLASSIFIED, `(R)` RESTRICTED, `(C)` CONFIDENTIAL, `(S)` SECRET, `(TS)` TOP SECRET.
//! Text of the report itself (method, headings) is `(U)`.
//!
//! # Sections
//! Title page (title, edition, date, classification, releasability, distribution), contents,
//! 1 critical technologies by area (TRL, EU position, criticality, supply risk from the latest
//! assessment; TRL distribution chart), 2 dependency risks (risk matrix, most concentrated
//! items, single sources, chokepoints, exposure of technologies by country with a bar chart),
//! 3 gaps and root causes, 4 mitigating measures and roadmaps (a Gantt chart per area),
//! 5 changes since the previous edition, 6 consultation and horizon scanning (rounds,
//! participation, where Member States disagree, consolidated assessments, the list version in
//! force, the incubator's flags), 7 where to act first (the urgency ranking with its parts and
//! uncovered gaps, before and after measures with an expected effect, the Critical Raw
//! Materials Act benchmarks), annex A method, annex B sources. Technology roadmaps are
//! documents of their own ([`roadmap`]).
//!
//! A generated report is plaintext on disk: write it only where material of its marking may be
//! stored (the app asks first).

mod content;
mod layout;
mod markdown;
mod pdf;
pub mod roadmap;

pub use content::{Block, Chart, Report, ReportSource, Row, Section, build};
pub use markdown::to_markdown;
pub use pdf::to_pdf;

use crate::model::Classification;

/// The portion marking of a level: `(U)`, `(R)`, `(C)`, `(S)`, `(TS)`.
#[must_use]
pub fn portion(level: Classification) -> &'static str {
    match level {
        Classification::Unclassified => "(U)",
        Classification::Restricted => "(R)",
        Classification::Confidential => "(C)",
        Classification::Secret => "(S)",
        Classification::TopSecret => "(TS)",
    }
}

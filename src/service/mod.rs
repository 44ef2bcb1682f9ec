//! The operations that the command line and the GUI share (DESIGN.md §2): an unlocked
//! observatory, edits with audit and change log, import and export, info and verification.
//!
//! Every edit runs in one SQLite transaction that also appends the audit entry and the
//! change-log rows, so the three never disagree. Edits change memory only; callers save
//! (the CLI after each command, the GUI debounced on a background thread).

pub mod bundle;
pub mod compare;
pub mod consultation;
mod demo;
mod demo_data;
mod error;
pub mod exchange;
pub mod export;
mod import;
mod members;
pub mod priorities;
mod session;
mod sources;
pub mod timeline;

pub use demo::{DEMO_SOURCES, EXAMPLE_NOTE};
pub use error::ServiceError;
pub use export::{EXPORT_FORMAT_TAG, ExportDocument};
pub use import::{ImportDocument, ImportReport};
pub use members::MemberAdded;
pub use session::{Info, MergeReport, RecordInput, Session, SupplyRecords, VerifyReport, Viewing};
pub use sources::SourceReport;

#![doc = include_str!("FORMAT.md")]

mod audit;
pub mod auth;
pub mod changes;
mod error;
mod file;
mod history;
mod ledger;
mod records;
mod schema;

pub use audit::{AuditEntry, AuditReport};
pub use error::StoreError;
pub use file::{
    BACKUP_GENERATIONS, HeldImage, OpenMode, SaveJob, SaveOutcome, Store, Trust, backup_path,
};
pub use history::end_of_day;
pub use ledger::{ConflictRow, HeldRow, InboxRow, MemberInfo, OutboxRow};
pub use records::{
    CREATED_FIELD, Counts, EditionInfo, NewRecord, RecordChange, Writer, lowering, now_rfc3339,
};
pub use schema::SCHEMA_VERSION;

//! Domain types and their rules (DESIGN.md §3, §6). No storage, crypto or UI here.

pub mod bloc;
pub mod classification;
pub mod control;
pub mod country;
pub mod hlc;
pub mod kind;
pub mod listing;
pub mod record;
pub mod reference;

pub use classification::Classification;
pub use hlc::Hlc;
pub use kind::{Field, FieldType, Kind};
pub use record::{FieldError, Meta, Record};

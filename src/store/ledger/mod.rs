//! The exchange ledger (DESIGN.md §7): what this file knows of the other members and of the
//! bundles it sent and received. Local to the file, never in the change log: the keyring
//! (`keyring`), and the outbox, inbox, quarantine, conflicts and proposals (`bundles`).

mod bundles;
mod keyring;

pub use bundles::{ConflictRow, HeldRow, InboxRow, OutboxRow};
pub use keyring::MemberInfo;

//! # Observatory
//!
//! Register, supply-chain analysis and encrypted exchange for the expert group of the EU
//! Observatory of critical technologies. Users work on air-gapped workstations with
//! classified material; nothing classified ever touches the disk in plaintext.
//!
//! Layers (dependencies point down; `cargo check --no-default-features` builds all but `gui`):
//! - [`model`]: domain types and their rules.
//! - [`crypto`]: identities, member cards, passphrases.
//! - [`store`]: the encrypted file <-> in-memory SQLite (file format in its docs).
//! - [`sources`]: readers of the public datasets experts start from (ETO supply chains, EU
//!   critical raw materials 2023 tables, USGS world tables); pure, no store.
//! - [`service`]: operations shared by the CLI and the GUI (record document format in
//!   [`service`]'s `import` docs, exports in `export`; the demo observatory).
//! - [`cli`]: the command line.
//!
//! Formats, each specified where it is read:
//! - observatory file: [`store`];
//! - identity file: [`crypto`] (`identity` module docs) — a standard passphrase-encrypted age
//!   identity;
//! - member card: [`crypto::card`];
//! - record document (JSON import/export) and CSV export: [`service`];
//! - public datasets read by `import --format eto|crm|usgs`: [`sources`] and its modules
//!   ([`sources::eto`], [`sources::crm`], [`sources::usgs`]), including how their records get
//!   stable ids so that a newer release updates the same records.
//!
//! Packaging (the Debian package, the offline source bundle, the SBOM `observatory sbom`, the
//! licence policy, reproducible builds) and what differs on Windows are in the README
//! ("Installing on an air-gapped workstation", "Windows"). Unix-only code sits behind
//! `cfg(unix)` with its Windows behaviour stated beside it.
//!
//! Deployment on a classified system needs accreditation and approved cryptography; this tool
//! provides the technical controls (encryption at rest, markings, audit), not the approval.

pub mod analysis;
pub mod cli;
pub mod crypto;
pub mod exchange;
mod fsutil;
#[cfg(feature = "gui")]
pub mod gui;
pub mod hygiene;
pub mod model;
pub mod report;
pub mod service;
pub mod sources;
pub mod store;

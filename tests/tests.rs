//! Integration tests: one binary, one module per area (as in ripgrep).

// Helpers outside #[test] functions unwrap too: a failed set-up should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]
// Pedantic style lints are for the product code; tests favour directness.
#![allow(clippy::pedantic)]

mod graph_gen;
mod util;

mod analysis;
mod attacks;
mod bundles;
mod cli_flow;
mod consultation;
mod engines;
mod errors;
#[cfg(feature = "gui")]
mod gui;
mod history;
mod importers;
mod interop;
mod members;
mod no_plaintext;
mod package;
mod priorities;
mod real_data;
mod report;
mod save_crash;
mod store_roundtrip;
mod workstation;

//! Integration tests: one binary, one module per area (as in ripgrep).

mod util;

mod cli_flow;
mod errors;
mod interop;
mod no_plaintext;
mod save_crash;
mod store_roundtrip;

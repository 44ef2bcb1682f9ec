//! Fuzzes the bundle reader: age decryption, the envelope, the strict body parser and the
//! change checks (see `observatory::service::bundle::fuzz_reader`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = observatory::service::bundle::fuzz_reader(data);
});

//! Import of a 100,000-row supply table (ETO format: 100,000 provision rows over 10,000
//! inputs and 2,000 providers). Issue target: under 5 s, memory under 500 MB.
//!
//! Run: `cargo bench --bench import`. Prints the process's peak resident memory at the end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // benchmark set-up

/// The same allocator as the application (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use observatory::crypto::{Identity, Profile};
use observatory::model::Classification;
use observatory::service::Session;
use observatory::sources::{self, ReadOptions, SourceFormat};

const INPUTS: usize = 10_000;
const PROVIDERS: usize = 2_000;
const ROWS: usize = 100_000;

/// Writes an ETO-format folder with `ROWS` provision rows.
fn write_dataset(dir: &Path) {
    let countries = [
        "CHN", "USA", "JPN", "KOR", "TWN", "DEU", "FRA", "NLD", "IND", "BRA",
    ];
    let mut inputs =
        String::from("input_id,input_name,type,stage_name,stage_id,description,year\n");
    for i in 0..INPUTS {
        writeln!(
            inputs,
            "N{i},Input {i},material_resource,Stage {},S{},Generated input {i},2024",
            i % 5,
            i % 5
        )
        .unwrap();
    }
    let mut providers = String::from("provider_name,alias,provider_id,provider_type,country\n");
    for p in 0..PROVIDERS {
        writeln!(
            providers,
            "Company {p},Co {p},P{p},organization,{}",
            countries[p % countries.len()]
        )
        .unwrap();
    }
    let mut provision = String::from(
        "provider_name,provider_id,provided_name,provided_id,share_provided,year,source\n",
    );
    for r in 0..ROWS {
        let input = r % INPUTS;
        let provider = (r / INPUTS * 197 + input * 7) % PROVIDERS;
        writeln!(
            provision,
            "Company {provider},P{provider},Input {input},N{input},{}%,2024,generated",
            100 / (ROWS / INPUTS)
        )
        .unwrap();
    }
    std::fs::write(dir.join("inputs.csv"), inputs).unwrap();
    std::fs::write(dir.join("providers.csv"), providers).unwrap();
    std::fs::write(dir.join("provision.csv"), provision).unwrap();
}

fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("eto");
    std::fs::create_dir(&data).unwrap();
    write_dataset(&data);
    let profile = Profile::new("Bench", "EU", Classification::Unclassified).unwrap();
    let mut group = c.benchmark_group("import");
    group
        .sample_size(10)
        .measurement_time(Duration::from_mins(1));
    let mut n = 0;
    group.bench_function("eto_100k_rows_read_and_import", |b| {
        b.iter_batched(
            || {
                n += 1;
                let path = dir.path().join(format!("b{n}.observatory"));
                Session::create(&path, Identity::generate(profile.clone())).unwrap()
            },
            |mut session| {
                let parsed =
                    sources::read(SourceFormat::Eto, &data, &ReadOptions::default()).unwrap();
                assert!(parsed.problems.is_empty());
                let report = session
                    .import_source(&parsed, "bench", false, false)
                    .unwrap();
                assert!(report.import.new > ROWS);
                session
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
    if let Some(mb) = peak_rss_mb() {
        println!("peak resident memory of the benchmark process: {mb} MB");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

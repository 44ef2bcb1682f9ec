//! Analysis on a generated layered supply graph of 100,000 nodes and about 1,000,000 edges:
//! all item and technology metrics (concentration, exposure, chokepoints, supply risk) and a
//! cut-off scenario. Issue target: under 1 s in total, and at least 10x faster than networkx
//! doing the same on the same graph in the same run (`tests/benches/networkx_analysis.sh`,
//! which makes a venv with networkx when the system Python has none; skipped, and said so,
//! when Python is missing).
//!
//! Run: `cargo bench --bench analysis`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // benchmark set-up

/// The same allocator as the application (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use observatory::analysis::{GraphBuilder, NodeKind, SupplyGraph};

const COUNTRIES: [&str; 40] = [
    "CN", "US", "JP", "KR", "TW", "DE", "FR", "NL", "IT", "ES", "PL", "SE", "FI", "BE", "AT", "CZ",
    "IE", "PT", "RO", "GR", "GB", "NO", "CH", "CA", "MX", "BR", "CL", "PE", "AR", "AU", "IN", "ID",
    "VN", "TH", "MY", "ZA", "CD", "RU", "TR", "SA",
];

struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// The graph as lines: `node ID KIND`, `input NODE INPUT`, `supply NODE SUPPLIER SHARE`,
/// `home ORG COUNTRY` (the same file feeds networkx).
fn generate() -> String {
    let (techs, components, materials, orgs) = (200, 20_000, 30_000, 49_760);
    let mut rng = Lcg(42);
    let mut out = String::with_capacity(40_000_000);
    for t in 0..techs {
        writeln!(out, "node t{t} technology").unwrap();
    }
    for c in 0..components {
        writeln!(out, "node c{c} item").unwrap();
    }
    for m in 0..materials {
        writeln!(out, "node m{m} item").unwrap();
    }
    for o in 0..orgs {
        writeln!(out, "node o{o} organisation").unwrap();
        writeln!(out, "home o{o} {}", COUNTRIES[rng.below(COUNTRIES.len())]).unwrap();
    }
    for t in 0..techs {
        for _ in 0..50 {
            writeln!(out, "input t{t} c{}", rng.below(components)).unwrap();
        }
    }
    for c in 0..components {
        // Components are made of components further down the list (a DAG) and materials.
        for _ in 0..4 {
            if c + 1 < components {
                writeln!(out, "input c{c} c{}", c + 1 + rng.below(components - c - 1)).unwrap();
            }
        }
        for _ in 0..6 {
            writeln!(out, "input c{c} m{}", rng.below(materials)).unwrap();
        }
        for _ in 0..10 {
            writeln!(out, "supply c{c} o{} 0.1", rng.below(orgs)).unwrap();
        }
    }
    for m in 0..materials {
        for _ in 0..5 {
            if m + 1 < materials {
                writeln!(out, "input m{m} m{}", m + 1 + rng.below(materials - m - 1)).unwrap();
            }
        }
        for _ in 0..8 {
            writeln!(
                out,
                "supply m{m} {} 0.08",
                COUNTRIES[rng.below(COUNTRIES.len())]
            )
            .unwrap();
        }
        for _ in 0..6 {
            writeln!(out, "supply m{m} o{} 0.05", rng.below(orgs)).unwrap();
        }
    }
    out
}

fn build(text: &str) -> SupplyGraph {
    let mut b = GraphBuilder::default();
    for line in text.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts[0] {
            "node" => {
                let kind = match parts[2] {
                    "technology" => NodeKind::Technology,
                    "organisation" => NodeKind::Organisation,
                    _ => NodeKind::Item,
                };
                b.node(parts[1], kind, parts[1]);
            }
            "input" => b.input(parts[1], parts[2], 1.0),
            "supply" => b.supply(parts[1], parts[2], parts[3].parse().unwrap(), None),
            "home" => b.home(parts[1], parts[2]),
            _ => {}
        }
    }
    b.build()
}

fn analyse(graph: &SupplyGraph) -> (usize, usize, usize) {
    let items = graph.item_metrics();
    let techs = graph.technology_metrics(None);
    let scenario = graph.scenario(&["CN".to_owned()]);
    (items.len(), techs.len(), scenario.len())
}

fn networkx_seconds(graph_file: &Path) -> Option<f64> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/benches/networkx_analysis.sh");
    let output = Command::new("bash")
        .arg(script)
        .arg(graph_file)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        println!(
            "networkx comparison skipped: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        return None;
    }
    print!("{text}");
    text.lines()
        .find_map(|l| l.strip_prefix("networkx total seconds: "))
        .and_then(|s| s.trim().parse().ok())
}

fn bench(c: &mut Criterion) {
    let text = generate();
    let started = Instant::now();
    let graph = build(&text);
    println!(
        "graph: {} nodes, {} edges, built in {:.0} ms",
        graph.len(),
        graph.edge_count(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let mut group = c.benchmark_group("analysis");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    // Each run on a fresh copy: the graph keeps what it computed.
    group.bench_function("all_metrics_100k_nodes_1m_edges", |b| {
        b.iter_batched(|| graph.clone(), |g| analyse(&g), BatchSize::LargeInput);
    });
    group.finish();
    // One timed run for the comparison in the same process.
    let fresh = graph.clone();
    let started = Instant::now();
    let counts = analyse(&fresh);
    let ours = started.elapsed().as_secs_f64();
    println!("observatory: {counts:?} (items, technologies, scenario) in {ours:.3} s");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.txt");
    std::fs::write(&file, &text).unwrap();
    if let Some(theirs) = networkx_seconds(&file) {
        println!(
            "networkx: {theirs:.3} s; observatory is {:.1}x faster",
            theirs / ours
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Analysis on a generated layered supply graph of 100,000 nodes and about 1,000,000 edges:
//! all item and technology metrics (concentration, exposure, chokepoints, supply risk) and a
//! cut-off scenario with its paths, compared like for like with networkx (issue 19):
//! - both sides' timers cover the same work: reading the graph file, building the graph and
//!   every metric (`tests/benches/networkx_analysis.py` times the same, in the same run; the
//!   script makes a venv with networkx when the system Python has none; skipped, and said so,
//!   when Python is missing);
//! - both sides' results are compared (every item's HHI, every technology's exposure,
//!   chokepoints, supply risk, cut-off loss and path share, to 1e-9; see `tests/graph_gen.rs`)
//!   and the benchmark fails if they differ, before any ratio is printed.
//!
//! Targets: build plus all metrics under 1 s, at least 20x networkx. Run:
//! `cargo bench --bench analysis`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // benchmark set-up

/// The same allocator as the application (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../graph_gen.rs"]
mod graph_gen;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

/// What each side does inside its timer: read the file, build the graph, every metric.
fn read_build_analyse(file: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(file).unwrap();
    let graph = graph_gen::build(&text);
    graph_gen::dump(&graph)
}

fn bench(c: &mut Criterion) {
    let text = graph_gen::generate(1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.txt");
    std::fs::write(&file, &text).unwrap();
    let graph = graph_gen::build(&text);
    println!("graph: {} nodes, {} edges", graph.len(), graph.edge_count());
    drop(graph);
    let mut group = c.benchmark_group("analysis");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("read_build_all_metrics_100k_nodes_1m_edges", |b| {
        b.iter(|| read_build_analyse(&file));
    });
    group.finish();
    // Where the time goes (one run).
    let t0 = Instant::now();
    let read = std::fs::read_to_string(&file).unwrap();
    let t1 = Instant::now();
    let built = graph_gen::build(&read);
    let t2 = Instant::now();
    let _ = graph_gen::dump(&built);
    let t3 = Instant::now();
    println!(
        "observatory, one run: read {:.0} ms, parse and build {:.0} ms, every metric {:.0} ms",
        (t1 - t0).as_secs_f64() * 1000.0,
        (t2 - t1).as_secs_f64() * 1000.0,
        (t3 - t2).as_secs_f64() * 1000.0
    );
    drop((read, built));
    // One timed run of each side, in the same process, on the same file.
    let started = Instant::now();
    let ours = read_build_analyse(&file);
    let our_seconds = started.elapsed().as_secs_f64();
    println!("observatory: read, build and all metrics in {our_seconds:.3} s");
    match graph_gen::networkx(&file, &dir.path().join("networkx.json")) {
        Err(why) => println!("networkx comparison skipped: {why}"),
        Ok((theirs, dump)) => {
            let differences = graph_gen::compare(&ours, &dump, 1e-9);
            assert!(
                differences.is_empty(),
                "the two engines disagree, no ratio is quoted:\n{}",
                differences.join("\n")
            );
            println!(
                "networkx: the same work in {theirs:.3} s; results agree to 1e-9 ({} items, {} technologies); observatory is {:.1}x faster",
                dump["items"].as_object().map_or(0, serde_json::Map::len),
                dump["technologies"]
                    .as_object()
                    .map_or(0, serde_json::Map::len),
                theirs / our_seconds
            );
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! CPU time of one frame (egui pass + tessellation, no GPU) of the Technologies table with
//! 10,000 rows and of the dashboard on a sample register. Target: under 16 ms per frame.
//!
//! Run: `cargo bench --bench gui`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up: a failure should stop the run

/// The same allocator as the application (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use observatory::crypto::{Identity, Profile};
use observatory::gui::{Clock, ObservatoryApp, View};
use observatory::model::{Classification, Kind};
use observatory::service::Session;

struct Fixed(Instant);

impl Clock for Fixed {
    fn now(&self) -> Instant {
        self.0
    }
}

fn session(dir: &std::path::Path, name: &str, sql: &str) -> Session {
    let identity = Identity::generate(Profile::new("Bench", "FR", Classification::Secret).unwrap());
    let session = Session::create(&dir.join(name), identity).unwrap();
    session.store().connection().execute_batch(sql).unwrap();
    session
}

/// One frame; returns the number of clipped primitives drawn.
fn frame(ctx: &egui::Context, app: &mut ObservatoryApp) -> usize {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1366.0, 768.0),
        )),
        ..Default::default()
    };
    let output = ctx.run_ui(input, |ui| app.ui(ui));
    let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
    let vertices: usize = primitives
        .iter()
        .map(|p| match &p.primitive {
            egui::epaint::Primitive::Mesh(mesh) => mesh.vertices.len(),
            egui::epaint::Primitive::Callback(_) => 0,
        })
        .sum();
    std::hint::black_box(primitives);
    vertices
}

/// Two warm-up frames, and a check that the view really draws something.
fn warm_up(ctx: &egui::Context, app: &mut ObservatoryApp, what: &str) {
    frame(ctx, app);
    let vertices = frame(ctx, app);
    assert!(
        app.is_unlocked() && vertices > 5_000,
        "{what}: only {vertices} vertices drawn"
    );
    eprintln!("{what}: {vertices} vertices per frame");
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
        INSERT INTO technology (id, classification, releasable_to, created_at, updated_hlc, updated_by, name, area)
        SELECT printf('00000000-0000-7000-8000-%012d', i), i % 4, '[]', '2026-01-01T00:00:00Z',
               '019a00000000-0000', 'BENCH', 'Technology number ' || i, 'quantum' FROM n;";
    let mut app = ObservatoryApp::new(Box::new(Fixed(Instant::now())));
    app.open_session(session(dir.path(), "table.observatory", rows));
    app.show(View::Register(Kind::Technology));
    let ctx = egui::Context::default();
    warm_up(&ctx, &mut app, "table");
    c.bench_function("frame: Technologies table, 10,000 rows", |b| {
        b.iter(|| frame(&ctx, &mut app));
    });

    // Dashboard: 500 assessed technologies, 2,000 items with supply links.
    let sample = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
        INSERT INTO item (id, classification, releasable_to, created_at, updated_hlc, updated_by, name, item_kind)
        SELECT printf('00000000-0000-7000-9000-%012d', i), 0, '[]', '2026-01-01T00:00:00Z',
               '019a00000000-0000', 'BENCH', 'Material ' || i, 'material' FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
        INSERT INTO link (id, classification, releasable_to, created_at, updated_hlc, updated_by, from_id, to_id, link_kind, share, year)
        SELECT printf('00000000-0000-7000-a000-%012d', i), 0, '[]', '2026-01-01T00:00:00Z',
               '019a00000000-0000', 'BENCH', printf('00000000-0000-7000-9000-%012d', i),
               CASE i % 3 WHEN 0 THEN 'CN' WHEN 1 THEN 'US' ELSE 'DE' END, 'produced-in', 0.3 + (i % 7) / 10.0, 2023 FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
        INSERT INTO technology (id, classification, releasable_to, created_at, updated_hlc, updated_by, name, domains)
        SELECT printf('00000000-0000-7000-b000-%012d', i), 1, '[]', '2026-01-01T00:00:00Z',
               '019a00000000-0000', 'BENCH', 'Assessed technology ' || i, '[\"defence\"]' FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
        INSERT INTO assessment (id, classification, releasable_to, created_at, updated_hlc, updated_by, subject_id, date, trl, criticality, supply_risk)
        SELECT printf('00000000-0000-7000-c000-%012d', i), 1, '[]', '2026-01-01T00:00:00Z',
               '019a00000000-0000', 'BENCH', printf('00000000-0000-7000-b000-%012d', i), '2026-06-30',
               1 + i % 9, (i % 100) / 10.0, (i % 50) / 10.0 FROM n;";
    let mut app = ObservatoryApp::new(Box::new(Fixed(Instant::now())));
    app.open_session(session(dir.path(), "dashboard.observatory", sample));
    app.show(View::Dashboard);
    let ctx = egui::Context::default();
    warm_up(&ctx, &mut app, "dashboard");
    c.bench_function(
        "frame: dashboard, 500 assessed technologies, 2,000 items",
        |b| {
            b.iter(|| frame(&ctx, &mut app));
        },
    );
}

/// A supply graph of `items` items with three edges each (one input to a later item, two
/// countries of production) and 200 technologies needing five items each.
fn graph_sql(items: usize) -> String {
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {items})
        INSERT INTO item (id, classification, releasable_to, created_at, updated_hlc, updated_by, name, item_kind)
        SELECT printf('00000000-0000-7000-9000-%012d', i), 0, '[]', '2026-01-01T00:00:00Z',
               '019a00000000-0000', 'BENCH', 'Part ' || i, 'component' FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {items} - 1)
        INSERT INTO link (id, classification, releasable_to, created_at, updated_hlc, updated_by, from_id, to_id, link_kind)
        SELECT printf('00000000-0000-7000-a000-%012d', i), 0, '[]', '2026-01-01T00:00:00Z',
               '019a00000000-0000', 'BENCH', printf('00000000-0000-7000-9000-%012d', i + 1 + (i * 7919) % ({items} - i)),
               printf('00000000-0000-7000-9000-%012d', i), 'input-to' FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2 * {items})
        INSERT INTO link (id, classification, releasable_to, created_at, updated_hlc, updated_by, from_id, to_id, link_kind, share, year)
        SELECT printf('00000000-0000-7000-b000-%012d', i), 0, '[]', '2026-01-01T00:00:00Z',
               '019a00000000-0000', 'BENCH', printf('00000000-0000-7000-9000-%012d', 1 + i % {items}),
               CASE i % 5 WHEN 0 THEN 'CN' WHEN 1 THEN 'US' WHEN 2 THEN 'DE' WHEN 3 THEN 'JP' ELSE 'BR' END,
               'produced-in', 0.4, 2023 FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
        INSERT INTO technology (id, classification, releasable_to, created_at, updated_hlc, updated_by, name)
        SELECT printf('00000000-0000-7000-c000-%012d', i), 0, '[]', '2026-01-01T00:00:00Z',
               '019a00000000-0000', 'BENCH', 'Technology ' || i FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
        INSERT INTO link (id, classification, releasable_to, created_at, updated_hlc, updated_by, from_id, to_id, link_kind)
        SELECT printf('00000000-0000-7000-d000-%012d', i), 0, '[]', '2026-01-01T00:00:00Z',
               '019a00000000-0000', 'BENCH', printf('00000000-0000-7000-c000-%012d', 1 + i % 200),
               printf('00000000-0000-7000-9000-%012d', 1 + (i * 104729) % {items}), 'requires' FROM n;"
    )
}

fn graph_benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for (items, label) in [
        (
            10_000,
            "frame: supply graph, 10,000 nodes / 30,000 edges, all in view",
        ),
        (
            100_000,
            "frame: supply graph, 100,000 nodes / 300,000 edges, all in view",
        ),
    ] {
        let mut app = ObservatoryApp::new(Box::new(Fixed(Instant::now())));
        app.open_session(session(
            dir.path(),
            &format!("graph{items}.observatory"),
            &graph_sql(items),
        ));
        app.show(View::Graph);
        let ctx = egui::Context::default();
        let started = Instant::now();
        warm_up(&ctx, &mut app, label);
        eprintln!(
            "{label}: layout and first frames {:.0} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        c.bench_function(label, |b| {
            b.iter(|| frame(&ctx, &mut app));
        });
    }
}

fn force_bench(c: &mut Criterion) {
    use observatory::gui::force::{ForceParams, step};
    let mut points: Vec<egui::Pos2> = (0..10_000u32)
        .map(|i| {
            let (x, y) = ((i % 100) as f32, (i / 100) as f32);
            egui::pos2(x * 25.0 + (i % 7) as f32, y * 25.0 + (i % 11) as f32)
        })
        .collect();
    let edges: Vec<(u32, u32)> = (0..30_000u32)
        .map(|i| (i % 10_000, (i * 7_919 + 13) % 10_000))
        .collect();
    let params = ForceParams::default();
    c.bench_function("Barnes-Hut layout step, 10,000 nodes / 30,000 edges", |b| {
        b.iter(|| step(&mut points, &edges, &params));
    });
}

criterion_group!(benches, bench, graph_benches, force_bench);
criterion_main!(benches);

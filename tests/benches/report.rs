//! The report for a register of 1,000 technologies (each with two assessments, three
//! components and their supply from up to four countries, one measure in five): building the
//! content (analysis included) and writing the PDF. Issue target: under 10 s.
//!
//! Run: `cargo bench --bench report`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::pedantic)] // benchmark set-up

/// The same allocator as the application (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use observatory::crypto::{Identity, Profile};
use observatory::model::Classification;
use observatory::report::{self, ReportSource};
use observatory::service::{ImportDocument, Session};
use serde_json::{Map, Value, json};

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate(Profile::new("Bench", "FR", Classification::Secret).unwrap());
    let mut session = Session::create(&dir.path().join("r.observatory"), identity).unwrap();
    let areas = observatory::model::kind::AREAS;
    let countries = ["CN", "US", "JP", "DE", "FR", "KR", "TW", "BR", "CL", "AU"];
    let mut records = Vec::new();
    for t in 0..1_000u32 {
        let tech = format!("00000000-0000-7000-8000-{t:012}");
        records.push(object(
            json!({"kind": "technology", "id": tech, "name": format!("Technology {t}"),
            "area": areas[t as usize % areas.len()]}),
        ));
        for (a, date) in ["2024-12-31", "2026-06-30"].iter().enumerate() {
            records.push(object(json!({"kind": "assessment", "id": format!("00000000-0000-7000-9{a:03}-{t:012}"),
                "subject_id": tech, "date": date, "trl": 1 + (t + a as u32) % 9,
                "criticality": f64::from(t % 10), "supply_risk": f64::from((t * 7) % 10),
                "gaps": ["skills"], "root_causes": ["critical-raw-materials", "low-rd-investment"]})));
        }
        for i in 0..3u32 {
            let item = format!("00000000-0000-7000-a{i:03}-{t:012}");
            records.push(object(json!({"kind": "item", "id": item, "name": format!("Component {t}.{i}"), "item_kind": "component"})));
            records.push(object(
                json!({"kind": "link", "id": format!("00000000-0000-7000-b{i:03}-{t:012}"),
                "from_id": tech, "to_id": item, "link_kind": "requires"}),
            ));
            for k in 0..4u32 {
                let share = [0.55, 0.25, 0.15, 0.05][k as usize];
                records.push(object(
                    json!({"kind": "link", "id": format!("00000000-0000-7000-c{i}{k:02}-{t:012}"),
                    "from_id": item, "to_id": countries[((t + i + k) % 10) as usize],
                    "link_kind": "produced-in", "share": share, "year": 2024}),
                ));
            }
        }
        if t % 5 == 0 {
            records.push(object(
                json!({"kind": "measure", "id": format!("00000000-0000-7000-d000-{t:012}"),
                "name": format!("Measure {t}"), "instrument": "edf", "status": "ongoing",
                "start": "2025-01-01", "end": "2028-12-31", "target_ids": [tech]}),
            ));
        }
    }
    let document = ImportDocument {
        format: observatory::service::EXPORT_FORMAT_TAG.to_owned(),
        version: 1,
        classification: None,
        marking: None,
        exported_at: None,
        records,
    };
    session.import_records(&document, "bench", false).unwrap();
    let mut group = c.benchmark_group("report");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("report: 1,000 technologies, build + PDF", |b| {
        b.iter(|| {
            let built = report::build(&session, &ReportSource::Now, None, None).unwrap();
            let (pdf, pages) = report::to_pdf(&built).unwrap();
            assert!(pages > 40);
            pdf.len()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

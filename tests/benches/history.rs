//! As-of reconstruction (the register replayed from the change log) of 10,000 technologies
//! with 20 assessments each. Issue target: under 200 ms.
//!
//! Run: `cargo bench --bench history`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up

/// The same allocator as the application (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use observatory::crypto::{Identity, Profile};
use observatory::model::{Classification, Kind};
use observatory::service::{ImportDocument, Session};
use serde_json::{Map, Value, json};

fn document_header() -> ImportDocument {
    ImportDocument {
        format: observatory::service::EXPORT_FORMAT_TAG.to_owned(),
        version: 1,
        classification: None,
        marking: None,
        exported_at: None,
        records: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate(Profile::new("Bench", "FR", Classification::Secret).unwrap());
    let mut session = Session::create(&dir.path().join("h.observatory"), identity).unwrap();
    let mut records: Vec<Map<String, Value>> = Vec::new();
    for t in 0..10_000u32 {
        let id = format!("00000000-0000-7000-8000-{t:012}");
        records.push(
            json!({"kind": "technology", "id": id, "name": format!("Technology {t}")})
                .as_object()
                .cloned()
                .unwrap(),
        );
        for a in 0..20u32 {
            records.push(
                json!({"kind": "assessment", "id": format!("00000000-0000-7000-9{a:03}-{t:012}"), "subject_id": id,
                       "date": format!("20{:02}-06-30", 6 + a), "trl": 1 + (t + a) % 9,
                       "criticality": f64::from(a % 10), "supply_risk": f64::from((t + a) % 10)})
                .as_object()
                .cloned()
                .unwrap(),
            );
        }
    }
    let document = ImportDocument {
        records,
        ..document_header()
    };
    session.import_records(&document, "bench", false).unwrap();
    // Then one assessment in ten is revised: replaying the register as it was before the
    // revision has 20,000 records to roll back.
    let first = |a: u32, t: u32| format!("00000000-0000-7000-9{a:03}-{t:012}");
    let cutoff = session
        .store()
        .get(
            Kind::Assessment,
            uuid::Uuid::parse_str(&first(0, 0)).unwrap(),
        )
        .unwrap()
        .unwrap()
        .meta
        .updated;
    std::thread::sleep(Duration::from_millis(5));
    let revisions: Vec<Map<String, Value>> = (0..10_000u32)
        .flat_map(|t| [0u32, 10].into_iter().map(move |a| (a, t)))
        .map(|(a, t)| {
            json!({"kind": "assessment", "id": first(a, t), "trl": 9, "narrative": "revised"})
                .as_object()
                .cloned()
                .unwrap()
        })
        .collect();
    let document = ImportDocument {
        records: revisions,
        ..document_header()
    };
    session.import_records(&document, "bench", false).unwrap();
    let mut group = c.benchmark_group("history");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    // The reconstruction: every record changed since the cut-off, as it stood then.
    group.bench_function(
        "rollback: 10,000 technologies x 20 assessments, 20,000 revised since",
        |b| {
            b.iter(|| {
                let techs = session.store().rollback(Kind::Technology, cutoff).unwrap();
                let assessments = session.store().rollback(Kind::Assessment, cutoff).unwrap();
                assert_eq!(assessments.len(), 20_000);
                assert!(
                    assessments
                        .values()
                        .flatten()
                        .all(|a| a.text("narrative") != Some("revised"))
                );
                (techs.len(), assessments.len())
            });
        },
    );
    // The whole register as of the cut-off, every record materialised and sorted, against
    // the same listing of today's register.
    group.bench_function(
        "as_of: list 10,000 technologies + 200,000 assessments as they stood",
        |b| {
            b.iter(|| {
                let techs = session.store().as_of(Kind::Technology, cutoff).unwrap();
                let assessments = session.store().as_of(Kind::Assessment, cutoff).unwrap();
                assert_eq!(assessments.len(), 200_000);
                assert!(
                    assessments
                        .iter()
                        .all(|a| a.text("narrative") != Some("revised"))
                );
                (techs.len(), assessments.len())
            });
        },
    );
    group.bench_function(
        "baseline: list 10,000 technologies + 200,000 assessments now",
        |b| {
            b.iter(|| {
                let techs = session.store().list(Kind::Technology, false).unwrap();
                let assessments = session.store().list(Kind::Assessment, false).unwrap();
                (techs.len(), assessments.len())
            });
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

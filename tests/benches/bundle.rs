//! Exchange bundles of 100,000 changes (50,000 new items, then a changed field on each):
//! export (plan, sign, encrypt) and import into a fresh member's file (decrypt, verify,
//! check, merge in one transaction). Issue target: each under 5 s.
//!
//! Run: `cargo bench --bench bundle`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark set-up

/// The same allocator as the application (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use observatory::crypto::{Identity, MIN_WORK_FACTOR, Passphrase, Profile};
use observatory::model::Classification;
use observatory::service::bundle::ExportScope;
use observatory::service::{ImportDocument, Session};
use serde_json::{Map, Value, json};

const ITEMS: u32 = 50_000;

fn document(records: Vec<Map<String, Value>>) -> ImportDocument {
    ImportDocument {
        format: observatory::service::EXPORT_FORMAT_TAG.to_owned(),
        version: 1,
        classification: None,
        marking: None,
        exported_at: None,
        records,
    }
}

fn items(description: &str) -> Vec<Map<String, Value>> {
    (0..ITEMS)
        .map(|i| {
            json!({"kind": "item", "id": format!("00000000-0000-7000-8000-{i:012}"),
                   "name": format!("Material {i}"), "item_kind": "material",
                   "description": description})
            .as_object()
            .cloned()
            .unwrap()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let member = |name: &str| {
        let identity =
            Identity::generate(Profile::new(name, "FR", Classification::Secret).unwrap());
        Session::create(&dir.path().join(format!("{name}.observatory")), identity).unwrap()
    };
    let mut sender = member("sender");
    // The recipient's identity in a file, so that each round opens a fresh file of theirs.
    let recipient_path = dir.path().join("recipient.identity");
    let pass = Passphrase::new("bench");
    Identity::generate(Profile::new("recipient", "FR", Classification::Secret).unwrap())
        .write_new_file(&recipient_path, &pass, MIN_WORK_FACTOR)
        .unwrap();
    let recipient = Identity::read_file(&recipient_path, &pass).unwrap();
    let recipient_card = recipient.card().to_string();
    let sender_card = sender.identity().card().to_string();
    let to = sender.add_member(&recipient_card).unwrap().fingerprint;
    sender.verify_member(&to).unwrap();
    sender
        .import_records(&document(items("first release")), "bench", false)
        .unwrap();
    sender
        .import_records(&document(items("second release")), "bench", false)
        .unwrap();
    let plan = sender
        .plan_export(std::slice::from_ref(&to), &ExportScope::Everything)
        .unwrap();
    let changes = plan.changes.len();
    assert!(changes >= 100_000, "{changes} changes");
    let sample = sender
        .export_bundle(std::slice::from_ref(&to), &ExportScope::Everything)
        .unwrap();
    eprintln!(
        "bundle: {changes} changes, {:.1} MiB sealed",
        sample.bytes.len() as f64 / (1024.0 * 1024.0)
    );
    let mut group = c.benchmark_group("bundle");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(40));
    group.bench_function("export: 100,000 changes (plan, sign, encrypt)", |b| {
        b.iter(|| {
            let s = sender
                .export_bundle(std::slice::from_ref(&to), &ExportScope::Everything)
                .unwrap();
            assert_eq!(s.body.changes.len(), changes);
            s.bytes.len()
        });
    });
    let mut round = 0;
    group.bench_function(
        "import: 100,000 changes into a fresh file (decrypt, verify, check, merge)",
        |b| {
            b.iter_batched(
                || {
                    round += 1;
                    let identity = Identity::read_file(&recipient_path, &pass).unwrap();
                    let mut r = Session::create(
                        &dir.path().join(format!("recipient{round}.observatory")),
                        identity,
                    )
                    .unwrap();
                    let m = r.add_member(&sender_card).unwrap();
                    r.verify_member(&m.fingerprint).unwrap();
                    r
                },
                |mut r| {
                    let report = r.import_bundle(&sample.bytes, false).unwrap();
                    assert_eq!(report.new_records, ITEMS as usize);
                    r
                },
                BatchSize::PerIteration,
            );
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Exchange bundles, the sending side: what leaves, sealing, reading back, tampering.

use observatory::crypto::{Identity, Profile};
use observatory::model::{Classification, Kind};
use observatory::service::bundle::open_bundle;
use observatory::service::{RecordInput, Session};
use serde_json::json;

use crate::util::{Env, have_tool};

fn add(
    session: &mut Session,
    level: Classification,
    releasable: &[&str],
    name: &str,
) -> uuid::Uuid {
    let input = RecordInput {
        classification: Some(level),
        releasable_to: (!releasable.is_empty())
            .then(|| releasable.iter().map(|s| (*s).to_owned()).collect()),
        fields: serde_json::from_value(json!({"name": name, "item_kind": "material"})).unwrap(),
    };
    session.add(Kind::Item, None, &input).unwrap()
}

#[test]
fn a_bundle_carries_what_the_recipients_may_see_and_verifies() {
    let env = Env::new();
    let mut session = Session::create(&env.path("b.observatory"), env.identity()).unwrap();
    let anna =
        Identity::generate(Profile::new("Anna Berg", "SE", Classification::Restricted).unwrap());
    let stranger = Identity::generate(Profile::new("Carl", "DK", Classification::Secret).unwrap());
    let open_item = add(&mut session, Classification::Restricted, &[], "Gallium");
    let secret = add(&mut session, Classification::Secret, &[], "Secret item");
    let french = add(
        &mut session,
        Classification::Unclassified,
        &["FR"],
        "French only",
    );
    let swedish = add(
        &mut session,
        Classification::Unclassified,
        &["SE", "FR"],
        "Nordic",
    );
    let added = session.add_member(&anna.card().to_string()).unwrap();
    // Not verified yet: nothing is sent.
    let err = session
        .export_bundle(std::slice::from_ref(&added.fingerprint), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not verified"), "{err}");
    session.verify_member("Anna Berg").unwrap();
    let summary = session.export_bundle(&["Anna Berg".into()], false).unwrap();
    let sender_key = session.identity().signing_key().verifying_key();
    // Anna opens it and checks the signature.
    let body = open_bundle(&summary.bytes, anna.age_identity(), &sender_key).unwrap();
    assert_eq!(body, summary.body);
    assert_eq!(
        (body.sequence, body.classification.as_str()),
        (1, "RESTRICTED")
    );
    assert_eq!(body.recipients, std::slice::from_ref(&added.fingerprint));
    assert_eq!(body.sender, session.author());
    let ids: std::collections::BTreeSet<String> =
        body.changes.iter().map(|c| c.record_id.clone()).collect();
    assert!(ids.contains(&open_item.to_string()));
    assert!(ids.contains(&swedish.to_string()), "releasable to SE");
    assert!(
        !ids.contains(&secret.to_string()),
        "above Anna's clearance: not even its older values"
    );
    assert!(
        !ids.contains(&french.to_string()),
        "not releasable to Sweden"
    );
    assert_eq!(summary.withheld, 2);
    assert!(
        body.changes
            .iter()
            .all(|c| c.author == session.author() && !c.hlc.is_empty())
    );
    // The sender can read it back; nobody else can; another key does not verify it.
    open_bundle(
        &summary.bytes,
        session.identity().age_identity(),
        &sender_key,
    )
    .unwrap();
    let err = open_bundle(&summary.bytes, stranger.age_identity(), &sender_key)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not addressed to this identity"), "{err}");
    let err = open_bundle(
        &summary.bytes,
        anna.age_identity(),
        &stranger.signing_key().verifying_key(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("signature does not verify"), "{err}");
    // Every single-byte change of the file, and every truncation, is refused.
    for i in (0..summary.bytes.len()).step_by(97) {
        let mut bad = summary.bytes.clone();
        bad[i] ^= 0x01;
        assert!(
            open_bundle(&bad, anna.age_identity(), &sender_key).is_err(),
            "flip at {i}"
        );
        assert!(
            open_bundle(&summary.bytes[..i], anna.age_identity(), &sender_key).is_err(),
            "cut at {i}"
        );
    }
    // Since the last bundle: only what changed after it, with the next sequence number.
    let later = add(&mut session, Classification::Unclassified, &[], "Germanium");
    let next = session.export_bundle(&["Anna Berg".into()], true).unwrap();
    let body = open_bundle(&next.bytes, anna.age_identity(), &sender_key).unwrap();
    assert_eq!(body.sequence, 2);
    let ids: Vec<String> = body.changes.iter().map(|c| c.record_id.clone()).collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|id| *id == later.to_string()),
        "{ids:?}"
    );
    // A revoked member gets nothing.
    session.revoke_member("Anna Berg").unwrap();
    let err = session
        .export_bundle(&["Anna Berg".into()], false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("revoked"), "{err}");
}

#[test]
fn bundle_export_command_reads_back_and_the_reference_age_tool_decrypts_it() {
    let env = Env::new();
    let path = env.init("c.observatory");
    let f = path.to_str().unwrap();
    env.ok(&[
        "add",
        f,
        "item",
        "--name",
        "Gallium",
        "--item-kind",
        "material",
    ]);
    let anna = Identity::generate(Profile::new("Anna Berg", "SE", Classification::Secret).unwrap());
    std::fs::write(env.path("anna.card"), anna.card().to_string()).unwrap();
    env.ok(&["member", "add", f, "anna.card"]);
    let err = env.fails(
        &["bundle", "export", f, "--to", "anna.card", "--out", "b.obx"],
        11,
    );
    assert!(err.contains("not verified"), "{err}");
    assert!(!env.path("b.obx").exists());
    env.ok(&["member", "verify", f, "Anna Berg"]);
    let out = env.ok(&["bundle", "export", f, "--to", "anna.card", "--out", "b.obx"]);
    assert!(
        out.contains("signature verified: the medium may be removed"),
        "{out}"
    );
    assert!(out.contains("UNCLASSIFIED:"), "{out}");
    env.fails(
        &["bundle", "export", f, "--to", "anna.card", "--out", "b.obx"],
        11,
    );
    // The sender cannot import its own bundle: it is not in its own keyring.
    let info_before = env.ok(&["info", f]);
    let err = env.fails(&["bundle", "import", f, "b.obx", "--dry-run"], 11);
    assert!(
        err.contains("bundle refused, nothing was changed") && err.contains("not in your keyring"),
        "{err}"
    );
    std::fs::write(env.path("junk.obx"), b"not a bundle").unwrap();
    let err = env.fails(&["bundle", "import", f, "junk.obx"], 11);
    assert!(err.contains("not an age-encrypted bundle"), "{err}");
    assert_eq!(env.ok(&["info", f]), info_before, "nothing changed");
    if !have_tool("age") {
        return;
    }
    // An outsider: the reference age tool and an Ed25519 check, as the format docs say.
    let key = env.path("anna.key");
    std::fs::write(
        &key,
        format!(
            "{}\n",
            age::secrecy::ExposeSecret::expose_secret(&anna.age_identity().to_string())
        ),
    )
    .unwrap();
    let plain = std::process::Command::new("age")
        .args(["-d", "-i"])
        .arg(&key)
        .arg(env.path("b.obx"))
        .output()
        .unwrap();
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let text = String::from_utf8(plain.stdout).unwrap();
    let mut lines = text.splitn(4, '\n');
    assert_eq!(lines.next(), Some("observatory-bundle v1"));
    let signature = lines.next().unwrap().strip_prefix("signature: ").unwrap();
    assert_eq!(lines.next(), Some(""));
    let body = lines.next().unwrap();
    use base64::Engine as _;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .unwrap();
    let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
    let session = Session::open(
        &path,
        env.identity(),
        observatory::store::OpenMode::ReadOnly,
    )
    .unwrap();
    session
        .identity()
        .signing_key()
        .verifying_key()
        .verify_strict(body.as_bytes(), &signature)
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["format"], "observatory-bundle");
    assert!(
        body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["value"]["name"] == "Gallium")
    );
}

/// A member with a file and an identity.
struct Replica {
    identity_path: std::path::PathBuf,
    session: Session,
}

fn replica(env: &Env, name: &str, clearance: Classification) -> Replica {
    let identity = Identity::generate(Profile::new(name, "FR", clearance).unwrap());
    let identity_path = env.path(&format!("{name}.identity"));
    let session = Session::create(&env.path(&format!("{name}.observatory")), identity).unwrap();
    Replica {
        identity_path,
        session,
    }
}

/// Every pair adds and verifies the other's card.
fn introduce(replicas: &mut [&mut Replica]) {
    let cards: Vec<String> = replicas
        .iter()
        .map(|r| r.session.identity().card().to_string())
        .collect();
    for (i, r) in replicas.iter_mut().enumerate() {
        for (j, card) in cards.iter().enumerate() {
            if i != j {
                let m = r.session.add_member(card).unwrap();
                r.session.verify_member(&m.fingerprint).unwrap();
            }
        }
    }
}

fn to(r: &Replica) -> String {
    r.session.author().to_owned()
}

/// Everything a replica holds, as comparable text: records with their values and metadata.
fn content(s: &Session) -> String {
    let mut out = String::new();
    for kind in Kind::ALL {
        for r in s.store().list(kind, true).unwrap() {
            if !r.meta.reference {
                out.push_str(&format!(
                    "{} {} {:?} {:?} {} {:?}\n",
                    kind,
                    r.meta.id,
                    r.meta.classification,
                    r.meta.releasable_to,
                    r.meta.deleted,
                    r.fields
                ));
            }
        }
    }
    out
}

#[test]
fn bundles_merge_by_clock_keep_the_loser_and_refuse_what_they_must() {
    let env = Env::new();
    let mut a = replica(&env, "alpha", Classification::Secret);
    let mut b = replica(&env, "bravo", Classification::Secret);
    let mut c = replica(&env, "charlie", Classification::Secret);
    introduce(&mut [&mut a, &mut b]);
    let item = add(&mut a.session, Classification::Restricted, &[], "Gallium");
    let bundle = a.session.export_bundle(&[to(&b)], false).unwrap().bytes;
    // A dry run changes nothing.
    let before = b.session.store().change_log_len().unwrap();
    let preview = b.session.import_bundle(&bundle, true).unwrap();
    assert_eq!((preview.new_records, preview.dry_run), (1, true));
    assert_eq!(b.session.store().change_log_len().unwrap(), before);
    let report = b.session.import_bundle(&bundle, false).unwrap();
    assert_eq!(
        (report.new_records, report.sender.as_str(), report.sequence),
        (1, "alpha", 1)
    );
    assert_eq!(
        b.session.get(Kind::Item, item).unwrap().text("name"),
        Some("Gallium")
    );
    assert_eq!(content(&a.session), content(&b.session));
    // The same bundle again: already imported, nothing changes.
    let log = b.session.store().change_log_len().unwrap();
    let err = b
        .session
        .import_bundle(&bundle, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("already imported"), "{err}");
    assert_eq!(b.session.store().change_log_len().unwrap(), log);
    // Both change the name; the later clock wins on both sides and the loser is kept.
    let edit = |s: &mut Session, name: &str| {
        let input = RecordInput {
            fields: serde_json::from_value(json!({"name": name})).unwrap(),
            ..RecordInput::default()
        };
        s.edit(Kind::Item, item, &input).unwrap();
    };
    edit(&mut a.session, "Gallium (alpha)");
    std::thread::sleep(std::time::Duration::from_millis(3));
    edit(&mut b.session, "Gallium (bravo)");
    let from_a = a.session.export_bundle(&[to(&b)], true).unwrap().bytes;
    let from_b = b.session.export_bundle(&[to(&a)], true).unwrap().bytes;
    let ra = a.session.import_bundle(&from_b, false).unwrap();
    let rb = b.session.import_bundle(&from_a, false).unwrap();
    assert_eq!((ra.changed, ra.conflicting), (1, 1), "{ra:?}");
    assert_eq!((rb.changed, rb.conflicting), (0, 1), "{rb:?}");
    for s in [&a.session, &b.session] {
        assert_eq!(
            s.get(Kind::Item, item).unwrap().text("name"),
            Some("Gallium (bravo)")
        );
        let conflicts: i64 = s
            .store()
            .connection()
            .query_row(
                "SELECT count(*) FROM conflict WHERE loser_value = '\"Gallium (alpha)\"'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(conflicts, 1);
    }
    assert_eq!(content(&a.session), content(&b.session));
    // Refusals, each leaving the file as it was.
    let log = c.session.store().change_log_len().unwrap();
    let err = c
        .session
        .import_bundle(&bundle, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not addressed to you"), "{err}");
    introduce(&mut [&mut c]);
    let card_a = a.session.identity().card().to_string();
    c.session.add_member(&card_a).unwrap();
    let to_c = {
        let m = a
            .session
            .add_member(&c.session.identity().card().to_string())
            .unwrap();
        a.session.verify_member(&m.fingerprint).unwrap();
        a.session.export_bundle(&[to(&c)], false).unwrap().bytes
    };
    let err = c
        .session
        .import_bundle(&to_c, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not verified"), "{err}");
    let mut flipped = to_c.clone();
    let at = flipped.len() - 20;
    flipped[at] ^= 0x40;
    c.session.verify_member("alpha").unwrap();
    let log_c = c.session.store().change_log_len().unwrap();
    assert!(
        c.session
            .import_bundle(&flipped, false)
            .unwrap_err()
            .to_string()
            .contains("refused")
    );
    assert!(
        c.session
            .import_bundle(&to_c[..to_c.len() / 2], false)
            .is_err()
    );
    assert_eq!(c.session.store().change_log_len().unwrap(), log_c);
    assert!(log_c >= log);
    c.session.import_bundle(&to_c, false).unwrap();
    assert_eq!(
        c.session.get(Kind::Item, item).unwrap().text("name"),
        Some("Gallium (bravo)")
    );
    let _ = (&a.identity_path, &b.identity_path);
}

#[test]
fn a_card_claiming_a_higher_clearance_does_not_get_records_past_the_importer() {
    let env = Env::new();
    let mut a = replica(&env, "alpha", Classification::Secret);
    let mut low = replica(&env, "lima", Classification::Restricted);
    introduce(&mut [&mut a, &mut low]);
    let s = add(&mut a.session, Classification::Secret, &[], "Secret item");
    // What a sender's keyring says is a claim; here the recipient's card was never SECRET, so
    // the sender withholds the record anyway.
    let bundle = a.session.export_bundle(&[to(&low)], false).unwrap();
    assert!(
        bundle
            .body
            .changes
            .iter()
            .all(|c| c.record_id != s.to_string())
    );
    low.session.import_bundle(&bundle.bytes, false).unwrap();
    assert!(low.session.get(Kind::Item, s).is_err());
}

#[test]
#[allow(clippy::needless_range_loop)] // replicas are addressed by number, as the mail is
fn replicas_exchanging_in_any_order_with_duplicates_end_the_same() {
    use std::collections::BTreeMap;
    // A small deterministic generator (no extra dependency).
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let env = Env::new();
    for case in 0..25 {
        let count = 3 + next(3);
        let mut replicas: Vec<Replica> = (0..count)
            .map(|i| replica(&env, &format!("r{case}x{i}"), Classification::Secret))
            .collect();
        {
            let mut refs: Vec<&mut Replica> = replicas.iter_mut().collect();
            introduce(&mut refs);
        }
        let shared = add(
            &mut replicas[0].session,
            Classification::Unclassified,
            &[],
            "Shared",
        );
        // Every replica makes changes, then sends everything to all the others.
        let mut mail: Vec<(usize, Vec<u8>)> = Vec::new();
        let everyone: Vec<String> = replicas.iter().map(to).collect();
        let first = replicas[0]
            .session
            .export_bundle(&everyone[1..], false)
            .unwrap()
            .bytes;
        for r in replicas.iter_mut().skip(1) {
            r.session.import_bundle(&first, false).unwrap();
        }
        for i in 0..count {
            let s = &mut replicas[i].session;
            add(s, Classification::Unclassified, &[], &format!("own {i}"));
            // Concurrent edits of the same fields of the shared record.
            for k in 0..1 + next(3) {
                let input = RecordInput {
                    fields: serde_json::from_value(
                        json!({"description": format!("{i}.{k}"), "name": format!("Shared {i}")}),
                    )
                    .unwrap(),
                    ..RecordInput::default()
                };
                s.edit(Kind::Item, shared, &input).unwrap();
            }
            let others: Vec<String> = everyone
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, f)| f.clone())
                .collect();
            let b = s.export_bundle(&others, false).unwrap().bytes;
            for j in 0..count {
                if j != i {
                    mail.push((j, b.clone()));
                    if next(4) == 0 {
                        mail.push((j, b.clone())); // a duplicate
                    }
                }
            }
        }
        // Deliver in a random order, twice over (the second pass brings what depended on
        // records that arrived later).
        for _ in 0..2 {
            let mut order: Vec<usize> = (0..mail.len()).collect();
            for k in (1..order.len()).rev() {
                order.swap(k, next(k + 1));
            }
            for k in order {
                let (to_replica, bytes) = &mail[k];
                let _ = replicas[*to_replica].session.import_bundle(bytes, false);
            }
        }
        let names: Vec<String> = replicas
            .iter()
            .map(|r| r.session.get(Kind::Item, shared).unwrap().label())
            .collect();
        assert!(
            names.iter().all(|n| *n == names[0]),
            "case {case}: {names:?}"
        );
        let contents: BTreeMap<String, usize> =
            replicas.iter().fold(BTreeMap::new(), |mut m, r| {
                *m.entry(content(&r.session)).or_default() += 1;
                m
            });
        assert_eq!(contents.len(), 1, "case {case}: replicas differ");
    }
}

#[test]
fn a_change_that_arrives_before_its_record_is_kept_and_settles_when_it_comes() {
    let env = Env::new();
    let mut a = replica(&env, "alpha", Classification::Secret);
    let mut b = replica(&env, "bravo", Classification::Secret);
    introduce(&mut [&mut a, &mut b]);
    let item = add(&mut a.session, Classification::Unclassified, &[], "Gallium");
    let first = a.session.export_bundle(&[to(&b)], false).unwrap().bytes;
    let input = RecordInput {
        fields: serde_json::from_value(json!({"name": "Gallium (primary)"})).unwrap(),
        ..RecordInput::default()
    };
    a.session.edit(Kind::Item, item, &input).unwrap();
    let second = a.session.export_bundle(&[to(&b)], true).unwrap().bytes;
    // The later bundle first: the change waits for its record.
    let r = b.session.import_bundle(&second, false).unwrap();
    assert_eq!((r.new_records, r.changed, r.unchanged), (0, 0, 1));
    assert!(b.session.get(Kind::Item, item).is_err());
    b.session.import_bundle(&first, false).unwrap();
    assert_eq!(
        b.session.get(Kind::Item, item).unwrap().text("name"),
        Some("Gallium (primary)")
    );
    assert_eq!(content(&a.session), content(&b.session));
}

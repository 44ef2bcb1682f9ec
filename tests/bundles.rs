//! Exchange bundles, the sending side: what leaves, sealing, reading back, tampering.

use observatory::crypto::{Identity, Profile};
use observatory::model::{Classification, Kind};
use observatory::service::bundle::{ExportScope, open_bundle};
use observatory::service::{RecordInput, Session};
use serde_json::json;

use crate::util::{Env, have_tool};

pub(crate) fn add(
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
        .export_bundle(
            std::slice::from_ref(&added.fingerprint),
            &ExportScope::Everything,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not verified"), "{err}");
    session.verify_member("Anna Berg").unwrap();
    let summary = session
        .export_bundle(&["Anna Berg".into()], &ExportScope::Everything)
        .unwrap();
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
    assert!(err.contains("not addressed to you"), "{err}");
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
    let next = session
        .export_bundle(&["Anna Berg".into()], &ExportScope::SinceLast)
        .unwrap();
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
        .export_bundle(&["Anna Berg".into()], &ExportScope::Everything)
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
    let mut lines = text.splitn(5, '\n');
    assert_eq!(lines.next(), Some("observatory-bundle v2"));
    let sender = lines.next().unwrap().strip_prefix("sender: ").unwrap();
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
    assert_eq!(sender, session.author());
    let sender_key = session.identity().signing_key().verifying_key();
    sender_key
        .verify_strict(body.as_bytes(), &signature)
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(parsed["format"], "observatory-bundle");
    assert!(parsed["changes"].as_array().unwrap().iter().any(|c| {
        c["value"]
            .as_str()
            .unwrap()
            .contains("\"name\":\"Gallium\"")
    }));
    // An independent implementation of the documented checks: Python's `cryptography`.
    let python_ok = std::process::Command::new("python3")
        .args(["-c", "import cryptography"])
        .status()
        .is_ok_and(|s| s.success());
    if !python_ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 with cryptography is required when CI=true (.ci/run installs it)"
        );
        eprintln!("SKIPPED: python3 with cryptography is not installed");
        return;
    }
    std::fs::write(env.path("plain.txt"), &text).unwrap();
    let script = r#"
import base64, hashlib, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
raw = open(sys.argv[1], "rb").read()
lines = raw.split(b"\n", 4)
assert lines[0] == b"observatory-bundle v2" and lines[3] == b""
sender = lines[1].decode().removeprefix("sender: ")
sig = base64.b64decode(lines[2].decode().removeprefix("signature: "))
body = lines[4]
key = Ed25519PublicKey.from_public_bytes(base64.b64decode(sys.argv[2]))
key.verify(sig, body)
doc = json.loads(body)
assert doc["sender"] == sender
for c in doc["changes"]:
    assert c["value"] is None or hashlib.sha256(c["value"].encode()).hexdigest() == c["value_sha256"]
    msg = "\n".join(["observatory-change v1", c["record_kind"], c["record_id"], c["field"],
                     c["hlc"], c["author"], c["value_sha256"]]).encode()
    assert c["author"] == sender
    key.verify(base64.b64decode(c["signature"]), msg)
print(len(doc["changes"]), "verified")
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(env.path("plain.txt"))
        .arg(base64::engine::general_purpose::STANDARD.encode(sender_key.as_bytes()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{} verified", parsed["changes"].as_array().unwrap().len())
    );
}

/// A member with a file and an identity.
pub(crate) struct Replica {
    pub(crate) identity_path: std::path::PathBuf,
    pub(crate) session: Session,
}

fn replica(env: &Env, name: &str, clearance: Classification) -> Replica {
    replica_in(env, name, "FR", clearance)
}

/// A member of that Member State with a new file.
pub(crate) fn replica_in(env: &Env, name: &str, state: &str, clearance: Classification) -> Replica {
    let identity = Identity::generate(Profile::new(name, state, clearance).unwrap());
    let identity_path = env.path(&format!("{name}.identity"));
    let session = Session::create(&env.path(&format!("{name}.observatory")), identity).unwrap();
    Replica {
        identity_path,
        session,
    }
}

/// Every pair adds and verifies the other's card.
pub(crate) fn introduce(replicas: &mut [&mut Replica]) {
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

/// alpha and bravo, SECRET, each with the other's card verified.
fn pair(env: &Env) -> (Replica, Replica) {
    let mut a = replica(env, "alpha", Classification::Secret);
    let mut b = replica(env, "bravo", Classification::Secret);
    introduce(&mut [&mut a, &mut b]);
    (a, b)
}

/// A bundle from one replica to another.
pub(crate) fn send(from: &mut Replica, to_replica: &Replica, scope: &ExportScope) -> Vec<u8> {
    from.session
        .export_bundle(&[to(to_replica)], scope)
        .unwrap()
        .bytes
}

pub(crate) fn to(r: &Replica) -> String {
    r.session.author().to_owned()
}

/// Everything a replica holds, as comparable text: records with their values and metadata.
pub(crate) fn content(s: &Session) -> String {
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
    let bundle = send(&mut a, &b, &ExportScope::Everything);
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
    let err = refused(&mut b, &bundle);
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
    let from_a = send(&mut a, &b, &ExportScope::SinceLast);
    let from_b = send(&mut b, &a, &ExportScope::SinceLast);
    let ra = a.session.import_bundle(&from_b, false).unwrap();
    let rb = b.session.import_bundle(&from_a, false).unwrap();
    assert_eq!((ra.changed, ra.conflicting), (1, 1), "{ra:?}");
    assert_eq!((rb.changed, rb.conflicting), (0, 1), "{rb:?}");
    for s in [&a.session, &b.session] {
        assert_eq!(
            s.get(Kind::Item, item).unwrap().text("name"),
            Some("Gallium (bravo)")
        );
        let conflicts = count(
            s,
            "SELECT count(*) FROM conflict WHERE loser_value = '\"Gallium (alpha)\"'",
        );
        assert_eq!(conflicts, 1);
    }
    assert_eq!(content(&a.session), content(&b.session));
    // Refusals, each leaving the file as it was.
    let log = c.session.store().change_log_len().unwrap();
    let err = refused(&mut c, &bundle);
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
        a.session
            .export_bundle(&[to(&c)], &ExportScope::Everything)
            .unwrap()
            .bytes
    };
    let err = refused(&mut c, &to_c);
    assert!(err.contains("is not verified"), "{err}");
    let mut flipped = to_c.clone();
    let at = flipped.len() - 20;
    flipped[at] ^= 0x40;
    c.session.verify_member("alpha").unwrap();
    let log_c = c.session.store().change_log_len().unwrap();
    assert!(refused(&mut c, &flipped).contains("refused"));
    assert!(
        c.session
            .import_bundle(&to_c[..to_c.len() / 2], false)
            .is_err()
    );
    assert_eq!(c.session.store().change_log_len().unwrap(), log_c);
    assert!(log_c >= log);
    // bravo's rename, relayed by alpha, is bravo's: charlie does not know bravo's card, so it
    // is refused (listed), never merged under bravo's name; alpha's own changes go in.
    let r = c.session.import_bundle(&to_c, false).unwrap();
    assert_eq!(r.refused.len(), 1, "{r}");
    assert!(r.refused[0].reason.contains("not in your keyring"), "{r}");
    assert_eq!(r.refused[0].author, b.session.author());
    assert_eq!(
        c.session.get(Kind::Item, item).unwrap().text("name"),
        Some("Gallium (alpha)")
    );
    // Once charlie has verified bravo's card, the next full bundle brings it.
    let m = c
        .session
        .add_member(&b.session.identity().card().to_string())
        .unwrap();
    c.session.verify_member(&m.fingerprint).unwrap();
    let again = a
        .session
        .export_bundle(&[to(&c)], &ExportScope::Everything)
        .unwrap()
        .bytes;
    let r = c.session.import_bundle(&again, false).unwrap();
    assert!(r.refused.is_empty(), "{r}");
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
    let bundle = a
        .session
        .export_bundle(&[to(&low)], &ExportScope::Everything)
        .unwrap();
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

/// Delivers mail (recipient, bundle) in a random order; a bundle may only be refused as
/// already imported (a duplicate).
fn deliver(
    replicas: &mut [Replica],
    mail: &[(usize, Vec<u8>)],
    next: &mut impl FnMut(usize) -> usize,
) {
    let mut order: Vec<usize> = (0..mail.len()).collect();
    for k in (1..order.len()).rev() {
        order.swap(k, next(k + 1));
    }
    for k in order {
        let (to_replica, bytes) = &mail[k];
        if let Err(e) = replicas[*to_replica].session.import_bundle(bytes, false) {
            assert!(e.to_string().contains("already imported"), "{e}");
        }
    }
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
    for case in 0..crate::util::property_cases(1000) {
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
        // Every replica makes changes and sends them (and what it has) to all the others.
        let mut mail: Vec<(usize, Vec<u8>)> = Vec::new();
        let everyone: Vec<String> = replicas.iter().map(to).collect();
        let others_of = |i: usize| -> Vec<String> {
            everyone
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, f)| f.clone())
                .collect()
        };
        let first = replicas[0]
            .session
            .export_bundle(&everyone[1..], &ExportScope::Everything)
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
            // Guarded fields (originator control): anyone raises or narrows; only the
            // originator (replica 0) lowers or widens; anyone else's attempt is refused here.
            let levels = [
                Classification::Unclassified,
                Classification::Restricted,
                Classification::Confidential,
                Classification::Secret,
            ];
            let guarded = RecordInput {
                classification: (next(2) == 0).then(|| levels[next(levels.len())]),
                releasable_to: (next(3) == 0)
                    .then(|| [vec![], vec!["FR".to_owned()]][next(2)].clone()),
                ..RecordInput::default()
            };
            match s.edit(Kind::Item, shared, &guarded) {
                Ok(_) => {}
                Err(e) => assert!(
                    i != 0 && e.to_string().contains("only the originator"),
                    "case {case}: {e}"
                ),
            }
            let b = s
                .export_bundle(&others_of(i), &ExportScope::SinceLast)
                .unwrap()
                .bytes;
            // Round one: some mail is lost, but each bundle reaches at least one other.
            let reached = 1 + next(count - 1);
            let mut targets: Vec<usize> = (0..count).filter(|j| *j != i).collect();
            for k in (1..targets.len()).rev() {
                targets.swap(k, next(k + 1));
            }
            for &j in &targets[..reached] {
                mail.push((j, b.clone()));
                if next(4) == 0 {
                    mail.push((j, b.clone())); // a duplicate
                }
            }
        }
        deliver(&mut replicas, &mail, &mut next);
        // Round two: everyone sends what came in since (their own and what they received,
        // with older clocks) to everyone; all of it arrives, in any order, with duplicates.
        let mut mail: Vec<(usize, Vec<u8>)> = Vec::new();
        for i in 0..count {
            let b = replicas[i]
                .session
                .export_bundle(&others_of(i), &ExportScope::SinceLast)
                .unwrap()
                .bytes;
            for j in (0..count).filter(|j| *j != i) {
                mail.push((j, b.clone()));
                if next(4) == 0 {
                    mail.push((j, b.clone()));
                }
            }
        }
        deliver(&mut replicas, &mail, &mut next);
        let names: Vec<String> = replicas
            .iter()
            .map(|r| r.session.get(Kind::Item, shared).unwrap().label())
            .collect();
        assert!(
            names.iter().all(|n| *n == names[0]),
            "case {case}: {names:?}"
        );
        // A content hash per replica: records with their values and metadata.
        let hashes: BTreeMap<String, usize> = replicas.iter().fold(BTreeMap::new(), |mut m, r| {
            use sha2::Digest as _;
            let digest = sha2::Sha256::digest(content(&r.session).as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            *m.entry(hex).or_default() += 1;
            m
        });
        assert_eq!(hashes.len(), 1, "case {case}: replicas differ: {hashes:?}");
    }
}

#[test]
fn a_change_that_arrives_before_its_record_is_kept_and_settles_when_it_comes() {
    let env = Env::new();
    let (mut a, mut b) = pair(&env);
    let item = add(&mut a.session, Classification::Unclassified, &[], "Gallium");
    let first = send(&mut a, &b, &ExportScope::Everything);
    let input = RecordInput {
        fields: serde_json::from_value(json!({"name": "Gallium (primary)"})).unwrap(),
        ..RecordInput::default()
    };
    a.session.edit(Kind::Item, item, &input).unwrap();
    let second = send(&mut a, &b, &ExportScope::SinceLast);
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

/// Seals a plaintext bundle by hand, as an attacker with the reference tools would: the
/// envelope names the sender the body names (or zeros), signed with `key`.
pub(crate) fn seal_by_hand(
    body: &[u8],
    key: &ed25519_dalek::SigningKey,
    to: &[age::x25519::Recipient],
) -> Vec<u8> {
    use std::io::Write as _;
    let sender = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["sender"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "0".repeat(40));
    let plain = observatory::exchange::envelope_for(&sender, body, key);
    let encryptor =
        age::Encryptor::with_recipients(to.iter().map(|r| r as &dyn age::Recipient)).unwrap();
    let mut out = Vec::new();
    let mut w = encryptor.wrap_output(&mut out).unwrap();
    w.write_all(&plain).unwrap();
    w.finish().unwrap();
    out
}

/// Signs a change (JSON, as in a bundle) again with `key`, after its clock or value was
/// changed: the digest of its value and the author's signature, as its author would.
pub(crate) fn resign(change: &mut serde_json::Value, key: &ed25519_dalek::SigningKey) {
    if let Some(v) = change["value"].as_str() {
        change["value_sha256"] = json!(observatory::crypto::change::value_sha256(v));
    }
    let field = |k: &str| change[k].as_str().unwrap().to_owned();
    let (kind, id, f, hlc, author, digest) = (
        field("record_kind"),
        field("record_id"),
        field("field"),
        field("hlc"),
        field("author"),
        field("value_sha256"),
    );
    let signature = observatory::crypto::change::ChangeId {
        record_kind: &kind,
        record_id: &id,
        field: &f,
        hlc: &hlc,
        author: &author,
        value_sha256: &digest,
    }
    .sign(key);
    change["signature"] = json!(signature);
}

/// The decrypted plaintext of a bundle (as a recipient holds it).
pub(crate) fn plaintext(bytes: &[u8], identity: &age::x25519::Identity) -> String {
    use std::io::Read as _;
    let d = age::Decryptor::new_buffered(bytes).unwrap();
    let mut r = d
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .unwrap();
    let mut s = String::new();
    r.read_to_string(&mut s).unwrap();
    s
}

/// Why a replica refuses a bundle (it must).
fn refused(r: &mut Replica, bytes: &[u8]) -> String {
    r.session
        .import_bundle(bytes, false)
        .unwrap_err()
        .to_string()
}

/// A count from the file's tables.
pub(crate) fn count(s: &Session, sql: &str) -> i64 {
    s.store()
        .connection()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// Everything a refusal must leave alone: the change log, the audit log, the inbox, the
/// records.
fn fingerprint_of(s: &Session) -> (u64, String) {
    let audit = count(s, "SELECT count(*) FROM audit");
    let inbox = count(s, "SELECT count(*) FROM bundle_in");
    (
        s.store().change_log_len().unwrap(),
        format!("{audit} {inbox}\n{}", content(s)),
    )
}

#[test]
fn every_bit_flip_and_cut_of_a_small_bundle_is_refused_with_nothing_changed() {
    let env = Env::new();
    let (mut a, mut b) = pair(&env);
    add(&mut a.session, Classification::Restricted, &[], "Gallium");
    let bundle = send(&mut a, &b, &ExportScope::Everything);
    let before = fingerprint_of(&b.session);
    let mut flips = 0;
    for i in 0..bundle.len() {
        for bit in 0..8 {
            let mut bad = bundle.clone();
            bad[i] ^= 1 << bit;
            let err = refused(&mut b, &bad);
            assert!(err.contains("refused"), "flip of bit {bit} at {i}: {err}");
            flips += 1;
        }
    }
    for cut in 0..bundle.len() {
        assert!(
            b.session.import_bundle(&bundle[..cut], false).is_err(),
            "cut at {cut}"
        );
    }
    assert_eq!(flips, bundle.len() * 8);
    assert_eq!(
        fingerprint_of(&b.session),
        before,
        "a refusal changed the file"
    );
    // The intact bundle still goes in.
    b.session.import_bundle(&bundle, false).unwrap();
}

#[test]
fn forged_resigned_and_forwarded_bundles_are_refused() {
    let env = Env::new();
    let mut a = replica(&env, "alpha", Classification::Secret);
    let mut b = replica(&env, "bravo", Classification::Secret);
    let mut c = replica(&env, "charlie", Classification::Secret);
    introduce(&mut [&mut a, &mut b, &mut c]);
    let item = add(&mut a.session, Classification::Restricted, &[], "Gallium");
    // alpha sends to bravo and charlie; bravo sees the plaintext.
    let bundle = a
        .session
        .export_bundle(&[to(&b), to(&c)], &ExportScope::Everything)
        .unwrap()
        .bytes;
    let plain = plaintext(&bundle, b.session.identity().age_identity());
    let (_, body) = plain.split_once("\n\n").unwrap();
    let charlie_and_alpha = [
        c.session.identity().recipient(),
        a.session.identity().recipient(),
    ];
    let before = fingerprint_of(&c.session);
    // 1. bravo alters the content and signs it with his own key, still claiming alpha sent it.
    let altered = body.replace("Gallium", "Galium (forged)");
    let forged = seal_by_hand(
        altered.as_bytes(),
        b.session.identity().signing_key(),
        &charlie_and_alpha,
    );
    let err = refused(&mut c, &forged);
    assert!(err.contains("signature does not verify"), "{err}");
    // 2. Signed by a key nobody knows, claiming to be alpha.
    let stranger =
        Identity::generate(Profile::new("Mallory", "FR", Classification::Secret).unwrap());
    let unknown = seal_by_hand(body.as_bytes(), stranger.signing_key(), &charlie_and_alpha);
    let err = refused(&mut c, &unknown);
    assert!(err.contains("signature does not verify"), "{err}");
    // 3. Signed by the unknown key as itself.
    let own: serde_json::Value = serde_json::from_str(body).unwrap();
    let mut own = own;
    own["sender"] = json!(stranger.card().author_id());
    own["sender_name"] = json!("Mallory");
    let own = seal_by_hand(
        own.to_string().as_bytes(),
        stranger.signing_key(),
        &charlie_and_alpha,
    );
    let err = refused(&mut c, &own);
    assert!(err.contains("not in your keyring"), "{err}");
    assert_eq!(fingerprint_of(&c.session), before);
    // 4. A bundle for bravo alone, re-encrypted by bravo to charlie with alpha's signature
    //    intact: charlie is not in the signed recipients.
    let only_b = send(&mut a, &b, &ExportScope::Everything);
    let plain_b = plaintext(&only_b, b.session.identity().age_identity());
    let forwarded = {
        use std::io::Write as _;
        let e = age::Encryptor::with_recipients(
            charlie_and_alpha.iter().map(|r| r as &dyn age::Recipient),
        )
        .unwrap();
        let mut out = Vec::new();
        let mut w = e.wrap_output(&mut out).unwrap();
        w.write_all(plain_b.as_bytes()).unwrap();
        w.finish().unwrap();
        out
    };
    let err = refused(&mut c, &forwarded);
    assert!(
        err.contains("not in its signed list of recipients"),
        "{err}"
    );
    assert_eq!(fingerprint_of(&c.session), before);
    // The genuine one goes in.
    c.session.import_bundle(&bundle, false).unwrap();
    assert_eq!(
        c.session.get(Kind::Item, item).unwrap().text("name"),
        Some("Gallium")
    );
}

#[test]
fn a_selection_carries_only_the_chosen_records_and_a_failed_write_records_nothing() {
    let env = Env::new();
    let (mut a, mut b) = pair(&env);
    let gallium = add(&mut a.session, Classification::Restricted, &[], "Gallium");
    let germanium = add(
        &mut a.session,
        Classification::Unclassified,
        &[],
        "Germanium",
    );
    let secret = add(&mut a.session, Classification::TopSecret, &[], "Top");
    let plan = a
        .session
        .plan_export(&[to(&b)], &ExportScope::Selection(vec![gallium, secret]))
        .unwrap();
    assert_eq!((plan.records, plan.withheld), (1, 1));
    assert_eq!(plan.by_level.get("RESTRICTED"), Some(&plan.changes.len()));
    // Written into a folder that does not exist: an error, no file, nothing in the outbox.
    let nowhere = env.path("no-such-medium").join("x.obx");
    let err = a
        .session
        .write_bundle(&nowhere, &[to(&b)], &ExportScope::Selection(vec![gallium]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot write"), "{err}");
    assert!(a.session.outbox().unwrap().is_empty());
    let path = env.path("selection.obx");
    let summary = a
        .session
        .write_bundle(&path, &[to(&b)], &ExportScope::Selection(vec![gallium]))
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), summary.bytes);
    let outbox = a.session.outbox().unwrap();
    assert_eq!(
        (
            outbox.len(),
            outbox[0].recipients.clone(),
            outbox[0].sequence
        ),
        (1, vec!["bravo".to_owned()], 1)
    );
    b.session
        .import_bundle(&std::fs::read(&path).unwrap(), false)
        .unwrap();
    assert!(b.session.get(Kind::Item, gallium).is_ok());
    assert!(b.session.get(Kind::Item, germanium).is_err());
    let inbox = b.session.inbox().unwrap();
    assert_eq!((inbox[0].sender.as_str(), inbox[0].sequence), ("alpha", 1));
    // A selection does not count as "sent" for the next since-last bundle: Germanium goes.
    let next = a
        .session
        .export_bundle(&[to(&b)], &ExportScope::SinceLast)
        .unwrap();
    assert!(
        next.body
            .changes
            .iter()
            .any(|c| c.record_id == germanium.to_string())
    );
}

#[test]
fn a_conflict_is_settled_by_keeping_or_taking_the_other_value_and_that_replicates() {
    use observatory::service::exchange::Resolution;
    let env = Env::new();
    let (mut a, mut b) = pair(&env);
    let item = add(&mut a.session, Classification::Unclassified, &[], "Gallium");
    let first = send(&mut a, &b, &ExportScope::Everything);
    b.session.import_bundle(&first, false).unwrap();
    let edit = |s: &mut Session, field: &str, value: &str| {
        let input = RecordInput {
            fields: serde_json::from_value(json!({ field: value })).unwrap(),
            ..RecordInput::default()
        };
        s.edit(Kind::Item, item, &input).unwrap();
    };
    edit(&mut a.session, "name", "Gallium (alpha)");
    edit(&mut a.session, "description", "alpha's note");
    std::thread::sleep(std::time::Duration::from_millis(3));
    edit(&mut b.session, "name", "Gallium (bravo)");
    edit(&mut b.session, "description", "bravo's note");
    let from_b = send(&mut b, &a, &ExportScope::SinceLast);
    a.session.import_bundle(&from_b, false).unwrap();
    let open = a.session.conflicts(false).unwrap();
    assert_eq!(open.len(), 2, "{open:?}");
    let name = open.iter().find(|c| c.field == "name").unwrap();
    assert_eq!(
        (
            name.current.as_str(),
            name.winner.as_str(),
            name.other.as_str(),
            name.loser_is_me
        ),
        (
            Some("Gallium (bravo)"),
            "bravo",
            Some("Gallium (alpha)"),
            true
        )
    );
    // alpha takes back the name and keeps bravo's description.
    a.session
        .resolve_conflict(name.seq, Resolution::TakeOther)
        .unwrap();
    let note = open.iter().find(|c| c.field == "description").unwrap();
    a.session
        .resolve_conflict(note.seq, Resolution::KeepCurrent)
        .unwrap();
    assert!(a.session.conflicts(false).unwrap().is_empty());
    assert_eq!(a.session.conflicts(true).unwrap().len(), 2);
    let err = a
        .session
        .resolve_conflict(note.seq, Resolution::TakeOther)
        .unwrap_err()
        .to_string();
    assert!(err.contains("settled already"), "{err}");
    assert_eq!(
        a.session.get(Kind::Item, item).unwrap().text("name"),
        Some("Gallium (alpha)")
    );
    // The choice is a new edit: it reaches bravo and wins there too.
    let back = send(&mut a, &b, &ExportScope::SinceLast);
    b.session.import_bundle(&back, false).unwrap();
    let on_b = b.session.get(Kind::Item, item).unwrap();
    assert_eq!(
        (on_b.text("name"), on_b.text("description")),
        (Some("Gallium (alpha)"), Some("bravo's note"))
    );
    assert_eq!(content(&a.session), content(&b.session));
    assert_eq!(
        count(
            &a.session,
            "SELECT count(*) FROM audit WHERE action = 'conflict-resolve'"
        ),
        2
    );
}

/// The fuzzing keys of `fuzz_reader` (public test keys).
const FUZZ_AGE_RECIPIENT_OF: &str =
    "AGE-SECRET-KEY-1F0GJS2N2HPKY8TSA82PY8UDM7XAGES998SWSQKHM498DAYJZHS0QA2XYGA";

/// Valid inputs for each layer of the fuzzed reader.
fn fuzz_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let env = Env::new();
    let (mut a, b) = pair(&env);
    add(
        &mut a.session,
        Classification::Restricted,
        &["FR"],
        "Gallium",
    );
    let bundle = a
        .session
        .export_bundle(&[to(&b)], &ExportScope::Everything)
        .unwrap();
    let body = serde_json::to_vec(&bundle.body).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let identity: age::x25519::Identity = FUZZ_AGE_RECIPIENT_OF.parse().unwrap();
    let sealed = seal_by_hand(&body, &key, &[identity.to_public()]);
    let envelope = {
        let mut plain = plaintext(&sealed, &identity).into_bytes();
        plain.insert(0, 1);
        plain
    };
    let mut layered = vec![0];
    layered.extend_from_slice(&sealed);
    let mut signed = vec![2];
    signed.extend_from_slice(&body);
    vec![
        ("sealed", layered),
        ("envelope", envelope),
        ("body", signed),
    ]
}

#[test]
fn the_fuzzed_bundle_reader_accepts_its_seeds_and_survives_their_mutations() {
    use observatory::service::bundle::fuzz_reader;
    let seeds = fuzz_seeds();
    // `OBSERVATORY_WRITE_FUZZ_SEEDS=tests/fuzz/seeds cargo test fuzzed` writes them for the
    // fuzzer (tests/fuzz).
    if let Ok(dir) = std::env::var("OBSERVATORY_WRITE_FUZZ_SEEDS") {
        for (name, bytes) in &seeds {
            std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
        }
    }
    for (name, bytes) in &seeds {
        assert!(fuzz_reader(bytes), "seed {name} is refused");
    }
    // The committed seeds and anything the fuzzer kept (tests/fuzz/corpus, when present).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    for dir in ["seeds", "corpus/bundle_reader"] {
        for entry in std::fs::read_dir(root.join(dir)).into_iter().flatten() {
            // (A running fuzzer may remove an input between the listing and the read.)
            if let Ok(bytes) = std::fs::read(entry.unwrap().path()) {
                let _ = fuzz_reader(&bytes);
            }
        }
    }
    // Random mutations of each seed: flips, cuts, splices. None may panic; the header byte is
    // kept so each layer is exercised.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    for (_, bytes) in &seeds {
        for _ in 0..3000 {
            let mut m = bytes.clone();
            for _ in 0..1 + next(4) {
                let at = 1 + next(m.len() - 1);
                match next(4) {
                    0 => m[at] ^= 1 << next(8),
                    1 => m[at] = b"{}[]\",:0\\"[next(9)],
                    2 => m.truncate(at.max(1)),
                    _ => {
                        let from = 1 + next(bytes.len() - 1);
                        let len = next(16).min(bytes.len() - from);
                        let piece = bytes[from..from + len].to_vec();
                        m.splice(at.min(m.len())..at.min(m.len()), piece);
                    }
                }
                if m.len() < 2 {
                    break;
                }
            }
            let _ = fuzz_reader(&m);
        }
    }
}

#[test]
fn two_members_exchange_and_settle_a_conflict_on_the_command_line() {
    let jane = Env::with_name("Jane Doe");
    let anna = Env::with_name("Anna Berg");
    let fj = jane.init("jane.observatory");
    let fa = anna.init("anna.observatory");
    let (fj, fa) = (fj.to_str().unwrap(), fa.to_str().unwrap());
    // Cards swapped on paper, verified.
    let card_j = jane.path("jane.card");
    let card_a = anna.path("anna.card");
    std::fs::write(&card_j, jane.ok(&["card"])).unwrap();
    std::fs::write(&card_a, anna.ok(&["card"])).unwrap();
    let (card_j, card_a) = (card_j.to_str().unwrap(), card_a.to_str().unwrap());
    jane.ok(&["member", "add", fj, card_a]);
    jane.ok(&["member", "verify", fj, "Anna Berg"]);
    anna.ok(&["member", "add", fa, card_j]);
    anna.ok(&["member", "verify", fa, "Jane Doe"]);
    let added = |env: &Env, f: &str, name: &str| -> String {
        let out = env.ok(&["add", f, "item", "--name", name, "--item-kind", "material"]);
        out.split_whitespace()
            .find(|w| uuid::Uuid::parse_str(w).is_ok())
            .unwrap_or_else(|| panic!("no id in {out:?}"))
            .to_owned()
    };
    let gallium = added(&jane, fj, "Gallium");
    let _germanium = added(&jane, fj, "Germanium");
    // A selection: Gallium only.
    let b1 = anna.path("1.obx");
    let out = jane.ok(&[
        "bundle",
        "export",
        fj,
        "--to",
        card_a,
        "--out",
        b1.to_str().unwrap(),
        "--only",
        &gallium,
    ]);
    assert!(out.contains("the medium may be removed"), "{out}");
    jane.fails(
        &[
            "bundle", "export", fj, "--to", card_a, "--out", "x.obx", "--only", "nope",
        ],
        11,
    );
    let out = anna.ok(&["bundle", "import", fa, b1.to_str().unwrap()]);
    assert!(out.contains("1 new record(s)"), "{out}");
    let list = anna.ok(&["list", fa, "item"]);
    assert!(
        list.contains("Gallium") && !list.contains("Germanium"),
        "{list}"
    );
    // Both rename it; Anna's is later and wins on both sides; Jane's waits in her list.
    jane.ok(&["edit", fj, "item", &gallium, "--name", "Gallium (Jane)"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    anna.ok(&["edit", fa, "item", &gallium, "--name", "Gallium (Anna)"]);
    let b2 = jane.path("2.obx");
    anna.ok(&[
        "bundle",
        "export",
        fa,
        "--to",
        card_j,
        "--out",
        b2.to_str().unwrap(),
        "--since-last",
    ]);
    let out = jane.ok(&["bundle", "import", fj, b2.to_str().unwrap()]);
    assert!(out.contains("1 conflicting"), "{out}");
    let listed = jane.ok(&["bundle", "list", fj, "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["outbox"][0]["recipients"], json!(["Anna Berg"]));
    assert_eq!(listed["inbox"][0]["sender"], "Anna Berg");
    let conflicts = jane.ok(&["bundle", "conflicts", fj, "--format", "json"]);
    let conflicts: serde_json::Value = serde_json::from_str(&conflicts).unwrap();
    assert_eq!(conflicts[0]["current"], "Gallium (Anna)");
    assert_eq!(conflicts[0]["other"], "Gallium (Jane)");
    assert_eq!(conflicts[0]["loser_is_me"], true);
    let seq = conflicts[0]["seq"].as_i64().unwrap().to_string();
    jane.fails(&["bundle", "resolve", fj, &seq], 11);
    jane.fails(&["bundle", "resolve", fj, "999", "--keep-current"], 11);
    let out = jane.ok(&["bundle", "resolve", fj, &seq, "--take-other"]);
    assert!(out.contains("settled"), "{out}");
    jane.fails(&["bundle", "resolve", fj, &seq, "--keep-current"], 11);
    assert!(
        jane.ok(&["bundle", "conflicts", fj])
            .contains("0 conflict(s)")
    );
    // Her choice travels: Anna ends with Jane's name, and Germanium.
    let b3 = anna.path("3.obx");
    jane.ok(&[
        "bundle",
        "export",
        fj,
        "--to",
        card_a,
        "--out",
        b3.to_str().unwrap(),
        "--since-last",
    ]);
    anna.ok(&["bundle", "import", fa, b3.to_str().unwrap()]);
    let list = anna.ok(&["list", fa, "item"]);
    assert!(list.contains("Gallium (Jane)"), "{list}");
}

#[test]
fn a_change_from_the_future_is_held_back_then_applied_when_its_time_comes() {
    use observatory::model::Hlc;
    let env = Env::new();
    let (mut a, mut b) = pair(&env);
    let item = add(&mut a.session, Classification::Unclassified, &[], "Gallium");
    let first = send(&mut a, &b, &ExportScope::Everything);
    b.session.import_bundle(&first, false).unwrap();
    let input = RecordInput {
        fields: serde_json::from_value(json!({"name": "Gallium (future)"})).unwrap(),
        ..RecordInput::default()
    };
    a.session.edit(Kind::Item, item, &input).unwrap();
    let next = send(&mut a, &b, &ExportScope::SinceLast);
    // alpha's clock is 10 minutes and 1.5 seconds fast for this change.
    let plain = plaintext(&next, b.session.identity().age_identity());
    let (_, body) = plain.split_once("\n\n").unwrap();
    let mut body: serde_json::Value = serde_json::from_str(body).unwrap();
    let ahead = Hlc {
        wall_ms: Hlc::now_ms() + 10 * 60 * 1000 + 1500,
        counter: 0,
    };
    body["changes"][0]["hlc"] = json!(ahead.to_string());
    resign(&mut body["changes"][0], a.session.identity().signing_key());
    let sealed = seal_by_hand(
        body.to_string().as_bytes(),
        a.session.identity().signing_key(),
        &[
            b.session.identity().recipient(),
            a.session.identity().recipient(),
        ],
    );
    let r = b.session.import_bundle(&sealed, false).unwrap();
    assert_eq!((r.quarantined, r.changed, r.released), (1, 0, 0), "{r:?}");
    assert_eq!(
        b.session.get(Kind::Item, item).unwrap().text("name"),
        Some("Gallium")
    );
    let held = b.session.held_changes().unwrap();
    assert_eq!(
        (held.len(), held[0].field.as_str(), held[0].sender.as_str()),
        (1, "name", "alpha")
    );
    // Once bravo's clock is within ten minutes of it, the next import applies it.
    std::thread::sleep(std::time::Duration::from_millis(2000));
    add(
        &mut a.session,
        Classification::Unclassified,
        &[],
        "Germanium",
    );
    let later = send(&mut a, &b, &ExportScope::SinceLast);
    let r = b.session.import_bundle(&later, false).unwrap();
    assert_eq!((r.released, r.new_records), (1, 1), "{r:?}");
    assert!(
        r.to_string()
            .contains("1 held change(s) from earlier bundles applied")
    );
    assert_eq!(
        b.session.get(Kind::Item, item).unwrap().text("name"),
        Some("Gallium (future)")
    );
    assert!(b.session.held_changes().unwrap().is_empty());
}

/// Sets values of a record.
fn set(
    s: &mut Session,
    kind: Kind,
    id: uuid::Uuid,
    values: serde_json::Value,
    level: Option<Classification>,
) {
    let input = RecordInput {
        classification: level,
        fields: serde_json::from_value(values).unwrap(),
        ..RecordInput::default()
    };
    s.edit(kind, id, &input).unwrap();
}

#[test]
fn a_lowered_record_leaves_with_its_standing_values_not_its_history() {
    let env = Env::new();
    let mut a = replica(&env, "alpha", Classification::Secret);
    let mut low = replica(&env, "lima", Classification::Restricted);
    introduce(&mut [&mut a, &mut low]);
    let x = add(&mut a.session, Classification::Secret, &[], "Stockpile");
    set(
        &mut a.session,
        Kind::Item,
        x,
        json!({"description": "secret detail"}),
        None,
    );
    // Withheld while SECRET: since-last to lima does not carry it.
    let first = send(&mut a, &low, &ExportScope::SinceLast);
    low.session.import_bundle(&first, false).unwrap();
    assert!(low.session.get(Kind::Item, x).is_err());
    // Cleaned up and lowered: it now goes, complete, but none of its SECRET-era values.
    set(
        &mut a.session,
        Kind::Item,
        x,
        json!({"description": "public detail", "name": "Stock"}),
        None,
    );
    set(
        &mut a.session,
        Kind::Item,
        x,
        json!({}),
        Some(Classification::Restricted),
    );
    let summary = a
        .session
        .export_bundle(&[to(&low)], &ExportScope::SinceLast)
        .unwrap();
    let text = serde_json::to_string(&summary.body).unwrap();
    assert!(!text.contains("secret detail"), "{text}");
    assert!(!text.contains("Stockpile"), "{text}");
    assert!(!text.contains("\"SECRET\""), "{text}");
    assert_eq!(summary.body.classification, "RESTRICTED");
    low.session.import_bundle(&summary.bytes, false).unwrap();
    let there = low.session.get(Kind::Item, x).unwrap();
    assert_eq!(
        (
            there.text("name"),
            there.text("description"),
            there.meta.classification
        ),
        (
            Some("Stock"),
            Some("public detail"),
            Classification::Restricted
        )
    );
    // A later edit follows as usual, and both hold the same record.
    set(
        &mut a.session,
        Kind::Item,
        x,
        json!({"description": "update"}),
        None,
    );
    let next = send(&mut a, &low, &ExportScope::SinceLast);
    low.session.import_bundle(&next, false).unwrap();
    assert_eq!(content(&a.session), content(&low.session));
    // A SECRET member who has the whole history gets lima's relay as already there.
    let mut s2 = replica(&env, "sierra", Classification::Secret);
    introduce(&mut [&mut a, &mut s2]);
    let m = low
        .session
        .add_member(&s2.session.identity().card().to_string())
        .unwrap();
    low.session.verify_member(&m.fingerprint).unwrap();
    let m = s2
        .session
        .add_member(&low.session.identity().card().to_string())
        .unwrap();
    s2.session.verify_member(&m.fingerprint).unwrap();
    let full = send(&mut a, &s2, &ExportScope::Everything);
    s2.session.import_bundle(&full, false).unwrap();
    let relay = send(&mut low, &s2, &ExportScope::Everything);
    let r = s2.session.import_bundle(&relay, false).unwrap();
    assert_eq!(
        (r.new_records, r.changed, r.conflicting),
        (0, 0, 0),
        "{r:?}"
    );
    assert_eq!(content(&a.session), content(&s2.session));
}

#[test]
fn since_last_carries_changes_received_late_with_older_clocks() {
    let env = Env::new();
    let mut a = replica(&env, "alpha", Classification::Secret);
    let mut b = replica(&env, "bravo", Classification::Secret);
    let mut c = replica(&env, "charlie", Classification::Secret);
    introduce(&mut [&mut a, &mut b, &mut c]);
    // charlie adds a record first (older clock) but his bundle reaches bravo late.
    let early = add(&mut c.session, Classification::Unclassified, &[], "Early");
    let from_c = send(&mut c, &b, &ExportScope::Everything);
    std::thread::sleep(std::time::Duration::from_millis(3));
    add(&mut b.session, Classification::Unclassified, &[], "Bravo's");
    let first = send(&mut b, &a, &ExportScope::SinceLast);
    a.session.import_bundle(&first, false).unwrap();
    b.session.import_bundle(&from_c, false).unwrap();
    // bravo relays charlie's record to alpha with the next since-last bundle.
    let second = send(&mut b, &a, &ExportScope::SinceLast);
    let r = a.session.import_bundle(&second, false).unwrap();
    assert_eq!(r.new_records, 1, "{r:?}");
    assert!(a.session.get(Kind::Item, early).is_ok());
    // Nothing new: the next one is empty.
    let third = a
        .session
        .plan_export(&[to(&b)], &ExportScope::SinceLast)
        .unwrap();
    assert_eq!(third.records, 2, "alpha never sent to bravo: everything");
    let again = b
        .session
        .plan_export(&[to(&a)], &ExportScope::SinceLast)
        .unwrap();
    assert!(again.changes.is_empty(), "{:?}", again.changes);
}

#[test]
fn revoking_a_sender_drops_their_held_changes_and_malformed_values_are_refused() {
    use observatory::model::Hlc;
    let env = Env::new();
    let (mut a, mut b) = pair(&env);
    let item = add(&mut a.session, Classification::Unclassified, &[], "Gallium");
    let first = send(&mut a, &b, &ExportScope::Everything);
    b.session.import_bundle(&first, false).unwrap();
    set(
        &mut a.session,
        Kind::Item,
        item,
        json!({"name": "Gallium (later)"}),
        None,
    );
    let next = send(&mut a, &b, &ExportScope::SinceLast);
    let plain = plaintext(&next, b.session.identity().age_identity());
    let (_, body) = plain.split_once("\n\n").unwrap();
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    let to_both = [
        b.session.identity().recipient(),
        a.session.identity().recipient(),
    ];
    let key = a.session.identity().signing_key().clone();
    let reseal = |body: &serde_json::Value| {
        let mut body = body.clone();
        body["bundle_id"] = json!(uuid::Uuid::now_v7().to_string());
        resign(&mut body["changes"][0], &key);
        seal_by_hand(body.to_string().as_bytes(), &key, &to_both)
    };
    let before = fingerprint_of(&b.session);
    // A releasability that cannot be read is refused, not taken as "no restriction".
    let mut bad = body.clone();
    bad["changes"][0]["field"] = json!("releasable_to");
    bad["changes"][0]["value"] = json!("\"everyone\"");
    let err = refused(&mut b, &reseal(&bad));
    assert!(err.contains("the releasability is not a list"), "{err}");
    // A clock more than a day ahead refuses the bundle.
    let mut far = body.clone();
    far["changes"][0]["hlc"] = json!(
        Hlc {
            wall_ms: Hlc::now_ms() + 2 * 24 * 3600 * 1000,
            counter: 0
        }
        .to_string()
    );
    let err = refused(&mut b, &reseal(&far));
    assert!(err.contains("more than a day ahead"), "{err}");
    assert_eq!(fingerprint_of(&b.session), before);
    // An hour ahead: held; then alpha's card is revoked: the held change is dropped.
    let mut ahead = body.clone();
    ahead["changes"][0]["hlc"] = json!(
        Hlc {
            wall_ms: Hlc::now_ms() + 3600 * 1000,
            counter: 0
        }
        .to_string()
    );
    let r = b.session.import_bundle(&reseal(&ahead), false).unwrap();
    assert_eq!(r.quarantined, 1);
    assert_eq!(b.session.held_changes().unwrap().len(), 1);
    b.session.revoke_member("alpha").unwrap();
    assert!(b.session.held_changes().unwrap().is_empty());
    // Discarding on request.
    assert_eq!(b.session.discard_held().unwrap(), 0);
}

#[test]
fn a_record_raised_edited_then_lowered_again_reaches_its_standing_values() {
    let env = Env::new();
    let mut a = replica(&env, "alpha", Classification::Secret);
    let mut low = replica(&env, "lima", Classification::Restricted);
    introduce(&mut [&mut a, &mut low]);
    let x = add(&mut a.session, Classification::Restricted, &[], "Gallium");
    let first = send(&mut a, &low, &ExportScope::SinceLast);
    low.session.import_bundle(&first, false).unwrap();
    // Raised, edited while SECRET, a bundle meanwhile (it stays behind), then lowered.
    set(
        &mut a.session,
        Kind::Item,
        x,
        json!({}),
        Some(Classification::Secret),
    );
    set(
        &mut a.session,
        Kind::Item,
        x,
        json!({"description": "kept"}),
        None,
    );
    let meanwhile = a
        .session
        .export_bundle(&[to(&low)], &ExportScope::SinceLast)
        .unwrap();
    assert!(meanwhile.body.changes.is_empty());
    low.session.import_bundle(&meanwhile.bytes, false).unwrap();
    set(
        &mut a.session,
        Kind::Item,
        x,
        json!({}),
        Some(Classification::Restricted),
    );
    let back = send(&mut a, &low, &ExportScope::SinceLast);
    low.session.import_bundle(&back, false).unwrap();
    assert_eq!(
        low.session.get(Kind::Item, x).unwrap().text("description"),
        Some("kept")
    );
    assert_eq!(content(&a.session), content(&low.session));
}

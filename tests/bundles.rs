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

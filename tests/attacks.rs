//! Exchange attacks by a dishonest member with a valid key, a tampered file on a stick, or a
//! hostile bundle (issue 14). Each goes through real files and bundles, and the victim's file
//! (records, change log, audit) is unchanged except for the listed refusal or proposal.

use observatory::crypto::change::{ChangeId, value_sha256};
use observatory::model::{Classification, Hlc, Kind};
use observatory::service::bundle::ExportScope;
use observatory::service::{RecordInput, Session};
use serde_json::{Value, json};

use crate::bundles::{
    Replica, add, content, count, introduce, plaintext, replica_in, seal_by_hand, send, to,
};
use crate::util::Env;

/// A change as a bundle carries it, signed with `key` (which may not be the author's).
fn change(
    kind: Kind,
    id: uuid::Uuid,
    field: &str,
    value: &Value,
    hlc: Hlc,
    author: &str,
    key: &ed25519_dalek::SigningKey,
) -> Value {
    let text = value.to_string();
    let digest = value_sha256(&text);
    let (id, hlc) = (id.to_string(), hlc.to_string());
    let signature = ChangeId {
        record_kind: kind.name(),
        record_id: &id,
        field,
        hlc: &hlc,
        author,
        value_sha256: &digest,
    }
    .sign(key);
    json!({"record_kind": kind.name(), "record_id": id, "field": field, "value": text,
           "value_sha256": digest, "hlc": hlc, "author": author, "signature": signature})
}

/// A bundle made by hand by `from` (signed with their key) for `to_r`.
fn hand_bundle(from: &Replica, to_r: &Replica, bundle_id: &str, changes: Vec<Value>) -> Vec<u8> {
    let body = json!({
        "format": "observatory-bundle", "version": 2, "bundle_id": bundle_id,
        "sender": from.session.author(), "sender_name": from.session.identity().profile().name,
        "recipients": [to_r.session.author()], "sequence": 1,
        "created": Hlc { wall_ms: Hlc::now_ms(), counter: 0 }.to_string(),
        "classification": "UNCLASSIFIED", "changes": changes,
    });
    seal_by_hand(
        body.to_string().as_bytes(),
        from.session.identity().signing_key(),
        &[
            to_r.session.identity().recipient(),
            from.session.identity().recipient(),
        ],
    )
}

fn now() -> Hlc {
    Hlc {
        wall_ms: Hlc::now_ms(),
        counter: 7,
    }
}

/// What a refusal or a proposal must leave as it is: the records and the change log.
fn records_and_log(s: &Session) -> (String, u64) {
    (content(s), s.store().change_log_len().unwrap())
}

fn set_level(s: &mut Session, kind: Kind, id: uuid::Uuid, level: Classification) {
    let input = RecordInput {
        classification: Some(level),
        ..RecordInput::default()
    };
    s.edit(kind, id, &input).unwrap();
}

#[test]
fn a_member_cannot_lower_widen_or_rename_under_another_members_name() {
    let env = Env::new();
    let mut victim = replica_in(&env, "victim", "FR", Classification::Secret);
    let mut mallory = replica_in(&env, "mallory", "DE", Classification::Restricted);
    introduce(&mut [&mut victim, &mut mallory]);
    let secret = add(
        &mut victim.session,
        Classification::Secret,
        &[],
        "T/R module",
    );
    let french = add(
        &mut victim.session,
        Classification::Unclassified,
        &["FR"],
        "French only",
    );
    let open = add(
        &mut victim.session,
        Classification::Unclassified,
        &[],
        "Gallium",
    );
    let v = victim.session.author().to_owned();
    let key = mallory.session.identity().signing_key().clone();
    // 1. Under the victim's name, signed with her own key.
    let forged = vec![
        change(
            Kind::Item,
            secret,
            "classification",
            &json!("UNCLASSIFIED"),
            now(),
            &v,
            &key,
        ),
        change(
            Kind::Item,
            french,
            "releasable_to",
            &json!([]),
            now(),
            &v,
            &key,
        ),
        change(Kind::Item, open, "name", &json!("Renamed"), now(), &v, &key),
    ];
    let before = records_and_log(&victim.session);
    let bundle = hand_bundle(&mallory, &victim, &uuid::Uuid::now_v7().to_string(), forged);
    let r = victim.session.import_bundle(&bundle, false).unwrap();
    assert_eq!(r.refused.len(), 3, "{r}");
    assert!(
        r.refused
            .iter()
            .all(|c| c.reason.contains("signature does not verify")),
        "{r}"
    );
    assert_eq!((r.changed, r.new_records, r.proposed), (0, 0, 0));
    assert_eq!(records_and_log(&victim.session), before, "nothing merged");
    assert_eq!(
        count(&victim.session, "SELECT count(*) FROM refused_change"),
        3
    );
    // 2. Under her own name: the downgrade and the release are proposals for the originator,
    //    never applied; renaming a record she may edit is an ordinary edit of hers.
    let own = mallory.session.author().to_owned();
    let proposals = vec![
        change(
            Kind::Item,
            secret,
            "classification",
            &json!("UNCLASSIFIED"),
            now(),
            &own,
            &key,
        ),
        change(
            Kind::Item,
            french,
            "releasable_to",
            &json!([]),
            now(),
            &own,
            &key,
        ),
    ];
    let bundle = hand_bundle(
        &mallory,
        &victim,
        &uuid::Uuid::now_v7().to_string(),
        proposals,
    );
    let r = victim.session.import_bundle(&bundle, false).unwrap();
    assert_eq!((r.proposed, r.refused.len()), (2, 0), "{r}");
    let secret_now = victim.session.get(Kind::Item, secret).unwrap();
    assert_eq!(secret_now.meta.classification, Classification::Secret);
    let french_now = victim.session.get(Kind::Item, french).unwrap();
    assert_eq!(french_now.meta.releasable_to, vec!["FR".to_owned()]);
    let listed = victim.session.proposals().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|p| p.originator_is_you && p.proposer == "mallory")
    );
    assert_eq!(
        listed.iter().map(|p| p.proposal).collect::<Vec<_>>(),
        ["downgrade", "release"]
    );
    // 3. The victim's next bundle to her carries neither the SECRET record nor the French one.
    let out = send(&mut victim, &mallory, &ExportScope::Everything);
    let text = plaintext(&out, mallory.session.identity().age_identity());
    assert!(
        !text.contains(&secret.to_string()),
        "the SECRET record left"
    );
    assert!(
        !text.contains(&french.to_string()),
        "the FR-only record left"
    );
    assert!(text.contains(&open.to_string()));
    // Locally too, only the originator may lower a record.
    let err = mallory
        .session
        .import_bundle(&out, false)
        .map(|_| ())
        .and_then(|()| {
            mallory.session.edit(
                Kind::Item,
                open,
                &RecordInput {
                    releasable_to: Some(vec!["DE".into()]),
                    ..RecordInput::default()
                },
            )?;
            mallory.session.edit(
                Kind::Item,
                open,
                &RecordInput {
                    releasable_to: Some(vec![]),
                    ..RecordInput::default()
                },
            )
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("only the originator"), "{err}");
}

#[test]
fn the_originators_downgrade_reaches_everyone_and_proposals_are_decided_with_audit() {
    let env = Env::new();
    let mut origin = replica_in(&env, "origin", "FR", Classification::Secret);
    let mut bravo = replica_in(&env, "bravo", "FR", Classification::Secret);
    let mut low = replica_in(&env, "low", "FR", Classification::Restricted);
    introduce(&mut [&mut origin, &mut bravo, &mut low]);
    let radar = add(&mut origin.session, Classification::Secret, &[], "Radar");
    origin
        .session
        .edit(
            Kind::Item,
            radar,
            &RecordInput {
                fields: serde_json::from_value(json!({"description": "SECRET-era text"})).unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap();
    let to_bravo = send(&mut origin, &bravo, &ExportScope::Everything);
    bravo.session.import_bundle(&to_bravo, false).unwrap();
    // bravo may not lower it himself; he proposes (a change signed by him) and origin decides.
    let err = bravo
        .session
        .edit(
            Kind::Item,
            radar,
            &RecordInput {
                classification: Some(Classification::Restricted),
                ..RecordInput::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("only the originator") && err.contains("origin"),
        "{err}"
    );
    let key = bravo.session.identity().signing_key().clone();
    let b = bravo.session.author().to_owned();
    let proposal = vec![
        change(
            Kind::Item,
            radar,
            "classification",
            &json!("UNCLASSIFIED"),
            now(),
            &b,
            &key,
        ),
        change(
            Kind::Item,
            radar,
            "releasable_to",
            &json!(["DE", "FR"]),
            now(),
            &b,
            &key,
        ),
    ];
    // releasable_to [] -> [DE, FR] is a narrowing: it counts from anyone.
    let bundle = hand_bundle(&bravo, &origin, &uuid::Uuid::now_v7().to_string(), proposal);
    let r = origin.session.import_bundle(&bundle, false).unwrap();
    assert_eq!(r.proposed, 1, "{r}");
    assert_eq!(
        origin
            .session
            .get(Kind::Item, radar)
            .unwrap()
            .meta
            .releasable_to,
        vec!["DE".to_owned(), "FR".to_owned()]
    );
    let p = origin.session.proposals().unwrap();
    assert_eq!(p.len(), 1);
    let audits = count(&origin.session, "SELECT count(*) FROM audit");
    origin.session.reject_proposal(p[0].seq).unwrap();
    assert!(origin.session.proposals().unwrap().is_empty());
    assert_eq!(
        origin
            .session
            .get(Kind::Item, radar)
            .unwrap()
            .meta
            .classification,
        Classification::Secret
    );
    // A second proposal, a release to the whole group, is accepted: it becomes origin's own.
    let widen = vec![change(
        Kind::Item,
        radar,
        "releasable_to",
        &json!([]),
        now(),
        &b,
        &key,
    )];
    let bundle = hand_bundle(&bravo, &origin, &uuid::Uuid::now_v7().to_string(), widen);
    assert_eq!(
        origin
            .session
            .import_bundle(&bundle, false)
            .unwrap()
            .proposed,
        1
    );
    let p = origin.session.proposals().unwrap();
    assert_eq!((p.len(), p[0].proposal), (1, "release"));
    origin.session.accept_proposal(p[0].seq).unwrap();
    let now_radar = origin.session.get(Kind::Item, radar).unwrap();
    assert!(now_radar.meta.releasable_to.is_empty());
    assert_eq!(now_radar.meta.updated_by, origin.session.author());
    let actions: Vec<String> = origin
        .session
        .store()
        .connection()
        .prepare("SELECT action FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(actions.contains(&"proposal-reject".to_owned()));
    assert!(actions.contains(&"proposal-accept".to_owned()));
    assert!(count(&origin.session, "SELECT count(*) FROM audit") > audits + 1);
    // bravo tries to decide on origin's behalf: refused.
    let err = bravo.session.accept_proposal(1).unwrap_err().to_string();
    assert!(
        err.contains("no open proposal") || err.contains("only the originator"),
        "{err}"
    );
    // The originator lowers it: it reaches the RESTRICTED member without its SECRET past, and
    // bravo, who had it, gets the downgrade.
    set_level(
        &mut origin.session,
        Kind::Item,
        radar,
        Classification::Restricted,
    );
    let to_low = send(&mut origin, &low, &ExportScope::Everything);
    let text = plaintext(&to_low, low.session.identity().age_identity());
    assert!(text.contains(&radar.to_string()));
    assert!(
        !text.contains("SECRET\\\\\\\""),
        "a SECRET-era value left: {text}"
    );
    let body: Value = serde_json::from_str(text.split_once("\n\n").unwrap().1).unwrap();
    let creation = body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "*" && c["record_id"] == radar.to_string())
        .expect("the creation row, withheld");
    assert!(creation["value"].is_null(), "{creation}");
    let r = low.session.import_bundle(&to_low, false).unwrap();
    assert!(r.refused.is_empty(), "{r}");
    let at_low = low.session.get(Kind::Item, radar).unwrap();
    assert_eq!(at_low.meta.classification, Classification::Restricted);
    assert_eq!(at_low.text("name"), Some("Radar"));
    assert_eq!(at_low.text("description"), Some("SECRET-era text"));
    let since = send(&mut origin, &bravo, &ExportScope::SinceLast);
    bravo.session.import_bundle(&since, false).unwrap();
    assert_eq!(
        bravo
            .session
            .get(Kind::Item, radar)
            .unwrap()
            .meta
            .classification,
        Classification::Restricted
    );
    // And low, who never had it whole, can relay it to bravo as it stands.
    let relay = send(&mut low, &bravo, &ExportScope::Everything);
    bravo.session.import_bundle(&relay, false).unwrap();
    assert!(content(&bravo.session).contains("Radar"));
}

#[test]
fn a_change_replayed_with_another_value_or_signed_twice_is_refused() {
    let env = Env::new();
    let mut alpha = replica_in(&env, "alpha", "FR", Classification::Secret);
    let mut mallory = replica_in(&env, "mallory", "FR", Classification::Secret);
    let mut carol = replica_in(&env, "carol", "FR", Classification::Secret);
    introduce(&mut [&mut alpha, &mut mallory, &mut carol]);
    let item = add(
        &mut alpha.session,
        Classification::Unclassified,
        &[],
        "Gallium",
    );
    let to_m = send(&mut alpha, &mallory, &ExportScope::Everything);
    let text = plaintext(&to_m, mallory.session.identity().age_identity());
    let body: Value = serde_json::from_str(text.split_once("\n\n").unwrap().1).unwrap();
    let original = body["changes"][0].clone();
    // alpha's creation with another name: the digest recomputed, the signature cannot be.
    let mut altered = original.clone();
    let value = altered["value"]
        .as_str()
        .unwrap()
        .replace("Gallium", "Forged");
    altered["value_sha256"] = json!(value_sha256(&value));
    altered["value"] = json!(value);
    let before = records_and_log(&carol.session);
    let bundle = hand_bundle(
        &mallory,
        &carol,
        &uuid::Uuid::now_v7().to_string(),
        vec![altered.clone()],
    );
    let r = carol.session.import_bundle(&bundle, false).unwrap();
    assert_eq!(r.refused.len(), 1, "{r}");
    assert!(
        r.refused[0].reason.contains("signature does not verify"),
        "{r}"
    );
    assert_eq!(records_and_log(&carol.session), before);
    // The value changed but not its digest: the bundle is refused as a whole.
    let mut lazy = original.clone();
    lazy["value"] = altered["value"].clone();
    let bundle = hand_bundle(
        &mallory,
        &carol,
        &uuid::Uuid::now_v7().to_string(),
        vec![lazy],
    );
    let err = carol
        .session
        .import_bundle(&bundle, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not match its digest"), "{err}");
    // The genuine change relayed goes in; the forged one sent again after it is still refused.
    let bundle = hand_bundle(
        &mallory,
        &carol,
        &uuid::Uuid::now_v7().to_string(),
        vec![original],
    );
    assert_eq!(
        carol
            .session
            .import_bundle(&bundle, false)
            .unwrap()
            .new_records,
        1
    );
    // mallory signs two names for the same field at the same clock (equivocation).
    let key = mallory.session.identity().signing_key().clone();
    let m = mallory.session.author().to_owned();
    let at = now();
    let first = change(
        Kind::Item,
        item,
        "name",
        &json!("Gallium (M1)"),
        at,
        &m,
        &key,
    );
    let second = change(
        Kind::Item,
        item,
        "name",
        &json!("Gallium (M2)"),
        at,
        &m,
        &key,
    );
    let bundle = hand_bundle(
        &mallory,
        &carol,
        &uuid::Uuid::now_v7().to_string(),
        vec![first],
    );
    carol.session.import_bundle(&bundle, false).unwrap();
    let before = records_and_log(&carol.session);
    let bundle = hand_bundle(
        &mallory,
        &carol,
        &uuid::Uuid::now_v7().to_string(),
        vec![second],
    );
    let r = carol.session.import_bundle(&bundle, false).unwrap();
    assert_eq!(r.refused.len(), 1, "{r}");
    assert!(
        r.refused[0].reason.contains("with another value: forged"),
        "{r}"
    );
    assert_eq!(records_and_log(&carol.session), before);
    assert_eq!(
        carol.session.get(Kind::Item, item).unwrap().text("name"),
        Some("Gallium (M1)")
    );
    // A second creation of the same record under another name is a forgery too.
    let fake = change(
        Kind::Item,
        item,
        "*",
        &json!({"classification": "UNCLASSIFIED", "releasable_to": [], "name": "Mine", "item_kind": "material"}),
        Hlc {
            wall_ms: 1,
            counter: 0,
        },
        &m,
        &key,
    );
    let bundle = hand_bundle(
        &mallory,
        &carol,
        &uuid::Uuid::now_v7().to_string(),
        vec![fake],
    );
    let r = carol.session.import_bundle(&bundle, false).unwrap();
    assert!(r.refused[0].reason.contains("second creation"), "{r}");
}

#[test]
fn a_revoked_members_changes_relayed_by_a_third_member_are_refused() {
    let env = Env::new();
    let mut alpha = replica_in(&env, "alpha", "FR", Classification::Secret);
    let mut bravo = replica_in(&env, "bravo", "FR", Classification::Secret);
    let mut carl = replica_in(&env, "carl", "FR", Classification::Secret);
    introduce(&mut [&mut alpha, &mut bravo, &mut carl]);
    alpha.session.revoke_member("carl").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let carls = add(
        &mut carl.session,
        Classification::Unclassified,
        &[],
        "Carl's item",
    );
    let to_b = send(&mut carl, &bravo, &ExportScope::Everything);
    bravo.session.import_bundle(&to_b, false).unwrap();
    let bravos = add(
        &mut bravo.session,
        Classification::Unclassified,
        &[],
        "Bravo's item",
    );
    let relay = send(&mut bravo, &alpha, &ExportScope::Everything);
    let before_log = alpha.session.store().change_log_len().unwrap();
    let r = alpha.session.import_bundle(&relay, false).unwrap();
    assert_eq!(r.new_records, 1, "{r}");
    assert_eq!(r.refused.len(), 1, "{r}");
    assert!(
        r.refused[0].reason.contains("revoked before it was made"),
        "{r}"
    );
    assert_eq!(r.refused[0].author, carl.session.author());
    assert!(
        alpha.session.get(Kind::Item, carls).is_err(),
        "merged under a revoked name"
    );
    assert!(alpha.session.get(Kind::Item, bravos).is_ok());
    assert_eq!(
        alpha.session.store().change_log_len().unwrap(),
        before_log + 1
    );
}

#[test]
fn a_bundle_id_reused_by_a_co_recipient_does_not_block_the_real_bundle() {
    let env = Env::new();
    let mut alpha = replica_in(&env, "alpha", "FR", Classification::Secret);
    let mut bravo = replica_in(&env, "bravo", "FR", Classification::Secret);
    let mut carl = replica_in(&env, "carl", "FR", Classification::Secret);
    introduce(&mut [&mut alpha, &mut bravo, &mut carl]);
    let item = add(
        &mut alpha.session,
        Classification::Unclassified,
        &[],
        "Gallium",
    );
    let real = alpha
        .session
        .export_bundle(&[to(&bravo), to(&carl)], &ExportScope::Everything)
        .unwrap();
    // carl, a co-recipient, sends bravo a bundle of his own under the same id first.
    let squat = hand_bundle(&carl, &bravo, &real.body.bundle_id, vec![]);
    bravo.session.import_bundle(&squat, false).unwrap();
    let r = bravo.session.import_bundle(&real.bytes, false).unwrap();
    assert_eq!(r.new_records, 1);
    assert!(bravo.session.get(Kind::Item, item).is_ok());
    // Replaying the real one is still refused; an id that is not a UUID is refused.
    let err = bravo
        .session
        .import_bundle(&real.bytes, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("already imported"), "{err}");
    let odd = hand_bundle(&carl, &bravo, "not-a-uuid", vec![]);
    let err = bravo
        .session
        .import_bundle(&odd, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a UUID"), "{err}");
}

#[test]
fn a_record_that_refers_to_a_higher_one_does_not_leave_below_it() {
    let env = Env::new();
    let mut alpha = replica_in(&env, "alpha", "FR", Classification::Secret);
    let mut low = replica_in(&env, "low", "FR", Classification::Restricted);
    introduce(&mut [&mut alpha, &mut low]);
    let secret = add(
        &mut alpha.session,
        Classification::Secret,
        &[],
        "Secret item",
    );
    let open = add(
        &mut alpha.session,
        Classification::Unclassified,
        &[],
        "Open item",
    );
    let link = alpha
        .session
        .add(
            Kind::Link,
            None,
            &RecordInput {
                classification: Some(Classification::Unclassified),
                releasable_to: None,
                fields: serde_json::from_value(
                    json!({"from_id": secret.to_string(), "to_id": "CN", "link_kind": "produced-in"}),
                )
                .unwrap(),
            },
        )
        .unwrap();
    let fine = alpha
        .session
        .add(
            Kind::Link,
            None,
            &RecordInput {
                classification: Some(Classification::Unclassified),
                releasable_to: None,
                fields: serde_json::from_value(
                    json!({"from_id": open.to_string(), "to_id": "CN", "link_kind": "produced-in"}),
                )
                .unwrap(),
            },
        )
        .unwrap();
    let plan = alpha
        .session
        .plan_export(&[to(&low)], &ExportScope::Everything)
        .unwrap();
    let ids: std::collections::BTreeSet<String> =
        plan.changes.iter().map(|c| c.record_id.clone()).collect();
    assert!(!ids.contains(&secret.to_string()));
    assert!(
        !ids.contains(&link.to_string()),
        "the link names the SECRET item"
    );
    assert!(ids.contains(&fine.to_string()) && ids.contains(&open.to_string()));
    assert_eq!(plan.withheld, 2);
}

#[test]
fn received_values_are_held_to_the_rules_of_a_local_edit() {
    let env = Env::new();
    let mut victim = replica_in(&env, "victim", "FR", Classification::Restricted);
    let mut mallory = replica_in(&env, "mallory", "DE", Classification::Secret);
    introduce(&mut [&mut victim, &mut mallory]);
    let key = mallory.session.identity().signing_key().clone();
    let m = mallory.session.author().to_owned();
    let id = uuid::Uuid::now_v7();
    let before = (
        records_and_log(&victim.session),
        count(&victim.session, "SELECT count(*) FROM audit"),
    );
    let attempts = [
        (
            json!({"classification": "UNCLASSIFIED", "releasable_to": [], "name": "Line\nbreak", "item_kind": "material"}),
            "one line",
        ),
        (
            json!({"classification": "UNCLASSIFIED", "releasable_to": [], "name": "Bell\u{7}", "item_kind": "material"}),
            "control character",
        ),
        (
            json!({"classification": "UNCLASSIFIED", "releasable_to": [], "name": "X", "item_kind": "spaceship"}),
            "item_kind",
        ),
        (
            json!({"classification": "UNCLASSIFIED", "releasable_to": [], "item_kind": "material"}),
            "name",
        ),
        (
            json!({"classification": "SECRET", "releasable_to": [], "name": "X", "item_kind": "material"}),
            "above your clearance",
        ),
        (
            json!({"classification": "UNCLASSIFIED", "releasable_to": ["DE"], "name": "X", "item_kind": "material"}),
            "not releasable to your Member State",
        ),
    ];
    for (values, why) in attempts {
        let c = change(Kind::Item, id, "*", &values, now(), &m, &key);
        let bundle = hand_bundle(
            &mallory,
            &victim,
            &uuid::Uuid::now_v7().to_string(),
            vec![c],
        );
        let err = victim
            .session
            .import_bundle(&bundle, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("refused") && err.contains(why), "{why}: {err}");
    }
    // A TRL out of range on an assessment, a share above 1 on a link.
    let trl = change(
        Kind::Assessment,
        uuid::Uuid::now_v7(),
        "*",
        &json!({"classification": "UNCLASSIFIED", "releasable_to": [], "subject_id": id.to_string(), "date": "2026-01-01", "trl": 12}),
        now(),
        &m,
        &key,
    );
    let bundle = hand_bundle(
        &mallory,
        &victim,
        &uuid::Uuid::now_v7().to_string(),
        vec![trl],
    );
    let err = victim
        .session
        .import_bundle(&bundle, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("trl"), "{err}");
    assert_eq!(
        (
            records_and_log(&victim.session),
            count(&victim.session, "SELECT count(*) FROM audit")
        ),
        before
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_given_as_a_bundle_is_refused_unread() {
    let env = Env::new();
    let path = env.init("f.observatory");
    let fifo = env.path("stick.obx");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let mut child = env
        .cmd()
        .args(["bundle", "import", path.to_str().unwrap(), "stick.obx"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("the import blocked on the FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(11));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a regular file"), "{err}");
    // The same for a record document, and a device.
    let out = env.run(&[
        "import",
        path.to_str().unwrap(),
        "/dev/zero",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(11),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_version_1_bundle_gets_its_own_message() {
    use std::io::Write as _;
    let env = Env::new();
    let mut alpha = replica_in(&env, "alpha", "FR", Classification::Secret);
    let mut bravo = replica_in(&env, "bravo", "FR", Classification::Secret);
    introduce(&mut [&mut alpha, &mut bravo]);
    let plain = b"observatory-bundle v1\nsignature: AAAA\n\n{}";
    let e = age::Encryptor::with_recipients(std::iter::once(
        &bravo.session.identity().recipient() as &dyn age::Recipient
    ))
    .unwrap();
    let mut out = Vec::new();
    let mut w = e.wrap_output(&mut out).unwrap();
    w.write_all(plain).unwrap();
    w.finish().unwrap();
    let err = bravo
        .session
        .import_bundle(&out, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("version 1 bundle") && err.contains("ask the sender to update"),
        "{err}"
    );
}

/// A coordinator (the Commission) and three Member States' members, all verified.
fn group_of_four(env: &Env) -> (Replica, Replica, Replica, Replica) {
    let mut coord = replica_in(env, "coordinator", "EU", Classification::Secret);
    let mut fr = replica_in(env, "francoise", "FR", Classification::Secret);
    let mut mallory = replica_in(env, "mallory", "DE", Classification::Secret);
    let mut it = replica_in(env, "iris", "IT", Classification::Secret);
    introduce(&mut [&mut coord, &mut fr, &mut mallory, &mut it]);
    (coord, fr, mallory, it)
}

/// A round on one technology, opened by `coord`.
fn open_round(coord: &mut Replica, title: &str, technology: uuid::Uuid) -> uuid::Uuid {
    coord
        .session
        .open_round(&observatory::service::consultation::RoundSpec {
            title: title.into(),
            deadline: "2099-01-01".into(),
            technology_ids: vec![technology],
            ..Default::default()
        })
        .unwrap()
}

/// `member` answers a TRL on `technology` in `round` and sends it to `coord`.
fn answer_and_send(
    member: &mut Replica,
    coord: &mut Replica,
    round: uuid::Uuid,
    technology: uuid::Uuid,
    trl: i64,
) -> uuid::Uuid {
    let answer = member
        .session
        .answer_round(
            round,
            &observatory::service::consultation::AnswerSpec {
                subject: technology,
                trl: Some(trl),
                ..Default::default()
            },
        )
        .unwrap();
    let b = send(member, coord, &ExportScope::SinceLast);
    coord.session.import_bundle(&b, false).unwrap();
    answer
}

/// Issue 17: a member cannot put words in another Member State's mouth, close the
/// coordinator's round, or rewrite a version of the list, whatever they sign.
#[test]
fn a_member_cannot_change_anothers_answer_close_the_round_or_rewrite_the_list() {
    use observatory::model::reference::reference_technology_id;
    use observatory::service::consultation::AnswerSpec;
    let env = Env::new();
    let (mut coord, mut fr, mut mallory, mut it) = group_of_four(&env);
    let quantum = reference_technology_id("quantum-computing");
    let round = open_round(&mut coord, "Round", quantum);
    for member in [&mut fr, &mut mallory] {
        let b = send(&mut coord, member, &ExportScope::SinceLast);
        member.session.import_bundle(&b, false).unwrap();
    }
    let answer = answer_and_send(&mut fr, &mut coord, round, quantum, 3);
    // Mallory signs, under her own name, changes to FR's answer, the round and version 1.
    let m = mallory.session.author().to_owned();
    let key = mallory.session.identity().signing_key().clone();
    let version_one = observatory::model::listing::version_one_id();
    let forged = vec![
        change(Kind::Assessment, answer, "trl", &json!(9), now(), &m, &key),
        change(
            Kind::Assessment,
            answer,
            "deleted",
            &json!(true),
            now(),
            &m,
            &key,
        ),
        change(
            Kind::Round,
            round,
            "status",
            &json!("closed"),
            now(),
            &m,
            &key,
        ),
        change(
            Kind::Round,
            round,
            "deadline",
            &json!("2020-01-01"),
            now(),
            &m,
            &key,
        ),
        change(
            Kind::ListVersion,
            version_one,
            "entries",
            &json!("[]"),
            now(),
            &m,
            &key,
        ),
    ];
    let bundle = hand_bundle(&mallory, &coord, &uuid::Uuid::now_v7().to_string(), forged);
    let r = coord.session.import_bundle(&bundle, false).unwrap();
    assert_eq!(r.changed, 0, "{r}");
    let view = coord.session.round_view(round).unwrap();
    assert_eq!(view.round.status, "open");
    assert_eq!(view.round.deadline, "2099-01-01");
    let t = &view.technologies[0];
    assert_eq!(
        (t.answers, t.trl.median),
        (1, Some(3.0)),
        "FR's answer stands"
    );
    let v1 = coord.session.get(Kind::ListVersion, version_one).unwrap();
    assert_eq!(
        observatory::model::listing::parse_entries(v1.text("entries").unwrap())
            .unwrap()
            .len(),
        42
    );
    // Mallory answers under her own key, labelled as Italy's: it counts for Germany.
    let own = mallory
        .session
        .answer_round(
            round,
            &AnswerSpec {
                subject: quantum,
                trl: Some(8),
                ..AnswerSpec::default()
            },
        )
        .unwrap();
    mallory
        .session
        .edit(
            Kind::Assessment,
            own,
            &RecordInput {
                fields: serde_json::from_value(json!({"member_state": "IT"})).unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap();
    let b = send(&mut mallory, &coord, &ExportScope::SinceLast);
    coord.session.import_bundle(&b, false).unwrap();
    let view = coord.session.round_view(round).unwrap();
    let t = &view.technologies[0];
    assert_eq!(t.member_states, vec!["DE", "FR"]);
    assert_eq!(t.missing, vec!["IT"]);
    // Her changes stay in the log as proposals nobody applied; the file verifies.
    assert!(coord.session.verify().unwrap().is_ok());
    let _ = &mut it;
    // A proposal to revise the list: what it proposes is its author's; its decision is anyone's.
    let proposal = coord
        .session
        .add_proposal(&observatory::service::consultation::ProposalSpec {
            action: "remove".into(),
            technology: Some(quantum),
            rationale: Some("no longer critical".into()),
            ..Default::default()
        })
        .unwrap();
    let b = send(&mut coord, &mallory, &ExportScope::SinceLast);
    mallory.session.import_bundle(&b, false).unwrap();
    let err = mallory
        .session
        .edit(
            Kind::Proposal,
            proposal,
            &RecordInput {
                fields: serde_json::from_value(json!({"action": "add"})).unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("only the member who made the proposal"),
        "{err}"
    );
    let forged = vec![
        change(
            Kind::Proposal,
            proposal,
            "technology_id",
            &json!(reference_technology_id("ai-computing").to_string()),
            now(),
            &m,
            &key,
        ),
        change(
            Kind::Proposal,
            proposal,
            "status",
            &json!("rejected"),
            now(),
            &m,
            &key,
        ),
    ];
    let bundle = hand_bundle(&mallory, &coord, &uuid::Uuid::now_v7().to_string(), forged);
    coord.session.import_bundle(&bundle, false).unwrap();
    let p = coord.session.get(Kind::Proposal, proposal).unwrap();
    assert_eq!(p.text("technology_id"), Some(quantum.to_string().as_str()));
    assert_eq!(
        p.text("status"),
        Some("rejected"),
        "a decision anyone may take"
    );
}

/// Issue 17, the review's attacks: a `round_id` slipped onto someone's plain assessment, a
/// "consolidated" assessment that its round's coordinator did not write, a list version that
/// skips numbers, a record document that rewrites an answer, and a merge that would rewrite
/// another member's answer.
#[test]
fn forged_consultation_records_do_not_count() {
    use observatory::model::listing::version_one_id;
    use observatory::model::reference::reference_technology_id;
    use observatory::service::ImportDocument;
    let env = Env::new();
    let (mut coord, mut fr, mallory, _) = group_of_four(&env);
    let quantum = reference_technology_id("quantum-computing");
    let round = open_round(&mut coord, "Round", quantum);
    let plain = fr
        .session
        .add(
            Kind::Assessment,
            None,
            &RecordInput {
                fields: serde_json::from_value(
                    json!({"subject_id": quantum.to_string(), "date": "2026-01-01", "trl": 5}),
                )
                .unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap();
    let b = send(&mut coord, &fr, &ExportScope::SinceLast);
    fr.session.import_bundle(&b, false).unwrap();
    let b = send(&mut fr, &coord, &ExportScope::SinceLast);
    coord.session.import_bundle(&b, false).unwrap();
    let m = mallory.session.author().to_owned();
    let key = mallory.session.identity().signing_key().clone();
    let forged_consolidation = uuid::Uuid::now_v7();
    let forged_version = uuid::Uuid::now_v7();
    let changes = vec![
        // Turn FR's plain assessment into an answer of the round (hers, for DE to "own").
        change(
            Kind::Assessment,
            plain,
            "round_id",
            &json!(round.to_string()),
            now(),
            &m,
            &key,
        ),
        change(
            Kind::Assessment,
            plain,
            "assessment_kind",
            &json!("answer"),
            now(),
            &m,
            &key,
        ),
        // Her own "consolidated" assessment of the round.
        change(
            Kind::Assessment,
            forged_consolidation,
            "*",
            &json!({"classification": "UNCLASSIFIED", "releasable_to": [],
                    "subject_id": quantum.to_string(), "date": "2026-02-01", "trl": 9,
                    "round_id": round.to_string(), "assessment_kind": "consolidated"}),
            now(),
            &m,
            &key,
        ),
        // A "version 100000" of the list.
        change(
            Kind::ListVersion,
            forged_version,
            "*",
            &json!({"classification": "UNCLASSIFIED", "releasable_to": [], "title": "Forged",
                    "number": 100_000, "date": "2026-02-01", "entries": "[]",
                    "previous_id": version_one_id().to_string()}),
            now(),
            &m,
            &key,
        ),
    ];
    let bundle = hand_bundle(&mallory, &coord, &uuid::Uuid::now_v7().to_string(), changes);
    coord.session.import_bundle(&bundle, false).unwrap();
    let a = coord.session.get(Kind::Assessment, plain).unwrap();
    assert!(
        a.text("round_id").is_none() && !a.is_round_answer(),
        "{a:?}"
    );
    let view = coord.session.round_view(round).unwrap();
    assert!(view.consolidated.is_empty(), "not the coordinator's");
    assert_eq!(view.technologies[0].answers, 0);
    let versions = coord.session.list_versions().unwrap();
    let forged = versions.iter().find(|v| v.id == forged_version).unwrap();
    assert!(
        forged.problem.as_deref().unwrap().contains("ignored"),
        "{forged:?}"
    );
    assert_eq!(
        coord.session.current_list().unwrap().0,
        1,
        "version 1 stays in force"
    );
    // A record document cannot rewrite FR's answer on her own file, nor bring in a round.
    let answer = answer_and_send(&mut fr, &mut coord, round, quantum, 3);
    let doc = |records: Value| -> ImportDocument {
        serde_json::from_value(
            json!({"format": "observatory-records", "version": 1, "records": records}),
        )
        .unwrap()
    };
    let before = records_and_log(&coord.session);
    let err = coord
        .session
        .import_records(
            &doc(json!([{"kind": "assessment", "id": answer.to_string(), "trl": 9}])),
            "doc",
            false,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("only by the member who gave it"), "{err}");
    let err = coord
        .session
        .import_records(
            &doc(json!([{"kind": "round", "title": "Mine", "deadline": "2099-01-01"}])),
            "doc",
            false,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be imported"), "{err}");
    assert_eq!(records_and_log(&coord.session), before);
    // Nor can a merge of two technologies rewrite her answer's subject.
    let tech = |s: &mut Session, name: &str| {
        s.add(
            Kind::Technology,
            None,
            &RecordInput {
                fields: serde_json::from_value(json!({"name": name})).unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap()
    };
    let twin = tech(&mut coord.session, "Quantum computers");
    let other = tech(&mut coord.session, "Quantum computer");
    let second = open_round(&mut coord, "Second", other);
    let b = send(&mut coord, &fr, &ExportScope::SinceLast);
    fr.session.import_bundle(&b, false).unwrap();
    answer_and_send(&mut fr, &mut coord, second, other, 4);
    let err = coord
        .session
        .merge(Kind::Technology, twin, other)
        .unwrap_err()
        .to_string();
    assert!(err.contains("merge refused"), "{err}");
}

/// Issue 18: the treaties' blocs cannot be rewritten, and no member's bloc stands in for a
/// built-in one, whatever they sign.
#[test]
fn a_member_cannot_move_china_into_the_eu_bloc() {
    use observatory::model::bloc::built_in_id;
    let env = Env::new();
    let mut victim = replica_in(&env, "victim", "FR", Classification::Secret);
    let mut mallory = replica_in(&env, "mallory", "DE", Classification::Secret);
    introduce(&mut [&mut victim, &mut mallory]);
    let m = mallory.session.author().to_owned();
    let key = mallory.session.identity().signing_key().clone();
    let eu = built_in_id("EU");
    let mut countries = observatory::model::bloc::built_in_countries("EU");
    countries.push("CN".into());
    countries.sort();
    let shadow = uuid::Uuid::now_v7();
    let forged = vec![
        change(
            Kind::Bloc,
            eu,
            "countries",
            &json!(countries),
            now(),
            &m,
            &key,
        ),
        change(
            Kind::Bloc,
            shadow,
            "*",
            &json!({"classification": "UNCLASSIFIED", "releasable_to": [], "name": "like-minded",
                    "countries": ["CN", "RU"]}),
            now(),
            &m,
            &key,
        ),
    ];
    let bundle = hand_bundle(&mallory, &victim, &uuid::Uuid::now_v7().to_string(), forged);
    victim.session.import_bundle(&bundle, false).unwrap();
    let record = victim.session.get(Kind::Bloc, eu).unwrap();
    assert!(
        !record.texts("countries").contains(&"CN".to_owned()),
        "{record:?}"
    );
    let (bloc, _) = victim.session.bloc("EU").unwrap();
    assert!(!bloc.contains("CN") && bloc.countries.len() == 27);
    let (like, _) = victim.session.bloc("like-minded").unwrap();
    assert!(
        like.contains("JP") && !like.contains("CN"),
        "the built-in one, not hers"
    );
    // On her own file: the EU bloc cannot be edited, nor a bloc named "eu" made.
    let err = mallory
        .session
        .edit(
            Kind::Bloc,
            eu,
            &RecordInput {
                fields: serde_json::from_value(json!({"countries": ["CN"]})).unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("never changes"), "{err}");
    let err = mallory
        .session
        .add(
            Kind::Bloc,
            None,
            &RecordInput {
                fields: serde_json::from_value(json!({"name": "eu", "countries": ["CN"]})).unwrap(),
                ..RecordInput::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("built-in bloc"), "{err}");
}

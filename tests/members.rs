//! The keyring: member cards added, verified, replaced, revoked; altered cards refused (issue
//! 14, part 3); version 1 cards to re-verify; the report's distribution.

use observatory::crypto::{CardVersion, Identity, MemberCard, Profile};
use observatory::model::Classification;
use observatory::report::{self, ReportSource};
use observatory::service::{ServiceError, Session};
use observatory::store::OpenMode;

use crate::util::{
    Env, card_line, have_python_cryptography, insert_v1_member, set_card_line, v1_card,
    v1_fingerprint_of, v2_fingerprint_of,
};

fn card(name: &str, state: &str, clearance: Classification) -> String {
    Identity::generate(Profile::new(name, state, clearance).unwrap())
        .card()
        .to_string()
}

#[test]
fn cards_are_added_verified_and_revoked_with_clear_refusals() {
    let env = Env::new();
    let path = env.path("k.observatory");
    let mut session = Session::create(&path, env.identity()).unwrap();
    let anna = card("Anna Berg", "SE", Classification::Secret);
    let added = session.add_member(&anna).unwrap();
    assert_eq!(
        (added.name.as_str(), added.status()),
        ("Anna Berg", "unverified")
    );
    assert_eq!(added.fingerprint.len(), 40);
    // The same card again, one's own card, a damaged card.
    let again = session.add_member(&anna).unwrap_err().to_string();
    assert!(again.contains("in the keyring already"), "{again}");
    let own = session.identity().card().to_string();
    assert!(
        session
            .add_member(&own)
            .unwrap_err()
            .to_string()
            .contains("your own card")
    );
    // Anna's keys with another card's fingerprint line: altered.
    let other = card("Other", "FR", Classification::Secret);
    let line = |c: &str| {
        c.lines()
            .find(|l| l.starts_with("fingerprint:"))
            .unwrap()
            .to_owned()
    };
    let tampered = anna.replace(&line(&anna), &line(&other));
    let err = session.add_member(&tampered).unwrap_err().to_string();
    assert!(err.contains("fingerprint does not match"), "{err}");
    assert!(
        session
            .add_member("hello")
            .unwrap_err()
            .to_string()
            .contains("not an Observatory member card")
    );
    // Found by name or by the start of the fingerprint.
    let by_print = session
        .find_member(&added.grouped_fingerprint()[..9])
        .unwrap();
    assert_eq!(by_print.fingerprint, added.fingerprint);
    assert!(matches!(
        session.find_member("Nobody"),
        Err(ServiceError::NoMember(_))
    ));
    let verified = session.verify_member("anna berg").unwrap();
    assert_eq!(verified.status(), "verified");
    let revoked = session.revoke_member(&added.fingerprint).unwrap();
    assert_eq!(revoked.status(), "revoked");
    let err = session.verify_member("Anna Berg").unwrap_err().to_string();
    assert!(err.contains("a revocation is final"), "{err}");
    // Audited, and kept in the file.
    let actions: Vec<String> = session
        .store()
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in ["member-add", "member-verify", "member-revoke"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
    session.save().unwrap();
    drop(session);
    let reopened = Session::open(
        &path,
        env.identity(),
        observatory::store::OpenMode::ReadOnly,
    )
    .unwrap();
    assert_eq!(reopened.members().unwrap()[0].status(), "revoked");
}

#[test]
fn member_commands_and_the_reports_distribution() {
    let env = Env::new();
    let path = env.init("m.observatory");
    let f = path.to_str().unwrap();
    std::fs::write(
        env.path("anna.card"),
        card("Anna Berg", "SE", Classification::Secret),
    )
    .unwrap();
    std::fs::write(
        env.path("ben.card"),
        card("Ben Roth", "DE", Classification::Restricted),
    )
    .unwrap();
    std::fs::write(
        env.path("bad.card"),
        "Observatory member card v1\nname: x\n",
    )
    .unwrap();
    let out = env.ok(&["member", "add", f, "anna.card"]);
    assert!(
        out.contains("unverified") && out.contains("Anna Berg"),
        "{out}"
    );
    env.ok(&["member", "add", f, "ben.card"]);
    env.fails(&["member", "add", f, "bad.card"], 11);
    env.fails(&["member", "add", f, "anna.card"], 11);
    env.fails(&["member", "verify", f, "Carla"], 12);
    env.ok(&["member", "verify", f, "Anna Berg"]);
    env.ok(&["member", "verify", f, "ben roth"]);
    let list = env.ok(&["member", "list", f, "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(list[0]["verified_at"].is_string());
    let table = env.ok(&["member", "list", f]);
    assert!(table.contains("verified  SE  SECRET  Anna Berg"), "{table}");
    // A RESTRICTED report goes to both; a SECRET one only to Anna (Ben is cleared to RESTRICTED).
    let mut session = Session::open(
        &path,
        env.identity(),
        observatory::store::OpenMode::ReadWrite,
    )
    .unwrap();
    let input = |level, fields: serde_json::Value| observatory::service::RecordInput {
        classification: Some(level),
        fields: serde_json::from_value(fields).unwrap(),
        ..Default::default()
    };
    session
        .add(
            observatory::model::Kind::Item,
            None,
            &input(
                Classification::Restricted,
                serde_json::json!({"name": "X", "item_kind": "material"}),
            ),
        )
        .unwrap();
    let r = report::build(&session, &ReportSource::Now, None, None).unwrap();
    assert_eq!(r.distribution.len(), 3, "{:?}", r.distribution);
    session
        .add(
            observatory::model::Kind::Item,
            None,
            &input(
                Classification::Secret,
                serde_json::json!({"name": "Y", "item_kind": "material"}),
            ),
        )
        .unwrap();
    let r = report::build(&session, &ReportSource::Now, None, None).unwrap();
    assert_eq!(r.distribution.len(), 2, "{:?}", r.distribution);
    assert!(r.distribution[1].starts_with("Anna Berg (SE)"));
    session.save().unwrap();
    drop(session);
    env.ok(&["member", "revoke", f, "Anna Berg"]);
    let session = Session::open(
        &path,
        env.identity(),
        observatory::store::OpenMode::ReadOnly,
    )
    .unwrap();
    let r = report::build(&session, &ReportSource::Now, None, None).unwrap();
    assert_eq!(r.distribution.len(), 1, "revoked members get nothing");
}

fn identity(name: &str, state: &str, clearance: Classification) -> Identity {
    Identity::generate(Profile::new(name, state, clearance).unwrap())
}

/// A new file; its keyring is what the attacks below aim at.
fn keyring(env: &Env) -> Session {
    Session::create(&env.path("victim.observatory"), env.identity()).unwrap()
}

/// Adding `text` is refused with a message containing `expected`, and the keyring and audit
/// log are unchanged.
fn assert_refused(session: &mut Session, text: &str, expected: &str) {
    let members = session.members().unwrap();
    let audit = session.store().audit_entries(None).unwrap().len();
    let err = session.add_member(text).unwrap_err();
    assert!(matches!(err, ServiceError::Invalid(_)), "{err:?}");
    let err = err.to_string();
    assert!(err.contains(expected), "{expected:?} in {err}");
    assert_eq!(session.members().unwrap(), members, "keyring unchanged");
    assert_eq!(
        session.store().audit_entries(None).unwrap().len(),
        audit,
        "nothing audited"
    );
}

const ALTERED: &str = "card altered or damaged";

#[test]
fn altered_card_clearance_raised_is_refused() {
    let env = Env::new();
    let mut session = keyring(&env);
    let card = identity("Ben Roth", "DE", Classification::Restricted)
        .card()
        .to_string();
    let raised = set_card_line(&card, "clearance", "TOP-SECRET");
    assert_refused(&mut session, &raised, ALTERED);
    assert!(session.members().unwrap().is_empty());
}

#[test]
fn altered_card_name_changed_is_refused() {
    let env = Env::new();
    let mut session = keyring(&env);
    let card = identity("Ben Roth", "DE", Classification::Secret)
        .card()
        .to_string();
    assert_refused(
        &mut session,
        &set_card_line(&card, "name", "Anna Berg"),
        ALTERED,
    );
}

#[test]
fn altered_card_member_state_changed_is_refused() {
    let env = Env::new();
    let mut session = keyring(&env);
    let card = identity("Ben Roth", "DE", Classification::Secret)
        .card()
        .to_string();
    assert_refused(
        &mut session,
        &set_card_line(&card, "member-state", "FR"),
        ALTERED,
    );
}

#[test]
fn altered_card_key_swapped_is_refused() {
    let env = Env::new();
    let mut session = keyring(&env);
    let anna = identity("Anna Berg", "SE", Classification::Secret)
        .card()
        .to_string();
    let mallory = identity("Mallory", "SE", Classification::Secret)
        .card()
        .to_string();
    for key in ["age-recipient", "signing-key"] {
        let swapped = set_card_line(&anna, key, &card_line(&mallory, key));
        // The fingerprint line recomputed the version 1 way, over the keys only.
        let v1_way = set_card_line(&swapped, "fingerprint", &v1_fingerprint_of(&swapped));
        assert_refused(&mut session, &v1_way, ALTERED);
        // Recomputed the version 2 way, the signature (by Anna's key, over her keys) fails.
        let v2_way = set_card_line(&swapped, "fingerprint", &v2_fingerprint_of(&swapped));
        assert_refused(&mut session, &v2_way, "signature does not verify");
    }
}

#[test]
fn altered_card_with_profile_and_fingerprint_recomputed_fails_the_self_signature() {
    let env = Env::new();
    let mut session = keyring(&env);
    let card = identity("Ben Roth", "DE", Classification::Restricted)
        .card()
        .to_string();
    // An attacker without Ben's private key raises the clearance and recomputes the
    // fingerprint from the documented format: only the signature is left to catch it.
    let raised = set_card_line(&card, "clearance", "TOP-SECRET");
    let forged = set_card_line(&raised, "fingerprint", &v2_fingerprint_of(&raised));
    assert_eq!(
        forged.parse::<MemberCard>(),
        Err(observatory::crypto::CardError::BadSignature)
    );
    assert_refused(&mut session, &forged, "signature does not verify");
    // Another signature (Mallory's, over the forged bytes) does not help either.
    let mallory = identity("Mallory", "DE", Classification::TopSecret).card();
    let resigned = set_card_line(&forged, "signature", &mallory.signature_base64().unwrap());
    assert_refused(&mut session, &resigned, "signature does not verify");
}

#[test]
fn a_card_checks_out_with_pythons_cryptography_as_documented() {
    if !have_python_cryptography() {
        return;
    }
    // The checker is the one in the card module's docs, run as it stands there.
    let source = include_str!("../src/crypto/card.rs");
    let script: String = source
        .lines()
        .skip_while(|l| l.trim() != "//! ```python")
        .skip(1)
        .take_while(|l| l.trim() != "//! ```")
        .map(|l| {
            let l = l.strip_prefix("//!").unwrap();
            format!("{}\n", l.strip_prefix(' ').unwrap_or(l))
        })
        .collect();
    assert!(script.contains("Ed25519PublicKey"), "{script}");
    let env = Env::new();
    std::fs::write(env.path("check.py"), &script).unwrap();
    let run = |text: &str| {
        std::fs::write(env.path("card.txt"), text).unwrap();
        std::process::Command::new("python3")
            .arg(env.path("check.py"))
            .arg(env.path("card.txt"))
            .output()
            .unwrap()
    };
    let card = identity("Zoë Ó Briain", "IE", Classification::Confidential).card();
    let out = run(&card.to_string());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "card fingerprint: {}\nkey id: {}\n",
            card.fingerprint(),
            card.key_id()
        )
    );
    let raised = set_card_line(&card.to_string(), "clearance", "TOP-SECRET");
    assert!(!run(&raised).status.success(), "python refuses it too");
    let forged = set_card_line(&raised, "fingerprint", &v2_fingerprint_of(&raised));
    let out = run(&forged);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidSignature"));
}

#[test]
fn a_version_1_card_in_the_keyring_shows_re_verify_and_cannot_be_verified() {
    let env = Env::new();
    let path = env.path("old.observatory");
    let mut session = Session::create(&path, env.identity()).unwrap();
    let ben = identity("Ben Roth", "DE", Classification::Secret);
    // Verified before card version 2.
    insert_v1_member(&session, &ben, true);
    let m = session.find_member("Ben Roth").unwrap();
    assert_eq!((m.status(), m.card_version), ("re-verify", 1));
    assert_eq!(m.fingerprint, ben.card().author_id(), "key id unchanged");
    assert_eq!(m.card_fingerprint, None);
    assert_eq!(
        m.card.parse::<MemberCard>().unwrap().version(),
        CardVersion::V1
    );
    // Not trusted: not among the senders whose bundles are applied.
    let trusted = session
        .store_mut()
        .dry_run("x", |w| w.verified_senders())
        .unwrap();
    assert!(trusted.is_empty(), "{trusted:?}");
    let err = session.verify_member("Ben Roth").unwrap_err().to_string();
    assert!(
        err.contains("version 1 card") && err.contains("Ben Roth for a new card"),
        "{err}"
    );
    assert!(err.contains("`observatory card`"), "{err}");
    // A version 1 card is not added anew either, and the same old card is there already.
    assert_refused(
        &mut session,
        &v1_card(&identity("Old Card", "BE", Classification::Secret)),
        "version 1 card",
    );
    assert_refused(
        &mut session,
        &v1_card(&ben),
        "in the keyring already (re-verify)",
    );
    session.save().unwrap();
    drop(session);
    // The command line says the same.
    let f = path.to_str().unwrap();
    let list = env.ok(&["member", "list", f]);
    assert!(list.contains("re-verify  DE  SECRET  Ben Roth"), "{list}");
    assert!(list.contains("version 1, ask for a new card"), "{list}");
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["member", "list", f, "--format", "json"])).unwrap();
    assert_eq!(json[0]["status"], "re-verify");
    assert_eq!(json[0]["card_version"], 1);
    assert!(
        json[0]["verified_at"].is_string(),
        "kept, but no longer counts"
    );
    let err = env.fails(&["member", "verify", f, "Ben Roth"], 11);
    assert!(err.contains("Ben Roth for a new card"), "{err}");
    // Ben's version 2 card replaces it: unverified, then verified again.
    std::fs::write(env.path("ben.card"), ben.card().to_string()).unwrap();
    let out = env.ok(&["member", "add", f, "ben.card"]);
    assert!(out.contains("replaced the card of Ben Roth"), "{out}");
    let mut session = Session::open(&path, env.identity(), OpenMode::ReadWrite).unwrap();
    let m = session.find_member("Ben Roth").unwrap();
    assert_eq!((m.status(), m.card_version), ("unverified", 2));
    assert_eq!(m.verified_at, None);
    let m = session.verify_member("Ben Roth").unwrap();
    assert_eq!(m.status(), "verified");
    let trusted = session
        .store_mut()
        .dry_run("x", |w| w.verified_senders())
        .unwrap();
    assert_eq!(trusted, [ben.card().author_id()]);
}

#[test]
fn a_new_card_for_a_changed_clearance_replaces_the_old_one_and_needs_verification_again() {
    let env = Env::new();
    let mut session = keyring(&env);
    let ana = identity("Ana Silva", "PT", Classification::Restricted);
    let old_card = ana.card();
    let added = session.add_member(&old_card.to_string()).unwrap();
    session.verify_member("Ana Silva").unwrap();
    // Ana is cleared to SECRET: same keys, new card, new fingerprint.
    let ana = ana.with_profile(Profile::new("Ana Silva", "PT", Classification::Secret).unwrap());
    let new_card = ana.card();
    assert_eq!(new_card.author_id(), old_card.author_id());
    assert_ne!(new_card.fingerprint(), old_card.fingerprint());
    let done = session.add_member_card(&new_card.to_string()).unwrap();
    let replaced = done.replaced.unwrap();
    assert_eq!(
        (replaced.clearance, replaced.status()),
        (Classification::Restricted, "verified")
    );
    let m = done.member;
    assert_eq!(m.fingerprint, added.fingerprint, "the same member");
    assert_eq!(
        (m.clearance, m.status()),
        (Classification::Secret, "unverified")
    );
    assert_eq!(
        m.grouped_card_fingerprint().as_deref(),
        Some(new_card.fingerprint().as_str())
    );
    assert_eq!(session.members().unwrap().len(), 1);
    let entry = session
        .store()
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .rfind(|e| e.action == "member-card-replaced")
        .expect("audited");
    let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(detail["old"]["clearance"], "RESTRICTED");
    assert_eq!(detail["new"]["clearance"], "SECRET");
    assert_eq!(detail["new"]["card_fingerprint"], new_card.fingerprint());
    // The same card again is in the keyring already.
    assert_refused(
        &mut session,
        &new_card.to_string(),
        "in the keyring already",
    );
    // Verified again, with the new fingerprint only.
    let err = session
        .verify_member_confirming("Ana Silva", Some(&old_card.fingerprint()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not verified"), "{err}");
    let m = session
        .verify_member_confirming("ana silva", Some(&new_card.fingerprint().to_lowercase()))
        .unwrap();
    assert_eq!(m.status(), "verified");
    // A revoked member stays revoked: a new card for the same keys is refused.
    session.revoke_member("Ana Silva").unwrap();
    let ana = ana.with_profile(Profile::new("Ana Silva", "PT", Classification::TopSecret).unwrap());
    assert_refused(
        &mut session,
        &ana.card().to_string(),
        "a revocation is final",
    );
    assert_eq!(session.members().unwrap()[0].status(), "revoked");
}

#[test]
fn member_verify_audits_name_member_state_clearance_and_fingerprint() {
    let env = Env::new();
    let mut session = keyring(&env);
    let card = identity("Anna Berg", "SE", Classification::Secret).card();
    session.add_member(&card.to_string()).unwrap();
    session.verify_member("Anna Berg").unwrap();
    let entry = session
        .store()
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .rfind(|e| e.action == "member-verify")
        .expect("audited");
    assert_eq!(entry.author, session.author(), "who confirmed them");
    let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(detail["name"], "Anna Berg");
    assert_eq!(detail["member_state"], "SE");
    assert_eq!(detail["clearance"], "SECRET");
    assert_eq!(detail["card_fingerprint"], card.fingerprint());
    assert_eq!(detail["fingerprint"], card.key_id());
}

#[test]
fn member_verify_with_a_wrong_fingerprint_exits_11_and_a_right_one_verifies() {
    let env = Env::new();
    let path = env.init("v.observatory");
    let f = path.to_str().unwrap();
    let anna = identity("Anna Berg", "SE", Classification::Secret).card();
    let other = identity("Anna Berg", "SE", Classification::Secret).card();
    std::fs::write(env.path("anna.card"), anna.to_string()).unwrap();
    env.ok(&["member", "add", f, "anna.card"]);
    let err = env.fails(
        &[
            "member",
            "verify",
            f,
            "Anna Berg",
            "--fingerprint",
            &other.fingerprint(),
        ],
        11,
    );
    assert!(err.contains("not verified"), "{err}");
    let list = env.ok(&["member", "list", f]);
    assert!(list.contains("unverified"), "{list}");
    let out = env.ok(&[
        "member",
        "verify",
        f,
        "Anna Berg",
        "--fingerprint",
        &anna.fingerprint(),
    ]);
    for shown in [
        "Anna Berg",
        "SE",
        "SECRET",
        anna.fingerprint().as_str(),
        "you confirmed",
    ] {
        assert!(out.contains(shown), "{shown:?} in {out}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["member", "list", f, "--format", "json"])).unwrap();
    assert_eq!(json[0]["status"], "verified");
    assert_eq!(
        json[0]["card_fingerprint"],
        anna.fingerprint().replace(' ', "")
    );
    assert_eq!(json[0]["fingerprint"], anna.author_id());
}

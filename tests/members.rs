//! The keyring: member cards added, verified, revoked; refused cards; the report's distribution.

use observatory::crypto::{Identity, Profile};
use observatory::model::Classification;
use observatory::report::{self, ReportSource};
use observatory::service::{ServiceError, Session};

use crate::util::Env;

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

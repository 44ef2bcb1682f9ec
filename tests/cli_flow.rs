//! The command line as a user drives it.

use serde_json::Value;

use crate::util::Env;

#[test]
fn keygen_card_init_add_edit_delete_list_info_verify() {
    let env = Env::new();
    let id = env.path("new.identity");
    let card = env.ok(&[
        "keygen",
        "--out",
        id.to_str().unwrap(),
        "--name",
        "Piet de Vries",
        "--member-state",
        "nl",
        "--clearance",
        "confidential",
        "--work-factor",
        "10",
    ]);
    assert!(card.starts_with("Observatory member card v2\nname: Piet de Vries\nmember-state: NL\nclearance: CONFIDENTIAL\n"), "{card}");
    assert!(card.contains("age-recipient: age1") && card.contains("fingerprint: "));
    assert!(card.contains("\nsignature: "), "self-signed: {card}");
    let again = env.ok(&["card", "--identity", id.to_str().unwrap()]);
    assert_eq!(card, again, "card prints the same card again");
    let json: Value = serde_json::from_str(&env.ok(&[
        "card",
        "--identity",
        id.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["clearance"], "CONFIDENTIAL");
    assert_eq!(json["version"], 2);
    // Refuses to overwrite an identity.
    env.fails(
        &[
            "keygen",
            "--out",
            id.to_str().unwrap(),
            "--name",
            "X",
            "--member-state",
            "NL",
            "--work-factor",
            "10",
        ],
        10,
    );

    let file = env.init("reg.observatory");
    let f = file.to_str().unwrap();
    let list: Value =
        serde_json::from_str(&env.ok(&["list", f, "technology", "--format", "json"])).unwrap();
    assert_eq!(
        list["records"].as_array().unwrap().len(),
        42,
        "the EU 2023 list is there from the start"
    );
    assert_eq!(list["classification"], "UNCLASSIFIED");

    let tech = env.ok(&[
        "add",
        f,
        "technology",
        "--name",
        "GaN amplifiers",
        "--area",
        "semiconductors",
        "--domains",
        "defence,space",
        "--classification",
        "SECRET",
    ]);
    let tech = tech.trim();
    let item = env.ok(&[
        "add",
        f,
        "item",
        "--json",
        r#"{"name": "Gallium", "item_kind": "material"}"#,
    ]);
    let item = item.trim();
    env.ok(&[
        "add",
        f,
        "link",
        "--from-id",
        item,
        "--to-id",
        "CN",
        "--link-kind",
        "produced-in",
        "--share",
        "93.8%",
        "--year",
        "2023",
    ]);
    env.ok(&[
        "add",
        f,
        "assessment",
        "--set",
        &format!("subject_id={tech}"),
        "--date",
        "2026-01-31",
        "--trl",
        "6",
    ]);
    let out = env.ok(&[
        "edit",
        f,
        "technology",
        tech,
        "--description",
        "AESA radars",
        "--dual-use",
        "yes",
    ]);
    assert!(out.contains("2 value(s) changed"), "{out}");

    let table = env.ok(&["list", f, "technology"]);
    assert!(
        table.starts_with("== SECRET UE/EU SECRET ==\n"),
        "banner on top: {table}"
    );
    assert!(
        table.trim_end().ends_with("== SECRET UE/EU SECRET =="),
        "banner at the bottom"
    );
    assert!(table.contains("GaN amplifiers") && table.contains("43 technology(s)"));

    let info: Value = serde_json::from_str(&env.ok(&["info", f, "--format", "json"])).unwrap();
    assert_eq!(info["highest_classification"], "SECRET");
    assert_eq!(info["schema_version"], observatory::store::SCHEMA_VERSION);
    assert_eq!(info["counts"]["link"]["live"], 1);
    env.ok(&["delete", f, "technology", tech]);
    let info: Value = serde_json::from_str(&env.ok(&["info", f, "--format", "json"])).unwrap();
    assert_eq!(info["counts"]["technology"]["deleted"], 1);
    assert_eq!(
        info["highest_classification"], "UNCLASSIFIED",
        "deleted records do not count"
    );
    let verify = env.ok(&["verify", f]);
    assert!(verify.contains("audit chain:     ok"), "{verify}");

    // Validation errors: exit 11, file unchanged.
    let before = std::fs::read(&file).unwrap();
    let err = env.fails(
        &[
            "add",
            f,
            "assessment",
            "--subject-id",
            item,
            "--date",
            "2026-01-01",
            "--trl",
            "10",
        ],
        11,
    );
    assert!(err.contains("trl: 10 is outside 1-9"), "{err}");
    let err = env.fails(&["add", f, "technology", "--area", "semiconductors"], 11);
    assert!(err.contains("name is required"), "{err}");
    let err = env.fails(
        &[
            "add",
            f,
            "item",
            "--name",
            "x",
            "--item-kind",
            "material",
            "--hq-country",
            "FR",
        ],
        11,
    );
    assert!(err.contains("item has no field \"hq_country\""), "{err}");
    assert_eq!(before, std::fs::read(&file).unwrap());
}

#[test]
fn export_json_then_import_recreates_the_records() {
    let env = Env::new();
    let a = env.init("a.observatory");
    let a = a.to_str().unwrap();
    let item = env.ok(&[
        "add",
        a,
        "item",
        "--name",
        "Germanium",
        "--item-kind",
        "material",
        "--classification",
        "restricted",
        "--releasable-to",
        "FR,DE",
    ]);
    env.ok(&[
        "add",
        a,
        "link",
        "--from-id",
        item.trim(),
        "--to-id",
        "CN",
        "--link-kind",
        "produced-in",
        "--share",
        "0.68",
    ]);
    // A plaintext export needs the flag.
    let err = env.fails(&["export", a, "--format", "json", "--out", "x.json"], 2);
    assert!(err.contains("--unencrypted-output"), "{err}");
    let out = env
        .cmd()
        .args([
            "export",
            a,
            "--format",
            "json",
            "--out",
            "x.json",
            "--unencrypted-output",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains("UNENCRYPTED") && warning.contains("RESTREINT UE/EU RESTRICTED"),
        "{warning}"
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(env.path("x.json")).unwrap()).unwrap();
    assert_eq!(doc["classification"], "RESTRICTED");
    assert_eq!(doc["records"].as_array().unwrap().len(), 49);

    let b = env.init("b.observatory");
    let b = b.to_str().unwrap();
    let dry = env.ok(&["import", b, "x.json", "--dry-run"]);
    assert!(
        dry.contains("would import: 2 new, 0 changed, 47 unchanged"),
        "{dry}"
    );
    assert!(
        env.ok(&["list", b, "item"]).contains("0 item(s)"),
        "dry run changed nothing"
    );
    let done = env.ok(&["import", b, "x.json"]);
    assert!(done.contains("imported: 2 new"), "{done}");
    let again = env.ok(&["import", b, "x.json"]);
    assert!(again.contains("0 new, 0 changed, 49 unchanged"), "{again}");
    let items: Value =
        serde_json::from_str(&env.ok(&["list", b, "item", "--format", "json"])).unwrap();
    assert_eq!(items["records"][0]["id"], item.trim());
    assert_eq!(
        items["records"][0]["releasable_to"],
        serde_json::json!(["DE", "FR"])
    );

    // CSV export: a folder with one file per kind, marked.
    env.ok(&[
        "export",
        a,
        "--format",
        "csv",
        "--out",
        "csv",
        "--unencrypted-output",
    ]);
    let items_csv = std::fs::read_to_string(env.path("csv/item.csv")).unwrap();
    assert!(
        items_csv.starts_with(
            "# CLASSIFICATION: RESTREINT UE/EU RESTRICTED\nid,classification,releasable_to,name,"
        ),
        "{items_csv}"
    );
    assert!(items_csv.contains("RESTRICTED,DE;FR,Germanium,material"));
}

#[test]
fn import_is_all_or_nothing_and_never_lowers_a_classification() {
    let env = Env::new();
    let f = env.init("r.observatory");
    let f = f.to_str().unwrap();
    let id = env.ok(&[
        "add",
        f,
        "item",
        "--name",
        "Tungsten",
        "--item-kind",
        "material",
        "--classification",
        "secret",
    ]);
    let id = id.trim();
    let bad = serde_json::json!({
        "format": "observatory-records", "version": 1,
        "records": [
            {"kind": "item", "name": "Cobalt", "item_kind": "material"},
            {"kind": "item", "name": "Nickel", "item_kind": "metal"},
            {"kind": "link", "from_id": "01900000-0000-7000-8000-000000000001", "to_id": "CD", "link_kind": "produced-in"},
            {"kind": "item", "name": "Lithium", "colour": "silver"}
        ]
    });
    std::fs::write(env.path("bad.json"), bad.to_string()).unwrap();
    let before = std::fs::read(f).unwrap();
    let err = env.fails(&["import", f, "bad.json"], 11);
    assert!(
        err.contains("records[1]") && err.contains("\"metal\" is not one of"),
        "{err}"
    );
    assert!(
        err.contains("records[3]") && err.contains("colour"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(before, std::fs::read(f).unwrap(), "file unchanged");
    // records[2] is checked against the store once the rest is valid.
    let refs = serde_json::json!({"format": "observatory-records", "version": 1, "records": [
        {"kind": "link", "from_id": "01900000-0000-7000-8000-000000000001", "to_id": "CD", "link_kind": "produced-in"}]});
    std::fs::write(env.path("refs.json"), refs.to_string()).unwrap();
    let err = env.fails(&["import", f, "refs.json"], 11);
    assert!(
        err.contains("records[0]") && err.contains("is not the id of an existing"),
        "{err}"
    );

    let lower = serde_json::json!({"format": "observatory-records", "version": 1, "records": [
        {"kind": "item", "id": id, "name": "Tungsten", "item_kind": "material", "classification": "UNCLASSIFIED", "stage": "mining"}]});
    std::fs::write(env.path("lower.json"), lower.to_string()).unwrap();
    let out = env.ok(&["import", f, "lower.json"]);
    assert!(
        out.contains("1 changed") && out.contains("kept their higher classification"),
        "{out}"
    );
    let items: Value =
        serde_json::from_str(&env.ok(&["list", f, "item", "--format", "json"])).unwrap();
    assert_eq!(items["records"][0]["classification"], "SECRET");
    assert_eq!(items["records"][0]["stage"], "mining");
    let err = env.fails(&["import", f, "/nonexistent.json"], 11);
    assert!(err.contains("cannot read"), "{err}");
    std::fs::write(env.path("notjson.json"), "{not json").unwrap();
    env.fails(&["import", f, "notjson.json"], 11);
}

/// Issue 20: manual pages and shell completions come from the command definitions.
#[test]
fn man_pages_and_completions_are_generated_from_the_commands() {
    let env = Env::new();
    let dir = env.path("man");
    let out = env.ok(&["man", "--out", dir.to_str().unwrap()]);
    assert!(out.contains("manual page(s)"), "{out}");
    let main = std::fs::read_to_string(dir.join("observatory.1")).unwrap();
    for sub in ["round", "priorities", "roadmap", "bundle", "report"] {
        assert!(main.contains(sub), "observatory(1) lists {sub}");
        let page = std::fs::read_to_string(dir.join(format!("observatory-{sub}.1"))).unwrap();
        assert!(
            page.contains(".TH") && page.contains(&format!("observatory {sub}")),
            "{sub}"
        );
    }
    for shell in ["bash", "zsh", "fish"] {
        let text = env.ok(&["completions", shell]);
        assert!(
            text.len() > 1000 && text.contains("priorities") && text.contains("round"),
            "{shell}"
        );
    }
    env.fails(&["completions", "powershell-7"], 2);
    // The version says which commit and which build date (SOURCE_DATE_EPOCH, never the clock).
    let version = env.ok(&["--version"]);
    assert!(
        version.starts_with(&format!(
            "observatory {} (commit ",
            env!("CARGO_PKG_VERSION")
        )) && version.contains(", built "),
        "{version}"
    );
}

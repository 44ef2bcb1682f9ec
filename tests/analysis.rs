//! The analysis engine: properties on random supply graphs, and the `analyse` command.

use observatory::analysis::{GraphBuilder, NodeKind, SupplyGraph};
use observatory::model::{Classification, Kind};
use observatory::service::{RecordInput, Session};
use serde_json::{Value, json};

use crate::util::{Env, Rng};

const COUNTRIES: [&str; 8] = ["CN", "US", "DE", "FR", "JP", "KR", "BR", "AU"];

/// A random layered graph as a list of builder calls, so that they can be replayed in any
/// order.
#[derive(Clone, Debug)]
enum Call {
    Node(String, NodeKind),
    Input(String, String, f64),
    Supply(String, String, f64, Option<i64>),
    Home(String, String),
}

fn random_graph(rng: &mut Rng) -> Vec<Call> {
    let mut calls = Vec::new();
    let techs = 1 + rng.below(4) as usize;
    let items = 2 + rng.below(25) as usize;
    let orgs = rng.below(5) as usize;
    for t in 0..techs {
        calls.push(Call::Node(format!("t{t}"), NodeKind::Technology));
    }
    for i in 0..items {
        calls.push(Call::Node(format!("i{i}"), NodeKind::Item));
    }
    for o in 0..orgs {
        calls.push(Call::Node(format!("o{o}"), NodeKind::Organisation));
        if rng.below(4) > 0 {
            let c = COUNTRIES[rng.below(8) as usize];
            calls.push(Call::Home(format!("o{o}"), c.to_owned()));
        }
    }
    for t in 0..techs {
        for _ in 0..=rng.below(3) {
            calls.push(Call::Input(
                format!("t{t}"),
                format!("i{}", rng.below(items as u64)),
                1.0,
            ));
        }
    }
    for i in 0..items {
        // inputs (cycles allowed: they must be cut, not loop)
        for _ in 0..rng.below(3) {
            let j = rng.below(items as u64);
            let factor = [1.0, 0.9, 0.7, 0.4][rng.below(4) as usize];
            calls.push(Call::Input(format!("i{i}"), format!("i{j}"), factor));
        }
        // supply shares that may add up to more or less than 1, over one or two years
        for _ in 0..rng.below(4) {
            let share = rng.below(101) as f64 / 100.0;
            let year = [None, Some(2022), Some(2023)][rng.below(3) as usize];
            let to = if orgs > 0 && rng.below(3) == 0 {
                format!("o{}", rng.below(orgs as u64))
            } else {
                COUNTRIES[rng.below(8) as usize].to_owned()
            };
            calls.push(Call::Supply(format!("i{i}"), to, share, year));
        }
    }
    calls
}

fn build(calls: &[Call]) -> SupplyGraph {
    let mut b = GraphBuilder::default();
    for call in calls {
        match call {
            Call::Node(id, kind) => b.node(id, *kind, id),
            Call::Input(a, c, f) => b.input(a, c, *f),
            Call::Supply(a, s, share, year) => b.supply(a, s, *share, *year),
            Call::Home(o, c) => b.home(o, c),
        }
    }
    b.build()
}

/// What each node depends on, as the graph keeps it: latest-year supply with a share, the
/// country rows where a node has any (firm rows describe the same supply), else the firm
/// rows. Also, per node, the one firm that makes all of it (its firm rows name it alone).
#[allow(clippy::type_complexity)]
fn dependencies(
    calls: &[Call],
) -> (
    std::collections::BTreeMap<String, Vec<String>>,
    std::collections::BTreeMap<String, String>,
) {
    use std::collections::BTreeMap;
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut single_firm: BTreeMap<String, String> = BTreeMap::new();
    let mut supply: BTreeMap<String, Vec<(String, f64, Option<i64>)>> = BTreeMap::new();
    for call in calls {
        match call {
            Call::Node(id, _) => {
                deps.entry(id.clone()).or_default();
            }
            Call::Input(a, c, _) if a != c => deps.entry(a.clone()).or_default().push(c.clone()),
            Call::Supply(a, s, share, year) => {
                supply
                    .entry(a.clone())
                    .or_default()
                    .push((s.clone(), *share, *year))
            }
            Call::Home(o, c) => deps.entry(o.clone()).or_default().push(c.clone()),
            Call::Input(..) => {}
        }
    }
    for (node, rows) in supply {
        let basis = |firm: bool| {
            let rows: Vec<&(String, f64, Option<i64>)> = rows
                .iter()
                .filter(|r| r.0.starts_with('o') == firm)
                .collect();
            let latest = rows.iter().filter_map(|r| r.2).max();
            let mut by: BTreeMap<String, f64> = BTreeMap::new();
            for (s, share, year) in rows {
                if latest.is_none() || *year == latest {
                    *by.entry(s.clone()).or_default() += share;
                }
            }
            by.into_iter()
                .filter(|(_, share)| *share > 0.0)
                .collect::<Vec<(String, f64)>>()
        };
        let (countries, firms) = (basis(false), basis(true));
        // One firm that makes at least 98 % of it.
        if let [(one, share)] = firms.as_slice()
            && *share >= 0.98
        {
            single_firm.insert(node.clone(), one.clone());
        }
        let (countries, firms): (Vec<String>, Vec<String>) = (
            countries.into_iter().map(|(s, _)| s).collect(),
            firms.into_iter().map(|(s, _)| s).collect(),
        );
        let used = if countries.is_empty() {
            firms
        } else {
            countries
        };
        deps.entry(node.clone()).or_default().extend(used);
    }
    for c in COUNTRIES {
        deps.entry(c.to_owned()).or_default();
    }
    (deps, single_firm)
}

/// Whether `from` reaches a source (a node without dependencies) without passing `removed`.
fn reaches_source(
    deps: &std::collections::BTreeMap<String, Vec<String>>,
    from: &str,
    removed: &str,
) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(node) = stack.pop() {
        if node == removed || !seen.insert(node.clone()) {
            continue;
        }
        let next = deps.get(&node).cloned().unwrap_or_default();
        if next.is_empty() {
            return true;
        }
        stack.extend(next);
    }
    false
}

#[test]
fn exposures_are_bounded_and_independent_of_insertion_order() {
    let mut rng = Rng(0x5eed_0b5e);
    for case in 0..crate::util::property_cases(1000) {
        let calls = random_graph(&mut rng);
        let graph = build(&calls);
        let metrics = graph.technology_metrics(None);
        for m in &metrics {
            let total: f64 = m.exposure.values().sum();
            assert!(total <= 1.0 + 1e-9, "case {case}: {} sums to {total}", m.id);
            assert!(m.exposure.values().all(|s| *s > 0.0 && *s <= 1.0 + 1e-12));
            if let Some(r) = m.supply_risk {
                assert!((0.0..=10.0 + 1e-9).contains(&r), "case {case}: risk {r}");
            }
        }
        // Chokepoints, checked by brute force: an item or organisation is one exactly when
        // removing it leaves the technology no path to a source.
        // The one firm that makes all of a chokepoint item is one too.
        let (deps, single_firm) = dependencies(&calls);
        for m in &metrics {
            let mut expected: Vec<String> = deps
                .keys()
                .filter(|v| v.starts_with('i') || v.starts_with('o'))
                .filter(|v| !reaches_source(&deps, &m.id, v))
                .cloned()
                .collect();
            if !reaches_source(&deps, &m.id, "") {
                expected.clear(); // no source at all: nothing to cut off
            }
            let firms: Vec<String> = expected
                .iter()
                .filter_map(|v| single_firm.get(v).cloned())
                .collect();
            expected.extend(firms);
            expected.sort();
            expected.dedup();
            let mut found = m.chokepoints.clone();
            found.sort();
            assert_eq!(found, expected, "case {case}: chokepoints of {}", m.id);
        }
        let scenario = graph.scenario(&["CN".to_owned(), "US".to_owned()]);
        for impact in &scenario {
            let m = metrics.iter().find(|m| m.id == impact.id).unwrap();
            let expected =
                m.exposure.get("CN").unwrap_or(&0.0) + m.exposure.get("US").unwrap_or(&0.0);
            assert!((impact.lost_share - expected).abs() < 1e-9, "case {case}");
            assert!(impact.path_share <= impact.lost_share + 1e-9);
            assert!(["CN", "US"].contains(&impact.path.last().unwrap().as_str()));
        }
        // The same calls in another order give the same results, to the bit.
        let mut shuffled = calls.clone();
        for i in (1..shuffled.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            shuffled.swap(i, j);
        }
        let again = build(&shuffled);
        assert_eq!(again.technology_metrics(None), metrics, "case {case}");
        assert_eq!(
            again.scenario(&["CN".to_owned(), "US".to_owned()]),
            scenario,
            "case {case}"
        );
    }
}

fn add(session: &mut Session, kind: Kind, level: Classification, fields: Value) -> String {
    let input = RecordInput {
        classification: Some(level),
        fields: serde_json::from_value(fields).unwrap(),
        ..RecordInput::default()
    };
    session.add(kind, None, &input).unwrap().to_string()
}

#[test]
fn analyse_command_json_contract_and_scenario() {
    let env = Env::new();
    let path = env.path("a.observatory");
    let mut session = Session::create(&path, env.identity()).unwrap();
    let u = Classification::Unclassified;
    let tech = add(
        &mut session,
        Kind::Technology,
        Classification::Restricted,
        json!({"name": "GaN radar"}),
    );
    let wafers = add(
        &mut session,
        Kind::Item,
        u,
        json!({"name": "GaN wafers", "item_kind": "component"}),
    );
    let gallium = add(
        &mut session,
        Kind::Item,
        u,
        json!({"name": "Gallium", "item_kind": "material"}),
    );
    let fab = add(
        &mut session,
        Kind::Organisation,
        u,
        json!({"name": "Fab", "hq_country": "FR"}),
    );
    for (from, to, kind, share) in [
        (&tech, &wafers, "requires", None),
        (&gallium, &wafers, "input-to", None),
        (&wafers, &fab, "supplied-by", Some(1.0)),
        (&gallium, &"CN".to_owned(), "produced-in", Some(0.938)),
        (&gallium, &"JP".to_owned(), "produced-in", Some(0.062)),
    ] {
        let mut fields = json!({"from_id": from, "to_id": to, "link_kind": kind});
        if let Some(share) = share {
            fields["share"] = json!(share);
        }
        add(&mut session, Kind::Link, u, fields);
    }
    session.save().unwrap();
    drop(session);
    let out = env.ok(&[
        "analyse",
        path.to_str().unwrap(),
        "--cut",
        "cn",
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json["classification"], "RESTRICTED",
        "the technology's level"
    );
    let items = json["items"].as_array().unwrap();
    let ga = items.iter().find(|i| i["name"] == "Gallium").unwrap();
    for key in [
        "id",
        "name",
        "hhi",
        "eu_share",
        "top_country",
        "top_share",
        "single_source",
        "firm_hhi",
        "top_organisation",
        "top_organisation_share",
        "unattributed_share",
    ] {
        assert!(ga.get(key).is_some(), "items[].{key}");
    }
    let w = items.iter().find(|i| i["name"] == "GaN wafers").unwrap();
    assert_eq!(w["firm_hhi"], json!(10_000.0));
    assert_eq!(w["top_organisation"], "Fab");
    assert_eq!(w["top_organisation_share"], json!(1.0));
    assert_eq!(w["single_firm"], json!(true));
    assert_eq!(w["country_basis"], "firms by headquarters");
    assert_eq!(ga["firm_hhi"], Value::Null, "no firm figures for gallium");
    assert_eq!(ga["unattributed_share"], json!(0.0));
    assert_eq!(ga["top_country"], "CN");
    assert!((ga["hhi"].as_f64().unwrap() - (93.8f64.powi(2) + 6.2f64.powi(2))).abs() < 0.01);
    let techs = json["technologies"].as_array().unwrap();
    let t = techs.iter().find(|t| t["id"] == tech.as_str()).unwrap();
    for key in ["id", "name", "chokepoints", "exposure", "supply_risk"] {
        assert!(t.get(key).is_some(), "technologies[].{key}");
    }
    // The wafers are made in France (by Fab) and need gallium: FR .5, CN .469, JP .031.
    assert!(
        (t["exposure"]["FR"].as_f64().unwrap() - 0.5).abs() < 1e-6,
        "{t}"
    );
    assert!(
        (t["exposure"]["CN"].as_f64().unwrap() - 0.469).abs() < 1e-6,
        "{t}"
    );
    // The wafers, and Fab: the one firm that makes all of them.
    assert_eq!(t["chokepoints"], json!([wafers, fab]));
    assert!((json["scenario"][tech.as_str()].as_f64().unwrap() - 0.469).abs() < 1e-6);
    // --technology narrows; errors are clear.
    let one: Value = serde_json::from_str(&env.ok(&[
        "analyse",
        path.to_str().unwrap(),
        "--technology",
        &tech,
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(one["technologies"].as_array().unwrap().len(), 1);
    assert!(one.get("scenario").is_none());
    let table = env.ok(&["analyse", path.to_str().unwrap(), "--cut", "CN"]);
    assert!(
        table.starts_with("== RESTREINT UE/EU RESTRICTED =="),
        "{table}"
    );
    assert!(table.contains("chokepoints: GaN wafers"), "{table}");
    // Governance weighs the concentration: France recorded at 5 / 10 halves the weight of the
    // wafers (all French), so gallium (93.8 % Chinese) is now the weakest link.
    let before = t["supply_risk"].as_f64().unwrap();
    let out = env.ok(&["country", path.to_str().unwrap(), "fr", "--governance", "5"]);
    assert!(out.contains("governance risk: 5 / 10"), "{out}");
    let again: Value = serde_json::from_str(&env.ok(&[
        "analyse",
        path.to_str().unwrap(),
        "--technology",
        &tech,
        "--format",
        "json",
    ]))
    .unwrap();
    let after = again["technologies"][0]["supply_risk"].as_f64().unwrap();
    assert_eq!(before, 10.0);
    assert!(
        (after - 10.0 * (0.938f64.powi(2) + 0.062f64.powi(2))).abs() < 1e-3,
        "{after}"
    );
    env.fails(
        &[
            "country",
            path.to_str().unwrap(),
            "CN",
            "--governance",
            "11",
        ],
        11,
    );
    env.fails(&["country", path.to_str().unwrap(), "XX"], 11);
    env.ok(&[
        "country",
        path.to_str().unwrap(),
        "CN",
        "--clear-governance",
    ]);
    env.fails(&["analyse", path.to_str().unwrap(), "--cut", "XX"], 11);
    env.fails(
        &["analyse", path.to_str().unwrap(), "--technology", "nope"],
        11,
    );
    env.fails(
        &[
            "analyse",
            path.to_str().unwrap(),
            "--technology",
            "01234567-89ab-7def-8123-456789abcdef",
        ],
        12,
    );
}

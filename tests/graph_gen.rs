//! The generated supply graph of the analysis benchmark and the equality check against the
//! networkx reference (`tests/benches/networkx_analysis.py`): both sides compute item HHI,
//! technology exposure, chokepoints, supply risk, the China cut-off loss and its strongest
//! path's share on the same graph, and must agree (shared by `tests/benches/analysis.rs` and
//! the suite).

#![allow(dead_code, clippy::unwrap_used, clippy::missing_panics_doc)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use observatory::analysis::{GraphBuilder, NodeKind, SupplyGraph};
use serde_json::{Map, Value, json};

const COUNTRIES: [&str; 40] = [
    "CN", "US", "JP", "KR", "TW", "DE", "FR", "NL", "IT", "ES", "PL", "SE", "FI", "BE", "AT", "CZ",
    "IE", "PT", "RO", "GR", "GB", "NO", "CH", "CA", "MX", "BR", "CL", "PE", "AR", "AU", "IN", "ID",
    "VN", "TH", "MY", "ZA", "CD", "RU", "TR", "SA",
];

struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// The graph as lines: `node ID KIND`, `input NODE INPUT`, `supply NODE SUPPLIER SHARE`,
/// `home ORG COUNTRY` (the same file feeds networkx).
pub fn generate(scale: usize) -> String {
    // scale 1: 100,000 nodes and about 1,000,000 edges.
    let (techs, components, materials, orgs) = (
        (200 / scale).max(2),
        (20_000 / scale).max(4),
        (30_000 / scale).max(4),
        (49_760 / scale).max(4),
    );
    let mut rng = Lcg(42);
    let mut out = String::with_capacity(40_000_000);
    for t in 0..techs {
        writeln!(out, "node t{t} technology").unwrap();
    }
    for c in 0..components {
        writeln!(out, "node c{c} item").unwrap();
    }
    for m in 0..materials {
        writeln!(out, "node m{m} item").unwrap();
    }
    for o in 0..orgs {
        writeln!(out, "node o{o} organisation").unwrap();
        writeln!(out, "home o{o} {}", COUNTRIES[rng.below(COUNTRIES.len())]).unwrap();
    }
    for t in 0..techs {
        for _ in 0..50 {
            writeln!(out, "input t{t} c{}", rng.below(components)).unwrap();
        }
    }
    for c in 0..components {
        // Components are made of components further down the list (a DAG) and materials.
        for _ in 0..4 {
            if c + 1 < components {
                writeln!(out, "input c{c} c{}", c + 1 + rng.below(components - c - 1)).unwrap();
            }
        }
        for _ in 0..6 {
            writeln!(out, "input c{c} m{}", rng.below(materials)).unwrap();
        }
        for _ in 0..10 {
            writeln!(out, "supply c{c} o{} 0.1", rng.below(orgs)).unwrap();
        }
    }
    for m in 0..materials {
        for _ in 0..5 {
            if m + 1 < materials {
                writeln!(out, "input m{m} m{}", m + 1 + rng.below(materials - m - 1)).unwrap();
            }
        }
        for _ in 0..8 {
            writeln!(
                out,
                "supply m{m} {} 0.08",
                COUNTRIES[rng.below(COUNTRIES.len())]
            )
            .unwrap();
        }
        for _ in 0..6 {
            writeln!(out, "supply m{m} o{} 0.05", rng.below(orgs)).unwrap();
        }
    }
    out
}

pub fn build(text: &str) -> SupplyGraph {
    let mut b = GraphBuilder::default();
    for line in text.lines() {
        let mut parts = line.split(' ');
        let (Some(what), Some(a), Some(c)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        match what {
            "node" => {
                let kind = match c {
                    "technology" => NodeKind::Technology,
                    "organisation" => NodeKind::Organisation,
                    _ => NodeKind::Item,
                };
                b.node(a, kind, a);
            }
            "input" => b.input(a, c, 1.0),
            "supply" => b.supply(a, c, parts.next().unwrap().parse().unwrap(), None),
            "home" => b.home(a, c),
            _ => {}
        }
    }
    b.build()
}

/// Every metric the two sides compare, as JSON (see the module docs).
pub fn dump(graph: &SupplyGraph) -> Value {
    let items: Map<String, Value> = graph
        .item_metrics()
        .into_iter()
        .map(|c| (c.name.clone(), json!(c.hhi)))
        .collect();
    let impacts: std::collections::BTreeMap<String, (f64, f64)> = graph
        .scenario(&["CN".to_owned()])
        .into_iter()
        .map(|i| (i.id.clone(), (i.lost_share, i.path_share)))
        .collect();
    let technologies: Map<String, Value> = graph
        .technology_metrics(None)
        .into_iter()
        .map(|m| {
            let (lost, path) = impacts.get(&m.id).copied().unwrap_or((0.0, 0.0));
            (
                m.id.clone(),
                json!({"exposure": m.exposure, "chokepoints": m.chokepoints, "risk": m.supply_risk,
                       "lost": lost, "path_share": path}),
            )
        })
        .collect();
    json!({"items": items, "technologies": technologies})
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

/// Compares the two dumps: every item's HHI and every technology's exposure (each country),
/// chokepoints, cut-off loss and path share to `tolerance`; the supply risk, which both sides
/// publish rounded to 1e-6 of the 0-10 scale, to 1.5e-6. Returns the differences (at most 20).
pub fn compare(ours: &Value, theirs: &Value, tolerance: f64) -> Vec<String> {
    let mut out = Vec::new();
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let (oi, ti) = (
        ours["items"].as_object().unwrap(),
        theirs["items"].as_object().unwrap(),
    );
    if oi.len() != ti.len() {
        out.push(format!(
            "items: {} here, {} in networkx",
            oi.len(),
            ti.len()
        ));
    }
    for (id, h) in oi {
        if !close(num(h), ti.get(id).map_or(f64::NAN, num), tolerance) {
            out.push(format!(
                "item {id} HHI: {h} here, {:?} in networkx",
                ti.get(id)
            ));
        }
    }
    let (ot, tt) = (
        ours["technologies"].as_object().unwrap(),
        theirs["technologies"].as_object().unwrap(),
    );
    if ot.len() != tt.len() {
        out.push(format!(
            "technologies: {} here, {} in networkx",
            ot.len(),
            tt.len()
        ));
    }
    for (id, m) in ot {
        let Some(n) = tt.get(id) else {
            out.push(format!("technology {id} missing in networkx"));
            continue;
        };
        let (oe, te) = (
            m["exposure"].as_object().unwrap(),
            n["exposure"].as_object().unwrap(),
        );
        let countries: std::collections::BTreeSet<&String> = oe.keys().chain(te.keys()).collect();
        for c in countries {
            let (a, b) = (oe.get(c).map_or(0.0, num), te.get(c).map_or(0.0, num));
            if !close(a, b, tolerance) {
                out.push(format!(
                    "technology {id} exposure to {c}: {a} here, {b} in networkx"
                ));
            }
        }
        if m["chokepoints"] != n["chokepoints"] {
            out.push(format!(
                "technology {id} chokepoints: {} here, {} in networkx",
                m["chokepoints"], n["chokepoints"]
            ));
        }
        for key in ["lost", "path_share"] {
            if !close(num(&m[key]), num(&n[key]), tolerance) {
                out.push(format!(
                    "technology {id} {key}: {} here, {} in networkx",
                    m[key], n[key]
                ));
            }
        }
        let (a, b) = (&m["risk"], &n["risk"]);
        if a.is_null() != b.is_null() || (!a.is_null() && !close(num(a), num(b), 1.5e-6)) {
            out.push(format!("technology {id} risk: {a} here, {b} in networkx"));
        }
        if out.len() >= 20 {
            break;
        }
    }
    out
}

/// Runs the networkx side on a graph file: its seconds (reading, building and every metric)
/// and its dump; `Err` with why when Python or networkx cannot run.
pub fn networkx(graph_file: &Path, dump_file: &Path) -> Result<(f64, Value), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/benches/networkx_analysis.sh");
    let output = Command::new("bash")
        .arg(script)
        .arg(graph_file)
        .arg("--dump")
        .arg(dump_file)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let seconds = text
        .lines()
        .find_map(|l| l.strip_prefix("networkx total seconds: "))
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("no timing in {text:?}"))?;
    let dump =
        serde_json::from_str(&std::fs::read_to_string(dump_file).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    Ok((seconds, dump))
}

//! What the package is made of: the SBOM compiled into the binary, the licence policy it is
//! checked against, the icons and the desktop entry. (The package itself is built, installed
//! in a fresh Debian root and started by `tests/package.sh`, which `.ci/run` runs; the
//! reproducibility check is `tests/reproducible.sh`.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::util::{Env, have_tool};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `allow` list of `assets/packaging/deny.toml`, and its `# data-licences:` line.
fn policy() -> (BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(root().join("assets/packaging/deny.toml")).unwrap();
    let start = text.find("\nallow = [").expect("an allow list");
    let end = start + text[start..].find(']').unwrap();
    let allow = text[start..end]
        .lines()
        .skip(1)
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_end_matches(',').trim_matches('"').to_owned())
        .collect();
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("# data-licences:"))
        .expect("a `# data-licences:` line")
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    (allow, data)
}

/// Whether an SPDX licence expression is satisfied by the allowed licences: `OR` needs one
/// side, `AND` both, `X WITH E` is allowed when exactly that pair is listed, parentheses
/// group. Anything unparsable is refused.
fn satisfied(expr: &str, allow: &BTreeSet<String>) -> bool {
    let spaced = expr.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    let ok = or_expr(&tokens, &mut pos, allow);
    ok == Some(true) && pos == tokens.len()
}

fn or_expr(t: &[&str], pos: &mut usize, allow: &BTreeSet<String>) -> Option<bool> {
    let mut value = and_expr(t, pos, allow)?;
    while t.get(*pos) == Some(&"OR") {
        *pos += 1;
        value |= and_expr(t, pos, allow)?;
    }
    Some(value)
}

fn and_expr(t: &[&str], pos: &mut usize, allow: &BTreeSet<String>) -> Option<bool> {
    let mut value = atom(t, pos, allow)?;
    while t.get(*pos) == Some(&"AND") {
        *pos += 1;
        value &= atom(t, pos, allow)?;
    }
    Some(value)
}

fn atom(t: &[&str], pos: &mut usize, allow: &BTreeSet<String>) -> Option<bool> {
    let token = *t.get(*pos)?;
    *pos += 1;
    if token == "(" {
        let v = or_expr(t, pos, allow)?;
        (t.get(*pos) == Some(&")")).then_some(())?;
        *pos += 1;
        return Some(v);
    }
    if matches!(token, ")" | "AND" | "OR" | "WITH") {
        return None;
    }
    if t.get(*pos) == Some(&"WITH") {
        let exception = *t.get(*pos + 1)?;
        *pos += 2;
        return Some(allow.contains(&format!("{token} WITH {exception}")));
    }
    Some(allow.contains(token))
}

#[test]
fn the_licence_checker_reads_spdx_expressions_as_spdx_means_them() {
    let allow: BTreeSet<String> = ["MIT", "Apache-2.0", "Apache-2.0 WITH LLVM-exception"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert!(satisfied("MIT", &allow));
    assert!(satisfied("MIT OR GPL-3.0-only", &allow));
    assert!(!satisfied("MIT AND GPL-3.0-only", &allow));
    assert!(!satisfied("GPL-3.0-only", &allow));
    assert!(satisfied("(MIT OR Apache-2.0) AND MIT", &allow));
    assert!(!satisfied("(MIT OR Apache-2.0) AND LGPL-2.1", &allow));
    assert!(satisfied(
        "Apache-2.0 WITH LLVM-exception OR GPL-2.0",
        &allow
    ));
    assert!(!satisfied("GPL-2.0 WITH Classpath-exception-2.0", &allow));
    assert!(!satisfied("", &allow));
    assert!(!satisfied("MIT OR", &allow));
    assert!(!satisfied("(MIT", &allow));
}

fn sbom(env: &Env) -> serde_json::Value {
    serde_json::from_str(&env.ok(&["sbom"])).expect("the SBOM is JSON")
}

/// `name version -> checksum` from Cargo.lock, read here on its own.
fn lock() -> BTreeMap<(String, String), Option<String>> {
    let text = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
    let mut out = BTreeMap::new();
    for block in text.split("[[package]]").skip(1) {
        let mut name = None;
        let mut version = None;
        let mut sum = None;
        for line in block.lines() {
            let Some((k, v)) = line.split_once(" = ") else {
                continue;
            };
            let v = v.trim_matches('"').to_owned();
            match k {
                "name" => name = Some(v),
                "version" => version = Some(v),
                "checksum" => sum = Some(v),
                _ => {}
            }
        }
        out.insert((name.unwrap(), version.unwrap()), sum);
    }
    out
}

#[test]
fn the_sbom_lists_what_the_binary_links_with_licences_and_sums() {
    let env = Env::new();
    let doc = sbom(&env);
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["specVersion"], "1.5");
    let meta = &doc["metadata"];
    assert_eq!(meta["component"]["name"], "observatory");
    assert_eq!(meta["component"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(meta["component"]["licenses"][0]["expression"], "EUPL-1.2");
    let components = doc["components"].as_array().unwrap();
    assert_eq!(
        components.len().to_string(),
        observatory::cli::SBOM_COMPONENTS
    );
    let lock = lock();
    let mut required = BTreeSet::new();
    let mut excluded = BTreeSet::new();
    let mut refs = BTreeSet::new();
    for c in components {
        let name = c["name"].as_str().unwrap().to_owned();
        let version = c["version"].as_str().unwrap().to_owned();
        assert!(
            refs.insert(c["bom-ref"].as_str().unwrap().to_owned()),
            "{c}"
        );
        assert!(
            c["licenses"][0]["expression"]
                .as_str()
                .is_some_and(|l| !l.is_empty()),
            "every component declares a licence: {c}"
        );
        if c["type"] == "library" {
            // Every crate is one of Cargo.lock, with its sum and a purl that names it.
            let key = (name.clone(), version.clone());
            let sum = lock
                .get(&key)
                .unwrap_or_else(|| panic!("{key:?} not in Cargo.lock"));
            if let Some(sum) = sum {
                assert_eq!(c["hashes"][0]["alg"], "SHA-256");
                assert_eq!(c["hashes"][0]["content"].as_str(), Some(sum.as_str()));
            }
            assert_eq!(c["purl"], format!("pkg:cargo/{name}@{version}"));
            match c["scope"].as_str() {
                Some("required") => required.insert((name, version)),
                Some("excluded") => excluded.insert((name, version)),
                other => panic!("scope {other:?}"),
            };
        } else {
            assert_eq!(c["type"], "data", "{c}");
        }
    }
    assert_eq!(
        required.len().to_string(),
        observatory::cli::SBOM_LINKED_CRATES.to_owned()
    );
    // What the program is built on is there; test tools are not (not in the binary).
    let mut must = vec![
        "age",
        "rusqlite",
        "libsqlite3-sys",
        "ed25519-dalek",
        "krilla",
        "clap",
    ];
    if cfg!(feature = "gui") {
        must.extend(["eframe", "egui", "egui_plot"]);
    }
    let names = |set: &BTreeSet<(String, String)>| -> BTreeSet<String> {
        set.iter().map(|(n, _)| n.clone()).collect()
    };
    let (required_names, excluded_names) = (names(&required), names(&excluded));
    for name in must {
        assert!(required_names.contains(name), "{name} is linked");
    }
    for name in ["criterion", "egui_kittest", "pdf-extract"] {
        assert!(
            !required_names.contains(name) && !excluded_names.contains(name),
            "{name} is a dev-dependency"
        );
    }
    // A build script's tool, a proc-macro and a proc-macro's own dependency are build time
    // only: they run in the compiler, they are not linked.
    for name in ["cc", "serde_derive"] {
        assert!(
            excluded_names.contains(name) && !required_names.contains(name),
            "{name}: {excluded:?}"
        );
    }
    // syn 2 is only the proc-macros' (a crate that links syn itself keeps it `required`).
    assert!(
        excluded
            .iter()
            .any(|(n, v)| n == "syn" && v.starts_with("2.")),
        "{excluded:?}"
    );
    let data: Vec<&str> = components
        .iter()
        .filter(|c| c["type"] == "data")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        data.contains(&"SQLite") && data.contains(&"DejaVu fonts"),
        "{data:?}"
    );

    // The licence report lists every component once.
    let report = env.ok(&["sbom", "--format", "licences"]);
    let listed = report.lines().filter(|l| l.starts_with("  ")).count();
    assert_eq!(listed, components.len(), "{report}");
}

#[test]
fn every_licence_in_the_binary_is_on_the_allow_list() {
    let env = Env::new();
    let doc = sbom(&env);
    let (allow, data_allow) = policy();
    assert!(allow.contains("MIT") && !allow.iter().any(|l| l.contains("GPL")));
    let mut refused = Vec::new();
    for c in doc["components"].as_array().unwrap() {
        let licence = c["licenses"][0]["expression"].as_str().unwrap_or("");
        let list = if c["type"] == "data" {
            &data_allow
        } else {
            &allow
        };
        if !satisfied(licence, list) {
            refused.push(format!("{} {}: {licence}", c["name"], c["version"]));
        }
    }
    assert!(
        refused.is_empty(),
        "not on the allow-list of assets/packaging/deny.toml: {refused:#?}"
    );
    // cargo-deny applies the same file to the whole graph (all targets, Windows too).
    if have_tool("cargo-deny") {
        let out = std::process::Command::new("cargo")
            .current_dir(root())
            .args([
                "deny",
                "--offline",
                "--config",
                "assets/packaging/deny.toml",
                "check",
                "licenses",
                "sources",
            ])
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "cargo deny: {:?}: {said}", out.status);
        assert!(
            said.contains("licenses ok") && said.contains("sources ok"),
            "{said}"
        );
    }
}

/// PNG width and height from the IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

#[test]
fn icons_at_every_size_the_desktop_entry_and_the_window_icon() {
    let icons = root().join("assets/packaging/icons");
    for size in [16, 24, 32, 48, 64, 128, 256, 512] {
        let bytes = std::fs::read(icons.join(format!("observatory-{size}.png"))).unwrap();
        assert_eq!(png_size(&bytes), (size, size));
    }
    let svg = std::fs::read_to_string(icons.join("observatory.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("viewBox=\"0 0 256 256\""));
    #[cfg(feature = "gui")]
    {
        let icon = observatory::gui::window_icon().expect("the window icon decodes");
        assert_eq!((icon.width, icon.height), (256, 256));
        assert_eq!(icon.rgba.len(), 256 * 256 * 4);
        // Not blank: the EU blue of the background is there.
        assert!(
            icon.rgba
                .chunks(4)
                .any(|p| p[0] == 0x00 && p[1] == 0x33 && p[2] == 0x99 && p[3] == 0xff)
        );
    }
    let desktop =
        std::fs::read_to_string(root().join("assets/packaging/observatory.desktop")).unwrap();
    for line in [
        "[Desktop Entry]",
        "Type=Application",
        "Exec=observatory",
        "Icon=observatory",
        "StartupWMClass=observatory",
    ] {
        assert!(desktop.lines().any(|l| l == line), "{line}");
    }
    if have_tool("desktop-file-validate") {
        let out = std::process::Command::new("desktop-file-validate")
            .arg(root().join("assets/packaging/observatory.desktop"))
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

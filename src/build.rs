//! Build information for `observatory --version`, `observatory sbom` and the About box.
//!
//! - The git commit the build comes from: `OBSERVATORY_COMMIT` if set, else `git rev-parse`,
//!   else the `.observatory-commit` file that the offline source bundle carries (no `.git`
//!   there), else `unknown`.
//! - The build date from `SOURCE_DATE_EPOCH`, never the clock: two builds of one commit are the
//!   same.
//! - The software bill of materials (CycloneDX 1.5 JSON, specified in `cli::sbom`'s docs) of
//!   exactly this build: the crates linked into the binary for this target and these features
//!   (`cargo tree -e normal,no-proc-macro`, which resolves features without dev-dependencies),
//!   the crates that only run while building (build scripts' dependencies, proc-macros and
//!   theirs: scope `excluded`), and the data and fonts compiled in. Licences come from the crates' manifests, SHA-256 sums from
//!   `Cargo.lock`. It is written to `OUT_DIR/sbom.cdx.json` and compiled into the binary.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=OBSERVATORY_COMMIT");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    println!("cargo:rerun-if-changed=.git/packed-refs");
    println!("cargo:rerun-if-changed=.git/index");
    println!("cargo:rerun-if-changed=.observatory-commit");
    println!("cargo:rerun-if-changed=.observatory-source-date");
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let commit = commit(Path::new(&manifest_dir));
    let epoch = source_date(Path::new(&manifest_dir));
    let date = epoch.map_or_else(
        || "unknown (SOURCE_DATE_EPOCH not set)".to_owned(),
        |s| civil(s).0,
    );
    println!("cargo:rustc-env=OBSERVATORY_COMMIT={commit}");
    println!("cargo:rustc-env=OBSERVATORY_BUILD_DATE={date}");

    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".to_owned());
    let (sbom, counts) = match sbom(Path::new(&manifest_dir), &commit, epoch) {
        Ok(s) => s,
        Err(e) => {
            // A build whose contents cannot be listed is not one to ship: stop here.
            println!("cargo:warning=cannot list the build's components for the SBOM: {e}");
            std::process::exit(1);
        }
    };
    let path = Path::new(&out_dir).join("sbom.cdx.json");
    if let Err(e) = std::fs::write(&path, sbom) {
        println!("cargo:warning=cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
    println!("cargo:rustc-env=OBSERVATORY_SBOM_LINKED={}", counts.0);
    println!("cargo:rustc-env=OBSERVATORY_SBOM_COMPONENTS={}", counts.1);
}

/// A commit id as printed: 7 to 40 hex digits, `-dirty` when the tree had changes.
fn valid_commit(c: &str) -> bool {
    let hex = c.strip_suffix("-dirty").unwrap_or(c);
    (7..=40).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

fn git(manifest_dir: &Path, args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .current_dir(manifest_dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

/// The commit: `OBSERVATORY_COMMIT`, else the source bundle's `.observatory-commit` (a bundle
/// unpacked inside some other checkout must not take that checkout's commit), else git, but
/// only when this folder is the top of its own repository; `-dirty` when its tree has
/// uncommitted changes. Anything that is not a commit id is `unknown`.
fn commit(manifest_dir: &Path) -> String {
    let from_env = std::env::var("OBSERVATORY_COMMIT")
        .ok()
        .map(|c| c.trim().to_owned());
    let from_bundle = || {
        std::fs::read_to_string(manifest_dir.join(".observatory-commit"))
            .ok()
            .map(|s| s.trim().to_owned())
    };
    let from_git = || {
        let top = git(manifest_dir, &["rev-parse", "--show-toplevel"])?;
        let same = std::fs::canonicalize(&top).ok()? == std::fs::canonicalize(manifest_dir).ok()?;
        if !same {
            return None;
        }
        let id = git(manifest_dir, &["rev-parse", "--short=12", "HEAD"])?;
        let dirty = git(
            manifest_dir,
            &["status", "--porcelain", "--untracked-files=no"],
        )
        .is_some_and(|s| !s.is_empty());
        Some(if dirty { format!("{id}-dirty") } else { id })
    };
    from_env
        .filter(|c| !c.is_empty())
        .or_else(from_bundle)
        .or_else(from_git)
        .filter(|c| valid_commit(c))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The build date: `SOURCE_DATE_EPOCH`, else the source bundle's `.observatory-source-date`
/// (the commit's date), so that a plain `cargo build` from the bundle is dated too.
fn source_date(manifest_dir: &Path) -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .or_else(|| std::fs::read_to_string(manifest_dir.join(".observatory-source-date")).ok())
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|s| (0..=253_402_300_799).contains(s))
}

/// `(YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ)` (UTC) of a Unix time (days-from-civil, H. Hinnant's
/// algorithm).
fn civil(seconds: i64) -> (String, String) {
    let z = seconds.div_euclid(86_400) + 719_468;
    let secs = seconds.rem_euclid(86_400);
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let date = format!("{year:04}-{month:02}-{day:02}");
    let stamp = format!(
        "{date}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    (date, stamp)
}

/// One crate of the build.
struct Crate {
    name: String,
    version: String,
    licence: String,
    repository: String,
    proc_macro: bool,
}

/// Runs `cargo tree` for this build's target and features over the given edge kinds.
fn tree(manifest_dir: &Path, edges: &str) -> Result<BTreeMap<(String, String), Crate>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let target = std::env::var("TARGET").map_err(|e| format!("TARGET: {e}"))?;
    let mut cmd = Command::new(cargo);
    cmd.current_dir(manifest_dir)
        .args([
            "tree",
            "--offline",
            "--locked",
            "--quiet",
            "--prefix",
            "none",
        ])
        .args(["--manifest-path", "Cargo.toml"])
        .args(["--target", &target, "-e", edges])
        .args(["-f", "{p}\t{l}\t{r}", "--no-default-features"]);
    let features: Vec<&str> = [("CARGO_FEATURE_GUI", "gui")]
        .iter()
        .filter(|(var, _)| std::env::var_os(var).is_some())
        .map(|(_, f)| *f)
        .collect();
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut crates = BTreeMap::new();
    for line in text.lines() {
        let mut cols = line.split('\t');
        let package = cols.next().unwrap_or_default();
        let licence = cols.next().unwrap_or_default();
        let repository = cols.next().unwrap_or_default();
        let mut words = package.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let rest: Vec<&str> = words.collect();
        let licence = licence.trim().trim_end_matches("(*)").trim();
        let repository = repository.trim().trim_end_matches("(*)").trim();
        let version = version.trim_start_matches('v').to_owned();
        crates
            .entry((name.to_owned(), version.clone()))
            .or_insert(Crate {
                name: name.to_owned(),
                version,
                // The legacy `/` separator means OR (SPDX 2.1 annex); written as SPDX here.
                licence: licence.replace('/', " OR "),
                repository: repository.to_owned(),
                proc_macro: rest.contains(&"(proc-macro)"),
            });
    }
    if crates.is_empty() {
        return Err("cargo tree listed no crate".to_owned());
    }
    Ok(crates)
}

/// `name version -> sha256` from `Cargo.lock`.
fn lock_checksums(manifest_dir: &Path) -> BTreeMap<(String, String), String> {
    let text = std::fs::read_to_string(manifest_dir.join("Cargo.lock")).unwrap_or_default();
    let mut sums = BTreeMap::new();
    for block in text.split("[[package]]") {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.trim().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_owned())
            })
        };
        if let (Some(n), Some(v), Some(c)) = (field("name"), field("version"), field("checksum")) {
            sums.insert((n, v), c);
        }
    }
    sums
}

/// Files compiled into the binary that are not crates: (name, version, licence, what).
const EMBEDDED: &[(&str, &str, &str, &str)] = &[
    (
        "DejaVu fonts",
        "2.37",
        "Bitstream-Vera",
        "DejaVuSans, DejaVuSans-Bold for the PDF reports (assets/fonts)",
    ),
    (
        "iso-codes (ISO 3166-1)",
        "Debian 12",
        "LGPL-2.1-or-later",
        "country names and codes (assets/reference/countries.csv, from Debian's iso-codes)",
    ),
    (
        "Commission Recommendation (EU) 2023/2113, Annex",
        "2023",
        "LicenseRef-EU-Commission-reuse",
        "critical technology areas and technologies (assets/reference/technologies.json; reuse under Decision 2011/833/EU)",
    ),
    (
        "Study on the critical raw materials for the EU 2023, tables",
        "2023",
        "CC-BY-4.0",
        "demo data (assets/data/eu_crm_2023, transcribed by E. Emilsson)",
    ),
    (
        "USGS Mineral Commodity Summaries, world tables",
        "2023, 2024",
        "LicenseRef-public-domain",
        "demo data (assets/data/usgs_mcs, doi:10.5066/P9WCYUI6, doi:10.5066/P144BA54)",
    ),
    (
        "SQLite",
        "bundled by libsqlite3-sys",
        "LicenseRef-public-domain",
        "the database engine, compiled from the C sources libsqlite3-sys carries",
    ),
    (
        "mimalloc",
        "bundled by libmimalloc-sys",
        "MIT",
        "the memory allocator, compiled from the C sources libmimalloc-sys carries",
    ),
];

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The CycloneDX document and (linked crates, all components).
fn sbom(
    manifest_dir: &Path,
    commit: &str,
    epoch: Option<i64>,
) -> Result<(String, (usize, usize)), String> {
    // Linked into the binary: normal edges, not through proc-macros (a proc-macro and what it
    // depends on run in the compiler; only their expansion is compiled in).
    let linked = tree(manifest_dir, "normal,no-proc-macro")?;
    let all = tree(manifest_dir, "normal,build")?;
    let sums = lock_checksums(manifest_dir);
    let name = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "observatory".to_owned());
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let target = std::env::var("TARGET").unwrap_or_default();
    let profile = std::env::var("PROFILE").unwrap_or_default();
    let own = (name.clone(), version.clone());
    let mut components = Vec::new();
    let mut seen = BTreeSet::new();
    for (key, c) in &all {
        if *key == own || !seen.insert(key.clone()) {
            continue;
        }
        let scope = if linked.contains_key(key) {
            "required"
        } else {
            "excluded"
        };
        let purl = format!("pkg:cargo/{}@{}", c.name, c.version);
        let mut fields = vec![
            "\"type\":\"library\"".to_owned(),
            format!("\"bom-ref\":\"{}\"", esc(&purl)),
            format!("\"name\":\"{}\"", esc(&c.name)),
            format!("\"version\":\"{}\"", esc(&c.version)),
            format!("\"scope\":\"{scope}\""),
            format!("\"purl\":\"{}\"", esc(&purl)),
        ];
        if let Some(sum) = sums.get(key) {
            fields.push(format!(
                "\"hashes\":[{{\"alg\":\"SHA-256\",\"content\":\"{}\"}}]",
                esc(sum)
            ));
        }
        if !c.licence.is_empty() {
            fields.push(format!(
                "\"licenses\":[{{\"expression\":\"{}\"}}]",
                esc(&c.licence)
            ));
        }
        if !c.repository.is_empty() {
            fields.push(format!(
                "\"externalReferences\":[{{\"type\":\"vcs\",\"url\":\"{}\"}}]",
                esc(&c.repository)
            ));
        }
        let mut props = Vec::new();
        if c.proc_macro {
            props.push(
                "{\"name\":\"observatory:role\",\"value\":\"proc-macro (runs in the compiler; its expansion is compiled in)\"}",
            );
        } else if scope == "excluded" {
            props.push(
                "{\"name\":\"observatory:role\",\"value\":\"build-time only (a build script's or a proc-macro's dependency; not in the binary)\"}",
            );
        }
        if !props.is_empty() {
            fields.push(format!("\"properties\":[{}]", props.join(",")));
        }
        components.push(format!("{{{}}}", fields.join(",")));
    }
    let linked_count = linked.keys().filter(|k| **k != own).count();
    for (n, v, licence, what) in EMBEDDED {
        components.push(format!(
            "{{\"type\":\"data\",\"bom-ref\":\"embedded:{}\",\"name\":\"{}\",\"version\":\"{}\",\"scope\":\"required\",\"description\":\"{}\",\"licenses\":[{{\"expression\":\"{}\"}}]}}",
            esc(n),
            esc(n),
            esc(v),
            esc(what),
            esc(licence)
        ));
    }
    let total = components.len();
    let timestamp = epoch.map_or_else(String::new, |e| {
        format!("\"timestamp\":\"{}\",", civil(e).1)
    });
    let own_licence = std::env::var("CARGO_PKG_LICENSE").unwrap_or_default();
    let doc = format!(
        "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"version\":1,\
\"metadata\":{{{timestamp}\"tools\":{{\"components\":[{{\"type\":\"application\",\"name\":\"observatory build script (cargo tree)\"}}]}},\
\"component\":{{\"type\":\"application\",\"bom-ref\":\"pkg:cargo/{n}@{v}\",\"name\":\"{n}\",\"version\":\"{v}\",\"purl\":\"pkg:cargo/{n}@{v}\",\"licenses\":[{{\"expression\":\"{l}\"}}]}},\
\"properties\":[{{\"name\":\"observatory:commit\",\"value\":\"{c}\"}},{{\"name\":\"observatory:target\",\"value\":\"{t}\"}},{{\"name\":\"observatory:profile\",\"value\":\"{p}\"}},{{\"name\":\"observatory:linked-crates\",\"value\":\"{linked_count}\"}}]}},\
\"components\":[{}]}}\n",
        components.join(","),
        n = esc(&name),
        v = esc(&version),
        l = esc(&own_licence),
        c = esc(commit),
        t = esc(&target),
        p = esc(&profile),
    );
    Ok((doc, (linked_count, total)))
}

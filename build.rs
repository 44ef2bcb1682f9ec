//! Build information for `observatory --version` and the About box: the git commit the build
//! comes from (`unknown` outside a git checkout, e.g. from the offline source bundle) and the
//! build date from `SOURCE_DATE_EPOCH` (never the clock: two builds of one commit are the same).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    let date = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map_or_else(
            || "unknown (SOURCE_DATE_EPOCH not set)".to_owned(),
            civil_date,
        );
    println!("cargo:rustc-env=OBSERVATORY_COMMIT={commit}");
    println!("cargo:rustc-env=OBSERVATORY_BUILD_DATE={date}");
}

/// `YYYY-MM-DD` (UTC) of a Unix time (days-from-civil, H. Hinnant's algorithm).
fn civil_date(seconds: i64) -> String {
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

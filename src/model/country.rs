//! Countries (ISO 3166-1) as built-in reference data, with EU / EEA / NATO membership.
//!
//! The table is `assets/reference/countries.csv`, compiled in; it is also copied into every
//! new observatory file (table `country`) so that `sqlite3` users see it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The reference table as shipped.
pub const COUNTRIES_CSV: &str = include_str!("../../assets/reference/countries.csv");

/// One country of the reference table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code.
    pub code: String,
    /// ISO 3166-1 alpha-3 code.
    pub alpha3: String,
    /// Short English name.
    pub name: String,
    /// Member State of the European Union.
    pub eu: bool,
    /// Member of the European Economic Area.
    pub eea: bool,
    /// Member of NATO.
    pub nato: bool,
}

static COUNTRIES: LazyLock<BTreeMap<String, Country>> = LazyLock::new(|| {
    COUNTRIES_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            // Names containing commas are quoted by the generator; split the quoted name out.
            let (code, rest) = line.split_once(',')?;
            let (alpha3, rest) = rest.split_once(',')?;
            let mut flags = rest.rsplitn(4, ',');
            let nato = flags.next()? == "1";
            let eea = flags.next()? == "1";
            let eu = flags.next()? == "1";
            let name = flags.next()?.trim_matches('"').to_owned();
            Some((
                code.to_owned(),
                Country {
                    code: code.to_owned(),
                    alpha3: alpha3.to_owned(),
                    name,
                    eu,
                    eea,
                    nato,
                },
            ))
        })
        .collect()
});

/// All countries, sorted by code.
pub fn all() -> impl Iterator<Item = &'static Country> {
    COUNTRIES.values()
}

/// The country with this alpha-2 code (after [`normalise`]).
#[must_use]
pub fn by_code(code: &str) -> Option<&'static Country> {
    COUNTRIES.get(&normalise(code)?)
}

/// The country with this alpha-3 code.
#[must_use]
pub fn by_alpha3(alpha3: &str) -> Option<&'static Country> {
    let upper = alpha3.trim().to_uppercase();
    COUNTRIES.values().find(|c| c.alpha3 == upper)
}

/// The canonical alpha-2 code for a typed code: upper-cased, `EL` -> `GR`, `UK` -> `GB`;
/// `None` when it is not a known code.
#[must_use]
pub fn normalise(code: &str) -> Option<String> {
    let upper = code.trim().to_uppercase();
    let canonical = match upper.as_str() {
        "EL" => "GR".to_owned(),
        "UK" => "GB".to_owned(),
        _ => upper,
    };
    COUNTRIES.contains_key(&canonical).then_some(canonical)
}

/// The code of the *unattributed* share of a supply: residual rows of a dataset ("Various",
/// "Various countries", "Various companies", "Other countries"). ISO 3166 leaves `ZZ` to
/// users (it is commonly "unknown"). It counts in an item's total and is never a country: it
/// has no concentration, no exposure and is never a single source.
pub const UNATTRIBUTED: &str = "ZZ";

/// A regional aggregate that a dataset reports instead of countries ("Europe", "EUR",
/// "Asia-Pacific"). Its code is from the ISO 3166 user-assigned range `XA`-`XZ` (`XK`, used for
/// Kosovo, excepted). A region is never a country: it counts in the total and in the
/// concentration as one supplier (so concentration is never understated), it is never the top
/// country or a single source, and it has no exposure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Its code (`XE`).
    pub code: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The names and codes datasets give it, lower case.
    pub aliases: &'static [&'static str],
}

/// The regions (documented in the crate's import docs; see [`Region`]).
pub const REGIONS: &[Region] = &[
    Region {
        code: "XE",
        name: "Europe (region)",
        aliases: &["europe", "eur", "european region", "rest of europe"],
    },
    Region {
        code: "XP",
        name: "Asia-Pacific (region)",
        aliases: &[
            "asia-pacific",
            "asia pacific",
            "apac",
            "rest of asia-pacific",
        ],
    },
    Region {
        code: "XA",
        name: "Asia (region)",
        aliases: &["asia", "rest of asia"],
    },
    Region {
        code: "XN",
        name: "North America (region)",
        aliases: &["north america", "nam"],
    },
    Region {
        code: "XL",
        name: "Latin America (region)",
        aliases: &[
            "latin america",
            "south america",
            "central and south america",
            "lam",
        ],
    },
    Region {
        code: "XF",
        name: "Africa (region)",
        aliases: &["africa", "rest of africa"],
    },
    Region {
        code: "XM",
        name: "Middle East (region)",
        aliases: &["middle east", "mena"],
    },
    Region {
        code: "XO",
        name: "Oceania (region)",
        aliases: &["oceania"],
    },
];

/// The region with this code.
#[must_use]
pub fn region(code: &str) -> Option<&'static Region> {
    let upper = code.trim().to_uppercase();
    REGIONS.iter().find(|r| r.code == upper)
}

/// The region a dataset names (`Europe`, `EUR`).
#[must_use]
pub fn region_named(name: &str) -> Option<&'static Region> {
    let lower = name.trim().to_lowercase();
    REGIONS.iter().find(|r| r.aliases.contains(&lower.as_str()))
}

/// A supply target that is not a record: a country (canonical alpha-2), a region code, or
/// [`UNATTRIBUTED`].
#[must_use]
pub fn supply_code(code: &str) -> Option<String> {
    let upper = code.trim().to_uppercase();
    if upper == UNATTRIBUTED {
        return Some(upper);
    }
    if let Some(r) = region(&upper) {
        return Some(r.code.to_owned());
    }
    normalise(&upper)
}

/// Whether `code` is an EU Member State.
#[must_use]
pub fn is_eu(code: &str) -> bool {
    by_code(code).is_some_and(|c| c.eu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_table_is_complete() {
        assert_eq!(all().count(), 249);
        assert_eq!(all().filter(|c| c.eu).count(), 27);
        assert_eq!(all().filter(|c| c.nato).count(), 32);
        assert_eq!(all().filter(|c| c.eea).count(), 30);
        assert_eq!(normalise("el").as_deref(), Some("GR"));
        assert_eq!(by_alpha3("chn").map(|c| c.code.as_str()), Some("CN"));
        assert!(is_eu("FR") && !is_eu("CN") && !is_eu("XX"));
        assert!(by_code("TW").is_some_and(|c| c.name == "Taiwan"));
        // Regions and the unattributed rest are no countries, and no country uses their codes.
        for r in REGIONS {
            assert!(by_code(r.code).is_none(), "{} is a country", r.code);
        }
        assert!(by_code(UNATTRIBUTED).is_none());
        assert_eq!(supply_code("xe").as_deref(), Some("XE"));
        assert_eq!(supply_code("zz").as_deref(), Some("ZZ"));
        assert_eq!(region_named("EUR").map(|r| r.code), Some("XE"));
    }
}

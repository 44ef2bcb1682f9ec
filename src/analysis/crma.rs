//! Critical Raw Materials Act benchmarks (Regulation (EU) 2024/1252, Art. 5), read from the
//! supply figures of the register where the data allows.
//!
//! - **65 % from one third country**: no more than 65 % of the EU's annual consumption of a
//!   strategic raw material, at any relevant stage, from a single third country. Read from the
//!   CRM study's *EU sourcing* items (`… (processing, EU sourcing)`: where the EU sources it),
//!   which are the EU's consumption; where only global supply figures exist, from those, and
//!   the flag says so (the EU's sourcing usually follows world supply, but it is not the same).
//! - **EU capacity**: EU extraction at least 10 %, processing at least 40 % and recycling at
//!   least 25 % of the EU's consumption. The register holds world production and recycling
//!   input rates, not EU consumption: the EU's share of world production at the stage stands in
//!   for extraction and processing, the end-of-life recycling input rate for recycling; each
//!   flag names what it was read from.
//!
//! A material is *strategic* when its name matches Annex I of the Regulation (bauxite /
//! alumina / aluminium, bismuth, boron, cobalt, copper, gallium, germanium, lithium, magnesium,
//! manganese, graphite, nickel, platinum group metals, rare earth elements for magnets, silicon
//! metal, titanium metal, tungsten). The stage is read from the item's `stage` (extraction /
//! mining; processing / refining / smelting).

use serde::Serialize;

use super::ItemConcentration;
use crate::model::{Record, country};

/// Largest share of EU consumption from one third country.
pub const SINGLE_COUNTRY_LIMIT: f64 = 0.65;
/// EU extraction, processing and recycling benchmarks, as shares of consumption.
pub const EU_EXTRACTION: f64 = 0.10;
/// See [`EU_EXTRACTION`].
pub const EU_PROCESSING: f64 = 0.40;
/// See [`EU_EXTRACTION`].
pub const EU_RECYCLING: f64 = 0.25;

/// Annex I of Regulation (EU) 2024/1252: the strategic raw materials, as name keywords.
const STRATEGIC: &[&str] = &[
    "bauxite",
    "alumina",
    "aluminium",
    "aluminum",
    "bismuth",
    "boron",
    "borate",
    "cobalt",
    "copper",
    "gallium",
    "germanium",
    "lithium",
    "magnesium",
    "manganese",
    "graphite",
    "nickel",
    "platinum",
    "palladium",
    "rhodium",
    "iridium",
    "ruthenium",
    "osmium",
    "pgm",
    "rare earth",
    "neodymium",
    "praseodymium",
    "dysprosium",
    "terbium",
    "samarium",
    "gadolinium",
    "cerium",
    "silicon metal",
    "metallurgical silicon",
    "titanium",
    "tungsten",
];

/// Words that make a name a compound or a product, not the raw material of Annex I
/// ("titanium dioxide", "gallium nitride", "lithium niobate", "boron carbide").
const COMPOUNDS: &[&str] = &[
    "oxide",
    "dioxide",
    "nitride",
    "arsenide",
    "phosphide",
    "niobate",
    "tantalate",
    "carbide",
    "sulfate",
    "sulphate",
    "chloride",
    "fluoride",
    "hydroxide",
    "carbonate",
    "wafer",
    "cell",
    "magnet",
    "alloy",
];

/// Whether an item's name is a strategic raw material of Annex I (and not a compound or a
/// product made of one).
#[must_use]
pub fn is_strategic(name: &str) -> bool {
    let lower = name.to_lowercase();
    STRATEGIC.iter().any(|k| lower.contains(k)) && !COMPOUNDS.iter().any(|c| lower.contains(c))
}

/// The stage of an item for the benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Extraction, mining.
    Extraction,
    /// Processing, refining, smelting.
    Processing,
}

fn stage_of(item: &Record) -> Option<Stage> {
    let text = format!(
        "{} {}",
        item.text("stage").unwrap_or_default(),
        item.text("name").unwrap_or_default()
    )
    .to_lowercase();
    let processing = ["process", "refin", "smelt"]
        .iter()
        .any(|k| text.contains(k));
    let extraction = ["extract", "mining", "mine"]
        .iter()
        .any(|k| text.contains(k));
    // Both named ("extraction and processing"): the stage is not known.
    match (extraction, processing) {
        (true, false) => Some(Stage::Extraction),
        (false, true) => Some(Stage::Processing),
        _ => None,
    }
}

/// One benchmark an item does not meet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// `single-third-country`, `eu-extraction`, `eu-processing` or `eu-recycling`.
    pub benchmark: &'static str,
    /// The figure, 0-1.
    pub value: f64,
    /// The benchmark, 0-1.
    pub limit: f64,
    /// Data year of the figure.
    pub year: Option<i64>,
    /// In words, with the data and its year.
    pub text: String,
}

/// The benchmarks `item` (with its concentration figures) does not meet; none for an item
/// that is not a strategic raw material (`item_kind` material, named in Annex I).
#[must_use]
pub fn flags(item: &Record, c: &ItemConcentration) -> Vec<Flag> {
    let name = item.text("name").unwrap_or_default();
    // Raw materials only: a battery cell is not lithium.
    if item.text("item_kind") != Some("material") || !is_strategic(name) {
        return Vec::new();
    }
    let stage = stage_of(item);
    let stage_text = match stage {
        Some(Stage::Extraction) => "extraction",
        Some(Stage::Processing) => "processing",
        None => "stage not recorded",
    };
    let eu_sourcing = name.to_lowercase().contains("eu sourcing");
    let year = c
        .year
        .map_or_else(|| "year not recorded".to_owned(), |y| y.to_string());
    let mut out = Vec::new();
    // The largest third country.
    if let Some((code, share)) = c
        .country_shares
        .iter()
        .filter(|(code, _)| !country::is_eu(code) && country::by_code(code).is_some())
        .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
        && *share > SINGLE_COUNTRY_LIMIT
    {
        let country = country::by_code(code).map_or(code.as_str(), |c| c.name.as_str());
        out.push(Flag {
            benchmark: "single-third-country",
            value: *share,
            limit: SINGLE_COUNTRY_LIMIT,
            year: c.year,
            text: format!(
                "exceeds 65 % from one third country: {country} {:.1} %, {stage_text}, {year}{}",
                share * 100.0,
                if eu_sourcing {
                    " (EU sourcing)"
                } else {
                    " (world supply: the EU's own sourcing is not recorded)"
                }
            ),
        });
    }
    if !eu_sourcing {
        let (benchmark, limit, what) = match stage {
            Some(Stage::Extraction) => ("eu-extraction", EU_EXTRACTION, "extraction"),
            Some(Stage::Processing) => ("eu-processing", EU_PROCESSING, "processing"),
            None => ("", 0.0, ""),
        };
        if !benchmark.is_empty() && c.eu_share < limit {
            out.push(Flag {
                benchmark,
                value: c.eu_share,
                limit,
                year: c.year,
                text: format!(
                    "EU {what} {:.1} % of world production{}, below the {:.0} % benchmark, {year} (EU consumption not recorded: world production stands in)",
                    c.eu_share * 100.0,
                    if c.country_basis == "country rows" {
                        String::new()
                    } else {
                        format!(" ({})", c.country_basis)
                    },
                    limit * 100.0
                ),
            });
        }
    }
    if let Some(rate) = item
        .fields
        .get("recycling_rate")
        .and_then(serde_json::Value::as_f64)
        && rate < EU_RECYCLING
    {
        out.push(Flag {
            benchmark: "eu-recycling",
            value: rate,
            limit: EU_RECYCLING,
            year: None,
            text: format!(
                "EU recycling {:.1} % (end-of-life recycling input rate, as recorded on the item), below the 25 % benchmark",
                rate * 100.0
            ),
        });
    }
    out
}

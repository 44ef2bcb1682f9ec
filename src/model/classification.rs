//! EU classification levels (DESIGN.md §6) and releasability.
//!
//! The order of the enum is the order of the levels: `Unclassified < Restricted < ... <
//! TopSecret`, so `max()` over records gives the marking of a view or an export.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An EU classification level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Classification {
    /// Not classified.
    #[default]
    Unclassified,
    /// RESTREINT UE/EU RESTRICTED.
    Restricted,
    /// CONFIDENTIEL UE/EU CONFIDENTIAL.
    Confidential,
    /// SECRET UE/EU SECRET.
    Secret,
    /// TRES SECRET UE/EU TOP SECRET.
    TopSecret,
}

impl Classification {
    /// All levels, lowest first.
    pub const ALL: [Classification; 5] = [
        Classification::Unclassified,
        Classification::Restricted,
        Classification::Confidential,
        Classification::Secret,
        Classification::TopSecret,
    ];

    /// The number stored in the database (0 = UNCLASSIFIED ... 4 = TOP SECRET).
    #[must_use]
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// The level stored under `rank`, if any.
    #[must_use]
    pub fn from_rank(rank: i64) -> Option<Self> {
        usize::try_from(rank)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// Short code used in files and on the command line: `UNCLASSIFIED`, `RESTRICTED`, ...
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Classification::Unclassified => "UNCLASSIFIED",
            Classification::Restricted => "RESTRICTED",
            Classification::Confidential => "CONFIDENTIAL",
            Classification::Secret => "SECRET",
            Classification::TopSecret => "TOP-SECRET",
        }
    }

    /// The marking as it is printed on banners and pages.
    #[must_use]
    pub fn marking(self) -> &'static str {
        match self {
            Classification::Unclassified => "UNCLASSIFIED",
            Classification::Restricted => "RESTREINT UE/EU RESTRICTED",
            Classification::Confidential => "CONFIDENTIEL UE/EU CONFIDENTIAL",
            Classification::Secret => "SECRET UE/EU SECRET",
            Classification::TopSecret => "TRES SECRET UE/EU TOP SECRET",
        }
    }

    /// Banner colour (sRGB) for this level: green, blue-grey, blue, red, orange-red.
    #[must_use]
    pub fn colour_rgb(self) -> [u8; 3] {
        match self {
            Classification::Unclassified => [0x00, 0x7a, 0x33],
            Classification::Restricted => [0x4a, 0x5a, 0x8a],
            Classification::Confidential => [0x00, 0x4f, 0xa3],
            Classification::Secret => [0xc8, 0x10, 0x2e],
            Classification::TopSecret => [0xe0, 0x6c, 0x00],
        }
    }

    /// The highest level of an iterator of levels; UNCLASSIFIED for none.
    pub fn highest(levels: impl IntoIterator<Item = Classification>) -> Classification {
        levels.into_iter().max().unwrap_or_default()
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.marking())
    }
}

/// A text that names no classification level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown classification level {0:?}: use UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET or TOP-SECRET"
)]
pub struct UnknownClassification(pub String);

impl FromStr for Classification {
    type Err = UnknownClassification;

    /// Accepts the codes, the full markings and common short forms (`U`, `R`, `RUE`, `C`,
    /// `S`, `TS`, `EU SECRET`, ...), case-insensitively.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let upper = text.trim().to_uppercase().replace(['_', '-'], " ");
        let level = match upper.as_str() {
            "U" | "UNCLASSIFIED" | "0" => Classification::Unclassified,
            "R"
            | "RUE"
            | "RESTRICTED"
            | "RESTREINT UE"
            | "EU RESTRICTED"
            | "RESTREINT UE/EU RESTRICTED"
            | "1" => Classification::Restricted,
            "C"
            | "CUE"
            | "CONFIDENTIAL"
            | "CONFIDENTIEL UE"
            | "EU CONFIDENTIAL"
            | "CONFIDENTIEL UE/EU CONFIDENTIAL"
            | "2" => Classification::Confidential,
            "S" | "SUE" | "SECRET" | "SECRET UE" | "EU SECRET" | "SECRET UE/EU SECRET" | "3" => {
                Classification::Secret
            }
            "TS"
            | "TSUE"
            | "TOP SECRET"
            | "TRES SECRET UE"
            | "EU TOP SECRET"
            | "TRES SECRET UE/EU TOP SECRET"
            | "4" => Classification::TopSecret,
            _ => return Err(UnknownClassification(text.to_owned())),
        };
        Ok(level)
    }
}

impl Serialize for Classification {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Classification {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_parse() {
        assert!(Classification::Secret > Classification::Restricted);
        for level in Classification::ALL {
            assert_eq!(level.code().parse::<Classification>(), Ok(level));
            assert_eq!(level.marking().parse::<Classification>(), Ok(level));
            assert_eq!(
                Classification::from_rank(i64::from(level.rank())),
                Some(level)
            );
        }
        assert_eq!("eu secret".parse(), Ok(Classification::Secret));
        assert!("SECRETISH".parse::<Classification>().is_err());
        assert_eq!(Classification::from_rank(9), None);
        assert_eq!(Classification::highest([]), Classification::Unclassified);
    }
}

//! Hybrid logical clock (HLC): the timestamp on every change, so that merges between members
//! order changes the same way everywhere (DESIGN.md §7).
//!
//! A clock value is wall-clock milliseconds since the Unix epoch plus a counter that breaks
//! ties and keeps the clock monotonic when the wall clock stalls or goes back. Its text form is
//! fixed-width lower-case hex, `WWWWWWWWWWWW-CCCC` (12 + 4 digits), so text order is clock
//! order; the author's fingerprint is kept beside it, not inside it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One hybrid logical clock value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    /// Wall-clock milliseconds since the Unix epoch.
    pub wall_ms: u64,
    /// Logical counter within one millisecond.
    pub counter: u16,
}

impl Hlc {
    /// The largest wall-clock value the text form holds (12 hex digits, year 10889).
    pub const MAX_WALL_MS: u64 = 0xffff_ffff_ffff;

    /// The next clock value after `last`, given the current wall clock.
    #[must_use]
    pub fn tick(last: Hlc, now_ms: u64) -> Hlc {
        let now_ms = now_ms.min(Self::MAX_WALL_MS);
        if now_ms > last.wall_ms {
            Hlc {
                wall_ms: now_ms,
                counter: 0,
            }
        } else if last.counter < u16::MAX {
            Hlc {
                wall_ms: last.wall_ms,
                counter: last.counter + 1,
            }
        } else {
            Hlc {
                wall_ms: last.wall_ms.saturating_add(1).min(Self::MAX_WALL_MS),
                counter: 0,
            }
        }
    }

    /// The wall-clock part as `YYYY-MM-DD HH:MM` UTC, or an empty text for the zero clock
    /// (built-in reference data).
    #[must_use]
    pub fn to_utc_minutes(self) -> String {
        if self.wall_ms == 0 {
            return String::new();
        }
        let nanos = i128::from(self.wall_ms) * 1_000_000;
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_default()
    }

    /// The current wall clock in milliseconds since the epoch.
    #[must_use]
    pub fn now_ms() -> u64 {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        u64::try_from(nanos / 1_000_000).unwrap_or(0)
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012x}-{:04x}", self.wall_ms, self.counter)
    }
}

/// A text that is not a clock value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid clock value {0:?}: expected 12 hex digits, '-', 4 hex digits")]
pub struct InvalidHlc(pub String);

impl FromStr for Hlc {
    type Err = InvalidHlc;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidHlc(text.to_owned());
        let (wall, counter) = text.split_once('-').ok_or_else(bad)?;
        let hex = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if wall.len() != 12 || counter.len() != 4 || !hex(wall) || !hex(counter) {
            return Err(bad());
        }
        Ok(Hlc {
            wall_ms: u64::from_str_radix(wall, 16).map_err(|_| bad())?,
            counter: u16::from_str_radix(counter, 16).map_err(|_| bad())?,
        })
    }
}

impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_is_monotonic_and_text_sorts() {
        let a = Hlc {
            wall_ms: 1000,
            counter: 0,
        };
        let b = Hlc::tick(a, 900);
        assert!(b > a);
        let c = Hlc::tick(b, 2000);
        assert_eq!(
            c,
            Hlc {
                wall_ms: 2000,
                counter: 0
            }
        );
        let full = Hlc {
            wall_ms: 5,
            counter: u16::MAX,
        };
        assert!(Hlc::tick(full, 5) > full);
        assert!(a.to_string() < b.to_string() && b.to_string() < c.to_string());
        assert_eq!(c.to_string().parse::<Hlc>(), Ok(c));
        assert!("zz".parse::<Hlc>().is_err());
        assert_eq!(
            Hlc {
                wall_ms: 1_767_225_600_000,
                counter: 3
            }
            .to_utc_minutes(),
            "2026-01-01 00:00"
        );
        assert_eq!(Hlc::default().to_utc_minutes(), "");
        assert!("00000000000A-0000".parse::<Hlc>().is_err());
    }
}

//! Blocs of partner countries (the `bloc` record kind): the built-in ones, and reading a
//! figure for a bloc.
//!
//! Four blocs are built in, as reference records with the same ids in every file: **EU** (the
//! 27 Member States), **EU+EEA** (with Iceland, Liechtenstein, Norway) and **NATO** (its 32
//! members), read from the country table and immutable (a change to them, by anyone and by any
//! path, does not count), and **like-minded** (EU, EEA, US, CA, JP, KR, AU, NZ, GB, CH), which
//! members edit like the reference technologies (the edit replicates). Members add their own
//! blocs under other names.
//!
//! For a bloc, a supply share is *inside* when its country is one of the bloc's; the
//! unattributed rest (`ZZ`) and regional aggregates (`XE` Europe, ...) are never inside, since
//! nothing says they are, so an item's bloc share is never overstated. A technology's
//! look-through exposure holds countries only (the analysis gives the rest and regions no
//! exposure): its exposure outside the bloc is that of the countries outside it.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::country;

/// The built-in blocs: name, description.
pub const BUILT_IN: [(&str, &str); 4] = [
    ("EU", "The 27 Member States of the European Union"),
    (
        "EU+EEA",
        "The EU and the EEA: Iceland, Liechtenstein, Norway",
    ),
    (
        "NATO",
        "The members of the North Atlantic Treaty Organization",
    ),
    (
        "like-minded",
        "The EU, the EEA, and the United States, Canada, Japan, South Korea, Australia, New Zealand, the United Kingdom and Switzerland (editable)",
    ),
];

/// The built-in blocs that are facts of treaties, read from the country table and never
/// changed: EU, EU+EEA, NATO ("like-minded" is the members' to edit).
pub const FIXED: [&str; 3] = ["EU", "EU+EEA", "NATO"];

/// Whether a record id is one of the [`FIXED`] built-in blocs.
#[must_use]
pub fn is_fixed_id(id: &str) -> bool {
    FIXED.iter().any(|n| built_in_id(n).to_string() == id)
}

/// Whether a name is taken by a built-in bloc (case-insensitive): a member's own bloc cannot
/// take it, so that no "EU" of someone's making stands in for the EU.
#[must_use]
pub fn is_built_in_name(name: &str) -> bool {
    let wanted = skeleton(name);
    BUILT_IN.iter().any(|(n, _)| skeleton(n) == wanted)
}

/// A name as it looks: lower case, ASCII look-alikes for Cyrillic and Greek letters, without
/// spaces, punctuation other than `+` and `-`, or invisible characters ("ЕU" with a Cyrillic
/// Е, "E U", "EU" with a zero-width space all look like "eu").
#[must_use]
pub fn skeleton(name: &str) -> String {
    name.chars()
        .filter_map(|c| {
            let c = match c {
                'А' | 'а' | 'Α' | 'α' => 'a',
                'В' | 'Β' | 'в' => 'b',
                'Е' | 'е' | 'Ε' | 'ε' | 'Ё' | 'ё' => 'e',
                'К' | 'к' | 'Κ' | 'κ' => 'k',
                'М' | 'м' | 'Μ' => 'm',
                'Н' | 'н' | 'Η' => 'h',
                'О' | 'о' | 'Ο' | 'ο' => 'o',
                'Р' | 'р' | 'Ρ' | 'ρ' => 'p',
                'С' | 'с' => 'c',
                'Т' | 'т' | 'Τ' | 'τ' => 't',
                'У' | 'у' | 'Υ' => 'y',
                'Х' | 'х' | 'Χ' | 'χ' => 'x',
                'І' | 'і' | 'Ι' | 'ι' => 'i',
                'Ѕ' | 'ѕ' => 's',
                'Ј' | 'ј' => 'j',
                'Ν' | 'ν' => 'n',
                'Ζ' => 'z',
                other => other,
            };
            (c.is_ascii_alphanumeric() || c == '+' || c == '-').then(|| c.to_ascii_lowercase())
        })
        .collect()
}

/// Whether a record id is a built-in bloc's.
#[must_use]
pub fn is_built_in_id(id: &str) -> bool {
    BUILT_IN
        .iter()
        .any(|(n, _)| built_in_id(n).to_string() == id)
}

/// Partners beyond the EU and the EEA in the built-in "like-minded" bloc.
pub const LIKE_MINDED_PARTNERS: [&str; 8] = ["US", "CA", "JP", "KR", "AU", "NZ", "GB", "CH"];

/// The id of a built-in bloc (the same in every file).
#[must_use]
pub fn built_in_id(name: &str) -> Uuid {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("observatory/reference/bloc/{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes)
}

/// The countries of a built-in bloc, sorted.
#[must_use]
pub fn built_in_countries(name: &str) -> Vec<String> {
    let mut out: BTreeSet<String> = country::all()
        .filter(|c| match name {
            "EU" => c.eu,
            "EU+EEA" | "like-minded" => c.eu || c.eea,
            "NATO" => c.nato,
            _ => false,
        })
        .map(|c| c.code.clone())
        .collect();
    if name == "like-minded" {
        out.extend(LIKE_MINDED_PARTNERS.iter().map(|c| (*c).to_owned()));
    }
    out.into_iter().collect()
}

/// A bloc as the analysis reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bloc {
    /// Its name.
    pub name: String,
    /// Its countries (alpha-2).
    pub countries: BTreeSet<String>,
}

impl Bloc {
    /// Whether a supplier code is inside the bloc (a country of it; never `ZZ` or a region).
    #[must_use]
    pub fn contains(&self, code: &str) -> bool {
        self.countries.contains(code)
    }

    /// The share of `shares` (code → share) from inside the bloc.
    #[must_use]
    pub fn share<'a>(&self, shares: impl IntoIterator<Item = (&'a String, &'a f64)>) -> f64 {
        shares
            .into_iter()
            .filter(|(c, _)| self.contains(c))
            .map(|(_, s)| *s)
            .sum()
    }

    /// The share of `shares` from outside the bloc (everything else, `ZZ` and regions too).
    #[must_use]
    pub fn outside<'a>(&self, shares: impl IntoIterator<Item = (&'a String, &'a f64)>) -> f64 {
        shares
            .into_iter()
            .filter(|(c, _)| !self.contains(c))
            .map(|(_, s)| *s)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_blocs_have_their_members() {
        assert_eq!(built_in_countries("EU").len(), 27);
        assert_eq!(built_in_countries("EU+EEA").len(), 30);
        let nato = built_in_countries("NATO");
        assert!(nato.contains(&"US".to_owned()) && nato.contains(&"TR".to_owned()));
        assert!(!nato.contains(&"AT".to_owned()), "Austria is neutral");
        let like = built_in_countries("like-minded");
        assert_eq!(like.len(), 38);
        assert!(like.contains(&"JP".to_owned()) && !like.contains(&"CN".to_owned()));
        assert_ne!(built_in_id("EU"), built_in_id("NATO"));
        for spoof in ["ЕU", "E U", "eu\u{200B}", "NАTO", "Like-Minded", "eu+EEA"] {
            assert!(is_built_in_name(spoof), "{spoof}");
        }
        assert!(!is_built_in_name("Nordic-Baltic") && !is_built_in_name("EUR"));
        let eu = Bloc {
            name: "EU".into(),
            countries: built_in_countries("EU").into_iter().collect(),
        };
        let shares: Vec<(String, f64)> = vec![
            ("CN".into(), 0.6),
            ("DE".into(), 0.2),
            ("ZZ".into(), 0.1),
            ("XE".into(), 0.1),
        ];
        let it = || shares.iter().map(|(c, s)| (c, s));
        assert!((eu.share(it()) - 0.2).abs() < 1e-12);
        assert!(
            (eu.outside(it()) - 0.8).abs() < 1e-12,
            "ZZ and regions are outside"
        );
    }
}

//! Checks of a bundle's changes: their form, their authors' signatures against the keyring,
//! and their values by the rules of a local edit.

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use super::ExchangeError;
use super::format::Change;
use crate::crypto::Profile;
use crate::crypto::change::{read_signature, verify_many};
use crate::model::record::{check_required, normalise_releasability, normalise_value};
use crate::model::{Classification, Hlc, Kind};

/// How far a member's card is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Verified: its changes are accepted.
    Verified,
    /// In the keyring, not (or no longer) verified.
    Unverified,
    /// Revoked at this time (Unix ms): changes with a clock at or after it are refused.
    Revoked {
        /// When.
        at_ms: u64,
    },
}

/// One member's key and trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEntry {
    /// Ed25519 key from the card.
    pub key: VerifyingKey,
    /// Trust.
    pub trust: Trust,
}

/// The keys a receiver checks changes against, by member id (the receiver's own included).
pub type Keyring = BTreeMap<String, KeyEntry>;

/// A change whose form was checked.
#[derive(Debug, Clone, Copy)]
pub struct Checked<'a> {
    /// Its position in the bundle (0-based).
    pub index: usize,
    /// The change.
    pub change: &'a Change,
    /// Record kind.
    pub kind: Kind,
    /// Record id.
    pub id: uuid::Uuid,
    /// Clock.
    pub hlc: Hlc,
}

/// Checks the form of every change (kinds, ids, clocks, authors, fields, digests, readable
/// values). A change that fails refuses the bundle: its sender vouched for it.
pub fn check_form(changes: &[Change]) -> Result<Vec<Checked<'_>>, ExchangeError> {
    let mut out = Vec::with_capacity(changes.len());
    for (index, c) in changes.iter().enumerate() {
        let bad = |what: String| ExchangeError::BadChange {
            index: index + 1,
            why: what,
        };
        let kind: Kind = c
            .record_kind
            .parse()
            .map_err(|_| bad("unknown record kind".into()))?;
        let id = uuid::Uuid::parse_str(&c.record_id).map_err(|_| bad("bad record id".into()))?;
        if id.to_string() != c.record_id {
            return Err(bad("the record id is not in its canonical form".into()));
        }
        let hlc: Hlc = c.hlc.parse().map_err(|_| bad("bad clock".into()))?;
        if hlc.to_string() != c.hlc {
            return Err(bad("the clock is not in its canonical form".into()));
        }
        if c.author.len() != 40
            || !c
                .author
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        {
            return Err(bad("bad author".into()));
        }
        let known_field = c.field == "*"
            || matches!(
                c.field.as_str(),
                "classification" | "releasable_to" | "deleted"
            )
            || kind.field(&c.field).is_some();
        if !known_field {
            return Err(bad(format!("unknown field {:?} of a {kind}", c.field)));
        }
        if c.value_sha256.len() != 64
            || !c
                .value_sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("bad value digest".into()));
        }
        match &c.value {
            Some(v) => {
                if serde_json::from_str::<Value>(v).is_err() {
                    return Err(bad("the value is not JSON".into()));
                }
                if !c.value_matches_digest() {
                    return Err(bad("the value does not match its digest".into()));
                }
            }
            None if c.field != "*" => {
                return Err(bad("only a creation may be sent without its values".into()));
            }
            None => {}
        }
        if read_signature(&c.signature).is_none() {
            return Err(bad("the author's signature cannot be read".into()));
        }
        out.push(Checked {
            index,
            change: c,
            kind,
            id,
            hlc,
        });
    }
    Ok(out)
}

/// For each checked change, `None` if its author's signature verifies against a trusted card
/// of the keyring, else why it is refused.
#[must_use]
pub fn check_authors(checked: &[Checked<'_>], keyring: &Keyring) -> Vec<Option<String>> {
    let mut verdicts: Vec<Option<String>> = vec![None; checked.len()];
    let mut to_verify = Vec::with_capacity(checked.len());
    let mut positions = Vec::with_capacity(checked.len());
    for (i, c) in checked.iter().enumerate() {
        let author = &c.change.author;
        let Some(entry) = keyring.get(author) else {
            verdicts[i] = Some(format!(
                "its author {} is not in your keyring",
                crate::fsutil::group_hex(author)
            ));
            continue;
        };
        match entry.trust {
            Trust::Verified | Trust::Revoked { .. } if !revoked_before(entry.trust, c.hlc) => {}
            Trust::Unverified => {
                verdicts[i] = Some(format!(
                    "its author {} is not verified in your keyring",
                    crate::fsutil::group_hex(author)
                ));
                continue;
            }
            Trust::Verified | Trust::Revoked { .. } => {
                verdicts[i] = Some(format!(
                    "its author {} was revoked before it was made",
                    crate::fsutil::group_hex(author)
                ));
                continue;
            }
        }
        let Some(signature) = read_signature(&c.change.signature) else {
            verdicts[i] = Some("its signature cannot be read".into());
            continue;
        };
        to_verify.push((c.change.id().message(), signature, entry.key));
        positions.push(i);
    }
    for (ok, i) in verify_many(&to_verify).into_iter().zip(positions) {
        if !ok {
            verdicts[i] = Some(format!(
                "its signature does not verify against the card of its author {}: forged or altered",
                crate::fsutil::group_hex(&checked[i].change.author)
            ));
        }
    }
    verdicts
}

/// Whether a change made at `hlc` comes at or after its author's revocation.
fn revoked_before(trust: Trust, hlc: Hlc) -> bool {
    matches!(trust, Trust::Revoked { at_ms } if hlc.wall_ms >= at_ms)
}

/// Checks a change's value by the rules of a local edit (types, codes, ranges, lengths, one
/// line, required fields; a level at or below the receiver's clearance, a releasability that
/// includes the receiver's Member State), and that it is in the normalised form a member's
/// file writes. The error says why.
pub fn check_value(c: &Checked<'_>, receiver: &Profile) -> Result<(), String> {
    let clearance = receiver.clearance;
    let value = c.change.json();
    let level_ok = |v: &Value| -> Result<(), String> {
        let level: Classification = v
            .as_str()
            .ok_or("the classification is not text")?
            .parse()
            .map_err(|_| "unknown classification".to_owned())?;
        if level > clearance {
            return Err(format!(
                "it carries a record marked {}, above your clearance ({})",
                level.marking(),
                clearance.marking()
            ));
        }
        Ok(())
    };
    let states_ok = |v: &Value| -> Result<(), String> {
        let codes: Vec<String> =
            serde_json::from_value(v.clone()).map_err(|_| "the releasability is not a list")?;
        match normalise_releasability(&codes) {
            Ok(n) if n != codes => {
                Err("the releasability is not a sorted list of Member State codes".into())
            }
            Ok(_) if !codes.is_empty() && !codes.contains(&receiver.member_state) => Err(format!(
                "it carries a record not releasable to your Member State ({})",
                receiver.member_state
            )),
            Ok(_) => Ok(()),
            Err(_) => Err("the releasability is not a sorted list of Member State codes".into()),
        }
    };
    let field_ok = |name: &str, v: &Value| -> Result<(), String> {
        let field = c
            .kind
            .field(name)
            .ok_or_else(|| format!("{name:?} is not a field of a {}", c.kind))?;
        match normalise_value(field, v) {
            Ok(Some(n)) if &n == v => Ok(()),
            Ok(None) if v.is_null() && field.required => {
                Err(format!("{name} is required: it cannot be cleared"))
            }
            Ok(None) if v.is_null() => Ok(()),
            Ok(_) => Err(format!("{name}: not in its normalised form")),
            Err(e) => Err(e.to_string()),
        }
    };
    match c.change.field.as_str() {
        "*" => {
            if c.change.value.is_none() {
                return Ok(());
            }
            let Some(map) = value.as_object() else {
                return Err("a creation without its values".into());
            };
            let mut fields = BTreeMap::new();
            for (k, v) in map {
                match k.as_str() {
                    "classification" => level_ok(v)?,
                    "releasable_to" => states_ok(v)?,
                    name => {
                        field_ok(name, v)?;
                        if !v.is_null() {
                            fields.insert(name.to_owned(), v.clone());
                        }
                    }
                }
            }
            if !map.contains_key("classification") {
                return Err("a new record without its classification".into());
            }
            check_required(c.kind, &fields).map_err(|e| e.to_string())
        }
        "classification" => level_ok(&value),
        "releasable_to" => states_ok(&value),
        "deleted" => {
            if value.is_boolean() {
                Ok(())
            } else {
                Err("the tombstone is not true or false".into())
            }
        }
        name => field_ok(name, &value),
    }
}

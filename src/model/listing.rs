//! Versions of the list of critical technologies (the `list_version` record kind): what a
//! version holds, the built-in version 1 (the EU 2023 list), what accepting proposals makes,
//! and the difference between two versions.
//!
//! A version's `entries` field is a JSON array of objects `{"id", "name", "area"}`: the id of
//! the technology record, its name and its area code on that version, sorted by area then
//! name then id. A version never changes once made (see [`super::control`]): the list as it
//! was stays readable, whatever happens to the technology records later.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::reference;

/// One technology on a version of the list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// Area code (sorted first).
    pub area: String,
    /// Name on that version.
    pub name: String,
    /// Id of the technology record.
    pub id: Uuid,
}

/// The `entries` text of a list of entries (sorted; one form for the same list).
#[must_use]
pub fn entries_text(entries: &[Entry]) -> String {
    let mut sorted = entries.to_vec();
    sorted.sort();
    sorted.dedup_by(|a, b| a.id == b.id);
    let values: Vec<serde_json::Value> = sorted
        .iter()
        .map(|e| serde_json::json!({"id": e.id.to_string(), "name": e.name, "area": e.area}))
        .collect();
    serde_json::Value::Array(values).to_string()
}

/// Reads an `entries` text; `None` if it is not a list of entries.
#[must_use]
pub fn parse_entries(text: &str) -> Option<Vec<Entry>> {
    let mut entries: Vec<Entry> = serde_json::from_str(text).ok()?;
    entries.sort();
    Some(entries)
}

/// The id of the built-in version 1 (the same in every file).
#[must_use]
pub fn version_one_id() -> Uuid {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(b"observatory/reference/list_version/1");
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes)
}

/// The fields of version 1, the EU 2023 list (Recommendation (EU) 2023/2113).
pub fn version_one_fields()
-> Result<std::collections::BTreeMap<String, serde_json::Value>, reference::ReferenceError> {
    let list = reference::technology_list()?;
    let entries: Vec<Entry> = list
        .areas
        .iter()
        .flat_map(|a| {
            a.technologies.iter().map(|t| Entry {
                area: a.code.clone(),
                name: t.name.clone(),
                id: reference::reference_technology_id(&t.code),
            })
        })
        .collect();
    let mut fields = std::collections::BTreeMap::new();
    fields.insert(
        "title".to_owned(),
        serde_json::Value::from(format!(
            "EU list of critical technologies of {} (Recommendation (EU) 2023/2113)",
            list.date
        )),
    );
    fields.insert("number".to_owned(), serde_json::Value::from(1));
    fields.insert(
        "date".to_owned(),
        serde_json::Value::from(list.date.clone()),
    );
    fields.insert(
        "entries".to_owned(),
        serde_json::Value::from(entries_text(&entries)),
    );
    Ok(fields)
}

/// What a version says of its place in the sequence of versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionHead {
    /// Record id.
    pub id: Uuid,
    /// Its number.
    pub number: i64,
    /// The version it revises.
    pub previous: Option<Uuid>,
}

/// Which versions are part of the list's history, and why the others are not. Version 1 is
/// the built-in one (its id is [`version_one_id`]); version `n + 1` counts only if it revises
/// a counted version `n`. Anything else (another "version 1", a number that skips, a previous
/// version that does not count) is shown with its problem and never used. Two counted versions
/// of one number were made concurrently by two members: both count, and the one with the
/// smaller id is the one in force (see [`in_force`]).
#[must_use]
pub fn check_chain(versions: &[VersionHead]) -> std::collections::BTreeMap<Uuid, Option<String>> {
    let mut out = std::collections::BTreeMap::new();
    let mut sorted: Vec<&VersionHead> = versions.iter().collect();
    sorted.sort_by_key(|v| (v.number, v.id));
    for v in sorted {
        let problem = if v.number == 1 {
            (v.id != version_one_id())
                .then(|| "claims to be version 1, which is built in: ignored".to_owned())
        } else {
            match v.previous {
                None => Some("revises no version: ignored".to_owned()),
                Some(p) => match versions.iter().find(|x| x.id == p) {
                    None => Some("revises a version that is not here: ignored".to_owned()),
                    Some(prev) if out.get(&prev.id) != Some(&None) => {
                        Some("revises a version that does not count: ignored".to_owned())
                    }
                    Some(prev) if prev.number + 1 != v.number => Some(format!(
                        "numbered {} but revises version {}: ignored",
                        v.number, prev.number
                    )),
                    Some(_) => None,
                },
            }
        };
        out.insert(v.id, problem);
    }
    out
}

/// The id of the version in force of `number` among those that count (the smaller id when two
/// were made concurrently), or of the newest number when `number` is `None`.
#[must_use]
pub fn in_force(versions: &[VersionHead], number: Option<i64>) -> Option<Uuid> {
    let chain = check_chain(versions);
    let counted: Vec<&VersionHead> = versions
        .iter()
        .filter(|v| chain.get(&v.id) == Some(&None))
        .collect();
    let wanted = number.or_else(|| counted.iter().map(|v| v.number).max())?;
    counted
        .iter()
        .filter(|v| v.number == wanted)
        .map(|v| v.id)
        .min()
}

/// What changed for one technology between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum Difference {
    /// On the newer version only.
    Added {
        /// The entry.
        entry: Entry,
    },
    /// On the older version only.
    Removed {
        /// The entry.
        entry: Entry,
    },
    /// On both, under another name.
    Renamed {
        /// Technology id.
        id: Uuid,
        /// Name before.
        from: String,
        /// Name after.
        to: String,
    },
    /// On both, in another area.
    Moved {
        /// Technology id.
        id: Uuid,
        /// Name on the newer version.
        name: String,
        /// Area before.
        from: String,
        /// Area after.
        to: String,
    },
}

/// The differences from `old` to `new`, by technology (removed, then added, renamed, moved;
/// each sorted by name).
#[must_use]
pub fn diff(old: &[Entry], new: &[Entry]) -> Vec<Difference> {
    let find = |list: &[Entry], id: Uuid| list.iter().find(|e| e.id == id).cloned();
    let mut out = Vec::new();
    let mut removed: Vec<&Entry> = old.iter().filter(|e| find(new, e.id).is_none()).collect();
    removed.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    out.extend(
        removed
            .into_iter()
            .map(|e| Difference::Removed { entry: e.clone() }),
    );
    let mut added: Vec<&Entry> = new.iter().filter(|e| find(old, e.id).is_none()).collect();
    added.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    out.extend(
        added
            .into_iter()
            .map(|e| Difference::Added { entry: e.clone() }),
    );
    let mut both: Vec<(&Entry, Entry)> = new
        .iter()
        .filter_map(|n| find(old, n.id).map(|o| (n, o)))
        .collect();
    both.sort_by(|a, b| (&a.0.name, a.0.id).cmp(&(&b.0.name, b.0.id)));
    for (n, o) in &both {
        if n.name != o.name {
            out.push(Difference::Renamed {
                id: n.id,
                from: o.name.clone(),
                to: n.name.clone(),
            });
        }
    }
    for (n, o) in &both {
        if n.area != o.area {
            out.push(Difference::Moved {
                id: n.id,
                name: n.name.clone(),
                from: o.area.clone(),
                to: n.area.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_one_holds_the_reference_list_and_diffs_read_each_change() {
        let fields = version_one_fields().unwrap();
        let entries = parse_entries(fields["entries"].as_str().unwrap()).unwrap();
        let list = reference::technology_list().unwrap();
        let count: usize = list.areas.iter().map(|a| a.technologies.len()).sum();
        assert_eq!(entries.len(), count);
        assert_eq!(
            parse_entries(&entries_text(&entries)).unwrap(),
            entries,
            "one form"
        );
        let mut next = entries.clone();
        let gone = next.remove(0);
        next[0].name = "Renamed".into();
        next[1].area = "quantum".into();
        let new = Entry {
            area: "ai".into(),
            name: "New".into(),
            id: Uuid::nil(),
        };
        next.push(new.clone());
        let d = diff(&entries, &next);
        assert_eq!(d[0], Difference::Removed { entry: gone });
        assert_eq!(d[1], Difference::Added { entry: new });
        assert!(matches!(&d[2], Difference::Renamed { to, .. } if to == "Renamed"));
        let moved = d
            .iter()
            .filter(|x| matches!(x, Difference::Moved { .. }))
            .count();
        assert_eq!(moved, usize::from(entries[2].area != "quantum"));
        assert!(diff(&entries, &entries).is_empty());
    }

    #[test]
    fn only_an_unbroken_sequence_of_versions_counts() {
        let id = |n: u8| Uuid::from_bytes([n; 16]);
        let head = |id, number, previous| VersionHead {
            id,
            number,
            previous,
        };
        let one = version_one_id();
        let versions = vec![
            head(one, 1, None),
            head(id(2), 2, Some(one)),
            head(id(3), 2, Some(one)), // concurrent with id(2)
            head(id(4), 3, Some(id(2))),
            head(id(9), 1, None),              // a forged version 1
            head(id(8), 100_000, Some(id(4))), // skips numbers
            head(id(7), 4, Some(id(9))),       // revises the forged one
            head(id(6), 5, None),              // revises nothing
        ];
        let chain = check_chain(&versions);
        for ok in [one, id(2), id(3), id(4)] {
            assert_eq!(chain[&ok], None, "{ok}");
        }
        for bad in [id(9), id(8), id(7), id(6)] {
            assert!(chain[&bad].is_some(), "{bad}");
        }
        assert_eq!(in_force(&versions, None), Some(id(4)));
        assert_eq!(in_force(&versions, Some(2)), Some(id(2)), "the smaller id");
        assert_eq!(in_force(&versions, Some(1)), Some(one));
        assert_eq!(in_force(&versions, Some(7)), None);
    }
}

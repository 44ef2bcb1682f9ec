//! Originator control (DESIGN.md §6; Council Decision 2013/488/EU): classified information is
//! downgraded or declassified only with the consent of its originator.
//!
//! A record's **originator** is the author of its creation change (the change-log row with
//! field `*`); built-in reference records have none. The two *guarded* fields are
//! `classification` and `releasable_to`:
//! - a change by the originator always counts;
//! - a change by anyone else counts only in the safe direction: a level at or above the one
//!   standing before it, a releasability at most as wide (a subset of the Member States
//!   standing before it; an empty list means the whole group, the widest);
//! - any other change is a **proposal**: kept in the change log and relayed (so that the
//!   originator receives it), never applied; the originator may accept it (their own new
//!   change) or reject it.
//!
//! "Standing before it" is decided by walking every change of the field in clock order
//! (clock, then author), starting from the creation value. The result depends only on the set
//! of changes, not on the order they arrived in, so members converge: a change that counted
//! can stop counting when an older change arrives later (and the other way round).
//! A creation whose values were withheld (see the bundle format) starts from the most
//! restricted state: TOP SECRET, releasable to nobody, so that only the originator's later
//! changes can open it.

//!
//! Some records belong to their originator as a whole (**ownership**, [`ownership`]): a
//! consultation round (its coordinator decides its questions, deadline and closing), an answer
//! to a round or a consolidated assessment (an assessment with a `round_id` in any of its
//! rows: a member's answer is theirs alone, so nobody can put words in another Member State's
//! mouth), and a version of the list, which is immutable. Whether an assessment answers a
//! round is fixed by its creation row: its `round_id` and `assessment_kind` never change
//! afterwards (so nobody turns a plain assessment into an answer, an answer into a
//! consolidated assessment, or the other way round). For an owned record, a change of any
//! field (also `classification`, `releasable_to` and `deleted`: the originator decides the
//! level of their own answer) counts only when its originator made it; a list version's fields
//! never change after its creation. Every other change is a proposal, as above.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Classification, Hlc, Kind};

/// Who may change the fields of a record (besides the guarded ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Any member (the newest change counts).
    Shared,
    /// Only its originator.
    Originator,
    /// Nobody: it is immutable once created.
    Frozen,
}

/// The releasability common to all these lists (`[]` = the whole group): `Some([])` if all
/// are open to the whole group, `Some(states)` those every list allows, `None` if no Member
/// State is in all of them (then nothing made from them may be released to anyone).
#[must_use]
pub fn common_releasability<'a>(
    lists: impl IntoIterator<Item = &'a [String]>,
) -> Option<Vec<String>> {
    let mut common: Option<BTreeSet<String>> = None;
    for list in lists {
        if list.is_empty() {
            continue;
        }
        let these: BTreeSet<String> = list.iter().cloned().collect();
        common = Some(match common {
            None => these,
            Some(before) => before.intersection(&these).cloned().collect(),
        });
    }
    match common {
        None => Some(Vec::new()),
        Some(set) if set.is_empty() => None,
        Some(set) => Some(set.into_iter().collect()),
    }
}

/// Fields of a shared record that only its originator changes: what a proposal to revise
/// the list proposes (its action, technology, name, area, criteria, rationale, sources), so
/// that nobody changes it under the members' stances; its decision (`status`, `decided`,
/// `list_version`) is anyone's.
#[must_use]
pub fn originator_field(kind: Kind, field: &str) -> bool {
    kind == Kind::Proposal
        && matches!(
            field,
            "action" | "technology_id" | "name" | "area" | "criteria" | "rationale" | "source_ids"
        )
}

/// Fields set only at a record's creation: no later change of them counts, by anyone.
#[must_use]
pub fn creation_only(kind: Kind, field: &str) -> bool {
    kind == Kind::Assessment && (field == "round_id" || field == "assessment_kind")
}

/// The ownership of a record of `kind`; `ties_to_round`: whether its creation row sets a
/// `round_id` (or was withheld from this member).
#[must_use]
pub fn ownership(kind: Kind, ties_to_round: bool) -> Ownership {
    match kind {
        Kind::Round => Ownership::Originator,
        Kind::ListVersion => Ownership::Frozen,
        Kind::Assessment if ties_to_round => Ownership::Originator,
        _ => Ownership::Shared,
    }
}

/// The fields that follow originator control.
pub const GUARDED_FIELDS: [&str; 2] = ["classification", "releasable_to"];

/// Whether `field` follows originator control.
#[must_use]
pub fn is_guarded(field: &str) -> bool {
    GUARDED_FIELDS.contains(&field)
}

/// One change of a guarded field (or the creation value of it), as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardedChange {
    /// Clock.
    pub hlc: Hlc,
    /// Author id.
    pub author: String,
    /// The value set (`classification`: a level code; `releasable_to`: a list of codes).
    pub value: Value,
}

/// The outcome of the walk over one guarded field.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Walk {
    /// The index (in the changes given) of the change that stands, if any counted.
    pub standing: Option<usize>,
    /// The indexes of the changes that are proposals (not applied), in clock order.
    pub proposals: Vec<usize>,
}

/// The state of a guarded field during the walk.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Level(Classification),
    /// `None`: the whole group; `Some(set)`: those Member States (empty: nobody).
    States(Option<BTreeSet<String>>),
}

fn read_state(field: &str, value: &Value) -> Option<State> {
    if field == "classification" {
        value.as_str()?.parse().ok().map(State::Level)
    } else {
        let list: Vec<String> = serde_json::from_value(value.clone()).ok()?;
        Some(State::States(
            (!list.is_empty()).then(|| list.into_iter().collect()),
        ))
    }
}

/// Whether going from `before` to `after` is the safe direction (raising, narrowing or the
/// same). Values that cannot be read are never safe.
fn is_safe(before: &State, after: &State) -> bool {
    match (before, after) {
        (State::Level(b), State::Level(a)) => a >= b,
        (State::States(b), State::States(a)) => match (b, a) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(b), Some(a)) => a.is_subset(b),
        },
        _ => false,
    }
}

/// Walks the changes of a guarded field (`changes` in any order; the creation value, if the
/// record's creation row is known, is `creation`: `Some(None)` for a creation whose values
/// were withheld). `originator`: the creation row's author (`None`: a reference record).
#[must_use]
pub fn walk(
    field: &str,
    originator: Option<&str>,
    creation: Option<Option<&GuardedChange>>,
    changes: &[GuardedChange],
) -> Walk {
    let mut order: Vec<usize> = (0..changes.len()).collect();
    order.sort_by(|&a, &b| {
        (changes[a].hlc, &changes[a].author).cmp(&(changes[b].hlc, &changes[b].author))
    });
    let most_restricted = if field == "classification" {
        State::Level(Classification::TopSecret)
    } else {
        State::States(Some(BTreeSet::new()))
    };
    let mut current = match creation {
        Some(Some(c)) => read_state(field, &c.value).unwrap_or(most_restricted),
        Some(None) | None => most_restricted,
    };
    let mut out = Walk::default();
    for i in order {
        let change = &changes[i];
        let Some(next) = read_state(field, &change.value) else {
            out.proposals.push(i);
            continue;
        };
        let by_originator = originator.is_some_and(|o| o == change.author);
        if by_originator || is_safe(&current, &next) {
            current = next;
            out.standing = Some(i);
        } else {
            out.proposals.push(i);
        }
    }
    out
}

/// Whether a change of a guarded field from `before` to `after` is in the safe direction
/// (for a message before an edit is made).
#[must_use]
pub fn is_safe_change(field: &str, before: &Value, after: &Value) -> bool {
    match (read_state(field, before), read_state(field, after)) {
        (Some(b), Some(a)) => is_safe(&b, &a),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ch(wall_ms: u64, author: &str, value: Value) -> GuardedChange {
        GuardedChange {
            hlc: Hlc {
                wall_ms,
                counter: 0,
            },
            author: author.into(),
            value,
        }
    }

    #[test]
    fn only_the_originator_lowers_and_order_of_arrival_does_not_matter() {
        let creation = ch(1, "O", json!("SECRET"));
        let changes = vec![
            ch(3, "N", json!("RESTRICTED")),   // lowering by N: a proposal
            ch(2, "M", json!("TOP-SECRET")),   // raising by M: counts
            ch(4, "O", json!("CONFIDENTIAL")), // the originator lowers: counts
        ];
        let w = walk("classification", Some("O"), Some(Some(&creation)), &changes);
        assert_eq!(w.standing, Some(2));
        assert_eq!(w.proposals, vec![0]);
        let mut reversed = changes.clone();
        reversed.reverse();
        let r = walk(
            "classification",
            Some("O"),
            Some(Some(&creation)),
            &reversed,
        );
        assert_eq!(r.standing, Some(0));
        assert_eq!(r.proposals, vec![2]);
        // Without the raise, N's change is still below the originator's SECRET.
        let w = walk(
            "classification",
            Some("O"),
            Some(Some(&creation)),
            &changes[..1],
        );
        assert_eq!((w.standing, w.proposals), (None, vec![0]));
    }

    #[test]
    fn releasability_only_narrows_from_others() {
        let creation = ch(1, "O", json!(["FR"]));
        let changes = vec![
            ch(2, "N", json!([])),           // the whole group: wider
            ch(3, "N", json!(["FR", "DE"])), // wider
            ch(4, "M", json!(["FR"])),       // the same
        ];
        let w = walk("releasable_to", Some("O"), Some(Some(&creation)), &changes);
        assert_eq!((w.standing, w.proposals), (Some(2), vec![0, 1]));
        let open = ch(1, "O", json!([]));
        let w = walk("releasable_to", Some("O"), Some(Some(&open)), &changes);
        assert_eq!((w.standing, w.proposals), (Some(2), vec![]));
        // A withheld creation: nobody until the originator opens it.
        let w = walk("releasable_to", Some("O"), Some(None), &changes);
        assert_eq!(w.proposals, vec![0, 1, 2]);
        assert!(!is_safe_change(
            "classification",
            &json!("SECRET"),
            &json!("bogus")
        ));
    }
}

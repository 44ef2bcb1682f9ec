//! The consultation cycle of the expert group (COM(2022) 61, §2.3): rounds of questions to
//! the Member States, their answers, what they say together, the Delphi follow-up, the
//! consolidated assessment a closed round writes, proposals to revise the list, versions of
//! the list, and horizon scanning (watch status, the incubator's flagging for uptake).
//!
//! # Who answered
//! An answer is an `assessment` with a `round_id` and `assessment_kind = answer`. It belongs to
//! the member who created it (its *originator*, the author of its signed creation row): only
//! they change it, on their own file or through bundles (`model::control`). A round counts an
//! answer for the Member State on its originator's card, as this member's keyring holds it:
//! the owner's own card, or a *verified* member's. Answers by a member who is not verified
//! (or revoked) are shown apart and not counted; the `member_state` field an answer carries
//! is a label, never what counts. When a member answered a technology twice (two records),
//! the newer one counts (date, then clock).
//!
//! # The figures
//! Per technology and numeric question (TRL, criticality, supply risk): the number of
//! answers, the median (the mean of the two middle values for an even number), the minimum,
//! the maximum and the spread (maximum − minimum).
//!
//! **Dissent** (documented rule): at least two answers, and a spread of at least 30 % of the
//! scale: 3 TRL levels (scale 1-9), 3 points of criticality or supply risk (scale 0-10); for
//! the EU position, answers two or more steps apart on leading / on-par / lagging / absent.
//!
//! The **Member States expected** are those of the verified members of the keyring and of
//! this member, except `EU` (the Commission's staff coordinate; they count when they answer);
//! *missing* are those expected with no counted answer on the technology.
//!
//! # Markings
//! What a round shows is marked with the highest level of the round, its technologies and the
//! answers it counts. The consolidated assessment a round writes when it closes is at the
//! highest level of the round and of the answers it rests on, releasable to the Member States
//! all of them are releasable to.
//!
//! # Follow-up rounds (Delphi)
//! A round opened as the follow-up of another carries the other's answers, anonymised, in its
//! `previous_distribution` field: a JSON object keyed by technology id, each value an object
//! with `answers` (the number), `trl`, `criticality`, `supply_risk` (the values, sorted, no
//! names or Member States) and `eu_position` (an object: position → number of answers). It is
//! marked with the highest level of what it summarises. A respondent sees that distribution
//! beside their own answer of the previous round.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::session::{check_references, prepare_new};
use super::{RecordInput, ServiceError, Session};
use crate::model::kind::{EU_POSITIONS, QUESTIONS};
use crate::model::listing::{self, Entry};
use crate::model::{Classification, Kind, Record};

/// Spread (as a share of the scale) from which answers are in dissent.
pub const DISSENT_SHARE: f64 = 0.3;
/// Fewest answers on a technology whose values a follow-up round shows (fewer would not be
/// anonymous).
pub const DELPHI_MIN_ANSWERS: usize = 2;

/// What a coordinator asks in a new round.
#[derive(Debug, Clone, Default)]
pub struct RoundSpec {
    /// Title.
    pub title: String,
    /// Deadline, `YYYY-MM-DD`.
    pub deadline: String,
    /// Technologies in scope.
    pub technology_ids: Vec<Uuid>,
    /// Questions (codes of [`QUESTIONS`]; empty: all of them).
    pub questions: Vec<String>,
    /// Free questions.
    pub free_questions: Vec<String>,
    /// Proposals put to the members.
    pub proposal_ids: Vec<Uuid>,
    /// The round this one follows up.
    pub follow_up_of: Option<Uuid>,
    /// What it is for.
    pub description: Option<String>,
    /// Level (raised to what it carries).
    pub classification: Classification,
    /// Releasability (narrowed to what it carries).
    pub releasable_to: Vec<String>,
    /// Date it opens (default: today).
    pub opened: Option<String>,
}

/// One member's answer on one technology (or stance on a proposal).
#[derive(Debug, Clone, Default)]
pub struct AnswerSpec {
    /// The technology (or proposal) answered on.
    pub subject: Uuid,
    /// TRL 1-9.
    pub trl: Option<i64>,
    /// Criticality 0-10.
    pub criticality: Option<f64>,
    /// Supply risk 0-10.
    pub supply_risk: Option<f64>,
    /// EU position.
    pub eu_position: Option<String>,
    /// Gaps.
    pub gaps: Vec<String>,
    /// Root causes.
    pub root_causes: Vec<String>,
    /// Narrative.
    pub narrative: Option<String>,
    /// Answers to free questions (`question: answer`).
    pub free_answers: Vec<String>,
    /// Stance on a proposal.
    pub stance: Option<String>,
    /// Confidence.
    pub confidence: Option<String>,
    /// Level of the answer (default UNCLASSIFIED).
    pub classification: Option<Classification>,
    /// Releasability.
    pub releasable_to: Option<Vec<String>>,
    /// Date of the answer (default: today).
    pub date: Option<String>,
    /// The answer form's fields (TRL, criticality, supply risk, EU position, gaps, narrative)
    /// not given are cleared on an earlier answer; otherwise a field not given is left as it
    /// was.
    pub replace: bool,
}

/// The fields of the app's answer form (see [`AnswerSpec::replace`]).
const FORM_FIELDS: [&str; 6] = [
    "trl",
    "criticality",
    "supply_risk",
    "eu_position",
    "gaps",
    "narrative",
];

/// A round in the list of rounds.
#[derive(Debug, Clone, Serialize)]
pub struct RoundSummary {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Deadline.
    pub deadline: String,
    /// `open` or `closed`.
    pub status: String,
    /// Open and past its deadline.
    pub overdue: bool,
    /// Technologies in scope.
    pub technologies: usize,
    /// Answers counted.
    pub answers: usize,
    /// The round it follows up.
    pub follow_up_of: Option<Uuid>,
    /// Its own level.
    pub classification: Classification,
}

/// The figures of one numeric question on one technology.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Spread {
    /// Answers with a value.
    pub n: usize,
    /// Median (`None` without answers).
    pub median: Option<f64>,
    /// Smallest value.
    pub min: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
    /// `max - min`.
    pub spread: Option<f64>,
    /// Whether the answers are in dissent (see the module docs).
    pub dissent: bool,
}

/// One counted answer, as the coordinator sees it.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerView {
    /// Answer record id.
    pub id: Uuid,
    /// Member State of its originator.
    pub member_state: String,
    /// Originator's name.
    pub member: String,
    /// Level of the answer.
    pub classification: Classification,
    /// TRL.
    pub trl: Option<i64>,
    /// Criticality.
    pub criticality: Option<f64>,
    /// Supply risk.
    pub supply_risk: Option<f64>,
    /// EU position.
    pub eu_position: Option<String>,
    /// Gaps.
    pub gaps: Vec<String>,
    /// Root causes.
    pub root_causes: Vec<String>,
    /// Narrative.
    pub narrative: Option<String>,
    /// Free answers.
    pub free_answers: Vec<String>,
    /// Given after the deadline.
    pub late: bool,
}

/// What a round says about one technology.
#[derive(Debug, Clone, Serialize)]
pub struct TechnologyView {
    /// Technology id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Number of counted answers.
    pub answers: usize,
    /// Member States that answered (sorted).
    pub member_states: Vec<String>,
    /// Member States expected that did not.
    pub missing: Vec<String>,
    /// TRL.
    pub trl: Spread,
    /// Criticality.
    pub criticality: Spread,
    /// Supply risk.
    pub supply_risk: Spread,
    /// EU position: position → number of answers.
    pub eu_position: BTreeMap<String, usize>,
    /// Whether the EU position answers are two or more steps apart.
    pub eu_position_dissent: bool,
    /// Gaps named: gap → number of answers.
    pub gaps: BTreeMap<String, usize>,
    /// Root causes named: cause → number of answers.
    pub root_causes: BTreeMap<String, usize>,
    /// Whether any question is in dissent.
    pub dissent: bool,
    /// The questions in dissent.
    pub dissent_on: Vec<String>,
    /// The counted answers, side by side (by Member State).
    pub responses: Vec<AnswerView>,
    /// The previous round's anonymised distribution, for a follow-up round.
    pub previous: Option<Value>,
}

/// Stances on a proposal.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalVotes {
    /// Proposal id.
    pub id: Uuid,
    /// Its label.
    pub label: String,
    /// Member States in support.
    pub support: Vec<String>,
    /// Member States opposed.
    pub oppose: Vec<String>,
    /// Member States abstaining.
    pub abstain: Vec<String>,
}

/// An answer not counted, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotCounted {
    /// Answer record id.
    pub id: Uuid,
    /// Its originator's fingerprint (or `unknown`).
    pub author: String,
    /// Why.
    pub reason: String,
}

/// Everything a round says.
#[derive(Debug, Clone, Serialize)]
pub struct RoundView {
    /// The round.
    pub round: RoundSummary,
    /// Highest level of what it shows.
    pub classification: Classification,
    /// Questions asked.
    pub questions: Vec<String>,
    /// Free questions.
    pub free_questions: Vec<String>,
    /// Member States expected to answer.
    pub expected: Vec<String>,
    /// Per technology.
    pub technologies: Vec<TechnologyView>,
    /// Stances on the proposals the round carries.
    pub proposals: Vec<ProposalVotes>,
    /// Answers not counted.
    pub not_counted: Vec<NotCounted>,
    /// Consolidated assessments written when it closed.
    pub consolidated: Vec<Uuid>,
}

/// What closing a round wrote.
#[derive(Debug, Clone, Serialize)]
pub struct CloseReport {
    /// The consolidated assessments, by technology id.
    pub consolidated: Vec<(Uuid, Uuid)>,
    /// Their highest level.
    pub classification: Classification,
}

fn today() -> String {
    crate::store::now_rfc3339().chars().take(10).collect()
}

fn num(record: &Record, field: &str) -> Option<f64> {
    record.fields.get(field).and_then(Value::as_f64)
}

/// Median, min, max of values (any order).
#[must_use]
pub fn spread(values: &[f64], scale: f64) -> Spread {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return Spread {
            n,
            median: None,
            min: None,
            max: None,
            spread: None,
            dissent: false,
        };
    }
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    };
    let (min, max) = (v[0], v[n - 1]);
    let range = max - min;
    Spread {
        n,
        median: Some(median),
        min: Some(min),
        max: Some(max),
        spread: Some(range),
        dissent: n >= 2 && range >= DISSENT_SHARE * scale - 1e-9,
    }
}

fn position_rank(p: &str) -> Option<usize> {
    EU_POSITIONS.iter().position(|x| *x == p)
}

impl Session {
    fn round_record(&self, id: Uuid) -> Result<Record, ServiceError> {
        self.get(Kind::Round, id)
    }

    /// The Member State and name of a member by author id, if this member trusts them (the
    /// owner, or a verified member of the keyring); `Err(reason)` otherwise.
    fn respondent(
        &self,
        author: &str,
        members: &[crate::store::MemberInfo],
    ) -> Result<(String, String), String> {
        if author == self.author() {
            let p = self.identity().profile();
            return Ok((p.member_state.clone(), p.name.clone()));
        }
        match members.iter().find(|m| m.fingerprint == author) {
            Some(m) if m.status() == "verified" => Ok((m.member_state.clone(), m.name.clone())),
            Some(m) => Err(format!("{} is {} in the keyring", m.name, m.status())),
            None => Err("not in the keyring".to_owned()),
        }
    }

    /// Whether a consolidated assessment was written by its round's coordinator (anyone may
    /// label their own assessment "consolidated"; only the coordinator's count).
    #[must_use]
    pub fn is_consolidation(&self, a: &Record) -> bool {
        let Some(round) = a.text("round_id").and_then(|t| Uuid::parse_str(t).ok()) else {
            return false;
        };
        let coordinator = self
            .store()
            .originator_of(Kind::Round, round)
            .ok()
            .flatten();
        coordinator.is_some()
            && self
                .store()
                .originator_of(Kind::Assessment, a.meta.id)
                .ok()
                .flatten()
                == coordinator
    }

    /// Member States expected to answer: the verified members' and this member's, not `EU`.
    fn expected_states(&self) -> Result<BTreeSet<String>, ServiceError> {
        let mut out: BTreeSet<String> = self
            .store()
            .members()?
            .into_iter()
            .filter(|m| m.status() == "verified")
            .map(|m| m.member_state)
            .collect();
        out.insert(self.identity().profile().member_state.clone());
        out.remove("EU");
        Ok(out)
    }

    /// The rounds, newest deadline first.
    pub fn rounds(&self) -> Result<Vec<RoundSummary>, ServiceError> {
        let answers: Vec<Record> = self
            .list(Kind::Assessment)?
            .into_iter()
            .filter(|a| a.fields.contains_key("round_id"))
            .collect();
        let lookup = |kind: Kind, id: Uuid| {
            self.get(kind, id)
                .ok()
                .map(|t| (t.label(), t.meta.classification))
        };
        let mut out = Vec::new();
        for r in self.list(Kind::Round)? {
            // The answers it counts (see `tally`), not every record that names it.
            out.push(self.tally(&r, &answers, &lookup, false, None)?.round);
        }
        out.sort_by(|a, b| (&b.deadline, b.id).cmp(&(&a.deadline, a.id)));
        Ok(out)
    }

    /// Opens a round (this member is its coordinator); returns its id. A follow-up round
    /// carries the previous round's anonymised distribution and at least its level.
    pub fn open_round(&mut self, spec: &RoundSpec) -> Result<Uuid, ServiceError> {
        if spec.technology_ids.is_empty() && spec.proposal_ids.is_empty() {
            return Err(ServiceError::Invalid(
                "a round needs at least one technology (--technology ID) or proposal".into(),
            ));
        }
        for id in &spec.technology_ids {
            self.get(Kind::Technology, *id)?;
        }
        let mut level = spec.classification;
        let mut releasable = spec.releasable_to.clone();
        let mut fields = BTreeMap::new();
        if let Some(previous) = spec.follow_up_of {
            let view = self.round_view(previous)?;
            level = level.max(view.classification);
            let mut lists = vec![releasable.clone()];
            for t in &view.technologies {
                for r in &t.responses {
                    lists.push(self.get(Kind::Assessment, r.id)?.meta.releasable_to);
                }
            }
            releasable = crate::model::control::common_releasability(lists.iter().map(Vec::as_slice)).ok_or_else(|| {
                ServiceError::Invalid(
                    "the previous round's answers are releasable to no Member State in common: its distribution could be released to nobody; open the follow-up without them, or ask the members to widen their releasability".into(),
                )
            })?;
            fields.insert(
                "previous_distribution".to_owned(),
                Value::from(distribution(&view).to_string()),
            );
            fields.insert("follow_up_of".to_owned(), Value::from(previous.to_string()));
        }
        let questions: Vec<String> = if spec.questions.is_empty() {
            QUESTIONS.iter().map(|q| (*q).to_owned()).collect()
        } else {
            spec.questions.clone()
        };
        let ids = |v: &[Uuid]| Value::from(v.iter().map(Uuid::to_string).collect::<Vec<_>>());
        fields.insert("title".into(), Value::from(spec.title.clone()));
        fields.insert("deadline".into(), Value::from(spec.deadline.clone()));
        fields.insert("technology_ids".into(), ids(&spec.technology_ids));
        fields.insert("questions".into(), Value::from(questions));
        if !spec.free_questions.is_empty() {
            fields.insert(
                "free_questions".into(),
                Value::from(spec.free_questions.clone()),
            );
        }
        if !spec.proposal_ids.is_empty() {
            fields.insert("proposal_ids".into(), ids(&spec.proposal_ids));
        }
        if let Some(d) = &spec.description {
            fields.insert("description".into(), Value::from(d.clone()));
        }
        fields.insert("status".into(), Value::from("open"));
        fields.insert(
            "opened".into(),
            Value::from(spec.opened.clone().unwrap_or_else(today)),
        );
        self.add(
            Kind::Round,
            None,
            &RecordInput {
                classification: Some(level),
                releasable_to: Some(releasable),
                fields,
            },
        )
    }

    /// This member's own answer on a subject in a round, if any (the newest).
    pub fn own_answer(&self, round: Uuid, subject: Uuid) -> Result<Option<Record>, ServiceError> {
        let (round_text, subject_text) = (round.to_string(), subject.to_string());
        let mut mine: Vec<Record> = Vec::new();
        for a in self.list(Kind::Assessment)? {
            if a.text("round_id") == Some(round_text.as_str())
                && a.text("subject_id") == Some(subject_text.as_str())
                && a.text("assessment_kind") == Some("answer")
                && self
                    .store()
                    .originator_of(Kind::Assessment, a.meta.id)?
                    .as_deref()
                    == Some(self.author())
            {
                mine.push(a);
            }
        }
        Ok(mine
            .into_iter()
            .max_by(|a, b| (a.text("date"), a.meta.updated).cmp(&(b.text("date"), b.meta.updated))))
    }

    /// Answers a round on one technology (or gives a stance on one of its proposals): makes
    /// this member's answer, or changes it if they answered before. Returns its id.
    pub fn answer_round(&mut self, round: Uuid, answer: &AnswerSpec) -> Result<Uuid, ServiceError> {
        let r = self.round_record(round)?;
        if r.text("status") == Some("closed") {
            return Err(ServiceError::Invalid(format!(
                "the round \"{}\" is closed (on {}): its consolidated assessment is written; answer a follow-up round instead",
                r.label(),
                r.text("closed").unwrap_or("?")
            )));
        }
        let subject = answer.subject.to_string();
        let in_scope = r.texts("technology_ids").contains(&subject)
            || r.texts("proposal_ids").contains(&subject);
        if !in_scope {
            return Err(ServiceError::Invalid(format!(
                "{} is not in the scope of the round \"{}\": answer one of its technologies or proposals",
                self.describe(&subject),
                r.label()
            )));
        }
        let is_proposal = r.texts("proposal_ids").contains(&subject);
        if is_proposal && answer.stance.is_none() {
            return Err(ServiceError::Invalid(
                "an answer on a proposal gives a stance (support, oppose or abstain)".into(),
            ));
        }
        let mut fields: BTreeMap<String, Value> = BTreeMap::new();
        // A field not given is left as it was (`replace`: the form's fields are cleared).
        let replace = answer.replace;
        let mut put = |k: &str, v: Option<Value>| match v {
            Some(v) => {
                fields.insert(k.to_owned(), v);
            }
            None if replace && FORM_FIELDS.contains(&k) => {
                fields.insert(k.to_owned(), Value::Null);
            }
            None => {}
        };
        put("subject_id", Some(Value::from(subject.clone())));
        put(
            "date",
            Some(Value::from(answer.date.clone().unwrap_or_else(today))),
        );
        put("round_id", Some(Value::from(round.to_string())));
        put("assessment_kind", Some(Value::from("answer")));
        put(
            "member_state",
            Some(Value::from(self.identity().profile().member_state.clone())),
        );
        put(
            "assessor",
            Some(Value::from(self.identity().profile().name.clone())),
        );
        put("trl", answer.trl.map(Value::from));
        put("criticality", answer.criticality.map(Value::from));
        put("supply_risk", answer.supply_risk.map(Value::from));
        put("eu_position", answer.eu_position.clone().map(Value::from));
        put(
            "gaps",
            (!answer.gaps.is_empty()).then(|| Value::from(answer.gaps.clone())),
        );
        put(
            "root_causes",
            (!answer.root_causes.is_empty()).then(|| Value::from(answer.root_causes.clone())),
        );
        put("narrative", answer.narrative.clone().map(Value::from));
        put(
            "free_answers",
            (!answer.free_answers.is_empty()).then(|| Value::from(answer.free_answers.clone())),
        );
        put("stance", answer.stance.clone().map(Value::from));
        put("confidence", answer.confidence.clone().map(Value::from));
        // "Country" codes other than Member States (EU for the Commission) are not countries.
        if crate::model::country::by_code(&self.identity().profile().member_state).is_none() {
            fields.remove("member_state");
        }
        let input = RecordInput {
            classification: answer.classification,
            releasable_to: answer.releasable_to.clone(),
            fields,
        };
        if let Some(own) = self.own_answer(round, answer.subject)? {
            self.edit(Kind::Assessment, own.meta.id, &input)?;
            return Ok(own.meta.id);
        }
        let mut new = input;
        new.fields.retain(|_, v| !v.is_null());
        if new.classification.is_none() {
            // An answer to a round is at least at the round's level unless its member says.
            new.classification = Some(r.meta.classification);
        }
        self.add(Kind::Assessment, None, &new)
    }

    /// What a round says, per technology (see the module docs).
    pub fn round_view(&self, round: Uuid) -> Result<RoundView, ServiceError> {
        let r = self.round_record(round)?;
        let all = self.list(Kind::Assessment)?;
        let lookup = |kind: Kind, id: Uuid| {
            self.get(kind, id).ok().map(|t| {
                let label = if kind == Kind::Proposal {
                    self.describe_proposal(&t)
                } else {
                    t.label()
                };
                (label, t.meta.classification)
            })
        };
        self.tally(&r, &all, &lookup, false, None)
    }

    /// What round `r` says from these assessments; `lookup` names a technology or proposal
    /// and gives its level (`None`: not available, then left out if `skip_unknown`, else
    /// shown as deleted). Used by [`Session::round_view`] and by the report, which passes
    /// only the records it prints.
    pub fn tally(
        &self,
        r: &Record,
        all: &[Record],
        lookup: &dyn Fn(Kind, Uuid) -> Option<(String, Classification)>,
        skip_unknown: bool,
        ceiling: Option<Classification>,
    ) -> Result<RoundView, ServiceError> {
        let round = r.meta.id;
        let coordinator = self.store().originator_of(Kind::Round, round)?;
        let members = self.store().members()?;
        // A closed round counts the answers as they stood when it closed (its last change,
        // by its coordinator): a later change of an answer is shown apart.
        let closed_at = (r.text("status") == Some("closed")).then_some(r.meta.updated);
        let round_text = round.to_string();
        let deadline = r.text("deadline").unwrap_or_default().to_owned();
        let mut not_counted = Vec::new();
        // (subject, author) → newest answer.
        let mut chosen: BTreeMap<(String, String), (Record, String, String)> = BTreeMap::new();
        let mut consolidated = Vec::new();
        for a in all
            .iter()
            .filter(|a| !a.meta.deleted && a.text("round_id") == Some(round_text.as_str()))
        {
            if a.text("assessment_kind") == Some("consolidated") {
                // Only the coordinator's: anyone may label their own assessment so.
                if coordinator.is_some()
                    && self.store().originator_of(Kind::Assessment, a.meta.id)? == coordinator
                {
                    consolidated.push(a.meta.id);
                }
                continue;
            }
            if a.text("assessment_kind") != Some("answer") {
                continue;
            }
            let Some(author) = self.store().originator_of(Kind::Assessment, a.meta.id)? else {
                not_counted.push(NotCounted {
                    id: a.meta.id,
                    author: "unknown".into(),
                    reason: "its creation was not received".into(),
                });
                continue;
            };
            let (state, name) = match self.respondent(&author, &members) {
                Ok(x) => x,
                Err(reason) => {
                    not_counted.push(NotCounted {
                        id: a.meta.id,
                        author,
                        reason,
                    });
                    continue;
                }
            };
            if closed_at.is_some_and(|c| a.meta.updated > c) {
                not_counted.push(NotCounted {
                    id: a.meta.id,
                    author,
                    reason: "given or changed after the round closed".into(),
                });
                continue;
            }
            let key = (
                a.text("subject_id").unwrap_or_default().to_owned(),
                author.clone(),
            );
            let newer = chosen.get(&key).is_none_or(|(b, _, _)| {
                (a.text("date"), a.meta.updated) > (b.text("date"), b.meta.updated)
            });
            if newer {
                chosen.insert(key, (a.clone(), state, name));
            }
        }
        // The newest answer of each member is chosen first; above the ceiling (a report's),
        // it is left out rather than replaced by an older one below it.
        if let Some(ceiling) = ceiling {
            chosen.retain(|_, (a, _, _)| a.meta.classification <= ceiling);
        }
        let expected = self.expected_states()?;
        let mut level = r.meta.classification;
        let previous: Option<Value> = r
            .text("previous_distribution")
            .and_then(|t| serde_json::from_str(t).ok());
        let mut technologies = Vec::new();
        for tid in r.texts("technology_ids") {
            let Ok(id) = Uuid::parse_str(&tid) else {
                continue;
            };
            let name = match lookup(Kind::Technology, id) {
                Some((name, l)) => {
                    level = level.max(l);
                    name
                }
                None if skip_unknown => continue,
                None => "(deleted technology)".to_owned(),
            };
            let mut responses: Vec<AnswerView> = chosen
                .iter()
                .filter(|((s, _), _)| *s == tid)
                .map(|(_, (a, state, member))| answer_view(a, state, member, &deadline))
                .collect();
            responses
                .sort_by(|a, b| (&a.member_state, &a.member).cmp(&(&b.member_state, &b.member)));
            for resp in &responses {
                level = level.max(resp.classification);
            }
            let values = |f: fn(&AnswerView) -> Option<f64>| -> Vec<f64> {
                responses.iter().filter_map(f).collect()
            };
            #[allow(clippy::cast_precision_loss)] // TRL 1-9
            let trl = spread(&values(|a| a.trl.map(|t| t as f64)), 8.0);
            let criticality = spread(&values(|a| a.criticality), 10.0);
            let supply_risk = spread(&values(|a| a.supply_risk), 10.0);
            let mut eu_position = BTreeMap::new();
            let mut ranks = Vec::new();
            let (mut gaps, mut causes) = (BTreeMap::new(), BTreeMap::new());
            for a in &responses {
                if let Some(p) = &a.eu_position {
                    *eu_position.entry(p.clone()).or_insert(0) += 1;
                    ranks.extend(position_rank(p));
                }
                for g in &a.gaps {
                    *gaps.entry(g.clone()).or_insert(0) += 1;
                }
                for c in &a.root_causes {
                    *causes.entry(c.clone()).or_insert(0) += 1;
                }
            }
            let eu_position_dissent = match (ranks.iter().min(), ranks.iter().max()) {
                (Some(lo), Some(hi)) => hi - lo >= 2,
                _ => false,
            };
            let mut dissent_on = Vec::new();
            for (q, d) in [
                ("trl", trl.dissent),
                ("criticality", criticality.dissent),
                ("supply_risk", supply_risk.dissent),
                ("eu_position", eu_position_dissent),
            ] {
                if d {
                    dissent_on.push(q.to_owned());
                }
            }
            let member_states: BTreeSet<String> =
                responses.iter().map(|a| a.member_state.clone()).collect();
            let missing = expected.difference(&member_states).cloned().collect();
            technologies.push(TechnologyView {
                id,
                name,
                answers: responses.len(),
                member_states: member_states.into_iter().collect(),
                missing,
                trl,
                criticality,
                supply_risk,
                eu_position,
                eu_position_dissent,
                gaps,
                root_causes: causes,
                dissent: !dissent_on.is_empty(),
                dissent_on,
                responses,
                previous: previous.as_ref().and_then(|p| p.get(&tid)).cloned(),
            });
        }
        technologies.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        let mut proposals = Vec::new();
        for pid in r.texts("proposal_ids") {
            let Ok(id) = Uuid::parse_str(&pid) else {
                continue;
            };
            let label = match lookup(Kind::Proposal, id) {
                Some((name, l)) => {
                    level = level.max(l);
                    name
                }
                None if skip_unknown => continue,
                None => "(deleted proposal)".to_owned(),
            };
            let mut votes = ProposalVotes {
                id,
                label,
                support: Vec::new(),
                oppose: Vec::new(),
                abstain: Vec::new(),
            };
            for ((s, _), (a, state, _)) in &chosen {
                if *s != pid {
                    continue;
                }
                level = level.max(a.meta.classification);
                match a.text("stance") {
                    Some("support") => votes.support.push(state.clone()),
                    Some("oppose") => votes.oppose.push(state.clone()),
                    Some("abstain") => votes.abstain.push(state.clone()),
                    _ => {}
                }
            }
            for list in [&mut votes.support, &mut votes.oppose, &mut votes.abstain] {
                list.sort();
                list.dedup();
            }
            proposals.push(votes);
        }
        let counted = technologies.iter().map(|t| t.answers).sum::<usize>()
            + proposals
                .iter()
                .map(|p| p.support.len() + p.oppose.len() + p.abstain.len())
                .sum::<usize>();
        Ok(RoundView {
            round: summary(r, counted),
            classification: level,
            questions: r.texts("questions"),
            free_questions: r.texts("free_questions"),
            expected: expected.into_iter().collect(),
            technologies,
            proposals,
            not_counted,
            consolidated,
        })
    }

    /// Closes a round (its coordinator only): writes one consolidated assessment per
    /// technology with answers, linked to them, at the highest level of the round and the
    /// answers, then marks the round closed. All in one transaction.
    pub fn close_round(&mut self, round: Uuid) -> Result<CloseReport, ServiceError> {
        self.close_round_on(round, &today())
    }

    /// [`Session::close_round`] on a given date (the demo's past rounds).
    pub(crate) fn close_round_on(
        &mut self,
        round: Uuid,
        date: &str,
    ) -> Result<CloseReport, ServiceError> {
        self.check_writable()?;
        let r = self.round_record(round)?;
        if r.text("status") == Some("closed") {
            return Err(ServiceError::Invalid(format!(
                "the round \"{}\" is already closed (on {})",
                r.label(),
                r.text("closed").unwrap_or("?")
            )));
        }
        self.check_ownership(&r, false)?;
        let view = self.round_view(round)?;
        let date = date.to_owned();
        let mut records = Vec::new();
        let mut highest = Classification::Unclassified;
        for t in view
            .technologies
            .iter()
            .filter(|t| t.answers > 0 && self.get(Kind::Technology, t.id).is_ok())
        {
            let mut level = r.meta.classification;
            let mut lists = vec![r.meta.releasable_to.clone()];
            for resp in &t.responses {
                level = level.max(resp.classification);
                lists.push(self.get(Kind::Assessment, resp.id)?.meta.releasable_to);
            }
            let Some(releasable) =
                crate::model::control::common_releasability(lists.iter().map(Vec::as_slice))
            else {
                return Err(ServiceError::Invalid(format!(
                    "the answers on {} are releasable to no Member State in common: the consolidated assessment could be released to nobody; ask the members to widen their releasability first",
                    t.name
                )));
            };
            highest = highest.max(level);
            records.push((t.id, consolidated_fields(t, &r, &date), level, releasable));
        }
        let mut out = Vec::new();
        let mut news = Vec::new();
        for (tid, fields, level, releasable) in records {
            let new = prepare_new(
                Kind::Assessment,
                None,
                &RecordInput {
                    classification: Some(level),
                    releasable_to: Some(releasable),
                    fields,
                },
            )?;
            out.push((tid, new.id));
            news.push(new);
        }
        let changes = super::session::prepare_changes(
            &r,
            &RecordInput {
                classification: None,
                releasable_to: None,
                fields: [
                    ("status".to_owned(), Value::from("closed")),
                    ("closed".to_owned(), Value::from(date.clone())),
                ]
                .into_iter()
                .collect(),
            },
        )?;
        let author = self.author().to_owned();
        self.store_mut().write(&author, |w| {
            for new in &news {
                check_references(w, Kind::Assessment, &new.fields, &BTreeMap::new())?;
                w.insert(new)?;
                w.audit(
                    "add",
                    Some((Kind::Assessment, new.id)),
                    &json!({"consolidated_from_round": round.to_string(), "classification": new.classification.code()}),
                )?;
            }
            w.update(Kind::Round, round, &changes)?;
            w.audit(
                "close-round",
                Some((Kind::Round, round)),
                &json!({"consolidated": news.len(), "closed": date}),
            )
        })?;
        Ok(CloseReport {
            consolidated: out,
            classification: highest,
        })
    }
}

/// Where a list version record says it stands in the sequence of versions.
#[must_use]
pub fn version_head(v: &Record) -> listing::VersionHead {
    listing::VersionHead {
        id: v.meta.id,
        number: v.fields.get("number").and_then(Value::as_i64).unwrap_or(0),
        previous: v.text("previous_id").and_then(|t| Uuid::parse_str(t).ok()),
    }
}

fn summary(r: &Record, answers: usize) -> RoundSummary {
    let deadline = r.text("deadline").unwrap_or_default().to_owned();
    let status = r.text("status").unwrap_or("open").to_owned();
    RoundSummary {
        id: r.meta.id,
        title: r.label(),
        overdue: status == "open" && !deadline.is_empty() && deadline < today(),
        deadline,
        status,
        technologies: r.texts("technology_ids").len(),
        answers,
        follow_up_of: r.text("follow_up_of").and_then(|t| Uuid::parse_str(t).ok()),
        classification: r.meta.classification,
    }
}

fn answer_view(a: &Record, state: &str, member: &str, deadline: &str) -> AnswerView {
    AnswerView {
        id: a.meta.id,
        member_state: state.to_owned(),
        member: member.to_owned(),
        classification: a.meta.classification,
        trl: a.fields.get("trl").and_then(Value::as_i64),
        criticality: num(a, "criticality"),
        supply_risk: num(a, "supply_risk"),
        eu_position: a.text("eu_position").map(str::to_owned),
        gaps: a.texts("gaps"),
        root_causes: a.texts("root_causes"),
        narrative: a.text("narrative").map(str::to_owned),
        free_answers: a.texts("free_answers"),
        late: !deadline.is_empty() && a.text("date").is_some_and(|d| d > deadline),
    }
}

/// The anonymised distribution of a round (see the module docs): values only, sorted.
fn distribution(view: &RoundView) -> Value {
    let mut out = serde_json::Map::new();
    for t in &view.technologies {
        let sorted = |f: fn(&AnswerView) -> Option<f64>| {
            let mut v: Vec<f64> = t.responses.iter().filter_map(f).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        if t.answers < DELPHI_MIN_ANSWERS {
            // One answer alone is that Member State's answer: not anonymous.
            out.insert(t.id.to_string(), json!({"answers": t.answers}));
            continue;
        }
        #[allow(clippy::cast_precision_loss)]
        let trl = sorted(|a| a.trl.map(|x| x as f64));
        out.insert(
            t.id.to_string(),
            json!({
                "answers": t.answers,
                "trl": trl,
                "criticality": sorted(|a| a.criticality),
                "supply_risk": sorted(|a| a.supply_risk),
                "eu_position": t.eu_position,
            }),
        );
    }
    Value::Object(out)
}

/// The fields of the consolidated assessment of one technology: medians (TRL rounded down),
/// the median EU position (rounded towards the weaker position), the gaps and root causes
/// named by at least half of the answers, a confidence (low where answers are in dissent,
/// high from three answers without), and a narrative that says how many answered, who did
/// not, where they disagree, and each narrative with its Member State.
fn consolidated_fields(t: &TechnologyView, round: &Record, date: &str) -> BTreeMap<String, Value> {
    let mut f = BTreeMap::new();
    f.insert("subject_id".to_owned(), Value::from(t.id.to_string()));
    f.insert("date".to_owned(), Value::from(date.to_owned()));
    f.insert(
        "round_id".to_owned(),
        Value::from(round.meta.id.to_string()),
    );
    f.insert("assessment_kind".to_owned(), Value::from("consolidated"));
    f.insert(
        "assessor".to_owned(),
        Value::from(format!("Consultation round: {}", round.label())),
    );
    // TRL: the median, rounded down (a level is reached or not: never claim half a level).
    if let Some(m) = t.trl.median {
        #[allow(clippy::cast_possible_truncation)] // 1-9
        f.insert("trl".to_owned(), Value::from(m.floor() as i64));
    }
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    if let Some(m) = t.criticality.median {
        f.insert("criticality".to_owned(), Value::from(round2(m)));
    }
    if let Some(m) = t.supply_risk.median {
        f.insert("supply_risk".to_owned(), Value::from(round2(m)));
    }
    // EU position: the median on leading / on-par / lagging / absent, rounded towards the
    // weaker position (the cautious reading; dissent is reported apart).
    let mut ranks: Vec<usize> = t
        .responses
        .iter()
        .filter_map(|a| a.eu_position.as_deref().and_then(position_rank))
        .collect();
    ranks.sort_unstable();
    if !ranks.is_empty() {
        let n = ranks.len();
        let rank = if n % 2 == 1 {
            ranks[n / 2]
        } else {
            (ranks[n / 2 - 1] + ranks[n / 2]).div_ceil(2)
        };
        f.insert("eu_position".to_owned(), Value::from(EU_POSITIONS[rank]));
    }
    let half = |m: &BTreeMap<String, usize>| -> Vec<String> {
        m.iter()
            .filter(|(_, n)| **n * 2 >= t.answers)
            .map(|(k, _)| k.clone())
            .collect()
    };
    let gaps = half(&t.gaps);
    if !gaps.is_empty() {
        f.insert("gaps".to_owned(), Value::from(gaps));
    }
    let causes = half(&t.root_causes);
    if !causes.is_empty() {
        f.insert("root_causes".to_owned(), Value::from(causes));
    }
    f.insert(
        "confidence".to_owned(),
        Value::from(if t.dissent {
            "low"
        } else if t.answers >= 3 {
            "high"
        } else {
            "medium"
        }),
    );
    f.insert(
        "based_on_ids".to_owned(),
        Value::from(
            t.responses
                .iter()
                .map(|a| a.id.to_string())
                .collect::<Vec<_>>(),
        ),
    );
    let mut narrative = format!(
        "Consolidated on {date} from {} answer(s) of {} in the round \"{}\".",
        t.answers,
        t.member_states.join(", "),
        round.label()
    );
    if !t.missing.is_empty() {
        let _ = write!(narrative, " No answer from {}.", t.missing.join(", "));
    }
    let show = |s: &Spread| {
        format!(
            "{}-{}",
            s.min.map_or_else(String::new, |x| format!("{x}")),
            s.max.map_or_else(String::new, |x| format!("{x}"))
        )
    };
    for (q, s) in [
        ("TRL", &t.trl),
        ("criticality", &t.criticality),
        ("supply risk", &t.supply_risk),
    ] {
        if s.dissent {
            let _ = write!(narrative, " Dissent on {q}: answers from {}.", show(s));
        }
    }
    if t.eu_position_dissent {
        let list: Vec<String> = t
            .eu_position
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = write!(
            narrative,
            " Dissent on the EU position: {}.",
            list.join(", ")
        );
    }
    for a in &t.responses {
        if let Some(n) = &a.narrative {
            let _ = write!(narrative, "\n\n{} ({}): {n}", a.member_state, a.member);
        }
    }
    f.insert("narrative".to_owned(), Value::from(narrative));
    f
}

// ---------------------------------------------------------------------------------------------
// Revision of the list

/// A proposal to revise the list.
#[derive(Debug, Clone, Default)]
pub struct ProposalSpec {
    /// add, remove, rename, move.
    pub action: String,
    /// The technology.
    pub technology: Option<Uuid>,
    /// Name (add) or new name (rename).
    pub name: Option<String>,
    /// Area (add) or new area (move).
    pub area: Option<String>,
    /// Criteria met.
    pub criteria: Vec<String>,
    /// Why.
    pub rationale: Option<String>,
    /// Evidence.
    pub sources: Vec<Uuid>,
    /// Level.
    pub classification: Option<Classification>,
}

/// A version of the list, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSummary {
    /// Record id.
    pub id: Uuid,
    /// Number (1: the EU 2023 list).
    pub number: i64,
    /// Date.
    pub date: String,
    /// Title.
    pub title: String,
    /// Technologies on it.
    pub technologies: usize,
    /// Proposals it accepted.
    pub proposals: usize,
    /// Level.
    pub classification: Classification,
    /// Why it is not part of the list's history (`None`: it is; see
    /// [`listing::check_chain`]).
    pub problem: Option<String>,
    /// It is the version in force of its number (two can be made concurrently).
    pub in_force: bool,
}

/// What a technology was on each version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionPresence {
    /// Version number.
    pub number: i64,
    /// Its date.
    pub date: String,
    /// The entry on it (`None`: not listed).
    pub entry: Option<Entry>,
    /// The version's level.
    pub classification: Classification,
}

impl Session {
    /// A proposal in words: "rename Quantum sensing to ...", "add New tech (quantum)".
    #[must_use]
    pub fn describe_proposal(&self, p: &Record) -> String {
        let tech = p.text("technology_id").map(|t| {
            Uuid::parse_str(t)
                .ok()
                .and_then(|id| self.get(Kind::Technology, id).ok())
                .map_or_else(|| t.to_owned(), |r| r.label())
        });
        let name = p.text("name").unwrap_or("?");
        let area = p.text("area").unwrap_or("?");
        match p.text("action").unwrap_or("?") {
            "add" => match tech {
                Some(t) => format!("add {t} ({area})"),
                None => format!("add {name} ({area}, new)"),
            },
            "remove" => format!("remove {}", tech.unwrap_or_default()),
            "rename" => format!("rename {} to {name}", tech.unwrap_or_default()),
            "move" => format!("move {} to {area}", tech.unwrap_or_default()),
            other => other.to_owned(),
        }
    }

    /// Adds a proposal; returns its id. It is checked against the current list: a removal,
    /// rename or move names a listed technology; an addition one that is not listed (or a
    /// name and area for a new one).
    pub fn add_proposal(&mut self, spec: &ProposalSpec) -> Result<Uuid, ServiceError> {
        let current = self.current_list()?;
        let listed = |id: Uuid| current.1.iter().any(|e| e.id == id);
        match (spec.action.as_str(), spec.technology) {
            ("add", Some(t)) if listed(t) => {
                return Err(ServiceError::Invalid(format!(
                    "{} is already on the list (version {})",
                    self.describe(&t.to_string()),
                    current.0
                )));
            }
            ("add", None) if spec.name.is_none() || spec.area.is_none() => {
                return Err(ServiceError::Invalid(
                    "a proposal to add a technology names one (--technology ID) or gives --name and --area for a new one".into(),
                ));
            }
            ("remove" | "rename" | "move", None) => {
                return Err(ServiceError::Invalid(format!(
                    "a proposal to {} names the technology (--technology ID)",
                    spec.action
                )));
            }
            ("remove" | "rename" | "move", Some(t)) if !listed(t) => {
                return Err(ServiceError::Invalid(format!(
                    "{} is not on the list (version {}): only a listed technology is removed, renamed or moved",
                    self.describe(&t.to_string()),
                    current.0
                )));
            }
            ("rename", _) if spec.name.is_none() => {
                return Err(ServiceError::Invalid(
                    "a rename gives the new --name".into(),
                ));
            }
            ("move", _) if spec.area.is_none() => {
                return Err(ServiceError::Invalid("a move gives the new --area".into()));
            }
            _ => {}
        }
        if let Some(t) = spec.technology {
            self.get(Kind::Technology, t)?;
        }
        let mut fields = BTreeMap::new();
        fields.insert("action".to_owned(), Value::from(spec.action.clone()));
        if let Some(t) = spec.technology {
            fields.insert("technology_id".to_owned(), Value::from(t.to_string()));
        }
        for (k, v) in [
            ("name", &spec.name),
            ("area", &spec.area),
            ("rationale", &spec.rationale),
        ] {
            if let Some(v) = v {
                fields.insert(k.to_owned(), Value::from(v.clone()));
            }
        }
        if !spec.criteria.is_empty() {
            fields.insert("criteria".to_owned(), Value::from(spec.criteria.clone()));
        }
        if !spec.sources.is_empty() {
            fields.insert(
                "source_ids".to_owned(),
                Value::from(spec.sources.iter().map(Uuid::to_string).collect::<Vec<_>>()),
            );
        }
        fields.insert("status".to_owned(), Value::from("proposed"));
        self.add(
            Kind::Proposal,
            None,
            &RecordInput {
                classification: spec.classification,
                releasable_to: None,
                fields,
            },
        )
    }

    /// The versions of the list, oldest first (by number, then id), each with whether it is
    /// part of the list's history ([`listing::check_chain`]).
    pub fn list_versions(&self) -> Result<Vec<VersionSummary>, ServiceError> {
        let records = self.list(Kind::ListVersion)?;
        let heads: Vec<listing::VersionHead> = records.iter().map(version_head).collect();
        let chain = listing::check_chain(&heads);
        let mut out: Vec<VersionSummary> = records
            .iter()
            .map(|v| {
                let number = v.fields.get("number").and_then(Value::as_i64).unwrap_or(0);
                VersionSummary {
                    id: v.meta.id,
                    number,
                    date: v.text("date").unwrap_or_default().to_owned(),
                    title: v.label(),
                    technologies: v
                        .text("entries")
                        .and_then(listing::parse_entries)
                        .map_or(0, |e| e.len()),
                    proposals: v.texts("proposal_ids").len(),
                    classification: v.meta.classification,
                    problem: chain.get(&v.meta.id).cloned().flatten(),
                    in_force: listing::in_force(&heads, Some(number)) == Some(v.meta.id),
                }
            })
            .collect();
        out.sort_by_key(|v| (v.number, v.id));
        Ok(out)
    }

    /// The entries of version `number` (the one in force, if two were made concurrently);
    /// only versions that are part of the list's history count.
    pub fn version_entries(
        &self,
        number: i64,
    ) -> Result<(VersionSummary, Vec<Entry>), ServiceError> {
        let v = self
            .list_versions()?
            .into_iter()
            .find(|v| v.number == number && v.in_force && v.problem.is_none())
            .ok_or_else(|| {
                ServiceError::Invalid(format!("there is no version {number} of the list"))
            })?;
        let record = self.get(Kind::ListVersion, v.id)?;
        let entries = record
            .text("entries")
            .and_then(listing::parse_entries)
            .ok_or_else(|| {
                ServiceError::Invalid(format!("version {number} of the list cannot be read"))
            })?;
        Ok((v, entries))
    }

    /// The number and entries of the newest version.
    pub fn current_list(&self) -> Result<(i64, Vec<Entry>), ServiceError> {
        let newest = self
            .list_versions()?
            .iter()
            .filter(|v| v.problem.is_none())
            .map(|v| v.number)
            .max()
            .ok_or_else(|| ServiceError::Invalid("this file has no version of the list".into()))?;
        let (v, e) = self.version_entries(newest)?;
        Ok((v.number, e))
    }

    /// Rejects a proposal (dated).
    pub fn reject_list_proposal(&mut self, id: Uuid) -> Result<(), ServiceError> {
        let p = self.get(Kind::Proposal, id)?;
        if p.text("status") != Some("proposed") {
            return Err(ServiceError::Invalid(format!(
                "the proposal \"{}\" is already {}",
                p.label(),
                p.text("status").unwrap_or("decided")
            )));
        }
        let fields = [
            ("status".to_owned(), Value::from("rejected")),
            ("decided".to_owned(), Value::from(today())),
        ]
        .into_iter()
        .collect();
        self.edit(
            Kind::Proposal,
            id,
            &RecordInput {
                classification: None,
                releasable_to: None,
                fields,
            },
        )?;
        Ok(())
    }

    /// Accepts proposals: makes the next version of the list from the newest one with them
    /// applied (in the order given), creates the technology of an addition that names none,
    /// sets each technology's watch status (`listed` / `retired`, dated), and marks the
    /// proposals accepted. One transaction. Returns the new version's summary.
    pub fn accept_proposals(
        &mut self,
        ids: &[Uuid],
        title: Option<&str>,
    ) -> Result<VersionSummary, ServiceError> {
        self.check_writable()?;
        if ids.is_empty() {
            return Err(ServiceError::Invalid(
                "name at least one proposal to accept".into(),
            ));
        }
        let (number, mut entries) = self.current_list()?;
        let previous = self.version_entries(number)?.0;
        let date = today();
        let mut level = previous.classification;
        let mut new_technologies = Vec::new();
        let mut technology_changes: Vec<(Uuid, BTreeMap<String, Value>)> = Vec::new();
        let mut proposals = Vec::new();
        for id in ids {
            let p = self.get(Kind::Proposal, *id)?;
            if p.text("status") != Some("proposed") {
                return Err(ServiceError::Invalid(format!(
                    "the proposal \"{}\" is already {}",
                    p.label(),
                    p.text("status").unwrap_or("decided")
                )));
            }
            level = level.max(p.meta.classification);
            let tid = p
                .text("technology_id")
                .and_then(|t| Uuid::parse_str(t).ok());
            let pos = tid.and_then(|t| entries.iter().position(|e| e.id == t));
            let action = p.text("action").unwrap_or_default();
            let fail = |why: &str| {
                ServiceError::Invalid(format!(
                    "the proposal \"{}\" cannot be applied: {why}",
                    p.label()
                ))
            };
            let mut tech_fields = BTreeMap::new();
            match (action, tid, pos) {
                ("add", _, Some(_)) => return Err(fail("the technology is already on the list")),
                ("add", Some(t), None) => {
                    let tech = self.get(Kind::Technology, t)?;
                    // The version names it: it is at least at the technology's level.
                    level = level.max(tech.meta.classification);
                    let area = p
                        .text("area")
                        .or_else(|| tech.text("area"))
                        .ok_or_else(|| fail("no area: give the technology or the proposal one"))?;
                    entries.push(Entry {
                        area: area.to_owned(),
                        name: p.text("name").map_or_else(|| tech.label(), str::to_owned),
                        id: t,
                    });
                    tech_fields.insert("watch_status".into(), Value::from("listed"));
                    tech_fields.insert("listed_date".into(), Value::from(date.clone()));
                    technology_changes.push((t, tech_fields));
                }
                ("add", None, None) => {
                    let (Some(name), Some(area)) = (p.text("name"), p.text("area")) else {
                        return Err(fail(
                            "an addition of a new technology needs a name and an area",
                        ));
                    };
                    let mut fields = BTreeMap::new();
                    fields.insert("name".to_owned(), Value::from(name));
                    fields.insert("area".to_owned(), Value::from(area));
                    fields.insert("watch_status".to_owned(), Value::from("listed"));
                    fields.insert("listed_date".to_owned(), Value::from(date.clone()));
                    if let Some(c) = p.fields.get("criteria") {
                        fields.insert("criteria".to_owned(), c.clone());
                    }
                    let new = prepare_new(
                        Kind::Technology,
                        None,
                        &RecordInput {
                            classification: Some(p.meta.classification),
                            releasable_to: Some(p.meta.releasable_to.clone()),
                            fields,
                        },
                    )?;
                    entries.push(Entry {
                        area: area.to_owned(),
                        name: name.to_owned(),
                        id: new.id,
                    });
                    new_technologies.push(new);
                }
                (_, _, None) => return Err(fail("the technology is not on the list")),
                ("remove", Some(t), Some(i)) => {
                    entries.remove(i);
                    tech_fields.insert("watch_status".into(), Value::from("retired"));
                    tech_fields.insert("retired_date".into(), Value::from(date.clone()));
                    technology_changes.push((t, tech_fields));
                }
                ("rename", _, Some(i)) => {
                    let name = p.text("name").ok_or_else(|| fail("no new name"))?;
                    name.clone_into(&mut entries[i].name);
                }
                ("move", _, Some(i)) => {
                    let area = p.text("area").ok_or_else(|| fail("no new area"))?;
                    area.clone_into(&mut entries[i].area);
                }
                _ => return Err(fail("unknown action")),
            }
            proposals.push(p);
        }
        let new_number = number + 1;
        let mut fields = BTreeMap::new();
        fields.insert(
            "title".to_owned(),
            Value::from(title.map_or_else(
                || format!("List of critical technologies, version {new_number}"),
                str::to_owned,
            )),
        );
        fields.insert("number".to_owned(), Value::from(new_number));
        fields.insert("date".to_owned(), Value::from(date.clone()));
        fields.insert(
            "entries".to_owned(),
            Value::from(listing::entries_text(&entries)),
        );
        fields.insert(
            "proposal_ids".to_owned(),
            Value::from(ids.iter().map(Uuid::to_string).collect::<Vec<_>>()),
        );
        fields.insert(
            "previous_id".to_owned(),
            Value::from(previous.id.to_string()),
        );
        let version = prepare_new(
            Kind::ListVersion,
            None,
            &RecordInput {
                classification: Some(level),
                releasable_to: None,
                fields,
            },
        )?;
        let mut proposal_changes = Vec::new();
        for p in &proposals {
            let changes = super::session::prepare_changes(
                p,
                &RecordInput {
                    classification: None,
                    releasable_to: None,
                    fields: [
                        ("status".to_owned(), Value::from("accepted")),
                        ("decided".to_owned(), Value::from(date.clone())),
                        ("list_version".to_owned(), Value::from(new_number)),
                    ]
                    .into_iter()
                    .collect(),
                },
            )?;
            proposal_changes.push((p.meta.id, changes));
        }
        let mut tech_changes = Vec::new();
        for (t, fields) in technology_changes {
            let current = self.get(Kind::Technology, t)?;
            let changes = super::session::prepare_changes(
                &current,
                &RecordInput {
                    classification: None,
                    releasable_to: None,
                    fields,
                },
            )?;
            tech_changes.push((t, changes));
        }
        let author = self.author().to_owned();
        let version_id = version.id;
        self.store_mut().write(&author, |w| {
            for t in &new_technologies {
                w.insert(t)?;
                w.audit("add", Some((Kind::Technology, t.id)), &json!({"name": t.fields.get("name")}))?;
            }
            for (t, changes) in &tech_changes {
                if !changes.is_empty() {
                    w.update(Kind::Technology, *t, changes)?;
                    let detail: BTreeMap<&str, Value> =
                        changes.iter().map(|c| (c.name(), c.log_value())).collect();
                    w.audit("edit", Some((Kind::Technology, *t)), &json!(detail))?;
                }
            }
            for (p, changes) in &proposal_changes {
                w.update(Kind::Proposal, *p, changes)?;
                w.audit(
                    "accept-proposal",
                    Some((Kind::Proposal, *p)),
                    &json!({"list_version": new_number}),
                )?;
            }
            check_references(w, Kind::ListVersion, &version.fields, &BTreeMap::new())?;
            w.insert(&version)?;
            w.audit(
                "list-version",
                Some((Kind::ListVersion, version.id)),
                &json!({"number": new_number, "proposals": ids.len(), "technologies": entries.len()}),
            )
        })?;
        self.list_versions()?
            .into_iter()
            .find(|v| v.id == version_id)
            .ok_or_else(|| ServiceError::Invalid("the new version was not written".into()))
    }

    /// The differences between two versions of the list.
    pub fn diff_versions(
        &self,
        from: i64,
        to: i64,
    ) -> Result<(VersionSummary, VersionSummary, Vec<listing::Difference>), ServiceError> {
        let (a, old) = self.version_entries(from)?;
        let (b, new) = self.version_entries(to)?;
        Ok((a, b, listing::diff(&old, &new)))
    }

    /// A technology on each version of the list.
    pub fn version_history(&self, technology: Uuid) -> Result<Vec<VersionPresence>, ServiceError> {
        let mut out = Vec::new();
        for v in self.list_versions()? {
            if v.problem.is_some() || !v.in_force {
                continue;
            }
            let entries = self
                .get(Kind::ListVersion, v.id)?
                .text("entries")
                .and_then(listing::parse_entries)
                .unwrap_or_default();
            out.push(VersionPresence {
                number: v.number,
                date: v.date.clone(),
                classification: v.classification,
                entry: entries.into_iter().find(|e| e.id == technology),
            });
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Horizon scanning

/// A technology the incubator flags, or has flagged for uptake.
#[derive(Debug, Clone, Serialize)]
pub struct IncubatorEntry {
    /// Technology id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Its newest TRL.
    pub trl: Option<i64>,
    /// Defence, space or civil-security domains it has.
    pub domains: Vec<String>,
    /// Watch status.
    pub watch_status: Option<String>,
    /// Flagged for uptake: to whom.
    pub uptake_to: Option<String>,
    /// Funding route.
    pub uptake_route: Option<String>,
    /// Date.
    pub uptake_date: Option<String>,
    /// Level of the technology.
    pub classification: Classification,
}

/// TRLs at which the incubator flags a technology (Roadmap: typically TRL 5-6).
pub const INCUBATOR_TRL: std::ops::RangeInclusive<i64> = 5..=6;
/// Domains that give a technology security, space or defence potential.
pub const INCUBATOR_DOMAINS: [&str; 3] = ["defence", "space", "civil-security"];

impl Session {
    /// The incubator's flags: technologies at TRL 5-6 (their newest assessed TRL) with a
    /// defence, space or security domain, and every technology already flagged for uptake.
    pub fn incubator(&self) -> Result<Vec<IncubatorEntry>, ServiceError> {
        let mut newest: BTreeMap<String, (String, i64)> = BTreeMap::new();
        for a in self.list(Kind::Assessment)? {
            let (Some(s), Some(d), Some(t)) = (
                a.text("subject_id"),
                a.text("date"),
                a.fields.get("trl").and_then(Value::as_i64),
            ) else {
                continue;
            };
            if a.text("assessment_kind") == Some("answer") {
                continue; // one member's answer is not the register's judgement
            }
            let e = newest.entry(s.to_owned()).or_insert((d.to_owned(), t));
            if d > e.0.as_str() {
                *e = (d.to_owned(), t);
            }
        }
        let mut out = Vec::new();
        for t in self.list(Kind::Technology)? {
            let trl = newest.get(&t.meta.id.to_string()).map(|x| x.1);
            let domains: Vec<String> = t
                .texts("domains")
                .into_iter()
                .filter(|d| INCUBATOR_DOMAINS.contains(&d.as_str()))
                .collect();
            let flagged = t.text("uptake_to").is_some() || t.text("uptake_route").is_some();
            let candidate = trl.is_some_and(|x| INCUBATOR_TRL.contains(&x)) && !domains.is_empty();
            if candidate || flagged {
                out.push(IncubatorEntry {
                    id: t.meta.id,
                    name: t.label(),
                    trl,
                    domains,
                    watch_status: t.text("watch_status").map(str::to_owned),
                    uptake_to: t.text("uptake_to").map(str::to_owned),
                    uptake_route: t.text("uptake_route").map(str::to_owned),
                    uptake_date: t.text("uptake_date").map(str::to_owned),
                    classification: t.meta.classification,
                });
            }
        }
        out.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        Ok(out)
    }

    /// Records the "flagged for uptake" action on a technology: to whom, by which route, dated.
    pub fn flag_for_uptake(
        &mut self,
        technology: Uuid,
        to: &str,
        route: &str,
        date: Option<&str>,
    ) -> Result<(), ServiceError> {
        let fields = [
            ("uptake_to".to_owned(), Value::from(to)),
            ("uptake_route".to_owned(), Value::from(route)),
            (
                "uptake_date".to_owned(),
                Value::from(date.map_or_else(today, str::to_owned)),
            ),
        ]
        .into_iter()
        .collect();
        self.edit(
            Kind::Technology,
            technology,
            &RecordInput {
                classification: None,
                releasable_to: None,
                fields,
            },
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_and_dissent_follow_the_documented_rule() {
        // Median of an even count is the mean of the two middle values.
        let s = spread(&[7.0, 3.0], 8.0);
        assert_eq!(
            (s.median, s.min, s.max, s.spread),
            (Some(5.0), Some(3.0), Some(7.0), Some(4.0))
        );
        assert!(s.dissent, "4 levels of 8: over 30 %");
        // 2 TRL levels apart is 25 % of the scale: no dissent; 3 levels is.
        assert!(!spread(&[5.0, 7.0], 8.0).dissent);
        assert!(spread(&[5.0, 8.0], 8.0).dissent);
        // 3 points of 10 is exactly 30 %: dissent; 2.9 is not.
        assert!(spread(&[1.0, 4.0], 10.0).dissent);
        assert!(!spread(&[1.0, 3.9], 10.0).dissent);
        // One answer is never dissent; none gives no figures.
        assert!(!spread(&[1.0], 10.0).dissent);
        assert_eq!(spread(&[], 10.0).median, None);
        // Odd count: the middle value; non-finite values are ignored.
        let s = spread(&[9.0, 1.0, 4.0, f64::NAN], 10.0);
        assert_eq!((s.n, s.median), (3, Some(4.0)));
    }

    #[test]
    fn common_releasability_keeps_only_states_in_every_list() {
        let v = |x: &[&str]| x.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let common = |lists: &[Vec<String>]| {
            crate::model::control::common_releasability(lists.iter().map(Vec::as_slice))
        };
        assert_eq!(common(&[v(&[]), v(&[])]), Some(v(&[])), "the whole group");
        assert_eq!(common(&[v(&[]), v(&["FR"])]), Some(v(&["FR"])));
        assert_eq!(
            common(&[v(&["FR", "DE"]), v(&["DE", "IT"])]),
            Some(v(&["DE"]))
        );
        // Disjoint stays disjoint: a later list never reopens it.
        assert_eq!(common(&[v(&["FR"]), v(&["IT"]), v(&["FR", "IT"])]), None);
        assert_eq!(common(&[v(&["FR"]), v(&["IT"]), v(&[])]), None);
    }
}

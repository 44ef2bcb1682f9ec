//! The record kinds of the register and the fields each one has (DESIGN.md §3).
//!
//! The field tables here are the single source of truth for the SQLite schema (one table per
//! kind, one column per field), the JSON import/export format, the command line's flags and
//! the change log: adding a field means adding one line here and a migration in `store`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A kind of replicated record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A critical technology.
    Technology,
    /// A value-chain element (component, material, ...).
    Item,
    /// A supplier, provider or research body.
    Organisation,
    /// A directed edge between two nodes.
    Link,
    /// A dated judgement on a technology, item or link.
    Assessment,
    /// A mitigating measure.
    Measure,
    /// A piece of evidence.
    Source,
    /// A dated fact for the timeline.
    Event,
    /// A consultation round of the expert group (questions on technologies, a deadline).
    Round,
    /// A proposal to revise the list of critical technologies.
    Proposal,
    /// A version of the list of critical technologies: dated and immutable.
    #[serde(rename = "list_version")]
    ListVersion,
    /// A bloc of partner countries (EU, NATO, like-minded, or the members' own).
    Bloc,
    /// A technology roadmap: targets by year, milestones, the measures meant to reach them.
    Roadmap,
}

impl Kind {
    /// Every kind, in the order they are listed and exported.
    pub const ALL: [Kind; 13] = [
        Kind::Technology,
        Kind::Item,
        Kind::Organisation,
        Kind::Link,
        Kind::Assessment,
        Kind::Measure,
        Kind::Source,
        Kind::Event,
        Kind::Round,
        Kind::Proposal,
        Kind::ListVersion,
        Kind::Bloc,
        Kind::Roadmap,
    ];

    /// The name used in files, SQL tables and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Kind::Technology => "technology",
            Kind::Item => "item",
            Kind::Organisation => "organisation",
            Kind::Link => "link",
            Kind::Assessment => "assessment",
            Kind::Measure => "measure",
            Kind::Source => "source",
            Kind::Event => "event",
            Kind::Round => "round",
            Kind::Proposal => "proposal",
            Kind::ListVersion => "list_version",
            Kind::Bloc => "bloc",
            Kind::Roadmap => "roadmap",
        }
    }

    /// The fields of this kind (besides the common metadata of every record).
    #[must_use]
    pub fn fields(self) -> &'static [Field] {
        match self {
            Kind::Technology => TECHNOLOGY,
            Kind::Item => ITEM,
            Kind::Organisation => ORGANISATION,
            Kind::Link => LINK,
            Kind::Assessment => ASSESSMENT,
            Kind::Measure => MEASURE,
            Kind::Source => SOURCE,
            Kind::Event => EVENT,
            Kind::Round => ROUND,
            Kind::Proposal => PROPOSAL,
            Kind::ListVersion => LIST_VERSION,
            Kind::Bloc => BLOC,
            Kind::Roadmap => ROADMAP,
        }
    }

    /// The field with this name, if the kind has it.
    #[must_use]
    pub fn field(self, name: &str) -> Option<&'static Field> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// The text fields full-text search looks in.
    #[must_use]
    pub fn search_fields(self) -> &'static [&'static str] {
        match self {
            Kind::Technology => &["name", "description", "reference_code"],
            Kind::Item => &["name", "stage", "description", "cn_codes", "dual_use_entry"],
            Kind::Organisation => &["name", "aliases", "description"],
            Kind::Link => &["notes"],
            Kind::Assessment => &["narrative", "assessor"],
            Kind::Measure | Kind::Bloc => &["name", "description"],
            Kind::Source => &["title", "publisher", "citation"],
            Kind::Event => &["title", "description"],
            Kind::Round => &["title", "description", "free_questions"],
            Kind::Proposal => &["name", "rationale"],
            Kind::ListVersion => &["title"],
            Kind::Roadmap => &["title", "narrative", "targets", "milestones"],
        }
    }

    /// The field that names a record of this kind in lists (`name` or `title`).
    #[must_use]
    pub fn label_field(self) -> &'static str {
        match self {
            Kind::Source | Kind::Event | Kind::Round | Kind::ListVersion | Kind::Roadmap => "title",
            Kind::Proposal => "action",
            Kind::Link => "link_kind",
            Kind::Assessment => "date",
            _ => "name",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A text that names no record kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown record kind {0:?}: use technology, item, organisation, link, assessment, measure, source, event, round, proposal, list_version, bloc or roadmap"
)]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_lowercase().replace('-', "_");
        let singular = lower.strip_suffix('s').unwrap_or(&lower);
        let singular = match singular {
            "technologie" => "technology",
            "organization" => "organisation",
            other => other,
        };
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == singular)
            .ok_or_else(|| UnknownKind(text.to_owned()))
    }
}

/// What a field holds and how it is checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldType {
    /// One line of text (at most 500 characters).
    Text,
    /// Free text over several lines (at most 100,000 characters).
    LongText,
    /// One of a fixed set of codes.
    Enum(&'static [&'static str]),
    /// Several of a fixed set of codes.
    EnumList(&'static [&'static str]),
    /// Several lines of text.
    TextList,
    /// An ISO 3166-1 alpha-2 country code.
    Country,
    /// Several country codes.
    CountryList,
    /// The id of a record of one of these kinds.
    Ref(&'static [Kind]),
    /// Ids of records of these kinds.
    RefList(&'static [Kind]),
    /// A node of the supply graph: a technology, item or organisation id, or a country code.
    Node,
    /// A whole number within bounds (inclusive).
    Int {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A number within bounds (inclusive).
    Real {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// Yes or no.
    Bool,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// Bytes (an attachment); base64 in JSON.
    Bytes,
}

impl FieldType {
    /// The SQLite column type that stores this field.
    #[must_use]
    pub fn sql_type(self) -> &'static str {
        match self {
            FieldType::Int { .. } | FieldType::Bool => "INTEGER",
            FieldType::Real { .. } => "REAL",
            FieldType::Bytes => "BLOB",
            _ => "TEXT",
        }
    }

    /// Whether the field holds a list (stored as a JSON array in its column).
    #[must_use]
    pub fn is_list(self) -> bool {
        matches!(
            self,
            FieldType::EnumList(_)
                | FieldType::TextList
                | FieldType::CountryList
                | FieldType::RefList(_)
        )
    }
}

/// One field of a record kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// Column and JSON name.
    pub name: &'static str,
    /// What it holds.
    pub ty: FieldType,
    /// Whether every record must have a value.
    pub required: bool,
    /// One-line help, shown by the CLI and the editors.
    pub help: &'static str,
}

const fn field(name: &'static str, ty: FieldType, help: &'static str) -> Field {
    Field {
        name,
        ty,
        required: false,
        help,
    }
}

const fn required(name: &'static str, ty: FieldType, help: &'static str) -> Field {
    Field {
        name,
        ty,
        required: true,
        help,
    }
}

/// The ten areas of Recommendation (EU) 2023/2113 (codes of `assets/reference/technologies.json`).
pub const AREAS: &[&str] = &[
    "semiconductors",
    "ai",
    "quantum",
    "biotechnologies",
    "connectivity",
    "sensing",
    "space-propulsion",
    "energy",
    "robotics",
    "advanced-materials",
];
/// Application domains of a technology.
pub const DOMAINS: &[&str] = &["defence", "space", "civil-security", "civil"];
/// The Observatory's five criticality criteria.
pub const CRITERIA: &[&str] = &[
    "strategic-dependency",
    "essential-space-security-defence",
    "multi-use",
    "low-to-medium-integration",
    "identified-function-performance",
];
/// Kinds of value-chain element.
pub const ITEM_KINDS: &[&str] = &[
    "component",
    "material",
    "equipment",
    "process",
    "software",
    "service",
    "skill",
    "data",
];
/// Kinds of organisation.
pub const ORGANISATION_KINDS: &[&str] =
    &["supplier", "provider", "research", "public-body", "other"];
/// Kinds of link.
pub const LINK_KINDS: &[&str] = &["requires", "input-to", "is-a", "supplied-by", "produced-in"];
/// Levels of substitutability of a link's supply.
pub const SUBSTITUTABILITY: &[&str] = &["none", "low", "medium", "high"];
/// EU positions in a technology.
pub const EU_POSITIONS: &[&str] = &["leading", "on-par", "lagging", "absent"];
/// Kinds of gap.
pub const GAPS: &[&str] = &[
    "skills",
    "data",
    "hardware",
    "software",
    "testing",
    "infrastructure",
    "capital",
    "standards",
];
/// Root causes of a dependency or gap.
pub const ROOT_CAUSES: &[&str] = &[
    "technology-gap",
    "critical-raw-materials",
    "skills",
    "low-rd-investment",
    "extra-territorial-regulation",
    "foreign-takeover",
    "market-concentration",
    "other",
];
/// Confidence of an assessment.
pub const CONFIDENCE: &[&str] = &["low", "medium", "high"];
/// Codes of `assets/reference/instruments.json`.
pub const INSTRUMENTS: &[&str] = &[
    "edf",
    "horizon-europe",
    "digital-europe",
    "investeu",
    "ipcei",
    "chips-act",
    "cef",
    "esif-rrf",
    "fdi-screening",
    "standards",
    "industrial-alliance",
    "national",
    "other",
];
/// Status of a measure.
pub const MEASURE_STATUS: &[&str] = &["proposed", "planned", "ongoing", "completed", "cancelled"];
/// Reliability of a source (NATO / Admiralty grading of the source).
pub const RELIABILITY: &[&str] = &["A", "B", "C", "D", "E", "F"];
/// Kinds of event.
pub const EVENT_KINDS: &[&str] = &["report-cycle", "policy", "market", "security", "other"];

/// Watch status of a technology (horizon scanning): a weak signal, watched, on the list,
/// retired from the list (it stays in the register).
pub const WATCH_STATUS: &[&str] = &["signal", "watch", "listed", "retired"];
/// Funding routes a technology flagged for uptake is sent to.
pub const UPTAKE_ROUTES: &[&str] = &[
    "eic-transition",
    "edf",
    "horizon-europe",
    "national",
    "other",
];
/// The questions a consultation round can ask about each technology in scope.
pub const QUESTIONS: &[&str] = &[
    "trl",
    "criticality",
    "supply-risk",
    "eu-position",
    "gaps",
    "root-causes",
    "narrative",
];
/// Status of a consultation round.
pub const ROUND_STATUS: &[&str] = &["open", "closed"];
/// What an assessment is: a member's own judgement (none), an answer to a round, or the
/// consolidated assessment a closed round wrote.
pub const ASSESSMENT_KINDS: &[&str] = &["answer", "consolidated"];
/// A member's position on a proposal (an answer whose subject is a proposal).
pub const STANCES: &[&str] = &["support", "oppose", "abstain"];
/// What a proposal does to the list.
pub const PROPOSAL_ACTIONS: &[&str] = &["add", "remove", "rename", "move"];
/// Status of a proposal.
pub const PROPOSAL_STATUS: &[&str] = &["proposed", "accepted", "rejected"];

const SOURCES: Field = field(
    "source_ids",
    FieldType::RefList(&[Kind::Source]),
    "evidence (source ids)",
);

const TECHNOLOGY: &[Field] = &[
    required("name", FieldType::Text, "name of the technology"),
    field("area", FieldType::Enum(AREAS), "area of the EU 2023 list"),
    field(
        "parent_id",
        FieldType::Ref(&[Kind::Technology]),
        "broader technology",
    ),
    field(
        "description",
        FieldType::LongText,
        "what it is and why it matters",
    ),
    field(
        "domains",
        FieldType::EnumList(DOMAINS),
        "application domains",
    ),
    field(
        "dual_use",
        FieldType::Bool,
        "has both civil and defence uses",
    ),
    field(
        "criteria",
        FieldType::EnumList(CRITERIA),
        "criticality criteria met",
    ),
    field(
        "reference_code",
        FieldType::Text,
        "code in the EU 2023 list (reference data)",
    ),
    field(
        "watch_status",
        FieldType::Enum(WATCH_STATUS),
        "horizon scanning: signal, watch, listed or retired",
    ),
    field(
        "signal_date",
        FieldType::Date,
        "date it was first noted as a signal",
    ),
    field("watch_date", FieldType::Date, "date it entered the watch"),
    field("listed_date", FieldType::Date, "date it entered the list"),
    field("retired_date", FieldType::Date, "date it left the list"),
    field(
        "uptake_to",
        FieldType::Text,
        "flagged for uptake: to whom (incubator)",
    ),
    field(
        "uptake_route",
        FieldType::Enum(UPTAKE_ROUTES),
        "flagged for uptake: funding route",
    ),
    field("uptake_date", FieldType::Date, "flagged for uptake: date"),
];

const ITEM: &[Field] = &[
    required("name", FieldType::Text, "name of the element"),
    required("item_kind", FieldType::Enum(ITEM_KINDS), "kind of element"),
    field(
        "stage",
        FieldType::Text,
        "value-chain stage (e.g. extraction, processing)",
    ),
    field("cn_codes", FieldType::TextList, "CN / HS codes"),
    field(
        "dual_use_entry",
        FieldType::Text,
        "entry in the EU dual-use list",
    ),
    field("description", FieldType::LongText, "description"),
    field(
        "recycling_rate",
        FieldType::Real { min: 0.0, max: 1.0 },
        "end-of-life recycling input rate (0-1)",
    ),
    SOURCES,
];

const ORGANISATION: &[Field] = &[
    required("name", FieldType::Text, "name"),
    field(
        "organisation_kind",
        FieldType::Enum(ORGANISATION_KINDS),
        "kind of organisation",
    ),
    field("aliases", FieldType::TextList, "other names"),
    field("hq_country", FieldType::Country, "headquarters country"),
    field(
        "production_countries",
        FieldType::CountryList,
        "countries where it produces",
    ),
    field(
        "owner_country",
        FieldType::Country,
        "country of the ultimate owner",
    ),
    field("sme", FieldType::Bool, "small or medium-sized enterprise"),
    field("description", FieldType::LongText, "description"),
    SOURCES,
];

const LINK: &[Field] = &[
    required(
        "from_id",
        FieldType::Node,
        "source node (id or country code)",
    ),
    required("to_id", FieldType::Node, "target node (id or country code)"),
    required("link_kind", FieldType::Enum(LINK_KINDS), "kind of link"),
    field(
        "share",
        FieldType::Real { min: 0.0, max: 1.0 },
        "share of supply (0-1)",
    ),
    field(
        "year",
        FieldType::Int {
            min: 1900,
            max: 2200,
        },
        "year the figure refers to",
    ),
    field(
        "substitutability",
        FieldType::Enum(SUBSTITUTABILITY),
        "how easily the supply is replaced",
    ),
    field("notes", FieldType::LongText, "notes"),
    SOURCES,
];

const ASSESSMENT: &[Field] = &[
    required(
        "subject_id",
        FieldType::Ref(&[Kind::Technology, Kind::Item, Kind::Link, Kind::Proposal]),
        "technology, item or link assessed (or a proposal, for a stance on it)",
    ),
    required("date", FieldType::Date, "date of the judgement"),
    field(
        "trl",
        FieldType::Int { min: 1, max: 9 },
        "technology readiness level 1-9",
    ),
    field(
        "criticality",
        FieldType::Real {
            min: 0.0,
            max: 10.0,
        },
        "criticality 0-10",
    ),
    field(
        "supply_risk",
        FieldType::Real {
            min: 0.0,
            max: 10.0,
        },
        "supply risk 0-10 (EU CRM scale)",
    ),
    field(
        "economic_importance",
        FieldType::Real {
            min: 0.0,
            max: 20.0,
        },
        "economic importance (EU CRM scale)",
    ),
    field("eu_position", FieldType::Enum(EU_POSITIONS), "EU position"),
    field("gaps", FieldType::EnumList(GAPS), "gaps"),
    field(
        "root_causes",
        FieldType::EnumList(ROOT_CAUSES),
        "root causes",
    ),
    field("confidence", FieldType::Enum(CONFIDENCE), "confidence"),
    field("narrative", FieldType::LongText, "reasoning"),
    field("assessor", FieldType::Text, "who made the judgement"),
    SOURCES,
    field(
        "round_id",
        FieldType::Ref(&[Kind::Round]),
        "consultation round it answers (or consolidates)",
    ),
    field(
        "assessment_kind",
        FieldType::Enum(ASSESSMENT_KINDS),
        "answer to a round, or consolidated assessment",
    ),
    field(
        "member_state",
        FieldType::Country,
        "Member State of the member who answered",
    ),
    field(
        "stance",
        FieldType::Enum(STANCES),
        "position on a proposal (support, oppose, abstain)",
    ),
    field(
        "free_answers",
        FieldType::TextList,
        "answers to the round's free questions (\"question: answer\")",
    ),
    field(
        "based_on_ids",
        FieldType::RefList(&[Kind::Assessment]),
        "answers a consolidated assessment rests on",
    ),
];

const MEASURE: &[Field] = &[
    required("name", FieldType::Text, "name"),
    field("instrument", FieldType::Enum(INSTRUMENTS), "EU instrument"),
    field(
        "target_ids",
        FieldType::RefList(&[Kind::Technology, Kind::Item, Kind::Link]),
        "technologies, items or links it addresses",
    ),
    field("status", FieldType::Enum(MEASURE_STATUS), "status"),
    field("start", FieldType::Date, "start date"),
    field("end", FieldType::Date, "end date"),
    field(
        "budget_eur",
        FieldType::Real {
            min: 0.0,
            max: 1e15,
        },
        "budget in euro",
    ),
    field("description", FieldType::LongText, "description"),
    SOURCES,
    field(
        "gaps_addressed",
        FieldType::EnumList(GAPS),
        "gaps of its targets it addresses",
    ),
    field(
        "causes_addressed",
        FieldType::EnumList(ROOT_CAUSES),
        "root causes of its targets it addresses",
    ),
    field(
        "effect_item_id",
        FieldType::Ref(&[Kind::Item]),
        "if it succeeds: the item that gains a supplier",
    ),
    field(
        "effect_country",
        FieldType::Country,
        "if it succeeds: the new supplier's country (e.g. an EU Member State)",
    ),
    field(
        "effect_share",
        FieldType::Real { min: 0.0, max: 1.0 },
        "if it succeeds: the new supplier's share of the item (0-1)",
    ),
    field(
        "effect_trl",
        FieldType::Int { min: 1, max: 9 },
        "if it succeeds: the TRL its technologies reach",
    ),
    field("effect_date", FieldType::Date, "if it succeeds: by when"),
];

const SOURCE: &[Field] = &[
    required("title", FieldType::Text, "title"),
    field("publisher", FieldType::Text, "publisher"),
    field("date", FieldType::Date, "publication date"),
    field(
        "citation",
        FieldType::Text,
        "citation: URL, document number or other reference",
    ),
    field(
        "reliability",
        FieldType::Enum(RELIABILITY),
        "reliability A-F",
    ),
    field(
        "attachment_name",
        FieldType::Text,
        "file name of the attachment",
    ),
    field(
        "attachment",
        FieldType::Bytes,
        "attached document (kept in the database)",
    ),
];

const EVENT: &[Field] = &[
    required("title", FieldType::Text, "title"),
    required("date", FieldType::Date, "date"),
    field("event_kind", FieldType::Enum(EVENT_KINDS), "kind of event"),
    field("description", FieldType::LongText, "description"),
    SOURCES,
];

const ROUND: &[Field] = &[
    required("title", FieldType::Text, "title of the round"),
    required("deadline", FieldType::Date, "date by which members answer"),
    field(
        "technology_ids",
        FieldType::RefList(&[Kind::Technology]),
        "technologies in scope",
    ),
    field(
        "questions",
        FieldType::EnumList(QUESTIONS),
        "questions asked about each technology",
    ),
    field("free_questions", FieldType::TextList, "free questions"),
    field(
        "proposal_ids",
        FieldType::RefList(&[Kind::Proposal]),
        "proposals to revise the list put to the members",
    ),
    field(
        "follow_up_of",
        FieldType::Ref(&[Kind::Round]),
        "the round this one follows up (Delphi)",
    ),
    field(
        "previous_distribution",
        FieldType::LongText,
        "anonymised answers of the previous round (JSON, see the crate docs)",
    ),
    field("status", FieldType::Enum(ROUND_STATUS), "open or closed"),
    field("opened", FieldType::Date, "date it was opened"),
    field("closed", FieldType::Date, "date it was closed"),
    field("description", FieldType::LongText, "what the round is for"),
];

const PROPOSAL: &[Field] = &[
    required(
        "action",
        FieldType::Enum(PROPOSAL_ACTIONS),
        "add, remove, rename or move a technology",
    ),
    field(
        "technology_id",
        FieldType::Ref(&[Kind::Technology]),
        "the technology (for add: an unlisted one, or none to create it)",
    ),
    field("name", FieldType::Text, "name (add) or new name (rename)"),
    field(
        "area",
        FieldType::Enum(AREAS),
        "area (add) or new area (move)",
    ),
    field(
        "criteria",
        FieldType::EnumList(CRITERIA),
        "criticality criteria it meets (checklist)",
    ),
    field("rationale", FieldType::LongText, "why"),
    field(
        "status",
        FieldType::Enum(PROPOSAL_STATUS),
        "proposed, accepted or rejected",
    ),
    field(
        "decided",
        FieldType::Date,
        "date it was accepted or rejected",
    ),
    field(
        "list_version",
        FieldType::Int {
            min: 1,
            max: 100_000,
        },
        "number of the list version it went into",
    ),
    SOURCES,
];

const LIST_VERSION: &[Field] = &[
    required("title", FieldType::Text, "title of the version"),
    required(
        "number",
        FieldType::Int {
            min: 1,
            max: 100_000,
        },
        "version number (the EU 2023 list is 1)",
    ),
    required("date", FieldType::Date, "date of the version"),
    required(
        "entries",
        FieldType::LongText,
        "the technologies on the list (JSON, see the crate docs)",
    ),
    field(
        "proposal_ids",
        FieldType::RefList(&[Kind::Proposal]),
        "proposals it accepted",
    ),
    field(
        "previous_id",
        FieldType::Ref(&[Kind::ListVersion]),
        "the version it revises",
    ),
];

const BLOC: &[Field] = &[
    required("name", FieldType::Text, "name (EU, NATO, like-minded, ...)"),
    field("countries", FieldType::CountryList, "its countries"),
    field("description", FieldType::LongText, "what it is"),
];

const ROADMAP: &[Field] = &[
    required("title", FieldType::Text, "title"),
    field(
        "technology_id",
        FieldType::Ref(&[Kind::Technology]),
        "the technology it is for",
    ),
    field("area", FieldType::Enum(AREAS), "or the area it is for"),
    field(
        "bloc",
        FieldType::Text,
        "the bloc its outside-bloc targets refer to (default EU)",
    ),
    field(
        "targets",
        FieldType::TextList,
        "targets by year: \"2030: TRL 7, outside bloc 40 %, EU capacity 20 %\"",
    ),
    field(
        "milestones",
        FieldType::TextList,
        "milestones: \"2027-06-30: pilot line running\"",
    ),
    field(
        "measure_ids",
        FieldType::RefList(&[Kind::Measure]),
        "the measures meant to reach the targets",
    ),
    field("narrative", FieldType::LongText, "where it stands and why"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_fields_are_unique() {
        for kind in Kind::ALL {
            assert_eq!(kind.name().parse::<Kind>(), Ok(kind));
            let mut names: Vec<_> = kind.fields().iter().map(|f| f.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), kind.fields().len(), "{kind}");
            assert!(kind.field(kind.label_field()).is_some(), "{kind}");
            for name in kind.search_fields() {
                assert!(kind.field(name).is_some(), "{kind}.{name}");
            }
        }
        assert_eq!("organizations".parse::<Kind>(), Ok(Kind::Organisation));
        assert_eq!("technologies".parse::<Kind>(), Ok(Kind::Technology));
        assert!("member".parse::<Kind>().is_err());
    }
}

//! A record of the register: common metadata plus the fields of its kind, and the rules that
//! every field value must satisfy before it reaches the store.
//!
//! Field values are JSON values (`serde_json::Value`) checked against the kind's field table
//! ([`super::kind`]): text is trimmed and bounded, codes are checked against their lists,
//! countries are canonical alpha-2 codes, dates are `YYYY-MM-DD`, numbers are within bounds,
//! lists are sorted and without duplicates (so that equal content has one form). Whether a
//! referenced record exists is checked by the store, which can see the other records.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::classification::Classification;
use super::country;
use super::hlc::Hlc;
use super::kind::{Field, FieldType, Kind};

/// Longest single-line text, in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// Longest long text, in characters.
pub const MAX_LONG_TEXT_CHARS: usize = 100_000;
/// Largest attachment, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 64 * 1024 * 1024;

/// Metadata every replicated record carries (DESIGN.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Record id: UUID v7 for records made by users, v8 (derived from the code) for reference
    /// data, so every file holds the same ids for the same reference records.
    pub id: Uuid,
    /// Classification level.
    pub classification: Classification,
    /// Member States it may be released to; empty = the whole expert group.
    pub releasable_to: Vec<String>,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
    /// Clock of the last change.
    pub updated: Hlc,
    /// Fingerprint of the member who made the last change.
    pub updated_by: String,
    /// Tombstone: deleted records stay, hidden, so that deletions replicate.
    pub deleted: bool,
    /// Built-in reference data (the EU 2023 list).
    pub reference: bool,
}

/// One record: its kind, metadata and field values (absent = no value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Kind of record.
    pub kind: Kind,
    /// Common metadata.
    pub meta: Meta,
    /// Field values by field name; only fields of `kind`, never JSON null.
    pub fields: BTreeMap<String, Value>,
}

impl Record {
    /// The text value of a field, if it has one.
    #[must_use]
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    /// A text-list field (empty when absent).
    #[must_use]
    pub fn texts(&self, name: &str) -> Vec<String> {
        self.fields
            .get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The label shown in lists: the name or title.
    #[must_use]
    pub fn label(&self) -> String {
        match self.kind {
            Kind::Link => format!(
                "{} {} {}",
                self.text("from_id").unwrap_or("?"),
                self.text("link_kind").unwrap_or("?"),
                self.text("to_id").unwrap_or("?")
            ),
            Kind::Assessment => format!(
                "{} {}",
                self.text("date").unwrap_or("?"),
                self.text("subject_id").unwrap_or("?")
            ),
            Kind::Proposal => format!(
                "{} {}",
                self.text("action").unwrap_or("?"),
                self.text("name")
                    .or_else(|| self.text("technology_id"))
                    .unwrap_or("?")
            ),
            kind => self.text(kind.label_field()).unwrap_or_default().to_owned(),
        }
    }
}

impl Record {
    /// An answer of one member to a consultation round (an assessment with
    /// `assessment_kind = answer`): their view, not the register's judgement.
    #[must_use]
    pub fn is_round_answer(&self) -> bool {
        self.kind == Kind::Assessment && self.text("assessment_kind") == Some("answer")
    }
}

impl Record {
    /// A short, kind-specific detail for lists (area, kind, country, share and year, ...).
    #[must_use]
    pub fn detail(&self) -> String {
        let text = |name: &str| {
            self.fields
                .get(name)
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .unwrap_or_default()
        };
        match self.kind {
            Kind::Technology | Kind::Roadmap => text("area"),
            Kind::Item => text("item_kind"),
            Kind::Organisation => text("hq_country"),
            Kind::Link => {
                let share = self
                    .fields
                    .get("share")
                    .and_then(Value::as_f64)
                    .map(|s| format!("{:.1} %", s * 100.0))
                    .unwrap_or_default();
                format!("{share} {}", text("year")).trim().to_owned()
            }
            Kind::Assessment => format!("TRL {} | risk {}", text("trl"), text("supply_risk")),
            Kind::Measure => format!("{} {}", text("instrument"), text("status"))
                .trim()
                .to_owned(),
            Kind::Source => text("publisher"),
            Kind::Event => text("date"),
            Kind::Round => format!("{} by {}", text("status"), text("deadline"))
                .trim()
                .to_owned(),
            Kind::Proposal => text("status"),
            Kind::ListVersion => format!("v{} {}", text("number"), text("date")),
            Kind::Bloc => format!(
                "{} countries",
                self.fields
                    .get("countries")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len)
            ),
        }
    }
}

impl Kind {
    /// Column title of [`Record::detail`].
    #[must_use]
    pub fn detail_header(self) -> &'static str {
        match self {
            Kind::Technology | Kind::Roadmap => "Area",
            Kind::Item => "Kind",
            Kind::Organisation => "Country",
            Kind::Link => "Share / year",
            Kind::Assessment => "TRL / risk",
            Kind::Measure => "Instrument / status",
            Kind::Source => "Publisher",
            Kind::Event => "Date",
            Kind::Round => "Status / deadline",
            Kind::Proposal => "Status",
            Kind::ListVersion => "Version / date",
            Kind::Bloc => "Countries",
        }
    }
}

/// Why a field value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The kind has no such field.
    #[error("{kind} has no field {field:?} (fields: {known})")]
    UnknownField {
        /// Record kind.
        kind: Kind,
        /// Field named.
        field: String,
        /// The fields it has.
        known: String,
    },
    /// A required field has no value.
    #[error("{field} is required")]
    Missing {
        /// Field name.
        field: &'static str,
    },
    /// The value does not fit the field.
    #[error("{field}: {reason}")]
    Invalid {
        /// Field name.
        field: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },
}

fn invalid(field: &Field, reason: impl Into<String>) -> FieldError {
    FieldError::Invalid {
        field: field.name,
        reason: reason.into(),
    }
}

/// The field of `kind` called `name`, or an error listing the fields it has.
pub fn field_of(kind: Kind, name: &str) -> Result<&'static Field, FieldError> {
    kind.field(name).ok_or_else(|| FieldError::UnknownField {
        kind,
        field: name.to_owned(),
        known: kind
            .fields()
            .iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Checks and normalises a JSON value for `field`. `Ok(None)` means "no value" (null or an
/// empty text or list).
pub fn normalise_value(field: &Field, value: &Value) -> Result<Option<Value>, FieldError> {
    if value.is_null() {
        return Ok(None);
    }
    let normalised = match field.ty {
        FieldType::Text | FieldType::LongText => {
            let Some(text) = value.as_str() else {
                return Err(invalid(field, "expected text"));
            };
            let text = text.trim();
            let limit = if field.ty == FieldType::Text {
                MAX_TEXT_CHARS
            } else {
                MAX_LONG_TEXT_CHARS
            };
            if field.ty == FieldType::Text && text.contains(['\n', '\r']) {
                return Err(invalid(field, "must be one line"));
            }
            // No control characters (a bell, an escape, a NUL): they can hide or fake text in a
            // terminal, a report or a marking line. Long text keeps its line breaks and tabs.
            if text.chars().any(|c| {
                c.is_control()
                    && !(field.ty == FieldType::LongText && matches!(c, '\n' | '\r' | '\t'))
            }) {
                return Err(invalid(field, "must not contain control characters"));
            }
            if text.chars().count() > limit {
                return Err(invalid(field, format!("longer than {limit} characters")));
            }
            if text.is_empty() {
                None
            } else {
                Some(Value::from(text))
            }
        }
        FieldType::Enum(codes) => {
            let Some(text) = value.as_str() else {
                return Err(invalid(field, "expected a code"));
            };
            Some(Value::from(enum_code(field, codes, text)?))
        }
        FieldType::Country => {
            let Some(text) = value.as_str() else {
                return Err(invalid(field, "expected a country code"));
            };
            Some(Value::from(country_code(field, text)?))
        }
        FieldType::Ref(_) => {
            let Some(text) = value.as_str() else {
                return Err(invalid(field, "expected an id"));
            };
            Some(Value::from(record_id(field, text)?.to_string()))
        }
        FieldType::Node => {
            let Some(text) = value.as_str() else {
                return Err(invalid(field, "expected an id or a country code"));
            };
            Some(Value::from(node_id(field, text)?))
        }
        FieldType::Date => {
            let Some(text) = value.as_str() else {
                return Err(invalid(field, "expected a date YYYY-MM-DD"));
            };
            Some(Value::from(date(field, text)?))
        }
        FieldType::Int { min, max } => {
            let number = value
                .as_i64()
                .or_else(|| {
                    // Whole numbers written as 5.0 are accepted; the range check below bounds them.
                    #[allow(clippy::cast_possible_truncation)]
                    value
                        .as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| invalid(field, format!("expected a whole number {min}-{max}")))?;
            if !(min..=max).contains(&number) {
                return Err(invalid(field, format!("{number} is outside {min}-{max}")));
            }
            Some(Value::from(number))
        }
        FieldType::Real { min, max } => {
            let number = value
                .as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| invalid(field, format!("expected a number {min}-{max}")))?;
            if !(min..=max).contains(&number) {
                return Err(invalid(field, format!("{number} is outside {min}-{max}")));
            }
            Some(Value::from(number))
        }
        FieldType::Bool => match value {
            Value::Bool(b) => Some(Value::from(*b)),
            _ => return Err(invalid(field, "expected true or false")),
        },
        FieldType::Bytes => {
            let Some(text) = value.as_str() else {
                return Err(invalid(field, "expected base64 text"));
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| invalid(field, format!("not base64: {e}")))?;
            if bytes.len() > MAX_ATTACHMENT_BYTES {
                return Err(invalid(field, "attachment larger than 64 MiB"));
            }
            if bytes.is_empty() {
                None
            } else {
                Some(Value::from(
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                ))
            }
        }
        FieldType::EnumList(_)
        | FieldType::TextList
        | FieldType::CountryList
        | FieldType::RefList(_) => {
            let Some(items) = value.as_array() else {
                return Err(invalid(field, "expected a list"));
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let Some(text) = item.as_str() else {
                    return Err(invalid(field, "expected a list of texts"));
                };
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                let clean = match field.ty {
                    FieldType::EnumList(codes) => enum_code(field, codes, text)?,
                    FieldType::CountryList => country_code(field, text)?,
                    FieldType::RefList(_) => record_id(field, text)?.to_string(),
                    _ => {
                        if text.chars().count() > MAX_TEXT_CHARS || text.contains('\n') {
                            return Err(invalid(
                                field,
                                "list entries are single lines of up to 500 characters",
                            ));
                        }
                        text.to_owned()
                    }
                };
                out.push(clean);
            }
            out.sort();
            out.dedup();
            if out.is_empty() {
                None
            } else {
                Some(Value::from(out))
            }
        }
    };
    Ok(normalised)
}

/// Parses command-line text for `field` into a JSON value (lists are comma-separated), then
/// checks it with [`normalise_value`].
pub fn parse_text(field: &Field, text: &str) -> Result<Option<Value>, FieldError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let value = match field.ty {
        FieldType::Int { .. } => {
            let t = text.trim();
            if t.is_empty() {
                Value::Null
            } else {
                Value::from(
                    t.parse::<i64>()
                        .map_err(|_| invalid(field, "expected a whole number"))?,
                )
            }
        }
        FieldType::Real { .. } => {
            let t = text.trim();
            if t.is_empty() {
                Value::Null
            } else if let Some(percent) = t.strip_suffix('%') {
                let number: f64 = percent
                    .trim()
                    .parse()
                    .map_err(|_| invalid(field, "expected a number"))?;
                Value::from(number / 100.0)
            } else {
                Value::from(
                    t.parse::<f64>()
                        .map_err(|_| invalid(field, "expected a number"))?,
                )
            }
        }
        FieldType::Bool => match text.trim().to_lowercase().as_str() {
            "" => Value::Null,
            "true" | "yes" | "y" | "1" => Value::Bool(true),
            "false" | "no" | "n" | "0" => Value::Bool(false),
            _ => return Err(invalid(field, "expected yes or no")),
        },
        ty if ty.is_list() => Value::from(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>(),
        ),
        _ => Value::from(text),
    };
    normalise_value(field, &value)
}

/// Checks `releasable_to`: EU Member State codes, canonical, sorted, unique.
pub fn normalise_releasability(codes: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        let trimmed = code.trim();
        if trimmed.is_empty() {
            continue;
        }
        match country::normalise(trimmed) {
            Some(c) if country::is_eu(&c) => out.push(c),
            _ => {
                return Err(FieldError::Invalid {
                    field: "releasable_to",
                    reason: format!("{trimmed:?} is not an EU Member State code"),
                });
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn enum_code(field: &Field, codes: &[&str], text: &str) -> Result<String, FieldError> {
    let wanted = text.trim().to_lowercase().replace([' ', '_'], "-");
    codes
        .iter()
        .find(|c| c.to_lowercase() == wanted)
        .map(|c| (*c).to_owned())
        .ok_or_else(|| {
            invalid(
                field,
                format!("{text:?} is not one of {}", codes.join(", ")),
            )
        })
}

fn country_code(field: &Field, text: &str) -> Result<String, FieldError> {
    country::normalise(text).ok_or_else(|| {
        invalid(
            field,
            format!("{text:?} is not an ISO 3166-1 alpha-2 country code"),
        )
    })
}

fn record_id(field: &Field, text: &str) -> Result<Uuid, FieldError> {
    Uuid::parse_str(text.trim()).map_err(|_| invalid(field, format!("{text:?} is not a record id")))
}

fn node_id(field: &Field, text: &str) -> Result<String, FieldError> {
    let t = text.trim();
    if let Ok(id) = Uuid::parse_str(t) {
        return Ok(id.to_string());
    }
    country::supply_code(t).ok_or_else(|| {
        invalid(
            field,
            format!("{text:?} is neither a record id nor a country or region code"),
        )
    })
}

fn date(field: &Field, text: &str) -> Result<String, FieldError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), format)
        .map(|d| d.to_string())
        .map_err(|_| invalid(field, format!("{text:?} is not a date YYYY-MM-DD")))
}

/// Checks that every required field of `kind` has a value.
pub fn check_required(kind: Kind, fields: &BTreeMap<String, Value>) -> Result<(), FieldError> {
    for field in kind.fields() {
        if field.required && !fields.contains_key(field.name) {
            return Err(FieldError::Missing { field: field.name });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(kind: Kind, name: &str) -> &'static Field {
        kind.field(name).unwrap()
    }

    #[test]
    fn values_are_checked_and_normalised() {
        let trl = f(Kind::Assessment, "trl");
        assert_eq!(normalise_value(trl, &json!(5)), Ok(Some(json!(5))));
        assert!(normalise_value(trl, &json!(10)).is_err());
        assert!(parse_text(trl, "0").is_err());
        let share = f(Kind::Link, "share");
        assert_eq!(parse_text(share, "61%"), Ok(Some(json!(0.61))));
        assert!(parse_text(share, "1.5").is_err());
        let domains = f(Kind::Technology, "domains");
        assert_eq!(
            parse_text(domains, "space, Defence,space"),
            Ok(Some(json!(["defence", "space"])))
        );
        assert!(parse_text(domains, "agriculture").is_err());
        let hq = f(Kind::Organisation, "hq_country");
        assert_eq!(parse_text(hq, "el"), Ok(Some(json!("GR"))));
        let date = f(Kind::Event, "date");
        assert!(parse_text(date, "2024-02-30").is_err());
        assert_eq!(
            parse_text(date, "2024-02-29"),
            Ok(Some(json!("2024-02-29")))
        );
        let name = f(Kind::Technology, "name");
        assert_eq!(parse_text(name, "  "), Ok(None));
        assert_eq!(parse_text(f(Kind::Technology, "parent_id"), ""), Ok(None));
        assert_eq!(parse_text(f(Kind::Event, "date"), " "), Ok(None));
        assert!(parse_text(name, "a\nb").is_err());
        let node = f(Kind::Link, "from_id");
        assert_eq!(parse_text(node, "cn"), Ok(Some(json!("CN"))));
        assert!(parse_text(node, "nowhere").is_err());
        assert!(normalise_releasability(&["FR".into(), "US".into()]).is_err());
        assert_eq!(
            normalise_releasability(&["el".into(), "FR".into()]).unwrap(),
            vec!["FR", "GR"]
        );
    }
}

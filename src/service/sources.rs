//! Import of public datasets read by [`crate::sources`]: all or nothing, unless the user
//! chooses to skip the rows that could not be read.

use serde::Serialize;

use super::{ImportReport, ServiceError, Session};
use crate::sources::Parsed;

/// At most this many problems are listed in an error (the rest are counted).
const LISTED_PROBLEMS: usize = 200;

/// What a dataset import did, or would do.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// The dataset.
    pub dataset: String,
    /// Data rows read.
    pub rows: usize,
    /// Records new, changed, unchanged.
    pub import: ImportReport,
    /// Rows skipped because they could not be read (only with `skip_bad_rows`).
    pub skipped: Vec<String>,
    /// Notes (names not mapped, withheld figures).
    pub notes: Vec<String>,
}

/// The problems of a rejected import, capped for display.
fn listed(problems: impl ExactSizeIterator<Item = String>) -> Vec<String> {
    let total = problems.len();
    let mut list: Vec<String> = problems.take(LISTED_PROBLEMS).collect();
    if total > LISTED_PROBLEMS {
        list.push(format!("... and {} more", total - LISTED_PROBLEMS));
    }
    list
}

impl Session {
    /// Imports what a dataset reader produced. Rows it could not read reject the whole import
    /// unless `skip_bad_rows`; then they are left out and listed in the report.
    pub fn import_source(
        &mut self,
        parsed: &Parsed,
        what: &str,
        skip_bad_rows: bool,
        dry_run: bool,
    ) -> Result<SourceReport, ServiceError> {
        self.import_source_owned(parsed.clone(), what, skip_bad_rows, dry_run)
    }

    /// [`Session::import_source`], consuming what was read (large imports: the records move
    /// into the import instead of being copied).
    pub fn import_source_owned(
        &mut self,
        parsed: Parsed,
        what: &str,
        skip_bad_rows: bool,
        dry_run: bool,
    ) -> Result<SourceReport, ServiceError> {
        if !parsed.problems.is_empty() && !skip_bad_rows {
            return Err(ServiceError::ImportRejected {
                what: what.to_owned(),
                problems: listed(parsed.problems.iter().map(ToString::to_string)),
            });
        }
        let Parsed {
            dataset,
            records,
            origins,
            problems,
            notes,
            rows,
        } = parsed;
        let import = self
            .import_maps(records, None, what, dry_run, Some(&origins))
            .map_err(|e| match e {
                ServiceError::ImportRejected { what, problems } => ServiceError::ImportRejected {
                    what,
                    problems: listed(problems.into_iter()),
                },
                other => other,
            })?;
        Ok(SourceReport {
            dataset,
            rows,
            import,
            skipped: problems.iter().map(ToString::to_string).collect(),
            notes,
        })
    }
}

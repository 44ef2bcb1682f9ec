//! Schema versions (`PRAGMA user_version`), migrations, and the reference data every new
//! file starts with.

use std::path::Path;

use rusqlite::{Connection, params};

use super::error::StoreError;
use super::records::{self, NewRecord};
use crate::model::kind::Kind;
use crate::model::{Classification, Hlc, country, reference};

/// Migrations in order; entry `i` brings the schema from version `i` to `i + 1`. Frozen once
/// released: change the schema by appending a migration.
const MIGRATIONS: &[&str] = &[
    include_str!("schema_v1.sql"),
    include_str!("schema_v2.sql"),
    include_str!("schema_v3.sql"),
    include_str!("schema_v4.sql"),
    include_str!("schema_v5.sql"),
    include_str!("schema_v6.sql"),
    include_str!("schema_v7.sql"),
    include_str!("schema_v8.sql"),
    include_str!("schema_v9.sql"),
    include_str!("schema_v10.sql"),
    include_str!("schema_v11.sql"),
    include_str!("schema_v12.sql"),
    include_str!("schema_v13.sql"),
    include_str!("schema_v14.sql"),
    include_str!("schema_v15.sql"),
];

/// The schema version this build writes.
#[allow(clippy::cast_possible_wrap)] // a handful of migrations
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Format tag in `meta`.
pub const FORMAT_TAG: &str = "observatory";

fn user_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

fn migrate_from(conn: &mut Connection, from: i64) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(from).unwrap_or(0))
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(index + 1).unwrap_or(i64::MAX),
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Creates the schema and loads the reference data into an empty database.
pub fn create(conn: &mut Connection, author: &str) -> Result<(), StoreError> {
    migrate_from(conn, 0)?;
    let now = records::now_rfc3339();
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('format', ?1), ('file_id', ?2), ('created_at', ?3), ('clock', ?4)",
        params![FORMAT_TAG, uuid::Uuid::now_v7().to_string(), now, Hlc::default().to_string()],
    )?;
    for level in Classification::ALL {
        tx.execute(
            "INSERT INTO classification_level (rank, code, marking) VALUES (?1, ?2, ?3)",
            params![level.rank(), level.code(), level.marking()],
        )?;
    }
    for c in country::all() {
        tx.execute(
            "INSERT INTO country (code, alpha3, name, eu, eea, nato) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![c.code, c.alpha3, c.name, c.eu, c.eea, c.nato],
        )?;
    }
    for i in reference::instruments()? {
        tx.execute(
            "INSERT INTO instrument (code, name) VALUES (?1, ?2)",
            params![i.code, i.name],
        )?;
    }
    for level in reference::trl_scale()?.levels {
        tx.execute(
            "INSERT INTO trl_level (level, name) VALUES (?1, ?2)",
            params![level.level, level.name],
        )?;
    }
    let list = reference::technology_list()?;
    let created_at = format!("{}T00:00:00Z", list.date);
    for area in &list.areas {
        tx.execute(
            "INSERT INTO area (code, number, name, highest_risk) VALUES (?1, ?2, ?3, ?4)",
            params![area.code, area.number, area.name, area.highest_risk],
        )?;
        for technology in &area.technologies {
            let id = reference::reference_technology_id(&technology.code);
            let fields = reference::reference_technology_fields(id).unwrap_or_default();
            // Reference records carry the zero clock: any member's edit is newer.
            records::insert(
                &tx,
                &NewRecord {
                    kind: Kind::Technology,
                    id,
                    classification: Classification::Unclassified,
                    releasable_to: Vec::new(),
                    reference: true,
                    fields,
                },
                &created_at,
                Hlc::default(),
                author,
            )?;
        }
    }
    insert_list_version_one(&tx, author)?;
    insert_built_in_blocs(&tx, author)?;
    tx.commit()?;
    Ok(())
}

/// Inserts the built-in blocs (EU, EU+EEA, NATO, like-minded): reference data, the same ids
/// and values in every file, editable like the reference technologies.
fn insert_built_in_blocs(tx: &Connection, author: &str) -> Result<(), StoreError> {
    for (name, description) in crate::model::bloc::BUILT_IN {
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("name".to_owned(), serde_json::Value::from(name));
        fields.insert(
            "countries".to_owned(),
            serde_json::Value::from(crate::model::bloc::built_in_countries(name)),
        );
        fields.insert(
            "description".to_owned(),
            serde_json::Value::from(description),
        );
        records::insert(
            tx,
            &NewRecord {
                kind: Kind::Bloc,
                id: crate::model::bloc::built_in_id(name),
                classification: Classification::Unclassified,
                releasable_to: Vec::new(),
                reference: true,
                fields,
            },
            "2024-01-01T00:00:00Z",
            Hlc::default(),
            author,
        )?;
    }
    Ok(())
}

/// Inserts version 1 of the list (the EU 2023 list), built-in reference data: the same id and
/// values in every file, the zero clock, and never changed (see `model::control`).
fn insert_list_version_one(tx: &Connection, author: &str) -> Result<(), StoreError> {
    let fields = crate::model::listing::version_one_fields()?;
    let created_at = format!(
        "{}T00:00:00Z",
        fields
            .get("date")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("2023-10-03")
    );
    records::insert(
        tx,
        &NewRecord {
            kind: Kind::ListVersion,
            id: crate::model::listing::version_one_id(),
            classification: Classification::Unclassified,
            releasable_to: Vec::new(),
            reference: true,
            fields,
        },
        &created_at,
        Hlc::default(),
        author,
    )
}

/// The outline of the schema this build makes (see [`super::auth::schema_outline`]): what an
/// opened file, once migrated, must match exactly.
pub fn expected_outline() -> Result<&'static Expected, StoreError> {
    static OUTLINE: std::sync::OnceLock<Expected> = std::sync::OnceLock::new();
    if let Some(outline) = OUTLINE.get() {
        return Ok(outline);
    }
    let mut conn = Connection::open_in_memory()?;
    migrate_from(&mut conn, 0)?;
    let expected = Expected {
        outline: super::auth::schema_outline(&conn)?,
        code: super::auth::code(&conn)?,
    };
    Ok(OUTLINE.get_or_init(|| expected))
}

/// The schema this build makes.
#[derive(Debug)]
pub struct Expected {
    /// See [`super::auth::schema_outline`].
    pub outline: Vec<String>,
    /// Its triggers and views (see [`super::auth::code`]).
    pub code: Vec<(String, String)>,
}

/// Checks that an opened database is an observatory of a version this build can read, and
/// migrates an older one.
pub fn check_and_migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let not_observatory = || StoreError::NotObservatory {
        path: path.to_owned(),
        detail: "it decrypts to a SQLite database without the observatory format tag".to_owned(),
    };
    let tag: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
            r.get(0)
        })
        .ok();
    if tag.as_deref() != Some(FORMAT_TAG) {
        return Err(not_observatory());
    }
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 1 {
        return Err(not_observatory());
    }
    if found < SCHEMA_VERSION {
        migrate_from(conn, found)?;
        if found < 3 {
            records::rebuild_search_index(conn)?;
        }
        if found < 14 {
            let tx = conn.transaction()?;
            insert_list_version_one(&tx, "")?;
            tx.commit()?;
        }
        if found < 15 {
            let tx = conn.transaction()?;
            insert_built_in_blocs(&tx, "")?;
            tx.commit()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_column() {
        let mut conn = super::super::file::secure_connection().unwrap();
        create(&mut conn, "TEST").unwrap();
        for kind in Kind::ALL {
            let mut stmt = conn
                .prepare(&format!("PRAGMA table_info({})", kind.name()))
                .unwrap();
            let columns: Vec<String> = stmt
                .query_map([], |r| r.get::<_, String>(1))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            for field in kind.fields() {
                assert!(
                    columns.iter().any(|c| c == field.name),
                    "{kind}.{} has no column",
                    field.name
                );
            }
            assert_eq!(
                columns.len(),
                8 + kind.fields().len(),
                "{kind}: stray columns"
            );
        }
        let count: i64 = conn
            .query_row(
                "SELECT count(*) FROM technology WHERE reference = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(count, 42);
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let indexed: i64 = conn
            .query_row(
                "SELECT count(*) FROM search WHERE kind = 'technology'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexed, 42, "reference records are searchable");
    }
}

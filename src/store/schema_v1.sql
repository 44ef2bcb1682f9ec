-- Observatory schema version 1 (PRAGMA user_version = 1). Frozen: later versions migrate it.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

CREATE TABLE classification_level (
  rank INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, marking TEXT NOT NULL) STRICT;
CREATE TABLE area (
  code TEXT PRIMARY KEY, number INTEGER NOT NULL, name TEXT NOT NULL,
  highest_risk INTEGER NOT NULL) STRICT;
CREATE TABLE country (
  code TEXT PRIMARY KEY, alpha3 TEXT NOT NULL, name TEXT NOT NULL, eu INTEGER NOT NULL,
  eea INTEGER NOT NULL, nato INTEGER NOT NULL, governance REAL) STRICT;
CREATE TABLE instrument (code TEXT PRIMARY KEY, name TEXT NOT NULL) STRICT;
CREATE TABLE trl_level (level INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;

CREATE TABLE technology (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  name TEXT, area TEXT, parent_id TEXT, description TEXT, domains TEXT, dual_use INTEGER,
  criteria TEXT, reference_code TEXT) STRICT;
CREATE TABLE item (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  name TEXT, item_kind TEXT, stage TEXT, cn_codes TEXT, dual_use_entry TEXT, description TEXT,
  recycling_rate REAL, source_ids TEXT) STRICT;
CREATE TABLE organisation (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  name TEXT, organisation_kind TEXT, aliases TEXT, hq_country TEXT, production_countries TEXT,
  owner_country TEXT, sme INTEGER, description TEXT, source_ids TEXT) STRICT;
CREATE TABLE link (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  from_id TEXT, to_id TEXT, link_kind TEXT, share REAL, year INTEGER, substitutability TEXT,
  notes TEXT, source_ids TEXT) STRICT;
CREATE TABLE assessment (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  subject_id TEXT, date TEXT, trl INTEGER, criticality REAL, supply_risk REAL,
  economic_importance REAL, eu_position TEXT, gaps TEXT, root_causes TEXT, confidence TEXT,
  narrative TEXT, assessor TEXT, source_ids TEXT) STRICT;
CREATE TABLE measure (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  name TEXT, instrument TEXT, target_ids TEXT, status TEXT, start TEXT, "end" TEXT,
  budget_eur REAL, description TEXT, source_ids TEXT) STRICT;
CREATE TABLE source (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  title TEXT, publisher TEXT, date TEXT, citation TEXT, reliability TEXT,
  attachment_name TEXT, attachment BLOB) STRICT;
CREATE TABLE event (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  title TEXT, date TEXT, event_kind TEXT, description TEXT, source_ids TEXT) STRICT;

CREATE INDEX link_from ON link (from_id);
CREATE INDEX link_to ON link (to_id);
CREATE INDEX assessment_subject ON assessment (subject_id, date);

-- Append-only, hash-chained log of who changed what (see the store module docs).
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY, at TEXT NOT NULL, author TEXT NOT NULL, action TEXT NOT NULL,
  record_kind TEXT, record_id TEXT, detail TEXT NOT NULL, prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL) STRICT;
-- One row per changed field, with its clock: what exchange bundles carry.
CREATE TABLE change_log (
  seq INTEGER PRIMARY KEY, record_kind TEXT NOT NULL, record_id TEXT NOT NULL,
  field TEXT NOT NULL, value TEXT NOT NULL, hlc TEXT NOT NULL, author TEXT NOT NULL) STRICT;
CREATE INDEX change_log_record ON change_log (record_kind, record_id, field);

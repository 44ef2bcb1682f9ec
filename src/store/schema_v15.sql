-- Observatory schema version 15: where to act first. `bloc`: a bloc of partner countries
-- (the built-in EU, EU+EEA, NATO and like-minded are reference data, editable like the EU 2023
-- list); `roadmap`: a technology roadmap (targets by year, milestones, measures); `measure`
-- gains the gaps and root causes it addresses and its expected effect if it succeeds.
CREATE TABLE bloc (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  name TEXT, countries TEXT, description TEXT) STRICT;
CREATE TABLE roadmap (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  title TEXT, technology_id TEXT, area TEXT, bloc TEXT, targets TEXT, milestones TEXT,
  measure_ids TEXT, narrative TEXT) STRICT;
CREATE INDEX bloc_updated ON bloc (updated_hlc);
CREATE INDEX roadmap_updated ON roadmap (updated_hlc);
ALTER TABLE measure ADD COLUMN gaps_addressed TEXT;
ALTER TABLE measure ADD COLUMN causes_addressed TEXT;
ALTER TABLE measure ADD COLUMN effect_item_id TEXT;
ALTER TABLE measure ADD COLUMN effect_country TEXT;
ALTER TABLE measure ADD COLUMN effect_share REAL;
ALTER TABLE measure ADD COLUMN effect_trl INTEGER;
ALTER TABLE measure ADD COLUMN effect_date TEXT;

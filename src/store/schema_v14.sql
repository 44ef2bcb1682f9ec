-- Observatory schema version 14: the consultation cycle of the expert group.
-- `round`: a consultation round (questions on technologies, a deadline; only its coordinator,
-- the originator, changes it). `proposal`: a proposal to revise the list of critical
-- technologies. `list_version`: a version of the list, dated and immutable (no change after
-- its creation counts; version 1, the EU 2023 list, is built-in reference data).
-- `assessment` gains what ties an answer to a round; `technology` the horizon-scanning
-- watch status with its dates, and the incubator's "flagged for uptake" action.
CREATE TABLE round (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  title TEXT, deadline TEXT, technology_ids TEXT, questions TEXT, free_questions TEXT,
  proposal_ids TEXT, follow_up_of TEXT, previous_distribution TEXT, status TEXT, opened TEXT,
  closed TEXT, description TEXT) STRICT;
CREATE TABLE proposal (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  action TEXT, technology_id TEXT, name TEXT, area TEXT, criteria TEXT, rationale TEXT,
  status TEXT, decided TEXT, list_version INTEGER, source_ids TEXT) STRICT;
CREATE TABLE list_version (
  id TEXT PRIMARY KEY, classification INTEGER NOT NULL, releasable_to TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_hlc TEXT NOT NULL, updated_by TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, reference INTEGER NOT NULL DEFAULT 0,
  title TEXT, number INTEGER, date TEXT, entries TEXT, proposal_ids TEXT, previous_id TEXT)
  STRICT;
CREATE INDEX round_updated ON round (updated_hlc);
CREATE INDEX proposal_updated ON proposal (updated_hlc);
CREATE INDEX list_version_updated ON list_version (updated_hlc);
ALTER TABLE assessment ADD COLUMN round_id TEXT;
ALTER TABLE assessment ADD COLUMN assessment_kind TEXT;
ALTER TABLE assessment ADD COLUMN member_state TEXT;
ALTER TABLE assessment ADD COLUMN stance TEXT;
ALTER TABLE assessment ADD COLUMN free_answers TEXT;
ALTER TABLE assessment ADD COLUMN based_on_ids TEXT;
CREATE INDEX assessment_round ON assessment (round_id);
ALTER TABLE technology ADD COLUMN watch_status TEXT;
ALTER TABLE technology ADD COLUMN signal_date TEXT;
ALTER TABLE technology ADD COLUMN watch_date TEXT;
ALTER TABLE technology ADD COLUMN listed_date TEXT;
ALTER TABLE technology ADD COLUMN retired_date TEXT;
ALTER TABLE technology ADD COLUMN uptake_to TEXT;
ALTER TABLE technology ADD COLUMN uptake_route TEXT;
ALTER TABLE technology ADD COLUMN uptake_date TEXT;

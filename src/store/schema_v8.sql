-- Observatory schema version 8: the outbox, one row per exchange bundle this member sent:
-- its id, per-sender `sequence`, the recipients' fingerprints (sorted, comma-separated), how
-- many changes, the rank of the highest classification, and the clock of the last change it
-- carried (where "changes since the last bundle to them" starts). Local to this file.
CREATE TABLE bundle_out (
  bundle_id TEXT PRIMARY KEY, sequence INTEGER NOT NULL, created_at TEXT NOT NULL,
  recipients TEXT NOT NULL, changes INTEGER NOT NULL, classification INTEGER NOT NULL,
  last_hlc TEXT NOT NULL) STRICT;

-- Observatory schema version 9: the inbox and the conflict list. `bundle_in`: one row per
-- bundle imported (its id, sender fingerprint, per-sender sequence, when, how many changes
-- applied), so the same bundle is never applied twice and an older sequence is flagged.
-- `conflict`: where two members changed the same field and the clocks decided, the value that
-- lost (JSON), with its clock and author, for a person to keep or take; `resolved_at` when done.
CREATE TABLE bundle_in (
  bundle_id TEXT PRIMARY KEY, sender TEXT NOT NULL, sequence INTEGER NOT NULL,
  imported_at TEXT NOT NULL, applied INTEGER NOT NULL) STRICT;
CREATE TABLE conflict (
  seq INTEGER PRIMARY KEY, record_kind TEXT NOT NULL, record_id TEXT NOT NULL,
  field TEXT NOT NULL, winner_hlc TEXT NOT NULL, winner_author TEXT NOT NULL,
  loser_value TEXT NOT NULL, loser_hlc TEXT NOT NULL, loser_author TEXT NOT NULL,
  bundle_id TEXT NOT NULL, resolved_at TEXT) STRICT;

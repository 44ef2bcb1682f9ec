-- Observatory schema version 10: changes held back. `quarantine`: changes received in a bundle
-- whose clock was more than ten minutes ahead of this member's clock. They are not applied (a
-- clock from the future would win every later edit); they are kept, and merged like any
-- received change at the first import once this member's clock has come within ten minutes of
-- them, then removed from here. `value` is JSON, `hlc` and `author` as in `change_log`.
CREATE TABLE quarantine (
  seq INTEGER PRIMARY KEY, bundle_id TEXT NOT NULL, record_kind TEXT NOT NULL,
  record_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, hlc TEXT NOT NULL,
  author TEXT NOT NULL, received_at TEXT NOT NULL) STRICT;

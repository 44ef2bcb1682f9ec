-- Observatory schema version 11: what each set of recipients was sent. `bundle_out.last_seq`:
-- the last `change_log.seq` a bundle took into account (NULL for a bundle of selected records),
-- so "since the last bundle" follows the local order of the change log (a change received late
-- with an older clock is not skipped). `bundle_sent`: the records each set of recipients (their
-- sorted fingerprints, comma-separated) was ever sent, so a record that becomes sendable later
-- (a lowered classification) goes with what it needs, not just its latest change.
ALTER TABLE bundle_out ADD COLUMN last_seq INTEGER;
CREATE TABLE bundle_sent (
  recipients TEXT NOT NULL, record_id TEXT NOT NULL,
  PRIMARY KEY (recipients, record_id)) STRICT, WITHOUT ROWID;

-- Observatory schema version 5: editions, frozen copies of the register that a report was made
-- from. `records` is a JSON array of every live record as of `as_of` (objects with `kind`,
-- `meta` and `fields`); `classification` is the rank of the highest level among them. An
-- edition never changes: updates and deletions are refused by the triggers below.
CREATE TABLE edition (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, as_of TEXT NOT NULL,
  classification INTEGER NOT NULL, created_at TEXT NOT NULL, author TEXT NOT NULL,
  records TEXT NOT NULL) STRICT;
CREATE TRIGGER edition_no_update BEFORE UPDATE ON edition
  BEGIN SELECT RAISE(ABORT, 'an edition is immutable'); END;
CREATE TRIGGER edition_no_delete BEFORE DELETE ON edition
  BEGIN SELECT RAISE(ABORT, 'an edition is immutable'); END;

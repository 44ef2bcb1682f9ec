-- Observatory schema version 3: the search index is recreated (a) with rowids derived from
-- record ids (the first 8 bytes of SHA-256 of the id text, big-endian, as a signed 64-bit
-- integer), so that a write finds the row to replace without scanning, and (b) with
-- `detail = column` (no token positions: searches are by words and prefixes, never phrases),
-- which makes it smaller and faster to fill. It is rebuilt from the record tables when this
-- migration runs.
DROP TABLE search;
CREATE VIRTUAL TABLE search USING fts5(
  kind UNINDEXED, id UNINDEXED, text, tokenize = 'unicode61 remove_diacritics 2',
  detail = column);

-- Observatory schema version 2: full-text search over names, titles, descriptions, narratives
-- and notes of live records. Rebuilt from the record tables whenever this migration runs; kept
-- up to date by every write.
CREATE VIRTUAL TABLE search USING fts5(
  kind UNINDEXED, id UNINDEXED, text, tokenize = 'unicode61 remove_diacritics 2');

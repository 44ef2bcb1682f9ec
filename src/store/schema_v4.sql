-- Observatory schema version 4: where the member placed the nodes of the supply graph (view
-- state of this file, not replicated): node is a record id or a country code.
CREATE TABLE graph_position (
  node TEXT PRIMARY KEY, x REAL NOT NULL, y REAL NOT NULL) STRICT;

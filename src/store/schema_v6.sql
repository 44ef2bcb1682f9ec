-- Observatory schema version 6: an index on the clock of the last change of every record
-- table, so that "what changed since" (as-of views, bundles of changes since the last
-- exchange) reads only the records changed since, not the whole register.
CREATE INDEX technology_updated ON technology (updated_hlc);
CREATE INDEX item_updated ON item (updated_hlc);
CREATE INDEX organisation_updated ON organisation (updated_hlc);
CREATE INDEX link_updated ON link (updated_hlc);
CREATE INDEX assessment_updated ON assessment (updated_hlc);
CREATE INDEX measure_updated ON measure (updated_hlc);
CREATE INDEX source_updated ON source (updated_hlc);
CREATE INDEX event_updated ON event (updated_hlc);

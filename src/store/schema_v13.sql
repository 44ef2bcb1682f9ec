-- Schema 13: from this version on, every save of the file carries its owner's authenticator
-- in the age header (see the crate docs, "Authenticator"). A file of schema 13 or newer without
-- one was not saved by Observatory and is refused. No table changes.
INSERT OR REPLACE INTO meta (key, value) VALUES ('authenticator', 'observatory-auth v1');

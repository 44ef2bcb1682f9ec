-- Observatory schema version 12: signed authorship, originator control, member cards v2.
-- (exchange) ---------------------------------------------------------------------------
-- (keyring) ----------------------------------------------------------------------------
-- Member cards v2 (see crate::crypto::card): `member.fingerprint` stays the key id (the
-- author id, over the keys only); `card_version` is the format of the stored card (1 or 2;
-- every card stored before this version is a version 1 card, shown as "re-verify" and never
-- trusted until its owner's version 2 card replaces it); `card_fingerprint` the card
-- fingerprint of a version 2 card (40 hex digits, over keys and profile; NULL for version
-- 1), the one compared aloud. `verified_at` / `verified_by` are about the card stored: a
-- new card for the same keys replaces the row's card and profile and clears them.
ALTER TABLE member ADD COLUMN card_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE member ADD COLUMN card_fingerprint TEXT;

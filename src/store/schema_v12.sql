-- Observatory schema version 12: signed authorship, originator control, member cards v2.
-- (exchange) ---------------------------------------------------------------------------
-- `change_log.signature`: the author's Ed25519 signature (standard base64) over the change
-- (message in `crypto::change`: kind, id, field, clock, author and the SHA-256 of `value`).
-- NULL: an unsigned row received from another member before signed authorship; it is kept
-- but never relayed. `change_log.value_sha256`: set only on a creation row received with its
-- values withheld (a record lowered after it was created; see the bundle format): the digest
-- the signature covers, `value` being `null`.
ALTER TABLE change_log ADD COLUMN signature TEXT;
ALTER TABLE change_log ADD COLUMN value_sha256 TEXT;
-- `quarantine` keeps the signature and withheld digest of the changes it holds, and the
-- sender of their bundle.
ALTER TABLE quarantine ADD COLUMN signature TEXT;
ALTER TABLE quarantine ADD COLUMN value_sha256 TEXT;
ALTER TABLE quarantine ADD COLUMN sender TEXT NOT NULL DEFAULT '';
UPDATE quarantine SET sender = coalesce(
  (SELECT b.sender FROM bundle_in b WHERE b.bundle_id = quarantine.bundle_id), '');
-- `proposal_decision`: what the originator decided about a proposal (a change of
-- `classification` or `releasable_to` by another member that lowers or widens it, so does not
-- count; `model::control`), by the proposal's `change_log.seq`: 'accepted' (the originator made
-- the same change their own) or 'rejected'.
CREATE TABLE proposal_decision (
  change_seq INTEGER PRIMARY KEY, decision TEXT NOT NULL CHECK (decision IN ('accepted', 'rejected')),
  decided_at TEXT NOT NULL, decided_by TEXT NOT NULL) STRICT;
-- `refused_change`: changes of an imported bundle that were refused one by one and never
-- applied (author unknown, unverified or revoked at the change's clock; a signature missing or
-- not verifying; the same change with another value), with the reason, for the Exchange view.
CREATE TABLE refused_change (
  seq INTEGER PRIMARY KEY, bundle_id TEXT NOT NULL, sender TEXT NOT NULL,
  record_kind TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT NOT NULL, hlc TEXT NOT NULL,
  author TEXT NOT NULL, reason TEXT NOT NULL, received_at TEXT NOT NULL) STRICT;
-- The inbox is keyed by (sender, bundle id): another member cannot block a bundle by sending
-- one with its id first.
CREATE TABLE bundle_in_v12 (
  sender TEXT NOT NULL, bundle_id TEXT NOT NULL, sequence INTEGER NOT NULL,
  imported_at TEXT NOT NULL, applied INTEGER NOT NULL, PRIMARY KEY (sender, bundle_id)) STRICT;
INSERT INTO bundle_in_v12 (sender, bundle_id, sequence, imported_at, applied)
  SELECT sender, bundle_id, sequence, imported_at, applied FROM bundle_in;
DROP TABLE bundle_in;
ALTER TABLE bundle_in_v12 RENAME TO bundle_in;
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

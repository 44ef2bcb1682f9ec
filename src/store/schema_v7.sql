-- Observatory schema version 7: the keyring, the other members' cards as this member imported
-- them. `fingerprint` is the card's 40 hex digits; `card` the card text as imported;
-- `clearance` the rank of the level the card claims. Verifying (after comparing the
-- fingerprint out of band) and revoking are recorded with when and by whom; a revocation is
-- final. Local to this file: the keyring is not in the change log and is not exchanged.
CREATE TABLE member (
  fingerprint TEXT PRIMARY KEY, card TEXT NOT NULL, name TEXT NOT NULL,
  member_state TEXT NOT NULL, clearance INTEGER NOT NULL,
  added_at TEXT NOT NULL, added_by TEXT NOT NULL,
  verified_at TEXT, verified_by TEXT, revoked_at TEXT, revoked_by TEXT) STRICT;

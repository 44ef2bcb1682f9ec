//! The keyring: the other members' cards as this member imported, verified or revoked them.

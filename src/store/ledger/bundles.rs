//! Outbox, inbox, quarantine, conflicts and proposals.

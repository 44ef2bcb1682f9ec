//! Identities, member cards and passphrases (DESIGN.md §5).
//!
//! One secret backs everything a member does: an age X25519 identity. The Ed25519 signing key
//! is derived from it, and the identity file on disk is the standard age identity text,
//! encrypted with the member's passphrase, so the reference `age` tool can use it directly
//! (`age -d -i ID FILE` asks for the passphrase).
//!
//! Secrets live in zeroizing types and are never logged or printed; `Debug` of an
//! [`Identity`] shows only its public card.

pub mod card;
pub mod change;
mod identity;
mod passphrase;

pub use card::{CardError, CardVersion, MemberCard};
pub use identity::{
    DEFAULT_WORK_FACTOR, Identity, IdentityError, MAX_WORK_FACTOR, MIN_WORK_FACTOR, Profile,
};
pub use passphrase::{Passphrase, PassphraseError, read_passphrase_file};

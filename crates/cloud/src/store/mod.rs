//! The cloud's storage, one module per aggregate: the only place SQL about that
//! aggregate is written. Handlers parse, authorise and decide; they call these
//! functions inside the transaction they commit with `AppState::commit_and_publish`.
//!
//! Moved here so far: accounts (login, second factor, devices, sessions,
//! failed sign-ins), addresses, carriers (keys, webhook outbox), deliveries, the households' settings and policy, guests,
//! locks (with their status, journal, pairing codes and grants), recordings. The other aggregates' statements are still in
//! their handler modules (see ARCHITECTURE.md, "Store").

pub(crate) mod accounts;
pub(crate) mod addresses;
pub(crate) mod carriers;
pub(crate) mod deliveries;
pub(crate) mod guest_invitations;
pub(crate) mod guests;
pub(crate) mod households;
pub(crate) mod locks;
pub(crate) mod recordings;

/// An insert's outcome: `false` when a unique key refused it (the row exists).
pub(crate) fn unless_taken(
    inserted: Result<sqlx::any::AnyQueryResult, sqlx::Error>,
) -> Result<bool, sqlx::Error> {
    match inserted {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

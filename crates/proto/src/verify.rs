//! The one decision a lock makes: open for this request, or refuse and say why.

use std::time::Duration;

use crate::envelope::Signed;
use serde::{Deserialize, Serialize};

use crate::ids::{DeliveryId, GrantId, HouseholdId, LockId};
use crate::keys::PublicKey;
use crate::objects::{
    Authorization, CameraHeartbeat, CourierResponse, EntryGrant, GrantSubject, LockChallenge,
};
use crate::time::{CLOCK_SKEW, Clock, Timestamp};

/// How long a lock's challenge may be answered. Short: the courier is at the door.
pub const CHALLENGE_MAX_AGE: Duration = Duration::from_secs(60);
/// How old the camera's "recording" heartbeat may be when the lock unlocks. The
/// camera beats every second; three allow two lost beats.
pub const CAMERA_HEARTBEAT_MAX_AGE: Duration = Duration::from_secs(3);

/// What a lock pinned when it was paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockTrust {
    /// This lock.
    pub lock: LockId,
    /// Its household.
    pub household: HouseholdId,
    /// The household's key: approvals, policies, invitations, revocations.
    pub household_key: PublicKey,
    /// The cloud's key: grants.
    pub cloud_key: PublicKey,
    /// The camera's key: heartbeats.
    pub camera_key: PublicKey,
}

/// What authorised an entry, so that it authorises only one: the delivery the
/// household approved, the shipment the carrier signed, or (for a guest's standing
/// invitation) the grant itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKey {
    /// A per-delivery approval, by the delivery the household signed.
    Approval(DeliveryId),
    /// A carrier's shipment admitted by a policy.
    Shipment {
        /// The carrier.
        carrier: String,
        /// Its tracking id.
        tracking: String,
    },
    /// A guest's entry, by grant.
    Grant(GrantId),
}

/// What the lock remembers across requests (and restarts).
pub trait LockLedger {
    /// Whether this authorisation already opened the door once.
    fn entry_used(&self, key: &EntryKey) -> bool;
    /// Whether a household revocation covers this grant.
    fn revoked(&self, grant: &EntryGrant) -> bool;
    /// The highest delivery-policy version the lock has seen; older ones are void.
    fn policy_version(&self) -> u64;
    /// `Some` when the lock lost part of its memory (its journal was found cut
    /// back): nothing authorised before the inner time opens, and while that
    /// time is not yet known (`Some(None)`) nothing opens at all.
    fn forgotten(&self) -> Option<Option<Timestamp>> {
        None
    }
}

/// Everything a courier presents at the door, plus the lock's own challenge.
#[derive(Debug, Clone, Copy)]
pub struct EntryRequest<'a> {
    /// The challenge this lock issued and still holds (never the courier's copy).
    pub challenge: &'a LockChallenge,
    /// The cloud's grant.
    pub grant: &'a Signed<EntryGrant>,
    /// The courier's signed answer to the challenge.
    pub response: &'a Signed<CourierResponse>,
    /// The camera's newest heartbeat.
    pub heartbeat: &'a Signed<CameraHeartbeat>,
    /// How long ago the lock issued `challenge`, by the lock's monotonic clock.
    pub challenge_age: Duration,
}

/// Which signature failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedPart {
    /// The cloud's grant.
    Grant,
    /// The household's approval, policy or invitation inside it.
    Authorization,
    /// The courier's response.
    Response,
    /// The camera's heartbeat.
    Heartbeat,
    /// The carrier's shipment inside a policy grant.
    Shipment,
}

/// Why a lock stays shut. Every refusal is logged with its reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A signature is missing, from the wrong key, or forged.
    #[error("bad signature on the {0:?}")]
    BadSignature(SignedPart),
    /// The grant is for another lock (or another household's lock).
    #[error("the grant is for another lock")]
    WrongLock,
    /// The one presenting it is not the courier (or guest) it was issued to.
    #[error("the grant was issued to another courier")]
    WrongCourier,
    /// The household's signature does not cover this entry.
    #[error("the household did not approve this entry")]
    NotApproved,
    /// Too early.
    #[error("the grant's window has not opened yet")]
    NotYetValid,
    /// Too late.
    #[error("the grant's window has closed")]
    Expired,
    /// Already used once, or the grant or answer is old or for another challenge.
    #[error("the grant or challenge response was already used")]
    Replayed,
    /// The household blocked it.
    #[error("the household revoked access")]
    Revoked,
    /// A standing policy or guest schedule does not allow this entry.
    #[error("the entry is outside the household's policy")]
    OutsidePolicy,
    /// No fresh signed proof that the camera is recording.
    #[error("the camera is not confirmed recording")]
    CameraNotRecording,
    /// The lock's clock cannot be believed, so no window can be judged.
    #[error("the lock's clock is not set")]
    ClockUntrusted,
    /// The lock lost its record of used entries; only what was authorised after it noticed opens.
    #[error(
        "the lock lost its record of used entries; the household must approve this entry again"
    )]
    MemoryLost,
}

/// A request the lock may open for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// The grant, verified.
    pub grant: EntryGrant,
    /// What authorised it; the lock records it so it opens once.
    pub key: EntryKey,
}

/// Decides whether `request` opens the lock described by `trust`, using only
/// what the lock holds: no network, the lock's own clock, its own ledger.
pub fn verify_entry(
    trust: &LockTrust,
    ledger: &dyn LockLedger,
    clock: &dyn Clock,
    request: EntryRequest<'_>,
) -> Result<VerifiedEntry, Refusal> {
    let reading = clock.read();
    if !reading.trusted {
        return Err(Refusal::ClockUntrusted);
    }
    let now = reading.now;

    let grant = request
        .grant
        .verify(&trust.cloud_key)
        .ok_or(Refusal::BadSignature(SignedPart::Grant))?;
    if grant.lock != trust.lock || grant.household != trust.household {
        return Err(Refusal::WrongLock);
    }
    let key = check_authorization(trust, ledger, &grant)?;
    if let Some(since) = ledger.forgotten()
        && since.is_none_or(|since| authorised_at(&grant) < since)
    {
        return Err(Refusal::MemoryLost);
    }

    if request.response.signer() != grant.holder {
        return Err(Refusal::WrongCourier);
    }
    let response = request
        .response
        .verify(&grant.holder)
        .ok_or(Refusal::BadSignature(SignedPart::Response))?;
    if response.subject != grant.subject {
        return Err(Refusal::WrongCourier);
    }

    if now < grant.window.not_before.minus(CLOCK_SKEW) {
        return Err(Refusal::NotYetValid);
    }
    if now > grant.window.not_after.plus(CLOCK_SKEW) {
        return Err(Refusal::Expired);
    }

    let challenge = request.challenge;
    if response.nonce != challenge.nonce
        || grant.challenge != challenge.nonce
        || response.lock != trust.lock
        || challenge.lock != trust.lock
        || request.challenge_age > CHALLENGE_MAX_AGE
    {
        return Err(Refusal::Replayed);
    }
    if ledger.entry_used(&key) {
        return Err(Refusal::Replayed);
    }
    if ledger.revoked(&grant) {
        return Err(Refusal::Revoked);
    }

    let heartbeat = request
        .heartbeat
        .verify(&trust.camera_key)
        .ok_or(Refusal::BadSignature(SignedPart::Heartbeat))?;
    let heartbeat_fresh = heartbeat.captured_at <= now.plus(Duration::from_secs(1))
        && now <= heartbeat.captured_at.plus(CAMERA_HEARTBEAT_MAX_AGE);
    if heartbeat.lock != trust.lock || !heartbeat.recording || !heartbeat_fresh {
        return Err(Refusal::CameraNotRecording);
    }

    Ok(VerifiedEntry { grant, key })
}

/// When what stands behind a grant was signed: the household's approval, the
/// carrier's shipment, or (for a guest) the grant itself.
fn authorised_at(grant: &EntryGrant) -> Timestamp {
    match &grant.authorization {
        Authorization::Approval(signed) => signed.peek().map_or(Timestamp(0), |a| a.approved_at),
        Authorization::Policy(entry) => entry.shipment.peek().map_or(Timestamp(0), |s| s.issued_at),
        Authorization::Guest(_) => grant.issued_at,
    }
}

fn check_authorization(
    trust: &LockTrust,
    ledger: &dyn LockLedger,
    grant: &EntryGrant,
) -> Result<EntryKey, Refusal> {
    let bad = Refusal::BadSignature(SignedPart::Authorization);
    match (&grant.authorization, &grant.subject) {
        (Authorization::Approval(signed), GrantSubject::Delivery(delivery)) => {
            let approval = signed.verify(&trust.household_key).ok_or(bad)?;
            if approval.household != trust.household
                || approval.delivery != *delivery
                || approval.lock != trust.lock
                || grant.carrier.as_deref() != Some(approval.carrier.as_str())
            {
                return Err(Refusal::NotApproved);
            }
            if approval.courier != grant.holder {
                return Err(Refusal::WrongCourier);
            }
            if !approval.window.contains_window(&grant.window) {
                return Err(Refusal::NotApproved);
            }
            Ok(EntryKey::Approval(approval.delivery))
        }
        (Authorization::Policy(entry), GrantSubject::Delivery(_)) => {
            let policy = entry.policy.verify(&trust.household_key).ok_or(bad)?;
            if policy.household != trust.household {
                return Err(Refusal::NotApproved);
            }
            if policy.version < ledger.policy_version() {
                return Err(Refusal::Revoked);
            }
            // The carrier, the courier and the window come from the carrier's
            // signature under a key the household pinned, never from the cloud.
            let unsigned = entry
                .shipment
                .peek()
                .ok_or(Refusal::BadSignature(SignedPart::Shipment))?;
            let pinned = policy
                .carrier_keys(&unsigned.carrier)
                .ok_or(Refusal::OutsidePolicy)?;
            let signer = entry.shipment.signer();
            if !pinned.contains(&signer) {
                return Err(Refusal::BadSignature(SignedPart::Shipment));
            }
            let shipment = entry
                .shipment
                .verify(&signer)
                .ok_or(Refusal::BadSignature(SignedPart::Shipment))?;
            if shipment.household != trust.household {
                return Err(Refusal::NotApproved);
            }
            if grant.carrier.as_deref() != Some(shipment.carrier.as_str()) {
                return Err(Refusal::NotApproved);
            }
            if shipment.courier != grant.holder {
                return Err(Refusal::WrongCourier);
            }
            let window_minutes = grant
                .window
                .not_after
                .0
                .checked_sub(grant.window.not_before.0)
                .map_or(i64::MAX, |span| span / 60_000);
            if !policy.locks.contains(&trust.lock)
                || !grant.window.is_valid()
                || window_minutes > i64::from(policy.max_window_minutes)
                || !shipment.window.contains_window(&grant.window)
                || !policy.hours.contains_window(&grant.window)
            {
                return Err(Refusal::OutsidePolicy);
            }
            Ok(EntryKey::Shipment {
                carrier: shipment.carrier,
                tracking: shipment.tracking,
            })
        }
        (Authorization::Guest(signed), GrantSubject::Guest(guest)) => {
            let invitation = signed.verify(&trust.household_key).ok_or(bad)?;
            if invitation.household != trust.household || invitation.guest != *guest {
                return Err(Refusal::NotApproved);
            }
            if invitation.guest_key != grant.holder {
                return Err(Refusal::WrongCourier);
            }
            if !invitation.locks.contains(&trust.lock) {
                return Err(Refusal::NotApproved);
            }
            if !invitation.schedule.contains_window(&grant.window) {
                return Err(Refusal::OutsidePolicy);
            }
            Ok(EntryKey::Grant(grant.grant.clone()))
        }
        // An approval for a delivery cannot let a guest in, nor the reverse.
        _ => Err(Refusal::NotApproved),
    }
}

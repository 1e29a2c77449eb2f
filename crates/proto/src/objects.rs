//! The signed objects of the trust model. Field meanings are documented in
//! `docs/signed-formats.md`; every struct refuses unknown fields, so a field added
//! later needs a lock that knows it (upgrade locks before clouds).

use serde::{Deserialize, Serialize};

use crate::envelope::{Kind, Signed, SignedObject};
use crate::ids::{DeliveryId, DeviceId, GrantId, GuestId, HouseholdId, LockId};
use crate::keys::PublicKey;
use crate::schedule::{GuestSchedule, WeeklyHours};
use crate::time::{TimeWindow, Timestamp};

/// What a lock closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockKind {
    /// The front (or back) door.
    Door,
    /// A garage door.
    Garage,
}

/// The household's "yes" to one delivery, signed on a household device with the
/// household key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryApproval {
    /// The household approving.
    pub household: HouseholdId,
    /// The delivery approved.
    pub delivery: DeliveryId,
    /// The lock the courier may open.
    pub lock: LockId,
    /// The carrier (e.g. "DHL"), as announced.
    pub carrier: String,
    /// The only courier key that may use this approval.
    pub courier: PublicKey,
    /// When the courier may enter.
    pub window: TimeWindow,
    /// The household device that signed.
    pub device: DeviceId,
    /// When it was signed.
    pub approved_at: Timestamp,
}

impl SignedObject for DeliveryApproval {
    const KIND: Kind = Kind::DeliveryApproval;
}

/// A standing "yes" to deliveries that match, which the household opted into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryPolicy {
    /// The household.
    pub household: HouseholdId,
    /// Grows with every change; a lock keeps only the highest it has seen.
    pub version: u64,
    /// Locks deliveries may use (front door, garage).
    pub locks: Vec<LockId>,
    /// Carriers allowed, each with the keys the household pinned for it; only a
    /// shipment signed by one of those keys is admitted. Empty allows none.
    pub carriers: Vec<PinnedCarrier>,
    /// Days and hours, in the household's time zone, an entry window must fit in.
    pub hours: WeeklyHours,
    /// The longest entry window the policy allows, in minutes.
    pub max_window_minutes: u32,
    /// The household device that signed.
    pub device: DeviceId,
    /// When it was signed.
    pub issued_at: Timestamp,
}

impl SignedObject for DeliveryPolicy {
    const KIND: Kind = Kind::DeliveryPolicy;
}

impl DeliveryPolicy {
    /// The pinned keys of `carrier`, if the policy allows it.
    pub fn carrier_keys(&self, carrier: &str) -> Option<&[PublicKey]> {
        self.carriers
            .iter()
            .find(|c| c.name == carrier)
            .map(|c| c.keys.as_slice())
    }

    /// The names of the carriers allowed.
    pub fn carrier_names(&self) -> Vec<String> {
        self.carriers.iter().map(|c| c.name.clone()).collect()
    }
}

/// A carrier a policy allows, and the keys its shipments must be signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedCarrier {
    /// Its name, as announced (e.g. "DHL").
    pub name: String,
    /// Its shipment-signing keys (more than one while it rotates).
    pub keys: Vec<PublicKey>,
}

/// A carrier's signed statement of one shipment: which household, which courier
/// key carries it, and when. Under a standing policy it stands in for the
/// household's per-delivery approval, so that the cloud alone cannot invent one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shipment {
    /// The carrier's name.
    pub carrier: String,
    /// The household it is for.
    pub household: HouseholdId,
    /// The carrier's tracking id; a lock admits each shipment once.
    pub tracking: String,
    /// The only courier key that may deliver it.
    pub courier: PublicKey,
    /// When it may be delivered.
    pub window: TimeWindow,
    /// When the carrier signed it.
    pub issued_at: Timestamp,
}

impl SignedObject for Shipment {
    const KIND: Kind = Kind::Shipment;
}

/// The cloud's signed time for one lock, answering the lock's nonce, so that a
/// lock never has to believe its own system clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudTime {
    /// The lock it is for.
    pub lock: LockId,
    /// The lock's fresh nonce.
    #[serde(with = "serde_bytes")]
    pub nonce: [u8; 32],
    /// The cloud's time.
    pub now: Timestamp,
}

impl SignedObject for CloudTime {
    const KIND: Kind = Kind::CloudTime;
}

/// A guest's standing permission (cleaner, dog sitter), signed by the household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestInvitation {
    /// The household.
    pub household: HouseholdId,
    /// The guest.
    pub guest: GuestId,
    /// The guest's name, for the log.
    pub name: String,
    /// The only key that may use this invitation.
    pub guest_key: PublicKey,
    /// Locks the guest may open.
    pub locks: Vec<LockId>,
    /// When.
    pub schedule: GuestSchedule,
    /// The household device that signed.
    pub device: DeviceId,
    /// When it was signed.
    pub issued_at: Timestamp,
}

impl SignedObject for GuestInvitation {
    const KIND: Kind = Kind::GuestInvitation;
}

/// A fresh random challenge from the lock, signed by the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockChallenge {
    /// The lock asking.
    pub lock: LockId,
    /// 32 random bytes, never reused.
    #[serde(with = "serde_bytes")]
    pub nonce: [u8; 32],
    /// When the lock issued it (by the lock's clock).
    pub issued_at: Timestamp,
}

impl SignedObject for LockChallenge {
    const KIND: Kind = Kind::LockChallenge;
}

/// The courier's (or guest's) answer to a challenge, signed with its own key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourierResponse {
    /// The lock it stands at.
    pub lock: LockId,
    /// The nonce of the challenge it answers.
    #[serde(with = "serde_bytes")]
    pub nonce: [u8; 32],
    /// What it wants to enter for.
    pub subject: GrantSubject,
    /// When it answered (by its own clock; informational).
    pub responded_at: Timestamp,
}

impl SignedObject for CourierResponse {
    const KIND: Kind = Kind::CourierResponse;
}

/// What an entry is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantSubject {
    /// A delivery.
    Delivery(DeliveryId),
    /// A guest's visit.
    Guest(GuestId),
}

/// The household's signed authorisation a grant carries; the lock checks it itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authorization {
    /// A per-delivery approval.
    Approval(Signed<DeliveryApproval>),
    /// The household's standing delivery policy, with the carrier's signed shipment.
    Policy(PolicyEntry),
    /// A guest invitation.
    Guest(Signed<GuestInvitation>),
}

/// What admits a delivery under a standing policy: the household's policy and the
/// carrier's shipment, each signed by its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyEntry {
    /// The household's policy.
    pub policy: Signed<DeliveryPolicy>,
    /// The carrier's shipment.
    pub shipment: Signed<Shipment>,
}

/// The cloud's permission for one entry, valid once, in a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryGrant {
    /// Unique; a lock accepts each grant at most once.
    pub grant: GrantId,
    /// The household.
    pub household: HouseholdId,
    /// The lock it opens.
    pub lock: LockId,
    /// What the entry is for.
    pub subject: GrantSubject,
    /// The key whose response to the lock's challenge must accompany it.
    pub holder: PublicKey,
    /// When it may be used.
    pub window: TimeWindow,
    /// The nonce of the lock challenge it answers: it opens once, for that challenge.
    #[serde(with = "serde_bytes")]
    pub challenge: [u8; 32],
    /// The household's signed "yes".
    pub authorization: Authorization,
    /// The carrier, for deliveries (checked against a policy).
    pub carrier: Option<String>,
    /// When the cloud issued it.
    pub issued_at: Timestamp,
}

impl SignedObject for EntryGrant {
    const KIND: Kind = Kind::EntryGrant;
}

/// What a revocation withdraws.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationTarget {
    /// Every grant for a delivery.
    Delivery(DeliveryId),
    /// One grant.
    Grant(GrantId),
    /// Every grant for a guest.
    Guest(GuestId),
}

/// "Block access": the household's signed withdrawal, obeyed by the lock at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// The household.
    pub household: HouseholdId,
    /// The lock told (a revocation is per lock).
    pub lock: LockId,
    /// What is withdrawn.
    pub target: RevocationTarget,
    /// The household device that signed.
    pub device: DeviceId,
    /// When.
    pub issued_at: Timestamp,
}

impl SignedObject for Revocation {
    const KIND: Kind = Kind::Revocation;
}

/// The camera's signed statement that it is recording, sent every second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraHeartbeat {
    /// The lock whose entry it watches.
    pub lock: LockId,
    /// Whether frames are being captured and stored right now.
    pub recording: bool,
    /// Sequence number of the newest frame captured.
    pub frame_seq: u64,
    /// When (by the camera's clock, which shares the lock's time source).
    pub captured_at: Timestamp,
}

impl SignedObject for CameraHeartbeat {
    const KIND: Kind = Kind::CameraHeartbeat;
}

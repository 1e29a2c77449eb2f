//! Doorstep's wire types and cryptography, shared by the cloud, the lock, the
//! courier and the household's devices.
//!
//! The trust model (SPEC §5) in one paragraph: a lock pins its household's public
//! key, the cloud's public key and its camera's public key at pairing. It opens
//! only for an [`EntryGrant`] signed by the cloud that carries the household's own
//! signed authorisation (a per-delivery [`DeliveryApproval`], a standing
//! [`DeliveryPolicy`] with the carrier's signed [`Shipment`], or a
//! [`GuestInvitation`]), bound to one lock challenge, presented together with the
//! courier's signature over a fresh [`LockChallenge`] and a fresh signed
//! [`CameraHeartbeat`] saying the camera records — checked by [`verify_entry`].
//! So the cloud's database and signing key together still open nothing the
//! household did not sign.
//!
//! Every signed object travels in a [`Signed`] envelope: canonical CBOR, Ed25519
//! with `verify_strict`, one version, no algorithm choice (see `docs/signed-formats.md`).
#![deny(missing_docs)]

mod envelope;
mod ids;
mod invitation_code;
mod keys;
mod objects;
mod schedule;
mod symbols;
mod time;
mod verify;

pub use envelope::{DecodeError, FORMAT_VERSION, Kind, Signed, SignedObject};
pub use ids::{DeliveryId, DeviceId, GrantId, GuestId, HouseholdId, LockId};
pub use invitation_code::{CodeError, InvitationCode};
pub use keys::{FINGERPRINT_ALPHABET, KeyError, PublicKey, SigningKey, normalize_fingerprint};
pub use objects::{
    Authorization, CameraHeartbeat, CloudTime, CourierResponse, DeliveryApproval, DeliveryPolicy,
    EntryGrant, GrantSubject, GuestInvitation, LockChallenge, LockKind, PinnedCarrier, PolicyEntry,
    Revocation, RevocationTarget, Shipment,
};
pub use schedule::{
    GuestSchedule, ScheduleError, WeeklyHours, is_time_zone, time_zone_names, wall_time,
    window_between, window_on_day,
};
pub use symbols::{SymbolError, read_symbols, write_symbols};
pub use time::{
    CLOCK_SKEW, Clock, ClockReading, ManualClock, SystemClock, TimeWindow, Timestamp, bounded,
};
pub use verify::{
    CAMERA_HEARTBEAT_MAX_AGE, CHALLENGE_MAX_AGE, EntryKey, EntryRequest, LockLedger, LockTrust,
    Refusal, SignedPart, VerifiedEntry, verify_entry,
};

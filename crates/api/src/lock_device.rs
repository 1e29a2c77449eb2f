//! What a lock says to the cloud over HTTP: pairing, its camera's heartbeats,
//! that it is alive, and its journal.

use serde::{Deserialize, Serialize};

/// A lock pairing itself (`POST /v1/locks/pair`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pair {
    /// The code the household created (without the fingerprint the device appended).
    pub code: String,
    /// The lock's device key.
    pub lock_key: String,
    /// Its camera's device key.
    pub camera_key: String,
}

/// What a lock pins.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Paired {
    /// The lock's id.
    pub lock_id: String,
    /// Its household.
    pub household_id: String,
    /// Pin: signs approvals, policies, invitations and revocations.
    pub household_public_key: String,
    /// Pin: signs grants.
    pub cloud_public_key: String,
    /// The lock's own credential for the cloud (`dlk_…`).
    pub lock_token: String,
    /// Its name.
    pub name: String,
    /// Door or garage.
    pub kind: String,
}

/// A camera heartbeat forwarded by the lock (`POST /v1/lock/heartbeats`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// A `camera-heartbeat` envelope signed by the paired camera.
    pub heartbeat: String,
}

crate::wire_names! {
    /// What happened at the lock, as its journal names it.
    pub enum ReportKind {
        /// The agent started (detail: `bolt`, `door`).
        Booted = "booted",
        /// The bolt is drawn.
        Unlocked = "unlocked",
        /// The bolt is thrown again.
        Relocked = "relocked",
        /// The door opened.
        DoorOpened = "door_opened",
        /// The door closed.
        DoorClosed = "door_closed",
        /// The door opened with the bolt thrown.
        Forced = "forced",
        /// The door stayed open too long.
        Ajar = "ajar",
        /// The motor did not move.
        Jammed = "jammed",
        /// A grant opened the door (detail: `grant`, `key`).
        GrantUsed = "grant_used",
        /// The lock refused an entry (detail: `reason`, `grant`).
        EntryRefused = "entry_refused",
        /// A revocation was obeyed.
        Revoked = "revoked",
        /// A newer delivery policy took effect (detail: `version`).
        PolicySeen = "policy_seen",
        /// The lock refused the cloud's time (detail: `reason`).
        ClockRefused = "clock_refused",
        /// The lock refused a channel message (detail: `detail`).
        MessageRefused = "message_refused",
        /// The journal on disk was older than what was uploaded (detail: `found`, `uploaded`).
        JournalRewound = "journal_rewound",
        /// After a rewind: nothing authorised before `before` opens again.
        ForgottenBefore = "forgotten_before",
    }
}

crate::wire_names! {
    /// The bolt as the lock reports it.
    pub enum BoltPosition {
        /// Thrown.
        Locked = "locked",
        /// The motor is drawing it.
        Unlocking = "unlocking",
        /// Drawn.
        Unlocked = "unlocked",
        /// The motor is throwing it.
        Locking = "locking",
        /// The motor did not move.
        Jammed = "jammed",
    }
}

crate::wire_names! {
    /// The door leaf as the sensor reports it.
    pub enum DoorPosition {
        /// Shut.
        Closed = "closed",
        /// Not shut.
        Open = "open",
    }
}

/// What a journal line carries beside its kind; which field each kind carries is
/// on [`ReportKind`]. Every field is optional so that a kind can gain one without
/// breaking an older cloud (`docs/protocol.md`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportDetail {
    /// `booted`: the bolt at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bolt: Option<BoltPosition>,
    /// `booted`: the door at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door: Option<DoorPosition>,
    /// `grant_used`, `entry_refused`: the grant's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// `grant_used`: what admitted the entry (the lock's `EntryKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<EntryKeySchema>)]
    pub key: Option<doorstep_proto::EntryKey>,
    /// `entry_refused`, `clock_refused`: why, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `message_refused`: what was refused, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `policy_seen`: the policy's version.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_count"
    )]
    #[schema(minimum = 0, maximum = 9_007_199_254_740_991_i64)]
    pub version: Option<u64>,
    /// `journal_rewound`: the newest line found on disk.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_count"
    )]
    #[schema(minimum = 0, maximum = 9_007_199_254_740_991_i64)]
    pub found: Option<u64>,
    /// `journal_rewound`: the newest line the cloud had.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_count"
    )]
    #[schema(minimum = 0, maximum = 9_007_199_254_740_991_i64)]
    pub uploaded: Option<u64>,
    /// `forgotten_before`: nothing authorised before this time (ms) opens again.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "doorstep_proto::bounded::optional_time"
    )]
    #[schema(minimum = 0, maximum = 253_402_300_799_999_i64)]
    pub before: Option<i64>,
}

/// One line of the lock's journal (`POST /v1/lock/reports`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockReport {
    /// The lock's journal sequence number (1, 2, 3 …, kept across restarts).
    #[serde(deserialize_with = "doorstep_proto::bounded::count")]
    #[schema(minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    pub seq: i64,
    /// What happened.
    pub kind: ReportKind,
    /// The delivery it concerns, if any.
    #[serde(default)]
    pub delivery_id: Option<String>,
    /// The guest it concerns, if any.
    #[serde(default)]
    pub guest_id: Option<String>,
    /// When (lock's clock, ms).
    #[serde(deserialize_with = "doorstep_proto::bounded::time")]
    #[schema(minimum = 0, maximum = 253_402_300_799_999_i64)]
    pub at: i64,
    /// Details (see [`ReportDetail`]).
    #[serde(default, deserialize_with = "crate::wire::object")]
    pub detail: ReportDetail,
}

fn optional_count<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    // `optional_count` keeps to 0..=2^53-1, so the conversion cannot fail.
    Ok(doorstep_proto::bounded::optional_count(deserializer)?.and_then(|n| u64::try_from(n).ok()))
}

/// The OpenAPI shape of [`doorstep_proto::EntryKey`] (the signed-object crate does
/// not depend on the schema generator).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = EntryKey)]
pub enum EntryKeySchema {
    /// A per-delivery approval, by delivery id.
    Approval(String),
    /// A carrier's shipment admitted by a policy.
    Shipment {
        /// The carrier.
        carrier: String,
        /// Its tracking id.
        tracking: String,
    },
    /// A guest's entry, by grant id.
    Grant(String),
}

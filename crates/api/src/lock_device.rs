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

/// What happened at the lock, as its journal names it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// The agent started (detail: `bolt`, `door`).
    Booted,
    /// The bolt is drawn.
    Unlocked,
    /// The bolt is thrown again.
    Relocked,
    /// The door opened.
    DoorOpened,
    /// The door closed.
    DoorClosed,
    /// The door opened with the bolt thrown.
    Forced,
    /// The door stayed open too long.
    Ajar,
    /// The motor did not move.
    Jammed,
    /// A grant opened the door (detail: `grant`, `key`).
    GrantUsed,
    /// The lock refused an entry (detail: `reason`, `grant`).
    EntryRefused,
    /// A revocation was obeyed.
    Revoked,
    /// A newer delivery policy took effect (detail: `version`).
    PolicySeen,
    /// The lock refused the cloud's time (detail: `reason`).
    ClockRefused,
    /// The lock refused a channel message (detail: `detail`).
    MessageRefused,
    /// The journal on disk was older than what was uploaded (detail: `found`, `uploaded`).
    JournalRewound,
    /// After a rewind: nothing authorised before `before` opens again.
    ForgottenBefore,
}

impl ReportKind {
    /// Every kind, in journal order of appearance.
    pub const ALL: [Self; 16] = [
        Self::Booted,
        Self::Unlocked,
        Self::Relocked,
        Self::DoorOpened,
        Self::DoorClosed,
        Self::Forced,
        Self::Ajar,
        Self::Jammed,
        Self::GrantUsed,
        Self::EntryRefused,
        Self::Revoked,
        Self::PolicySeen,
        Self::ClockRefused,
        Self::MessageRefused,
        Self::JournalRewound,
        Self::ForgottenBefore,
    ];

    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Booted => "booted",
            Self::Unlocked => "unlocked",
            Self::Relocked => "relocked",
            Self::DoorOpened => "door_opened",
            Self::DoorClosed => "door_closed",
            Self::Forced => "forced",
            Self::Ajar => "ajar",
            Self::Jammed => "jammed",
            Self::GrantUsed => "grant_used",
            Self::EntryRefused => "entry_refused",
            Self::Revoked => "revoked",
            Self::PolicySeen => "policy_seen",
            Self::ClockRefused => "clock_refused",
            Self::MessageRefused => "message_refused",
            Self::JournalRewound => "journal_rewound",
            Self::ForgottenBefore => "forgotten_before",
        }
    }

    /// The kind with this wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for ReportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The bolt as the lock reports it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum BoltPosition {
    /// Thrown.
    Locked,
    /// The motor is drawing it.
    Unlocking,
    /// Drawn.
    Unlocked,
    /// The motor is throwing it.
    Locking,
    /// The motor did not move.
    Jammed,
}

/// The door leaf as the sensor reports it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum DoorPosition {
    /// Shut.
    Closed,
    /// Not shut.
    Open,
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

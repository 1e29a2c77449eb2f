use doorstep_proto::LockKind;
use serde::{Deserialize, Serialize};

/// Ask for a pairing code.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPairingCode {
    /// What to call the lock ("Front door").
    pub name: String,
    /// Door or garage.
    #[schema(value_type = String)]
    pub kind: LockKind,
}

/// A one-time code to type into the lock.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PairingCode {
    /// Ten characters; single use.
    pub code: String,
    /// When it stops working (ms).
    pub expires_at: i64,
}

/// A paired lock as the household sees it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Lock {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Door or garage.
    pub kind: String,
    /// When it was paired.
    pub paired_at: i64,
    /// When the cloud last heard from it (a camera heartbeat).
    pub last_seen_at: Option<i64>,
    /// Heard from in the last few seconds.
    pub online: bool,
    /// Whether its camera says it is recording.
    pub camera_recording: bool,
    /// The bolt as the lock last reported it (`null` before its first report).
    pub bolt: Option<crate::BoltPosition>,
    /// The door as the lock last reported it.
    pub door: Option<crate::DoorPosition>,
    /// When the lock reported them (ms, its journal's time).
    pub position_at: Option<i64>,
}

//! The lock's own interface on the local network (`doorstep-lock run --control`):
//! what a courier or guest at the door asks it, and the simulated hardware's
//! switches that tests and the demo press. Errors answer [`crate::ErrorBody`].

use serde::{Deserialize, Serialize};

use crate::{BoltPosition, DoorPosition, ReportKind};

/// `GET /status`: the lock's own account of itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockStatus {
    /// Its id at the cloud.
    pub lock_id: String,
    /// The bolt.
    pub bolt: BoltPosition,
    /// The door leaf.
    pub door: DoorPosition,
    /// The motor failed its last stroke.
    pub motor_jammed: bool,
    /// The camera.
    pub camera: CameraStatus,
    /// The cloud channel is up and synced.
    pub online: bool,
    /// The clock has been set from the cloud's signed time.
    pub clock_set: bool,
    /// The (simulated) network link is up.
    pub network: bool,
    /// The newest journal line.
    pub journal_seq: u64,
    /// The newest line the cloud has acknowledged.
    pub uploaded_through: u64,
    /// Lines kept in memory because the disk refused them.
    pub journal_unwritten: usize,
}

/// The camera, within [`LockStatus`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct CameraStatus {
    /// Connected.
    pub plugged: bool,
    /// Recording now.
    pub recording: bool,
}

/// `POST /challenge`: a fresh `lock-challenge` envelope; the camera starts recording.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Challenge {
    /// Base64url envelope.
    pub challenge: String,
}

/// `POST /enter`: the cloud's grant and the courier's signed answer to the challenge.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enter {
    /// The `entry-grant` envelope.
    pub grant: String,
    /// The `courier-response` envelope.
    pub response: String,
}

/// `POST /enter` answered: the bolt is drawn.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entered {
    /// Always true (a refusal answers an error).
    pub unlocked: bool,
}

/// `POST /door/*`, `/motor/*`, `/jam`, …: what the hardware reported.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reported {
    /// The journal lines the press caused.
    pub reported: Vec<ReportKind>,
}

/// `POST /motor/slow`: wear the motor so each stroke takes this long.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowMotor {
    /// Milliseconds per stroke.
    pub stroke_ms: u32,
}

/// `POST /network/{up,down}` answered.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct NetworkSwitch {
    /// The link is up.
    pub network: bool,
}

/// `POST /camera/{plug,unplug}` answered.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct CameraSwitch {
    /// The camera is connected.
    pub plugged: bool,
}

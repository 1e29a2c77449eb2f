//! The lock's live channel (WebSocket `GET /v1/lock/connect`): what the cloud
//! sends a paired lock, and the headers the lock opens it with.

use serde::{Deserialize, Serialize};

/// The channel protocol this build speaks. A lock names the version it speaks in
/// [`PROTOCOL_HEADER`]; a cloud that does not speak it refuses the upgrade, and a
/// lock whose cloud's [`ToLock::Hello`] names another version closes the channel.
pub const LOCK_PROTOCOL: u32 = 1;

/// The header a lock names its protocol version in (absent: version 1).
pub const PROTOCOL_HEADER: &str = "x-doorstep-protocol";

/// The header a lock sends its fresh time nonce in (32 bytes, base64url).
pub const TIME_NONCE_HEADER: &str = "x-doorstep-time-nonce";

/// The keepalive interval a lock accepts from a hello; outside it the lock keeps
/// [`DEFAULT_KEEPALIVE_SECS`] (a cloud cannot make a lock wait for ever, or spin).
pub const KEEPALIVE_SECS_RANGE: std::ops::RangeInclusive<u64> = 1..=300;

/// The interval a lock assumes until the hello names one.
pub const DEFAULT_KEEPALIVE_SECS: u64 = 15;

/// How many silent keepalive intervals mean the link is dead.
pub const SILENT_INTERVALS: u32 = 3;

/// What the cloud sends a lock, one JSON text message each.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToLock {
    /// First message: who the cloud thinks the lock is, and the terms of the channel.
    Hello {
        /// Protocol version the cloud speaks on this channel ([`LOCK_PROTOCOL`]).
        protocol: u32,
        /// The lock.
        lock_id: String,
        /// The cloud pings this often (seconds); a lock that hears nothing for
        /// [`SILENT_INTERVALS`] intervals reconnects.
        keepalive_secs: u64,
        /// Optional features this cloud offers ([`Capability`] names; unknown ones
        /// are ignored, so a cloud can add one without breaking older locks).
        #[serde(default)]
        capabilities: Vec<String>,
        /// A `cloud-time` envelope for the nonce the lock sent
        /// ([`TIME_NONCE_HEADER`]), absent when it sent none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time: Option<String>,
    },
    /// A household-signed `revocation` envelope: obey it now (refuse, or relock).
    Revocation {
        /// Base64url envelope.
        revocation: String,
    },
    /// The household's newest signed `delivery-policy`; older versions are void.
    Policy {
        /// Base64url envelope.
        policy: String,
    },
    /// Everything current has been sent; what follows is live.
    Synced,
}

/// Optional channel features, named in [`ToLock::Hello`]'s `capabilities`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Household revocations are pushed the moment they commit.
    Revocations,
    /// The household's newest delivery policy is pushed.
    Policy,
    /// The hello carries a signed `cloud-time` for the lock's nonce.
    SignedTime,
}

impl Capability {
    /// Every capability this build knows.
    pub const ALL: [Self; 3] = [Self::Revocations, Self::Policy, Self::SignedTime];

    /// Its name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::Revocations => "revocations",
            Self::Policy => "policy",
            Self::SignedTime => "time",
        }
    }
}

/// The largest message a lock may send on its channel.
pub const MAX_FROM_LOCK_BYTES: usize = 16 * 1024;

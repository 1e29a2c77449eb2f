use serde::{Deserialize, Serialize};

use crate::Address;

/// Where a delivery is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// The carrier announced it.
    Announced,
    /// The courier is within the lead time.
    Approaching,
    /// The courier is at the door.
    AtDoor,
    /// A grant was issued; the lock may open.
    Granted,
    /// The door is open.
    DoorOpen,
    /// Delivered; the door closed and relocked.
    Completed,
    /// The household blocked access.
    Blocked,
    /// Sent to an alternate address.
    Rerouted,
    /// Could not be delivered inside (lock offline, jammed, camera down).
    Failed,
    /// The window passed.
    Expired,
}

impl DeliveryState {
    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Announced => "announced",
            DeliveryState::Approaching => "approaching",
            DeliveryState::AtDoor => "at_door",
            DeliveryState::Granted => "granted",
            DeliveryState::DoorOpen => "door_open",
            DeliveryState::Completed => "completed",
            DeliveryState::Blocked => "blocked",
            DeliveryState::Rerouted => "rerouted",
            DeliveryState::Failed => "failed",
            DeliveryState::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            DeliveryState::Announced,
            DeliveryState::Approaching,
            DeliveryState::AtDoor,
            DeliveryState::Granted,
            DeliveryState::DoorOpen,
            DeliveryState::Completed,
            DeliveryState::Blocked,
            DeliveryState::Rerouted,
            DeliveryState::Failed,
            DeliveryState::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether nothing more can happen to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryState::Completed | DeliveryState::Rerouted | DeliveryState::Expired
        )
    }
}
/// What the lock last reported about the door for a delivery's entry. The
/// household is told "locked" only from [`DoorState::Locked`]: the lock's own
/// report that the bolt is thrown again.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum DoorState {
    /// The lock accepted the grant and is withdrawing the bolt.
    Unlocking,
    /// The bolt is withdrawn; the door is closed.
    Unlocked,
    /// The door is open.
    Open,
    /// The door closed; the lock has not yet reported the bolt thrown.
    Closed,
    /// The lock reported the bolt thrown again.
    Locked,
    /// The motor jammed: the door is NOT locked.
    Jammed,
    /// The lock did not report the bolt thrown in time: the door may NOT be locked.
    Unconfirmed,
}

impl DoorState {
    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            DoorState::Unlocking => "unlocking",
            DoorState::Unlocked => "unlocked",
            DoorState::Open => "open",
            DoorState::Closed => "closed",
            DoorState::Locked => "locked",
            DoorState::Jammed => "jammed",
            DoorState::Unconfirmed => "unconfirmed",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            DoorState::Unlocking,
            DoorState::Unlocked,
            DoorState::Open,
            DoorState::Closed,
            DoorState::Locked,
            DoorState::Jammed,
            DoorState::Unconfirmed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A time window in JSON.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Start (ms).
    #[serde(deserialize_with = "doorstep_proto::bounded::time")]
    #[schema(minimum = 0, maximum = 253_402_300_799_999_i64)]
    pub not_before: i64,
    /// End (ms).
    #[serde(deserialize_with = "doorstep_proto::bounded::time")]
    #[schema(minimum = 0, maximum = 253_402_300_799_999_i64)]
    pub not_after: i64,
}

/// A delivery as the household sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Delivery {
    /// Its id.
    pub id: String,
    /// The carrier's tracking id.
    pub tracking_id: String,
    /// The carrier's name.
    pub carrier: String,
    /// Where it is.
    pub state: DeliveryState,
    /// Whether the household approved entry.
    pub approved: bool,
    /// The device that approved.
    pub approved_by: Option<String>,
    /// The lock approved for.
    pub lock_id: Option<String>,
    /// The announced window.
    pub window: Window,
    /// Latest ETA (ms), if the carrier sent one.
    #[serde(default, deserialize_with = "doorstep_proto::bounded::optional_time")]
    #[schema(minimum = 0, maximum = 253_402_300_799_999_i64)]
    pub eta: Option<i64>,
    /// The assigned courier's public key.
    pub courier_key: String,
    /// The carrier's signed `shipment` envelope, if it signed one: a device
    /// approves by policy only what a carrier key the household pinned signed.
    #[serde(default)]
    pub shipment: Option<String>,
    /// Where it was rerouted to.
    pub rerouted_to: Option<Address>,
    /// The door during its entry, as the lock reported it; `null` while the
    /// lock has not moved for this delivery.
    #[serde(default)]
    pub door: Option<DoorState>,
    /// Grows with every change.
    pub revision: i64,
    /// Announced at.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// A carrier announcing a shipment.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Announce {
    /// The carrier's own id for the parcel (unique per carrier).
    pub tracking_id: String,
    /// The household, by the id it gave the shop.
    pub household_id: String,
    /// When the courier will come.
    pub window: Window,
    /// The assigned courier's public key: only it can get in.
    pub courier_key: String,
    /// First ETA (ms), if known.
    #[serde(default, deserialize_with = "doorstep_proto::bounded::optional_time")]
    #[schema(minimum = 0, maximum = 253_402_300_799_999_i64)]
    pub eta: Option<i64>,
    /// The carrier's `shipment` envelope (base64url) for the same household,
    /// tracking id, window and courier key, signed with one of the carrier's
    /// registered keys. Without it, only a per-delivery approval lets the courier
    /// in: a standing policy admits only carrier-signed shipments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<String>,
}

/// A carrier and the keys it signs shipments with, for a household to pin in its policy.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CarrierKeys {
    /// Its name, as it announces.
    pub name: String,
    /// Its shipment-signing public keys (base64url), oldest first.
    pub keys: Vec<String>,
}

/// The household's signed approval.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approve {
    /// A `delivery-approval` envelope signed with the household key (base64url).
    pub approval: String,
}

/// The household's signed "Block access".
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// A `revocation` envelope for this delivery, signed with the household key.
    pub revocation: String,
}

/// Where to send it instead.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reroute {
    /// One of the household's alternate addresses.
    pub address_id: String,
}

/// A new ETA from the carrier.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Eta {
    /// When the courier expects to arrive (ms).
    #[serde(deserialize_with = "doorstep_proto::bounded::time")]
    #[schema(minimum = 0, maximum = 253_402_300_799_999_i64)]
    pub eta: i64,
}

/// What a carrier (and its courier's app) sees of a shipment.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShipmentStatus {
    /// The delivery.
    pub delivery_id: String,
    /// Where it is.
    pub state: DeliveryState,
    /// The new destination, when the household rerouted it.
    pub rerouted_to: Option<Address>,
}

/// A notice the cloud posts to a carrier's webhook (signed with its secret; header
/// `doorstep-event` repeats `event`, `idempotency-key` names the notice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum CarrierNotice {
    /// The household sent the parcel to another address.
    #[serde(rename = "delivery.rerouted")]
    Rerouted {
        /// The carrier's tracking id.
        tracking_id: String,
        /// The delivery.
        delivery_id: String,
        /// Where to take it instead.
        address: Option<Address>,
    },
}

impl CarrierNotice {
    /// Its `event` name.
    pub fn event(&self) -> &'static str {
        match self {
            Self::Rerouted { .. } => "delivery.rerouted",
        }
    }
}

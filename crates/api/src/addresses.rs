use serde::{Deserialize, Serialize};

/// What kind of place.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// A neighbour's door.
    Neighbour,
    /// A shop that holds parcels.
    PickupPoint,
    /// A parcel locker.
    Locker,
    /// Anything else.
    Other,
}

/// A new alternate address.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAddress {
    /// Short name ("Mrs Weber next door").
    pub label: String,
    /// Kind.
    pub kind: AddressKind,
    /// The postal address.
    pub address: String,
}

/// An alternate address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Address {
    /// Its id.
    pub id: String,
    /// Short name.
    pub label: String,
    /// Kind.
    pub kind: AddressKind,
    /// The postal address.
    pub address: String,
}

use doorstep_proto::GuestSchedule;
use serde::{Deserialize, Serialize};

/// A new guest: everything is in the household-signed invitation.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGuest {
    /// A `guest-invitation` envelope signed with the household key. Its `guest`
    /// field is the new guest's id (a UUID the device chose).
    pub invitation: String,
}

/// A guest as the household sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Guest {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its public key.
    pub public_key: String,
    /// Locks it may open.
    pub locks: Vec<String>,
    /// When, as signed.
    #[schema(value_type = Object)]
    #[ts(type = "unknown")]
    pub schedule: GuestSchedule,
    /// Whether the household revoked it.
    pub revoked: bool,
}

/// The household's signed revocation of a guest.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeGuest {
    /// A `revocation` envelope with target `guest`, signed with the household key.
    pub revocation: String,
}

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

/// A guest invitation by code (`POST /v1/guest-invitations`): the terms sealed for the
/// household's devices, which sign the guest in once the guest redeemed the code.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGuestInvitation {
    /// The code's name: its first two groups (`ABCD-EFGH`).
    pub id: String,
    /// The guest's id to be (a UUID the device chose).
    pub guest_id: String,
    /// The guest's name, for the household's lists.
    pub name: String,
    /// The code and the terms, sealed with a key only the household's devices derive.
    pub sealed: String,
    /// Unredeemed, the code stops working at this time (ms).
    pub expires_at: i64,
}

/// An invitation not yet signed in as a guest.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PendingInvitation {
    /// The code's name.
    pub id: String,
    /// The guest's id to be.
    pub guest_id: String,
    /// The guest's name.
    pub name: String,
    /// The sealed code and terms.
    pub sealed: String,
    /// When it was made (ms).
    pub created_at: i64,
    /// When an unredeemed code stops working (ms).
    pub expires_at: i64,
    /// The key the guest made, once redeemed (base64url).
    pub guest_key: Option<String>,
    /// The guest's proof that they hold the code, once redeemed (base64url).
    pub proof: Option<String>,
}

/// A guest redeems their code (`POST /v1/guest-invitations/redeem`, no sign-in).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemInvitation {
    /// The code's name (its first two groups).
    pub id: String,
    /// The key the guest made (base64url Ed25519 public key).
    pub guest_key: String,
    /// HMAC of the key under the code's secret (base64url, 32 bytes).
    pub proof: String,
}

/// The answer to a redemption.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Redeemed {
    /// The guest's id, to open the door with once the household confirmed.
    pub guest_id: String,
    /// The guest's name as the household wrote it.
    pub name: String,
}

/// A household device signs in the guest who redeemed a code
/// (`POST /v1/guest-invitations/{id}/complete`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteInvitation {
    /// A `guest-invitation` envelope signed with the household key, for the key the
    /// guest redeemed the code with.
    pub invitation: String,
}

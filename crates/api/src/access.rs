//! A courier or guest at the door asking the cloud for entry.

use serde::{Deserialize, Serialize};

/// A courier at the door asking to be let in
/// (`POST /v1/courier/deliveries/{id}/access`, `POST /v1/guest/{id}/access`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// The lock's `lock-challenge` envelope, as the lock handed it to the courier.
    pub challenge: String,
    /// The courier's `courier-response` envelope, signed with its key.
    pub response: String,
}

/// The cloud's answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessGranted {
    /// The `entry-grant` envelope to present to the lock with the response.
    pub grant: String,
    /// The delivery, now `granted` (empty for a guest).
    pub delivery_id: String,
}

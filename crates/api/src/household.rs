use serde::{Deserialize, Serialize};

/// The household as its devices see it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Household {
    /// Its id (what a shop is given for deliveries).
    pub id: String,
    /// The shared login.
    pub email: String,
    /// IANA time zone of the home.
    pub time_zone: String,
    /// Minutes before the ETA at which every device is told "courier arriving".
    pub lead_time_minutes: i64,
}

/// Changes to settings; absent fields stay.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdChange {
    /// New time zone.
    pub time_zone: Option<String>,
    /// New lead time, 1–120 minutes.
    #[serde(
        default,
        deserialize_with = "doorstep_proto::bounded::optional_integer"
    )]
    pub lead_time_minutes: Option<i64>,
}

/// The household's standing delivery policy.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// A `delivery-policy` envelope signed with the household key; `null` when none.
    pub policy: Option<String>,
}

use serde::{Deserialize, Serialize};

/// One event as clients receive it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Event {
    /// Position in the household's log: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// What happened, e.g. `delivery.announced`.
    pub kind: String,
    /// When (ms since the epoch).
    pub at: i64,
    /// The household device that caused it, if one did.
    pub device_id: Option<String>,
    /// Details; shape depends on `kind`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A page of events.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventPage {
    /// Oldest first.
    pub events: Vec<Event>,
    /// The household's newest `seq` at the time of reading.
    pub last_seq: i64,
}

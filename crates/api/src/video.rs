use serde::{Deserialize, Serialize};

/// A recording.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Recording {
    /// Its id.
    pub id: String,
    /// The lock.
    pub lock_id: String,
    /// The delivery it belongs to, if any.
    pub delivery_id: Option<String>,
    /// First frame (ms).
    pub started_at: i64,
    /// Last frame (ms).
    pub last_frame_at: i64,
    /// How many frames.
    pub frames: i64,
}

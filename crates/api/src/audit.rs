use serde::{Deserialize, Serialize};

/// One entry as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AuditEntry {
    /// When.
    pub at: i64,
    /// `device:<id>`, `carrier:<id>`, `lock:<id>` or `system`.
    pub actor: String,
    /// The device, when a household device acted.
    pub device_id: Option<String>,
    /// Its name at the time of reading.
    pub device_name: Option<String>,
    /// What was done, e.g. `delivery.block`.
    pub action: String,
    /// What it was done to.
    pub object_id: Option<String>,
    /// A sentence.
    pub detail: String,
}

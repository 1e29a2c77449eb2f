//! This computer's own choices, which are not the household's (those live in the
//! cloud): whether the app starts when the person logs in, and which popups it shows.

use serde::{Deserialize, Serialize};

use crate::AppPaths;
use crate::error::CoreResult;

const PREFS_FILE: &str = "device-prefs.json";

/// What the person chose on this computer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePrefs {
    /// Start the app at login: `None` until the person chooses; until then it is
    /// turned on once a household is signed in, so popups come after a restart.
    #[serde(default)]
    pub autostart: Option<bool>,
    /// The kinds of popup turned off on this computer.
    #[serde(default)]
    pub popups_off: Vec<crate::alerts::PopupKind>,
}

impl DevicePrefs {
    /// Reads them; missing or damaged means nothing chosen yet.
    pub fn load(paths: &AppPaths) -> Self {
        std::fs::read(paths.data_dir().join(PREFS_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes them (atomically).
    pub fn save(&self, paths: &AppPaths) -> CoreResult<()> {
        crate::client::write_json_atomically(&paths.data_dir().join(PREFS_FILE), self)
    }
}

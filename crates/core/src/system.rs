//! "Check this computer": are the keyring and the notification service here?

use crate::AppPaths;
use crate::ipc::{Probe, SystemCheck};
use crate::popup::Notifier;
use crate::secrets::SecretStore;

/// Checks the parts of this computer the app relies on. Never fails: each part's
/// problem is reported in its own [`Probe`].
pub fn check(paths: &AppPaths, app_version: &str) -> SystemCheck {
    let secure_store = match SecretStore::new(paths.app_id()).probe() {
        Ok(()) => Probe {
            ok: true,
            detail: "The system keyring stores and returns secrets.".into(),
            found: None,
        },
        Err(e) => Probe {
            ok: false,
            detail: e.to_string(),
            found: None,
        },
    };
    let notifications = match Notifier::new("Doorstep").server_info() {
        Ok(info) => Probe {
            ok: true,
            detail: format!("Popups are shown by {} {}.", info.name, info.version),
            found: Some(format!("{} {}", info.name, info.version)),
        },
        Err(e) => Probe {
            ok: false,
            detail: e.to_string(),
            found: None,
        },
    };
    tracing::info!(
        keyring_ok = secure_store.ok,
        notifications_ok = notifications.ok,
        "checked this computer"
    );
    SystemCheck {
        app_version: app_version.to_owned(),
        app_id: paths.app_id().to_owned(),
        data_dir: paths.data_dir().display().to_string(),
        secure_store,
        notifications,
    }
}

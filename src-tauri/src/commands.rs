//! The Tauri side of `doorstep_core::ipc`: each command is a few lines that hand
//! the work to the core. Names match `doorstep_core::ipc::COMMAND_NAMES`.

use doorstep_core::ipc::{IpcError, SystemCheck};
use tauri::State;

use crate::AppState;

#[tauri::command]
pub(crate) async fn system_check(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<SystemCheck, IpcError> {
    let paths = state.paths.clone();
    let version = app.package_info().version.to_string();
    // The keyring and notification probes block on D-Bus.
    tauri::async_runtime::spawn_blocking(move || doorstep_core::system::check(&paths, &version))
        .await
        .map_err(|e| IpcError::internal(format!("the computer check stopped unexpectedly: {e}")))
}

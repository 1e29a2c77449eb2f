//! The app with the test configuration (`e2e/tauri.conf.json`): its own app
//! identifier, hence its own data folders and keyring namespace.
//!
//! tauri-codegen reads `tauri.conf.json` from the folder of the path it is given,
//! so the test configuration lives in a folder of its own.

fn main() {
    doorstep_app::run(tauri::generate_context!("e2e/tauri.conf.json"));
}

//! The app with the test configuration (`tauri.conf.json` beside this crate's
//! manifest): its own app identifier, hence its own data folders and keyring
//! namespace.

fn main() {
    doorstep_app::run(tauri::generate_context!());
}

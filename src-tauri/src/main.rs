// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    doorstep_app::run(tauri::generate_context!("tauri.conf.json"));
}

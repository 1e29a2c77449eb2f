//! The homeowner client core of Doorstep.
//!
//! Everything the desktop app and the `doorstep` command line do lives here, so it
//! can be tested without a window. Nothing in this crate depends on Tauri.
#![deny(missing_docs)]

pub mod ipc;
pub mod paths;
pub mod popup;
pub mod secrets;
pub mod system;

pub use paths::AppPaths;

//! The homeowner client core of Doorstep.
//!
//! Everything the desktop app and the `doorstep` command line do lives here, so it
//! can be tested without a window. Nothing in this crate depends on Tauri.
#![deny(missing_docs)]

pub mod alerts;
pub mod approvals;
pub mod cache;
pub mod client;
pub mod cloud;
mod encoding;
pub mod error;
pub mod feed;
pub mod invitations;
pub mod ipc;
pub mod keys;
pub mod paths;
pub mod popup;
pub mod popup_board;
pub mod prefs;
pub mod schedule_text;
pub mod secrets;
pub mod session;
pub mod system;
pub mod video;

pub use client::{Account, Client, Credentials, Recovery};
pub use error::{CoreError, CoreResult, ErrorKind};
pub use feed::{Connection, Feed, FeedOptions, FeedUpdate};
pub use paths::AppPaths;

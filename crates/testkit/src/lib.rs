//! Test harness that starts real parts instead of fakes.
//!
//! - [`DesktopSession`]: a private desktop for one test — an Xvfb display, a
//!   private D-Bus session bus, gnome-keyring's Secret Service (unlocked), the dunst
//!   notification server, and a `dbus-monitor` capture of every popup it is sent.
//! - [`AppUnderTest`]: the built app (test configuration) in that desktop, driven
//!   through WebDriver (tauri-driver + WebKitWebDriver).
//!
//! Every process is started in its own process group, dies with the test process
//! (`PR_SET_PDEATHSIG`), and is killed with its children when its guard drops, so
//! a failing or panicking test leaves nothing behind.
#![allow(
    clippy::print_stderr,
    reason = "test harness reports to the test's output"
)]
#![allow(
    clippy::disallowed_methods,
    reason = "the harness plays the world: it reads the real clock and the test run's switches"
)]

mod app;
mod desktop;
pub mod disk;
mod process;
pub mod system;

pub use app::{AppUnderTest, free_port, screenshots_dir, target_dir};
pub use desktop::{DesktopSession, ReceivedNotification};
pub use process::Guarded;

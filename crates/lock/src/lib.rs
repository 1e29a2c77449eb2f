//! The Doorstep lock and camera agent.
//!
//! Today: the hardware model — a bolt with a motor, a door sensor, auto-relock and
//! alarms — checked by a model test, and the journal that is the lock's memory
//! across restarts. The running agent (cloud link, control interface, camera)
//! follows (issue 4).
#![deny(missing_docs)]

pub mod agent;
pub mod camera;
pub mod hardware;
pub mod identity;
pub mod journal;

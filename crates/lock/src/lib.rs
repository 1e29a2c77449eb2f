//! The Doorstep lock and camera agent.
//!
//! The hardware model (a bolt with a motor, a door sensor, auto-relock and
//! alarms), the journal that is the lock's memory across restarts, the lock's
//! authenticated clock, its identity and pairing, and the running agent (cloud
//! channel, control interface, camera).
#![deny(missing_docs)]

pub mod agent;
pub mod camera;
pub mod clock;
pub mod hardware;
pub mod identity;
pub mod journal;

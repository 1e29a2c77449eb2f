//! The Doorstep lock and camera agent.
//!
//! Today: the hardware model — a bolt with a motor, a door sensor, auto-relock and
//! alarms — that the agent drives and the model test checks. The cloud link,
//! the control interface, the journal and the camera follow (issue 4).
#![deny(missing_docs)]

pub mod hardware;

//! Every Doorstep wire type: the household and carrier API, the courier's and
//! guest's calls, pairing, the lock channel both ways, the lock's heartbeats and
//! journal, the lock's local interface, and the video frame header.
//!
//! Both ends of each wire use these; defining them once here is
//! what keeps the two in step (`docs/api.md` says what each call does). The OpenAPI
//! schema is derived from the same definitions.
#![deny(missing_docs)]

mod access;
mod accounts;
mod addresses;
mod audit;
mod deliveries;
mod errors;
mod events;
mod guests;
mod household;
mod lock_channel;
mod lock_control;
mod lock_device;
mod locks;
mod video;
pub mod wire;

pub use access::*;
pub use accounts::*;
pub use addresses::*;
pub use audit::*;
pub use deliveries::*;
pub use errors::*;
pub use events::*;
pub use guests::*;
pub use household::*;
pub use lock_channel::*;
pub use lock_control::*;
pub use lock_device::*;
pub use locks::*;
pub use video::*;

//! The Doorstep cloud API's wire types.
//!
//! The cloud serves them and the client core reads them; defining them once here is
//! what keeps the two in step (`docs/api.md` says what each call does). The OpenAPI
//! schema is derived from the same definitions.
#![deny(missing_docs)]

mod accounts;
mod addresses;
mod audit;
mod deliveries;
mod errors;
mod events;
mod guests;
mod household;
mod locks;
mod video;

pub use accounts::*;
pub use addresses::*;
pub use audit::*;
pub use deliveries::*;
pub use errors::*;
pub use events::*;
pub use guests::*;
pub use household::*;
pub use locks::*;
pub use video::*;

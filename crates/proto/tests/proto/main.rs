//! doorstep-proto's tests: attacks on the lock's decision, properties of the
//! encoding, and the committed test vectors.
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

mod attacks;
mod common;
mod properties;
mod vectors;

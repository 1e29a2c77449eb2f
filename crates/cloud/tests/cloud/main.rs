//! doorstep-cloud's tests: the real server on loopback (port 0), driven over HTTP,
//! each test run once on SQLite and once on PostgreSQL (skipped, with a message,
//! where no PostgreSQL answers at 127.0.0.1:5432).
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

mod support;

mod access;
mod accounts;
mod bad_input;
mod binary;
mod deliveries;
mod durability;
mod fuzz;
mod guests;
mod lock_channel;
mod recovery;
mod stream;
mod tls;
mod video;

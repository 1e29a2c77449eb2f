//! Optimistic concurrency: read, decide, and write only if nobody wrote in between
//! (a `revision` or state check in the `UPDATE`); on a race, read again.

use std::future::Future;

use crate::error::{ApiError, ApiResult};

/// How many times a change is tried before the client is told to retry.
pub const ATTEMPTS: usize = 8;

/// One try's outcome.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Written (or nothing to write): the answer.
    Done(T),
    /// Someone else wrote first; nothing was written.
    Raced,
}

/// Runs `attempt` until it is not raced, at most [`ATTEMPTS`] times; then `409`.
pub async fn until_uncontended<T, F, Fut>(mut attempt: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<Attempt<T>>>,
{
    for _ in 0..ATTEMPTS {
        if let Attempt::Done(value) = attempt().await? {
            return Ok(value);
        }
    }
    Err(ApiError::conflict(
        "the delivery is changing too fast; try again",
    ))
}

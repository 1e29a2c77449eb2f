//! Reading the event log: a page at a time, or live over Server-Sent Events with
//! resume. Protocol: `docs/api.md#event-stream`.

pub use doorstep_api::EventPage;
use std::convert::Infallible;
use std::time::Duration;

use crate::json::ApiQuery as Query;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};

use crate::AppState;
use crate::auth::DeviceSession;
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Event};

/// Comment lines keep idle connections open through proxies and let clients
/// notice a dead connection: one every 15 s.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
const PAGE: i64 = 500;

/// Where to start.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events with a larger `seq` (default 0: from the beginning).
    pub after: Option<i64>,
    /// At most this many (default and maximum 500).
    pub limit: Option<i64>,
}

/// Events after a sequence number, oldest first.
#[utoipa::path(get, path = "/v1/events", params(EventsQuery), responses((status = 200, body = EventPage)), tag = "events")]
pub async fn list(
    State(state): State<AppState>,
    session: DeviceSession,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Json<EventPage>> {
    let after = query.after.unwrap_or(0).max(0);
    let limit = query.limit.unwrap_or(PAGE).clamp(1, PAGE);
    let events = events::read_after(&state.db.pool, &session.household_id, after, limit).await?;
    let last_seq: i64 = sqlx::query_scalar("SELECT event_seq FROM households WHERE id = $1")
        .bind(&session.household_id)
        .fetch_one(&state.db.pool)
        .await?;
    Ok(Json(EventPage { events, last_seq }))
}

fn resume_point(headers: &HeaderMap, query: &EventsQuery) -> Result<i64, ApiError> {
    if let Some(value) = headers.get("last-event-id") {
        let text = value.to_str().unwrap_or_default();
        return text
            .parse::<i64>()
            .map(|v| v.max(0))
            .map_err(|_| ApiError::invalid("header `Last-Event-ID`: must be an event seq number"));
    }
    Ok(query.after.unwrap_or(0).max(0))
}

/// The live stream: every event after `Last-Event-ID` (or `?after=`), then new
/// ones as they commit — no gaps, no duplicates, across reconnects.
#[utoipa::path(get, path = "/v1/events/stream", params(EventsQuery),
    responses((status = 200, description = "text/event-stream of Event")), tag = "events")]
pub async fn stream(
    State(state): State<AppState>,
    session: DeviceSession,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let after = resume_point(&headers, &query)?;
    // Subscribe before reading the backlog, so nothing committed in between is missed.
    let live = state.hub.subscribe(&session.household_id);
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(pump(state, session, after, live, tx));
    let stream =
        tokio_stream::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), |event| {
            Ok(SseEvent::default()
                .id(event.seq.to_string())
                .event(event.kind.clone())
                .json_data(&event)
                .unwrap_or_else(|_| SseEvent::default().comment("unserialisable event")))
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEPALIVE_INTERVAL)))
}

/// Sends events in order; whenever the live channel skips ahead (a concurrent
/// commit published out of order, or this subscriber lagged), reads the missing
/// ones from the database first.
async fn pump(
    state: AppState,
    session: DeviceSession,
    mut last: i64,
    mut live: broadcast::Receiver<Event>,
    tx: mpsc::Sender<Event>,
) {
    // Catching up is boxed: its database futures are large, and held inline they would
    // make every idle stream's task that large (memory per connection, SPEC §8).
    if Box::pin(catch_up(&state, &session, &mut last, i64::MAX, &tx))
        .await
        .is_err()
    {
        return;
    }
    let mut stopping = state.stopping.clone();
    loop {
        tokio::select! {
            // The server is stopping: end the stream; clients resume elsewhere.
            _ = async { stopping.wait_for(|stop| *stop).await.map(|_| ()) } => return,
            received = live.recv() => match received {
                Ok(event) if event.seq <= last => {}
                Ok(event) if event.seq == last + 1 => {
                    let ends = signs_out(&event, &session);
                    last = event.seq;
                    if tx.send(event).await.is_err() || ends {
                        return;
                    }
                }
                // Ahead of what was sent: the ones in between are committed, so
                // read them (and this one) from the database.
                Ok(event) => {
                    if Box::pin(catch_up(&state, &session, &mut last, event.seq, &tx)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if Box::pin(catch_up(&state, &session, &mut last, i64::MAX, &tx)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            () = tx.closed() => return,
        }
    }
}

fn signs_out(event: &Event, session: &DeviceSession) -> bool {
    event.kind == "device.signed_out"
        && event.data.get("device_id").and_then(|v| v.as_str()) == Some(session.device_id.as_str())
}

async fn catch_up(
    state: &AppState,
    session: &DeviceSession,
    last: &mut i64,
    up_to: i64,
    tx: &mpsc::Sender<Event>,
) -> Result<(), ()> {
    loop {
        let page = events::read_after(&state.db.pool, &session.household_id, *last, PAGE)
            .await
            .map_err(|e| tracing::warn!(error = %e, "event stream catch-up failed"))?;
        let full = i64::try_from(page.len()).unwrap_or(0) == PAGE;
        for event in page {
            if event.seq > up_to {
                return Ok(());
            }
            let ends = signs_out(&event, session);
            *last = event.seq;
            tx.send(event).await.map_err(|_| ())?;
            if ends {
                return Err(());
            }
        }
        if !full {
            return Ok(());
        }
    }
}

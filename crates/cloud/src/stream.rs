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
use std::collections::VecDeque;

use tokio::sync::broadcast;

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
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events with a larger `seq` (default 0: from the beginning).
    #[serde(default, deserialize_with = "doorstep_proto::bounded::optional_count")]
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
    let last_seq = events::last_seq(&state.db.pool, &session.household_id).await?;
    Ok(Json(EventPage { events, last_seq }))
}

fn resume_point(headers: &HeaderMap, query: &EventsQuery) -> Result<i64, ApiError> {
    if let Some(value) = headers.get("last-event-id") {
        let text = value.to_str().unwrap_or_default();
        return text
            .parse::<i64>()
            .map(|v| v.clamp(0, doorstep_proto::bounded::MAX_COUNT))
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
    let stopping = state.stopping.clone();
    let events = Events {
        state,
        session,
        last: after,
        live,
        stopping,
        backlog: VecDeque::new(),
        caught_up: false,
        ended: false,
    };
    // The stream is the reader itself (no task, no channel per connection): an idle
    // stream costs only this state and the connection (memory per connection, SPEC §8).
    let stream = futures_util::stream::unfold(events, |mut events| async move {
        let event = events.next().await?;
        let message = SseEvent::default()
            .id(event.seq.to_string())
            .event(event.kind())
            .json_data(&event)
            .unwrap_or_else(|_| SseEvent::default().comment("unserialisable event"));
        Some((Ok(message), events))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEPALIVE_INTERVAL)))
}

/// One device's reading of its household's events: in order, each once. Whenever
/// the live channel skips ahead (a concurrent commit published out of order, or this
/// reader lagged), the missing ones are read from the database first.
struct Events {
    state: AppState,
    session: DeviceSession,
    /// The last event handed out.
    last: i64,
    live: broadcast::Receiver<Event>,
    stopping: tokio::sync::watch::Receiver<bool>,
    /// Read from the database, not yet handed out (seq order, after `last`).
    backlog: VecDeque<Event>,
    caught_up: bool,
    ended: bool,
}

impl Events {
    /// The next event; `None` ends the stream (server stopping, this device signed
    /// out, or the database failing).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if self.ended {
                return None;
            }
            if let Some(event) = self.backlog.pop_front() {
                self.last = event.seq;
                self.ended = signs_out(&event, &self.session);
                return Some(event);
            }
            if !self.caught_up {
                // Boxed: the database futures are large, and held inline they would
                // make every idle stream that large.
                Box::pin(self.read(i64::MAX)).await?;
                self.caught_up = true;
                continue;
            }
            let received = tokio::select! {
                // The server is stopping: end the stream; clients resume elsewhere.
                _ = self.stopping.wait_for(|stop| *stop) => return None,
                received = self.live.recv() => received,
            };
            match received {
                Ok(event) if event.seq <= self.last => {}
                Ok(event) if event.seq == self.last + 1 => self.backlog.push_back(event),
                // Ahead: the ones in between are committed, so read them (and this one).
                Ok(event) => Box::pin(self.read(event.seq)).await?,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    Box::pin(self.read(i64::MAX)).await?;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Reads committed events after the last one held, up to `up_to`, into the backlog.
    async fn read(&mut self, up_to: i64) -> Option<()> {
        loop {
            let after = self.backlog.back().map_or(self.last, |e| e.seq);
            let page =
                events::read_after(&self.state.db.pool, &self.session.household_id, after, PAGE)
                    .await
                    .map_err(|e| tracing::warn!(error = %e, "event stream catch-up failed"))
                    .ok()?;
            let full = i64::try_from(page.len()).unwrap_or(0) == PAGE;
            for event in page {
                if event.seq > up_to {
                    return Some(());
                }
                self.backlog.push_back(event);
            }
            if !full {
                return Some(());
            }
        }
    }
}

fn signs_out(event: &Event, session: &DeviceSession) -> bool {
    event.signs_out(&session.device_id)
}

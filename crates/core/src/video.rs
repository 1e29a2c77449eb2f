//! The household's view of the camera: live frames relayed by the cloud, with
//! their age and a stale flag, and recordings with seeking.
//!
//! A frame on the wire is `seq (u64 BE) ‖ captured_at (i64 ms BE) ‖ JPEG`.

use std::time::{Duration, Instant};

use doorstep_api::Recording;
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

/// The largest live-video message accepted from the cloud.
const MAX_FRAME_MESSAGE_BYTES: usize = 1024 * 1024;

use crate::client::Client;
use crate::error::{CoreError, CoreResult};

/// No new frame for this long and the picture is flagged stale (SPEC §4).
pub const STALE_AFTER: Duration = Duration::from_secs(1);

/// One camera frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The camera's frame number.
    pub seq: u64,
    /// When the camera captured it (ms since the epoch).
    pub captured_at: i64,
    /// The picture.
    pub jpeg: Vec<u8>,
}

impl Frame {
    /// Parses a frame message.
    pub fn decode(bytes: &[u8]) -> CoreResult<Self> {
        let (header, jpeg) = doorstep_api::FrameHeader::decode(bytes)
            .map_err(|e| CoreError::Protocol(e.to_string()))?;
        Ok(Self {
            seq: header.seq,
            captured_at: header.captured_at,
            jpeg: jpeg.to_vec(),
        })
    }

    /// The frame message again, as the UI's live view reads it.
    pub fn to_message(&self) -> Vec<u8> {
        doorstep_api::FrameHeader {
            seq: self.seq,
            captured_at: self.captured_at,
        }
        .encode(&self.jpeg)
    }

    /// Saves the picture as a JPEG file (atomically).
    pub fn save(&self, path: &std::path::Path) -> CoreResult<()> {
        crate::client::write_atomically(path, &self.jpeg)
    }
}

/// What a live view reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveUpdate {
    /// A new frame and how old it was on arrival (ms; the camera's clock against ours).
    Frame {
        /// The frame.
        frame: Frame,
        /// Capture → arrival.
        age_ms: i64,
    },
    /// No new frame for [`STALE_AFTER`]: show the last one as stale. Reported once per
    /// silence; the next frame ends it.
    Stale {
        /// How long since the last frame arrived.
        silent_for: Duration,
    },
}

/// An open live view of one lock's camera.
#[derive(Debug)]
pub struct LiveView {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    last_arrival: Instant,
    stale_reported: bool,
    latest: Option<Frame>,
}

impl LiveView {
    /// Opens the live view of `lock_id` (audited by the cloud as a live view).
    pub async fn open(client: &Client, lock_id: &str) -> CoreResult<Self> {
        let session = client.session();
        let token = session.access_token().await?;
        let base = session.cloud().base();
        let ws_base = base
            .strip_prefix("https://")
            .map(|rest| format!("wss://{rest}"))
            .or_else(|| {
                base.strip_prefix("http://")
                    .map(|rest| format!("ws://{rest}"))
            })
            .ok_or_else(|| CoreError::Invalid(format!("cloud address {base:?}")))?;
        if !lock_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(CoreError::Invalid(format!(
                "lock id {lock_id:?} is not an id"
            )));
        }
        let mut request = format!("{ws_base}/v1/locks/{lock_id}/live")
            .into_client_request()
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        let bearer = format!("Bearer {}", token.expose_secret())
            .parse()
            .map_err(|_| CoreError::Protocol("an access token that is not a header".into()))?;
        request.headers_mut().insert("authorization", bearer);
        // A frame is at most 512 KiB; nothing bigger is held for a hostile server.
        let limits = tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(MAX_FRAME_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_FRAME_MESSAGE_BYTES));
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(limits), false)
                .await
                .map_err(|e| match e {
                    tungstenite::Error::Http(response) => {
                        let status = response.status();
                        let body = response.body().clone().unwrap_or_default();
                        crate::cloud::api_error(status, &body)
                    }
                    other => CoreError::Unreachable {
                        url: base.to_owned(),
                        detail: other.to_string(),
                    },
                })?;
        Ok(Self {
            socket,
            last_arrival: Instant::now(),
            stale_reported: false,
            latest: None,
        })
    }

    /// The next frame or stale notice; `None` when the cloud closed the view.
    pub async fn next(&mut self) -> CoreResult<Option<LiveUpdate>> {
        loop {
            let deadline = if self.stale_reported {
                // Already stale: just wait for the next frame.
                Duration::from_secs(3600)
            } else {
                STALE_AFTER.saturating_sub(self.last_arrival.elapsed())
            };
            let message = match tokio::time::timeout(deadline, self.socket.next()).await {
                Err(_) => {
                    self.stale_reported = true;
                    return Ok(Some(LiveUpdate::Stale {
                        silent_for: self.last_arrival.elapsed(),
                    }));
                }
                Ok(None) => return Ok(None),
                Ok(Some(Err(e))) => {
                    return Err(CoreError::Unreachable {
                        url: "live video".into(),
                        detail: e.to_string(),
                    });
                }
                Ok(Some(Ok(message))) => message,
            };
            match message {
                tungstenite::Message::Binary(bytes) => {
                    let frame = Frame::decode(&bytes)?;
                    self.last_arrival = Instant::now();
                    self.stale_reported = false;
                    let age_ms = crate::cloud::now_ms() - frame.captured_at;
                    self.latest = Some(frame.clone());
                    return Ok(Some(LiveUpdate::Frame { frame, age_ms }));
                }
                tungstenite::Message::Close(_) => return Ok(None),
                _ => {}
            }
        }
    }

    /// The newest frame received, for "save the current frame".
    pub fn latest(&self) -> Option<&Frame> {
        self.latest.as_ref()
    }
}

impl Client {
    /// Recordings, newest first; of one delivery when given.
    pub async fn recordings(&self, delivery_id: Option<&str>) -> CoreResult<Vec<Recording>> {
        match delivery_id {
            Some(id) => {
                let mut url = reqwest::Url::parse("http://x/v1/recordings")
                    .map_err(|e| CoreError::Invalid(e.to_string()))?;
                url.query_pairs_mut().append_pair("delivery_id", id);
                self.session()
                    .get(&format!(
                        "/v1/recordings?{}",
                        url.query().unwrap_or_default()
                    ))
                    .await
            }
            None => self.session().get("/v1/recordings").await,
        }
    }

    /// Seeks a recording: the first frame captured at or after `at` (the start when `None`).
    pub async fn recording_frame(&self, recording_id: &str, at: Option<i64>) -> CoreResult<Frame> {
        check_id("recording id", recording_id)?;
        let path = match at {
            Some(at) => format!("/v1/recordings/{recording_id}/frame?at={at}"),
            None => format!("/v1/recordings/{recording_id}/frame"),
        };
        let response = self.session().get_raw(&path).await?;
        self.frame_of(response).await
    }

    /// The lock's camera picture now (the newest live frame, if it is fresh): for a
    /// popup or a thumbnail. Not found while the camera is not filming.
    pub async fn snapshot(&self, lock_id: &str) -> CoreResult<Frame> {
        check_id("lock id", lock_id)?;
        let response = self
            .session()
            .get_raw(&format!("/v1/locks/{lock_id}/snapshot"))
            .await?;
        self.frame_of(response).await
    }

    /// A JPEG answer with its `Frame-Seq` and `Frame-Captured-At`.
    async fn frame_of(&self, response: reqwest::Response) -> CoreResult<Frame> {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i64>().ok())
        };
        let seq = header("frame-seq")
            .ok_or_else(|| CoreError::Protocol("a recording frame without Frame-Seq".into()))?;
        let captured_at = header("frame-captured-at").ok_or_else(|| {
            CoreError::Protocol("a recording frame without Frame-Captured-At".into())
        })?;
        let jpeg = response
            .bytes()
            .await
            .map_err(|e| self.session().cloud().unreachable(&e))?
            .to_vec();
        Ok(Frame {
            seq: u64::try_from(seq).unwrap_or_default(),
            captured_at,
            jpeg,
        })
    }
}

/// An id the cloud made (a UUID), checked before it goes into a path.
fn check_id(what: &str, id: &str) -> CoreResult<()> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(CoreError::Invalid(format!("{what} {id:?} is not an id")));
    }
    Ok(())
}

/// Frames fetched per request while playing (about 3 s of the camera's 15 fps).
const PLAYBACK_BATCH: u32 = 50;

impl Client {
    /// A batch of a recording's frame messages in capture order from `from` (the
    /// start, audited as a playback, when `None`), and whether more follow.
    pub async fn recording_frames(
        &self,
        recording_id: &str,
        from: Option<i64>,
        max: u32,
    ) -> CoreResult<(Vec<Vec<u8>>, bool)> {
        check_id("recording id", recording_id)?;
        let path = match from {
            Some(from) => format!("/v1/recordings/{recording_id}/frames?from={from}&max={max}"),
            None => format!("/v1/recordings/{recording_id}/frames?max={max}"),
        };
        let response = self.session().get_raw(&path).await?;
        let more = response
            .headers()
            .get(doorstep_api::MORE_FRAMES_HEADER)
            .is_some_and(|v| v == "true");
        let body = response
            .bytes()
            .await
            .map_err(|e| self.session().cloud().unreachable(&e))?;
        let batch = doorstep_api::FrameBatch::decode(&body)
            .map_err(|e| CoreError::Protocol(format!("recorded frames: {e}")))?;
        Ok((batch.frames, more))
    }

    /// Deletes a recording for good.
    pub async fn delete_recording(&self, recording_id: &str) -> CoreResult<()> {
        check_id("recording id", recording_id)?;
        self.session()
            .call::<(), ()>(
                reqwest::Method::DELETE,
                &format!("/v1/recordings/{recording_id}"),
                None,
            )
            .await
    }
}

/// A recording played at the speed it was filmed: frames fetched ahead in batches
/// and handed out at their capture times' pace.
pub struct Playback {
    batches: tokio::sync::mpsc::Receiver<CoreResult<Vec<Vec<u8>>>>,
    fetcher: tokio::task::JoinHandle<()>,
    queued: std::collections::VecDeque<Vec<u8>>,
    /// (when the first frame was handed out, its capture time).
    clock: Option<(tokio::time::Instant, i64)>,
}

impl std::fmt::Debug for Playback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Playback")
            .field("queued", &self.queued.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Playback {
    fn drop(&mut self) {
        self.fetcher.abort();
    }
}

impl Playback {
    /// Starts playing `recording_id` from the first frame captured at or after
    /// `from` (the start when `None`); the first batch is fetched before this
    /// answers, so an unknown recording is an error here.
    pub async fn start(client: &Client, recording_id: &str, from: Option<i64>) -> CoreResult<Self> {
        let (first, more) = client
            .recording_frames(recording_id, from, PLAYBACK_BATCH)
            .await?;
        let (sender, batches) = tokio::sync::mpsc::channel(2);
        let next_from = first.last().map(|frame| captured_at(frame) + 1);
        let (client, id) = (client.clone(), recording_id.to_owned());
        let fetcher = tokio::spawn(async move {
            let (mut from, mut more) = (next_from, more);
            while more && let Some(at) = from {
                let batch = client.recording_frames(&id, Some(at), PLAYBACK_BATCH).await;
                if let Ok((frames, after)) = &batch {
                    from = frames.last().map(|frame| captured_at(frame) + 1);
                    more = *after;
                } else {
                    more = false;
                }
                if sender.send(batch.map(|(frames, _)| frames)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Self {
            batches,
            fetcher,
            queued: first.into(),
            clock: None,
        })
    }

    /// The next frame message when its time has come; `None` at the end.
    pub async fn next(&mut self) -> CoreResult<Option<Vec<u8>>> {
        if self.queued.is_empty() {
            match self.batches.recv().await {
                Some(batch) => self.queued = batch?.into(),
                None => return Ok(None),
            }
        }
        let Some(frame) = self.queued.pop_front() else {
            return Ok(None);
        };
        let at = captured_at(&frame);
        match self.clock {
            None => self.clock = Some((tokio::time::Instant::now(), at)),
            Some((started, first)) => {
                // A frame filed out of order is shown at once, not waited for.
                let offset = u64::try_from(at.saturating_sub(first)).unwrap_or(0);
                tokio::time::sleep_until(started + Duration::from_millis(offset)).await;
            }
        }
        Ok(Some(frame))
    }
}

/// A frame message as the window's live view and player read it: `sent_at (i64 ms
/// BE) ‖ the frame message`, `sent_at` being when this computer handed it to the
/// window, so the page can tell the network's share of a frame's age from its own.
pub fn window_message(frame_message: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(8 + frame_message.len());
    message.extend_from_slice(&crate::cloud::now_ms().to_be_bytes());
    message.extend_from_slice(frame_message);
    message
}

fn captured_at(message: &[u8]) -> i64 {
    doorstep_api::FrameHeader::decode(message)
        .map(|(header, _)| header.captured_at)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_message_is_the_frame_message_after_when_it_was_handed_over() {
        let frame = Frame {
            seq: 42,
            captured_at: 1_790_000_000_123,
            jpeg: vec![0xff, 0xd8, 0xff, 0xd9],
        };
        let before = crate::cloud::now_ms();
        let message = window_message(&frame.to_message());
        let after = crate::cloud::now_ms();
        let sent_at = i64::from_be_bytes(message[..8].try_into().unwrap());
        assert!((before..=after).contains(&sent_at));
        assert_eq!(Frame::decode(&message[8..]).unwrap(), frame);
    }
}

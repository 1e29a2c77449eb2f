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
        if !recording_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(CoreError::Invalid(format!(
                "recording id {recording_id:?} is not an id"
            )));
        }
        let path = match at {
            Some(at) => format!("/v1/recordings/{recording_id}/frame?at={at}"),
            None => format!("/v1/recordings/{recording_id}/frame"),
        };
        let response = self.session().get_raw(&path).await?;
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

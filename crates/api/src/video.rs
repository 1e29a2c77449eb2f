use serde::{Deserialize, Serialize};

/// A recording.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Recording {
    /// Its id.
    pub id: String,
    /// The lock.
    pub lock_id: String,
    /// The delivery it belongs to, if any.
    pub delivery_id: Option<String>,
    /// First frame (ms).
    pub started_at: i64,
    /// Last frame (ms).
    pub last_frame_at: i64,
    /// How many frames.
    pub frames: i64,
    /// The lock's name.
    pub lock_name: String,
    /// The delivery's carrier, when the recording is of a delivery.
    pub carrier: Option<String>,
    /// The delivery's tracking id, when the recording is of a delivery.
    pub tracking_id: Option<String>,
    /// The guest's name, when the recording is of a guest's visit.
    pub guest: Option<String>,
}

/// The most frames one `GET /v1/recordings/{id}/frames` answers.
pub const MAX_FRAMES_PER_BATCH: usize = 200;

/// The most bytes of frames one batch holds (the last frame may pass it).
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// A batch of recorded frames on the wire (`GET /v1/recordings/{id}/frames`,
/// `application/vnd.doorstep.frames`): each frame message (a [`FrameHeader`] and its
/// JPEG) preceded by its length as a u32, big-endian, in capture order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameBatch {
    /// The frame messages.
    pub frames: Vec<Vec<u8>>,
}

/// The batch's media type.
pub const FRAME_BATCH_TYPE: &str = "application/vnd.doorstep.frames";

/// The header that says whether the recording has frames after this batch.
pub const MORE_FRAMES_HEADER: &str = "more-frames";

impl FrameBatch {
    /// The body.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.frames.iter().map(|f| f.len() + 4).sum());
        for frame in &self.frames {
            body.extend_from_slice(&(frame.len() as u32).to_be_bytes());
            body.extend_from_slice(frame);
        }
        body
    }

    /// Reads a body, checking every frame in it.
    pub fn decode(body: &[u8]) -> Result<Self, FrameError> {
        let mut frames = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let Some((len, after)) = rest.split_first_chunk::<4>() else {
                return Err(FrameError::TooShort);
            };
            let len = u32::from_be_bytes(*len) as usize;
            if len > MAX_FRAME_BYTES {
                return Err(FrameError::TooLarge);
            }
            let Some((frame, after)) = after.split_at_checked(len) else {
                return Err(FrameError::TooShort);
            };
            FrameHeader::decode(frame)?;
            frames.push(frame.to_vec());
            rest = after;
        }
        Ok(Self { frames })
    }
}

/// Bytes before the JPEG in a frame message.
pub const FRAME_HEADER_LEN: usize = 16;

/// The largest frame message accepted anywhere.
pub const MAX_FRAME_BYTES: usize = 512 * 1024;

/// A video frame's header. On the wire a frame is one binary message: `seq`
/// (u64, big-endian), `captured_at` (i64 ms since the epoch, big-endian), then
/// the JPEG (`docs/api.md#video`). Every party reads and writes it here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The camera's frame number: 1, 2, 3 …
    pub seq: u64,
    /// Capture time (ms since the epoch, the camera's clock).
    pub captured_at: i64,
}

/// Why bytes are not a frame message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Shorter than a header and the start of a JPEG.
    TooShort,
    /// Larger than [`MAX_FRAME_BYTES`].
    TooLarge,
    /// What follows the header is not a JPEG.
    NotJpeg,
    /// The capture time is outside years 1970–9999.
    ImplausibleTime,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::TooShort => "a video frame shorter than its header",
            Self::TooLarge => "a video frame larger than 512 KiB",
            Self::NotJpeg => "a video frame that is not a JPEG",
            Self::ImplausibleTime => "a video frame with an impossible capture time",
        })
    }
}

impl std::error::Error for FrameError {}

impl FrameHeader {
    /// The frame message: this header, then `jpeg`.
    pub fn encode(&self, jpeg: &[u8]) -> Vec<u8> {
        let mut message = Vec::with_capacity(FRAME_HEADER_LEN + jpeg.len());
        message.extend_from_slice(&self.seq.to_be_bytes());
        message.extend_from_slice(&self.captured_at.to_be_bytes());
        message.extend_from_slice(jpeg);
        message
    }

    /// Reads a frame message into its header and JPEG, checking both.
    pub fn decode(message: &[u8]) -> Result<(Self, &[u8]), FrameError> {
        if message.len() > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge);
        }
        // A JPEG has at least its start and end markers.
        let (Some(seq), Some(captured_at), Some(jpeg)) = (
            message.get(0..8),
            message.get(8..FRAME_HEADER_LEN),
            message
                .get(FRAME_HEADER_LEN..)
                .filter(|jpeg| jpeg.len() >= 4),
        ) else {
            return Err(FrameError::TooShort);
        };
        if jpeg[..2] != [0xFF, 0xD8] {
            return Err(FrameError::NotJpeg);
        }
        let header = Self {
            seq: u64::from_be_bytes(seq.try_into().map_err(|_| FrameError::TooShort)?),
            captured_at: i64::from_be_bytes(
                captured_at.try_into().map_err(|_| FrameError::TooShort)?,
            ),
        };
        // A capture time outside the plausible range would overflow age checks.
        if !doorstep_proto::Timestamp(header.captured_at).is_plausible() {
            return Err(FrameError::ImplausibleTime);
        }
        Ok((header, jpeg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_and_damage_is_named() {
        let header = FrameHeader {
            seq: 7,
            captured_at: 1_700_000_000_000,
        };
        let jpeg = [0xFF, 0xD8, 1, 2, 0xFF, 0xD9];
        let message = header.encode(&jpeg);
        assert_eq!(message.len(), FRAME_HEADER_LEN + jpeg.len());
        assert_eq!(FrameHeader::decode(&message), Ok((header, &jpeg[..])));
        assert_eq!(
            FrameHeader::decode(&message[..FRAME_HEADER_LEN + 3]),
            Err(FrameError::TooShort)
        );
        let mut not_jpeg = message.clone();
        not_jpeg[FRAME_HEADER_LEN] = 0;
        assert_eq!(FrameHeader::decode(&not_jpeg), Err(FrameError::NotJpeg));
        let late = FrameHeader {
            seq: 1,
            captured_at: i64::MAX,
        }
        .encode(&jpeg);
        assert_eq!(FrameHeader::decode(&late), Err(FrameError::ImplausibleTime));
        let huge = header.encode(&vec![0xFF; MAX_FRAME_BYTES]);
        assert_eq!(FrameHeader::decode(&huge), Err(FrameError::TooLarge));
    }

    #[test]
    fn a_frame_batch_round_trips_and_a_cut_or_forged_one_is_refused() {
        let jpeg = [0xFF, 0xD8, 1, 2, 0xFF, 0xD9];
        let frames: Vec<Vec<u8>> = (1..=3)
            .map(|seq| {
                FrameHeader {
                    seq,
                    captured_at: 1_700_000_000_000 + seq as i64 * 100,
                }
                .encode(&jpeg)
            })
            .collect();
        let batch = FrameBatch { frames };
        let body = batch.encode();
        assert_eq!(FrameBatch::decode(&body), Ok(batch.clone()));
        assert_eq!(FrameBatch::decode(&[]), Ok(FrameBatch::default()));
        for cut in [1, 3, 5, body.len() - 1] {
            assert_eq!(
                FrameBatch::decode(&body[..cut]),
                Err(FrameError::TooShort),
                "cut at {cut}"
            );
        }
        let mut huge = body.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(FrameBatch::decode(&huge), Err(FrameError::TooLarge));
        let mut not_jpeg = body;
        not_jpeg[4 + FRAME_HEADER_LEN] = 0;
        assert_eq!(FrameBatch::decode(&not_jpeg), Err(FrameError::NotJpeg));
    }
}

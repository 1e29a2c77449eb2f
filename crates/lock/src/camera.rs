//! The camera's picture: a simulated hallway at 640×480, 15 frames a second, with a
//! figure walking through it and, burned into the image, the capture time and the
//! frame number — so people see motion and staleness, and tests can measure both.
//!
//! Each frame travels as a small header and a JPEG (`doorstep_api::FrameHeader`,
//! `docs/api.md#video`).

use std::time::Duration;

use doorstep_api::FrameHeader;

/// Frame size.
pub const WIDTH: u16 = 640;
/// Frame size.
pub const HEIGHT: u16 = 480;
/// Frames per second while recording.
pub const FPS: u32 = 15;
/// Time between frames.
pub const FRAME_INTERVAL: Duration = Duration::from_micros(1_000_000 / FPS as u64);
/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// 1, 2, 3 … per camera.
    pub seq: u64,
    /// Capture time (ms since the epoch).
    pub captured_at: i64,
    /// The picture.
    pub jpeg: Vec<u8>,
}

impl Frame {
    /// Header + JPEG, as sent.
    pub fn to_message(&self) -> Vec<u8> {
        FrameHeader {
            seq: self.seq,
            captured_at: self.captured_at,
        }
        .encode(&self.jpeg)
    }

    /// Reads a frame message; `None` when it is not one.
    pub fn from_message(bytes: &[u8]) -> Option<Self> {
        let (header, jpeg) = FrameHeader::decode(bytes).ok()?;
        Some(Self {
            seq: header.seq,
            captured_at: header.captured_at,
            jpeg: jpeg.to_vec(),
        })
    }
}

/// Seven-segment masks for 0–9 (segments a b c d e f g as bits 0–6).
const DIGITS: [u8; 10] = [0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F];

struct Canvas {
    pixels: Vec<u8>,
}

impl Canvas {
    fn new() -> Self {
        Self {
            pixels: vec![0; usize::from(WIDTH) * usize::from(HEIGHT) * 3],
        }
    }

    fn rect(&mut self, x: i32, y: i32, w: i32, h: i32, rgb: [u8; 3]) {
        let (width, height) = (i32::from(WIDTH), i32::from(HEIGHT));
        for row in y.max(0)..(y + h).min(height) {
            for col in x.max(0)..(x + w).min(width) {
                let at = usize::try_from((row * width + col) * 3).unwrap_or(0);
                self.pixels[at..at + 3].copy_from_slice(&rgb);
            }
        }
    }

    fn digit(&mut self, x: i32, y: i32, value: u8, rgb: [u8; 3]) {
        let mask = DIGITS[usize::from(value % 10)];
        let (w, h, t) = (14, 24, 3);
        let segments = [
            (x, y, w, t),
            (x + w - t, y, t, h / 2),
            (x + w - t, y + h / 2, t, h / 2),
            (x, y + h - t, w, t),
            (x, y + h / 2, t, h / 2),
            (x, y, t, h / 2),
            (x, y + h / 2 - 1, w, t),
        ];
        for (bit, (sx, sy, sw, sh)) in segments.into_iter().enumerate() {
            if mask & (1 << bit) != 0 {
                self.rect(sx, sy, sw, sh, rgb);
            }
        }
    }

    fn number(&mut self, x: i32, y: i32, value: u64, digits: u32, rgb: [u8; 3]) {
        for i in 0..digits {
            let d = (value / 10u64.pow(digits - 1 - i)) % 10;
            self.digit(
                x + i32::try_from(i).unwrap_or(0) * 20,
                y,
                u8::try_from(d).unwrap_or(0),
                rgb,
            );
        }
    }
}

/// Renders the scene at `captured_at` as frame `seq`.
pub fn render(seq: u64, captured_at: i64) -> Frame {
    let mut canvas = Canvas::new();
    // Hallway: wall, floor, the door frame.
    canvas.rect(0, 0, 640, 300, [196, 186, 168]);
    canvas.rect(0, 300, 640, 180, [120, 96, 72]);
    canvas.rect(250, 60, 140, 240, [70, 52, 40]);
    canvas.rect(262, 72, 116, 228, [230, 222, 206]);
    // A figure walking across, one pass every 8 seconds.
    let phase = captured_at.rem_euclid(8_000);
    let x = i32::try_from(phase * 700 / 8_000).unwrap_or(0) - 60;
    canvas.rect(x, 180, 50, 200, [40, 90, 160]);
    canvas.rect(x + 10, 140, 30, 36, [224, 180, 150]);
    // Burned-in stamp: time of day (HH MM SS mmm, UTC) and frame number.
    canvas.rect(0, 430, 640, 50, [0, 0, 0]);
    let day_ms = u64::try_from(captured_at.rem_euclid(86_400_000)).unwrap_or(0);
    let white = [255, 255, 255];
    canvas.number(12, 442, day_ms / 3_600_000, 2, white);
    canvas.number(62, 442, (day_ms / 60_000) % 60, 2, white);
    canvas.number(112, 442, (day_ms / 1_000) % 60, 2, white);
    canvas.number(162, 442, day_ms % 1_000, 3, white);
    canvas.number(420, 442, seq % 10_000_000, 7, [255, 200, 0]);
    // Encoding into memory cannot fail for a well-formed RGB buffer.
    let mut jpeg = Vec::with_capacity(48 * 1024);
    let encoder = jpeg_encoder::Encoder::new(&mut jpeg, 70);
    if let Err(e) = encoder.encode(&canvas.pixels, WIDTH, HEIGHT, jpeg_encoder::ColorType::Rgb) {
        tracing::error!(error = %e, "frame encoding failed");
    }
    Frame {
        seq,
        captured_at,
        jpeg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_real_jpegs_that_change_over_time_and_round_trip() {
        let a = render(1, 1_790_000_000_000);
        let b = render(2, 1_790_000_000_500);
        assert_ne!(a.jpeg, b.jpeg, "the figure moved and the clock advanced");
        let mut decoder = jpeg_decoder::Decoder::new(a.jpeg.as_slice());
        let pixels = decoder.decode().unwrap();
        let info = decoder.info().unwrap();
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert_eq!(pixels.len(), 640 * 480 * 3);
        assert_eq!(Frame::from_message(&a.to_message()), Some(a));
        assert_eq!(Frame::from_message(b"short"), None);
    }
}

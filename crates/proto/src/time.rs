//! Time as signed objects carry it, and the injected clock every check reads.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// `self` moved by `millis` (negative for earlier), saturating.
    pub fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// `self` moved by `duration`, saturating.
    pub fn plus(self, duration: std::time::Duration) -> Self {
        self.plus_millis(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
    }

    /// `self` moved back by `duration`, saturating.
    pub fn minus(self, duration: std::time::Duration) -> Self {
        self.plus_millis(-i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
    }

    /// The current system time.
    pub fn now() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self(millis)
    }
}

/// A span of time, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    /// First moment the window is open.
    pub not_before: Timestamp,
    /// Last moment the window is open.
    pub not_after: Timestamp,
}

impl TimeWindow {
    /// A window from `not_before` to `not_after`.
    pub fn new(not_before: Timestamp, not_after: Timestamp) -> Self {
        Self {
            not_before,
            not_after,
        }
    }

    /// Whether `inner` lies entirely inside `self`.
    pub fn contains_window(&self, inner: &TimeWindow) -> bool {
        self.not_before <= inner.not_before && inner.not_after <= self.not_after
    }

    /// Whether the window is well formed (it does not end before it starts).
    pub fn is_valid(&self) -> bool {
        self.not_before <= self.not_after
    }
}

/// How far a lock's clock and a signer's clock may disagree: 30 seconds. Windows
/// are widened by this much at both ends; freshness limits are not.
pub const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(30);

/// What a clock says, and whether it can be believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    /// The time.
    pub now: Timestamp,
    /// False when the clock has not been set since power-up (a lock's RTC after a
    /// battery swap): time windows cannot be judged, so nothing opens.
    pub trusted: bool,
}

/// The source of time for every check; injected so tests and simulated hardware
/// control it.
pub trait Clock: Send + Sync {
    /// Reads the clock.
    fn read(&self) -> ClockReading;
}

/// The operating system's clock, trusted.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn read(&self) -> ClockReading {
        ClockReading {
            now: Timestamp::now(),
            trusted: true,
        }
    }
}

/// A clock a test (or a simulated device) sets by hand.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: std::sync::atomic::AtomicI64,
    untrusted: std::sync::atomic::AtomicBool,
}

impl ManualClock {
    /// A trusted clock showing `now`.
    pub fn at(now: Timestamp) -> Self {
        Self {
            now: std::sync::atomic::AtomicI64::new(now.0),
            untrusted: std::sync::atomic::AtomicBool::new(false),
        }
    }
    /// Sets the time.
    pub fn set(&self, now: Timestamp) {
        self.now.store(now.0, std::sync::atomic::Ordering::SeqCst);
    }
    /// Moves the time forward.
    pub fn advance(&self, by: std::time::Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.now.fetch_add(by, std::sync::atomic::Ordering::SeqCst);
    }
    /// Marks the clock as (un)trusted.
    pub fn set_trusted(&self, trusted: bool) {
        self.untrusted
            .store(!trusted, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn read(&self) -> ClockReading {
        ClockReading {
            now: Timestamp(self.now.load(std::sync::atomic::Ordering::SeqCst)),
            trusted: !self.untrusted.load(std::sync::atomic::Ordering::SeqCst),
        }
    }
}

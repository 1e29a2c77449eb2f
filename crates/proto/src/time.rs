//! Time as signed objects carry it, and the injected clock every check reads.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
///
/// A timestamp read from outside (JSON, a signed object, a file) lies in
/// `0..=Timestamp::LATEST.0`, or it is refused as it is parsed: so sums and
/// differences of timestamps and bounded durations never overflow, wherever
/// they are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        bounded::time(deserializer).map(Self)
    }
}

/// Range checks for numbers read from outside, for `#[serde(deserialize_with)]`
/// on plain integer fields (API bodies keep `i64` milliseconds for JSON clients).
pub mod bounded {
    use serde::{Deserialize, Deserializer, de::Error, de::Visitor};

    use super::Timestamp;

    /// The largest integer every double holds exactly.
    const EXACT_IN_A_DOUBLE: f64 = 9_007_199_254_740_992.0;

    struct Integer;

    impl Visitor<'_> for Integer {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer")
        }

        fn visit_i64<E: Error>(self, value: i64) -> Result<i64, E> {
            Ok(value)
        }

        fn visit_u64<E: Error>(self, value: u64) -> Result<i64, E> {
            i64::try_from(value).map_err(|_| E::custom(format!("{value} is too large")))
        }

        fn visit_f64<E: Error>(self, value: f64) -> Result<i64, E> {
            if value.fract() == 0.0 && value.abs() <= EXACT_IN_A_DOUBLE {
                #[allow(
                    clippy::cast_possible_truncation,
                    reason = "a whole number within 2^53 converts exactly"
                )]
                Ok(value as i64)
            } else {
                Err(E::custom(format!("{value} is not a whole number")))
            }
        }
    }

    /// An integer. In JSON (and JSON Schema's `integer`) `1.0` is the integer 1,
    /// so a number without a fraction that a double holds exactly is read as it;
    /// `1.5` is refused.
    pub fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_i64(Integer)
    }

    /// An optional [`integer`].
    pub fn optional_integer<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        Option::<Whole>::deserialize(deserializer).map(|value| value.map(|w| w.0))
    }

    /// An [`integer`] as a type, for `Option`.
    struct Whole(i64);

    impl<'de> Deserialize<'de> for Whole {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            integer(deserializer).map(Whole)
        }
    }

    fn check_time<E: Error>(millis: i64) -> Result<i64, E> {
        if (0..=Timestamp::LATEST.0).contains(&millis) {
            Ok(millis)
        } else {
            Err(E::custom(format!(
                "{millis} is not a time: milliseconds since 1970, up to the end of year 9999"
            )))
        }
    }

    /// Milliseconds since 1970 in `0..=Timestamp::LATEST`.
    pub fn time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        check_time(integer(deserializer)?)
    }

    /// An optional [`time`].
    pub fn optional_time<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        optional_integer(deserializer)?.map(check_time).transpose()
    }

    /// The largest count or sequence number accepted from outside: 2^53 − 1,
    /// exact in every JSON reader, and far from overflowing when incremented.
    pub const MAX_COUNT: i64 = (1 << 53) - 1;

    /// A sequence number or count in `0..=MAX_COUNT`.
    pub fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        let value = integer(deserializer)?;
        if (0..=MAX_COUNT).contains(&value) {
            Ok(value)
        } else {
            Err(D::Error::custom(format!(
                "{value} is out of range: 0 to {MAX_COUNT}"
            )))
        }
    }

    /// An optional [`count`].
    pub fn optional_count<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        optional_integer(deserializer)?
            .map(|value| {
                if (0..=MAX_COUNT).contains(&value) {
                    Ok(value)
                } else {
                    Err(D::Error::custom(format!(
                        "{value} is out of range: 0 to {MAX_COUNT}"
                    )))
                }
            })
            .transpose()
    }
}

impl Timestamp {
    /// The last moment a timestamp from outside may name: 9999-12-31T23:59:59.999Z.
    pub const LATEST: Timestamp = Timestamp(253_402_300_799_999);

    /// Whether a timestamp lies in the range accepted from outside.
    pub fn is_plausible(self) -> bool {
        (0..=Self::LATEST.0).contains(&self.0)
    }

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
    #[allow(clippy::disallowed_methods, reason = "this is the clock")]
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

//! The lock's time: the cloud's signed time plus the lock's monotonic progress
//! since it arrived, never the system clock, and never earlier than the highest
//! time the lock has already stood at (the floor, kept across restarts).
//! Rules: `docs/signed-formats.md#time-at-the-lock-is-authenticated-and-never-runs-backwards`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use doorstep_proto::{CLOCK_SKEW, Clock, ClockReading, Timestamp};

/// How often the floor is written while the clock runs.
pub const FLOOR_EVERY: Duration = Duration::from_secs(10);

/// Why a signed time was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeRefused {
    /// Earlier than a time the lock has already stood at.
    #[error(
        "the cloud's time {offered} ms is before the lock's floor {floor} ms: the clock stays unset"
    )]
    BelowFloor {
        /// The signed time.
        offered: i64,
        /// The floor.
        floor: i64,
    },
    /// Disagrees with the lock's running estimate by more than the skew.
    #[error(
        "the cloud's time {offered} ms is {difference_ms} ms away from the lock's own {estimate} ms: the lock keeps its own"
    )]
    Disagrees {
        /// The signed time.
        offered: i64,
        /// The lock's estimate.
        estimate: i64,
        /// How far apart.
        difference_ms: i64,
    },
}

#[derive(Debug)]
struct Anchor {
    at: Timestamp,
    since: Instant,
}

#[derive(Debug)]
struct State {
    anchor: Option<Anchor>,
    floor: i64,
    floor_written: Option<Instant>,
}

/// The clock `verify_entry` reads at the lock.
#[derive(Debug)]
pub struct LockClock {
    state: Mutex<State>,
    floor_path: Option<PathBuf>,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl LockClock {
    /// A clock for the lock folder `dir`, with its persisted floor; untrusted
    /// until the first signed time is accepted.
    pub fn open(dir: &Path) -> Self {
        let floor_path = dir.join("time-floor");
        let floor = std::fs::read_to_string(&floor_path)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0);
        Self {
            state: Mutex::new(State {
                anchor: None,
                floor,
                floor_written: None,
            }),
            floor_path: Some(floor_path),
        }
    }

    /// A clock that keeps its floor in memory only (tests).
    pub fn in_memory(floor: i64) -> Self {
        Self {
            state: Mutex::new(State {
                anchor: None,
                floor,
                floor_written: None,
            }),
            floor_path: None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Offers a verified signed time that arrived at `arrived` (monotonic).
    pub fn offer(&self, offered: Timestamp, arrived: Instant) -> Result<(), TimeRefused> {
        let mut state = self.lock();
        match &state.anchor {
            None => {
                if offered.0 < state.floor.saturating_sub(millis(CLOCK_SKEW)) {
                    return Err(TimeRefused::BelowFloor {
                        offered: offered.0,
                        floor: state.floor,
                    });
                }
            }
            Some(anchor) => {
                let estimate = anchor
                    .at
                    .0
                    .saturating_add(millis(arrived.saturating_duration_since(anchor.since)));
                let difference_ms = offered.0.saturating_sub(estimate).saturating_abs();
                if difference_ms > millis(CLOCK_SKEW) {
                    return Err(TimeRefused::Disagrees {
                        offered: offered.0,
                        estimate,
                        difference_ms,
                    });
                }
            }
        }
        // Never step below the floor, even within the skew.
        let at = Timestamp(offered.0.max(state.floor));
        state.anchor = Some(Anchor { at, since: arrived });
        drop(state);
        self.save_floor(true);
        Ok(())
    }

    /// Whether a signed time has been accepted.
    pub fn is_set(&self) -> bool {
        self.lock().anchor.is_some()
    }

    /// Writes the floor if it is due (or `now`), atomically.
    pub fn save_floor(&self, force: bool) {
        let Some(path) = &self.floor_path else {
            let mut state = self.lock();
            if let Some(now) = Self::estimate(&state) {
                state.floor = state.floor.max(now);
            }
            return;
        };
        let mut state = self.lock();
        let Some(now) = Self::estimate(&state) else {
            return;
        };
        let due = force
            || state
                .floor_written
                .is_none_or(|at| at.elapsed() >= FLOOR_EVERY);
        if !due {
            return;
        }
        state.floor = state.floor.max(now);
        state.floor_written = Some(Instant::now());
        let floor = state.floor;
        drop(state);
        let tmp = path.with_extension("tmp");
        let written = std::fs::write(&tmp, floor.to_string())
            .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not write the lock's time floor");
        }
    }

    fn estimate(state: &State) -> Option<i64> {
        state.anchor.as_ref().map(|anchor| {
            anchor
                .at
                .0
                .saturating_add(millis(anchor.since.elapsed()))
                .max(state.floor)
        })
    }

    /// The persisted floor.
    pub fn floor(&self) -> i64 {
        self.lock().floor
    }
}

impl Clock for LockClock {
    fn read(&self) -> ClockReading {
        match Self::estimate(&self.lock()) {
            Some(now) => ClockReading {
                now: Timestamp(now),
                trusted: true,
            },
            // Stamps only (journal lines): decisions refuse an untrusted reading.
            None => ClockReading {
                now: doorstep_proto::SystemClock.read().now,
                trusted: false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp(1_790_000_000_000);

    #[test]
    fn untrusted_until_a_signed_time_is_taken() {
        let clock = LockClock::in_memory(0);
        assert!(!clock.read().trusted);
        clock.offer(T, Instant::now()).unwrap();
        let reading = clock.read();
        assert!(reading.trusted);
        assert!((reading.now.0 - T.0).abs() < 1000);
    }

    #[test]
    fn a_running_clock_refuses_a_step_beyond_the_skew_and_keeps_its_own() {
        let clock = LockClock::in_memory(0);
        let start = Instant::now();
        clock.offer(T, start).unwrap();
        let two_hours_back = Timestamp(T.0 - 2 * 3600 * 1000);
        assert!(matches!(
            clock.offer(two_hours_back, start),
            Err(TimeRefused::Disagrees { .. })
        ));
        assert!(matches!(
            clock.offer(Timestamp(T.0 + 10 * 60_000), start),
            Err(TimeRefused::Disagrees { .. })
        ));
        assert!(clock.read().now.0 >= T.0);
        // A small correction is taken.
        clock.offer(Timestamp(T.0 + 5_000), start).unwrap();
        assert!(clock.read().now.0 >= T.0 + 5_000);
    }

    #[test]
    fn after_a_restart_a_time_below_the_floor_leaves_the_clock_unset() {
        let dir = std::env::temp_dir().join(format!("lock-clock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let clock = LockClock::open(&dir);
        clock.offer(T, Instant::now()).unwrap();
        drop(clock);
        let restarted = LockClock::open(&dir);
        assert_eq!(restarted.floor(), T.0.max(restarted.floor()));
        let back = Timestamp(T.0 - 2 * 3600 * 1000);
        assert!(matches!(
            restarted.offer(back, Instant::now()),
            Err(TimeRefused::BelowFloor { .. })
        ));
        assert!(!restarted.read().trusted);
        restarted
            .offer(Timestamp(T.0 + 1000), Instant::now())
            .unwrap();
        assert!(restarted.read().trusted);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn extreme_times_do_not_panic() {
        let clock = LockClock::in_memory(i64::MAX);
        assert!(clock.offer(Timestamp(i64::MIN), Instant::now()).is_err());
        clock.offer(Timestamp(i64::MAX), Instant::now()).unwrap();
        assert!(clock.offer(Timestamp(i64::MIN), Instant::now()).is_err());
        let _ = clock.read();
    }
}

//! A lock that behaves like hardware: the motor takes time, the door is sensed,
//! the bolt relocks when the door closes or when nobody opened it in time, and
//! the lock raises alarms for a jammed motor, a forced door and a door left open.
//!
//! Pure: inputs carry the time; outputs are what the lock reports. The agent feeds
//! it real time; the model test feeds it arbitrary sequences, with reboots.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Simulated motor time to throw or withdraw the bolt.
pub const ACTUATION: Duration = Duration::from_millis(300);
/// Unlocked but nobody opened the door: relock after this long.
pub const RELOCK_IF_UNOPENED: Duration = Duration::from_secs(30);
/// A door open this long raises the "ajar" alarm.
pub const AJAR_AFTER: Duration = Duration::from_secs(60);

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Where the bolt is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Bolt {
    /// Thrown: the door cannot open without force.
    Locked,
    /// The motor is withdrawing it.
    Unlocking {
        /// When the motor finishes.
        done_at: i64,
    },
    /// Withdrawn.
    Unlocked {
        /// When it relocks if the door was not opened.
        relock_at: i64,
    },
    /// The motor is throwing it.
    Locking {
        /// When the motor finishes.
        done_at: i64,
    },
    /// The motor failed; the bolt stays thrown.
    Jammed,
}

/// What the door sensor says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Door {
    /// Closed.
    Closed,
    /// Open.
    Open {
        /// Since when.
        since: i64,
        /// Whether the ajar alarm was raised for this opening.
        ajar_reported: bool,
    },
}

/// Something that happens to the lock. Times are milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Withdraw the bolt (a verified entry).
    Unlock(i64),
    /// Throw the bolt now (a block, or the end of a visit).
    Lock(i64),
    /// The door sensor reports open.
    DoorOpened(i64),
    /// The door sensor reports closed.
    DoorClosed(i64),
    /// Time passes.
    Tick(i64),
    /// The motor stops working (a test or demo presses "jam").
    JamMotor,
    /// The motor works again, at its normal speed.
    FreeMotor,
    /// A worn motor: each stroke takes this many milliseconds (a test or demo
    /// presses "slow"; longer than the cloud waits for a relock report).
    WearMotor(i64),
}

/// What the lock reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// The bolt is withdrawn.
    Unlocked,
    /// The bolt is thrown again.
    Relocked,
    /// The door opened.
    DoorOpened,
    /// The door closed.
    DoorClosed,
    /// The door opened while the bolt was thrown.
    Forced,
    /// The door has been open too long.
    Ajar,
    /// The motor failed to move the bolt.
    Jammed,
}

impl Output {
    /// The journal line it becomes.
    pub fn report_kind(self) -> doorstep_api::ReportKind {
        use doorstep_api::ReportKind;
        match self {
            Self::Unlocked => ReportKind::Unlocked,
            Self::Relocked => ReportKind::Relocked,
            Self::DoorOpened => ReportKind::DoorOpened,
            Self::DoorClosed => ReportKind::DoorClosed,
            Self::Forced => ReportKind::Forced,
            Self::Ajar => ReportKind::Ajar,
            Self::Jammed => ReportKind::Jammed,
        }
    }
}

/// The lock and its door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    /// The bolt.
    pub bolt: Bolt,
    /// The door.
    pub door: Door,
    /// Whether the motor is broken.
    pub motor_jammed: bool,
    /// Whether the current jam was already reported (one alarm, not one per tick).
    #[serde(default)]
    pub jam_reported: bool,
    /// How long a stroke of a worn motor takes, in ms (`ACTUATION` when none).
    #[serde(default)]
    pub stroke_ms: Option<i64>,
}

impl Default for Hardware {
    fn default() -> Self {
        Self {
            bolt: Bolt::Locked,
            door: Door::Closed,
            motor_jammed: false,
            jam_reported: false,
            stroke_ms: None,
        }
    }
}

impl Hardware {
    /// After power returns the motor drives the bolt home: fail-secure. The door
    /// is whatever the sensor says.
    pub fn after_reboot(door: Door) -> Self {
        Self {
            bolt: Bolt::Locked,
            door,
            motor_jammed: false,
            jam_reported: false,
            stroke_ms: None,
        }
    }

    fn stroke(&self) -> i64 {
        self.stroke_ms.unwrap_or(ms(ACTUATION))
    }

    /// Whether the door can be pushed open right now.
    pub fn is_unlocked(&self) -> bool {
        matches!(self.bolt, Bolt::Unlocked { .. })
    }

    /// Applies one input and returns what the lock reports.
    pub fn step(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Unlock(now) => match self.bolt {
                Bolt::Unlocked { .. } => {
                    self.bolt = Bolt::Unlocked {
                        relock_at: now + ms(RELOCK_IF_UNOPENED),
                    };
                }
                Bolt::Unlocking { .. } => {}
                Bolt::Locked | Bolt::Locking { .. } | Bolt::Jammed
                    if self.motor_jammed || self.bolt == Bolt::Jammed =>
                {
                    self.bolt = Bolt::Jammed;
                    out.push(Output::Jammed);
                }
                Bolt::Locked | Bolt::Locking { .. } | Bolt::Jammed => {
                    self.bolt = Bolt::Unlocking {
                        done_at: now.saturating_add(self.stroke()),
                    };
                }
            },
            Input::Lock(now) => self.throw_bolt(now, &mut out),
            Input::DoorOpened(now) => {
                if matches!(self.door, Door::Closed) {
                    self.door = Door::Open {
                        since: now,
                        ajar_reported: false,
                    };
                    out.push(Output::DoorOpened);
                    if !self.is_unlocked() {
                        out.push(Output::Forced);
                    }
                }
            }
            Input::DoorClosed(now) => {
                if matches!(self.door, Door::Open { .. }) {
                    self.door = Door::Closed;
                    out.push(Output::DoorClosed);
                    // Auto-relock the moment the door is shut.
                    self.throw_bolt(now, &mut out);
                }
            }
            Input::Tick(now) => self.tick(now, &mut out),
            Input::JamMotor => self.motor_jammed = true,
            Input::WearMotor(stroke) => self.stroke_ms = Some(stroke.clamp(0, 600_000)),
            Input::FreeMotor => {
                self.stroke_ms = None;
                self.motor_jammed = false;
                self.jam_reported = false;
                if self.bolt == Bolt::Jammed {
                    self.bolt = Bolt::Locked;
                }
            }
        }
        out
    }

    fn throw_bolt(&mut self, now: i64, out: &mut Vec<Output>) {
        match self.bolt {
            Bolt::Unlocked { .. } | Bolt::Unlocking { .. } => {
                if self.motor_jammed {
                    // The bolt stays withdrawn: the worst case, reported loudly, once.
                    if !self.jam_reported {
                        self.jam_reported = true;
                        out.push(Output::Jammed);
                    }
                } else {
                    self.bolt = Bolt::Locking {
                        done_at: now.saturating_add(self.stroke()),
                    };
                }
            }
            Bolt::Locked | Bolt::Locking { .. } | Bolt::Jammed => {}
        }
    }

    fn tick(&mut self, now: i64, out: &mut Vec<Output>) {
        match self.bolt {
            // A motor that fails mid-stroke leaves the bolt where it cannot be trusted.
            Bolt::Unlocking { done_at } | Bolt::Locking { done_at }
                if now >= done_at && self.motor_jammed =>
            {
                self.bolt = Bolt::Jammed;
                out.push(Output::Jammed);
            }
            Bolt::Unlocking { done_at } if now >= done_at => {
                self.bolt = Bolt::Unlocked {
                    relock_at: now + ms(RELOCK_IF_UNOPENED),
                };
                out.push(Output::Unlocked);
            }
            Bolt::Locking { done_at } if now >= done_at => {
                self.bolt = Bolt::Locked;
                out.push(Output::Relocked);
            }
            Bolt::Unlocked { relock_at } if now >= relock_at && self.door == Door::Closed => {
                self.throw_bolt(now, out);
            }
            _ => {}
        }
        if let Door::Open {
            since,
            ajar_reported: false,
        } = self.door
            && now >= since + ms(AJAR_AFTER)
        {
            self.door = Door::Open {
                since,
                ajar_reported: true,
            };
            out.push(Output::Ajar);
        }
    }
}

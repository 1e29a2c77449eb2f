//! Weekly hours in a household's time zone, and guest schedules. All checks go
//! through UTC instants converted with the IANA zone database, so a window is
//! judged by the wall clock at the door, across daylight-saving changes.

use chrono::{Datelike, NaiveTime, TimeZone, Timelike};
use serde::{Deserialize, Serialize};

use crate::time::{TimeWindow, Timestamp};

/// Days of the week and a daily span of hours, in one time zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    /// IANA time zone name, e.g. "Europe/Berlin".
    pub time_zone: String,
    /// ISO weekdays: 1 = Monday … 7 = Sunday.
    pub days: Vec<u8>,
    /// Start of the daily span, minutes after local midnight (0–1439).
    pub from_minute: u16,
    /// End of the daily span, minutes after local midnight (1–1440), after `from_minute`.
    pub until_minute: u16,
}

/// When a guest may come.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuestSchedule {
    /// The same hours every week (the cleaner, Tuesdays 9–12).
    Weekly(WeeklyHours),
    /// Once (the dog sitter, this weekend).
    Once(TimeWindow),
}

/// Why a schedule is not usable. Messages name the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Not a zone in the IANA database.
    #[error("time_zone: {0:?} is not an IANA time zone (e.g. \"Europe/Berlin\")")]
    UnknownTimeZone(String),
    /// A day outside 1–7.
    #[error("days: {0} is not a weekday (1 = Monday … 7 = Sunday)")]
    BadDay(u8),
    /// No day at all.
    #[error("days: at least one weekday is needed")]
    NoDays,
    /// Hours out of range or reversed.
    #[error(
        "from_minute/until_minute: {0}–{1} is not a span within one day (0–1440, start before end)"
    )]
    BadHours(u16, u16),
    /// A one-time window that ends before it starts.
    #[error("window: ends before it starts")]
    BadWindow,
}

impl WeeklyHours {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        self.zone()?;
        if self.days.is_empty() {
            return Err(ScheduleError::NoDays);
        }
        if let Some(&day) = self.days.iter().find(|d| !(1..=7).contains(*d)) {
            return Err(ScheduleError::BadDay(day));
        }
        if self.from_minute >= self.until_minute || self.until_minute > 1440 {
            return Err(ScheduleError::BadHours(self.from_minute, self.until_minute));
        }
        Ok(())
    }

    fn zone(&self) -> Result<chrono_tz::Tz, ScheduleError> {
        self.time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| ScheduleError::UnknownTimeZone(self.time_zone.clone()))
    }

    /// Whether every instant of `window` is allowed: it lies in one day's span, or
    /// runs on from one day's span into the next day's where they meet (a daily
    /// 00:00–24:00 admits a window across midnight; 08:00–18:00 never does).
    /// Windows longer than a year are refused.
    pub fn contains_window(&self, window: &TimeWindow) -> bool {
        if self.validate().is_err() || !window.is_valid() {
            return false;
        }
        // One step per day's span; a window of more than a year of days is refused
        // rather than walked (no policy or visit is anywhere near that long).
        let mut from = window.not_before;
        for _ in 0..=366 {
            let Some(span) = self.window_at(from) else {
                return false;
            };
            if span.not_after >= window.not_after {
                return true;
            }
            match span.not_after.0.checked_add(1) {
                Some(next) if next > from.0 => from = Timestamp(next),
                _ => return false,
            }
        }
        false
    }

    /// The day's allowed span that contains `at`, as a UTC window, if `at` is in one.
    pub fn window_at(&self, at: Timestamp) -> Option<TimeWindow> {
        let zone = self.zone().ok()?;
        self.validate().ok()?;
        let local = self.local(at)?;
        let minute = minute_of_day(&local);
        if !self.days.contains(&weekday(&local))
            || minute < u32::from(self.from_minute)
            || minute >= u32::from(self.until_minute)
        {
            return None;
        }
        span_on(
            &zone,
            local.date_naive(),
            self.from_minute,
            self.until_minute,
        )
    }

    fn local(&self, at: Timestamp) -> Option<chrono::DateTime<chrono_tz::Tz>> {
        let zone = self.zone().ok()?;
        zone.timestamp_millis_opt(at.0).single()
    }
}

/// `from_minute`–`until_minute` (wall times in `zone`) on `date`, as a UTC window.
/// In a daylight-saving gap a wall time does not exist; take the moment the clocks
/// jump to. In an overlap, take the wider reading.
fn span_on(
    zone: &chrono_tz::Tz,
    date: chrono::NaiveDate,
    from_minute: u16,
    until_minute: u16,
) -> Option<TimeWindow> {
    let at_minute = |m: u16| {
        let time = if m >= 1440 {
            NaiveTime::from_hms_milli_opt(23, 59, 59, 999)?
        } else {
            NaiveTime::from_hms_opt(u32::from(m / 60), u32::from(m % 60), 0)?
        };
        Some(date.and_time(time))
    };
    let start = resolve_local(zone, at_minute(from_minute)?, true)?;
    let end = resolve_local(zone, at_minute(until_minute)?, false)?;
    let end_ms = if until_minute >= 1440 {
        end.timestamp_millis()
    } else {
        end.timestamp_millis() - 1
    };
    Some(TimeWindow::new(
        Timestamp(start.timestamp_millis()),
        Timestamp(end_ms),
    ))
}

/// A one-time visit typed as a day and hours in the household's `time_zone`
/// (`2026-12-24`, 10:00–12:00), as the UTC window a `GuestSchedule::Once` holds.
pub fn window_on_day(
    time_zone: &str,
    date: chrono::NaiveDate,
    from_minute: u16,
    until_minute: u16,
) -> Result<TimeWindow, ScheduleError> {
    window_between(time_zone, (date, from_minute), (date, until_minute))
}

/// A one-time visit typed as two wall times in the household's `time_zone`, each a
/// day and minutes after its midnight (`2026-12-24` 18:00 until `2026-12-26` 20:00):
/// the UTC window a `GuestSchedule::Once` holds. The end is the last millisecond
/// before the end time, as in a day's span; 24:00 is the end of that day.
pub fn window_between(
    time_zone: &str,
    (from_date, from_minute): (chrono::NaiveDate, u16),
    (until_date, until_minute): (chrono::NaiveDate, u16),
) -> Result<TimeWindow, ScheduleError> {
    let zone = time_zone
        .parse::<chrono_tz::Tz>()
        .map_err(|_| ScheduleError::UnknownTimeZone(time_zone.to_owned()))?;
    // Midnight at the end of a visit is the end of the day before.
    let (until_date, until_minute) = match until_minute {
        0 if until_date > from_date => (until_date.pred_opt().unwrap_or(until_date), 1440),
        minute => (until_date, minute),
    };
    if from_minute >= 1440 || until_minute > 1440 || until_minute == 0 {
        return Err(ScheduleError::BadHours(from_minute, until_minute));
    }
    if (until_date, until_minute) <= (from_date, from_minute) {
        return if from_date == until_date {
            Err(ScheduleError::BadHours(from_minute, until_minute))
        } else {
            Err(ScheduleError::BadWindow)
        };
    }
    let start = span_on(&zone, from_date, from_minute, 1440).ok_or(ScheduleError::BadWindow)?;
    let end = span_on(&zone, until_date, 0, until_minute).ok_or(ScheduleError::BadWindow)?;
    Ok(TimeWindow::new(start.not_before, end.not_after))
}

/// The instant a wall time names in `zone`: in an overlap the earlier or later
/// reading; in a gap (spring forward) the first moment after it, when the
/// clocks show a time again.
fn resolve_local(
    zone: &chrono_tz::Tz,
    wall: chrono::NaiveDateTime,
    earliest: bool,
) -> Option<chrono::DateTime<chrono_tz::Tz>> {
    use chrono::LocalResult;
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(at) => Some(at),
        LocalResult::Ambiguous(first, last) => Some(if earliest { first } else { last }),
        // No zone has a gap longer than a day; step to its end a minute at a time.
        LocalResult::None => (1..=24 * 60).find_map(|minutes| {
            let later = wall.checked_add_signed(chrono::TimeDelta::minutes(minutes))?;
            let at = zone.from_local_datetime(&later).earliest()?;
            // The first minute after the gap, as the instant the clocks jumped.
            Some(at - chrono::TimeDelta::seconds(i64::from(later.second())))
        }),
    }
}

fn weekday(at: &chrono::DateTime<chrono_tz::Tz>) -> u8 {
    u8::try_from(at.weekday().number_from_monday()).unwrap_or(0)
}

fn minute_of_day(at: &chrono::DateTime<chrono_tz::Tz>) -> u32 {
    at.hour() * 60 + at.minute()
}

impl GuestSchedule {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        match self {
            GuestSchedule::Weekly(hours) => hours.validate(),
            GuestSchedule::Once(window) if window.is_valid() => Ok(()),
            GuestSchedule::Once(_) => Err(ScheduleError::BadWindow),
        }
    }

    /// The window the guest may enter in that contains `at`, if any.
    pub fn window_at(&self, at: Timestamp) -> Option<TimeWindow> {
        match self {
            GuestSchedule::Weekly(hours) => hours.window_at(at),
            GuestSchedule::Once(window) => {
                (window.not_before <= at && at <= window.not_after).then_some(*window)
            }
        }
    }

    /// Whether all of `window` is allowed.
    pub fn contains_window(&self, window: &TimeWindow) -> bool {
        match self {
            GuestSchedule::Weekly(hours) => hours.contains_window(window),
            GuestSchedule::Once(allowed) => allowed.contains_window(window),
        }
    }
}

/// `at` as the wall clock in `time_zone` shows it (`2026-12-24 10:00`).
pub fn wall_time(time_zone: &str, at: Timestamp) -> Option<String> {
    let zone = time_zone.parse::<chrono_tz::Tz>().ok()?;
    let local = zone.timestamp_millis_opt(at.0).single()?;
    Some(local.format("%Y-%m-%d %H:%M").to_string())
}

/// Every IANA time zone this build knows, by name.
pub fn time_zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|zone| zone.name())
}

/// Whether `name` is an IANA time zone this build knows.
pub fn is_time_zone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_time_visit_typed_as_a_day_and_hours_is_that_span_in_the_households_zone() {
        let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        // Winter in Berlin is UTC+1, summer UTC+2.
        let winter = window_on_day("Europe/Berlin", day("2026-12-24"), 600, 720).unwrap();
        assert_eq!(winter.not_before, utc("2026-12-24T09:00:00Z"));
        assert_eq!(winter.not_after.0, utc("2026-12-24T11:00:00Z").0 - 1);
        let summer = window_on_day("Europe/Berlin", day("2026-07-01"), 600, 720).unwrap();
        assert_eq!(summer.not_before, utc("2026-07-01T08:00:00Z"));
        // Starting inside the spring gap: from the moment the clocks jump.
        let gap = window_on_day("Europe/Berlin", day("2026-03-29"), 150, 300).unwrap();
        assert_eq!(gap.not_before, utc("2026-03-29T01:00:00Z"));
        assert!(window_on_day("Europe/Berlin", day("2026-12-24"), 720, 600).is_err());
        assert!(window_on_day("Mars/Base", day("2026-12-24"), 600, 720).is_err());
    }

    fn berlin_weekdays_9_to_12() -> WeeklyHours {
        WeeklyHours {
            time_zone: "Europe/Berlin".into(),
            days: vec![1, 2, 3, 4, 5],
            from_minute: 9 * 60,
            until_minute: 12 * 60,
        }
    }

    fn utc(text: &str) -> Timestamp {
        Timestamp(
            chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp_millis(),
        )
    }

    #[test]
    fn a_weekday_morning_in_berlin_is_inside_and_the_evening_is_not() {
        let hours = berlin_weekdays_9_to_12();
        // Tuesday 2026-03-24, 10:00 in Berlin is 09:00 UTC (winter time).
        let window = hours.window_at(utc("2026-03-24T09:00:00Z")).unwrap();
        assert_eq!(window.not_before, utc("2026-03-24T08:00:00Z"));
        assert_eq!(window.not_after, utc("2026-03-24T10:59:59.999Z"));
        assert!(hours.window_at(utc("2026-03-24T18:00:00Z")).is_none());
        // Saturday.
        assert!(hours.window_at(utc("2026-03-28T09:00:00Z")).is_none());
    }

    #[test]
    fn the_same_wall_clock_hours_hold_across_the_spring_change() {
        let hours = berlin_weekdays_9_to_12();
        // Monday 2026-03-30 is after the switch to summer time: 09:00 local = 07:00 UTC.
        let window = hours.window_at(utc("2026-03-30T08:00:00Z")).unwrap();
        assert_eq!(window.not_before, utc("2026-03-30T07:00:00Z"));
        assert!(
            hours.window_at(utc("2026-03-30T10:30:00Z")).is_none(),
            "12:30 local"
        );
    }

    #[test]
    fn hours_that_start_in_the_spring_gap_open_when_the_clocks_jump() {
        // Sunday 2027-03-28 in Berlin: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let hours = WeeklyHours {
            time_zone: "Europe/Berlin".into(),
            days: vec![7],
            from_minute: 2 * 60 + 30,
            until_minute: 5 * 60,
        };
        // 04:00 CEST = 02:00 UTC: inside, and the window starts at the jump.
        let window = hours
            .window_at(utc("2027-03-28T02:00:00Z"))
            .expect("the hours after the gap still hold");
        assert_eq!(window.not_before, utc("2027-03-28T01:00:00Z"));
        assert_eq!(window.not_after, utc("2027-03-28T02:59:59.999Z"));
        // Hours that end inside the gap end when the clocks jump.
        let hours = WeeklyHours {
            from_minute: 60,
            until_minute: 2 * 60 + 30,
            ..hours
        };
        let window = hours.window_at(utc("2027-03-28T00:30:00Z")).unwrap();
        assert_eq!(window.not_before, utc("2027-03-28T00:00:00Z"));
        assert_eq!(window.not_after, utc("2027-03-28T00:59:59.999Z"));
    }

    #[test]
    fn a_window_spanning_past_the_end_of_the_hours_is_refused() {
        let hours = berlin_weekdays_9_to_12();
        let inside = TimeWindow::new(utc("2026-03-24T08:30:00Z"), utc("2026-03-24T09:30:00Z"));
        let spilling = TimeWindow::new(utc("2026-03-24T10:30:00Z"), utc("2026-03-24T11:30:00Z"));
        assert!(hours.contains_window(&inside));
        assert!(!hours.contains_window(&spilling));
    }

    #[test]
    fn a_one_time_visit_over_several_days_runs_from_its_first_wall_time_to_its_last() {
        let date = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        // Friday 18:00 to Sunday 20:00 in Berlin, across the autumn change.
        let weekend = window_between(
            "Europe/Berlin",
            (date("2026-10-23"), 18 * 60),
            (date("2026-10-25"), 20 * 60),
        )
        .unwrap();
        assert_eq!(weekend.not_before, utc("2026-10-23T16:00:00Z"));
        assert_eq!(weekend.not_after, utc("2026-10-25T18:59:59.999Z"));
        // Until midnight is the end of the day before; one day is a day's span.
        let to_midnight = window_between(
            "Europe/Berlin",
            (date("2026-12-24"), 600),
            (date("2026-12-25"), 0),
        )
        .unwrap();
        assert_eq!(
            to_midnight,
            window_on_day("Europe/Berlin", date("2026-12-24"), 600, 1440).unwrap()
        );
        // Backwards, by day or by hour, is named.
        assert_eq!(
            window_between(
                "Europe/Berlin",
                (date("2026-12-26"), 600),
                (date("2026-12-24"), 700)
            ),
            Err(ScheduleError::BadWindow)
        );
        assert_eq!(
            window_between(
                "Europe/Berlin",
                (date("2026-12-24"), 700),
                (date("2026-12-24"), 600)
            ),
            Err(ScheduleError::BadHours(700, 600))
        );
    }

    #[test]
    fn all_day_hours_admit_a_window_across_midnight_and_split_hours_do_not() {
        let all_day = |days: Vec<u8>| WeeklyHours {
            time_zone: "Europe/Berlin".into(),
            days,
            from_minute: 0,
            until_minute: 1440,
        };
        // 23:05 to 01:05 in Berlin, Friday into Saturday (2026-12-04/05).
        let across = TimeWindow::new(utc("2026-12-04T22:05:00Z"), utc("2026-12-05T00:05:00Z"));
        assert!(all_day((1..=7).collect()).contains_window(&across));
        assert!(
            !all_day(vec![5]).contains_window(&across),
            "Saturday is not allowed"
        );
        assert!(
            !all_day(vec![6]).contains_window(&across),
            "Friday is not allowed"
        );
        // A week of every day, all day, is one span; a year's window is too long for
        // any policy but is still judged, not looped over for ever.
        let week = TimeWindow::new(utc("2026-12-01T00:00:00Z"), utc("2026-12-08T00:00:00Z"));
        assert!(all_day((1..=7).collect()).contains_window(&week));
        let ages = TimeWindow::new(utc("2026-01-01T00:00:00Z"), utc("2030-01-01T00:00:00Z"));
        assert!(!all_day((1..=7).collect()).contains_window(&ages));
        // Hours that stop before midnight never join two days.
        let mut evenings = all_day((1..=7).collect());
        evenings.from_minute = 18 * 60;
        evenings.until_minute = 23 * 60 + 59;
        let late = TimeWindow::new(utc("2026-12-04T22:30:00Z"), utc("2026-12-04T23:10:00Z"));
        assert!(!evenings.contains_window(&late));
        // Across the autumn change (Berlin, 2026-10-25: 03:00 back to 02:00).
        let autumn = TimeWindow::new(utc("2026-10-24T21:00:00Z"), utc("2026-10-25T03:00:00Z"));
        assert!(all_day((1..=7).collect()).contains_window(&autumn));
    }

    #[test]
    fn bad_schedules_name_the_field() {
        let mut hours = berlin_weekdays_9_to_12();
        hours.time_zone = "Mars/Olympus".into();
        assert!(
            hours
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("time_zone")
        );
        let mut hours = berlin_weekdays_9_to_12();
        hours.days = vec![8];
        assert!(
            hours
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("days")
        );
        let mut hours = berlin_weekdays_9_to_12();
        hours.until_minute = 60;
        assert!(
            hours
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("from_minute")
        );
    }
}

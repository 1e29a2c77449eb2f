//! Schedules as people type them: `mon-fri`, `08:00-12:00`, `2026-12-24T10:00:00+01:00`.

use chrono::DateTime;
use doorstep_proto::{TimeWindow, Timestamp, WeeklyHours};

use crate::error::{CoreError, CoreResult};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Weekdays (1 = Monday … 7 = Sunday) from `mon-fri`, `sat,sun`, `daily`.
pub fn parse_days(text: &str) -> CoreResult<Vec<u8>> {
    let day = |name: &str| -> CoreResult<u8> {
        let name = name.trim().to_lowercase();
        DAYS.iter()
            .position(|d| name.starts_with(d) && !name.is_empty())
            .and_then(|i| u8::try_from(i + 1).ok())
            .ok_or_else(|| {
                CoreError::Invalid(format!(
                    "days: {name:?} is not a weekday (mon, tue, wed, thu, fri, sat, sun)"
                ))
            })
    };
    let text = text.trim().to_lowercase();
    if text == "daily" || text == "every day" {
        return Ok((1..=7).collect());
    }
    let mut days = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from)?, day(to)?);
                if from > to {
                    return Err(CoreError::Invalid(format!(
                        "days: {part:?} runs backwards; write e.g. mon-fri"
                    )));
                }
                days.extend(from..=to);
            }
            None => days.push(day(part)?),
        }
    }
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

/// Minutes after midnight from `08:00-12:30`.
pub fn parse_hours(text: &str) -> CoreResult<(u16, u16)> {
    let bad = || CoreError::Invalid(format!("hours: {text:?} is not like 08:00-12:30"));
    let minute = |t: &str| -> CoreResult<u16> {
        let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if m >= 60 || h > 24 || (h == 24 && m > 0) {
            return Err(bad());
        }
        Ok(h * 60 + m)
    };
    let (from, until) = text.split_once('-').ok_or_else(bad)?;
    Ok((minute(from)?, minute(until)?))
}

/// Weekly hours in `time_zone`, validated.
pub fn weekly(days: &str, hours: &str, time_zone: &str) -> CoreResult<WeeklyHours> {
    let (from_minute, until_minute) = parse_hours(hours)?;
    let weekly = WeeklyHours {
        time_zone: time_zone.to_owned(),
        days: parse_days(days)?,
        from_minute,
        until_minute,
    };
    weekly
        .validate()
        .map_err(|e| CoreError::Invalid(e.to_string()))?;
    Ok(weekly)
}

/// An instant from RFC 3339 (`2026-12-24T10:00:00+01:00`).
pub fn parse_instant(text: &str) -> CoreResult<Timestamp> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| Timestamp(t.timestamp_millis()))
        .map_err(|e| {
            CoreError::Invalid(format!(
                "{text:?} is not a time like 2026-12-24T10:00:00+01:00 ({e})"
            ))
        })
}

/// A one-time window from two RFC 3339 instants.
pub fn once(from: &str, until: &str) -> CoreResult<TimeWindow> {
    let window = TimeWindow::new(parse_instant(from)?, parse_instant(until)?);
    if !window.is_valid() {
        return Err(CoreError::Invalid(
            "the window ends before it starts".into(),
        ));
    }
    Ok(window)
}

/// The longest one-time visit: a guest who comes for longer comes every week.
pub const LONGEST_ONE_TIME_VISIT_DAYS: i64 = 31;

/// A one-time visit from `first_day` at the start of `hours` until `last_day` at its
/// end (`2026-12-24`, `2026-12-26`, `18:00-20:00`: Thursday 18:00 until Saturday
/// 20:00), wall times in `time_zone`: what the app's one-time editor sends.
pub fn once_between(
    first_day: &str,
    last_day: &str,
    hours: &str,
    time_zone: &str,
) -> CoreResult<TimeWindow> {
    let day = |text: &str, which: &str| {
        if text.trim().is_empty() {
            return Err(CoreError::Invalid(format!(
                "choose the {which} day of the one-time visit"
            )));
        }
        chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|e| CoreError::Invalid(format!("{text:?} is not a day like 2026-12-24 ({e})")))
    };
    let (first, last) = (day(first_day, "first")?, day(last_day, "last")?);
    let (from_minute, until_minute) = parse_hours(hours)?;
    if last < first {
        return Err(CoreError::Invalid(format!(
            "the visit ends before it starts: from {first} until {last}"
        )));
    }
    if (last - first).num_days() > LONGEST_ONE_TIME_VISIT_DAYS {
        return Err(CoreError::Invalid(format!(
            "a one-time visit lasts at most {LONGEST_ONE_TIME_VISIT_DAYS} days; a guest who comes for longer can come every week"
        )));
    }
    doorstep_proto::window_between(time_zone, (first, from_minute), (last, until_minute))
        .map_err(|e| CoreError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_time_visit_over_days_is_one_window_and_mistakes_are_sentences() {
        let weekend =
            once_between("2026-12-24", "2026-12-26", "18:00-20:00", "Europe/Berlin").unwrap();
        assert_eq!(
            weekend.not_after.0 - weekend.not_before.0,
            (2 * 24 + 2) * 3_600_000 - 1
        );
        // On a later day, the end may be earlier in the day than the start.
        assert!(once_between("2026-12-24", "2026-12-25", "18:00-09:00", "Europe/Berlin").is_ok());
        let backwards = once_between("2026-12-26", "2026-12-24", "10:00-12:00", "Europe/Berlin")
            .unwrap_err()
            .to_string();
        assert!(backwards.contains("ends before it starts"), "{backwards}");
        let long = once_between("2026-12-01", "2027-02-01", "10:00-12:00", "Europe/Berlin")
            .unwrap_err()
            .to_string();
        assert!(long.contains("at most 31 days"), "{long}");
        let missing = once_between("2026-12-24", " ", "10:00-12:00", "Europe/Berlin")
            .unwrap_err()
            .to_string();
        assert!(missing.contains("last day"), "{missing}");
    }

    #[test]
    fn days_and_hours_read_the_way_people_write_them() {
        assert_eq!(parse_days("mon-fri").unwrap(), vec![1, 2, 3, 4, 5]);
        assert_eq!(parse_days("Sat, sun").unwrap(), vec![6, 7]);
        assert_eq!(parse_days("daily").unwrap().len(), 7);
        assert_eq!(parse_hours("08:00-12:30").unwrap(), (480, 750));
        assert!(parse_days("fri-mon").is_err());
        assert!(
            parse_days("funday")
                .unwrap_err()
                .to_string()
                .contains("funday")
        );
        assert!(parse_hours("8-12").is_err());
        assert!(parse_hours("08:75-09:00").is_err());
        assert!(weekly("mon", "12:00-08:00", "UTC").is_err());
        assert!(weekly("mon", "08:00-12:00", "Mars/Base").is_err());
        let once =
            once_between("2026-12-24", "2026-12-24", "10:00-12:00", "Europe/Berlin").unwrap();
        assert_eq!(
            once.not_before,
            parse_instant("2026-12-24T10:00:00+01:00").unwrap()
        );
        assert!(
            once_between("24.12.2026", "24.12.2026", "10:00-12:00", "Europe/Berlin")
                .unwrap_err()
                .to_string()
                .contains("24.12.2026")
        );
    }

    #[test]
    fn a_one_time_window_needs_an_order() {
        assert!(once("2026-12-24T10:00:00+01:00", "2026-12-24T12:00:00+01:00").is_ok());
        assert!(once("2026-12-24T12:00:00+01:00", "2026-12-24T10:00:00+01:00").is_err());
        assert!(parse_instant("tomorrow").is_err());
    }
}

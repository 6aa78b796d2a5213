//! The proleptic Gregorian calendar in UTC, on the epoch counts the arrays hold (days for
//! DATE, milliseconds for TIME and TIMESTAMP).

use crate::input::datetime;

pub(super) const MILLIS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a date (the input module's algorithm, with this module's types).
pub(super) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    datetime::days_from_civil(year, i64::from(month), i64::from(day))
}

/// `(year, month, day)` of days since 1970-01-01.
pub(super) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let (year, month, day) = datetime::civil_from_days(days);
    (year, month as u32, day as u32)
}

pub(super) fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub(super) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Day of the week, 1 = Monday ... 7 = Sunday (1970-01-01 was a Thursday).
pub(super) fn iso_weekday(days: i64) -> u32 {
    ((days + 3).rem_euclid(7) + 1) as u32
}

/// Day of the year, 1-based.
pub(super) fn day_of_year(days: i64) -> u32 {
    let (year, _, _) = civil_from_days(days);
    (days - days_from_civil(year, 1, 1) + 1) as u32
}

/// The broken-down fields of a TIMESTAMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fields {
    pub days: i64,
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millisecond: u32,
}

pub(super) fn fields(millis: i64) -> Fields {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let of_day = millis.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    Fields {
        days,
        year,
        month,
        day,
        hour: (of_day / 3_600_000) as u32,
        minute: (of_day / 60_000 % 60) as u32,
        second: (of_day / 1000 % 60) as u32,
        millisecond: (of_day % 1000) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip_across_eras() {
        for days in [-800_000, -1, 0, 1, 19_782, 2_932_896] {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days, "{days}");
        }
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(iso_weekday(0), 4);
        assert_eq!(day_of_year(days_from_civil(2024, 12, 31)), 366);
        assert_eq!(days_in_month(1900, 2), 28);
        let broken = fields(1_709_209_805_123);
        assert_eq!(
            (
                broken.year,
                broken.month,
                broken.day,
                broken.hour,
                broken.minute
            ),
            (2024, 2, 29, 12, 30)
        );
        assert_eq!((broken.second, broken.millisecond), (5, 123));
        assert_eq!(fields(-1).year, 1969);
    }
}

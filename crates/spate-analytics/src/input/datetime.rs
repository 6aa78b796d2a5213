//! Text forms of DATE, TIME and TIMESTAMP values, read and written without a time-zone (the
//! SQL reference: the system clock is UTC and time zones are not considered).
//!
//! Read: `YYYY-MM-DD`, `HH:MM:SS[.fraction]`, and `YYYY-MM-DD HH:MM:SS[.fraction]`, the SQL
//! literal forms. Unverified: the ISO 8601 spelling with `T` between date and time and a
//! trailing `Z` is accepted for TIMESTAMP too, as producers often write it in JSON. The fraction
//! keeps milliseconds (the reference gives TIME and TIMESTAMP millisecond precision); further
//! digits are dropped.

const MILLIS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = digits(&text[0..4])?;
    let month = digits(&text[5..7])?;
    let day = digits(&text[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    i32::try_from(days_from_civil(year, month, day)).ok()
}

/// Milliseconds since midnight of an `HH:MM:SS[.fraction]` time.
pub fn parse_time(text: &str) -> Option<u32> {
    let (clock, fraction) = match text.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (text, None),
    };
    let bytes = clock.as_bytes();
    if bytes.len() != 8 || bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    let hour = digits(&clock[0..2])?;
    let minute = digits(&clock[3..5])?;
    let second = digits(&clock[6..8])?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut millis = 0;
    if let Some(fraction) = fraction {
        if fraction.is_empty() || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let mut scale = 100;
        for byte in fraction.bytes().take(3) {
            millis += u32::from(byte - b'0') * scale;
            scale /= 10;
        }
    }
    Some(((hour * 60 + minute) * 60 + second) as u32 * 1000 + millis)
}

/// Milliseconds since 1970-01-01 00:00:00 of a `YYYY-MM-DD HH:MM:SS[.fraction]` timestamp.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    if text.len() < 19 || !text.is_char_boundary(10) || !text.is_char_boundary(11) {
        return None;
    }
    let separator = text.as_bytes()[10];
    if separator != b' ' && separator != b'T' {
        return None;
    }
    let days = parse_date(&text[..10])?;
    let mut time = &text[11..];
    if separator == b'T' {
        time = time.strip_suffix('Z').unwrap_or(time);
    }
    let millis = parse_time(time)?;
    Some(i64::from(days) * MILLIS_PER_DAY + i64::from(millis))
}

/// `YYYY-MM-DD` of days since the epoch.
pub fn format_date(days: i32) -> String {
    let (year, month, day) = civil_from_days(i64::from(days));
    format!("{year:04}-{month:02}-{day:02}")
}

/// `HH:MM:SS.mmm` of milliseconds since midnight.
pub fn format_time(millis: u32) -> String {
    let seconds = millis / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        millis % 1000
    )
}

/// `YYYY-MM-DD HH:MM:SS.mmm` of milliseconds since the epoch.
pub fn format_timestamp(millis: i64) -> String {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let time = u32::try_from(millis.rem_euclid(MILLIS_PER_DAY)).expect("below one day");
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {}", format_time(time))
}

fn digits(text: &str) -> Option<i64> {
    if text.bytes().all(|byte| byte.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `days_from_civil`: days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of `days_from_civil`.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_the_sql_literal_forms() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_time("00:00:00"), Some(0));
        assert_eq!(parse_time("23:59:59.999"), Some(86_399_999));
        assert_eq!(parse_time("12:30:05.5"), Some(45_005_500));
        assert_eq!(
            parse_timestamp("2024-02-29 12:30:05.123"),
            Some(1_709_209_805_123)
        );
        assert_eq!(
            parse_timestamp("2024-02-29T12:30:05.123456Z"),
            Some(1_709_209_805_123)
        );
        assert_eq!(
            format_timestamp(1_709_209_805_123),
            "2024-02-29 12:30:05.123"
        );
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999");
        assert_eq!(format_date(19_782), "2024-02-29");
        assert_eq!(format_time(45_005_500), "12:30:05.500");
    }

    #[test]
    fn rejects_impossible_or_malformed_values() {
        for text in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-01x",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
        for text in ["24:00:00", "12:60:00", "12:00", "12:00:00.", "12:00:00.1a"] {
            assert_eq!(parse_time(text), None, "{text}");
        }
        for text in [
            "2024-01-01",
            "2024-01-01 25:00:00",
            "2024-01-01X12:00:00",
            "yesterday",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
        // `Z` only with the ISO `T` spelling.
        assert_eq!(parse_timestamp("2024-01-01 12:00:00Z"), None);
    }
}

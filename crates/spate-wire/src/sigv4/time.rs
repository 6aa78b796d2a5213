//! The `X-Amz-Date` timestamp (`YYYYMMDD'T'HHMMSS'Z'`, UTC) written from and read into seconds
//! since the Unix epoch, with the civil-calendar arithmetic done here rather than by a date crate:
//! SigV4 needs nothing else from one.

use std::time::{SystemTime, UNIX_EPOCH};

/// An `X-Amz-Date` value: 16 ASCII bytes, `20150830T123600Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmzDate {
    text: [u8; 16],
    epoch_seconds: i64,
}

impl AmzDate {
    /// The timestamp of `time`, truncated to the second.
    pub fn from_system_time(time: SystemTime) -> Self {
        let epoch_seconds = match time.duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
        };
        Self::from_epoch_seconds(epoch_seconds)
    }

    /// The timestamp `epoch_seconds` after 1970-01-01T00:00:00Z. Years outside 0..=9999 are
    /// clamped to that range's ends, which no SigV4 signature can carry anyway.
    pub fn from_epoch_seconds(epoch_seconds: i64) -> Self {
        const MIN: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
        const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
        let epoch_seconds = epoch_seconds.clamp(MIN, MAX);
        let days = epoch_seconds.div_euclid(86_400);
        let second_of_day = epoch_seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let mut text = *b"00000000T000000Z";
        write_digits(&mut text[0..4], year as u32);
        write_digits(&mut text[4..6], month);
        write_digits(&mut text[6..8], day);
        write_digits(&mut text[9..11], (second_of_day / 3600) as u32);
        write_digits(&mut text[11..13], (second_of_day / 60 % 60) as u32);
        write_digits(&mut text[13..15], (second_of_day % 60) as u32);
        Self {
            text,
            epoch_seconds,
        }
    }

    /// Reads `20150830T123600Z`; None for anything else, including impossible dates.
    pub fn parse(value: &str) -> Option<Self> {
        let bytes = value.as_bytes();
        if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let digits = &bytes[range];
            digits.iter().try_fold(0u32, |acc, &byte| {
                byte.is_ascii_digit()
                    .then(|| acc * 10 + u32::from(byte - b'0'))
            })
        };
        let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
        let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return None;
        }
        let days = days_from_civil(i64::from(year), month, day);
        let epoch_seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
        Some(Self::from_epoch_seconds(epoch_seconds))
    }

    /// The whole timestamp, `20150830T123600Z`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).expect("an AmzDate is ASCII digits, 'T' and 'Z'")
    }

    /// The date part that credential scopes carry, `20150830`.
    pub fn date(&self) -> &str {
        &self.as_str()[..8]
    }

    /// Seconds since the Unix epoch.
    pub fn epoch_seconds(&self) -> i64 {
        self.epoch_seconds
    }
}

impl std::fmt::Display for AmzDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes `value` as exactly `out.len()` decimal digits, zero-padded.
fn write_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn is_leap_year(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil" algorithm: years
/// counted from March, in 400-year eras).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(AmzDate::from_epoch_seconds(0).as_str(), "19700101T000000Z");
        assert_eq!(
            AmzDate::from_epoch_seconds(1_440_938_160).as_str(),
            "20150830T123600Z"
        );
        // The leap day of a year divisible by 400.
        assert_eq!(
            AmzDate::from_epoch_seconds(951_782_400).as_str(),
            "20000229T000000Z"
        );
        assert_eq!(AmzDate::from_epoch_seconds(-1).as_str(), "19691231T235959Z");
    }

    #[test]
    fn the_date_part_is_the_first_eight_characters() {
        assert_eq!(
            AmzDate::from_epoch_seconds(1_440_938_160).date(),
            "20150830"
        );
    }

    #[test]
    fn rejects_malformed_and_impossible_timestamps() {
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "2015083OT123600Z",
            "20150230T000000Z",
            "20190229T000000Z",
            "20151301T000000Z",
            "20150830T240000Z",
            "20150830T126000Z",
            "2015-08-30T12:36:00Z",
        ] {
            assert_eq!(AmzDate::parse(bad), None, "{bad:?}");
        }
        assert!(AmzDate::parse("20240229T000000Z").is_some());
    }

    proptest! {
        #[test]
        fn parse_reads_what_formatting_wrote(seconds in 0i64..253_402_300_799) {
            let written = AmzDate::from_epoch_seconds(seconds);
            let read = AmzDate::parse(written.as_str());
            prop_assert_eq!(read, Some(written));
            prop_assert_eq!(written.epoch_seconds(), seconds);
        }
    }
}

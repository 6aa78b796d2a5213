//! Date and time patterns in the style of Java's `SimpleDateFormat`, which the reference's
//! "Date and Time Patterns" page describes, for CHAR_TO_TIMESTAMP and TIMESTAMP_TO_CHAR and
//! their DATE and TIME siblings.
//!
//! Supported letters: `y` (year; `yy` two digits), `Y` (taken as `y`; Unverified: Java's week
//! year differs around New Year), `M` (month: `M`/`MM` number, `MMM` short name, `MMMM` full
//! name), `d`, `D` (day of year), `E` (day name), `u` (day number, 1 = Monday), `a` (AM/PM),
//! `H` (0-23), `k` (1-24), `K` (0-11), `h` (1-12), `m`, `s`, `S` (milliseconds), `z`, `Z`, `X`
//! (time zones: always UTC when formatting; offsets are applied when parsing). Text in single
//! quotes is literal (`''` is a quote); other characters that are not letters are literal.
//! The letters `G`, `w`, `W`, `F` are refused.
//!
//! Parsing follows `SimpleDateFormat` with leniency off, as the reference's examples imply
//! (`'2011-2-8'` with `'M-d'` gives no result because 2011 is no month): fields missing from the
//! pattern take 1970-01-01 00:00:00.000; text after the pattern's end is ignored (`'yyyy-mm'`
//! reads `'2011-02-08 07:23:19'` as 2011-01-01 00:02:00, the reference's example). Unverified,
//! taken from `SimpleDateFormat`'s documented behaviour rather than from Kinesis Data
//! Analytics: numbers take as many digits as there are unless the next field is a number too
//! (then exactly as many as the letter is repeated), and spaces before a field are skipped.

use super::calendar::{
    MILLIS_PER_DAY, civil_from_days, day_of_year, days_from_civil, days_in_month, fields,
    iso_weekday,
};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(String),
    Field { letter: char, count: usize },
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pattern {
    items: Vec<Item>,
}

impl Pattern {
    pub(super) fn compile(pattern: &str) -> Result<Pattern, String> {
        let mut items = Vec::new();
        let mut literal = String::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    literal.push('\'');
                    continue;
                }
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            literal.push('\'');
                        }
                        Some('\'') => break,
                        Some(other) => literal.push(other),
                        None => return Err(format!("unterminated quote in pattern {pattern:?}")),
                    }
                }
            } else if c.is_ascii_alphabetic() {
                if !"yYMLdDEuaHkKhmsSzZX".contains(c) {
                    return Err(format!("illegal pattern character '{c}'"));
                }
                let mut count = 1;
                while chars.peek() == Some(&c) {
                    chars.next();
                    count += 1;
                }
                if !literal.is_empty() {
                    items.push(Item::Literal(std::mem::take(&mut literal)));
                }
                let letter = match c {
                    'Y' => 'y',
                    'L' => 'M',
                    other => other,
                };
                items.push(Item::Field { letter, count });
            } else {
                literal.push(c);
            }
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        Ok(Pattern { items })
    }

    /// The text of a TIMESTAMP (milliseconds since the epoch, UTC).
    pub(super) fn format(&self, millis: i64, out: &mut String) {
        let broken = fields(millis);
        for item in &self.items {
            let (letter, count) = match item {
                Item::Literal(text) => {
                    out.push_str(text);
                    continue;
                }
                Item::Field { letter, count } => (*letter, *count),
            };
            let number = |out: &mut String, value: i64| push_padded(out, value, count);
            match letter {
                'y' if count == 2 => number(out, broken.year.rem_euclid(100)),
                'y' => number(out, broken.year),
                'M' if count >= 4 => out.push_str(MONTHS[broken.month as usize - 1]),
                'M' if count == 3 => out.push_str(&MONTHS[broken.month as usize - 1][..3]),
                'M' => number(out, i64::from(broken.month)),
                'd' => number(out, i64::from(broken.day)),
                'D' => number(out, i64::from(day_of_year(broken.days))),
                'E' => {
                    let name = DAYS[iso_weekday(broken.days) as usize - 1];
                    out.push_str(if count >= 4 { name } else { &name[..3] });
                }
                'u' => number(out, i64::from(iso_weekday(broken.days))),
                'a' => out.push_str(if broken.hour < 12 { "AM" } else { "PM" }),
                'H' => number(out, i64::from(broken.hour)),
                'k' => number(
                    out,
                    i64::from(if broken.hour == 0 { 24 } else { broken.hour }),
                ),
                'K' => number(out, i64::from(broken.hour % 12)),
                'h' => number(
                    out,
                    i64::from(if broken.hour.is_multiple_of(12) {
                        12
                    } else {
                        broken.hour % 12
                    }),
                ),
                'm' => number(out, i64::from(broken.minute)),
                's' => number(out, i64::from(broken.second)),
                'S' => number(out, i64::from(broken.millisecond)),
                'z' => out.push_str("UTC"),
                'Z' => out.push_str("+0000"),
                _ => out.push('Z'),
            }
        }
    }

    /// Milliseconds since the epoch (UTC) of `text`, or why it does not match.
    pub(super) fn parse(&self, text: &str) -> Result<i64, String> {
        let mut at = 0;
        let bytes = text.as_bytes();
        let mut year: i64 = 1970;
        let mut month: Option<u32> = None;
        let mut day: Option<u32> = None;
        let mut day_number: Option<u32> = None;
        let mut hour_of_day: Option<u32> = None;
        let mut hour_of_half: Option<u32> = None;
        let mut pm: Option<bool> = None;
        let (mut minute, mut second, mut millisecond) = (0u32, 0u32, 0u32);
        let mut offset_minutes: i64 = 0;
        for (index, item) in self.items.iter().enumerate() {
            let (letter, count) = match item {
                Item::Literal(literal) => {
                    if !text[at..].starts_with(literal.as_str()) {
                        return Err(format!("expected {literal:?} at position {}", at + 1));
                    }
                    at += literal.len();
                    continue;
                }
                Item::Field { letter, count } => (*letter, *count),
            };
            while at < bytes.len() && bytes[at] == b' ' {
                at += 1;
            }
            let numeric = |letter: char, count: usize| -> bool {
                !(matches!(letter, 'E' | 'a' | 'z' | 'Z' | 'X') || (letter == 'M' && count >= 3))
            };
            if numeric(letter, count) {
                let abutting = matches!(
                    self.items.get(index + 1),
                    Some(Item::Field { letter, count }) if numeric(*letter, *count)
                );
                let start = at;
                while at < bytes.len()
                    && bytes[at].is_ascii_digit()
                    && (!abutting || at - start < count)
                    && at - start < 10
                {
                    at += 1;
                }
                if at == start {
                    return Err(format!("expected a number at position {}", start + 1));
                }
                let value: u32 = text[start..at]
                    .parse()
                    .map_err(|_| format!("number too large at position {}", start + 1))?;
                let digits = at - start;
                let out_of_range = || format!("{value} is out of range for '{letter}'");
                match letter {
                    // `yy` reads two digits as a year in 1950..2049 (Unverified: Java uses a
                    // window around the current date); `y` reads '10' as the year 10, as the
                    // reference's example shows.
                    'y' if count == 2 && digits == 2 => {
                        year = if value < 50 { 2000 } else { 1900 } + i64::from(value);
                    }
                    'y' => year = i64::from(value),
                    'M' if (1..=12).contains(&value) => month = Some(value),
                    'd' if (1..=31).contains(&value) => day = Some(value),
                    'D' if (1..=366).contains(&value) => day_number = Some(value),
                    'u' if (1..=7).contains(&value) => {}
                    'H' if value <= 23 => hour_of_day = Some(value),
                    'k' if (1..=24).contains(&value) => hour_of_day = Some(value % 24),
                    'K' if value <= 11 => hour_of_half = Some(value),
                    'h' if (1..=12).contains(&value) => hour_of_half = Some(value % 12),
                    'm' if value <= 59 => minute = value,
                    's' if value <= 59 => second = value,
                    'S' if value <= 999 => millisecond = value,
                    _ => return Err(out_of_range()),
                }
                continue;
            }
            let rest = &text[at..];
            match letter {
                'M' => {
                    let (number, length) = match_name(rest, &MONTHS)
                        .ok_or_else(|| format!("expected a month name at position {}", at + 1))?;
                    month = Some(number);
                    at += length;
                }
                'E' => {
                    let (_, length) = match_name(rest, &DAYS)
                        .ok_or_else(|| format!("expected a day name at position {}", at + 1))?;
                    at += length;
                }
                'a' => {
                    let marker = rest.get(..2).map(str::to_ascii_uppercase);
                    match marker.as_deref() {
                        Some("AM") => pm = Some(false),
                        Some("PM") => pm = Some(true),
                        _ => return Err(format!("expected AM or PM at position {}", at + 1)),
                    }
                    at += 2;
                }
                _ => {
                    let (offset, length) = parse_zone(rest)
                        .ok_or_else(|| format!("expected a time zone at position {}", at + 1))?;
                    offset_minutes = offset;
                    at += length;
                }
            }
        }
        let month_value = month.unwrap_or(1);
        let date = match (day_number, month, day) {
            (Some(number), None, None) => {
                let first = days_from_civil(year, 1, 1);
                let days = first + i64::from(number) - 1;
                if civil_from_days(days).0 != year {
                    return Err(format!("day {number} is not in {year}"));
                }
                days
            }
            _ => {
                let day_value = day.unwrap_or(1);
                if day_value > days_in_month(year, month_value) {
                    return Err(format!("{year}-{month_value:02} has no day {day_value}"));
                }
                days_from_civil(year, month_value, day_value)
            }
        };
        let hour = match (hour_of_day, hour_of_half) {
            (Some(hour), _) => hour,
            (None, Some(hour)) => hour + if pm == Some(true) { 12 } else { 0 },
            (None, None) => 0,
        };
        let time = ((i64::from(hour) * 60 + i64::from(minute)) * 60 + i64::from(second)) * 1000
            + i64::from(millisecond);
        date.checked_mul(MILLIS_PER_DAY)
            .and_then(|millis| millis.checked_add(time - offset_minutes * 60_000))
            .ok_or_else(|| format!("year {year} is out of range"))
    }
}

/// `value` in decimal, zero-padded to `width` characters (a minus sign counts), as
/// `format!("{value:0width$}")` writes it but without the formatting machinery, which made
/// TIMESTAMP_TO_CHAR several times slower.
fn push_padded(out: &mut String, value: i64, width: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let length = digits.len() - at + usize::from(value < 0);
    if value < 0 {
        out.push('-');
    }
    for _ in length..width {
        out.push('0');
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// The 1-based index and matched length of a full or three-letter name at the start of `text`,
/// ignoring case.
fn match_name(text: &str, names: &[&str]) -> Option<(u32, usize)> {
    let starts = |name: &str| {
        text.len() >= name.len()
            && text.is_char_boundary(name.len())
            && text[..name.len()].eq_ignore_ascii_case(name)
    };
    for (index, name) in names.iter().enumerate() {
        if starts(name) {
            return Some((index as u32 + 1, name.len()));
        }
    }
    for (index, name) in names.iter().enumerate() {
        if starts(&name[..3]) {
            return Some((index as u32 + 1, 3));
        }
    }
    None
}

/// A time zone as UTC offset minutes: `Z`, `UTC`, `GMT`, `+hh`, `+hhmm`, `+hh:mm` (and `UTC` or
/// `GMT` followed by an offset). Named zones other than UTC and GMT are not known.
fn parse_zone(text: &str) -> Option<(i64, usize)> {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b'Z') {
        return Some((0, 1));
    }
    let mut at = 0;
    for prefix in ["UTC", "GMT"] {
        if text
            .get(..3)
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
        {
            at = 3;
        }
    }
    let sign = match bytes.get(at) {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ if at > 0 => return Some((0, at)),
        _ => return None,
    };
    at += 1;
    let two = |from: usize| -> Option<i64> {
        let digits = text.get(from..from + 2)?;
        if digits.bytes().all(|byte| byte.is_ascii_digit()) {
            digits.parse().ok()
        } else {
            None
        }
    };
    let hours = two(at)?;
    at += 2;
    let mut minutes = 0;
    if bytes.get(at) == Some(&b':') {
        minutes = two(at + 1)?;
        at += 3;
    } else if let Some(value) = two(at) {
        minutes = value;
        at += 2;
    }
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((sign * (hours * 60 + minutes), at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::datetime::{format_timestamp, parse_timestamp};

    fn parse(pattern: &str, text: &str) -> Result<String, String> {
        let pattern = Pattern::compile(pattern)?;
        pattern.parse(text).map(format_timestamp)
    }

    fn format(pattern: &str, timestamp: &str) -> String {
        let millis = parse_timestamp(timestamp).expect("a valid timestamp");
        let mut out = String::new();
        Pattern::compile(pattern)
            .expect("a valid pattern")
            .format(millis, &mut out);
        out
    }

    #[test]
    fn parses_the_reference_template_examples() {
        let cases = [
            (
                "yyyy-MM-dd hh:mm:ss",
                "2009-09-16 03:15:24",
                "2009-09-16 03:15:24.000",
            ),
            ("yyyy-mm", "2011-02-08 07:23:19", "2011-01-01 00:02:00.000"),
            ("MMM dd, yyyy", "March 7, 2010", "2010-03-07 00:00:00.000"),
            ("MMM dd,", "March 7, 2010", "1970-03-07 00:00:00.000"),
            ("MMM dd,y", "March 7, 2010", "2010-03-07 00:00:00.000"),
            ("MMM dd,y", "March 7, 10", "0010-03-07 00:00:00.000"),
            ("M-d", "2-8", "1970-02-08 00:00:00.000"),
            (
                "MM-dd-yyyy",
                "06-23-2011 10:11:12",
                "2011-06-23 00:00:00.000",
            ),
            (
                "dd-MM-yy hh:mm:ss",
                "23-06-11 10:11:12",
                "2011-06-23 10:11:12.000",
            ),
            (
                "yyyyMMddHHmmssSSS",
                "20240229123005123",
                "2024-02-29 12:30:05.123",
            ),
            (
                "yyyy-MM-dd'T'HH:mm:ss.SSSX",
                "2024-02-29T12:30:05.123Z",
                "2024-02-29 12:30:05.123",
            ),
            (
                "yyyy-MM-dd HH:mm Z",
                "2024-02-29 12:30 +0100",
                "2024-02-29 11:30:00.000",
            ),
            ("h:mm a", "12:15 AM", "1970-01-01 00:15:00.000"),
            ("h:mm a", "1:15 pm", "1970-01-01 13:15:00.000"),
            (
                "EEE, d MMM yyyy",
                "Thu, 29 Feb 2024",
                "2024-02-29 00:00:00.000",
            ),
            ("yyyy DDD", "2024 366", "2024-12-31 00:00:00.000"),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                parse(pattern, text).as_deref(),
                Ok(expected),
                "{pattern} {text}"
            );
        }
    }

    #[test]
    fn refuses_what_does_not_match_or_is_out_of_range() {
        for (pattern, text) in [
            ("M-d", "2011-2-8"),
            ("yyyy-MM-dd", "2023-02-29"),
            ("yyyy-MM-dd", "2023/02/01"),
            ("HH:mm", "24:00"),
            ("MMM", "Smarch"),
            ("yyyy", ""),
            ("yyyyMMdd", "999999999"),
            ("y", "4294967295"),
        ] {
            parse(pattern, text).expect_err(text);
        }
        Pattern::compile("yyyy-ww").expect_err("w is not supported");
        Pattern::compile("'open").expect_err("unterminated quote");
    }

    #[test]
    fn padded_numbers_match_the_standard_formatter() {
        for value in [0, 7, -7, 42, 1999, -1999, 123_456, i64::MIN, i64::MAX] {
            for width in [0, 1, 2, 3, 4, 6] {
                let mut out = String::new();
                push_padded(&mut out, value, width);
                assert_eq!(out, format!("{value:0width$}"), "{value} {width}");
            }
        }
    }

    #[test]
    fn formats_every_supported_letter() {
        let ts = "2024-02-29 13:05:09.007";
        assert_eq!(
            format("yyyy-MM-dd HH:mm:ss.SSS", ts),
            "2024-02-29 13:05:09.007"
        );
        assert_eq!(format("yy/M/d h:m:s a", ts), "24/2/29 1:5:9 PM");
        assert_eq!(format("EEEE, MMMM d", ts), "Thursday, February 29");
        assert_eq!(format("EEE MMM D u k K S", ts), "Thu Feb 60 4 13 1 7");
        assert_eq!(
            format("'at' HH 'o''clock' z Z X", ts),
            "at 13 o'clock UTC +0000 Z"
        );
        assert_eq!(format("k", "2024-02-29 00:00:00"), "24");
    }
}

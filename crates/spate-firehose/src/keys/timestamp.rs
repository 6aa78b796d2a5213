//! `!{timestamp:...}` values: the subset of Java's `DateTimeFormatter` patterns that Spate
//! evaluates, formatted from a wall-clock time.

use std::fmt::Write as _;

use jiff::civil::{DateTime, Weekday};

/// A `!{timestamp:...}` value: a Java `DateTimeFormatter` pattern.
///
/// *Custom prefixes*: "Valid values for this namespace are strings that are valid Java
/// DateTimeFormatter strings", and "any character that isn't in single quotes is evaluated. In
/// other words, any string escaped with single quotes in the value field is taken literally."
///
/// Supported, with Java's meaning for each count of letters: `y`/`u` (year; `yy` two digits),
/// `M` (month; `MMM` `Nov`, `MMMM` `November`), `d`, `D` (day of year), `H`, `k`, `h`, `K`,
/// `m`, `s`, `S` (fraction, 1 to 9 digits), `a` (`AM`/`PM`), `E` (`Sun`, `Sunday`), quoted text
/// with `''` for a quote, and any other non-letter character as itself. Java reserves `[`, `]`,
/// `{`, `}` and `#`; they and every other letter are refused, which is stricter than AWS for
/// the letters Java has and Spate does not (e.g. `G`, `Q`, `w`, `n`, zone letters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimestampPattern {
    items: Vec<PatternItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternItem {
    Literal(String),
    Field { letter: char, count: usize },
}

impl TimestampPattern {
    pub(crate) fn parse(pattern: &str) -> Result<TimestampPattern, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut items = Vec::new();
        let mut index = 0;
        while index < chars.len() {
            let current = chars[index];
            if current == '\'' {
                let mut text = String::new();
                index += 1;
                loop {
                    match chars.get(index) {
                        None => return Err("unterminated quoted text".to_owned()),
                        Some('\'') if chars.get(index + 1) == Some(&'\'') => {
                            text.push('\'');
                            index += 2;
                        }
                        Some('\'') => {
                            index += 1;
                            break;
                        }
                        Some(other) => {
                            text.push(*other);
                            index += 1;
                        }
                    }
                }
                // `''` outside quotes is a quote; inside a quoted run it is handled above.
                if text.is_empty() {
                    text.push('\'');
                }
                items.push(PatternItem::Literal(text));
                continue;
            }
            if current.is_ascii_alphabetic() {
                let mut count = 1;
                while chars.get(index + count) == Some(&current) {
                    count += 1;
                }
                check_field(current, count)?;
                items.push(PatternItem::Field {
                    letter: current,
                    count,
                });
                index += count;
                continue;
            }
            if matches!(current, '[' | ']' | '{' | '}' | '#') {
                return Err(format!("'{current}' is reserved"));
            }
            items.push(PatternItem::Literal(current.to_string()));
            index += 1;
        }
        Ok(TimestampPattern { items })
    }

    pub(crate) fn format(&self, time: &DateTime, out: &mut String) {
        for item in &self.items {
            match item {
                PatternItem::Literal(text) => out.push_str(text),
                PatternItem::Field { letter, count } => format_field(*letter, *count, time, out),
            }
        }
    }
}

fn check_field(letter: char, count: usize) -> Result<(), String> {
    let max_count = match letter {
        'y' | 'u' => 19,
        'M' | 'E' => 5,
        'D' => 3,
        'S' => 9,
        'd' | 'H' | 'k' | 'h' | 'K' | 'm' | 's' => 2,
        'a' => 1,
        _ => return Err(format!("pattern letter '{letter}' is not supported")),
    };
    if count > max_count {
        return Err(format!("too many pattern letters: '{letter}' x{count}"));
    }
    Ok(())
}

const MONTH_NAMES: [&str; 12] = [
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

fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// Writes a name as Java's text styles do: 3 letters short, 4 full, 5 narrow.
fn push_text(name: &str, count: usize, out: &mut String) {
    match count {
        4 => out.push_str(name),
        5 => out.push_str(&name[..1]),
        _ => out.push_str(&name[..3]),
    }
}

fn push_padded(value: i64, width: usize, out: &mut String) {
    let _ = write!(out, "{value:0width$}");
}

fn format_field(letter: char, count: usize, time: &DateTime, out: &mut String) {
    let hour = i64::from(time.hour());
    match letter {
        'y' | 'u' => {
            let year = i64::from(time.year());
            if count == 2 {
                push_padded(year.rem_euclid(100), 2, out);
            } else {
                push_padded(year, count, out);
            }
        }
        'M' if count >= 3 => {
            let name = MONTH_NAMES[usize::try_from(time.month() - 1).expect("month is 1 to 12")];
            push_text(name, count, out);
        }
        'M' => push_padded(i64::from(time.month()), count, out),
        'E' => push_text(weekday_name(time.weekday()), count, out),
        'd' => push_padded(i64::from(time.day()), count, out),
        'D' => push_padded(i64::from(time.day_of_year()), count, out),
        'H' => push_padded(hour, count, out),
        'k' => push_padded(if hour == 0 { 24 } else { hour }, count, out),
        'K' => push_padded(hour % 12, count, out),
        'h' => push_padded(if hour % 12 == 0 { 12 } else { hour % 12 }, count, out),
        'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
        'm' => push_padded(i64::from(time.minute()), count, out),
        's' => push_padded(i64::from(time.second()), count, out),
        'S' => {
            let nanos = i64::from(time.subsec_nanosecond());
            let digits = u32::try_from(count).expect("at most 9 fraction digits");
            push_padded(nanos / 10_i64.pow(9 - digits), count, out);
        }
        _ => unreachable!("check_field admits only the letters above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_pattern_letter() {
        let cases = [
            ("yyyy", "2026"),
            ("uuuu", "2026"),
            ("yy", "26"),
            ("y", "2026"),
            ("yyyyy", "02026"),
            ("MM", "11"),
            ("M", "11"),
            ("MMM", "Nov"),
            ("MMMM", "November"),
            ("MMMMM", "N"),
            ("dd", "22"),
            ("d", "22"),
            ("D", "326"),
            ("DDD", "326"),
            ("HH", "10"),
            ("H", "10"),
            ("kk", "10"),
            ("hh", "10"),
            ("KK", "10"),
            ("a", "AM"),
            ("mm", "05"),
            ("m", "5"),
            ("ss", "03"),
            ("s", "3"),
            ("SSS", "123"),
            ("S", "1"),
            ("SSSSSS", "123000"),
            ("EEE", "Sun"),
            ("E", "Sun"),
            ("EEEE", "Sunday"),
            ("yyyy/MM/dd/HH/", "2026/11/22/10/"),
            ("yyyy-MM-dd'T'HH:mm:ss.SSS", "2026-11-22T10:05:03.123"),
        ];
        let time = "2026-11-22T10:05:03.123"
            .parse::<DateTime>()
            .expect("a valid time");
        for (pattern, expected) in cases {
            let parsed = TimestampPattern::parse(pattern).expect(pattern);
            let mut out = String::new();
            parsed.format(&time, &mut out);
            assert_eq!(out, expected, "pattern {pattern}");
        }
    }

    #[test]
    fn twelve_hour_fields_around_midnight_and_noon() {
        let cases = [
            ("2026-11-22T00:30", "hh a kk KK", "12 AM 24 00"),
            ("2026-11-22T12:30", "hh a kk KK", "12 PM 12 00"),
            ("2026-11-22T23:30", "h a k K", "11 PM 23 11"),
        ];
        for (time, pattern, expected) in cases {
            let time = time.parse::<DateTime>().expect("a valid time");
            let mut out = String::new();
            TimestampPattern::parse(pattern)
                .expect(pattern)
                .format(&time, &mut out);
            assert_eq!(out, expected, "pattern {pattern} at {time}");
        }
    }

    #[test]
    fn quoted_text_is_literal() {
        let cases = [
            ("'year='yyyy'/month='MM", "year=2026/month=11"),
            ("'yyyy'", "yyyy"),
            ("''", "'"),
            ("'it''s' HH", "it's 10"),
            ("yyyy''MM", "2026'11"),
        ];
        let time = "2026-11-22T10:05:03"
            .parse::<DateTime>()
            .expect("a valid time");
        for (pattern, expected) in cases {
            let mut out = String::new();
            TimestampPattern::parse(pattern)
                .expect(pattern)
                .format(&time, &mut out);
            assert_eq!(out, expected, "pattern {pattern}");
        }
    }

    #[test]
    fn unsupported_patterns_are_refused() {
        let cases = [
            ("G", "pattern letter 'G' is not supported"),
            ("ww", "pattern letter 'w' is not supported"),
            ("VV", "pattern letter 'V' is not supported"),
            ("ddd", "too many pattern letters: 'd' x3"),
            ("HHH", "too many pattern letters: 'H' x3"),
            ("aa", "too many pattern letters: 'a' x2"),
            ("SSSSSSSSSS", "too many pattern letters: 'S' x10"),
            ("yyyy[MM]", "'[' is reserved"),
            ("#", "'#' is reserved"),
            ("'open", "unterminated quoted text"),
        ];
        for (pattern, reason) in cases {
            assert_eq!(
                TimestampPattern::parse(pattern),
                Err(reason.to_owned()),
                "pattern {pattern}"
            );
        }
    }
}

//! The text a strftime(3) format writes, as a regular expression: W3C_LOG_PARSE's
//! `%{format}t` specifier finds its time in a line with it.
//!
//! Each conversion becomes the shape of what it writes in the C locale (`%d` two digits,
//! `%b` a month's name, `%z` an offset); other characters stand for themselves. The result
//! has no capturing group, so the caller can wrap it in one.

/// The regular expression (without anchors or groups) of the texts `format` writes.
///
/// Unverified: the C locale's names and layouts (`%c`, `%x`, `%X`); `%Z` as a zone's
/// abbreviation or offset (letters, digits, `+`, `-`); `%Y` as four digits. Apache's own
/// forms (`sec`, `msec`, `usec`, `msec_frac`, `usec_frac`, a `begin:` or `end:` prefix)
/// and glibc's flags and widths (`%-d`, `%_H`, `%10Y`) are refused, as the reference names
/// strftime(3) only.
pub fn strftime_regex(format: &str) -> Result<String, String> {
    if matches!(format, "sec" | "msec" | "usec" | "msec_frac" | "usec_frac")
        || format.starts_with("begin:")
        || format.starts_with("end:")
    {
        return Err(format!(
            "Apache's time format {format:?} in %{{format}}t is not supported yet"
        ));
    }
    let mut pattern = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            let mut buffer = [0u8; 4];
            pattern.push_str(&regex::escape(c.encode_utf8(&mut buffer)));
            continue;
        }
        let mut conversion = chars
            .next()
            .ok_or_else(|| format!("the time format {format:?} ends with %"))?;
        // POSIX's alternative forms (`%Ey`, `%Od`) write the same in the C locale.
        if matches!(conversion, 'E' | 'O') {
            conversion = chars
                .next()
                .ok_or_else(|| format!("the time format {format:?} ends inside a conversion"))?;
        }
        pattern.push_str(conversion_regex(conversion).ok_or_else(|| {
            format!("%{conversion} in the time format {format:?} is not supported yet")
        })?);
    }
    Ok(pattern)
}

/// What one conversion writes, in the C locale.
fn conversion_regex(conversion: char) -> Option<&'static str> {
    const NAME: &str = "[A-Za-z]+";
    const TWO_DIGITS: &str = r"\d{2}";
    const SPACE_PADDED: &str = r"[ \d]\d";
    Some(match conversion {
        'a' | 'A' | 'b' | 'B' | 'h' => NAME,
        'c' => r"[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}",
        'C' | 'd' | 'g' | 'H' | 'I' | 'm' | 'M' | 'S' | 'U' | 'V' | 'W' | 'y' => TWO_DIGITS,
        'e' | 'k' | 'l' => SPACE_PADDED,
        'D' | 'x' => r"\d{2}/\d{2}/\d{2}",
        'F' => r"\d{4}-\d{2}-\d{2}",
        'G' | 'Y' => r"\d{4}",
        'j' => r"\d{3}",
        'n' => "\n",
        't' => "\t",
        'p' => "[AP]M",
        'P' => "[ap]m",
        'r' => r"\d{2}:\d{2}:\d{2} [AP]M",
        'R' => r"\d{2}:\d{2}",
        'T' | 'X' => r"\d{2}:\d{2}:\d{2}",
        's' => r"-?\d+",
        'u' | 'w' => r"\d",
        'z' => r"[+-]\d{4}",
        'Z' => "[A-Za-z0-9+-]+",
        '%' => "%",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(format: &str, text: &str) -> bool {
        let pattern = strftime_regex(format).expect("supported format");
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .expect("a valid regular expression")
            .is_match(text)
    }

    #[test]
    fn apache_time_formats() {
        assert!(matches(
            "%d/%b/%Y:%H:%M:%S %z",
            "10/Oct/2000:13:55:36 -0700"
        ));
        assert!(!matches("%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36"));
        assert!(matches("%Y-%m-%dT%H:%M:%S", "2024-05-01T10:00:00"));
        assert!(matches("%F %T", "2024-05-01 10:00:00"));
        assert!(matches("%a, %e %B %Y", "Wed,  1 May 2024"));
        assert!(matches("%c", "Wed May  1 10:00:00 2024"));
        assert!(matches("%D %r", "05/01/24 10:00:00 AM"));
        assert!(matches("%s", "1714557600"));
        assert!(matches("%j%%%Ey", "122%24"));
        assert!(matches("[%Z]", "[UTC]"));
        // Literal characters are themselves, even a regular expression's metacharacters.
        assert!(matches("(%H.%M)", "(10.00)"));
        assert!(!matches("(%H.%M)", "(10:00)"));
    }

    #[test]
    fn unsupported_formats_are_refused() {
        for format in ["msec", "begin:%d", "%-d", "%Q", "%"] {
            assert!(strftime_regex(format).is_err(), "{format}");
        }
    }
}

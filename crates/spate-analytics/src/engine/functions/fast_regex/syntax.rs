//! The syntax of Fast Regex patterns, as the reference's table gives it: a parser from a
//! pattern's text to its runs (groups and the pattern between them), with the named
//! patterns and numerical intervals it knows.

use std::sync::Arc;

use super::PatternError;
use super::expression::{
    CharSet, Re, chars, concat, concat_all, empty, intersection, literal, nothing, repeat, union,
};

/// A run of the pattern: a group (its column) or the pattern between groups.
pub(super) struct Segment {
    pub(super) column: Option<usize>,
    pub(super) re: Arc<Re>,
}

/// The characters with a meaning of their own outside a character class; written as
/// themselves they need a `\`. Unverified: `~` (dk.brics's complement) is not in the page's
/// table, so it is an ordinary character here.
const RESERVED: &str = "|&?*+{}()[]<>.#@\"\\";

/// A recursive-descent parser of the page's grammar (dk.brics's precedence: union, then
/// intersection, then concatenation, then repetition).
pub(super) struct Parser {
    chars: Vec<char>,
    at: usize,
    groups: usize,
}

impl Parser {
    pub(super) fn new(pattern: &str) -> Parser {
        Parser {
            chars: pattern.chars().collect(),
            at: 0,
            groups: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn error(&self, message: &str) -> PatternError {
        format!("{message} at character {} of the pattern", self.at + 1)
    }

    /// The whole pattern: a concatenation whose top-level parenthesized expressions are the
    /// groups. Unverified: a group inside another expression (nested, repeated, in a union)
    /// has no column the page could describe, so it is refused.
    pub(super) fn segments(mut self) -> Result<Vec<Segment>, PatternError> {
        let mut segments = Vec::new();
        let mut between: Vec<Arc<Re>> = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                '(' => {
                    self.at += 1;
                    let re = if self.eat(')') {
                        empty()
                    } else {
                        let re = self.union()?;
                        if !self.eat(')') {
                            return Err(self.error("a group is not closed with )"));
                        }
                        re
                    };
                    if matches!(self.peek(), Some('?' | '*' | '+' | '{')) {
                        return Err(self.error(
                            "a repeated group is not supported yet (each group is one column)",
                        ));
                    }
                    if !between.is_empty() {
                        segments.push(Segment {
                            column: None,
                            re: concat_all(std::mem::take(&mut between)),
                        });
                    }
                    segments.push(Segment {
                        column: Some(self.groups),
                        re,
                    });
                    self.groups += 1;
                }
                '|' | '&' => {
                    return Err(self.error(
                        "a union (|) or intersection (&) outside the groups is not supported yet",
                    ));
                }
                ')' => return Err(self.error("a ) closes no group")),
                _ => between.push(self.repeat()?),
            }
        }
        if !between.is_empty() {
            segments.push(Segment {
                column: None,
                re: concat_all(between),
            });
        }
        Ok(segments)
    }

    fn union(&mut self) -> Result<Arc<Re>, PatternError> {
        let mut parts = vec![self.intersection()?];
        while self.eat('|') {
            parts.push(self.intersection()?);
        }
        Ok(union(parts))
    }

    fn intersection(&mut self) -> Result<Arc<Re>, PatternError> {
        let mut parts = vec![self.concatenation()?];
        while self.eat('&') {
            parts.push(self.concatenation()?);
        }
        Ok(intersection(parts))
    }

    fn concatenation(&mut self) -> Result<Arc<Re>, PatternError> {
        let mut parts = Vec::new();
        while let Some(c) = self.peek() {
            if matches!(c, ')' | '|' | '&') {
                break;
            }
            parts.push(self.repeat()?);
        }
        if parts.is_empty() {
            return Err(self.error("an expression is missing"));
        }
        Ok(concat_all(parts))
    }

    fn repeat(&mut self) -> Result<Arc<Re>, PatternError> {
        let mut re = self.class_or_simple()?;
        loop {
            re = match self.peek() {
                Some('?') => repeat(re, 0, Some(1)),
                Some('*') => repeat(re, 0, None),
                Some('+') => repeat(re, 1, None),
                Some('{') => {
                    self.at += 1;
                    let min = self.number()?;
                    let max = if self.eat(',') {
                        if self.peek() == Some('}') {
                            None
                        } else {
                            Some(self.number()?)
                        }
                    } else {
                        Some(min)
                    };
                    if self.peek() != Some('}') {
                        return Err(self.error("a repetition {n,m} is not closed with }"));
                    }
                    if max.is_some_and(|max| max < min) {
                        return Err(self.error("a repetition's maximum is below its minimum"));
                    }
                    repeat(re, min, max)
                }
                _ => return Ok(re),
            };
            self.at += 1;
        }
    }

    fn number(&mut self) -> Result<u32, PatternError> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let digits: String = self.chars[start..self.at].iter().collect();
        digits
            .parse()
            .map_err(|_| self.error("a repetition count is expected"))
    }

    fn class_or_simple(&mut self) -> Result<Arc<Re>, PatternError> {
        if !self.eat('[') {
            return self.simple();
        }
        let negated = self.eat('^');
        let mut set = CharSet(Vec::new());
        loop {
            match self.peek() {
                None => return Err(self.error("a character class is not closed with ]")),
                Some(']') if !set.0.is_empty() => break,
                Some(']') => return Err(self.error("a character class is empty")),
                _ => {}
            }
            let low = self.class_char()?;
            let high = if self.peek() == Some('-') && self.chars.get(self.at + 1) != Some(&']') {
                self.at += 1;
                self.class_char()?
            } else {
                low
            };
            if high < low {
                return Err(self.error("a character range ends before it starts"));
            }
            set = set.union(&CharSet(vec![(low as u32, high as u32)]));
        }
        self.at += 1;
        Ok(chars(if negated { set.complement() } else { set }))
    }

    /// A character inside a class: any character but `]`, or `\` and the character after.
    fn class_char(&mut self) -> Result<char, PatternError> {
        self.eat('\\');
        let c = self
            .peek()
            .ok_or_else(|| self.error("a character is expected"))?;
        self.at += 1;
        Ok(c)
    }

    fn simple(&mut self) -> Result<Arc<Re>, PatternError> {
        let Some(c) = self.peek() else {
            return Err(self.error("an expression is missing"));
        };
        self.at += 1;
        Ok(match c {
            '.' => chars(CharSet::any()),
            '#' => nothing(),
            '@' => repeat(chars(CharSet::any()), 0, None),
            '"' => {
                let start = self.at;
                while self.peek().is_some_and(|c| c != '"') {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                if !self.eat('"') {
                    return Err(self.error("a string is not closed with \""));
                }
                literal(&text)
            }
            '(' => {
                return Err(self.error(
                    "a parenthesized expression inside a group is not supported yet (each one is a column)",
                ));
            }
            '<' => {
                let start = self.at;
                while self.peek().is_some_and(|c| c != '>') {
                    self.at += 1;
                }
                let name: String = self.chars[start..self.at].iter().collect();
                if !self.eat('>') {
                    return Err(self.error("a <name> is not closed with >"));
                }
                match name.split_once('-') {
                    Some((low, high)) => interval(low, high)
                        .map_err(|message| self.error(&format!("<{name}>: {message}")))?,
                    None => named_class(&name)
                        .map(chars)
                        .ok_or_else(|| self.error(&format!("<{name}> is not a named pattern")))?,
                }
            }
            '\\' => {
                let escaped = self
                    .peek()
                    .ok_or_else(|| self.error("\\ ends the pattern"))?;
                self.at += 1;
                chars(CharSet::single(escaped))
            }
            c if RESERVED.contains(c) => {
                self.at -= 1;
                return Err(self.error(&format!("{c} is reserved: write \\{c} for the character")));
            }
            c => chars(CharSet::single(c)),
        })
    }
}

/// The named patterns the page lists (POSIX classes, ASCII only).
fn named_class(name: &str) -> Option<CharSet> {
    let ranges = |list: &[(char, char)]| {
        CharSet::from_ranges(
            list.iter()
                .map(|&(low, high)| (low as u32, high as u32))
                .collect(),
        )
    };
    let digit = [('0', '9')];
    let upper = [('A', 'Z')];
    let lower = [('a', 'z')];
    // The page's list: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
    let punct = [('!', '/'), (':', '@'), ('[', '`'), ('{', '~')];
    let alnum = [('0', '9'), ('A', 'Z'), ('a', 'z')];
    Some(match name {
        "Digit" => ranges(&digit),
        "Upper" => ranges(&upper),
        "Lower" => ranges(&lower),
        "ASCII" => ranges(&[('\u{0}', '\u{7f}')]),
        "Alpha" => ranges(&[('A', 'Z'), ('a', 'z')]),
        "Alnum" => ranges(&alnum),
        "Punct" => ranges(&punct),
        "Blank" => ranges(&[(' ', ' '), ('\t', '\t')]),
        "Space" => ranges(&[(' ', ' '), ('\t', '\r')]),
        "Cntrl" => ranges(&[('\u{0}', '\u{1f}'), ('\u{7f}', '\u{7f}')]),
        "XDigit" => ranges(&[('0', '9'), ('a', 'f'), ('A', 'F')]),
        // `<Print>` and `<Graph>` are both `<Alnum>|<Punct>` on the page.
        "Print" | "Graph" => ranges(&alnum).union(&ranges(&punct)),
        _ => return None,
    })
}

/// `<n-m>`: the decimal numbers from `n` to `m`. Unverified (the page says only "numerical
/// interval"; this is dk.brics's rule): when `n` and `m` are written with as many digits, a
/// number is written with exactly that many (zeros in front), otherwise with any number of
/// leading zeros.
fn interval(low: &str, high: &str) -> Result<Arc<Re>, String> {
    let number = |text: &str| -> Result<u64, String> {
        if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("{text:?} is not a number"));
        }
        text.parse().map_err(|_| format!("{text} is too large"))
    };
    let (mut min, mut max) = (number(low)?, number(high)?);
    if min > max {
        std::mem::swap(&mut min, &mut max);
    }
    if low.len() == high.len() {
        let width = low.len();
        return Ok(same_width(
            format!("{min:0width$}").as_bytes(),
            format!("{max:0width$}").as_bytes(),
        ));
    }
    // Any leading zeros, then the number written without any.
    let mut lengths = Vec::new();
    let max_digits = max.to_string().len();
    let min_digits = min.to_string().len();
    for digits in min_digits..=max_digits {
        let smallest = if digits == 1 {
            0
        } else {
            10u64.pow(digits as u32 - 1)
        };
        let largest = 10u64.saturating_pow(digits as u32).saturating_sub(1);
        let from = min.max(smallest);
        let to = max.min(largest);
        if from <= to {
            lengths.push(same_width(
                from.to_string().as_bytes(),
                to.to_string().as_bytes(),
            ));
        }
    }
    Ok(concat(
        repeat(chars(CharSet::single('0')), 0, None),
        union(lengths),
    ))
}

/// The digit strings of `low.len()` digits from `low` to `high` (both that long).
fn same_width(low: &[u8], high: &[u8]) -> Arc<Re> {
    let digit = |from: u8, to: u8| chars(CharSet(vec![(from as u32, to as u32)]));
    let ([first_low, rest_low @ ..], [first_high, rest_high @ ..]) = (low, high) else {
        return empty();
    };
    if first_low == first_high {
        return concat(
            digit(*first_low, *first_low),
            same_width(rest_low, rest_high),
        );
    }
    let nines = vec![b'9'; rest_low.len()];
    let zeros = vec![b'0'; rest_low.len()];
    let mut parts = vec![
        concat(digit(*first_low, *first_low), same_width(rest_low, &nines)),
        concat(
            digit(*first_high, *first_high),
            same_width(&zeros, rest_high),
        ),
    ];
    if first_low + 1 < *first_high {
        parts.push(concat(
            digit(first_low + 1, first_high - 1),
            same_width(&zeros, &nines),
        ));
    }
    union(parts)
}

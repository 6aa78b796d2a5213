//! The Fast Regex patterns of FAST_REGEX_LOG_PARSER, compiled to a matcher.
//!
//! The reference page defines its own pattern language (the syntax of the dk.brics automaton
//! library): `|` union, `&` intersection, `?` `*` `+` `{n}` `{n,}` `{n,m}` repetitions,
//! `[...]` and `[^...]` character classes with `a-z` ranges, `.` any character, `#` the
//! empty language, `@` any string, `"..."` a literal string, `()` the empty string,
//! `(...)` a group, `<Name>` one of the named POSIX classes, `<n-m>` a numerical interval,
//! `\c` the character `c`, and any other non-reserved character itself.
//!
//! Every parenthesized expression is a group, and each group is a column. The pattern is
//! cut as the page describes: into one expression per group and one per run of pattern
//! between groups; the fixed-length start of each expression is moved to the end of the
//! previous one (`_+` counting as `_` then `_*`), and an expression that is entirely fixed
//! length is merged into the previous one. The expressions, or *steps*, are then matched in
//! turn from the start of the line, each taking the shortest text it matches ("lazy"), with
//! no backtracking: a step that matches nothing fails the line. The last step must take the
//! rest of the line, as every character must be accounted for.
//!
//! Each step is matched with Brzozowski derivatives of its expression, one character at a
//! time, so intersection needs no special machinery and nothing ever backtracks. The
//! derivatives met are kept as the states of a DFA built lazily ([`Dfa`]), so a line costs
//! a table look-up per character once the step has seen similar lines.
//!
//! A line the steps do not account for gives no fields: the caller makes its row NULL.
//! Unverified: the page's example A, a VALUES query, shows "No rows selected"; a function
//! cannot drop its row from a stream, so the row stays with NULL fields, as REGEX_LOG_PARSE's
//! page says of a line its pattern does not match.
//!
//! A step ends with the fixed-length pieces moved into it, so where one column stops and the
//! next starts inside a step is found by counting those pieces' lengths back from its end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Why a Fast Regex pattern does not compile; the text says where.
pub type PatternError = String;

/// A set of characters, as sorted, disjoint, non-adjacent ranges of code points.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct CharSet(Vec<(u32, u32)>);

impl CharSet {
    fn from_ranges(mut ranges: Vec<(u32, u32)>) -> CharSet {
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (low, high) in ranges {
            match merged.last_mut() {
                Some(last) if low <= last.1.saturating_add(1) => last.1 = last.1.max(high),
                _ => merged.push((low, high)),
            }
        }
        CharSet(merged)
    }

    fn single(c: char) -> CharSet {
        CharSet(vec![(c as u32, c as u32)])
    }

    fn any() -> CharSet {
        CharSet(vec![(0, char::MAX as u32)])
    }

    fn union(&self, other: &CharSet) -> CharSet {
        CharSet::from_ranges(self.0.iter().chain(&other.0).copied().collect())
    }

    fn complement(&self) -> CharSet {
        let mut out = Vec::new();
        let mut next = 0u32;
        for &(low, high) in &self.0 {
            if low > next {
                out.push((next, low - 1));
            }
            next = high.saturating_add(1);
        }
        if next <= char::MAX as u32 {
            out.push((next, char::MAX as u32));
        }
        CharSet(out)
    }

    fn contains(&self, c: char) -> bool {
        let code = c as u32;
        self.0
            .binary_search_by(|&(low, high)| {
                if high < code {
                    std::cmp::Ordering::Less
                } else if low > code {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }
}

/// A regular expression over characters, kept in a normal form by its constructors (unions
/// and intersections flat, sorted and without duplicates; concatenations nested to the
/// right) so that the derivatives of an expression are finitely many.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Re {
    /// `#`: no string at all.
    Nothing,
    /// The empty string.
    Empty,
    /// One character of the set.
    Chars(CharSet),
    Concat(Arc<Re>, Arc<Re>),
    Union(Vec<Arc<Re>>),
    Intersection(Vec<Arc<Re>>),
    /// Between `min` and `max` (unbounded when `None`) repetitions.
    Repeat(Arc<Re>, u32, Option<u32>),
}

fn nothing() -> Arc<Re> {
    Arc::new(Re::Nothing)
}

fn empty() -> Arc<Re> {
    Arc::new(Re::Empty)
}

fn chars(set: CharSet) -> Arc<Re> {
    Arc::new(Re::Chars(set))
}

fn literal(text: &str) -> Arc<Re> {
    text.chars()
        .rev()
        .fold(empty(), |rest, c| concat(chars(CharSet::single(c)), rest))
}

fn concat(first: Arc<Re>, second: Arc<Re>) -> Arc<Re> {
    match (&*first, &*second) {
        (Re::Nothing, _) | (_, Re::Nothing) => nothing(),
        (Re::Empty, _) => second,
        (_, Re::Empty) => first,
        (Re::Concat(a, b), _) => concat(a.clone(), concat(b.clone(), second)),
        _ => Arc::new(Re::Concat(first, second)),
    }
}

fn concat_all(parts: impl IntoIterator<Item = Arc<Re>>) -> Arc<Re> {
    let parts: Vec<Arc<Re>> = parts.into_iter().collect();
    parts
        .into_iter()
        .rev()
        .fold(empty(), |rest, part| concat(part, rest))
}

fn union(parts: Vec<Arc<Re>>) -> Arc<Re> {
    let mut flat = Vec::with_capacity(parts.len());
    for part in parts {
        match &*part {
            Re::Nothing => {}
            Re::Union(inner) => flat.extend(inner.iter().cloned()),
            _ => flat.push(part),
        }
    }
    flat.sort();
    flat.dedup();
    match flat.len() {
        0 => nothing(),
        1 => flat.pop().unwrap_or_else(nothing),
        _ => Arc::new(Re::Union(flat)),
    }
}

fn intersection(parts: Vec<Arc<Re>>) -> Arc<Re> {
    let mut flat = Vec::with_capacity(parts.len());
    for part in parts {
        match &*part {
            Re::Nothing => return nothing(),
            Re::Intersection(inner) => flat.extend(inner.iter().cloned()),
            _ => flat.push(part),
        }
    }
    flat.sort();
    flat.dedup();
    match flat.len() {
        0 => nothing(),
        1 => flat.pop().unwrap_or_else(nothing),
        _ => Arc::new(Re::Intersection(flat)),
    }
}

fn repeat(inner: Arc<Re>, min: u32, max: Option<u32>) -> Arc<Re> {
    match (&*inner, min, max) {
        (_, _, Some(0)) | (Re::Empty, _, _) => empty(),
        (Re::Nothing, 0, _) => empty(),
        (Re::Nothing, _, _) => nothing(),
        (_, 1, Some(1)) => inner,
        _ => Arc::new(Re::Repeat(inner, min, max)),
    }
}

/// Whether `re` matches the empty string.
fn nullable(re: &Re) -> bool {
    match re {
        Re::Nothing | Re::Chars(_) => false,
        Re::Empty => true,
        Re::Concat(a, b) => nullable(a) && nullable(b),
        Re::Union(parts) => parts.iter().any(|part| nullable(part)),
        Re::Intersection(parts) => parts.iter().all(|part| nullable(part)),
        Re::Repeat(inner, min, _) => *min == 0 || nullable(inner),
    }
}

/// What remains of `re` to match after the character `c`.
fn derivative(re: &Arc<Re>, c: char) -> Arc<Re> {
    match &**re {
        Re::Nothing | Re::Empty => nothing(),
        Re::Chars(set) => {
            if set.contains(c) {
                empty()
            } else {
                nothing()
            }
        }
        Re::Concat(a, b) => {
            let first = concat(derivative(a, c), b.clone());
            if nullable(a) {
                union(vec![first, derivative(b, c)])
            } else {
                first
            }
        }
        Re::Union(parts) => union(parts.iter().map(|part| derivative(part, c)).collect()),
        Re::Intersection(parts) => {
            intersection(parts.iter().map(|part| derivative(part, c)).collect())
        }
        Re::Repeat(inner, min, max) => concat(
            derivative(inner, c),
            repeat(inner.clone(), min.saturating_sub(1), max.map(|max| max - 1)),
        ),
    }
}

/// The length in characters of every string `re` matches, when they all have one length.
/// Unverified: the page does not say whether `#` is "fixed length"; it is taken not to be.
fn fixed_length(re: &Re) -> Option<usize> {
    match re {
        Re::Nothing => None,
        Re::Empty => Some(0),
        Re::Chars(_) => Some(1),
        Re::Concat(a, b) => fixed_length(a)?.checked_add(fixed_length(b)?),
        Re::Union(parts) => {
            let first = fixed_length(parts.first()?)?;
            parts
                .iter()
                .all(|part| fixed_length(part) == Some(first))
                .then_some(first)
        }
        // Every string of an intersection is a string of each part.
        Re::Intersection(parts) => parts.iter().find_map(|part| fixed_length(part)),
        Re::Repeat(inner, min, max) => {
            let length = fixed_length(inner)?;
            if length == 0 {
                Some(0)
            } else if Some(*min) == *max {
                length.checked_mul(*min as usize)
            } else {
                None
            }
        }
    }
}

/// The factors of a concatenation, in order.
fn factors(re: &Arc<Re>) -> Vec<Arc<Re>> {
    let mut out = Vec::new();
    let mut rest = re.clone();
    loop {
        let next = match &*rest {
            Re::Concat(a, b) => {
                out.push(a.clone());
                b.clone()
            }
            Re::Empty => break,
            _ => {
                out.push(rest.clone());
                break;
            }
        };
        rest = next;
    }
    out
}

/// `re` cut into its longest fixed-length start (and that start's length) and the rest.
/// A repetition `x{n,m}` of a fixed-length `x` gives its `n` first copies to the start, as
/// the page counts `_+` as `_` followed by `_*`.
fn split_fixed_start(re: &Arc<Re>) -> (Arc<Re>, usize, Arc<Re>) {
    let all = factors(re);
    let mut start = Vec::new();
    let mut length: usize = 0;
    let mut rest = Vec::new();
    let mut index = 0;
    while let Some(factor) = all.get(index) {
        if let Some(factor_length) = fixed_length(factor)
            && let Some(sum) = length.checked_add(factor_length)
        {
            start.push(factor.clone());
            length = sum;
            index += 1;
            continue;
        }
        if let Re::Repeat(inner, min, max) = &**factor
            && let Some(inner_length) = fixed_length(inner)
            && *min > 0
            && let Some(min_length) = inner_length.checked_mul(*min as usize)
        {
            start.push(repeat(inner.clone(), *min, Some(*min)));
            length += min_length;
            rest.push(repeat(inner.clone(), 0, max.map(|max| max - min)));
            index += 1;
        }
        break;
    }
    rest.extend(all.iter().skip(index).cloned());
    (concat_all(start), length, concat_all(rest))
}

/// A fixed-length piece at the end of a step: the column (group) its text goes to, and its
/// length in characters.
#[derive(Debug)]
struct Piece {
    column: Option<usize>,
    length: usize,
}

/// One of the expressions matched in turn: a first piece of any length, then fixed-length
/// pieces moved in from the expressions after it.
#[derive(Debug)]
struct Step {
    whole: Arc<Re>,
    first_column: Option<usize>,
    tail: Vec<Piece>,
    /// The derivatives of `whole` met so far (built while matching, so behind a lock).
    dfa: Mutex<Dfa>,
}

impl Step {
    fn new(whole: Arc<Re>, first_column: Option<usize>) -> Step {
        Step {
            whole,
            first_column,
            tail: Vec::new(),
            dfa: Mutex::new(Dfa::default()),
        }
    }

    /// The length in bytes of the part of `text` this step takes: the shortest start of it
    /// the step matches, or all of it for the last step.
    fn match_length(&self, text: &str, last: bool) -> Option<usize> {
        // A poisoned lock only means another thread panicked while holding it; every state
        // in the cache is still a correct derivative.
        let mut dfa = self
            .dfa
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut state = dfa.start(&self.whole);
        if !last && dfa.states[state].accepting {
            return Some(0);
        }
        for (offset, c) in text.char_indices() {
            state = dfa.next(state, c);
            if dfa.states[state].dead {
                return None;
            }
            if !last && dfa.states[state].accepting {
                return Some(offset + c.len_utf8());
            }
        }
        (last && dfa.states[state].accepting).then_some(text.len())
    }
}

/// The most states a step's [`Dfa`] keeps between lines; past it the cache starts again
/// (a line adds at most one state per character).
const MAX_DFA_STATES: usize = 4096;

/// A DFA whose states are the derivatives of one expression, added as lines need them.
#[derive(Debug, Default)]
struct Dfa {
    states: Vec<DfaState>,
    ids: HashMap<Arc<Re>, usize>,
}

/// A derivative, whether it matches the empty string (`accepting`) or nothing (`dead`),
/// and the derivatives known to follow it.
#[derive(Debug)]
struct DfaState {
    re: Arc<Re>,
    accepting: bool,
    dead: bool,
    /// The next state after each ASCII character, plus one (0: not yet known).
    ascii: Box<[usize; 128]>,
    other: HashMap<char, usize>,
}

impl Dfa {
    /// The state of the step's whole expression, always the first one (added first, and
    /// again after the cache is emptied for growing past [`MAX_DFA_STATES`]).
    fn start(&mut self, whole: &Arc<Re>) -> usize {
        if self.states.len() > MAX_DFA_STATES {
            self.states.clear();
            self.ids.clear();
        }
        if self.states.is_empty() {
            return self.state(whole.clone());
        }
        0
    }

    /// The state of `re`, added when new.
    fn state(&mut self, re: Arc<Re>) -> usize {
        if let Some(&id) = self.ids.get(&re) {
            return id;
        }
        let id = self.states.len();
        self.states.push(DfaState {
            accepting: nullable(&re),
            dead: *re == Re::Nothing,
            re: re.clone(),
            ascii: Box::new([0; 128]),
            other: HashMap::new(),
        });
        self.ids.insert(re, id);
        id
    }

    /// The state after `c` from state `from`.
    fn next(&mut self, from: usize, c: char) -> usize {
        let known = match self.states[from].ascii.get(c as usize) {
            Some(&plus_one) => plus_one.checked_sub(1),
            None => self.states[from].other.get(&c).copied(),
        };
        if let Some(id) = known {
            return id;
        }
        let derived = derivative(&self.states[from].re, c);
        let id = self.state(derived);
        let state = &mut self.states[from];
        match state.ascii.get_mut(c as usize) {
            Some(slot) => *slot = id + 1,
            None => {
                state.other.insert(c, id);
            }
        }
        id
    }
}

/// The longest pattern compiled: matching recurses along the pattern's expressions, and
/// this bounds how deep. Log patterns are far shorter.
const MAX_PATTERN_LENGTH: usize = 2048;

/// A compiled Fast Regex pattern.
#[derive(Debug)]
pub struct FastRegex {
    steps: Vec<Step>,
    columns: usize,
}

impl FastRegex {
    /// Compiles a pattern: its groups, and the steps the page cuts it into.
    pub fn compile(pattern: &str) -> Result<FastRegex, PatternError> {
        if pattern.chars().count() > MAX_PATTERN_LENGTH {
            return Err(format!(
                "a pattern longer than {MAX_PATTERN_LENGTH} characters is not supported"
            ));
        }
        let segments = Parser::new(pattern).segments()?;
        let columns = segments
            .iter()
            .filter(|segment| segment.column.is_some())
            .count();
        if columns == 0 {
            return Err("the pattern has no group, so it would give no column".to_string());
        }
        let mut steps: Vec<Step> = Vec::new();
        for segment in segments {
            let Some(previous) = steps.last_mut() else {
                steps.push(Step::new(segment.re, segment.column));
                continue;
            };
            let (start, length, rest) = split_fixed_start(&segment.re);
            if *start != Re::Empty {
                previous.whole = concat(previous.whole.clone(), start);
                previous.tail.push(Piece {
                    column: segment.column,
                    length,
                });
            }
            if *rest != Re::Empty {
                steps.push(Step::new(rest, segment.column));
            } else if segment.column.is_some() && *segment.re == Re::Empty {
                // `()`: an empty group still has its (empty) column, at the step's end.
                previous.tail.push(Piece {
                    column: segment.column,
                    length: 0,
                });
            }
        }
        Ok(FastRegex { steps, columns })
    }

    /// The number of groups, so of columns.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// The columns' texts for `line`, or `None` when the steps do not account for every
    /// character of it.
    pub fn columns_of(&self, line: &str) -> Option<Vec<String>> {
        let mut columns = vec![String::new(); self.columns];
        let mut at = 0;
        for (index, step) in self.steps.iter().enumerate() {
            let last = index + 1 == self.steps.len();
            let rest = &line[at..];
            let end = step.match_length(rest, last)?;
            let matched = &rest[..end];
            // The tail pieces are fixed length: cut them off the end, last first.
            let mut cut = matched.len();
            let mut tail_texts = Vec::with_capacity(step.tail.len());
            for piece in step.tail.iter().rev() {
                let start = back_chars(matched, cut, piece.length)?;
                tail_texts.push((piece.column, &matched[start..cut]));
                cut = start;
            }
            if let Some(column) = step.first_column {
                columns.get_mut(column)?.push_str(&matched[..cut]);
            }
            for (column, text) in tail_texts.into_iter().rev() {
                if let Some(column) = column {
                    columns.get_mut(column)?.push_str(text);
                }
            }
            at += end;
        }
        (at == line.len()).then_some(columns)
    }
}

/// The byte offset `count` characters before `from` in `text`.
fn back_chars(text: &str, from: usize, count: usize) -> Option<usize> {
    if count == 0 {
        return Some(from);
    }
    text.get(..from)?
        .char_indices()
        .rev()
        .nth(count - 1)
        .map(|(offset, _)| offset)
}

/// A run of the pattern: a group (its column) or the pattern between groups.
struct Segment {
    column: Option<usize>,
    re: Arc<Re>,
}

/// The characters with a meaning of their own outside a character class; written as
/// themselves they need a `\`. Unverified: `~` (dk.brics's complement) is not in the page's
/// table, so it is an ordinary character here.
const RESERVED: &str = "|&?*+{}()[]<>.#@\"\\";

/// A recursive-descent parser of the page's grammar (dk.brics's precedence: union, then
/// intersection, then concatenation, then repetition).
struct Parser {
    chars: Vec<char>,
    at: usize,
    groups: usize,
}

impl Parser {
    fn new(pattern: &str) -> Parser {
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
    fn segments(mut self) -> Result<Vec<Segment>, PatternError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pattern: &str, line: &str) -> Option<Vec<String>> {
        FastRegex::compile(pattern)
            .expect("the pattern compiles")
            .columns_of(line)
    }

    fn texts(values: &[&str]) -> Option<Vec<String>> {
        Some(values.iter().map(|value| value.to_string()).collect())
    }

    fn matches(pattern: &str, line: &str) -> bool {
        parse(&format!("({pattern})"), line).is_some()
    }

    #[test]
    fn the_pages_examples() {
        // First FRLP example. Unverified: the page's table shows COLUMN2 `a_little_lamb`,
        // which leaves nothing for the pattern's final `_.*`; its steps `.*_._`, `.*_`, `.*`
        // give `a_little` (the page: "Group-2 thus begins with a_l").
        assert_eq!(
            parse("(.*)_(._.*)_.*", "Mary_had_a_little_lamb"),
            texts(&["Mary_had", "a_little"])
        );
        // Without the final asterisk, "no results would be obtained".
        assert_eq!(parse("(.*)_(._.*)_.", "Mary_had_a_little_lamb"), None);
        // Example A: `_+` takes the first underscore, then `_*._` cannot match "had".
        assert_eq!(parse("(.*)_+(._.*)", "Mary_had_a_little_lamb"), None);
        // Example B. Unverified: the page's table shows `had_a_little_lamb`, but its text
        // says the `+` "is superfluous because of the lazy semantics" (and that the plus of
        // example C, unlike this one, is not), so `_*` takes nothing.
        assert_eq!(
            parse("(.*)_+(.*)", "Mary____had_a_little_lamb"),
            texts(&["Mary", "___had_a_little_lamb"])
        );
        assert_eq!(
            parse("(.*)_(.*)", "Mary____had_a_little_lamb"),
            parse("(.*)_+(.*)", "Mary____had_a_little_lamb")
        );
        // Example C: `<Alpha>` is the delimiter of `_*`.
        assert_eq!(
            parse("(.*)_+(<Alpha>.*)", "Mary____had_a_little_lamb"),
            texts(&["Mary", "had_a_little_lamb"])
        );
    }

    #[test]
    fn steps_are_cut_as_the_page_describes() {
        let compiled = FastRegex::compile("(.*)_+(<Alpha>.*)").expect("compiles");
        assert_eq!(compiled.steps.len(), 3);
        // `.*_`, `_*<Alpha>`, `.*`
        assert_eq!(compiled.steps[0].tail.len(), 1);
        assert_eq!(compiled.steps[0].tail[0].length, 1);
        assert_eq!(compiled.steps[1].first_column, None);
        assert_eq!(compiled.steps[1].tail[0].column, Some(1));
        assert_eq!(compiled.steps[2].first_column, Some(1));
        // A fixed-length group merges into the step before it.
        let fixed = FastRegex::compile("(.*) (<Digit>{3}) (.*)").expect("compiles");
        assert_eq!(fixed.steps.len(), 2);
        assert_eq!(
            fixed.columns_of("GET /index.html 404 not found"),
            texts(&["GET /index.html", "404", "not found"])
        );
        // A first group of fixed length is a step of its own.
        assert_eq!(
            parse("(<Digit>{4})-(.*)", "2024-05-01"),
            texts(&["2024", "05-01"])
        );
    }

    #[test]
    fn character_classes_and_ranges() {
        assert!(matches("[abc]+", "abcab"));
        assert!(!matches("[abc]+", "abd"));
        assert!(matches("[a-c0-9]*", "a1b2c3"));
        assert!(matches("[^0-9]+", "abc"));
        assert!(!matches("[^0-9]+", "a1"));
        // Inside a class every character but `]` and `\` is itself; `-` last is itself.
        assert!(matches("[.*(]+", ".*("));
        assert!(matches("[a-]+", "-a-"));
        assert!(matches("[\\]]", "]"));
        assert!(FastRegex::compile("([z-a])").is_err());
        assert!(FastRegex::compile("([])").is_err());
        assert!(FastRegex::compile("([abc)").is_err());
    }

    #[test]
    fn union_and_intersection() {
        assert!(matches("\"GET\"|\"POST\"", "POST"));
        assert!(!matches("\"GET\"|\"POST\"", "PUT"));
        // Words of letters that are also exactly three characters long.
        assert!(matches("<Alpha>+&...", "abc"));
        assert!(!matches("<Alpha>+&...", "ab1"));
        assert!(!matches("<Alpha>+&...", "abcd"));
        // Union binds looser than intersection, which binds looser than concatenation.
        assert!(matches("a|b&c", "a"));
        assert!(!matches("a|b&c", "b"));
    }

    #[test]
    fn repetitions() {
        assert!(matches("a?", ""));
        assert!(matches("a?", "a"));
        assert!(!matches("a?", "aa"));
        assert!(matches("a*", ""));
        assert!(matches("a*", "aaa"));
        assert!(!matches("a+", ""));
        assert!(matches("a+", "aa"));
        assert!(matches("a{3}", "aaa"));
        assert!(!matches("a{3}", "aa"));
        assert!(matches("a{2,}", "aaaa"));
        assert!(!matches("a{2,}", "a"));
        assert!(matches("a{1,2}", "aa"));
        assert!(!matches("a{1,2}", "aaa"));
        assert!(matches("\"ab\"{2}", "abab"));
        assert!(FastRegex::compile("(a{2,1})").is_err());
        assert!(FastRegex::compile("(a{2)").is_err());
    }

    #[test]
    fn simple_expressions() {
        assert!(matches(".", "é"));
        assert!(!matches(".", ""));
        assert!(!matches("#", ""));
        assert!(!matches("#|#", "a"));
        assert!(matches("a|#", "a"));
        assert!(matches("@", ""));
        assert!(matches("@", "anything at all"));
        assert!(matches("\"a.b*\"", "a.b*"));
        assert!(!matches("\"a.b*\"", "axb"));
        assert!(matches("\\.\\*", ".*"));
        assert!(matches("~-^,", "~-^,"));
        // `()` is the empty string, and still a column.
        assert_eq!(parse("(a)()(b)", "ab"), texts(&["a", "", "b"]));
        assert!(FastRegex::compile("(a*)").is_ok());
        assert!(FastRegex::compile("(a)*").is_err());
        assert!(FastRegex::compile("((a)b)").is_err());
        assert!(FastRegex::compile("(a)|b").is_err());
        assert!(FastRegex::compile("abc").is_err());
        assert!(FastRegex::compile("(a+").is_err());
        assert!(FastRegex::compile("(a))").is_err());
        assert!(FastRegex::compile("(\"abc)").is_err());
        assert!(FastRegex::compile("(a?*{)").is_err());
        assert!(FastRegex::compile(&format!("({})", "a".repeat(3000))).is_err());
        // Lengths too large to count are not fixed, rather than an overflow.
        assert!(FastRegex::compile("(a)(\"ab\"{4000000000}{4000000000}{4000000000})").is_ok());
    }

    #[test]
    fn named_patterns() {
        let all = [
            ("Digit", "7", "a"),
            ("Upper", "Q", "q"),
            ("Lower", "q", "Q"),
            ("ASCII", "~", "é"),
            ("Alpha", "z", "1"),
            ("Alnum", "1", "_"),
            ("Punct", "_", "a"),
            ("Blank", "\t", "\n"),
            ("Space", "\n", "x"),
            ("Cntrl", "\u{7f}", " "),
            ("XDigit", "F", "g"),
            ("Print", "~", " "),
            ("Graph", "a", " "),
        ];
        for (name, inside, outside) in all {
            assert!(matches(&format!("<{name}>"), inside), "{name} {inside:?}");
            assert!(
                !matches(&format!("<{name}>"), outside),
                "{name} {outside:?}"
            );
        }
        for punct in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".chars() {
            assert!(matches("<Punct>", &punct.to_string()), "{punct}");
        }
        assert!(FastRegex::compile("(<Nope>)").is_err());
    }

    #[test]
    fn numerical_intervals() {
        assert!(matches("<1-12>", "7"));
        assert!(matches("<1-12>", "12"));
        assert!(matches("<1-12>", "007"));
        assert!(!matches("<1-12>", "13"));
        assert!(!matches("<1-12>", "0"));
        // As many digits on both sides: exactly that many.
        assert!(matches("<01-31>", "07"));
        assert!(!matches("<01-31>", "7"));
        assert!(!matches("<01-31>", "32"));
        assert!(matches("<0-255>", "0"));
        assert!(matches("<0-255>", "199"));
        assert!(!matches("<0-255>", "256"));
        assert!(matches("<255-0>", "42"));
        assert!(FastRegex::compile("(<a-9>)").is_err());
        assert_eq!(
            parse("(<0-255>)\\.(<0-255>)", "10.200"),
            texts(&["10", "200"])
        );
    }

    #[test]
    fn the_state_cache_starts_again_past_its_bound() {
        // Each character of the line is a new state of `.{1,5000}`.
        let compiled = FastRegex::compile("(.{1,5000})-(.*)").expect("compiles");
        let line = format!("{}-x", "a".repeat(4500));
        for _ in 0..3 {
            let columns = compiled.columns_of(&line).expect("matches");
            assert_eq!(columns[0].len(), 4500);
            assert_eq!(columns[1], "x");
        }
        let states = compiled.steps[0]
            .dfa
            .lock()
            .expect("not poisoned")
            .states
            .len();
        assert!(states <= MAX_DFA_STATES + line.len(), "{states}");
        assert_eq!(compiled.columns_of("-x"), None);
    }

    #[test]
    fn lazy_steps_do_not_backtrack() {
        // The first `-` ends the first column even though a later one would let the rest
        // match: "no backtracking".
        assert_eq!(parse("(.*)-(<Digit>*)", "a-b-1"), None);
        // `<Digit>+` starts with a fixed-length `<Digit>`, moved into the first step: the
        // first space followed by a digit ends the first column.
        assert_eq!(parse("(.*) (<Digit>+)", "a b 42"), texts(&["a b", "42"]));
        assert_eq!(parse("(.*) (.*)", "a b 42"), texts(&["a", "b 42"]));
        // Multi-byte characters are counted as characters.
        assert_eq!(parse("(.*)é(..)", "aéébc"), texts(&["aé", "bc"]));
        assert_eq!(parse("(.*)é(.*)", "aéébc"), texts(&["a", "ébc"]));
    }
}

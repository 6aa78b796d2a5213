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
//!
//! The parser is in `syntax`, the expressions and their derivatives in `expression`; this
//! module cuts the steps and matches them.

mod expression;
mod syntax;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use expression::{Re, concat, derivative, nullable, split_fixed_start};
use syntax::Parser;

/// Why a Fast Regex pattern does not compile; the text says where.
pub type PatternError = String;

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

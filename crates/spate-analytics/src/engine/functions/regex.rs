//! Regular expressions: `s [NOT] SIMILAR TO p [ESCAPE e]` and `REGEX_REPLACE`.
//!
//! SIMILAR TO patterns are SQL's (`%`, `_`, `|`, `*`, `+`, `?`, `{m,n}`, `(...)`, `[...]`),
//! translated by [`similar_to_regex`] into an anchored regular expression: the pattern must
//! match the whole string, and every other character stands for itself. REGEX_REPLACE takes a
//! Java regular expression and a `java.lang.String.replaceAll` replacement (`$1`, `${name}`,
//! `\$` for a literal dollar), which [`expand_java_replacement`] follows. Java patterns run on
//! the `regex` crate, whose syntax is Java's for the common constructs (classes, groups,
//! named groups, quantifiers, `\d \w \s \b`, inline flags). Look-around, back references,
//! possessive quantifiers and atomic groups fail when the pattern is compiled, with the
//! crate's explanation. Unverified: the finer differences (Java's `\p{Alpha}` is ASCII where
//! the crate's is Unicode; Java's `$` also matches before a final line break) are not
//! imitated.
//!
//! When a pattern is a literal, the caller compiles it once and passes it in; otherwise each
//! row's pattern is compiled as the row is evaluated (an invalid one is an error of the row).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Int64Array, StringBuilder};
use regex::{Captures, Regex};

use super::{EvalError, downcast, quoted, strings};

const SIMILAR_TO: &str = "SIMILAR TO";
const REGEX_REPLACE: &str = "REGEX_REPLACE";

/// The regular expression a SIMILAR TO pattern stands for, anchored at both ends; `escape`
/// makes the character after it literal. An error says what is wrong with the pattern.
///
/// Unverified: without ESCAPE no character escapes (the SQL standard's rule; Redshift takes a
/// backslash by default), and `.`, `^` and `$` stand for themselves, as the standard's
/// SIMILAR TO has no such metacharacters.
pub fn similar_to_regex(pattern: &str, escape: Option<char>) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() * 2 + 8);
    out.push_str("(?s)^(?:");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            let escaped = chars
                .next()
                .ok_or_else(|| format!("the pattern {} ends with its escape", quoted(pattern)))?;
            push_literal(escaped, &mut out);
            continue;
        }
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '|' | '*' | '+' | '?' | '(' | ')' => out.push(c),
            '{' => {
                // A repetition count `{m}`, `{m,}`, `{m,n}`: copied as it is.
                out.push('{');
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(digit @ ('0'..='9' | ',')) => out.push(digit),
                        _ => {
                            return Err(format!(
                                "the repetition in {} is not {{m}}, {{m,}} or {{m,n}}",
                                quoted(pattern)
                            ));
                        }
                    }
                }
                out.push('}');
            }
            '[' => bracket(&mut chars, escape, pattern, &mut out)?,
            other => push_literal(other, &mut out),
        }
    }
    out.push_str(")$");
    Regex::new(&out).map_err(|err| {
        format!(
            "{} is not a valid SIMILAR TO pattern: {}",
            quoted(pattern),
            first_line(&err.to_string())
        )
    })?;
    Ok(out)
}

/// The characters of a named class `[:NAME:]`. Unverified: the names SQLstream's SIMILAR TO
/// takes, each meaning what Java's POSIX class of that name does (ASCII only).
fn named_class(name: &str) -> Option<&'static str> {
    Some(match name {
        "ALPHA" => "a-zA-Z",
        "DIGIT" => "0-9",
        "ALNUM" => "a-zA-Z0-9",
        "UPPER" => "A-Z",
        "LOWER" => "a-z",
        "SPACE" | "WHITESPACE" => " \\t\\n\\x0B\\f\\r",
        _ => return None,
    })
}

/// A named class `:NAME:]` next in `chars` (after its `[`): consumed, and its characters.
fn take_named_class(chars: &mut std::str::Chars<'_>) -> Option<&'static str> {
    let rest = chars.as_str().strip_prefix(':')?;
    let (name, _) = rest.split_once(":]")?;
    let class = named_class(name)?;
    for _ in 0..name.chars().count() + 3 {
        chars.next();
    }
    Some(class)
}

/// A bracket expression `[...]` (the `[` already read): a character class, `^` first negating
/// it, `a-z` ranges, named classes such as `[:DIGIT:]` (also on their own, outside brackets);
/// other characters are literal.
fn bracket(
    chars: &mut std::str::Chars<'_>,
    escape: Option<char>,
    pattern: &str,
    out: &mut String,
) -> Result<(), String> {
    out.push('[');
    if let Some(class) = take_named_class(chars) {
        out.push_str(class);
        out.push(']');
        return Ok(());
    }
    let mut first = true;
    loop {
        let c = chars
            .next()
            .ok_or_else(|| format!("the [ in {} is not closed", quoted(pattern)))?;
        if Some(c) == escape {
            let escaped = chars
                .next()
                .ok_or_else(|| format!("the pattern {} ends with its escape", quoted(pattern)))?;
            push_class_literal(escaped, out);
        } else {
            match c {
                '[' if chars.as_str().starts_with(':') => match take_named_class(chars) {
                    Some(class) => out.push_str(class),
                    None => push_class_literal('[', out),
                },
                ']' if !first => break,
                '^' if first => out.push('^'),
                '-' if !first => out.push('-'),
                other => push_class_literal(other, out),
            }
        }
        first = false;
    }
    out.push(']');
    Ok(())
}

fn push_literal(c: char, out: &mut String) {
    let mut buffer = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buffer)));
}

fn push_class_literal(c: char, out: &mut String) {
    if matches!(c, '[' | ']' | '\\' | '^' | '-' | '&' | '~') {
        out.push('\\');
    }
    out.push(c);
}

fn first_line(text: &str) -> &str {
    text.lines().last().unwrap_or(text).trim()
}

/// `text SIMILAR TO pattern [ESCAPE escape]`, NULL where any of them is NULL (as LIKE).
/// `prepared` is the regular expression of a literal pattern (and escape).
pub fn similar_to(
    text: &ArrayRef,
    pattern: &ArrayRef,
    escape: Option<&ArrayRef>,
    prepared: Option<&Regex>,
) -> Result<ArrayRef, EvalError> {
    let texts = strings(text.as_ref(), SIMILAR_TO)?;
    let patterns = strings(pattern.as_ref(), SIMILAR_TO)?;
    let escapes = escape
        .map(|escape| strings(escape.as_ref(), SIMILAR_TO))
        .transpose()?;
    let mut out = Vec::with_capacity(texts.len());
    for row in 0..texts.len() {
        let null = texts.is_null(row)
            || patterns.is_null(row)
            || escapes.is_some_and(|escapes| escapes.is_null(row));
        if null {
            out.push(None);
            continue;
        }
        let matched = match prepared {
            Some(regex) => regex.is_match(texts.value(row)),
            None => {
                let escape = escapes
                    .map(|escapes| escape_char(escapes.value(row)))
                    .transpose()
                    .map_err(|message| EvalError::new(SIMILAR_TO, message))?;
                let regex = compile_similar_to(patterns.value(row), escape)
                    .map_err(|message| EvalError::new(SIMILAR_TO, message))?;
                regex.is_match(texts.value(row))
            }
        };
        out.push(Some(matched));
    }
    Ok(Arc::new(BooleanArray::from(out)))
}

/// The one character of an ESCAPE clause.
pub fn escape_char(escape: &str) -> Result<char, String> {
    let mut chars = escape.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(format!(
            "the escape {} is not one character",
            quoted(escape)
        )),
    }
}

/// The compiled form of a SIMILAR TO pattern.
pub fn compile_similar_to(pattern: &str, escape: Option<char>) -> Result<Regex, String> {
    let translated = similar_to_regex(pattern, escape)?;
    Regex::new(&translated).map_err(|err| first_line(&err.to_string()).to_string())
}

/// A Java regular expression compiled, or why it cannot be.
pub fn compile_java_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|err| {
        format!(
            "{} is not a supported regular expression: {}",
            quoted(pattern),
            first_line(&err.to_string())
        )
    })
}

/// `REGEX_REPLACE(original, regex, replacement, startPosition, occurrence)`: the matches of
/// `regex` in `original` from character `startPosition` (1-based) on replaced, all of them
/// when `occurrence` is 0, else only that one (1-based). NULL where any argument is NULL.
/// A start below 1 or a negative occurrence is an error; a start past the end gives
/// `original` unchanged. `prepared` is the compiled literal pattern.
pub fn regex_replace(args: &[ArrayRef], prepared: Option<&Regex>) -> Result<ArrayRef, EvalError> {
    let [original, pattern, replacement, start, occurrence] = args else {
        return Err(EvalError::new(REGEX_REPLACE, "takes five arguments"));
    };
    let originals = strings(original.as_ref(), REGEX_REPLACE)?;
    let patterns = strings(pattern.as_ref(), REGEX_REPLACE)?;
    let replacements = strings(replacement.as_ref(), REGEX_REPLACE)?;
    let starts: &Int64Array = downcast(start.as_ref(), REGEX_REPLACE)?;
    let occurrences: &Int64Array = downcast(occurrence.as_ref(), REGEX_REPLACE)?;
    let mut out = StringBuilder::with_capacity(originals.len(), originals.value_data().len());
    for row in 0..originals.len() {
        if originals.is_null(row)
            || patterns.is_null(row)
            || replacements.is_null(row)
            || starts.is_null(row)
            || occurrences.is_null(row)
        {
            out.append_null();
            continue;
        }
        let compiled;
        let regex = match prepared {
            Some(regex) => regex,
            None => {
                compiled = compile_java_regex(patterns.value(row))
                    .map_err(|message| EvalError::new(REGEX_REPLACE, message))?;
                &compiled
            }
        };
        let replaced = replace_one(
            originals.value(row),
            regex,
            replacements.value(row),
            starts.value(row),
            occurrences.value(row),
        )?;
        out.append_value(replaced);
    }
    Ok(Arc::new(out.finish()))
}

fn replace_one(
    text: &str,
    regex: &Regex,
    replacement: &str,
    start: i64,
    occurrence: i64,
) -> Result<String, EvalError> {
    if start < 1 {
        return Err(EvalError::new(
            REGEX_REPLACE,
            format!("the start position {start} is less than 1"),
        ));
    }
    if occurrence < 0 {
        return Err(EvalError::new(
            REGEX_REPLACE,
            format!("the occurrence {occurrence} is negative"),
        ));
    }
    let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
    let Some((start_byte, _)) = text.char_indices().nth(skip) else {
        return Ok(text.to_string());
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start_byte]);
    let mut copied = start_byte;
    let mut at = start_byte;
    let mut seen = 0i64;
    while at <= text.len() {
        let Some(captures) = regex.captures_at(text, at) else {
            break;
        };
        let Some(found) = captures.get(0) else {
            break;
        };
        seen += 1;
        if occurrence == 0 || seen == occurrence {
            out.push_str(&text[copied..found.start()]);
            expand_java_replacement(replacement, &captures, &mut out)?;
            copied = found.end();
            if occurrence != 0 {
                break;
            }
        }
        at = if found.is_empty() {
            // An empty match: step over one character so the search moves on.
            match text[found.end()..].chars().next() {
                Some(c) => found.end() + c.len_utf8(),
                None => break,
            }
        } else {
            found.end()
        };
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

/// Appends `replacement` with Java's `Matcher.appendReplacement` rules: `$n` is group n (more
/// digits are taken while they still name a group), `${name}` a named group, `\c` the
/// character c; a group that did not take part adds nothing.
pub fn expand_java_replacement(
    replacement: &str,
    captures: &Captures<'_>,
    out: &mut String,
) -> Result<(), EvalError> {
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => out.push(escaped),
                None => {
                    return Err(EvalError::new(
                        REGEX_REPLACE,
                        "character to be escaped is missing at the end of the replacement",
                    ));
                }
            },
            '$' => {
                let group = match chars.next() {
                    Some('{') => {
                        let mut name = String::new();
                        loop {
                            match chars.next() {
                                Some('}') => break,
                                Some(part) => name.push(part),
                                None => {
                                    return Err(EvalError::new(
                                        REGEX_REPLACE,
                                        "named capturing group is missing trailing '}'",
                                    ));
                                }
                            }
                        }
                        captures.name(&name).map(|m| m.as_str()).ok_or_else(|| {
                            EvalError::new(REGEX_REPLACE, format!("no group with name {{{name}}}"))
                        })?
                    }
                    Some(digit @ '0'..='9') => {
                        let mut number = digit as usize - '0' as usize;
                        while let Some(&next @ '0'..='9') = chars.peek() {
                            let longer = number * 10 + (next as usize - '0' as usize);
                            if longer >= captures.len() {
                                break;
                            }
                            number = longer;
                            chars.next();
                        }
                        if number >= captures.len() {
                            return Err(EvalError::new(
                                REGEX_REPLACE,
                                format!("no group {number} in the regular expression"),
                            ));
                        }
                        captures.get(number).map_or("", |m| m.as_str())
                    }
                    _ => {
                        return Err(EvalError::new(
                            REGEX_REPLACE,
                            "illegal group reference in the replacement",
                        ));
                    }
                };
                out.push_str(group);
            }
            other => out.push(other),
        }
    }
    Ok(())
}

/// Values of a string array as owned options.
#[cfg(test)]
fn texts(array: &ArrayRef) -> Vec<Option<String>> {
    let strings = array
        .as_any()
        .downcast_ref::<arrow::array::StringArray>()
        .expect("a string array");
    strings
        .iter()
        .map(|value| value.map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use arrow::array::StringArray;

    use super::*;

    fn similar(text: &str, pattern: &str) -> bool {
        compile_similar_to(pattern, None)
            .expect("valid pattern")
            .is_match(text)
    }

    #[test]
    fn similar_to_patterns_translate_to_anchored_regexes() {
        assert_eq!(
            similar_to_regex("a%b_c", None).expect("valid"),
            "(?s)^(?:a.*b.c)$"
        );
        assert_eq!(
            similar_to_regex("1.5*", None).expect("valid"),
            "(?s)^(?:1\\.5*)$"
        );
        // The examples of the SQL standard's SIMILAR TO, as other references list them.
        assert!(similar("abc", "abc"));
        assert!(similar("abc", "_b_"));
        assert!(!similar("abc", "_B_"));
        assert!(similar("abc", "%(b|d)%"));
        assert!(!similar("abc", "(b|c)%"));
        assert!(similar(
            "AbcAbcdefgefg12efgefg12",
            "((Ab)?c)+d((efg)+(12))+"
        ));
        assert!(similar("aaaaaab11111xy", "a{6}_[0-9]{5}(x|y){2}"));
        assert!(similar("$0.87", "$[0-9]+(.[0-9][0-9])?"));
        assert!(!similar("abcd", "abc"));
        assert!(similar("x^y", "x^y"));
        assert!(similar("b", "[^a]"));
        assert!(!similar("a", "[^a]"));
        assert!(similar("line\nbreak", "line%"));
        assert!(similar("a1", "[:ALPHA:][:DIGIT:]"));
        assert!(similar("x 9", "[[:ALPHA:]_]+ [[:DIGIT:]]"));
        assert!(!similar("1a", "[:ALPHA:]%"));
    }

    #[test]
    fn similar_to_escapes_and_errors() {
        let regex = compile_similar_to("100!%", Some('!')).expect("valid");
        assert!(regex.is_match("100%"));
        assert!(!regex.is_match("1000"));
        assert!(
            compile_similar_to("(a", None)
                .expect_err("unbalanced")
                .contains("is not a valid SIMILAR TO pattern")
        );
        assert!(compile_similar_to("[ab", None).is_err());
        assert!(compile_similar_to("ab!", Some('!')).is_err());
        assert!(compile_similar_to("a{x}", None).is_err());
        assert_eq!(
            escape_char("!!"),
            Err("the escape '!!' is not one character".into())
        );
    }

    fn replace(text: &str, pattern: &str, with: &str, start: i64, occurrence: i64) -> String {
        let regex = compile_java_regex(pattern).expect("valid regex");
        replace_one(text, &regex, with, start, occurrence).expect("replaces")
    }

    #[test]
    fn regex_replace_follows_java_replace_all() {
        assert_eq!(
            replace("TECHNOLOGY", "TECHNOLOGY", "INFORMATION TECHNOLOGY", 1, 0),
            "INFORMATION TECHNOLOGY"
        );
        assert_eq!(replace("a1b22c333", "[0-9]+", "#", 1, 0), "a#b#c#");
        assert_eq!(replace("a1b22c333", "[0-9]+", "#", 1, 2), "a1b#c333");
        assert_eq!(replace("a1b22c333", "[0-9]+", "#", 4, 0), "a1b#c#");
        assert_eq!(replace("a1b22c333", "[0-9]+", "#", 1, 9), "a1b22c333");
        assert_eq!(replace("abc", "b", "x", 10, 0), "abc");
        assert_eq!(
            replace("John Smith", "(\\w+) (\\w+)", "$2, $1", 1, 0),
            "Smith, John"
        );
        assert_eq!(
            replace(
                "John Smith",
                "(?<first>\\w+) (?<last>\\w+)",
                "${last}",
                1,
                0
            ),
            "Smith"
        );
        assert_eq!(replace("cost", "cost", "\\$5", 1, 0), "$5");
        // `$12` with one group is group 1 followed by "2".
        assert_eq!(replace("ab", "(a)", "$12", 1, 0), "a2b");
        assert_eq!(replace("abc", "x*", "-", 1, 0), "-a-b-c-");
        assert_eq!(replace("ñaña", "a", "o", 3, 0), "ñaño");
    }

    #[test]
    fn regex_replace_errors_and_nulls() {
        let regex = compile_java_regex("a").expect("valid");
        assert!(replace_one("abc", &regex, "x", 0, 0).is_err());
        assert!(replace_one("abc", &regex, "x", 1, -1).is_err());
        assert!(replace_one("abc", &regex, "$2", 1, 0).is_err());
        assert!(replace_one("abc", &regex, "x\\", 1, 0).is_err());
        assert!(replace_one("abc", &regex, "$x", 1, 0).is_err());
        assert!(compile_java_regex("(?=a)").is_err());
        let text = |values: Vec<Option<&str>>| -> ArrayRef { Arc::new(StringArray::from(values)) };
        let ints = |values: Vec<Option<i64>>| -> ArrayRef { Arc::new(Int64Array::from(values)) };
        let result = regex_replace(
            &[
                text(vec![Some("aa"), None, Some("aa")]),
                text(vec![Some("a"), Some("a"), Some("a")]),
                text(vec![Some("b"), Some("b"), Some("b")]),
                ints(vec![Some(1), Some(1), None]),
                ints(vec![Some(0), Some(0), Some(0)]),
            ],
            None,
        )
        .expect("evaluates");
        assert_eq!(texts(&result), vec![Some("bb".into()), None, None]);
    }
}

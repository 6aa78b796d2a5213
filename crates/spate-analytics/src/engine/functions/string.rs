//! String functions: CHAR_LENGTH, LOWER, UPPER, INITCAP, SUBSTRING, POSITION, TRIM, OVERLAY,
//! `||` and LIKE. Positions and lengths count characters (Unicode scalar values), 1-based.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Int64Array, Scalar, StringArray, StringBuilder};
use arrow::compute::kernels::comparison;
use arrow::compute::kernels::concat_elements::concat_elements_utf8;

use super::{EvalError, WIDEST_VARCHAR, ints, quoted, strings};
use crate::input::SqlType;
use crate::input::types::MAX_LENGTH;
use crate::sql::ast::TrimSide;

/// Builds a string array by writing each non-null input through `write`.
fn map_strings(
    input: &StringArray,
    mut write: impl FnMut(usize, &str, &mut String) -> Result<(), EvalError>,
) -> Result<ArrayRef, EvalError> {
    let mut builder = StringBuilder::with_capacity(input.len(), input.value_data().len());
    let mut scratch = String::new();
    for (row, value) in input.iter().enumerate() {
        match value {
            Some(value) => {
                scratch.clear();
                write(row, value, &mut scratch)?;
                builder.append_value(&scratch);
            }
            None => builder.append_null(),
        }
    }
    Ok(Arc::new(builder.finish()))
}

/// The length of a character type's values.
fn length_of(sql_type: SqlType) -> u32 {
    match sql_type {
        SqlType::Char(length) | SqlType::Varchar(length) => length,
        _ => MAX_LENGTH,
    }
}

pub(super) fn char_length(array: &ArrayRef) -> Result<ArrayRef, EvalError> {
    let input = strings(array.as_ref(), "CHAR_LENGTH")?;
    let result: Int64Array = input
        .iter()
        .map(|value| value.map(|text| text.chars().count() as i64))
        .collect();
    Ok(Arc::new(result))
}

pub(super) fn lower(array: &ArrayRef) -> Result<ArrayRef, EvalError> {
    map_strings(strings(array.as_ref(), "LOWER")?, |_, text, out| {
        if text.is_ascii() {
            out.push_str(text);
            out.make_ascii_lowercase();
        } else {
            out.push_str(&text.to_lowercase());
        }
        Ok(())
    })
}

pub(super) fn upper(array: &ArrayRef) -> Result<ArrayRef, EvalError> {
    map_strings(strings(array.as_ref(), "UPPER")?, |_, text, out| {
        if text.is_ascii() {
            out.push_str(text);
            out.make_ascii_uppercase();
        } else {
            out.push_str(&text.to_uppercase());
        }
        Ok(())
    })
}

/// INITCAP: the first character of each word upper-case, the others lower-case. The reference
/// says words are "space-delimited"; Unverified: tabs and newlines delimit too here.
pub(super) fn initcap(array: &ArrayRef) -> Result<ArrayRef, EvalError> {
    map_strings(strings(array.as_ref(), "INITCAP")?, |_, text, out| {
        let mut word_start = true;
        for c in text.chars() {
            if word_start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            word_start = c.is_whitespace();
        }
        Ok(())
    })
}

/// The byte range of the characters at 1-based positions `from..until` (`until` exclusive,
/// `None` for the end) of `text`, clamped to the text.
fn char_range(text: &str, from: i64, until: Option<i64>) -> (usize, usize) {
    let first = from.max(1);
    let last = until.map(|until| until.max(first));
    if text.is_ascii() {
        let length = text.len() as i64;
        let start = (first - 1).min(length) as usize;
        let end = last.map_or(length, |last| (last - 1).min(length)) as usize;
        return (start, end);
    }
    let mut start = text.len();
    let mut end = text.len();
    for (index, (offset, _)) in text.char_indices().enumerate() {
        let position = index as i64 + 1;
        if position == first {
            start = offset;
        }
        if Some(position) == last {
            end = offset;
            break;
        }
    }
    (start, end.max(start))
}

/// The result type of SUBSTRING, TRIM: a VARCHAR as long as the argument.
pub fn substring_type(sql_type: SqlType) -> SqlType {
    SqlType::Varchar(length_of(sql_type))
}

/// SUBSTRING(s FROM from [FOR length]): the characters from position `from` (1-based; before
/// 1 counts toward the length) for `length` characters. A negative length is an error (the SQL
/// standard's "substring error").
pub fn substring(
    text: &ArrayRef,
    from: &ArrayRef,
    length: Option<&ArrayRef>,
) -> Result<ArrayRef, EvalError> {
    const NAME: &str = "SUBSTRING";
    let texts = strings(text.as_ref(), NAME)?;
    let froms = ints(from.as_ref(), NAME)?;
    let lengths = length
        .map(|length| ints(length.as_ref(), NAME))
        .transpose()?;
    let mut builder = StringBuilder::with_capacity(texts.len(), texts.value_data().len());
    for row in 0..texts.len() {
        let length = match lengths {
            Some(lengths) if lengths.is_null(row) => None,
            Some(lengths) => Some(Some(lengths.value(row))),
            None => Some(None),
        };
        let (Some(length), false, false) = (length, texts.is_null(row), froms.is_null(row)) else {
            builder.append_null();
            continue;
        };
        let text = texts.value(row);
        let from = froms.value(row);
        if let Some(length) = length
            && length < 0
        {
            return Err(EvalError::new(NAME, format!("negative length {length}")));
        }
        let until = length.map(|length| from.saturating_add(length));
        let (start, end) = char_range(text, from, until);
        builder.append_value(&text[start..end]);
    }
    Ok(Arc::new(builder.finish()))
}

/// POSITION(needle IN haystack): the 1-based character position of the first occurrence, 0
/// when there is none, 1 for an empty needle. INTEGER.
pub fn position(needle: &ArrayRef, haystack: &ArrayRef) -> Result<ArrayRef, EvalError> {
    let needles = strings(needle.as_ref(), "POSITION")?;
    let haystacks = strings(haystack.as_ref(), "POSITION")?;
    let result: Int64Array = needles
        .iter()
        .zip(haystacks.iter())
        .map(|(needle, haystack)| {
            let (needle, haystack) = (needle?, haystack?);
            Some(match haystack.find(needle) {
                Some(offset) => haystack[..offset].chars().count() as i64 + 1,
                None => 0,
            })
        })
        .collect();
    Ok(Arc::new(result))
}

pub fn trim_type(sql_type: SqlType) -> SqlType {
    substring_type(sql_type)
}

/// TRIM([side] [characters] FROM s): removes the trim character (a space when `characters`
/// is `None`) from one or both ends. The trim character must be a single character (the SQL
/// standard's "trim error"; Unverified: whether Kinesis Data Analytics allows more).
pub fn trim(
    side: TrimSide,
    characters: Option<&ArrayRef>,
    text: &ArrayRef,
) -> Result<ArrayRef, EvalError> {
    const NAME: &str = "TRIM";
    let texts = strings(text.as_ref(), NAME)?;
    let characters = characters
        .map(|characters| strings(characters.as_ref(), NAME))
        .transpose()?;
    let mut builder = StringBuilder::with_capacity(texts.len(), texts.value_data().len());
    for row in 0..texts.len() {
        let trim_char = match characters {
            Some(characters) if characters.is_null(row) => None,
            Some(characters) => {
                let value = characters.value(row);
                let mut chars = value.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some(c),
                    _ => {
                        return Err(EvalError::new(
                            NAME,
                            format!("the trim character {} is not one character", quoted(value)),
                        ));
                    }
                }
            }
            None => Some(' '),
        };
        let (Some(trim_char), false) = (trim_char, texts.is_null(row)) else {
            builder.append_null();
            continue;
        };
        let value = texts.value(row);
        let trimmed = match side {
            TrimSide::Both => value.trim_matches(trim_char),
            TrimSide::Leading => value.trim_start_matches(trim_char),
            TrimSide::Trailing => value.trim_end_matches(trim_char),
        };
        builder.append_value(trimmed);
    }
    Ok(Arc::new(builder.finish()))
}

/// The result type of OVERLAY: a VARCHAR long enough for both strings.
pub fn overlay_type(text: SqlType, placing: SqlType) -> SqlType {
    SqlType::Varchar(
        length_of(text)
            .saturating_add(length_of(placing))
            .min(MAX_LENGTH),
    )
}

/// OVERLAY(s PLACING r FROM start [FOR length]): `s` with `length` characters (by default as
/// many as `r` has) from `start` replaced by `r`, that is `SUBSTRING(s FROM 1 FOR start - 1)
/// || r || SUBSTRING(s FROM start + length)` as the SQL standard defines it; so a start below 1
/// is an error, and a negative length repeats characters (`OVERLAY('abcdef' PLACING 'X' FROM 3
/// FOR -1)` is `'abXbcdef'`).
pub fn overlay(
    text: &ArrayRef,
    placing: &ArrayRef,
    start: &ArrayRef,
    length: Option<&ArrayRef>,
) -> Result<ArrayRef, EvalError> {
    const NAME: &str = "OVERLAY";
    let texts = strings(text.as_ref(), NAME)?;
    let placings = strings(placing.as_ref(), NAME)?;
    let starts = ints(start.as_ref(), NAME)?;
    let lengths = length
        .map(|length| ints(length.as_ref(), NAME))
        .transpose()?;
    let mut builder = StringBuilder::with_capacity(
        texts.len(),
        texts.value_data().len() + placings.value_data().len(),
    );
    let mut out = String::new();
    for row in 0..texts.len() {
        let any_null = texts.is_null(row)
            || placings.is_null(row)
            || starts.is_null(row)
            || lengths.is_some_and(|lengths| lengths.is_null(row));
        if any_null {
            builder.append_null();
            continue;
        }
        let (text, placing, start) = (texts.value(row), placings.value(row), starts.value(row));
        if start < 1 {
            return Err(EvalError::new(
                NAME,
                format!("start position {start} is before 1"),
            ));
        }
        let length = match lengths {
            Some(lengths) => lengths.value(row),
            None => placing.chars().count() as i64,
        };
        let (_, head_end) = char_range(text, 1, Some(start));
        let (tail_start, _) = char_range(text, start.saturating_add(length), None);
        out.clear();
        out.push_str(&text[..head_end]);
        out.push_str(placing);
        out.push_str(&text[tail_start..]);
        builder.append_value(&out);
    }
    Ok(Arc::new(builder.finish()))
}

/// The type of `left || right`: CHAR when both are CHAR, else VARCHAR, as long as both
/// together (at most the longest VARCHAR).
pub fn concat_type(left: SqlType, right: SqlType) -> SqlType {
    let length = length_of(left)
        .saturating_add(length_of(right))
        .min(MAX_LENGTH);
    match (left, right) {
        (SqlType::Char(_), SqlType::Char(_)) => SqlType::Char(length),
        _ if length == MAX_LENGTH => WIDEST_VARCHAR,
        _ => SqlType::Varchar(length),
    }
}

/// `left || right` of two character arrays (NULL if either is).
pub fn concat(left: &ArrayRef, right: &ArrayRef) -> Result<ArrayRef, EvalError> {
    let left = strings(left.as_ref(), "||")?;
    let right = strings(right.as_ref(), "||")?;
    let result =
        concat_elements_utf8(left, right).map_err(|err| EvalError::new("||", err.to_string()))?;
    Ok(Arc::new(result))
}

/// `text LIKE pattern [ESCAPE escape]`: `%` matches any characters, `_` one character; with an
/// ESCAPE character, it makes the next `%`, `_` or escape character literal (anything else
/// after it is an error, as in the SQL standard). Without ESCAPE there is no escape character.
pub fn like(
    text: &ArrayRef,
    pattern: &ArrayRef,
    escape: Option<&ArrayRef>,
) -> Result<ArrayRef, EvalError> {
    const NAME: &str = "LIKE";
    let texts = strings(text.as_ref(), NAME)?;
    let patterns = strings(pattern.as_ref(), NAME)?;
    let escapes = escape
        .map(|escape| strings(escape.as_ref(), NAME))
        .transpose()?;
    // Arrow's LIKE takes `\` as its escape: rewrite each pattern into that form.
    let mut rewritten = StringBuilder::with_capacity(patterns.len(), patterns.value_data().len());
    let mut out = String::new();
    for row in 0..patterns.len() {
        let escape_char = match escapes {
            Some(escapes) if escapes.is_null(row) => {
                rewritten.append_null();
                continue;
            }
            Some(escapes) => {
                let value = escapes.value(row);
                let mut chars = value.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some(c),
                    _ => {
                        return Err(EvalError::new(
                            NAME,
                            format!("the escape {} is not one character", quoted(value)),
                        ));
                    }
                }
            }
            None => None,
        };
        if patterns.is_null(row) {
            rewritten.append_null();
            continue;
        }
        out.clear();
        rewrite_like_pattern(patterns.value(row), escape_char, &mut out)?;
        rewritten.append_value(&out);
    }
    let rewritten = rewritten.finish();
    let result: BooleanArray = if is_constant(&rewritten) && !rewritten.is_empty() {
        let scalar = Scalar::new(rewritten.slice(0, 1));
        comparison::like(texts, &scalar)
    } else {
        comparison::like(texts, &rewritten)
    }
    .map_err(|err| EvalError::new(NAME, err.to_string()))?;
    Ok(Arc::new(result))
}

fn rewrite_like_pattern(
    pattern: &str,
    escape: Option<char>,
    out: &mut String,
) -> Result<(), EvalError> {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            match chars.next() {
                Some(next) if next == '%' || next == '_' || Some(next) == escape => {
                    out.push('\\');
                    out.push(next);
                }
                _ => {
                    return Err(EvalError::new(
                        "LIKE",
                        format!("invalid escape sequence in {}", quoted(pattern)),
                    ));
                }
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Ok(())
}

/// Whether every row holds the same value (all non-null): then one compiled pattern serves.
fn is_constant(array: &StringArray) -> bool {
    if array.null_count() > 0 || array.is_empty() {
        return false;
    }
    let first = array.value(0);
    (1..array.len()).all(|row| array.value(row) == first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::functions::resolve;

    fn texts(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn ints_of(values: &[Option<i64>]) -> ArrayRef {
        Arc::new(Int64Array::from(values.to_vec()))
    }

    fn values(array: &ArrayRef) -> Vec<Option<String>> {
        strings(array.as_ref(), "test")
            .expect("strings")
            .iter()
            .map(|value| value.map(str::to_string))
            .collect()
    }

    fn owned(values: &[Option<&str>]) -> Vec<Option<String>> {
        values
            .iter()
            .map(|value| value.map(str::to_string))
            .collect()
    }

    fn call(name: &str, input: &[Option<&str>]) -> Vec<Option<String>> {
        let function = resolve(name, &[SqlType::Varchar(20)]).expect("resolves");
        assert_eq!(function.return_type(), SqlType::Varchar(20));
        let result = function
            .evaluate(&[texts(input)], input.len())
            .expect("evaluates");
        values(&result)
    }

    #[test]
    fn case_functions_and_char_length() {
        assert_eq!(
            call("UPPER", &[Some("abc Ü"), None]),
            owned(&[Some("ABC Ü"), None])
        );
        assert_eq!(call("LOWER", &[Some("AbC")]), owned(&[Some("abc")]));
        assert_eq!(
            call("INITCAP", &[Some("hello wORLD  of sql"), Some("")]),
            owned(&[Some("Hello World  Of Sql"), Some("")])
        );
        let function = resolve("CHARACTER_LENGTH", &[SqlType::Char(4)]).expect("resolves");
        assert_eq!(function.return_type(), SqlType::Integer);
        let lengths = function
            .evaluate(&[texts(&[Some("héllo"), None, Some("")])], 3)
            .expect("lengths");
        let lengths: Vec<_> = ints(lengths.as_ref(), "test")
            .expect("ints")
            .iter()
            .collect();
        assert_eq!(lengths, vec![Some(5), None, Some(0)]);
        resolve("UPPER", &[SqlType::Integer]).expect_err("not a string");
    }

    #[test]
    fn substring_follows_sql_positions() {
        let text = texts(&[
            Some("abcdef"),
            Some("abcdef"),
            Some("abcdef"),
            Some("héllo"),
            None,
            Some("abc"),
        ]);
        let from = ints_of(&[Some(2), Some(0), Some(5), Some(2), Some(1), None]);
        let length = ints_of(&[Some(3), Some(2), Some(10), Some(3), Some(1), Some(1)]);
        let result = substring(&text, &from, Some(&length)).expect("substring");
        assert_eq!(
            values(&result),
            owned(&[Some("bcd"), Some("a"), Some("ef"), Some("éll"), None, None])
        );
        let result =
            substring(&texts(&[Some("abcdef")]), &ints_of(&[Some(4)]), None).expect("to the end");
        assert_eq!(values(&result), owned(&[Some("def")]));
        substring(
            &texts(&[Some("abc")]),
            &ints_of(&[Some(1)]),
            Some(&ints_of(&[Some(-1)])),
        )
        .expect_err("negative length");
        let function = resolve(
            "SUBSTRING",
            &[SqlType::Char(6), SqlType::Integer, SqlType::Integer],
        )
        .expect("comma form");
        assert_eq!(function.return_type(), SqlType::Varchar(6));
        let error = resolve("SUBSTRING", &[SqlType::Integer]).expect_err("one argument");
        assert_eq!(
            error.to_string(),
            "Invalid number of arguments to function 'SUBSTRING'. Was expecting 2 or 3 arguments"
        );
    }

    #[test]
    fn position_counts_characters() {
        let result = position(
            &texts(&[Some("c"), Some("z"), Some(""), Some("l"), None]),
            &texts(&[
                Some("abc"),
                Some("abc"),
                Some("abc"),
                Some("héllo"),
                Some("x"),
            ]),
        )
        .expect("position");
        let result: Vec<_> = ints(result.as_ref(), "test")
            .expect("ints")
            .iter()
            .collect();
        assert_eq!(result, vec![Some(3), Some(0), Some(1), Some(3), None]);
    }

    #[test]
    fn trim_removes_one_character_from_the_chosen_sides() {
        let text = texts(&[Some("  a b  "), None]);
        let both = trim(TrimSide::Both, None, &text).expect("trim");
        assert_eq!(values(&both), owned(&[Some("a b"), None]));
        let leading = trim(TrimSide::Leading, None, &text).expect("trim");
        assert_eq!(values(&leading), owned(&[Some("a b  "), None]));
        let trailing = trim(
            TrimSide::Trailing,
            Some(&texts(&[Some("x"), Some("x")])),
            &texts(&[Some("xxaxx"), Some("b")]),
        )
        .expect("trim");
        assert_eq!(values(&trailing), owned(&[Some("xxa"), Some("b")]));
        trim(
            TrimSide::Both,
            Some(&texts(&[Some("ab")])),
            &texts(&[Some("abc")]),
        )
        .expect_err("two trim characters");
        assert_eq!(trim_type(SqlType::Char(5)), SqlType::Varchar(5));
    }

    #[test]
    fn overlay_replaces_a_range() {
        let result = overlay(
            &texts(&[Some("abcdef"), Some("abcdef"), Some("abc"), None]),
            &texts(&[Some("XY"), Some("XY"), Some("XY"), Some("Z")]),
            &ints_of(&[Some(2), Some(2), Some(5), Some(1)]),
            Some(&ints_of(&[Some(3), Some(0), Some(1), Some(1)])),
        )
        .expect("overlay");
        assert_eq!(
            values(&result),
            owned(&[Some("aXYef"), Some("aXYbcdef"), Some("abcXY"), None])
        );
        let result = overlay(
            &texts(&[Some("héllo")]),
            &texts(&[Some("EY")]),
            &ints_of(&[Some(2)]),
            None,
        )
        .expect("default length");
        assert_eq!(values(&result), owned(&[Some("hEYlo")]));
        overlay(
            &texts(&[Some("abc")]),
            &texts(&[Some("x")]),
            &ints_of(&[Some(0)]),
            None,
        )
        .expect_err("start before 1");
        let result = overlay(
            &texts(&[Some("abcdef")]),
            &texts(&[Some("X")]),
            &ints_of(&[Some(3)]),
            Some(&ints_of(&[Some(-1)])),
        )
        .expect("negative length");
        assert_eq!(values(&result), owned(&[Some("abXbcdef")]));
        assert_eq!(
            overlay_type(SqlType::Varchar(4), SqlType::Char(3)),
            SqlType::Varchar(7)
        );
    }

    #[test]
    fn concat_joins_and_types_its_result() {
        let result = concat(
            &texts(&[Some("ab"), None]),
            &texts(&[Some("cd"), Some("x")]),
        )
        .expect("concat");
        assert_eq!(values(&result), owned(&[Some("abcd"), None]));
        assert_eq!(
            concat_type(SqlType::Char(2), SqlType::Char(3)),
            SqlType::Char(5)
        );
        assert_eq!(
            concat_type(SqlType::Varchar(2), SqlType::Char(3)),
            SqlType::Varchar(5)
        );
        assert_eq!(
            concat_type(SqlType::Varchar(60_000), SqlType::Varchar(60_000)),
            WIDEST_VARCHAR
        );
    }

    #[test]
    fn like_matches_wildcards_and_escapes() {
        let text = texts(&[Some("abc"), Some("a%c"), Some("a\\c"), None, Some("xyz")]);
        let pattern = texts(&[Some("a_c"); 5]);
        let result = like(&text, &pattern, None).expect("like");
        let result: Vec<_> = super::super::booleans(result.as_ref(), "test")
            .expect("booleans")
            .iter()
            .collect();
        assert_eq!(
            result,
            vec![Some(true), Some(true), Some(true), None, Some(false)]
        );

        let pattern = texts(&[
            Some("a!%c"),
            Some("a!%c"),
            Some("a\\c"),
            Some("%"),
            Some("x%"),
        ]);
        let escape = texts(&[Some("!"); 5]);
        let result = like(&text, &pattern, Some(&escape)).expect("like with escape");
        let result: Vec<_> = super::super::booleans(result.as_ref(), "test")
            .expect("booleans")
            .iter()
            .collect();
        assert_eq!(
            result,
            vec![Some(false), Some(true), Some(true), None, Some(true)]
        );
        like(
            &texts(&[Some("a")]),
            &texts(&[Some("!a")]),
            Some(&texts(&[Some("!")])),
        )
        .expect_err("escape before an ordinary character");
    }
}

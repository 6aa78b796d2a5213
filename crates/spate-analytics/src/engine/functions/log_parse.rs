//! The log-parsing functions of the SQL reference, whose value is a ROW of columns:
//! REGEX_LOG_PARSE (a Java regular expression, one VARCHAR(1024) column per group,
//! COLUMN1...COLUMNn), FAST_REGEX_LOG_PARSER (a Fast Regex pattern, matched lazily without
//! backtracking, likewise one VARCHAR(1024) column per group), W3C_LOG_PARSE (an Apache log format, predefined or
//! custom, one column per specifier), VARIABLE_COLUMN_LOG_PARSE (fields between delimiters,
//! with an escape and quotes), FIXED_COLUMN_LOG_PARSE (fields at fixed character positions)
//! and SYS_LOG_PARSE (a syslog timestamp and the message).
//!
//! A [`LogParser`] is built once from the function's literal arguments (its format, pattern
//! or column list), so its columns are known when the query is planned; [`LogParser::parse`]
//! turns a batch's lines into an Arrow `Struct` array with one child per column. A NULL line,
//! or one the format does not match, gives a NULL row whose columns are all NULL, as the
//! reference says of REGEX_LOG_PARSE (Unverified for the other functions, whose pages are
//! silent). A field that does not convert to its column's type is an error of the row, which
//! goes to the error stream (Unverified).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Date32Array, StringArray, StructArray, Time32MillisecondArray,
    TimestampMillisecondArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{Field, Fields};
use regex::Regex;

use super::fast_regex::FastRegex;
use super::format::Pattern;
use super::strftime::strftime_regex;
use super::{EvalError, cast, strings};
use crate::engine::schema::{Column, arrow_type};
use crate::input::SqlType;

/// The type of the columns of REGEX_LOG_PARSE (as its reference page says) and, Unverified,
/// of the other functions' text columns.
pub const LOG_TEXT: SqlType = SqlType::Varchar(1024);

const MILLIS_PER_DAY: i64 = 86_400_000;

/// How a line is cut into its fields' texts.
#[derive(Debug)]
enum Cutter {
    /// The groups of a regular expression, in order (the first match in the line).
    Groups(Regex),
    /// The groups of a Fast Regex pattern, which accounts for the whole line.
    FastGroups(FastRegex),
    /// Fields between delimiters.
    Delimited {
        delimiter: String,
        escape: Option<char>,
        quotes: Option<(char, char)>,
    },
    /// Fields at character positions: start (0-based) and length (to the end when `None`).
    Fixed(Vec<(usize, Option<usize>)>),
    /// `Mon DD HH:MM:SS message`, the timestamp read with this pattern.
    SysLog(Pattern),
}

/// One column of a parser's row: its name and type, and for a datetime the pattern its text
/// is read with.
#[derive(Debug, Clone)]
struct LogColumn {
    column: Column,
    time_format: Option<Pattern>,
}

impl LogColumn {
    fn text(name: String) -> LogColumn {
        LogColumn {
            column: Column::new(name, LOG_TEXT),
            time_format: None,
        }
    }
}

/// A log-parsing function, its format read.
#[derive(Debug)]
pub struct LogParser {
    function: &'static str,
    cutter: Cutter,
    columns: Vec<LogColumn>,
}

fn numbered(count: usize) -> Vec<LogColumn> {
    (1..=count)
        .map(|index| LogColumn::text(format!("COLUMN{index}")))
        .collect()
}

impl LogParser {
    /// `REGEX_LOG_PARSE(line, pattern [, columns])`:
    /// COLUMN1..COLUMNn VARCHAR(1024) for the pattern's n groups, or the listed columns
    /// (`name [type], ...`, one per group).
    ///
    /// Unverified: the pattern is searched for in the line (Java's `Matcher.find`), not
    /// matched against the whole line; patterns written for whole lines behave the same.
    pub fn regex(
        function: &'static str,
        pattern: &str,
        columns: Option<&str>,
    ) -> Result<LogParser, String> {
        let regex = super::regex::compile_java_regex(pattern)?;
        let groups = regex.captures_len() - 1;
        if groups == 0 {
            return Err("the pattern has no group, so it would give no column".to_string());
        }
        let columns = match columns {
            None => numbered(groups),
            Some(list) => {
                let listed: Vec<LogColumn> = descriptions(list, false)?
                    .into_iter()
                    .map(|(column, _)| column)
                    .collect();
                if listed.len() != groups {
                    return Err(format!(
                        "{} columns are listed for the pattern's {groups} groups",
                        listed.len()
                    ));
                }
                listed
            }
        };
        Ok(LogParser {
            function,
            cutter: Cutter::Groups(regex),
            columns,
        })
    }

    /// `FAST_REGEX_LOG_PARSER(line, pattern)`: COLUMN1..COLUMNn VARCHAR(1024) for the
    /// pattern's n groups.
    pub fn fast_regex(function: &'static str, pattern: &str) -> Result<LogParser, String> {
        let pattern = FastRegex::compile(pattern)?;
        let columns = numbered(pattern.columns());
        Ok(LogParser {
            function,
            cutter: Cutter::FastGroups(pattern),
            columns,
        })
    }

    /// `W3C_LOG_PARSE(line, format)`: a predefined format's name or an Apache format string.
    ///
    /// Unverified: every column is VARCHAR(1024), COLUMN1...COLUMNn. The reference says a
    /// column's type follows its specifier (%b numeric), but the developer guide's example
    /// inserts every COMMON column into a VARCHAR(16) without CAST, which only character
    /// values allow. As the reference's examples show, %t's column keeps its brackets (`[%t]`
    /// in a custom format leaves them out) and `"%r"`'s column is the text between the quotes.
    /// `%{format}t` (or `%[format]t`) is the time as strftime writes it with that format;
    /// IIS is Microsoft's fixed IIS log file format (see `iis_regex`).
    pub fn w3c(format: &str) -> Result<LogParser, String> {
        let (regex, count) = w3c_regex(format)?;
        Ok(LogParser {
            function: "W3C_LOG_PARSE",
            cutter: Cutter::Groups(regex),
            columns: numbered(count),
        })
    }

    /// `VARIABLE_COLUMN_LOG_PARSE(line, columns, delimiter [, escape, quotes])`; `columns`
    /// is a count or a list of column descriptions.
    pub fn variable(
        columns: Result<usize, &str>,
        delimiter: &str,
        escape: Option<&str>,
        quotes: Option<&str>,
    ) -> Result<LogParser, String> {
        const NAME: &str = "VARIABLE_COLUMN_LOG_PARSE";
        if delimiter.is_empty() {
            return Err("the delimiter is empty".to_string());
        }
        let columns = match columns {
            Ok(0) => return Err("it needs at least one column".to_string()),
            Ok(count) => numbered(count),
            Err(list) => descriptions(list, false)?
                .into_iter()
                .map(|(column, _)| column)
                .collect(),
        };
        let escape = match escape {
            None | Some("") => None,
            Some(escape) => Some(super::regex::escape_char(escape)?),
        };
        let quotes = match quotes.map(|quotes| quotes.chars().collect::<Vec<_>>()) {
            None => None,
            Some(chars) => match chars.as_slice() {
                [] => None,
                [both] => Some((*both, *both)),
                [begin, end] => Some((*begin, *end)),
                _ => return Err("the quotes are one or two characters".to_string()),
            },
        };
        Ok(LogParser {
            function: NAME,
            cutter: Cutter::Delimited {
                delimiter: delimiter.to_string(),
                escape,
                quotes,
            },
            columns,
        })
    }

    /// `FIXED_COLUMN_LOG_PARSE(line, 'name TYPE type START n [FOR m], ...')`.
    pub fn fixed(list: &str) -> Result<LogParser, String> {
        let described = descriptions(list, true)?;
        let mut positions = Vec::with_capacity(described.len());
        let mut columns = Vec::with_capacity(described.len());
        for (column, position) in described {
            positions.push(
                position.ok_or_else(|| {
                    format!("column {} has no START position", column.column.name)
                })?,
            );
            columns.push(column);
        }
        Ok(LogParser {
            function: "FIXED_COLUMN_LOG_PARSE",
            cutter: Cutter::Fixed(positions),
            columns,
        })
    }

    /// `SYS_LOG_PARSE(line)`: COLUMN1 TIMESTAMP and COLUMN2 the rest of the line.
    ///
    /// Unverified: a syslog timestamp has no year, and it is read as Java's
    /// SimpleDateFormat reads `MMM dd HH:mm:ss`, in 1970; COLUMN2's "VARCHAR()" is taken
    /// as VARCHAR(1024).
    pub fn sys_log() -> Result<LogParser, String> {
        let time = Pattern::compile("MMM dd HH:mm:ss")?;
        Ok(LogParser {
            function: "SYS_LOG_PARSE",
            cutter: Cutter::SysLog(time.clone()),
            columns: vec![
                LogColumn {
                    column: Column::new("COLUMN1", SqlType::Timestamp),
                    time_format: Some(time),
                },
                LogColumn::text("COLUMN2".to_string()),
            ],
        })
    }

    /// The row's columns, in order.
    pub fn columns(&self) -> Vec<Column> {
        self.columns
            .iter()
            .map(|column| column.column.clone())
            .collect()
    }

    /// The texts of a line's fields, or `None` when the line does not have this format.
    fn cut(&self, line: &str) -> Option<Vec<Option<String>>> {
        let width = self.columns.len();
        match &self.cutter {
            Cutter::Groups(regex) => {
                let captures = regex.captures(line)?;
                Some(
                    (1..=width)
                        .map(|group| captures.get(group).map(|m| m.as_str().to_string()))
                        .collect(),
                )
            }
            Cutter::FastGroups(pattern) => {
                Some(pattern.columns_of(line)?.into_iter().map(Some).collect())
            }
            Cutter::Delimited {
                delimiter,
                escape,
                quotes,
            } => {
                let mut fields = split_delimited(line, delimiter, *escape, *quotes);
                // Unverified: fields past the last column are dropped; missing ones are NULL.
                fields.resize(width, None);
                Some(fields)
            }
            Cutter::Fixed(positions) => Some(
                positions
                    .iter()
                    .map(|&(start, length)| {
                        let text: String = match length {
                            Some(length) => line.chars().skip(start).take(length).collect(),
                            None => line.chars().skip(start).collect(),
                        };
                        // Unverified: a field beyond the end of the line is NULL.
                        (line.chars().count() > start).then_some(text)
                    })
                    .collect(),
            ),
            Cutter::SysLog(time) => {
                let stamp: String = line.chars().take(15).collect();
                let rest = line.get(stamp.len()..)?.trim_start();
                // `May  4`: a day below 10 is padded with a space.
                let stamp = match stamp.get(3..5) {
                    Some("  ") => format!("{} 0{}", &stamp[..3], &stamp[5..]),
                    _ => stamp,
                };
                time.parse(&stamp).ok()?;
                Some(vec![Some(stamp), Some(rest.to_string())])
            }
        }
    }

    /// The rows of `lines`: a `Struct` array with one child per column.
    pub fn parse(&self, lines: &ArrayRef) -> Result<ArrayRef, EvalError> {
        let lines = strings(lines.as_ref(), self.function)?;
        let width = self.columns.len();
        let mut texts: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(lines.len()); width];
        let mut valid = Vec::with_capacity(lines.len());
        for row in 0..lines.len() {
            let fields = if lines.is_null(row) {
                None
            } else {
                self.cut(lines.value(row))
            };
            valid.push(fields.is_some());
            let fields = fields.unwrap_or_else(|| vec![None; width]);
            for (column, field) in texts.iter_mut().zip(fields) {
                column.push(field);
            }
        }
        let mut children = Vec::with_capacity(width);
        let mut fields = Vec::with_capacity(width);
        for (column, values) in self.columns.iter().zip(texts) {
            children.push(self.convert(column, values)?);
            fields.push(Field::new(
                &column.column.name,
                arrow_type(column.column.sql_type),
                true,
            ));
        }
        let nulls = NullBuffer::from(valid);
        let array = StructArray::try_new(Fields::from(fields), children, Some(nulls))
            .map_err(|err| EvalError::new(self.function, err.to_string()))?;
        Ok(Arc::new(array))
    }

    /// A column's texts as values of its type: read with its datetime pattern, or cast.
    fn convert(
        &self,
        column: &LogColumn,
        values: Vec<Option<String>>,
    ) -> Result<ArrayRef, EvalError> {
        let sql_type = column.column.sql_type;
        if let Some(pattern) = &column.time_format {
            let mut millis = Vec::with_capacity(values.len());
            for value in &values {
                millis.push(
                    value
                        .as_deref()
                        .map(|text| pattern.parse(text.trim()))
                        .transpose()
                        .map_err(|message| EvalError::new(self.function, message))?,
                );
            }
            return Ok(match sql_type {
                SqlType::Date => Arc::new(Date32Array::from(
                    millis
                        .iter()
                        .map(|m| m.map(|m| m.div_euclid(MILLIS_PER_DAY) as i32))
                        .collect::<Vec<_>>(),
                )),
                SqlType::Time => Arc::new(Time32MillisecondArray::from(
                    millis
                        .iter()
                        .map(|m| m.map(|m| m.rem_euclid(MILLIS_PER_DAY) as i32))
                        .collect::<Vec<_>>(),
                )),
                _ => Arc::new(TimestampMillisecondArray::from(millis)),
            });
        }
        let texts: ArrayRef = Arc::new(StringArray::from(values));
        cast(
            &texts,
            SqlType::Varchar(crate::input::types::MAX_LENGTH),
            sql_type,
        )
    }
}

/// A line cut at each `delimiter`; `escape` makes the next character literal, and text
/// between `quotes` keeps its delimiters (the quotes themselves are dropped). A quoted
/// string ends at the end quote or at the begin quote, as the reference allows both.
fn split_delimited(
    line: &str,
    delimiter: &str,
    escape: Option<char>,
    quotes: Option<(char, char)>,
) -> Vec<Option<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if !quoted && rest.starts_with(delimiter) {
            fields.push(Some(std::mem::take(&mut field)));
            rest = &rest[delimiter.len()..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        if Some(c) == escape {
            if let Some(next) = rest.chars().next() {
                field.push(next);
                rest = &rest[next.len_utf8()..];
            }
            continue;
        }
        match quotes {
            Some((begin, _)) if !quoted && c == begin => quoted = true,
            // The reference: the begin character may end a quoted string as well.
            Some((begin, end)) if quoted && (c == end || c == begin) => quoted = false,
            _ => field.push(c),
        }
    }
    fields.push(Some(field));
    fields
}

/// The regular expression of a W3C_LOG_PARSE format and its number of columns.
fn w3c_regex(format: &str) -> Result<(Regex, usize), String> {
    let normalized = format.split_whitespace().collect::<Vec<_>>().join(" ");
    let specifiers = match normalized.to_ascii_uppercase().as_str() {
        "COMMON" => r#"%h %l %u %t "%r" %>s %b"#.to_string(),
        "COMMON WITH VHOST" => r#"%v %h %l %u %t "%r" %>s %b"#.to_string(),
        "NCSA EXTENDED" => r#"%h %l %u %t "%r" %>s %b "%[Referer]i" "%[User-agent]i""#.to_string(),
        "REFERER" => "%[Referer]i ---> %U".to_string(),
        "AGENT" => "%[User-agent]i".to_string(),
        "IIS" => return iis_regex(),
        _ if format.contains('%') => format.to_string(),
        _ => {
            return Err(format!(
                "{} is neither a predefined format nor an Apache log format",
                super::quoted(format)
            ));
        }
    };
    let mut pattern = String::from("^");
    let mut count = 0;
    let mut chars = specifiers.chars().peekable();
    let mut previous_literal: Option<char> = None;
    while let Some(mut c) = chars.next() {
        if c != '%' {
            // `\"` (as Apache's configuration writes a quote inside a format) is a quote.
            if c == '\\'
                && let Some(escaped) = chars.next()
            {
                c = escaped;
            }
            let mut buffer = [0u8; 4];
            pattern.push_str(&regex::escape(c.encode_utf8(&mut buffer)));
            previous_literal = Some(c);
            continue;
        }
        // Modifiers (`>`, `<`, `!200,304`), an argument in braces or brackets, the letter.
        let mut letter = None;
        let mut argument: Option<String> = None;
        while let Some(next) = chars.next() {
            match next {
                '{' | '[' => {
                    let close = if next == '{' { '}' } else { ']' };
                    let mut text = String::new();
                    for inner in chars.by_ref() {
                        if inner == close {
                            break;
                        }
                        text.push(inner);
                    }
                    argument = Some(text);
                }
                '<' | '>' | '!' | ',' | '0'..='9' => {}
                other => {
                    letter = Some(other);
                    break;
                }
            }
        }
        let letter = letter.ok_or_else(|| {
            format!(
                "the format {} ends inside a specifier",
                super::quoted(format)
            )
        })?;
        if letter == '%' {
            pattern.push('%');
            previous_literal = Some('%');
            continue;
        }
        count += 1;
        if letter == 't'
            && let Some(time_format) = &argument
        {
            // `%{format}t`: the time as strftime writes it, without brackets.
            pattern.push('(');
            pattern.push_str(&strftime_regex(time_format)?);
            pattern.push(')');
            previous_literal = None;
            continue;
        }
        let quoted = previous_literal == Some('"') && {
            let mut ahead = chars.clone();
            let next = match ahead.next() {
                Some('\\') => ahead.next(),
                other => other,
            };
            next == Some('"')
        };
        pattern.push_str(if letter == 't' && previous_literal == Some('[') {
            // `[%t]`: the brackets are the format's, the column is the time between them.
            r"([^\]]*)"
        } else if letter == 't' {
            // `%t` is `[10/Oct/2000:13:55:36 -0700]`, brackets included, as the reference's
            // example shows.
            r"(\[[^\]]*\])"
        } else if quoted {
            r#"((?:[^"\\]|\\.)*)"#
        } else {
            r"(\S*)"
        });
        previous_literal = None;
    }
    pattern.push('$');
    if count == 0 {
        return Err(format!(
            "the format {} has no specifier",
            super::quoted(format)
        ));
    }
    let regex = Regex::new(&pattern).map_err(|err| err.to_string())?;
    Ok((regex, count))
}

/// The IIS log file format (Microsoft's fixed one): 15 fields, each followed by `, ` (the
/// last by a lone `,`): client IP, user name, date, time, service and instance, server name,
/// server IP, time taken, client bytes sent, server bytes sent, service status, Windows
/// status, request type, target of operation, parameters.
///
/// Unverified: the reference names IIS among the predefined formats without giving its
/// specifiers; this is the format IIS itself calls "IIS log file format". As for the other
/// formats, its columns are COLUMN1...COLUMN15 VARCHAR(1024), a field holds no comma, and
/// the final comma may be missing.
fn iis_regex() -> Result<(Regex, usize), String> {
    const FIELDS: usize = 15;
    let pattern = format!("^{},?$", vec!["([^,]*)"; FIELDS].join(", "));
    let regex = Regex::new(&pattern).map_err(|err| err.to_string())?;
    Ok((regex, FIELDS))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Literal(String),
    Open,
    Close,
    Comma,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Token::Open),
            ')' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            '"' | '\'' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some(end) if end == c => {
                            if chars.peek() == Some(&c) {
                                chars.next();
                                value.push(c);
                            } else {
                                break;
                            }
                        }
                        Some(other) => value.push(other),
                        None => return Err(format!("a {c} is not closed in the column list")),
                    }
                }
                out.push(if c == '"' {
                    Token::Quoted(value)
                } else {
                    Token::Literal(value)
                });
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if next.is_alphanumeric() || next == '_' || next == '$' {
                        word.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Word(word));
            }
            other => return Err(format!("unexpected {other:?} in the column list")),
        }
    }
    Ok(out)
}

type Position = Option<(usize, Option<usize>)>;

/// A column list: `name [TYPE type ['format']] [NOT NULL] [START n [FOR m]], ...`. A column
/// without a TYPE is Unverified VARCHAR(1024); NOT NULL is accepted and not checked
/// (Unverified: what AWS does with a NULL field there). `fixed` allows START and FOR.
fn descriptions(list: &str, fixed: bool) -> Result<Vec<(LogColumn, Position)>, String> {
    let all = tokens(list)?;
    let mut parts: Vec<Vec<Token>> = vec![Vec::new()];
    let mut depth = 0usize;
    for token in all {
        match token {
            Token::Open => depth += 1,
            Token::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
        if token == Token::Comma && depth == 0 {
            parts.push(Vec::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(token);
        }
    }
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        out.push(description(&part, fixed)?);
    }
    Ok(out)
}

fn keyword(token: Option<&Token>, word: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
}

fn description(part: &[Token], fixed: bool) -> Result<(LogColumn, Position), String> {
    let mut at = 0;
    let name = match part.first() {
        Some(Token::Word(word)) => word.to_ascii_uppercase(),
        Some(Token::Quoted(name)) => name.clone(),
        _ => return Err("a column description starts with the column's name".to_string()),
    };
    at += 1;
    let mut column = LogColumn::text(name.clone());
    let typed = match part.get(at) {
        // REGEX_LOG_PARSE lists `name type`, the others `name TYPE type`.
        _ if keyword(part.get(at), "TYPE") => {
            at += 1;
            true
        }
        Some(Token::Word(word)) => !["NOT", "START"]
            .iter()
            .any(|stop| word.eq_ignore_ascii_case(stop)),
        _ => false,
    };
    if typed {
        let mut text = String::new();
        while let Some(token) = part.get(at) {
            match token {
                Token::Word(word)
                    if !["NOT", "START", "FOR"]
                        .iter()
                        .any(|stop| word.eq_ignore_ascii_case(stop)) =>
                {
                    if !text.is_empty() && !text.ends_with('(') && !text.ends_with(',') {
                        text.push(' ');
                    }
                    text.push_str(word);
                }
                Token::Open => text.push('('),
                Token::Close => text.push(')'),
                Token::Comma => text.push(','),
                _ => break,
            }
            at += 1;
        }
        let sql_type = SqlType::parse(&text).map_err(|err| format!("column {name}: {err}"))?;
        column.column.sql_type = sql_type;
        if let Some(Token::Literal(format)) = part.get(at) {
            if !matches!(sql_type, SqlType::Date | SqlType::Time | SqlType::Timestamp) {
                return Err(format!(
                    "column {name}: only DATE, TIME and TIMESTAMP columns take a format"
                ));
            }
            column.time_format =
                Some(Pattern::compile(format).map_err(|err| format!("column {name}: {err}"))?);
            at += 1;
        }
    }
    if keyword(part.get(at), "NOT") && keyword(part.get(at + 1), "NULL") {
        at += 2;
    }
    let mut position = None;
    if fixed && keyword(part.get(at), "START") {
        let number = |token: Option<&Token>| -> Result<usize, String> {
            match token {
                Some(Token::Word(word)) => word
                    .parse()
                    .map_err(|_| format!("column {name}: {word} is not a position")),
                _ => Err(format!("column {name}: START and FOR take a number")),
            }
        };
        let start = number(part.get(at + 1))?;
        at += 2;
        let mut length = None;
        if keyword(part.get(at), "FOR") {
            length = Some(number(part.get(at + 1))?);
            at += 2;
        }
        position = Some((start, length));
    }
    if at != part.len() {
        return Err(format!(
            "column {name}: unexpected {:?} in its description",
            part[at]
        ));
    }
    Ok((column, position))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(parser: &LogParser, line: &str) -> Option<Vec<Option<String>>> {
        parser.cut(line)
    }

    fn texts(values: &[&str]) -> Option<Vec<Option<String>>> {
        Some(values.iter().map(|value| Some(value.to_string())).collect())
    }

    #[test]
    fn w3c_predefined_formats_cut_apache_lines() {
        let common = LogParser::w3c("COMMON").expect("predefined");
        assert_eq!(common.columns().len(), 7);
        assert_eq!(common.columns()[0], Column::new("COLUMN1", LOG_TEXT));
        assert_eq!(
            row(
                &common,
                r#"192.168.254.30 - John [24/May/2004:22:01:02 -0700] "GET /icons/apache_pb.gif HTTP/1.1" 304 0"#
            ),
            texts(&[
                "192.168.254.30",
                "-",
                "John",
                "[24/May/2004:22:01:02 -0700]",
                "GET /icons/apache_pb.gif HTTP/1.1",
                "304",
                "0"
            ])
        );
        assert_eq!(row(&common, "not a log line"), None);
        let vhost = LogParser::w3c("common  with vhost").expect("predefined");
        assert_eq!(vhost.columns().len(), 8);
        let ncsa = LogParser::w3c("NCSA EXTENDED").expect("predefined");
        assert_eq!(
            row(
                &ncsa,
                r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "http://example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#
            ),
            texts(&[
                "127.0.0.1",
                "-",
                "frank",
                "[10/Oct/2000:13:55:36 -0700]",
                "GET /a.gif HTTP/1.0",
                "200",
                "2326",
                "http://example.com/start.html",
                "Mozilla/4.08 [en] (Win98; I ;Nav)"
            ])
        );
        let referer = LogParser::w3c("REFERER").expect("predefined");
        assert_eq!(
            row(&referer, "http://example.com/ ---> /index.html"),
            texts(&["http://example.com/", "/index.html"])
        );
    }

    #[test]
    fn w3c_custom_formats_and_refusals() {
        // The reference's custom form of COMMON, its quotes escaped, and `[%t]`.
        let custom = LogParser::w3c(r#"%h %l %u [%t] \"%r\" %>s %b"#).expect("custom");
        assert_eq!(
            row(
                &custom,
                r#"192.168.254.30 - Jane [24/May/2004:22:01:02 -0700] "GET /icons/small/dir.gif HTTP/1.1" 304 0"#
            ),
            texts(&[
                "192.168.254.30",
                "-",
                "Jane",
                "24/May/2004:22:01:02 -0700",
                "GET /icons/small/dir.gif HTTP/1.1",
                "304",
                "0"
            ])
        );
        let custom = LogParser::w3c("%h %{X-Forwarded-For}i %>s %D").expect("custom");
        assert_eq!(
            row(&custom, "10.0.0.1 203.0.113.9 500 1234"),
            texts(&["10.0.0.1", "203.0.113.9", "500", "1234"])
        );
        let iis = LogParser::w3c("iis").expect("predefined");
        assert_eq!(
            row(
                &iis,
                "192.168.114.201, -, 03/20/98, 7:55:20, W3SVC2, SALES1, 172.21.13.45, 4502, 163, 3223, 200, 0, GET, /DeptLogo.gif, -,"
            ),
            texts(&[
                "192.168.114.201",
                "-",
                "03/20/98",
                "7:55:20",
                "W3SVC2",
                "SALES1",
                "172.21.13.45",
                "4502",
                "163",
                "3223",
                "200",
                "0",
                "GET",
                "/DeptLogo.gif",
                "-"
            ])
        );
        assert_eq!(row(&iis, "a, b, c"), None);
        assert!(LogParser::w3c("CUSTOM").is_err());
        assert!(LogParser::w3c("%h %").is_err());
        let timed = LogParser::w3c("%h [%{%d/%b/%Y:%H:%M:%S %z}t] %{%s}t %>s").expect("custom");
        assert_eq!(
            row(
                &timed,
                "10.0.0.1 [10/Oct/2000:13:55:36 -0700] 971211336 200"
            ),
            texts(&["10.0.0.1", "10/Oct/2000:13:55:36 -0700", "971211336", "200"])
        );
        assert_eq!(row(&timed, "10.0.0.1 [10/Oct/2000] 971211336 200"), None);
        assert!(
            LogParser::w3c("%h %{msec}t")
                .expect_err("refused")
                .contains("not supported yet")
        );
    }

    #[test]
    fn delimited_fields_with_escape_and_quotes() {
        assert_eq!(
            split_delimited("a,b", ",", Some('\\'), None),
            vec![Some("a".into()), Some("b".into())]
        );
        assert_eq!(
            split_delimited("a\\,b", ",", Some('\\'), None),
            vec![Some("a,b".into())]
        );
        assert_eq!(
            split_delimited("x,\"y,z\",", ",", None, Some(('"', '"'))),
            vec![Some("x".into()), Some("y,z".into()), Some(String::new())]
        );
        assert_eq!(
            split_delimited("[a,b],[c,d[", ",", None, Some(('[', ']'))),
            vec![Some("a,b".into()), Some("c,d".into())]
        );
        assert_eq!(
            split_delimited("1::2", "::", None, None),
            vec![Some("1".into()), Some("2".into())]
        );
        let parser = LogParser::variable(
            Err("COL_1 TYPE VARCHAR(16), \"col 2\" TYPE DECIMAL(10, 2) NOT NULL, c3"),
            ",",
            None,
            None,
        )
        .expect("valid list");
        assert_eq!(
            parser.columns(),
            vec![
                Column::new("COL_1", SqlType::Varchar(16)),
                Column::new(
                    "col 2",
                    SqlType::Decimal {
                        precision: 10,
                        scale: 2
                    }
                ),
                Column::new("C3", LOG_TEXT),
            ]
        );
        assert!(LogParser::variable(Ok(0), ",", None, None).is_err());
        assert!(LogParser::variable(Err("A TYPE NOPE"), ",", None, None).is_err());
    }

    #[test]
    fn regex_groups_are_columns() {
        let parser = LogParser::regex("REGEX_LOG_PARSE", "(\\w+)=(\\d+)", None).expect("valid");
        assert_eq!(
            parser.columns(),
            vec![
                Column::new("COLUMN1", LOG_TEXT),
                Column::new("COLUMN2", LOG_TEXT)
            ]
        );
        assert_eq!(row(&parser, "took=42ms"), texts(&["took", "42"]));
        assert_eq!(row(&parser, "nothing"), None);
        let named = LogParser::regex(
            "REGEX_LOG_PARSE",
            "(\\w+)=(\\d+)",
            Some("key, value INTEGER"),
        )
        .expect("valid");
        assert_eq!(
            named.columns(),
            vec![
                Column::new("KEY", LOG_TEXT),
                Column::new("VALUE", SqlType::Integer)
            ]
        );
        assert!(LogParser::regex("REGEX_LOG_PARSE", "(a)", Some("x, y")).is_err());
        assert!(LogParser::regex("REGEX_LOG_PARSE", "abc", None).is_err());
    }

    #[test]
    fn fixed_columns_and_syslog() {
        let parser = LogParser::fixed(
            "code TYPE INTEGER START 0 FOR 3, at TYPE TIMESTAMP 'dd/MMM/yyyy:HH:mm:ss' START 4 FOR 20, rest TYPE VARCHAR(32) START 25",
        )
        .expect("valid list");
        assert_eq!(
            row(&parser, "404 24/May/2004:22:01:02 missing page"),
            texts(&["404", "24/May/2004:22:01:02", "missing page"])
        );
        assert!(LogParser::fixed("a TYPE INTEGER").is_err());
        let syslog = LogParser::sys_log().expect("fixed format");
        assert_eq!(
            row(&syslog, "May  4 22:01:02 host sshd[42]: Accepted"),
            texts(&["May 04 22:01:02", "host sshd[42]: Accepted"])
        );
    }
}

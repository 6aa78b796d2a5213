//! Functions prepared once, when a query is planned, rather than on every batch: SIMILAR TO
//! and REGEX_REPLACE compile a literal pattern into a regular expression (an invalid one is a
//! plan error at its line and column), and the log-parsing functions read their format into a
//! parser whose columns are known before any row arrives.
//!
//! A [`PreparedFunction`] is what a [`PhysicalExpr::Prepared`] runs on its arguments' arrays.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::kernels::boolean;
use arrow::datatypes::DataType;
use regex::Regex;

use super::expr::{EvalError, PhysicalExpr, PlanError, plan_error};
use super::functions::log_parse::LogParser;
use super::functions::{self, regex as sql_regex};
use super::schema::Column;
use super::types::ExprType;
use crate::input::SqlType;
use crate::sql::ast::Position;

/// A function with what was prepared for it at plan time.
#[derive(Debug)]
pub enum PreparedFunction {
    /// `s [NOT] SIMILAR TO p [ESCAPE e]`: arguments `s`, `p` and `e` if given; `regex` is the
    /// literal pattern's, `None` when each row's pattern is compiled as it comes.
    SimilarTo { negated: bool, regex: Option<Regex> },
    /// `REGEX_REPLACE(original, regex, replacement, startPosition, occurrence)`.
    RegexReplace { regex: Option<Regex> },
    /// A log-parsing function on its one argument, the line: its value is a ROW (an Arrow
    /// `Struct` array) of the parser's columns.
    LogParse(LogParser),
}

impl PreparedFunction {
    /// The function's values for arguments `args` (each a full-length array).
    pub fn evaluate(&self, args: &[ArrayRef]) -> Result<ArrayRef, EvalError> {
        match self {
            PreparedFunction::SimilarTo { negated, regex } => {
                let [text, pattern, rest @ ..] = args else {
                    return Err(EvalError("SIMILAR TO is missing an argument".into()));
                };
                let matched = sql_regex::similar_to(text, pattern, rest.first(), regex.as_ref())?;
                if *negated {
                    Ok(Arc::new(boolean::not(matched.as_boolean())?))
                } else {
                    Ok(matched)
                }
            }
            PreparedFunction::RegexReplace { regex } => {
                Ok(sql_regex::regex_replace(args, regex.as_ref())?)
            }
            PreparedFunction::LogParse(parser) => {
                let line = args
                    .first()
                    .ok_or_else(|| EvalError("a log-parsing function needs its line".into()))?;
                Ok(parser.parse(line)?)
            }
        }
    }

    /// The columns of the ROW the function gives, if it gives one.
    pub fn row_columns(&self) -> Option<Vec<Column>> {
        match self {
            PreparedFunction::LogParse(parser) => Some(parser.columns()),
            _ => None,
        }
    }
}

/// The value of a literal character argument: `Some(None)` for a NULL literal, `None` when
/// the argument is not a literal.
fn literal_text(expr: &PhysicalExpr) -> Option<Option<String>> {
    match expr {
        PhysicalExpr::Literal { value, .. } => match value.data_type() {
            DataType::Null => Some(None),
            DataType::Utf8 => {
                let strings = value.as_string::<i32>();
                Some(strings.is_valid(0).then(|| strings.value(0).to_string()))
            }
            _ => None,
        },
        PhysicalExpr::Coerce { expr, .. } => literal_text(expr),
        _ => None,
    }
}

/// Whether `expr` is a bare `NULL` (typed by its context or not).
fn is_null_literal(expr: &PhysicalExpr) -> bool {
    match expr {
        PhysicalExpr::Literal { value, .. } => value.data_type() == &DataType::Null,
        PhysicalExpr::Coerce { expr, .. } => is_null_literal(expr),
        _ => false,
    }
}

/// `text [NOT] SIMILAR TO pattern [ESCAPE escape]`, its arguments compiled as character
/// strings. A literal pattern (and escape) is compiled now.
pub fn similar_to(
    text: PhysicalExpr,
    pattern: PhysicalExpr,
    escape: Option<PhysicalExpr>,
    negated: bool,
    pos: Position,
) -> Result<PhysicalExpr, PlanError> {
    let literal_escape = match &escape {
        None => Some(None),
        Some(escape) => match literal_text(escape) {
            Some(Some(text)) => Some(Some(
                sql_regex::escape_char(&text).map_err(|message| plan_error(pos, message))?,
            )),
            // A NULL escape makes every row NULL: nothing to prepare.
            Some(None) | None => None,
        },
    };
    let regex = match (literal_text(&pattern), literal_escape) {
        (Some(Some(pattern)), Some(escape)) => Some(
            sql_regex::compile_similar_to(&pattern, escape)
                .map_err(|message| plan_error(pos, message))?,
        ),
        _ => None,
    };
    let mut args = vec![text, pattern];
    args.extend(escape);
    Ok(PhysicalExpr::Prepared {
        function: Arc::new(PreparedFunction::SimilarTo { negated, regex }),
        args,
        ty: ExprType::Sql(SqlType::Boolean),
    })
}

/// Whether a function called by name is one of the prepared functions.
pub fn is_prepared(name: &str) -> bool {
    matches!(
        name,
        "REGEX_REPLACE"
            | "REGEX_LOG_PARSE"
            | "FAST_REGEX_LOG_PARSER"
            | "FAST_REGEX_LOG_PARSE"
            | "W3C_LOG_PARSE"
            | "VARIABLE_COLUMN_LOG_PARSE"
            | "FIXED_COLUMN_LOG_PARSE"
            | "SYS_LOG_PARSE"
    )
}

/// A call by name of a prepared function, its arguments compiled and typed.
pub fn call(
    name: &str,
    args: Vec<PhysicalExpr>,
    types: &[SqlType],
    pos: Position,
) -> Result<PhysicalExpr, PlanError> {
    match name {
        "REGEX_REPLACE" => regex_replace(args, types, pos),
        "REGEX_LOG_PARSE" => log_parse(args, types, pos, "REGEX_LOG_PARSE", 2..=3, |args| {
            let columns = args.get(2).map(|_| text_arg(args, 2)).transpose()?;
            LogParser::regex("REGEX_LOG_PARSE", &text_arg(args, 1)?, columns.as_deref())
        }),
        // The page is titled FAST_REGEX_LOG_PARSER and its examples call FAST_REGEX_LOG_PARSE.
        "FAST_REGEX_LOG_PARSER" | "FAST_REGEX_LOG_PARSE" => {
            log_parse(args, types, pos, "FAST_REGEX_LOG_PARSER", 2..=2, |args| {
                LogParser::fast_regex("FAST_REGEX_LOG_PARSER", &text_arg(args, 1)?)
            })
        }
        "W3C_LOG_PARSE" => log_parse(args, types, pos, "W3C_LOG_PARSE", 2..=2, |args| {
            LogParser::w3c(&text_arg(args, 1)?)
        }),
        "VARIABLE_COLUMN_LOG_PARSE" => log_parse(
            args,
            types,
            pos,
            "VARIABLE_COLUMN_LOG_PARSE",
            3..=5,
            |args| {
                let columns = match literal_integer(&args[1]) {
                    Some(count) => Ok(usize::try_from(count)
                        .map_err(|_| format!("{count} is not a number of columns"))?),
                    None => Err(text_arg(args, 1)?),
                };
                let escape = args.get(3).map(|_| text_arg(args, 3)).transpose()?;
                let quotes = args.get(4).map(|_| text_arg(args, 4)).transpose()?;
                LogParser::variable(
                    columns.as_ref().map(|count| *count).map_err(String::as_str),
                    &text_arg(args, 2)?,
                    escape.as_deref(),
                    quotes.as_deref(),
                )
            },
        ),
        "FIXED_COLUMN_LOG_PARSE" => {
            log_parse(args, types, pos, "FIXED_COLUMN_LOG_PARSE", 2..=2, |args| {
                LogParser::fixed(&text_arg(args, 1)?)
            })
        }
        "SYS_LOG_PARSE" => log_parse(args, types, pos, "SYS_LOG_PARSE", 1..=1, |_| {
            LogParser::sys_log()
        }),
        other => Err(plan_error(pos, format!("{other} is not supported yet"))),
    }
}

/// A literal character argument's text, or why it is needed as one.
fn text_arg(args: &[PhysicalExpr], index: usize) -> Result<String, String> {
    match args.get(index).and_then(literal_text) {
        Some(Some(text)) => Ok(text),
        _ => Err(format!(
            "argument {} must be a character literal: the function's columns are known when the query is planned",
            index + 1
        )),
    }
}

fn literal_integer(expr: &PhysicalExpr) -> Option<i64> {
    match expr {
        PhysicalExpr::Literal { value, .. } if value.data_type() == &DataType::Int64 => {
            let values = value.as_primitive::<arrow::datatypes::Int64Type>();
            values.is_valid(0).then(|| values.value(0))
        }
        _ => None,
    }
}

/// A log-parsing function: its line (the first argument, a character string) is all it
/// evaluates; the other arguments are literals `build` reads into the parser.
fn log_parse(
    args: Vec<PhysicalExpr>,
    types: &[SqlType],
    pos: Position,
    name: &str,
    count: std::ops::RangeInclusive<usize>,
    build: impl FnOnce(&[PhysicalExpr]) -> Result<LogParser, String>,
) -> Result<PhysicalExpr, PlanError> {
    if !count.contains(&args.len()) {
        return Err(plan_error(
            pos,
            format!(
                "{name} takes {} to {} arguments, not {}",
                count.start(),
                count.end(),
                args.len()
            ),
        ));
    }
    if !types.first().is_some_and(|ty| ty.is_character()) {
        return Err(plan_error(
            pos,
            format!("{name} parses a character string: its first argument is one"),
        ));
    }
    let parser = build(&args).map_err(|message| plan_error(pos, format!("{name}: {message}")))?;
    let line = args
        .into_iter()
        .next()
        .ok_or_else(|| plan_error(pos, format!("{name} needs the line to parse")))?;
    Ok(PhysicalExpr::Prepared {
        function: Arc::new(PreparedFunction::LogParse(parser)),
        args: vec![line],
        ty: ExprType::Row,
    })
}

fn regex_replace(
    args: Vec<PhysicalExpr>,
    types: &[SqlType],
    pos: Position,
) -> Result<PhysicalExpr, PlanError> {
    // Three character strings, then two integers; a bare NULL takes the type of its place.
    let expected = [
        SqlType::Varchar(1),
        SqlType::Varchar(1),
        SqlType::Varchar(1),
        SqlType::Integer,
        SqlType::Integer,
    ];
    let fits = types.len() == expected.len()
        && types
            .iter()
            .zip(&args)
            .zip(expected)
            .all(|((ty, arg), want)| {
                is_null_literal(arg)
                    || match want {
                        SqlType::Integer => ty.integer_range().is_some(),
                        _ => ty.is_character(),
                    }
            });
    if !fits {
        let error = functions::FunctionError::ArgumentTypes {
            name: "REGEX_REPLACE",
            args: types.to_vec(),
            supported: "REGEX_REPLACE(<CHARACTER>, <CHARACTER>, <CHARACTER>, <INTEGER>, <INTEGER>)",
        };
        return Err(plan_error(pos, error.to_string()));
    }
    let args: Vec<PhysicalExpr> = args
        .into_iter()
        .zip(expected)
        .map(|(arg, want)| {
            if is_null_literal(&arg) {
                PhysicalExpr::Literal {
                    value: arrow::array::new_null_array(&super::schema::arrow_type(want), 1),
                    ty: ExprType::Sql(want),
                }
            } else {
                arg
            }
        })
        .collect();
    let regex = match args.get(1).and_then(literal_text) {
        Some(Some(pattern)) => Some(
            sql_regex::compile_java_regex(&pattern).map_err(|message| plan_error(pos, message))?,
        ),
        _ => None,
    };
    Ok(PhysicalExpr::Prepared {
        function: Arc::new(PreparedFunction::RegexReplace { regex }),
        args,
        ty: ExprType::Sql(functions::WIDEST_VARCHAR),
    })
}

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
use super::functions::{self, regex as sql_regex};
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
    matches!(name, "REGEX_REPLACE")
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
        other => Err(plan_error(pos, format!("{other} is not supported yet"))),
    }
}

fn regex_replace(
    args: Vec<PhysicalExpr>,
    types: &[SqlType],
    pos: Position,
) -> Result<PhysicalExpr, PlanError> {
    let expected = [true, true, true, false, false];
    let fits = types.len() == expected.len()
        && types
            .iter()
            .zip(expected)
            .all(|(ty, character)| match character {
                true => ty.is_character(),
                false => ty.integer_range().is_some(),
            });
    if !fits {
        let error = functions::FunctionError::ArgumentTypes {
            name: "REGEX_REPLACE",
            args: types.to_vec(),
            supported: "REGEX_REPLACE(<CHARACTER>, <CHARACTER>, <CHARACTER>, <INTEGER>, <INTEGER>)",
        };
        return Err(plan_error(pos, error.to_string()));
    }
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

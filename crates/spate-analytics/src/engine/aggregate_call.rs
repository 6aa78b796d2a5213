//! Aggregate calls of SQL resolved to [`Aggregate`]s, for tumbling (GROUP BY) and sliding
//! (OVER) windows alike: which names are aggregates, which take DISTINCT or a null treatment,
//! and the extra arguments of LAG (offset, default), NTH_VALUE (n, FROM FIRST|LAST) and
//! EXP_AVG (the half-life).

use super::aggregate::{Aggregate, AggregateFunction};
use super::expr::{PhysicalExpr, PlanError, Scope, coerce, compile, constant_interval, plan_error};
use super::types::ExprType;
use crate::input::SqlType;
use crate::sql::ast::{Expr, FunctionArg, FunctionCall, Literal, SetQuantifier};

/// Whether `name` (upper case) is an aggregate or analytic function of the reference.
pub fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "COUNT"
            | "SUM"
            | "AVG"
            | "MIN"
            | "MAX"
            | "FIRST_VALUE"
            | "LAST_VALUE"
            | "VAR_POP"
            | "VAR_SAMP"
            | "STDDEV_POP"
            | "STDDEV_SAMP"
            | "STD_DEV"
            | "EXP_AVG"
            | "LAG"
            | "NTH_VALUE"
            | "ANY"
            | "EVERY"
    )
}

/// The aggregate of `call` (named `name`), its arguments compiled in `scope`; `windowed` when
/// the call has OVER.
pub fn resolve_aggregate(
    call: &FunctionCall,
    name: &str,
    scope: &mut dyn Scope,
    windowed: bool,
) -> Result<Aggregate, PlanError> {
    let pos = call.pos;
    let distinct = call.quantifier == Some(SetQuantifier::Distinct);
    let args: Vec<&Expr> = call
        .args
        .iter()
        .filter_map(|arg| match arg {
            FunctionArg::Expr(expr) => Some(expr),
            _ => None,
        })
        .collect();
    let star = matches!(call.args.as_slice(), [FunctionArg::Star]);
    if args.len() != call.args.len() && !(star && name == "COUNT") {
        return Err(plan_error(
            pos,
            format!("{name} takes no * or named arguments"),
        ));
    }
    let wrong_arguments = |expected: &str| plan_error(pos, format!("{name} takes {expected}"));
    let (function, argument_count) = match (name, args.len()) {
        ("COUNT", 0) if star => (AggregateFunction::CountRows, 0),
        ("COUNT", 1) if distinct => (AggregateFunction::CountDistinct, 1),
        ("COUNT", 1) => (AggregateFunction::Count, 1),
        ("COUNT", _) => return Err(wrong_arguments("one argument or *")),
        ("SUM", 1) => (AggregateFunction::Sum, 1),
        ("AVG", 1) => (AggregateFunction::Avg, 1),
        ("MIN", 1) => (AggregateFunction::Min, 1),
        ("MAX", 1) => (AggregateFunction::Max, 1),
        // ANY and EVERY of booleans are their MAX and MIN (FALSE < TRUE): TRUE if any (every)
        // row's value is TRUE; NULLs count not at all, and a group or window of NULLs alone
        // gives NULL (Unverified: the reference does not say).
        ("ANY", 1) => (AggregateFunction::Max, 1),
        ("EVERY", 1) => (AggregateFunction::Min, 1),
        // Unverified: the reference calls FIRST_VALUE and LAST_VALUE analytic functions that
        // require OVER; here they also aggregate a GROUP BY window (its first or last row in
        // arrival order), as SQLstream's aggregates of the same names do.
        ("FIRST_VALUE", 1) => (AggregateFunction::FirstValue, 1),
        ("LAST_VALUE", 1) => (AggregateFunction::LastValue, 1),
        ("VAR_POP", 1) => (AggregateFunction::VarPop, 1),
        ("VAR_SAMP", 1) => (AggregateFunction::VarSamp, 1),
        ("STDDEV_POP", 1) => (AggregateFunction::StddevPop, 1),
        // The reference: "STD_DEV is an alias of STDDEV_SAMP".
        ("STDDEV_SAMP" | "STD_DEV", 1) => (AggregateFunction::StddevSamp, 1),
        ("EXP_AVG", 2) => (
            AggregateFunction::ExpAvg {
                half_life: constant_interval(args[1], pos)?,
            },
            1,
        ),
        ("EXP_AVG", _) => return Err(wrong_arguments("an expression and an INTERVAL")),
        ("LAG", 1..=3) => (
            AggregateFunction::Lag {
                offset: match args.get(1) {
                    Some(offset) if is_literal(offset) => {
                        whole_number(offset, call, name, "offset", 0)?
                    }
                    _ => 1,
                },
            },
            1,
        ),
        ("LAG", _) => return Err(wrong_arguments("an expression, an offset and a default")),
        ("NTH_VALUE", 2) => (
            AggregateFunction::NthValue {
                n: if is_literal(args[1]) {
                    whole_number(args[1], call, name, "n", 1)?
                } else {
                    1
                },
                from_last: call.from_last == Some(true),
            },
            1,
        ),
        ("NTH_VALUE", _) => return Err(wrong_arguments("an expression and a row number")),
        _ => return Err(wrong_arguments("one argument")),
    };
    if function.needs_over() && !windowed {
        return Err(plan_error(
            pos,
            format!("{name} is an analytic function: it needs OVER a window"),
        ));
    }
    // DISTINCT and the null treatment as the reference's pages allow them.
    let takes_distinct =
        !function.picks_a_row() && !matches!(function, AggregateFunction::ExpAvg { .. });
    if distinct && !takes_distinct {
        return Err(plan_error(pos, format!("{name} does not take DISTINCT")));
    }
    if call.ignore_nulls.is_some() && !function.picks_a_row() {
        return Err(plan_error(
            pos,
            format!("{name} does not take IGNORE NULLS or RESPECT NULLS"),
        ));
    }
    let argument = args
        .first()
        .filter(|_| argument_count == 1)
        .map(|argument| compile(argument, scope))
        .transpose()?;
    let argument_type = argument.as_ref().map(|argument| argument.ty());
    if matches!(name, "ANY" | "EVERY")
        && let Some(ty) = argument_type.filter(|ty| *ty != ExprType::Sql(SqlType::Boolean))
    {
        return Err(plan_error(pos, format!("{name} needs a BOOLEAN, not {ty}")));
    }
    let mut aggregate =
        Aggregate::new(function, argument).map_err(|message| plan_error(pos, message))?;
    aggregate.distinct = distinct && function != AggregateFunction::CountDistinct;
    aggregate.ignore_nulls = call.ignore_nulls == Some(true);
    let offset_argument = match function {
        AggregateFunction::Lag { .. } => args.get(1).map(|offset| (*offset, "offset")),
        AggregateFunction::NthValue { .. } => args.get(1).map(|n| (*n, "n")),
        _ => None,
    };
    if let Some((offset, what)) = offset_argument.filter(|(offset, _)| !is_literal(offset)) {
        aggregate.row_offset = Some(row_offset(offset, scope, name, what, pos)?);
    }
    if let (AggregateFunction::Lag { .. }, Some(default), Some(ty)) =
        (function, args.get(2), argument_type)
    {
        let default = compile(default, scope)?;
        let default_type = default.ty();
        let compatible = default_type == ty
            || matches!(default, super::expr::PhysicalExpr::Literal { .. })
            || (default_type.sql().is_some_and(|t| t.is_numeric())
                && ty.sql().is_some_and(|t| t.is_numeric()))
            || (default_type.sql().is_some_and(|t| t.is_character())
                && ty.sql().is_some_and(|t| t.is_character()));
        if !compatible {
            return Err(plan_error(
                pos,
                format!("LAG's default is {default_type}, not the {ty} of its expression"),
            ));
        }
        aggregate.default = Some(coerce(default, ty));
    }
    Ok(aggregate)
}

/// Whether an argument is a literal (LAG's offset and NTH_VALUE's n then are checked at plan
/// time), signed or not.
fn is_literal(expr: &Expr) -> bool {
    match expr {
        Expr::Literal(_) => true,
        Expr::Unary { expr, .. } => is_literal(expr),
        _ => false,
    }
}

/// LAG's offset or NTH_VALUE's n written as an expression: an exact number, evaluated for
/// each record.
fn row_offset(
    expr: &Expr,
    scope: &mut dyn Scope,
    name: &str,
    what: &str,
    pos: crate::sql::ast::Position,
) -> Result<PhysicalExpr, PlanError> {
    let compiled = compile(expr, scope)?;
    match compiled.ty() {
        ExprType::Sql(
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt,
        )
        | ExprType::Null => Ok(compiled),
        other => Err(plan_error(
            pos,
            format!("{name}'s {what} is a whole number, not {other}"),
        )),
    }
}

/// A whole-number literal argument (LAG's offset, NTH_VALUE's n) of at least `min`.
fn whole_number(
    expr: &Expr,
    call: &FunctionCall,
    name: &str,
    what: &str,
    min: u64,
) -> Result<u64, PlanError> {
    // Literals carry no position of their own: errors point at the call.
    let pos = call.pos;
    match expr {
        Expr::Literal(Literal::Number(text)) => match text.parse::<u64>() {
            Ok(number) if number >= min => Ok(number),
            _ => Err(plan_error(
                pos,
                format!("{name}'s {what} must be a whole number of at least {min}"),
            )),
        },
        _ => Err(plan_error(
            pos,
            format!("{name}'s {what} must be a whole number of at least {min}"),
        )),
    }
}

/// Which of the GROUP BY keys is declared `MONOTONIC(...)`, if one is.
pub fn monotonic_key(keys: &[Expr]) -> Option<usize> {
    keys.iter()
        .position(|key| monotonic_argument(key).is_some())
}

/// The argument of `MONOTONIC(x)`: the function gives its argument's value, and declares it
/// never to change direction, so that a streaming GROUP BY may close a group when it changes.
pub fn monotonic_argument(expr: &Expr) -> Option<&Expr> {
    let Expr::Function(call) = expr else {
        return None;
    };
    let named = call.name.0.len() == 1 && call.name.0[0].name == "MONOTONIC";
    match call.args.as_slice() {
        [FunctionArg::Expr(argument)] if named && call.over.is_none() => Some(argument),
        _ => None,
    }
}

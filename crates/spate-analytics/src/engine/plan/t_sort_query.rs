//! Planning `ORDER BY <timestamp_expr> WITHIN <interval>` (T-sorting stream input, see
//! `engine::t_sort`): the query into a hidden stream, the T-sort, and a pump on.

use std::sync::Arc;

use super::{
    ApplicationPlan, Destination, Pump, hidden_column, plan_into_hidden, sorted_into,
    time_expression,
};
use crate::engine::expr::{PlanError, plan_error, position_of};
use crate::engine::schema::ROWTIME;
use crate::engine::table_fn::TableFunctionKind;
use crate::input::SqlType;
use crate::sql::ast::{Expr, Ident, Query, QueryBody, Select, SelectItem};

/// `SELECT STREAM expr AS ROWTIME, ... ORDER BY expr WITHIN INTERVAL ...` (see `t_sort`): the
/// query with `expr` as its last column into a hidden stream, the T-sort into a stream of the
/// same columns, and a pump of the query's other columns into `destination`. The reference's
/// restrictions: a TIMESTAMP expression, selected AS ROWTIME, neither DESC nor using an
/// unqualified ROWTIME.
pub(super) fn t_sorted_query(
    plan: &mut ApplicationPlan,
    name: &str,
    select: &Select,
    query: &Query,
    destination: Destination<'_>,
    pumps: &mut Vec<Pump>,
) -> Result<(), PlanError> {
    let pos = select.pos;
    let Some((item, then_by)) = query.order_by.split_first() else {
        return Err(plan_error(pos, "ORDER BY needs an expression"));
    };
    let Some(within) = item.within.as_ref() else {
        return Err(plan_error(
            pos,
            "WITHIN (a T-sort) belongs to the leading ORDER BY expression",
        ));
    };
    if let Some(later) = then_by.iter().find(|later| later.within.is_some()) {
        return Err(plan_error(
            position_of(&later.expr),
            "WITHIN (a T-sort) belongs to the leading ORDER BY expression only",
        ));
    }
    if item.ascending == Some(false) {
        return Err(plan_error(
            position_of(&item.expr),
            "a T-sort's expression cannot be DESC: it orders rows by ascending ROWTIME",
        ));
    }
    if uses_unqualified_rowtime(&item.expr) {
        return Err(plan_error(
            position_of(&item.expr),
            "a T-sort's expression cannot use ROWTIME unqualified: qualify it (s.ROWTIME), as the reference's T-sorting restrictions say",
        ));
    }
    let within = crate::engine::expr::constant_interval(within, position_of(within))?;
    let selected_as_rowtime = select.projection.iter().position(|selected| {
        matches!(selected, SelectItem::Expr { expr, alias: Some(alias) }
            if alias.name == ROWTIME && expr.to_string() == item.expr.to_string())
    });
    let Some(selected_as_rowtime) = selected_as_rowtime else {
        return Err(plan_error(
            position_of(&item.expr),
            format!(
                "a T-sort's expression must be in the select list AS ROWTIME: SELECT STREAM {} AS ROWTIME, ...",
                item.expr
            ),
        ));
    };
    let mut extended = select.clone();
    extended.projection.remove(selected_as_rowtime);
    // A selected incoming ROWTIME (`s.ROWTIME`) is a column of its own in the hidden stream,
    // apart from the ROWTIME the T-sort gives.
    for (index, selected) in extended.projection.iter_mut().enumerate() {
        if let SelectItem::Expr {
            expr,
            alias: alias @ None,
        } = selected
            && time_expression(expr).is_some_and(|time| matches!(time, Expr::Identifier(_)))
        {
            *alias = Some(Ident {
                name: format!("$INCOMING_ROWTIME{index}"),
                quoted: true,
                pos,
            });
        }
    }
    // The further ORDER BY values (an alias or ordinal names a selected value), which order
    // rows of one timestamp, after the timestamp.
    let mut keys = Vec::with_capacity(then_by.len());
    for later in then_by {
        keys.push((
            selected_value(select, &later.expr)?,
            later.ascending == Some(false),
        ));
    }
    let own_columns = extended.projection.len();
    extended
        .projection
        .push(hidden_column(item.expr.clone(), "$TSORT".into(), pos));
    for (index, (value, _)) in keys.iter().enumerate() {
        extended.projection.push(hidden_column(
            value.clone(),
            format!("$TSORT_BY{index}"),
            pos,
        ));
    }
    let input = plan_into_hidden(
        plan,
        name,
        format!("{name}$TSORT{}", pumps.len()),
        QueryBody::Select(Box::new(extended)),
        pumps,
        pos,
    )?;
    let timestamp = own_columns + 1;
    let timestamp_type = input.columns[timestamp - 1].sql_type;
    if timestamp_type != SqlType::Timestamp {
        return Err(plan_error(
            position_of(&item.expr),
            format!("a T-sort's expression must be a TIMESTAMP, not {timestamp_type}"),
        ));
    }
    let t_sort = crate::engine::t_sort::TSortPlan {
        timestamp,
        then_by: keys
            .iter()
            .enumerate()
            .map(|(index, (_, descending))| (timestamp + 1 + index, *descending))
            .collect(),
        within,
        schema: input.schema.clone(),
    };
    sorted_into(
        plan,
        name,
        "TSORT",
        &input,
        TableFunctionKind::TSort(Arc::new(t_sort)),
        timestamp,
        timestamp - 1,
        destination,
        pumps,
        pos,
    )
}

/// An ORDER BY value as an expression: an ordinal or an alias names a selected value.
fn selected_value(select: &Select, value: &Expr) -> Result<Expr, PlanError> {
    let selected = |index: usize| match select.projection.get(index) {
        Some(SelectItem::Expr { expr, .. }) => Some(expr.clone()),
        _ => None,
    };
    match value {
        Expr::Literal(crate::sql::ast::Literal::Number(text)) => text
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(selected)
            .ok_or_else(|| {
                plan_error(
                    select.pos,
                    format!("ORDER BY {text}: the select list has no expression {text}"),
                )
            }),
        Expr::Identifier(ident) => Ok(select
            .projection
            .iter()
            .find_map(|item| match item {
                SelectItem::Expr {
                    expr,
                    alias: Some(alias),
                } if alias.name == ident.name => Some(expr.clone()),
                _ => None,
            })
            .unwrap_or_else(|| value.clone())),
        other => Ok(other.clone()),
    }
}

/// Whether `expr` reads ROWTIME without a stream's name before it.
fn uses_unqualified_rowtime(expr: &Expr) -> bool {
    let mut found = false;
    super::visit(expr, &mut |expr| {
        if let Expr::Identifier(ident) = expr
            && ident.name.eq_ignore_ascii_case(ROWTIME)
        {
            found = true;
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::uses_unqualified_rowtime;
    use crate::sql::parse_expr as expr;

    #[test]
    fn only_an_unqualified_rowtime_is_found() {
        assert!(uses_unqualified_rowtime(&expr("ROWTIME")));
        assert!(uses_unqualified_rowtime(&expr("FLOOR(ROWTIME TO MINUTE)")));
        assert!(!uses_unqualified_rowtime(&expr(
            "FLOOR(s.ROWTIME TO MINUTE)"
        )));
        assert!(!uses_unqualified_rowtime(&expr("s.\"ROWTIME\"")));
        assert!(!uses_unqualified_rowtime(&expr("event_rowtime")));
    }
}

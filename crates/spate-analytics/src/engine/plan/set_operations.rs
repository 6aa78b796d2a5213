//! Set operations of streams: UNION ALL with ORDER BY, and why the others are refused.

use super::{
    ApplicationPlan, Destination, Pump, column_items, ordered_query, plan_into_hidden,
    query_position, select_from,
};
use crate::engine::expr::PlanError;
use crate::sql::ast::{Query, SetOperator};

/// Why a set operation other than UNION ALL cannot combine streams: the reference's "Query"
/// page ("Streaming set operators") says UNION ALL is the only set operator that can be
/// applied to streams, and that ALL is not supported for EXCEPT or INTERSECT at all.
pub(super) fn set_operation_of_streams(op: SetOperator, all: bool) -> String {
    let name = match op {
        SetOperator::Union => "UNION",
        SetOperator::Except => "EXCEPT",
        SetOperator::Intersect => "INTERSECT",
    };
    let written = if all {
        format!("{name} ALL")
    } else {
        name.to_string()
    };
    let rule = if all && op != SetOperator::Union {
        ": ALL is not supported for EXCEPT or INTERSECT, and UNION ALL is the only set operator that applies to streams"
    } else {
        ": UNION ALL is the only set operator that applies to streams (a stream's UNION, EXCEPT or INTERSECT would have to hold every row it ever saw)"
    };
    format!("{written} of streams is not supported{rule}")
}

/// `a UNION ALL b ORDER BY ...`: the union (columns named as its first query's) into a hidden
/// stream, then `SELECT STREAM <its columns> FROM it ORDER BY ...` into `destination`.
pub(super) fn ordered_union(
    plan: &mut ApplicationPlan,
    name: &str,
    query: &Query,
    destination: Destination<'_>,
    pumps: &mut Vec<Pump>,
) -> Result<(), PlanError> {
    let pos = query_position(query);
    let unioned = plan_into_hidden(
        plan,
        &format!("{name}$UNION_ALL"),
        format!("{name}$UNIONED{}", pumps.len()),
        query.body.clone(),
        pumps,
        pos,
    )?;
    let projection = column_items(&unioned.columns, pos);
    let mut ordered = select_from(&unioned.name, projection, pos);
    ordered.order_by = query.order_by.clone();
    ordered_query(plan, name, &ordered, destination, pumps)
}

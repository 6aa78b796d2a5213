//! The order in which FROM's joins of streams and tables run: a join of two streams written
//! after table joins runs first, and a third stream joins the pairs of the first two.

use super::{
    ApplicationPlan, Destination, Pump, Relation, RelationScope, from_clause, named_relation,
    plan_query,
};
use crate::engine::expr::{PlanError, plan_error, position_of};
use crate::engine::schema::{Column, ROWTIME};
use crate::input::SqlType;
use crate::sql::ast::{
    Expr, Ident, Join, JoinConstraint, JoinKind as AstJoinKind, Position, Query, QueryBody, Select,
    SelectItem,
};

/// `FROM a JOIN b ON ... JOIN c OVER (...) ON ...` (a third stream): the FROM up to
/// the third stream's join runs as a hidden pump of every column of its streams and tables
/// and each stream's own ROWTIME; the query then reads that stream, `a` and `b` still naming
/// their columns in it, and joins the rest of FROM. Gives the query's FROM without the joins
/// done, the hidden stream, and its scope; `None` for two streams or fewer.
///
/// Unverified: the reference's JOIN page shows joins of two streams; a third joins the pairs
/// as a stream of their own, each pair's ROWTIME that of the row that made it, and since the
/// pairs are kept by no window, the third stream needs its own OVER window.
pub(super) fn join_first_streams(
    plan: &mut ApplicationPlan,
    name: &str,
    select: &Select,
    pumps: &mut Vec<Pump>,
) -> Result<Option<(Select, String, RelationScope)>, PlanError> {
    let [from] = select.from.as_slice() else {
        return Ok(None);
    };
    let mut stream_joins = Vec::new();
    for (index, join) in from.joins.iter().enumerate() {
        let (other, ..) = named_relation(&join.relation, select.pos, "stream or table")?;
        if plan.streams.contains_key(&other) {
            stream_joins.push(index);
        }
    }
    let Some(&third) = stream_joins.get(1) else {
        return Ok(None);
    };
    let pos = select.pos;
    if named_relation(&from.joins[third].relation, pos, "stream")?
        .2
        .is_none()
    {
        return Err(plan_error(
            pos,
            "a third stream joins the pairs of the first two, which no window keeps: it needs its own OVER (RANGE INTERVAL ... PRECEDING)",
        ));
    }
    let mut first_from = select.clone();
    first_from.from = vec![crate::sql::ast::TableWithJoins {
        relation: from.relation.clone(),
        joins: from.joins[..third].to_vec(),
    }];
    first_from.quantifier = None;
    first_from.selection = None;
    first_from.group_by = Vec::new();
    first_from.having = None;
    first_from.stagger = None;
    let (_, first_scope, ..) = from_clause(plan, &first_from, None, None)?;
    let ident = |name: &str| Ident {
        name: name.to_string(),
        quoted: true,
        pos,
    };
    // Every named relation's columns, then each stream's own ROWTIME.
    let named: Vec<(usize, &Relation)> = first_scope
        .relations
        .iter()
        .enumerate()
        .filter(|(_, relation)| !relation.names.is_empty())
        .collect();
    let mut projection = Vec::new();
    for (index, relation) in &named {
        for column in &relation.columns {
            projection.push(SelectItem::Expr {
                expr: Expr::CompoundIdentifier(vec![
                    ident(qualifier(relation)),
                    ident(&column.name),
                ]),
                alias: Some(ident(&format!("$J{index}_{}", column.name))),
            });
        }
    }
    let mut scope = RelationScope {
        relations: Vec::new(),
        first_rows: Vec::new(),
    };
    let mut offset = 1;
    for (_, relation) in &named {
        scope.relations.push(Relation {
            names: relation.names.clone(),
            columns: relation.columns.clone(),
            offset,
            window: None,
            hidden: relation.hidden.clone(),
            rowtime: None,
        });
        offset += relation.columns.len();
    }
    let mut rowtimes = Vec::new();
    for (position, (index, relation)) in named.iter().enumerate() {
        if relation.rowtime.is_none() {
            continue;
        }
        let column = format!("$J{index}_ROWTIME");
        projection.push(SelectItem::Expr {
            expr: Expr::CompoundIdentifier(vec![ident(qualifier(relation)), ident(ROWTIME)]),
            alias: Some(ident(&column)),
        });
        scope.relations[position].rowtime = Some(offset + rowtimes.len());
        rowtimes.push(Column::new(column, SqlType::Timestamp));
    }
    scope.relations.push(Relation {
        names: Vec::new(),
        hidden: rowtimes.iter().map(|column| column.name.clone()).collect(),
        columns: rowtimes,
        offset,
        window: None,
        rowtime: None,
    });
    first_from.projection = projection;
    let hidden = format!("{name}$JOINED{}", pumps.len());
    plan_query(
        plan,
        &hidden,
        &Query {
            body: QueryBody::Select(Box::new(first_from)),
            order_by: Vec::new(),
        },
        Destination::Hidden(hidden.clone()),
        pumps,
    )?;
    let mut rest = select.clone();
    rest.from = vec![crate::sql::ast::TableWithJoins {
        relation: from.relation.clone(),
        joins: from.joins[third..].to_vec(),
    }];
    Ok(Some((rest, hidden, scope)))
}

/// A relation's name in FROM: its alias if it has one.
fn qualifier(relation: &Relation) -> &str {
    relation.names.last().map_or("", String::as_str)
}

/// The order in which FROM's joins run: the join of two streams first, then the tables in
/// FROM order. A stream join written after table joins (`FROM s JOIN t ON ... JOIN s2 OVER
/// (...) ON ...`) gives the same rows run first when its ON names neither table (the tables
/// join each pair as they would have joined its row of `s`), and when it keeps no unmatched
/// row of `s2` past an inner table join (RIGHT or FULL would pair such a row, NULL on the
/// `s` side, where the inner table join drops it). `*` keeps FROM's column order: the scope
/// lists its columns by batch position, its relations in FROM order.
pub(super) fn stream_join_first(
    joins: &[(Join, Option<&Expr>)],
    is_stream: &[bool],
    pos: Position,
) -> Result<Vec<usize>, PlanError> {
    let mut order: Vec<usize> = (0..joins.len()).collect();
    let Some(stream_at) = is_stream.iter().position(|stream| *stream) else {
        return Ok(order);
    };
    if stream_at == 0 {
        return Ok(order);
    }
    let (stream, _) = &joins[stream_at];
    let mut table_names = Vec::new();
    for (join, _) in &joins[..stream_at] {
        let (table, names, _) = named_relation(&join.relation, pos, "table")?;
        table_names.push(table);
        table_names.extend(names);
        let keeps_unmatched_stream_rows =
            matches!(stream.kind, AstJoinKind::Right | AstJoinKind::Full);
        if keeps_unmatched_stream_rows && join.kind == AstJoinKind::Inner {
            return Err(plan_error(
                pos,
                "a RIGHT or FULL join of two streams after an inner join with a table is not supported: write the streams' join first",
            ));
        }
    }
    if let JoinConstraint::On(condition) = &stream.constraint
        && let Some(table) = table_names.iter().find(|table| qualifies(condition, table))
    {
        return Err(plan_error(
            position_of(condition),
            format!(
                "the ON of a join of two streams written after a join with a table cannot use the table's columns ({table}): the streams join first, then the tables"
            ),
        ));
    }
    order.remove(stream_at);
    order.insert(0, stream_at);
    Ok(order)
}

/// Whether `expr` names a column qualified by `qualifier` (`qualifier.column`, quoted or not).
fn qualifies(expr: &Expr, qualifier: &str) -> bool {
    let mut found = false;
    super::visit(expr, &mut |expr| {
        if let Expr::CompoundIdentifier(parts) = expr
            && parts.len() >= 2
            && parts[0].name.eq_ignore_ascii_case(qualifier)
        {
            found = true;
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::qualifies;
    use crate::sql::parse_expr as expr;

    #[test]
    fn a_qualifier_is_found_only_as_a_whole_name() {
        assert!(qualifies(&expr("o.a = c.b"), "C"));
        assert!(qualifies(&expr("o.a = \"c\".b"), "c"));
        assert!(!qualifies(&expr("o.a = abc.b"), "C"));
        assert!(!qualifies(&expr("o.a = t.c"), "C"));
        assert!(!qualifies(&expr("o.a = 'C.x'"), "C"), "not inside a string");
        assert!(qualifies(&expr("UPPER(c.b) = o.a"), "C"), "inside a call");
    }
}

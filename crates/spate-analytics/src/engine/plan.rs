//! The planner: an application's code, with its in-application input streams, becomes a
//! catalog of streams and a list of pumps, each an operator from one stream into another.
//!
//! Streams: the input streams (`SOURCE_SQL_STREAM_001`...) with their schema's columns, the
//! streams `CREATE STREAM` declares, and `error_stream`. Every stream has ROWTIME first.
//! Pumps: `CREATE PUMP p AS INSERT INTO target SELECT STREAM ... FROM source`, in the order
//! written. A query is a row-by-row map (WHERE, then the projection; each output row keeps its
//! input row's ROWTIME), a sliding-window query (aggregates `OVER` a `RANGE` or `ROWS` window,
//! one output row per input row), or a tumbling-window aggregate (GROUP BY with a time bucket;
//! HAVING and the projection run on each closed window's groups). The projection is converted
//! to the target stream's column types, by position or by the listed target columns.
//!
//! Not planned yet, each refused with a message that names it: joins, stagger windows, set
//! operations, ORDER BY, table functions, subqueries.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;

use super::aggregate::{Aggregate, Bucket, SessionPlan, TumblingPlan, closed_schema};
use super::aggregate_call::resolve_aggregate;
use super::expr::{
    PhysicalExpr, PlanError, Scope, aggregate_name, coerce, compile, plan_error, position_of,
};
use super::join::{JoinKind, JoinPlan, TableJoins};
use super::row_type::{
    RowColumn, RowScope, refuse_wildcard, rename_columns, resolve_field, subquery_columns,
};
use super::schema::{Column, ROWTIME, stream_schema};
use super::sliding::{Frame, SlidingAggregate};
use super::stream_join::StreamJoinPlan;
use super::table_fn::{TableFunctionKind, TableFunctionPlan};
use super::types::{ExprType, declared_type};
use super::window_tvf::{WINDOW_END, WINDOW_START, WINDOW_TIME, WindowAssign};
use crate::input::SqlType;
use crate::sql::ast::{
    BinaryOperator, CreatePump, CreateStream, Expr, FrameBound, FrameUnits, FunctionArg, Ident,
    Join, JoinConstraint, JoinKind as AstJoinKind, Literal, NamedWindow, ObjectName, Over,
    Position, Query, QueryBody, Select, SelectItem, SetOperator, Statement, TableFactor,
    WindowSpec,
};

mod join_order;
mod set_operations;
mod t_sort_query;

use join_order::{join_first_streams, stream_join_first};
use set_operations::{ordered_union, set_operation_of_streams};
use t_sort_query::t_sorted_query;

/// The column of every input stream holding its record's `ApproximateArrivalTimestamp` in the
/// source stream (the ingest time). It is read by name; `*` leaves it out (Unverified), so
/// `SELECT STREAM *` gives the schema's columns.
pub const APPROXIMATE_ARRIVAL_TIME: &str = "APPROXIMATE_ARRIVAL_TIME";

/// The in-application stream rows that could not be read or processed go to.
pub const ERROR_STREAM: &str = "error_stream";

/// The columns of `error_stream`, as the developer guide lists them.
pub fn error_stream_columns() -> Vec<Column> {
    vec![
        Column::new("ERROR_TIME", SqlType::Timestamp),
        Column::new("ERROR_LEVEL", SqlType::Varchar(10)),
        Column::new("ERROR_NAME", SqlType::Varchar(32)),
        Column::new("MESSAGE", SqlType::Varchar(4096)),
        Column::new("DATA_ROWTIME", SqlType::Timestamp),
        Column::new("DATA_ROW", SqlType::Varchar(49152)),
        Column::new("PUMP_NAME", SqlType::Varchar(128)),
    ]
}

/// An in-application input stream: its name and the columns of its input schema.
#[derive(Debug, Clone, PartialEq)]
pub struct InputStream {
    pub name: String,
    pub columns: Vec<Column>,
}

/// A stream of the application.
#[derive(Debug, Clone)]
pub struct StreamDef {
    pub name: String,
    pub columns: Vec<Column>,
    pub schema: SchemaRef,
    pub input: bool,
    /// The columns that together hold a ROW (a subquery's log-parsing function's value).
    pub rows: Vec<RowColumn>,
}

/// What a pump does to each batch of its source.
#[derive(Debug, Clone)]
pub enum Operator {
    /// Row by row: `projection[0]` is the ROWTIME.
    Map {
        filter: Option<PhysicalExpr>,
        projection: Vec<PhysicalExpr>,
    },
    /// Sliding windows: `filter` runs first; the windowed aggregates' values are appended to
    /// the batch as columns (`augmented_schema`), and `projection` runs on that.
    Sliding {
        filter: Option<PhysicalExpr>,
        aggregates: Arc<Vec<SlidingAggregate>>,
        augmented_schema: SchemaRef,
        projection: Vec<PhysicalExpr>,
    },
    /// A table function over a cursor's stream (`COUNT_DISTINCT_ITEMS_TUMBLING`...), whose
    /// rows are the target's.
    Function { plan: Arc<TableFunctionPlan> },
    /// A tumbling window; `having` and `projection` run on the closed windows' rows.
    Tumbling {
        plan: Arc<TumblingPlan>,
        closed_schema: SchemaRef,
        having: Option<PhysicalExpr>,
        projection: Vec<PhysicalExpr>,
    },
}

#[derive(Debug, Clone)]
pub struct Pump {
    pub name: String,
    pub source: String,
    pub target: String,
    /// The reference tables joined to each batch, in order, before the operator runs.
    pub join: Option<TableJoins>,
    /// A second stream joined within a window: the pump reads it as well as `source`.
    pub stream_join: Option<Arc<StreamJoinPlan>>,
    /// Windows assigned by a TUMBLE or HOP table function, before any join and the operator.
    pub windows: Option<WindowAssign>,
    pub operator: Operator,
}

/// A compiled application.
#[derive(Debug, Clone)]
pub struct ApplicationPlan {
    pub streams: BTreeMap<String, StreamDef>,
    /// Reference tables, in the layout of a stream (a ROWTIME column, unused, first).
    pub tables: BTreeMap<String, StreamDef>,
    pub pumps: Vec<Pump>,
}

impl ApplicationPlan {
    pub fn stream(&self, name: &str) -> Option<&StreamDef> {
        self.streams.get(name)
    }
}

/// Plans `code` over its input streams and reference tables.
pub fn plan_application(
    code: &str,
    inputs: &[InputStream],
    tables: &[InputStream],
) -> Result<ApplicationPlan, PlanError> {
    let statements = crate::sql::parse_application_code(code)?;
    let mut plan = ApplicationPlan {
        streams: BTreeMap::new(),
        tables: BTreeMap::new(),
        pumps: Vec::new(),
    };
    for table in tables {
        plan.tables.insert(
            table.name.clone(),
            StreamDef {
                name: table.name.clone(),
                columns: table.columns.clone(),
                schema: stream_schema(&table.columns),
                input: true,
                rows: Vec::new(),
            },
        );
    }
    for input in inputs {
        // Every input stream also has the source record's arrival time, by name only.
        let mut columns = input.columns.clone();
        if !columns
            .iter()
            .any(|column| column.name == APPROXIMATE_ARRIVAL_TIME)
        {
            columns.push(Column::new(APPROXIMATE_ARRIVAL_TIME, SqlType::Timestamp));
        }
        add_stream(&mut plan, &input.name, columns, true);
    }
    add_stream(&mut plan, ERROR_STREAM, error_stream_columns(), false);
    for statement in &statements {
        match statement {
            Statement::CreateStream(create) => create_stream(&mut plan, create)?,
            Statement::CreatePump(create) => {
                let (name, _) = object_name(&create.name);
                let exists = plan.pumps.iter().any(|pump| pump.name == name);
                if exists && !create.or_replace {
                    return Err(plan_error(
                        create.pos,
                        format!("pump {name} already exists"),
                    ));
                }
                // A pump and the hidden pumps of its subqueries are replaced together.
                let hidden = format!("{name}$");
                plan.pumps
                    .retain(|pump| pump.name != name && !pump.name.starts_with(&hidden));
                let pumps = create_pump(&mut plan, create)?;
                plan.pumps.extend(pumps);
            }
            Statement::Query(query) => {
                return Err(plan_error(
                    query_position(query),
                    "a query on its own has nowhere to go: write it in a pump (CREATE PUMP ... AS INSERT INTO ...)",
                ));
            }
        }
    }
    check_no_cycle(&plan)?;
    Ok(plan)
}

fn add_stream(plan: &mut ApplicationPlan, name: &str, columns: Vec<Column>, input: bool) {
    let schema = stream_schema(&columns);
    plan.streams.insert(
        name.to_string(),
        StreamDef {
            name: name.to_string(),
            columns,
            schema,
            input,
            rows: Vec::new(),
        },
    );
}

fn object_name(name: &ObjectName) -> (String, Position) {
    let last = name.0.last();
    (
        last.map(|ident| ident.name.clone()).unwrap_or_default(),
        last.map(|ident| ident.pos).unwrap_or_default(),
    )
}

fn create_stream(plan: &mut ApplicationPlan, create: &CreateStream) -> Result<(), PlanError> {
    let (name, pos) = object_name(&create.name);
    if plan.tables.contains_key(&name) {
        return Err(plan_error(
            pos,
            format!("{name} is a reference table of the application and cannot be created"),
        ));
    }
    if let Some(existing) = plan.streams.get(&name) {
        if existing.input || name == ERROR_STREAM {
            return Err(plan_error(
                pos,
                format!("{name} is an input stream of the application and cannot be created"),
            ));
        }
        if !create.or_replace {
            return Err(plan_error(pos, format!("stream {name} already exists")));
        }
    }
    let mut columns: Vec<Column> = Vec::with_capacity(create.columns.len());
    for definition in &create.columns {
        let sql_type = declared_type(definition.data_type)
            .map_err(|message| plan_error(definition.name.pos, message))?;
        if definition.name.name == ROWTIME {
            return Err(plan_error(
                definition.name.pos,
                "ROWTIME is every stream's own first column and cannot be declared",
            ));
        }
        if columns
            .iter()
            .any(|column| column.name == definition.name.name)
        {
            return Err(plan_error(
                definition.name.pos,
                format!("column {} is declared twice", definition.name.name),
            ));
        }
        columns.push(Column::new(definition.name.name.clone(), sql_type));
    }
    add_stream(plan, &name, columns, false);
    Ok(())
}

fn query_position(query: &Query) -> Position {
    body_position(&query.body)
}

/// Where a query body starts: its (first) SELECT.
fn body_position(body: &QueryBody) -> Position {
    match body {
        QueryBody::Select(select) => select.pos,
        QueryBody::SetOperation { left, .. } => body_position(left),
        QueryBody::Nested(inner) => query_position(inner),
    }
}

/// One stream or table of a query's FROM: its names (name and alias), its columns, and where
/// they start in the batch the query's expressions run on.
#[derive(Debug, Clone)]
struct Relation {
    names: Vec<String>,
    columns: Vec<Column>,
    offset: usize,
    /// For a TUMBLE or HOP table function: its WINDOW_START column and window.
    window: Option<TvfWindow>,
    /// Columns `*` leaves out (an input stream's APPROXIMATE_ARRIVAL_TIME).
    hidden: Vec<String>,
    /// The batch column holding this relation's own ROWTIME, when it is not column 0 (the
    /// two streams of a stream-to-stream join: `o.ROWTIME` is the order's, `ROWTIME` the
    /// joined row's).
    rowtime: Option<usize>,
}

/// The window a TUMBLE or HOP table function gives its rows.
#[derive(Debug, Clone, Copy)]
struct TvfWindow {
    start_index: usize,
    size: i64,
    on_rowtime: bool,
    /// SESSION: `size` is the gap, and `time_index` the time column sessions follow.
    session: bool,
    time_index: usize,
}

/// The columns a query sees: its stream first (ROWTIME is column 0), then any joined table.
#[derive(Debug, Clone)]
struct RelationScope {
    relations: Vec<Relation>,
    /// The ROWs among the first relation's columns (a subquery's log-parsing function).
    first_rows: Vec<RowColumn>,
}

impl RelationScope {
    fn single(names: Vec<String>, columns: Vec<Column>) -> RelationScope {
        RelationScope {
            relations: vec![Relation {
                names,
                columns,
                offset: 1,
                window: None,
                hidden: Vec::new(),
                rowtime: None,
            }],
            first_rows: Vec::new(),
        }
    }

    /// Every column after ROWTIME, in batch order (a stream joined after tables sits before
    /// them in the batch, after them in `relations`).
    fn columns(&self) -> Vec<Column> {
        let mut relations: Vec<&Relation> = self.relations.iter().collect();
        relations.sort_by_key(|relation| relation.offset);
        relations
            .into_iter()
            .flat_map(|relation| relation.columns.iter().cloned())
            .collect()
    }

    fn width(&self) -> usize {
        1 + self
            .relations
            .iter()
            .map(|relation| relation.columns.len())
            .sum::<usize>()
    }
}

impl Scope for RelationScope {
    fn resolve(&self, name: &[Ident]) -> Result<(usize, ExprType), PlanError> {
        if !self.first_rows.is_empty() {
            let views: Vec<RowScope<'_>> = self
                .relations
                .iter()
                .enumerate()
                .map(|(index, relation)| RowScope {
                    names: &relation.names,
                    rows: if index == 0 { &self.first_rows } else { &[] },
                    columns: &relation.columns,
                    offset: relation.offset,
                })
                .collect();
            if let Some(found) = resolve_field(name, &views)? {
                return Ok(found);
            }
        }
        let (qualifier, column) = match name {
            [column] => (None, column),
            [qualifier, column] => (Some(qualifier), column),
            _ => {
                let pos = name.first().map(|ident| ident.pos).unwrap_or_default();
                return Err(plan_error(
                    pos,
                    "a column is named as stream.column at most",
                ));
            }
        };
        let candidates: Vec<&Relation> = match qualifier {
            Some(qualifier) => {
                let relation = self
                    .relations
                    .iter()
                    .find(|relation| relation.names.contains(&qualifier.name))
                    .ok_or_else(|| {
                        plan_error(
                            qualifier.pos,
                            format!("no stream, table or alias {} in FROM", qualifier.name),
                        )
                    })?;
                vec![relation]
            }
            None => self.relations.iter().collect(),
        };
        if column.name == ROWTIME {
            let own = match (qualifier, candidates.first()) {
                (Some(_), Some(relation)) => {
                    relation.rowtime.or((relation.offset == 1).then_some(0))
                }
                _ => Some(0),
            };
            if let Some(index) = own {
                return Ok((index, ExprType::Sql(SqlType::Timestamp)));
            }
        }
        let mut found = None;
        for relation in candidates {
            if let Some(index) = relation
                .columns
                .iter()
                .position(|candidate| candidate.name == column.name)
            {
                if found.is_some() {
                    return Err(plan_error(
                        column.pos,
                        format!(
                            "column {} is ambiguous: qualify it with its stream or table",
                            column.name
                        ),
                    ));
                }
                found = Some((
                    relation.offset + index,
                    ExprType::Sql(relation.columns[index].sql_type),
                ));
            }
        }
        found.ok_or_else(|| {
            let place = match qualifier {
                Some(qualifier) => qualifier.name.clone(),
                None => self
                    .relations
                    .iter()
                    .filter_map(|relation| relation.names.first().cloned())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            plan_error(
                column.pos,
                format!("column {} not found in {place}", column.name),
            )
        })
    }
}

/// The meaning of names in the projection and HAVING of a grouped query: group keys and
/// aggregates are columns of the closed window's rows.
struct GroupScope<'a> {
    input: &'a mut RelationScope,
    keys: Vec<String>,
    aggregates: Vec<Aggregate>,
    aggregate_prints: Vec<String>,
}

impl Scope for GroupScope<'_> {
    fn resolve(&self, name: &[Ident]) -> Result<(usize, ExprType), PlanError> {
        // ROWTIME (qualified or not) in a grouped query is the window's: its end.
        if name.last().is_some_and(|last| last.name == ROWTIME) {
            self.input.resolve(name)?;
            return Ok((0, ExprType::Sql(SqlType::Timestamp)));
        }
        let text = name
            .iter()
            .map(|ident| ident.name.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let pos = name.first().map(|ident| ident.pos).unwrap_or_default();
        // A name of the input that is no group key.
        self.input.resolve(name)?;
        Err(plan_error(
            pos,
            format!("expression {text} is not being grouped: add it to GROUP BY or aggregate it"),
        ))
    }

    fn intercept(&mut self, expr: &Expr) -> Result<Option<PhysicalExpr>, PlanError> {
        if let Expr::Function(call) = expr {
            let name = call
                .name
                .0
                .last()
                .map(|ident| ident.name.as_str())
                .unwrap_or_default();
            if aggregate_name(name) && call.over.is_none() {
                let aggregate = resolve_aggregate(call, name, self.input, false)?;
                let print = format!("{aggregate:?}");
                let index = match self.aggregate_prints.iter().position(|p| *p == print) {
                    Some(index) => index,
                    None => {
                        self.aggregate_prints.push(print);
                        self.aggregates.push(aggregate);
                        self.aggregates.len() - 1
                    }
                };
                return Ok(Some(PhysicalExpr::Column {
                    index: 1 + self.keys.len() + index,
                    ty: self.aggregates[index].ty,
                }));
            }
        }
        // An expression equal to a group key is that key.
        if matches!(expr, Expr::Literal(_) | Expr::Interval { .. }) {
            return Ok(None);
        }
        if let Ok(compiled) = compile(expr, self.input) {
            let print = compiled.fingerprint();
            if let Some(index) = self.keys.iter().position(|key| *key == print) {
                return Ok(Some(PhysicalExpr::Column {
                    index: 1 + index,
                    ty: compiled.ty(),
                }));
            }
        }
        Ok(None)
    }
}

/// The pumps of `CREATE PUMP`: the pump itself, after the hidden pumps that feed the
/// subqueries of its FROM.
fn create_pump(plan: &mut ApplicationPlan, create: &CreatePump) -> Result<Vec<Pump>, PlanError> {
    let (name, _) = object_name(&create.name);
    let (target_name, target_pos) = object_name(&create.target);
    let target = plan.streams.get(&target_name).cloned().ok_or_else(|| {
        plan_error(
            target_pos,
            format!("stream {target_name} does not exist: create it first with CREATE STREAM"),
        )
    })?;
    if target.input {
        return Err(plan_error(
            target_pos,
            format!("{target_name} is an input stream: pumps cannot insert into it"),
        ));
    }
    let mut pumps = Vec::new();
    let destination = Destination::Existing {
        target,
        columns: &create.target_columns,
        pos: target_pos,
    };
    plan_query(plan, &name, &create.query, destination, &mut pumps)?;
    Ok(pumps)
}

/// Where a query's rows go: an existing stream (optionally into listed columns), or a hidden
/// stream made for a subquery, with the query's own columns.
enum Destination<'a> {
    Existing {
        target: StreamDef,
        columns: &'a [Ident],
        pos: Position,
    },
    Hidden(String),
}

/// Plans `query` into `destination` as pump `name`, after the hidden pumps of its FROM's
/// subqueries; every pump goes to `pumps`.
fn plan_query(
    plan: &mut ApplicationPlan,
    name: &str,
    query: &Query,
    destination: Destination<'_>,
    pumps: &mut Vec<Pump>,
) -> Result<(), PlanError> {
    if !query.order_by.is_empty() {
        return ordered_query(plan, name, query, destination, pumps);
    }
    let select = match &query.body {
        QueryBody::Select(select) => select,
        // `a UNION ALL b`: each side is a pump of its own into the same stream, so their rows
        // merge as they come (a stream's rows are in ROWTIME order per pump).
        QueryBody::SetOperation {
            op: SetOperator::Union,
            all: true,
            left,
            right,
        } => {
            let side = |body: &QueryBody| Query {
                body: body.clone(),
                order_by: Vec::new(),
            };
            let left_name = format!("{name}$UNION{}", pumps.len());
            let destination = match destination {
                Destination::Hidden(hidden) => {
                    plan_query(
                        plan,
                        &left_name,
                        &side(left),
                        Destination::Hidden(hidden.clone()),
                        pumps,
                    )?;
                    let target = plan.streams.get(&hidden).cloned().ok_or_else(|| {
                        plan_error(
                            query_position(query),
                            format!("stream {hidden} was not created"),
                        )
                    })?;
                    Destination::Existing {
                        target,
                        columns: &[],
                        pos: query_position(query),
                    }
                }
                Destination::Existing {
                    target,
                    columns,
                    pos,
                } => {
                    let again = Destination::Existing {
                        target: target.clone(),
                        columns,
                        pos,
                    };
                    plan_query(plan, &left_name, &side(left), again, pumps)?;
                    Destination::Existing {
                        target,
                        columns,
                        pos,
                    }
                }
            };
            return plan_query(plan, name, &side(right), destination, pumps);
        }
        QueryBody::SetOperation { op, all, .. } => {
            return Err(plan_error(
                query_position(query),
                set_operation_of_streams(*op, *all),
            ));
        }
        QueryBody::Nested(inner) => return plan_query(plan, name, inner, destination, pumps),
    };
    // A subquery in FROM runs as a hidden pump into a hidden stream the query reads; so does
    // a table function over a CURSOR, after its cursor's query.
    let derived = match select.from.first().map(|from| &from.relation) {
        Some(TableFactor::Function { pos, call, alias }) if cursor_query(call).is_some() => {
            let (Expr::Function(function), Some(cursor)) = (&**call, cursor_query(call)) else {
                return Err(plan_error(*pos, "TABLE(...) needs a table function call"));
            };
            let cursor_stream = format!("{name}$CURSOR{}", pumps.len());
            plan_query(
                plan,
                &cursor_stream,
                cursor,
                Destination::Hidden(cursor_stream.clone()),
                pumps,
            )?;
            let output = format!("{name}$FUNCTION{}", pumps.len());
            let operator = table_function(plan, function, &cursor_stream, &output)?;
            pumps.push(Pump {
                name: output.clone(),
                source: cursor_stream,
                target: output.clone(),
                join: None,
                stream_join: None,
                windows: None,
                operator,
            });
            let mut names = vec![output.clone()];
            if let Some(alias) = alias {
                names.push(alias.name.name.clone());
            }
            Some((output, names))
        }
        Some(TableFactor::Derived { subquery, alias }) => {
            let hidden = format!("{name}$FROM{}", pumps.len());
            plan_query(
                plan,
                &hidden,
                subquery,
                Destination::Hidden(hidden.clone()),
                pumps,
            )?;
            let mut names = vec![hidden.clone()];
            if let Some(alias) = alias {
                if !alias.columns.is_empty() {
                    let stream = plan.streams.get_mut(&hidden).ok_or_else(|| {
                        plan_error(alias.name.pos, format!("stream {hidden} was not created"))
                    })?;
                    rename_columns(stream, &alias.columns, alias.name.pos)?;
                }
                names.push(alias.name.name.clone());
            }
            Some((hidden, names))
        }
        _ => None,
    };
    // Three or more streams: the first two join in a hidden pump (see `join_first_streams`).
    let joined_first = match derived {
        None => join_first_streams(plan, name, select, pumps)?,
        Some(_) => None,
    };
    let (source, mut scope, join, stream_join, windows) = match joined_first {
        Some((rest, hidden, first_scope)) => {
            let names = vec![hidden.clone()];
            from_clause(plan, &rest, Some((hidden, names)), Some(first_scope))?
        }
        None => from_clause(plan, select, derived, None)?,
    };
    if !select.stream {
        return Err(plan_error(
            select.pos,
            format!("{source} is a stream: a pump selects from it with SELECT STREAM"),
        ));
    }
    // DISTINCT: the query's rows go to a hidden stream, and on through the DISTINCT operator
    // (see `distinct_pumps`).
    let (destination, distinct) =
        if select.quantifier == Some(crate::sql::ast::SetQuantifier::Distinct) {
            let columns = distinct_columns(select, &scope)?;
            let hidden = format!("{name}$DISTINCT{}", pumps.len());
            (
                Destination::Hidden(hidden.clone()),
                Some((columns, hidden, destination)),
            )
        } else {
            (destination, None)
        };
    let windowed = select
        .projection
        .iter()
        .any(|item| matches!(item, SelectItem::Expr { expr, .. } if has_windowed_aggregate(expr)));
    let grouped = !select.group_by.is_empty()
        || select.stagger.is_some()
        || select
            .projection
            .iter()
            .any(|item| matches!(item, SelectItem::Expr { expr, .. } if has_aggregate(expr)));
    let (mut operator, values) = if windowed {
        if !select.group_by.is_empty() {
            return Err(plan_error(
                select.pos,
                "a query with OVER windows cannot have GROUP BY as well",
            ));
        }
        sliding(select, &mut scope)?
    } else if grouped {
        tumbling(select, &mut scope)?
    } else {
        map_operator(select, &mut scope)?
    };
    let (target_name, projection) = match destination {
        Destination::Existing {
            target,
            columns,
            pos,
        } => {
            if source == target.name {
                return Err(plan_error(
                    pos,
                    format!("a pump cannot insert into {source}, the stream it reads"),
                ));
            }
            let targets = target_columns(&target, columns)?;
            let values = values.into_iter().map(|(value, _)| value).collect();
            let projection = assign(values, &target, &targets, select.pos)?;
            (target.name, projection)
        }
        Destination::Hidden(hidden) => {
            let subquery = subquery_columns(values, select.pos)?;
            add_stream(plan, &hidden, subquery.columns, false);
            if let Some(stream) = plan.streams.get_mut(&hidden) {
                stream.rows = subquery.rows;
            }
            (hidden, subquery.projection)
        }
    };
    match &mut operator {
        Operator::Map {
            projection: slot, ..
        }
        | Operator::Sliding {
            projection: slot, ..
        }
        | Operator::Tumbling {
            projection: slot, ..
        } => *slot = projection,
        Operator::Function { .. } => {}
    }
    pumps.push(Pump {
        name: name.to_string(),
        source,
        target: target_name,
        join,
        stream_join,
        windows,
        operator,
    });
    if let Some((columns, hidden, destination)) = distinct {
        return distinct_pumps(plan, name, &hidden, columns, destination, pumps, select.pos);
    }
    Ok(())
}

/// `SELECT STREAM <projection> FROM <stream>`: the query of a pump that passes a hidden
/// stream's rows on.
/// `expr AS "<name>"`: a column a hidden stream carries for an operator after it.
fn hidden_column(expr: Expr, name: String, pos: Position) -> SelectItem {
    SelectItem::Expr {
        expr,
        alias: Some(Ident {
            name,
            quoted: true,
            pos,
        }),
    }
}

/// `"<column>", ...`: a projection of `columns` by name.
fn column_items(columns: &[Column], pos: Position) -> Vec<SelectItem> {
    columns
        .iter()
        .map(|column| SelectItem::Expr {
            expr: Expr::Identifier(Ident {
                name: column.name.clone(),
                quoted: true,
                pos,
            }),
            alias: None,
        })
        .collect()
}

/// Plans a query `body` (without ORDER BY) as pump `pump` into the new hidden stream `hidden`;
/// returns the stream.
fn plan_into_hidden(
    plan: &mut ApplicationPlan,
    pump: &str,
    hidden: String,
    body: QueryBody,
    pumps: &mut Vec<Pump>,
    pos: Position,
) -> Result<StreamDef, PlanError> {
    let query = Query {
        body,
        order_by: Vec::new(),
    };
    plan_query(
        plan,
        pump,
        &query,
        Destination::Hidden(hidden.clone()),
        pumps,
    )?;
    plan.streams
        .get(&hidden)
        .cloned()
        .ok_or_else(|| plan_error(pos, format!("stream {hidden} was not created")))
}

/// A sorting operator's pumps: `kind` (ordering on batch column `column`) from the hidden
/// stream `input` into a stream of the same columns, then its first `own_columns` columns into
/// `destination`.
#[allow(clippy::too_many_arguments)]
fn sorted_into(
    plan: &mut ApplicationPlan,
    name: &str,
    tag: &str,
    input: &StreamDef,
    kind: TableFunctionKind,
    column: usize,
    own_columns: usize,
    destination: Destination<'_>,
    pumps: &mut Vec<Pump>,
    pos: Position,
) -> Result<(), PlanError> {
    let sorted = format!("{name}${tag}ED{}", pumps.len());
    add_stream(plan, &sorted, input.columns.clone(), false);
    pumps.push(Pump {
        name: format!("{name}${tag}"),
        source: input.name.clone(),
        target: sorted.clone(),
        join: None,
        stream_join: None,
        windows: None,
        operator: Operator::Function {
            plan: Arc::new(TableFunctionPlan {
                kind,
                column,
                column_type: ExprType::Sql(input.columns[column - 1].sql_type),
                window: 0,
                schema: input.schema.clone(),
                numeric: Vec::new(),
                numeric_names: Vec::new(),
            }),
        },
    });
    plan_query(
        plan,
        &format!("{name}${tag}_INTO"),
        &select_from(
            &sorted,
            column_items(&input.columns[..own_columns], pos),
            pos,
        ),
        destination,
        pumps,
    )
}

fn select_from(stream: &str, projection: Vec<SelectItem>, pos: Position) -> Query {
    Query {
        body: QueryBody::Select(Box::new(Select {
            pos,
            stream: true,
            quantifier: None,
            projection,
            from: vec![crate::sql::ast::TableWithJoins {
                relation: TableFactor::Named {
                    name: ObjectName(vec![Ident {
                        name: stream.to_string(),
                        quoted: true,
                        pos,
                    }]),
                    window: None,
                    alias: None,
                },
                joins: Vec::new(),
            }],
            selection: None,
            group_by: Vec::new(),
            having: None,
            windows: Vec::new(),
            stagger: None,
        })),
        order_by: Vec::new(),
    }
}

/// A query with ORDER BY (see `sort_within`): the query, with each ORDER BY value as an extra
/// column, into a hidden stream; the sort into a stream of the same columns; and a pump of
/// the query's own columns into `destination`.
fn ordered_query(
    plan: &mut ApplicationPlan,
    name: &str,
    query: &Query,
    destination: Destination<'_>,
    pumps: &mut Vec<Pump>,
) -> Result<(), PlanError> {
    let pos = query_position(query);
    let select = match &query.body {
        QueryBody::Select(select) => select,
        QueryBody::Nested(inner) if inner.order_by.is_empty() => {
            let unwrapped = Query {
                body: inner.body.clone(),
                order_by: query.order_by.clone(),
            };
            return ordered_query(plan, name, &unwrapped, destination, pumps);
        }
        // `a UNION ALL b ORDER BY ...` (the reference's ORDER BY page shows it): the union
        // into a hidden stream, then that stream's rows, ordered.
        _ => return ordered_union(plan, name, query, destination, pumps),
    };
    if query.order_by.iter().any(|item| item.within.is_some()) {
        return t_sorted_query(plan, name, select, query, destination, pumps);
    }
    let distinct = select.quantifier == Some(crate::sql::ast::SetQuantifier::Distinct);
    let selected: Vec<(&Expr, Option<&Ident>)> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::Expr { expr, alias } => Some((expr, alias.as_ref())),
            _ => None,
        })
        .collect();
    // The explicit items before the first `*`: an ordinal up to their count names one of
    // them; a later ordinal (with `*`) names a column of the query's output.
    let leading_explicit = select
        .projection
        .iter()
        .take_while(|item| matches!(item, SelectItem::Expr { .. }))
        .count();
    let wildcard = selected.len() != select.projection.len();
    // Each ORDER BY value as an expression (an ordinal or an alias names a selected one), or
    // an output column by its ordinal.
    let mut values = Vec::with_capacity(query.order_by.len());
    let mut output_ordinals = Vec::new();
    for item in &query.order_by {
        let value = match &item.expr {
            Expr::Literal(Literal::Number(text)) => {
                let ordinal = text.parse::<usize>().ok().filter(|n| *n >= 1);
                match ordinal {
                    Some(n) if n <= leading_explicit || (!wildcard && n <= selected.len()) => {
                        selected[n - 1].0.clone()
                    }
                    Some(n) if wildcard => {
                        output_ordinals.push((values.len(), n, text.clone()));
                        item.expr.clone()
                    }
                    _ => {
                        return Err(plan_error(
                            pos,
                            format!("ORDER BY {text}: the select list has no item {text}"),
                        ));
                    }
                }
            }
            Expr::Identifier(ident) => selected
                .iter()
                .find(|(_, alias)| alias.is_some_and(|alias| alias.name == ident.name))
                .map_or_else(|| item.expr.clone(), |(expr, _)| (*expr).clone()),
            other => other.clone(),
        };
        let by_output_column = output_ordinals
            .last()
            .is_some_and(|(at, ..)| *at == values.len());
        if distinct
            && !by_output_column
            && time_expression(&value).is_none()
            && !selected
                .iter()
                .any(|(expr, _)| expr.to_string() == value.to_string())
        {
            return Err(plan_error(
                position_of(&item.expr),
                "with SELECT DISTINCT, each ORDER BY expression is one of the selected values (standard SQL: ordering distinct rows by a value they do not carry is ambiguous)",
            ));
        }
        values.push((value, item.ascending == Some(false)));
    }
    let Some((leading, leading_descending)) = values.first() else {
        return Err(plan_error(pos, "ORDER BY needs an expression"));
    };
    let leading_is_output_column = output_ordinals.first().is_some_and(|(at, ..)| *at == 0);
    let Some(leading_of_time) = time_expression(leading).filter(|_| !leading_is_output_column)
    else {
        return Err(plan_error(
            position_of(leading),
            "a streaming ORDER BY must lead with a time-based monotonic expression: ROWTIME, or FLOOR, CEIL or STEP of it",
        ));
    };
    if *leading_descending {
        return Err(plan_error(
            position_of(leading),
            "the leading ORDER BY expression of a stream ascends with time: it cannot be DESC (rows go out as time passes; a descending time order could never emit a row, since a later row would have to come first)",
        ));
    }
    let leading_of_time = compile(
        &leading_of_time,
        &mut RelationScope::single(Vec::new(), Vec::new()),
    )?;
    // The query with the ORDER BY values as extra columns, into a hidden stream.
    let mut extended = (**select).clone();
    for (index, (value, _)) in values.iter().enumerate() {
        if output_ordinals.iter().any(|(at, ..)| *at == index) {
            continue;
        }
        extended
            .projection
            .push(hidden_column(value.clone(), format!("$ORDER{index}"), pos));
    }
    let input = plan_into_hidden(
        plan,
        name,
        format!("{name}$ORDER{}", pumps.len()),
        QueryBody::Select(Box::new(extended)),
        pumps,
        pos,
    )?;
    let own_columns = input.columns.len() - (values.len() - output_ordinals.len());
    // Each value's batch index: an output column by ordinal (ROWTIME is index 0), or the
    // next of the extra columns.
    let mut keys = Vec::with_capacity(values.len());
    let mut extra = own_columns + 1;
    for (index, (_, descending)) in values.iter().enumerate() {
        match output_ordinals.iter().find(|(at, ..)| *at == index) {
            Some((_, ordinal, _)) if *ordinal <= own_columns => keys.push((*ordinal, *descending)),
            Some((_, _, text)) => {
                return Err(plan_error(
                    pos,
                    format!("ORDER BY {text}: the query has {own_columns} columns"),
                ));
            }
            None => {
                keys.push((extra, *descending));
                extra += 1;
            }
        }
    }
    let sort = super::sort_within::SortPlan {
        leading: own_columns + 1,
        keys,
        leading_of_time,
        schema: input.schema.clone(),
    };
    sorted_into(
        plan,
        name,
        "ORDER",
        &input,
        TableFunctionKind::Sort(Arc::new(sort)),
        own_columns + 1,
        own_columns,
        destination,
        pumps,
        pos,
    )
}

/// A time-based monotonic expression (ROWTIME, qualified or not, or FLOOR, CEIL or STEP of
/// it) as the same expression of an unqualified ROWTIME; `None` for any other.
fn time_expression(expr: &Expr) -> Option<Expr> {
    let rowtime = |expr: &Expr| match expr {
        Expr::Identifier(ident) if ident.name == ROWTIME => Some(Expr::Identifier(ident.clone())),
        Expr::CompoundIdentifier(parts)
            if parts.len() == 2 && parts.last().is_some_and(|last| last.name == ROWTIME) =>
        {
            parts.last().cloned().map(Expr::Identifier)
        }
        _ => None,
    };
    match expr {
        Expr::FloorCeil {
            pos,
            ceil,
            expr,
            unit,
        } => Some(Expr::FloorCeil {
            pos: *pos,
            ceil: *ceil,
            expr: Box::new(rowtime(expr)?),
            unit: *unit,
        }),
        Expr::Step { pos, expr, step } => Some(Expr::Step {
            pos: *pos,
            expr: Box::new(rowtime(expr)?),
            step: step.clone(),
        }),
        other => rowtime(other),
    }
}

/// The columns DISTINCT reads in the rows of its query (ROWTIME first, then the selected
/// values): the monotonic one, and those it compares.
struct DistinctColumns {
    monotonic: usize,
    compared: Vec<usize>,
}

/// Which selected values are ROWTIME (not compared) and which are monotonic: ROWTIME, or
/// `FLOOR`/`CEIL`/`STEP` of it. A stream's DISTINCT needs one, as the reference says.
///
/// With GROUP BY or aggregates, DISTINCT runs on the grouped rows (as SQL applies it after
/// grouping): an aggregated value is compared, never monotonic; the other values are classed
/// as they are without grouping (a selected `FLOOR(ROWTIME TO MINUTE)` of a query grouped by
/// it is monotonic, its rows of one window sharing it).
fn distinct_columns(select: &Select, scope: &RelationScope) -> Result<DistinctColumns, PlanError> {
    let is_rowtime = |expr: &PhysicalExpr| matches!(expr, PhysicalExpr::Column { index: 0, .. });
    let (mut rowtime_item, mut monotonic_item, mut compared) = (None, None, Vec::new());
    for (index, (item, _)) in projection_items(select, scope)?.iter().enumerate() {
        let column = index + 1;
        if has_aggregate(item) || has_windowed_aggregate(item) {
            compared.push(column);
            continue;
        }
        let compiled = compile(item, &mut scope.clone())?;
        if is_rowtime(&compiled) {
            rowtime_item = rowtime_item.or(Some(column));
            continue;
        }
        compared.push(column);
        let bucket_of_rowtime = match &compiled {
            PhysicalExpr::Step { expr, .. } | PhysicalExpr::RoundTime { expr, .. } => {
                is_rowtime(expr)
            }
            _ => false,
        };
        if bucket_of_rowtime {
            monotonic_item = monotonic_item.or(Some(column));
        }
    }
    // Unverified: with ROWTIME the only monotonic column, values are forgotten whenever
    // ROWTIME changes (ROWTIME itself is not compared).
    let monotonic = monotonic_item.or(rowtime_item).ok_or_else(|| {
        plan_error(
            select.pos,
            "SELECT DISTINCT on a stream needs a non-constant monotonic expression among its columns, such as ROWTIME or FLOOR(ROWTIME TO MINUTE), to know when rows can no longer repeat",
        )
    })?;
    Ok(DistinctColumns {
        monotonic,
        compared,
    })
}

/// After a DISTINCT query's pump into `hidden`: the DISTINCT operator from `hidden` into a
/// stream of the same columns, and a pump of those into `destination`.
fn distinct_pumps(
    plan: &mut ApplicationPlan,
    name: &str,
    hidden: &str,
    columns: DistinctColumns,
    destination: Destination<'_>,
    pumps: &mut Vec<Pump>,
    pos: Position,
) -> Result<(), PlanError> {
    let input = plan
        .streams
        .get(hidden)
        .cloned()
        .ok_or_else(|| plan_error(pos, format!("stream {hidden} was not created")))?;
    let output = format!("{name}$DISTINCT_OUT{}", pumps.len());
    add_stream(plan, &output, input.columns.clone(), false);
    let monotonic_type = input.columns[columns.monotonic - 1].sql_type;
    let distinct = super::distinct::DistinctPlan {
        monotonic: columns.monotonic,
        compared: columns.compared,
        schema: input.schema.clone(),
    };
    pumps.push(Pump {
        name: format!("{name}$DISTINCT"),
        source: hidden.to_string(),
        target: output.clone(),
        join: None,
        stream_join: None,
        windows: None,
        operator: Operator::Function {
            plan: Arc::new(TableFunctionPlan {
                kind: TableFunctionKind::Distinct(Arc::new(distinct)),
                column: columns.monotonic,
                column_type: ExprType::Sql(monotonic_type),
                window: 0,
                schema: input.schema.clone(),
                numeric: Vec::new(),
                numeric_names: Vec::new(),
            }),
        },
    });
    let all_of_output = select_from(&output, vec![SelectItem::Wildcard], pos);
    plan_query(
        plan,
        &format!("{name}$DISTINCT_INTO"),
        &all_of_output,
        destination,
        pumps,
    )
}

/// The query of a table function's `CURSOR(...)` first argument, if it has one.
fn cursor_query(call: &Expr) -> Option<&Query> {
    let Expr::Function(function) = call else {
        return None;
    };
    match function.args.first() {
        Some(FunctionArg::Expr(Expr::Cursor(query))) => Some(query),
        _ => None,
    }
}

/// The pump operator of a table function over the stream `cursor_stream`, and the stream
/// `output` of its columns (created here).
fn table_function(
    plan: &mut ApplicationPlan,
    call: &crate::sql::ast::FunctionCall,
    cursor_stream: &str,
    output: &str,
) -> Result<Operator, PlanError> {
    let name = call
        .name
        .0
        .last()
        .map(|ident| ident.name.clone())
        .unwrap_or_default();
    let input =
        plan.streams.get(cursor_stream).cloned().ok_or_else(|| {
            plan_error(call.pos, format!("stream {cursor_stream} was not created"))
        })?;
    let args = plain_args_of(call)?;
    let text = |index: usize, what: &str| -> Result<String, PlanError> {
        match args.get(index) {
            Some(Expr::Literal(Literal::String(text))) => Ok(text.clone()),
            _ => Err(plan_error(
                call.pos,
                format!("{name}'s {what} is a string in single quotes"),
            )),
        }
    };
    let number = |index: usize, what: &str, low: i64, high: i64| -> Result<i64, PlanError> {
        let value = match args.get(index) {
            Some(Expr::Literal(Literal::Number(text))) => text.parse::<i64>().ok(),
            _ => None,
        };
        value
            .filter(|value| (low..=high).contains(value))
            .ok_or_else(|| {
                plan_error(
                    call.pos,
                    format!("{name}'s {what} is a whole number from {low} to {high}"),
                )
            })
    };
    let column_of = |column_name: &str| -> Result<(usize, Column), PlanError> {
        input
            .columns
            .iter()
            .position(|column| column.name == column_name)
            .map(|index| (index + 1, input.columns[index].clone()))
            .ok_or_else(|| {
                plan_error(
                    call.pos,
                    format!("{name}: the cursor's stream has no column {column_name}"),
                )
            })
    };
    let (kind, column, window, columns) = match name.as_str() {
        "COUNT_DISTINCT_ITEMS_TUMBLING" => {
            if args.len() != 3 {
                return Err(plan_error(call.pos, format!("{name} takes 3 arguments")));
            }
            let (index, _) = column_of(&text(1, "column name")?)?;
            let window = number(2, "window size in seconds", 1, 3600)?;
            (
                TableFunctionKind::CountDistinct,
                index,
                window,
                vec![Column::new("NUMBER_OF_DISTINCT_ITEMS", SqlType::BigInt)],
            )
        }
        "TOP_K_ITEMS_TUMBLING" => {
            if args.len() != 4 {
                return Err(plan_error(call.pos, format!("{name} takes 4 arguments")));
            }
            let (index, column) = column_of(&text(1, "column name")?)?;
            let k = number(2, "K", 1, 100_000)?;
            let window = number(3, "window size in seconds", 1, 3600)?;
            (
                TableFunctionKind::TopK(k as usize),
                index,
                window,
                vec![
                    Column::new("ITEM", column.sql_type),
                    Column::new("ITEM_COUNT", SqlType::BigInt),
                ],
            )
        }
        "RANDOM_CUT_FOREST" | "RANDOM_CUT_FOREST_WITH_EXPLANATION" | "HOTSPOTS" => {
            return scoring_function(plan, call, &name, &input, &args, output);
        }
        "GROUP_RANK" => {
            let (group_rank, columns) =
                super::group_rank::plan_group_rank(call.pos, &args, &input.columns)?;
            let schema = group_rank.schema.clone();
            add_stream(plan, output, columns, false);
            return Ok(Operator::Function {
                plan: Arc::new(TableFunctionPlan {
                    kind: TableFunctionKind::GroupRank(Arc::new(group_rank)),
                    column: 0,
                    column_type: ExprType::Sql(SqlType::Timestamp),
                    window: 0,
                    schema,
                    numeric: Vec::new(),
                    numeric_names: Vec::new(),
                }),
            });
        }
        other => {
            return Err(plan_error(
                call.pos,
                format!("no table function {other} over a CURSOR"),
            ));
        }
    };
    let column_type = ExprType::Sql(input.columns[column - 1].sql_type);
    add_stream(plan, output, columns.clone(), false);
    Ok(Operator::Function {
        plan: Arc::new(TableFunctionPlan {
            kind,
            column,
            column_type,
            window: window * 1000,
            schema: stream_schema(&columns),
            numeric: Vec::new(),
            numeric_names: Vec::new(),
        }),
    })
}

/// RANDOM_CUT_FOREST[_WITH_EXPLANATION] and HOTSPOTS: the cursor's columns, then the
/// function's, computed from the cursor's numeric columns.
fn scoring_function(
    plan: &mut ApplicationPlan,
    call: &crate::sql::ast::FunctionCall,
    name: &str,
    input: &StreamDef,
    args: &[&Expr],
    output: &str,
) -> Result<Operator, PlanError> {
    use super::hotspots::HotspotsParams;
    use super::rcf::RcfParams;
    let number = |index: usize| -> Result<Option<f64>, PlanError> {
        match args.get(index) {
            None => Ok(None),
            Some(Expr::Literal(Literal::Number(text))) => text
                .parse::<f64>()
                .map(Some)
                .map_err(|_| plan_error(call.pos, format!("{name}: {text} is not a number"))),
            Some(Expr::Literal(Literal::Null)) => Ok(None),
            Some(_) => Err(plan_error(
                call.pos,
                format!("{name}'s parameters are numbers written in the call"),
            )),
        }
    };
    let whole = |index: usize, default: i64| -> Result<i64, PlanError> {
        Ok(match number(index)? {
            None => default,
            Some(value) if value.fract() == 0.0 => value as i64,
            Some(value) => {
                return Err(plan_error(
                    call.pos,
                    format!("{name}: parameter {index} must be a whole number, not {value}"),
                ));
            }
        })
    };
    let numeric: Vec<(usize, &Column)> = input
        .columns
        .iter()
        .enumerate()
        .filter(|(_, column)| column.sql_type.is_numeric())
        .map(|(index, column)| (index + 1, column))
        .collect();
    if numeric.is_empty() {
        return Err(plan_error(
            call.pos,
            format!("{name} needs numeric columns in its cursor's stream"),
        ));
    }
    let mut columns = input.columns.clone();
    let kind = if name == "HOTSPOTS" {
        if args.len() != 4 {
            return Err(plan_error(
                call.pos,
                "HOTSPOTS takes a cursor, windowSize, scanRadius and minimumNumberOfPointsInAHotspot",
            ));
        }
        let params = HotspotsParams {
            window_size: whole(1, 0)?,
            scan_radius: number(2)?.unwrap_or_default(),
            minimum_number_of_points_in_a_hotspot: whole(3, 0)?,
        };
        params
            .validate()
            .map_err(|err| plan_error(call.pos, format!("HOTSPOTS: {err}")))?;
        columns.push(Column::new("HOTSPOTS_RESULT", SqlType::Varchar(10_000)));
        TableFunctionKind::Hotspots(params)
    } else {
        let explain = name == "RANDOM_CUT_FOREST_WITH_EXPLANATION";
        let limit = if explain { 6 } else { 5 };
        if args.len() > limit {
            return Err(plan_error(
                call.pos,
                format!("{name} takes at most {limit} arguments"),
            ));
        }
        let defaults = RcfParams::default();
        let params = RcfParams {
            number_of_trees: whole(1, defaults.number_of_trees)?,
            sub_sample_size: whole(2, defaults.sub_sample_size)?,
            time_decay: whole(3, defaults.time_decay)?,
            shingle_size: whole(4, defaults.shingle_size)?,
        };
        params
            .validate()
            .map_err(|err| plan_error(call.pos, format!("{name}: {err}")))?;
        super::rcf::check_numeric_columns(numeric.len())
            .map_err(|err| plan_error(call.pos, format!("{name}: {err}")))?;
        columns.push(Column::new("ANOMALY_SCORE", SqlType::Double));
        let explain = if explain {
            let directionality = match args.get(5) {
                None | Some(Expr::Literal(Literal::Null)) => false,
                Some(Expr::Literal(Literal::Boolean(flag))) => *flag,
                Some(_) => {
                    return Err(plan_error(
                        call.pos,
                        format!("{name}'s withDirectionality is TRUE or FALSE"),
                    ));
                }
            };
            columns.push(Column::new("ANOMALY_EXPLANATION", SqlType::Varchar(20_480)));
            Some(directionality)
        } else {
            None
        };
        TableFunctionKind::RandomCutForest { params, explain }
    };
    add_stream(plan, output, columns.clone(), false);
    Ok(Operator::Function {
        plan: Arc::new(TableFunctionPlan {
            kind,
            numeric: numeric.iter().map(|(index, _)| *index).collect(),
            numeric_names: numeric
                .iter()
                .map(|(_, column)| column.name.clone())
                .collect(),
            column: 0,
            column_type: ExprType::Sql(SqlType::Timestamp),
            window: 1,
            schema: stream_schema(&columns),
        }),
    })
}

fn plain_args_of(call: &crate::sql::ast::FunctionCall) -> Result<Vec<&Expr>, PlanError> {
    call.args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Expr(expr) => Ok(expr),
            _ => Err(plan_error(
                call.pos,
                "table function arguments are given by position",
            )),
        })
        .collect()
}

/// A query's projected values and their column names, before they are assigned to a target.
type Projected = Vec<(PhysicalExpr, String)>;

/// A row-by-row query: WHERE, then the projection.
fn map_operator(
    select: &Select,
    scope: &mut RelationScope,
) -> Result<(Operator, Projected), PlanError> {
    if select.having.is_some() {
        return Err(plan_error(select.pos, "HAVING needs a GROUP BY"));
    }
    let filter = select
        .selection
        .as_ref()
        .map(|condition| {
            let compiled = compile(condition, scope)?;
            match compiled.ty() {
                ExprType::Sql(SqlType::Boolean) | ExprType::Null => Ok(compiled),
                other => Err(plan_error(
                    position_of(condition),
                    format!("WHERE needs a BOOLEAN condition, found {other}"),
                )),
            }
        })
        .transpose()?;
    let items = projection_items(select, scope)?;
    let mut values = Vec::with_capacity(items.len());
    for (item, name) in items {
        values.push((compile(&item, scope)?, name));
    }
    Ok((
        Operator::Map {
            filter,
            projection: Vec::new(),
        },
        values,
    ))
}

/// The column name a projected expression gives: its alias, the name of a column it is, or
/// `EXPR$<n>`.
fn item_name(expr: &Expr, alias: Option<&Ident>, index: usize) -> String {
    match (alias, expr) {
        (Some(alias), _) => alias.name.clone(),
        (None, Expr::Identifier(ident)) => ident.name.clone(),
        (None, Expr::CompoundIdentifier(parts)) => parts
            .last()
            .map(|ident| ident.name.clone())
            .unwrap_or_else(|| format!("EXPR${index}")),
        _ => format!("EXPR${index}"),
    }
}

/// What a query's FROM reads: its stream, the scope of its names, and the table or second
/// stream it joins.
type FromClause = (
    String,
    RelationScope,
    Option<TableJoins>,
    Option<Arc<StreamJoinPlan>>,
    Option<WindowAssign>,
);

/// The stream a query reads, the table or stream it joins if any, and the scope of its names.
fn from_clause(
    plan: &ApplicationPlan,
    select: &Select,
    derived: Option<(String, Vec<String>)>,
    first_scope: Option<RelationScope>,
) -> Result<FromClause, PlanError> {
    let Some((from, comma_items)) = select.from.split_first() else {
        return Err(plan_error(select.pos, "a pump's query reads FROM a stream"));
    };
    if let (None, TableFactor::Function { pos, call, alias }) = (&derived, &from.relation) {
        if !from.joins.is_empty() {
            return Err(plan_error(
                *pos,
                "a window table function cannot be joined yet",
            ));
        }
        let (stream_name, scope, windows) = window_function(plan, call, alias.as_ref(), *pos)?;
        return Ok((stream_name, scope, None, None, Some(windows)));
    }
    let (stream_name, names, window) = match derived {
        Some((hidden, names)) => (hidden, names, None),
        None => named_relation(&from.relation, select.pos, "stream")?,
    };
    let stream = plan.streams.get(&stream_name).ok_or_else(|| {
        let message = if plan.tables.contains_key(&stream_name) {
            format!(
                "{stream_name} is a reference table: a pump reads FROM a stream and joins tables"
            )
        } else {
            format!("stream {stream_name} does not exist")
        };
        plan_error(select.pos, message)
    })?;
    let mut scope = RelationScope::single(names, stream.columns.clone());
    scope.first_rows = stream.rows.clone();
    if stream.input {
        scope.relations[0].hidden = vec![APPROXIMATE_ARRIVAL_TIME.to_string()];
    }
    if let Some(first_scope) = first_scope {
        scope = first_scope;
    }
    // The joins in FROM order: a second stream first (its pairs are the batches the tables
    // join), then any number of reference tables. A comma-separated item (`FROM s, t WHERE
    // ...`, as the reference's FROM grammar allows) is an inner join whose condition is in
    // WHERE (`None` here).
    let mut joins: Vec<(Join, Option<&Expr>)> =
        from.joins.iter().map(|join| (join.clone(), None)).collect();
    for item in comma_items {
        let implicit = Join {
            kind: AstJoinKind::Inner,
            relation: item.relation.clone(),
            constraint: JoinConstraint::On(Expr::Literal(Literal::Boolean(true))),
        };
        let condition = select.selection.as_ref().unwrap_or(&TRUE_CONDITION);
        joins.push((implicit, Some(condition)));
        joins.extend(item.joins.iter().map(|join| (join.clone(), None)));
    }
    let mut is_stream = Vec::with_capacity(joins.len());
    for (join, _) in &joins {
        let (other, ..) = named_relation(&join.relation, select.pos, "stream or table")?;
        is_stream.push(plan.streams.contains_key(&other));
    }
    if is_stream.iter().filter(|stream| **stream).count() > 1 {
        return Err(plan_error(
            select.pos,
            "joining a fourth stream, or a stream listed after a comma beside a join of two streams, is not supported yet",
        ));
    }
    // The join of the two streams runs first (the tables join its pairs), wherever FROM
    // writes it: see `stream_join_first`.
    let order = stream_join_first(&joins, &is_stream, select.pos)?;
    let stream_join_moved = order.first().is_some_and(|first| *first != 0);
    let mut table_joins = Vec::new();
    let mut stream_join = None;
    for index in order {
        let (join, where_condition) = &joins[index];
        if !is_stream[index] {
            table_joins.push(table_join(
                plan,
                &mut scope,
                join,
                *where_condition,
                select.pos,
            )?);
            continue;
        }
        let first = (stream_name.clone(), window, stream.schema.clone());
        let joined = self::stream_join(plan, &mut scope, first, join, select.pos)?;
        stream_join = Some(Arc::new(joined));
    }
    if stream_join_moved && scope.relations.len() > 3 {
        // The second stream and its own-ROWTIME columns back after the tables, as FROM
        // writes them (for `*`); their batch positions do not change.
        scope.relations[1..].rotate_left(2);
    }
    let join = (!table_joins.is_empty()).then_some(TableJoins(table_joins));
    if window.is_some() && stream_join.is_none() {
        return Err(plan_error(
            select.pos,
            "a window in FROM belongs to a join of two streams",
        ));
    }
    Ok((stream_name, scope, join, stream_join, None))
}

/// `TABLE(TUMBLE(TABLE s, DESCRIPTOR(t), size))` or `TABLE(HOP(TABLE s, DESCRIPTOR(t), slide,
/// size))`, arguments by position or by name (`DATA`, `TIMECOL`, `SIZE`, `SLIDE`).
fn window_function(
    plan: &ApplicationPlan,
    call: &Expr,
    alias: Option<&crate::sql::ast::TableAlias>,
    pos: Position,
) -> Result<(String, RelationScope, WindowAssign), PlanError> {
    let Expr::Function(call) = call else {
        return Err(plan_error(pos, "TABLE(...) needs a table function call"));
    };
    let name = call
        .name
        .0
        .last()
        .map(|ident| ident.name.clone())
        .unwrap_or_default();
    let positional: &[&str] = match name.as_str() {
        "TUMBLE" => &["DATA", "TIMECOL", "SIZE"],
        "HOP" => &["DATA", "TIMECOL", "SLIDE", "SIZE"],
        "SESSION" => &["DATA", "TIMECOL", "GAP"],
        "RANDOM_CUT_FOREST" | "RANDOM_CUT_FOREST_WITH_EXPLANATION" | "HOTSPOTS" => {
            return Err(plan_error(call.pos, format!("{name} is not supported yet")));
        }
        other => {
            return Err(plan_error(
                call.pos,
                format!(
                    "no table function {other}: TUMBLE, HOP, RANDOM_CUT_FOREST, RANDOM_CUT_FOREST_WITH_EXPLANATION and HOTSPOTS are"
                ),
            ));
        }
    };
    let mut args: BTreeMap<&str, &Expr> = BTreeMap::new();
    for (index, arg) in call.args.iter().enumerate() {
        match arg {
            FunctionArg::Expr(expr) => {
                let key = positional.get(index).ok_or_else(|| {
                    plan_error(
                        call.pos,
                        format!("{name} takes {} arguments", positional.len()),
                    )
                })?;
                args.insert(key, expr);
            }
            FunctionArg::Named {
                name: arg_name,
                value,
            } => {
                let key = positional
                    .iter()
                    .find(|key| **key == arg_name.name)
                    .ok_or_else(|| {
                        plan_error(
                            arg_name.pos,
                            format!("{name} has no argument {}", arg_name.name),
                        )
                    })?;
                args.insert(key, value);
            }
            FunctionArg::Star => {
                return Err(plan_error(call.pos, format!("{name}(*) is not valid")));
            }
        }
    }
    let argument = |key: &str| {
        args.get(key)
            .copied()
            .ok_or_else(|| plan_error(call.pos, format!("{name} needs its {key} argument")))
    };
    let Expr::TableRef(stream) = argument("DATA")? else {
        return Err(plan_error(
            call.pos,
            format!("{name}'s DATA is TABLE stream"),
        ));
    };
    let (stream_name, _) = object_name(stream);
    let stream = plan
        .streams
        .get(&stream_name)
        .ok_or_else(|| plan_error(call.pos, format!("stream {stream_name} does not exist")))?;
    let Expr::Descriptor(time) = argument("TIMECOL")? else {
        return Err(plan_error(
            call.pos,
            format!("{name}'s TIMECOL is DESCRIPTOR(column)"),
        ));
    };
    let mut names = vec![stream_name.clone()];
    if let Some(alias) = alias {
        names.push(alias.name.name.clone());
    }
    let mut scope = RelationScope::single(names, stream.columns.clone());
    let (time_index, time_type) = scope.resolve(time)?;
    if time_type != ExprType::Sql(SqlType::Timestamp) {
        return Err(plan_error(
            call.pos,
            format!("{name}'s TIMECOL must be a TIMESTAMP"),
        ));
    }
    let session = name == "SESSION";
    let size =
        super::expr::constant_interval(argument(if session { "GAP" } else { "SIZE" })?, call.pos)?;
    let slide = match name.as_str() {
        "HOP" => super::expr::constant_interval(argument("SLIDE")?, call.pos)?,
        _ => size,
    };
    let start_index = scope.width();
    let relation = &mut scope.relations[0];
    for column in [WINDOW_START, WINDOW_END, WINDOW_TIME] {
        relation
            .columns
            .push(Column::new(column, SqlType::Timestamp));
    }
    relation.window = Some(TvfWindow {
        start_index,
        size,
        on_rowtime: time_index == 0,
        session,
        time_index,
    });
    let schema = stream_schema(&scope.columns());
    Ok((
        stream_name,
        scope,
        WindowAssign {
            time_index,
            size,
            slide,
            session,
            schema,
        },
    ))
}

/// The name of a stream or table in FROM, and the names it may be qualified by.
fn named_relation<'a>(
    relation: &'a TableFactor,
    pos: Position,
    what: &str,
) -> Result<(String, Vec<String>, Option<&'a WindowSpec>), PlanError> {
    match relation {
        TableFactor::Named {
            name,
            window,
            alias,
        } => {
            let (relation_name, _) = object_name(name);
            let mut names = vec![relation_name.clone()];
            if let Some(alias) = alias {
                if !alias.columns.is_empty() {
                    return Err(plan_error(
                        alias.name.pos,
                        format!("renaming a {what}'s columns in FROM is not supported yet"),
                    ));
                }
                names.push(alias.name.name.clone());
            }
            Ok((relation_name, names, window.as_ref()))
        }
        TableFactor::Derived { .. } => {
            Err(plan_error(pos, "a subquery in FROM is not supported yet"))
        }
        TableFactor::Function { pos, .. } => Err(plan_error(
            *pos,
            "table functions (TABLE(...)) are not supported yet",
        )),
    }
}

/// The condition of a comma-separated FROM item in a query without WHERE.
const TRUE_CONDITION: Expr = Expr::Literal(Literal::Boolean(true));

/// `JOIN table ON ...`: the table joins the scope, and the condition splits into hash keys
/// and a residual filter. For a comma-separated item (`FROM s, table WHERE ...`),
/// `where_condition` is the query's WHERE: its equalities between the scope and the table are
/// the keys, and the whole of it filters afterwards as WHERE does.
fn table_join(
    plan: &ApplicationPlan,
    scope: &mut RelationScope,
    join: &Join,
    where_condition: Option<&Expr>,
    pos: Position,
) -> Result<JoinPlan, PlanError> {
    let kind = match join.kind {
        // CROSS JOIN, as the reference's join types define it: every stream row with every
        // table row, an inner join on TRUE.
        AstJoinKind::Inner | AstJoinKind::Cross => JoinKind::Inner,
        AstJoinKind::Left => JoinKind::Left,
        other => {
            return Err(plan_error(
                pos,
                format!(
                    "a {} JOIN of a stream and a table is not supported: a table row that no stream row matches would have no ROWTIME to go out at; use JOIN or LEFT JOIN",
                    format!("{other:?}").to_ascii_uppercase()
                ),
            ));
        }
    };
    let (table_name, names, _) = named_relation(&join.relation, pos, "table")?;
    let table = plan.tables.get(&table_name).ok_or_else(|| {
        let message = if plan.streams.contains_key(&table_name) {
            format!("{table_name} is a stream: joining two streams is not supported yet")
        } else {
            format!("reference table {table_name} does not exist")
        };
        plan_error(pos, message)
    })?;
    let stream_scope = scope.clone();
    let mut table_scope = RelationScope::single(names.clone(), table.columns.clone());
    scope.relations.push(Relation {
        names,
        columns: table.columns.clone(),
        offset: scope.width(),
        window: None,
        hidden: Vec::new(),
        rowtime: None,
    });
    let condition = match (&join.constraint, where_condition) {
        (_, Some(condition)) => condition.clone(),
        (JoinConstraint::On(condition), None) => condition.clone(),
        (JoinConstraint::None, None) if join.kind == AstJoinKind::Cross => TRUE_CONDITION,
        (JoinConstraint::Using(_) | JoinConstraint::None, None) => {
            return Err(plan_error(pos, "a join with a table needs ON"));
        }
    };
    let mut conjuncts = Vec::new();
    split_and(&condition, &mut conjuncts);
    let (mut stream_keys, mut table_keys, mut residual) = (Vec::new(), Vec::new(), Vec::new());
    for conjunct in conjuncts {
        if let Expr::Binary {
            left,
            op: BinaryOperator::Eq,
            right,
        } = &conjunct
        {
            let mut stream_side = stream_scope.clone();
            let sides = [(left, right), (right, left)]
                .into_iter()
                .find_map(|(a, b)| {
                    let a = compile(a, &mut stream_side).ok()?;
                    let b = compile(b, &mut table_scope).ok()?;
                    super::expr::equality_sides(a, b)
                });
            if let Some((stream_key, table_key)) = sides {
                stream_keys.push(stream_key);
                table_keys.push(table_key);
                continue;
            }
        }
        residual.push(conjunct);
    }
    if stream_keys.is_empty() {
        // No equality to hash on (a CROSS JOIN, or an ON or WHERE of other comparisons):
        // every table row is a candidate for every stream row, under one constant key, and
        // the condition filters the pairs.
        stream_keys.push(compile(&TRUE_CONDITION, &mut stream_scope.clone())?);
        table_keys.push(compile(&TRUE_CONDITION, &mut table_scope)?);
    }
    if where_condition.is_some() {
        // The rest of WHERE runs as the query's filter.
        residual.clear();
    }
    let residual = residual
        .into_iter()
        .reduce(|left, right| Expr::Binary {
            left: Box::new(left),
            op: BinaryOperator::And,
            right: Box::new(right),
        })
        .map(|condition| compile(&condition, scope))
        .transpose()?;
    Ok(JoinPlan {
        table: table_name,
        kind,
        stream_keys,
        table_keys,
        residual,
        joined_schema: stream_schema(&scope.columns()),
    })
}

/// `a [OVER w] JOIN b [OVER w] ON ...`: the second stream joins the scope.
fn stream_join(
    plan: &ApplicationPlan,
    scope: &mut RelationScope,
    (first, first_window, first_schema): (String, Option<&WindowSpec>, SchemaRef),
    join: &Join,
    pos: Position,
) -> Result<StreamJoinPlan, PlanError> {
    let (first_outer, second_outer) = match join.kind {
        AstJoinKind::Inner => (false, false),
        AstJoinKind::Left => (true, false),
        AstJoinKind::Right => (false, true),
        AstJoinKind::Full => (true, true),
        // The reference's "Join Types": every row of the left paired with every row of the
        // right (within the windows), an inner join whose condition is TRUE.
        AstJoinKind::Cross => (false, false),
    };
    let (second, mut names, second_window) = named_relation(&join.relation, pos, "stream")?;
    let second_index = scope.relations.len();
    if second == first {
        // A stream joined with itself: each side is named by its alias only.
        let first_names = &mut scope.relations[0].names;
        if first_names.len() < 2 || names.len() < 2 {
            return Err(plan_error(
                pos,
                format!(
                    "joining {first} with itself needs an alias for each side: FROM {first} AS a JOIN {first} AS b"
                ),
            ));
        }
        first_names.retain(|name| *name != first);
        names.retain(|name| *name != second);
    }
    let second_def = plan
        .streams
        .get(&second)
        .ok_or_else(|| plan_error(pos, format!("stream {second} does not exist")))?;
    let range = |window: Option<&WindowSpec>| -> Result<Option<i64>, PlanError> {
        window
            .map(|spec| {
                if !spec.partition_by.is_empty() {
                    return Err(plan_error(pos, "a join's window cannot be partitioned"));
                }
                match frame_of(spec, pos)? {
                    Frame::Range(range) => Ok(range),
                    Frame::Rows(_) => Err(plan_error(
                        pos,
                        "a join's window is a RANGE INTERVAL ... PRECEDING",
                    )),
                }
            })
            .transpose()
    };
    let first_range = range(first_window)?;
    let second_range = range(second_window)?;
    if first_range.is_none() && second_range.is_none() {
        return Err(plan_error(
            pos,
            "a join of two streams needs a window on one of them: OVER (RANGE INTERVAL ... PRECEDING)",
        ));
    }
    scope.relations.push(Relation {
        names,
        columns: second_def.columns.clone(),
        offset: scope.width(),
        window: None,
        hidden: if second_def.input {
            vec![APPROXIMATE_ARRIVAL_TIME.to_string()]
        } else {
            Vec::new()
        },
        rowtime: None,
    });
    // Each stream's own ROWTIME, after their columns.
    let own_rowtimes = scope.width();
    scope.relations.push(Relation {
        names: Vec::new(),
        columns: vec![
            Column::new("$FIRST_ROWTIME", SqlType::Timestamp),
            Column::new("$SECOND_ROWTIME", SqlType::Timestamp),
        ],
        offset: own_rowtimes,
        window: None,
        hidden: vec!["$FIRST_ROWTIME".into(), "$SECOND_ROWTIME".into()],
        rowtime: None,
    });
    // The first relation keeps its own ROWTIME if it has one already (streams joined
    // before, see `join_first_streams`).
    if scope.relations[0].rowtime.is_none() {
        scope.relations[0].rowtime = Some(own_rowtimes);
    }
    scope.relations[second_index].rowtime = Some(own_rowtimes + 1);
    let condition = match &join.constraint {
        JoinConstraint::On(condition) => compile(condition, scope)?,
        JoinConstraint::None if join.kind == AstJoinKind::Cross => compile(&TRUE_CONDITION, scope)?,
        _ => return Err(plan_error(pos, "a join of two streams needs ON")),
    };
    if !matches!(
        condition.ty(),
        ExprType::Sql(SqlType::Boolean) | ExprType::Null
    ) {
        return Err(plan_error(pos, "ON needs a BOOLEAN condition"));
    }
    Ok(StreamJoinPlan {
        first,
        second,
        first_range,
        second_range,
        first_outer,
        second_outer,
        first_schema,
        second_schema: second_def.schema.clone(),
        condition,
        joined_schema: stream_schema(&scope.columns()),
    })
}

fn split_and(expr: &Expr, out: &mut Vec<Expr>) {
    match expr {
        Expr::Binary {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            split_and(left, out);
            split_and(right, out);
        }
        other => out.push(other.clone()),
    }
}

/// The target column each projected value goes to.
fn target_columns(target: &StreamDef, listed: &[Ident]) -> Result<Vec<usize>, PlanError> {
    if listed.is_empty() {
        return Ok((0..target.columns.len()).collect());
    }
    let mut indices = Vec::with_capacity(listed.len());
    for ident in listed {
        let index = target
            .columns
            .iter()
            .position(|column| column.name == ident.name)
            .ok_or_else(|| {
                plan_error(
                    ident.pos,
                    format!("stream {} has no column {}", target.name, ident.name),
                )
            })?;
        if indices.contains(&index) {
            return Err(plan_error(
                ident.pos,
                format!("column {} is listed twice", ident.name),
            ));
        }
        indices.push(index);
    }
    Ok(indices)
}

/// The projection's expressions, with `*` expanded to the columns of every stream and table
/// of FROM, and `t.*` to those of `t`.
fn projection_items(
    select: &Select,
    scope: &RelationScope,
) -> Result<Vec<(Expr, String)>, PlanError> {
    let qualified = |relation: &Relation, column: &Column, pos: Position| {
        let name = Ident {
            name: column.name.clone(),
            quoted: true,
            pos,
        };
        match relation.names.first() {
            Some(qualifier) if scope.relations.len() > 1 => Expr::CompoundIdentifier(vec![
                Ident {
                    name: qualifier.clone(),
                    quoted: true,
                    pos,
                },
                name,
            ]),
            _ => Expr::Identifier(name),
        }
    };
    let mut items = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::Expr { expr, alias } => {
                let name = item_name(expr, alias.as_ref(), items.len());
                items.push((expr.clone(), name));
            }
            SelectItem::Wildcard => {
                refuse_wildcard(&scope.first_rows, select.pos)?;
                for relation in &scope.relations {
                    for column in relation
                        .columns
                        .iter()
                        .filter(|column| !relation.hidden.contains(&column.name))
                    {
                        items.push((qualified(relation, column, select.pos), column.name.clone()));
                    }
                }
            }
            SelectItem::QualifiedWildcard(name) => {
                let (qualifier, pos) = object_name(name);
                let relation = scope
                    .relations
                    .iter()
                    .find(|relation| relation.names.contains(&qualifier))
                    .ok_or_else(|| {
                        plan_error(
                            pos,
                            format!("no stream, table or alias {qualifier} in FROM"),
                        )
                    })?;
                if scope
                    .relations
                    .first()
                    .is_some_and(|first| std::ptr::eq(first, relation))
                {
                    refuse_wildcard(&scope.first_rows, pos)?;
                }
                for column in relation
                    .columns
                    .iter()
                    .filter(|column| !relation.hidden.contains(&column.name))
                {
                    items.push((qualified(relation, column, pos), column.name.clone()));
                }
            }
        }
    }
    Ok(items)
}

/// The projection converted to the target's columns: ROWTIME first, then one expression per
/// target column (NULL where the pump gives none).
fn assign(
    values: Vec<PhysicalExpr>,
    target: &StreamDef,
    targets: &[usize],
    pos: Position,
) -> Result<Vec<PhysicalExpr>, PlanError> {
    if values.len() != targets.len() {
        return Err(plan_error(
            pos,
            format!(
                "the query selects {} columns, but {} are inserted into {}",
                values.len(),
                targets.len(),
                target.name
            ),
        ));
    }
    let mut out: Vec<Option<PhysicalExpr>> = vec![None; target.columns.len()];
    for (value, &index) in values.into_iter().zip(targets) {
        let column = &target.columns[index];
        let to = ExprType::Sql(column.sql_type);
        if !assignable(value.ty(), column.sql_type) {
            return Err(plan_error(
                pos,
                format!(
                    "cannot assign a {} value to column {} {} of {}",
                    value.ty(),
                    column.name,
                    column.sql_type,
                    target.name
                ),
            ));
        }
        // Unverified: assignment converts as CAST does (VARCHAR cut to length, CHAR padded).
        let converted = super::expr::cast_to(value, column.sql_type)
            .map_err(|message| plan_error(pos, message))?;
        out[index] = Some(coerce(converted, to));
    }
    let mut projection = Vec::with_capacity(target.columns.len() + 1);
    projection.push(PhysicalExpr::Column {
        index: 0,
        ty: ExprType::Sql(SqlType::Timestamp),
    });
    for (slot, column) in out.into_iter().zip(&target.columns) {
        projection.push(slot.unwrap_or_else(|| PhysicalExpr::Literal {
            value: arrow::array::new_null_array(&super::schema::arrow_type(column.sql_type), 1),
            ty: ExprType::Sql(column.sql_type),
        }));
    }
    Ok(projection)
}

/// Whether a value of `from` may be stored in a column of type `to` without a CAST.
fn assignable(from: ExprType, to: SqlType) -> bool {
    let Some(from) = from.sql() else {
        return from == ExprType::Null;
    };
    from == to
        || (from.is_numeric() && to.is_numeric())
        || (from.is_character() && to.is_character())
        || matches!(
            (from, to),
            (
                SqlType::Binary(_) | SqlType::Varbinary(_),
                SqlType::Binary(_) | SqlType::Varbinary(_)
            )
        )
}

fn has_windowed_aggregate(expr: &Expr) -> bool {
    let mut found = false;
    visit(expr, &mut |expr| {
        if let Expr::Function(call) = expr
            && call.over.is_some()
        {
            found = true;
        }
    });
    found
}

fn has_aggregate(expr: &Expr) -> bool {
    let mut found = false;
    visit(expr, &mut |expr| {
        if let Expr::Function(call) = expr
            && call.over.is_none()
            && call
                .name
                .0
                .last()
                .is_some_and(|ident| aggregate_name(&ident.name))
        {
            found = true;
        }
    });
    found
}

/// Calls `f` on `expr` and the expressions inside it (not inside subqueries).
fn visit(expr: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(expr);
    match expr {
        Expr::Unary { expr, .. }
        | Expr::Is { expr, .. }
        | Expr::Cast { expr, .. }
        | Expr::Extract { expr, .. }
        | Expr::FloorCeil { expr, .. }
        | Expr::IntervalOf { expr, .. } => visit(expr, f),
        Expr::Binary { left, right, .. } | Expr::IsDistinctFrom { left, right, .. } => {
            visit(left, f);
            visit(right, f);
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            visit(expr, f);
            visit(low, f);
            visit(high, f);
        }
        Expr::InList { expr, list, .. } => {
            visit(expr, f);
            list.iter().for_each(|item| visit(item, f));
        }
        Expr::Like {
            expr,
            pattern,
            escape,
            ..
        }
        | Expr::SimilarTo {
            expr,
            pattern,
            escape,
            ..
        } => {
            visit(expr, f);
            visit(pattern, f);
            if let Some(escape) = escape {
                visit(escape, f);
            }
        }
        Expr::Case {
            operand,
            branches,
            else_result,
        } => {
            if let Some(operand) = operand {
                visit(operand, f);
            }
            for (when, then) in branches {
                visit(when, f);
                visit(then, f);
            }
            if let Some(otherwise) = else_result {
                visit(otherwise, f);
            }
        }
        Expr::Function(call) => {
            for arg in &call.args {
                match arg {
                    FunctionArg::Expr(expr) | FunctionArg::Named { value: expr, .. } => {
                        visit(expr, f)
                    }
                    FunctionArg::Star => {}
                }
            }
        }
        Expr::Position {
            needle, haystack, ..
        } => {
            visit(needle, f);
            visit(haystack, f);
        }
        Expr::Substring {
            expr, from, length, ..
        } => {
            visit(expr, f);
            visit(from, f);
            if let Some(length) = length {
                visit(length, f);
            }
        }
        Expr::Trim {
            characters, expr, ..
        } => {
            if let Some(characters) = characters {
                visit(characters, f);
            }
            visit(expr, f);
        }
        Expr::Overlay {
            expr,
            placing,
            from,
            length,
            ..
        } => {
            visit(expr, f);
            visit(placing, f);
            visit(from, f);
            if let Some(length) = length {
                visit(length, f);
            }
        }
        Expr::Step { expr, step, .. } => {
            visit(expr, f);
            visit(step, f);
        }
        _ => {}
    }
}

fn tumbling(
    select: &Select,
    scope: &mut RelationScope,
) -> Result<(Operator, Projected), PlanError> {
    if select.group_by.is_empty() && select.stagger.is_none() {
        return Err(plan_error(
            select.pos,
            "an aggregate over a stream needs GROUP BY with a window: STEP(ROWTIME BY INTERVAL ...) or FLOOR(ROWTIME TO ...)",
        ));
    }
    if !select.group_by.is_empty() && select.stagger.is_some() {
        return Err(plan_error(
            select.pos,
            "WINDOWED BY STAGGER groups by its PARTITION BY: the query cannot have GROUP BY as well",
        ));
    }
    if select
        .projection
        .iter()
        .any(|item| !matches!(item, SelectItem::Expr { .. }))
    {
        return Err(plan_error(
            select.pos,
            "SELECT * cannot be used with GROUP BY",
        ));
    }
    let stagger = select
        .stagger
        .as_ref()
        .map(|stagger| super::expr::constant_interval(&stagger.range, select.pos))
        .transpose()?;
    let key_exprs = match &select.stagger {
        Some(stagger) => &stagger.partition_by,
        None => &select.group_by,
    };
    let mut keys = Vec::with_capacity(key_exprs.len());
    for key in key_exprs {
        keys.push(compile(key, scope)?);
    }
    // The window: a bucket of ROWTIME if there is one, else of another timestamp column.
    let bucket_of = |key: &PhysicalExpr| -> Option<(Bucket, bool)> {
        let (inner, bucket) = match key {
            PhysicalExpr::Step { expr, width } => (expr, Bucket::Step(*width)),
            PhysicalExpr::RoundTime {
                expr,
                unit,
                ceil: false,
            } => (expr, Bucket::Floor(*unit)),
            _ => return None,
        };
        match **inner {
            PhysicalExpr::Column { index: 0, .. } => Some((bucket, true)),
            PhysicalExpr::Column { .. } => Some((bucket, false)),
            _ => None,
        }
    };
    let window = keys
        .iter()
        .enumerate()
        .filter_map(|(index, key)| bucket_of(key).map(|(bucket, rowtime)| (index, bucket, rowtime)))
        .min_by_key(|(_, _, rowtime)| !rowtime);
    // A TUMBLE or HOP table function's WINDOW_START is a bucket of its own.
    let tvf = scope.relations.iter().find_map(|relation| relation.window);
    let session = match tvf {
        Some(tvf) if tvf.session => {
            let key_of = |column: usize| {
                keys.iter().position(
                    |key| matches!(key, PhysicalExpr::Column { index, .. } if *index == column),
                )
            };
            let plan = SessionPlan {
                gap: tvf.size,
                time_index: tvf.time_index,
                start_key: key_of(tvf.start_index),
                end_key: key_of(tvf.start_index + 1),
                time_key: key_of(tvf.start_index + 2),
            };
            if plan.start_key.is_none() && plan.end_key.is_none() {
                return Err(plan_error(
                    select.pos,
                    "a query over SESSION groups by WINDOW_START and WINDOW_END",
                ));
            }
            Some((plan, tvf.on_rowtime))
        }
        _ => None,
    };
    let window = window.or_else(|| {
        let tvf = tvf.filter(|tvf| !tvf.session)?;
        keys.iter().enumerate().find_map(|(index, key)| match key {
            PhysicalExpr::Column { index: column, .. } if *column == tvf.start_index => {
                Some((index, Bucket::Step(tvf.size), tvf.on_rowtime))
            }
            _ => None,
        })
    });
    let window = match (stagger, &session) {
        (Some(_), _) => Some((0, Bucket::Step(1), true)),
        (None, Some((_, on_rowtime))) => Some((0, Bucket::Step(1), *on_rowtime)),
        (None, None) => window,
    };
    // Without a time bucket, a key declared MONOTONIC(...) windows the stream.
    let monotonic_key = super::aggregate_call::monotonic_key(key_exprs);
    let monotonic = window.is_none() && monotonic_key.is_some();
    let window = window.or(monotonic_key.map(|index| (index, Bucket::Step(1), false)));
    let Some((window_key, bucket, on_rowtime)) = window else {
        return Err(plan_error(
            position_of(&select.group_by[0]),
            "GROUP BY on a stream needs a window: STEP(ROWTIME BY INTERVAL ...) or FLOOR(ROWTIME TO ...), or the same of an event-time column, or a key declared MONOTONIC(...)",
        ));
    };
    if let Some(condition) = &select.selection
        && has_aggregate(condition)
    {
        return Err(plan_error(
            position_of(condition),
            "aggregates belong in HAVING, not WHERE",
        ));
    }
    let filter = select
        .selection
        .as_ref()
        .map(|condition| compile(condition, scope))
        .transpose()?;
    let key_prints: Vec<String> = keys.iter().map(PhysicalExpr::fingerprint).collect();
    let mut group = GroupScope {
        input: scope,
        keys: key_prints,
        aggregates: Vec::new(),
        aggregate_prints: Vec::new(),
    };
    let mut projection = Vec::new();
    for (index, item) in select.projection.iter().enumerate() {
        if let SelectItem::Expr { expr, alias } = item {
            let name = item_name(expr, alias.as_ref(), index);
            projection.push((compile(expr, &mut group)?, name));
        }
    }
    let having = select
        .having
        .as_ref()
        .map(|condition| compile(condition, &mut group))
        .transpose()?;
    let mut aggregates = group.aggregates;
    // A WHERE runs before grouping: it becomes a condition on every aggregate's input, and
    // rows it drops join no group (see `TumblingPlan::filter`).
    let plan = Arc::new(TumblingPlan {
        keys,
        window_key,
        bucket,
        on_rowtime,
        stagger,
        session: session.map(|(plan, _)| plan),
        aggregates: std::mem::take(&mut aggregates),
        filter,
        monotonic,
    });
    let closed_schema = closed_schema(&plan);
    Ok((
        Operator::Tumbling {
            plan,
            closed_schema,
            having,
            projection: Vec::new(),
        },
        projection,
    ))
}

/// The meaning of names in a query with sliding windows: the input's columns, and each
/// windowed aggregate a column appended after them.
struct SlidingScope<'a> {
    input: &'a mut RelationScope,
    windows: &'a [NamedWindow],
    width: usize,
    aggregates: Vec<SlidingAggregate>,
    prints: Vec<String>,
}

impl Scope for SlidingScope<'_> {
    fn resolve(&self, name: &[Ident]) -> Result<(usize, ExprType), PlanError> {
        self.input.resolve(name)
    }

    fn intercept(&mut self, expr: &Expr) -> Result<Option<PhysicalExpr>, PlanError> {
        let Expr::Function(call) = expr else {
            return Ok(None);
        };
        let Some(over) = &call.over else {
            return Ok(None);
        };
        let name = call
            .name
            .0
            .last()
            .map(|ident| ident.name.as_str())
            .unwrap_or_default();
        if !aggregate_name(name) {
            return Err(plan_error(
                call.pos,
                format!("{name} OVER a window is not supported yet"),
            ));
        }
        let aggregate = resolve_aggregate(call, name, self.input, true)?;
        let spec = resolve_window(over, self.windows, call.pos)?;
        let mut partition_by = Vec::with_capacity(spec.partition_by.len());
        for key in &spec.partition_by {
            partition_by.push(compile(key, self.input)?);
        }
        for order in &spec.order_by {
            let compiled = compile(&order.expr, self.input)?;
            if !matches!(compiled, PhysicalExpr::Column { index: 0, .. }) {
                return Err(plan_error(
                    position_of(&order.expr),
                    "a sliding window is ordered by ROWTIME; other orders are not supported yet",
                ));
            }
        }
        let frame = frame_of(&spec, call.pos)?;
        let sliding = SlidingAggregate {
            aggregate,
            partition_by,
            frame,
        };
        let print = format!(
            "{:?} {:?} {:?}",
            sliding.aggregate, sliding.partition_by, sliding.frame
        );
        let index = match self.prints.iter().position(|p| *p == print) {
            Some(index) => index,
            None => {
                self.prints.push(print);
                self.aggregates.push(sliding);
                self.aggregates.len() - 1
            }
        };
        Ok(Some(PhysicalExpr::Column {
            index: self.width + index,
            ty: self.aggregates[index].aggregate.ty,
        }))
    }
}

/// The window an `OVER` names or gives, with a named base window's parts filled in.
fn resolve_window(
    over: &Over,
    windows: &[NamedWindow],
    pos: Position,
) -> Result<WindowSpec, PlanError> {
    let named = |ident: &Ident| -> Result<WindowSpec, PlanError> {
        windows
            .iter()
            .find(|window| window.name.name == ident.name)
            .map(|window| window.spec.clone())
            .ok_or_else(|| plan_error(ident.pos, format!("no window {} in WINDOW", ident.name)))
    };
    let spec = match over {
        Over::Named(ident) => named(ident)?,
        Over::Spec(spec) => spec.clone(),
    };
    let Some(base) = &spec.base else {
        return Ok(spec);
    };
    let base_spec = named(base)?;
    if base_spec.base.is_some() {
        return Err(plan_error(pos, "a window refines one named window at most"));
    }
    Ok(WindowSpec {
        base: None,
        partition_by: if spec.partition_by.is_empty() {
            base_spec.partition_by
        } else {
            spec.partition_by
        },
        order_by: if spec.order_by.is_empty() {
            base_spec.order_by
        } else {
            spec.order_by
        },
        frame: spec.frame.or(base_spec.frame),
    })
}

/// The extent of a sliding window: `RANGE INTERVAL ... PRECEDING` or `ROWS n PRECEDING`
/// (optionally `BETWEEN ... AND CURRENT ROW`).
fn frame_of(spec: &WindowSpec, pos: Position) -> Result<Frame, PlanError> {
    let unbounded = || {
        plan_error(
            pos,
            "a window over a stream needs a bounded frame: RANGE INTERVAL '...' ... PRECEDING or ROWS n PRECEDING",
        )
    };
    let frame = spec.frame.as_ref().ok_or_else(unbounded)?;
    if !matches!(frame.end, None | Some(FrameBound::CurrentRow)) {
        return Err(plan_error(
            pos,
            "a window over a stream ends at the current row: FOLLOWING is not allowed",
        ));
    }
    match (&frame.units, &frame.start) {
        (FrameUnits::Range, FrameBound::Preceding(Some(range))) => {
            Ok(Frame::Range(super::expr::constant_interval(range, pos)?))
        }
        (FrameUnits::Rows, FrameBound::Preceding(Some(count))) => match &**count {
            Expr::Literal(Literal::Number(text)) => {
                text.parse::<u64>().map(Frame::Rows).map_err(|_| {
                    plan_error(pos, format!("ROWS {text} PRECEDING needs a whole number"))
                })
            }
            _ => Err(plan_error(pos, "ROWS n PRECEDING needs a whole number")),
        },
        (_, FrameBound::CurrentRow) => Ok(Frame::Rows(0)),
        _ => Err(unbounded()),
    }
}

fn sliding(select: &Select, scope: &mut RelationScope) -> Result<(Operator, Projected), PlanError> {
    if select.having.is_some() {
        return Err(plan_error(select.pos, "HAVING needs a GROUP BY"));
    }
    if let Some(condition) = &select.selection
        && (has_aggregate(condition) || has_windowed_aggregate(condition))
    {
        return Err(plan_error(
            position_of(condition),
            "aggregates cannot be used in WHERE",
        ));
    }
    let filter = select
        .selection
        .as_ref()
        .map(|condition| compile(condition, scope))
        .transpose()?;
    let items = projection_items(select, scope)?;
    let width = scope.width();
    let mut windowed = SlidingScope {
        input: scope,
        windows: &select.windows,
        width,
        aggregates: Vec::new(),
        prints: Vec::new(),
    };
    let mut projection = Vec::with_capacity(items.len());
    for (item, name) in &items {
        if has_aggregate(item) {
            return Err(plan_error(
                position_of(item),
                "an aggregate without OVER cannot be mixed with windowed aggregates",
            ));
        }
        projection.push((compile(item, &mut windowed)?, name.clone()));
    }
    let aggregates = windowed.aggregates;
    let mut fields: Vec<arrow::datatypes::FieldRef> = stream_schema(&scope.columns())
        .fields()
        .iter()
        .cloned()
        .collect();
    for (index, sliding) in aggregates.iter().enumerate() {
        fields.push(Arc::new(arrow::datatypes::Field::new(
            format!("WINDOWED{index}"),
            sliding.aggregate.ty.arrow_type(),
            true,
        )));
    }
    Ok((
        Operator::Sliding {
            filter,
            aggregates: Arc::new(aggregates),
            augmented_schema: Arc::new(arrow::datatypes::Schema::new(fields)),
            projection: Vec::new(),
        },
        projection,
    ))
}

/// Refuses pumps that feed their own input, directly or through other streams.
fn check_no_cycle(plan: &ApplicationPlan) -> Result<(), PlanError> {
    let reads: BTreeMap<&str, Vec<&str>> =
        plan.pumps.iter().fold(BTreeMap::new(), |mut map, pump| {
            map.entry(pump.source.as_str())
                .or_default()
                .push(pump.target.as_str());
            if let Some(join) = &pump.stream_join {
                map.entry(join.second.as_str())
                    .or_default()
                    .push(pump.target.as_str());
            }
            map
        });
    for pump in &plan.pumps {
        let mut stack = vec![pump.target.as_str()];
        let mut seen = Vec::new();
        while let Some(stream) = stack.pop() {
            if stream == pump.source
                || pump
                    .stream_join
                    .as_ref()
                    .is_some_and(|join| join.second == stream)
            {
                return Err(SqlError::new(
                    0,
                    0,
                    format!(
                        "pump {} feeds its own input stream {}",
                        pump.name, pump.source
                    ),
                ));
            }
            if seen.contains(&stream) {
                continue;
            }
            seen.push(stream);
            stack.extend(reads.get(stream).into_iter().flatten());
        }
    }
    Ok(())
}

use crate::sql::SqlError;

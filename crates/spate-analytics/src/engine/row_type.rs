//! ROW columns in the planner. A log-parsing function gives a ROW (`ExprType::Row`, an Arrow
//! `Struct` array); a subquery in FROM is where a ROW is named (`... AS r`, or `AS l(r)`), and
//! the query around it reads the ROW's fields (`l.r.COLUMN1`).
//!
//! Streams hold plain columns only: the hidden stream of a subquery holds a ROW's fields as
//! columns of their own, named `r.FIELD`, and a [`RowColumn`] beside the stream's columns
//! records which columns make up which ROW. The subquery's pump evaluates each ROW once and
//! its `Struct` array fills the ROW's columns (see the map step of `engine::run`). The
//! planner's scope resolves `t.r.FIELD` and `r.FIELD` through [`resolve_field`]; a ROW itself
//! cannot be selected into a column, so naming it whole is a plan error.

use super::expr::{PhysicalExpr, PlanError, coerce, plan_error};
use super::plan::StreamDef;
use super::schema::{Column, stream_schema};
use super::types::ExprType;
use crate::input::SqlType;
use crate::sql::ast::{Ident, Position};

/// A ROW column of a stream: its fields are the stream's columns `first..first + fields.len()`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowColumn {
    /// The ROW's name (`R` in `t.r.COLUMN1`).
    pub name: String,
    /// The index (among the stream's columns, ROWTIME not counted) of its first field.
    pub first: usize,
    /// Its fields' names, in order.
    pub fields: Vec<String>,
}

/// The name of the stream column holding field `field` of ROW `row`.
fn field_column_name(row: &str, field: &str) -> String {
    format!("{row}.{field}")
}

/// What a subquery's hidden stream holds: its columns (a ROW's fields one by one), its ROWs,
/// and the projection that fills it (ROWTIME first; a ROW value fills its fields' columns).
#[derive(Debug)]
pub struct SubqueryColumns {
    pub columns: Vec<Column>,
    pub rows: Vec<RowColumn>,
    pub projection: Vec<PhysicalExpr>,
}

/// The columns of a subquery selecting `values` (each with its column name).
pub fn subquery_columns(
    values: Vec<(PhysicalExpr, String)>,
    pos: Position,
) -> Result<SubqueryColumns, PlanError> {
    let mut names: Vec<&str> = Vec::with_capacity(values.len());
    for (_, name) in &values {
        if names.contains(&name.as_str()) {
            return Err(plan_error(
                pos,
                format!("the subquery gives two columns named {name}: name them with AS"),
            ));
        }
        names.push(name);
    }
    let mut columns = Vec::with_capacity(values.len());
    let mut rows = Vec::new();
    let mut projection = Vec::with_capacity(values.len() + 1);
    projection.push(PhysicalExpr::Column {
        index: 0,
        ty: ExprType::Sql(SqlType::Timestamp),
    });
    for (value, name) in values {
        let sql_type = match value.ty() {
            ExprType::Sql(sql_type) => sql_type,
            ExprType::Null => SqlType::Varchar(1),
            ExprType::Row => {
                let fields = row_fields(&value).ok_or_else(|| {
                    plan_error(pos, format!("the ROW {name} has no known columns"))
                })?;
                rows.push(RowColumn {
                    name: name.clone(),
                    first: columns.len(),
                    fields: fields.iter().map(|field| field.name.clone()).collect(),
                });
                for field in fields {
                    columns.push(Column::new(
                        field_column_name(&name, &field.name),
                        field.sql_type,
                    ));
                }
                projection.push(value);
                continue;
            }
            other => {
                return Err(plan_error(
                    pos,
                    format!("a subquery cannot give a {other} column"),
                ));
            }
        };
        columns.push(Column::new(name, sql_type));
        projection.push(coerce(value, ExprType::Sql(sql_type)));
    }
    Ok(SubqueryColumns {
        columns,
        rows,
        projection,
    })
}

/// The fields of a ROW-valued expression.
fn row_fields(value: &PhysicalExpr) -> Option<Vec<Column>> {
    match value {
        PhysicalExpr::Prepared { function, .. } => function.row_columns(),
        _ => None,
    }
}

/// `AS t(a, b, c)` on a subquery: its columns renamed in order, a ROW counting as one.
pub fn rename_columns(
    stream: &mut StreamDef,
    names: &[Ident],
    pos: Position,
) -> Result<(), PlanError> {
    // The subquery's columns as it selected them: a plain column, or a whole ROW.
    enum Selected {
        Plain(usize),
        Row(usize),
    }
    let mut selected = Vec::new();
    let mut index = 0;
    while index < stream.columns.len() {
        match stream.rows.iter().position(|row| row.first == index) {
            Some(row) => {
                selected.push(Selected::Row(row));
                index += stream.rows[row].fields.len().max(1);
            }
            None => {
                selected.push(Selected::Plain(index));
                index += 1;
            }
        }
    }
    if selected.len() != names.len() {
        return Err(plan_error(
            pos,
            format!(
                "the subquery gives {} columns, but {} names are given for them",
                selected.len(),
                names.len()
            ),
        ));
    }
    for (position, ident) in names.iter().enumerate() {
        if names[..position]
            .iter()
            .any(|other| other.name == ident.name)
        {
            return Err(plan_error(
                ident.pos,
                format!("column {} is named twice", ident.name),
            ));
        }
    }
    for (target, ident) in selected.iter().zip(names) {
        match target {
            Selected::Plain(index) => stream.columns[*index].name = ident.name.clone(),
            Selected::Row(row) => {
                let row = &mut stream.rows[*row];
                row.name = ident.name.clone();
                for (offset, field) in row.fields.iter().enumerate() {
                    stream.columns[row.first + offset].name = field_column_name(&ident.name, field);
                }
            }
        }
    }
    stream.schema = stream_schema(&stream.columns);
    Ok(())
}

/// One relation of a query's FROM, as field resolution sees it.
#[derive(Debug, Clone, Copy)]
pub struct RowScope<'a> {
    pub names: &'a [String],
    pub rows: &'a [RowColumn],
    pub columns: &'a [Column],
    /// The batch column of the relation's first column.
    pub offset: usize,
}

/// A ROW field named `t.r.FIELD` or `r.FIELD`: its batch column and type. `None` when the
/// name is not a ROW's field (it may be a plain column); an error when it names a ROW whole
/// or a field the ROW does not have.
pub fn resolve_field(
    name: &[Ident],
    relations: &[RowScope<'_>],
) -> Result<Option<(usize, ExprType)>, PlanError> {
    let is_relation = |ident: &Ident| {
        relations
            .iter()
            .any(|relation| relation.names.contains(&ident.name))
    };
    let (candidates, row, field): (Vec<&RowScope<'_>>, &Ident, Option<&Ident>) = match name {
        [qualifier, row, field] => (
            relations
                .iter()
                .filter(|relation| relation.names.contains(&qualifier.name))
                .collect(),
            row,
            Some(field),
        ),
        [row, field] if !is_relation(row) => (relations.iter().collect(), row, Some(field)),
        [qualifier, row] => (
            relations
                .iter()
                .filter(|relation| relation.names.contains(&qualifier.name))
                .collect(),
            row,
            None,
        ),
        [row] => (relations.iter().collect(), row, None),
        _ => return Ok(None),
    };
    for relation in candidates {
        let Some(found) = relation
            .rows
            .iter()
            .find(|candidate| candidate.name == row.name)
        else {
            continue;
        };
        let Some(field) = field else {
            return Err(plan_error(
                row.pos,
                format!(
                    "{} is a ROW: select its fields ({}.{})",
                    row.name,
                    row.name,
                    found
                        .fields
                        .first()
                        .map(String::as_str)
                        .unwrap_or("COLUMN1")
                ),
            ));
        };
        let Some(position) = found.fields.iter().position(|name| *name == field.name) else {
            return Err(plan_error(
                field.pos,
                format!(
                    "the ROW {} has no field {}: its fields are {}",
                    row.name,
                    field.name,
                    found.fields.join(", ")
                ),
            ));
        };
        let index = found.first + position;
        let sql_type = relation.columns[index].sql_type;
        return Ok(Some((relation.offset + index, ExprType::Sql(sql_type))));
    }
    Ok(None)
}

/// `*` over a relation with a ROW is refused: a ROW cannot be a stream's column.
pub fn refuse_wildcard(rows: &[RowColumn], pos: Position) -> Result<(), PlanError> {
    match rows.first() {
        None => Ok(()),
        Some(row) => Err(plan_error(
            pos,
            format!(
                "* would select the ROW {}, which no column can hold: select its fields ({}.{})",
                row.name,
                row.name,
                row.fields.first().map(String::as_str).unwrap_or("COLUMN1")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(name: &str) -> Ident {
        Ident {
            name: name.to_string(),
            quoted: false,
            pos: Position::default(),
        }
    }

    /// A subquery's stream: `HOST`, then the ROW `EXPR$1` of two fields.
    fn stream() -> StreamDef {
        let columns = vec![
            Column::new("HOST", SqlType::Varchar(8)),
            Column::new("EXPR$1.COLUMN1", SqlType::Varchar(1024)),
            Column::new("EXPR$1.COLUMN2", SqlType::Integer),
        ];
        StreamDef {
            name: "P$FROM0".into(),
            schema: stream_schema(&columns),
            columns,
            input: false,
            rows: vec![RowColumn {
                name: "EXPR$1".into(),
                first: 1,
                fields: vec!["COLUMN1".into(), "COLUMN2".into()],
            }],
        }
    }

    #[test]
    fn renaming_counts_a_row_as_one_column() {
        let mut renamed = stream();
        rename_columns(&mut renamed, &[ident("H"), ident("R")], Position::default())
            .expect("two names for two columns");
        let names: Vec<&str> = renamed.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["H", "R.COLUMN1", "R.COLUMN2"]);
        assert_eq!(renamed.rows[0].name, "R");
        assert_eq!(renamed.schema.field(2).name(), "R.COLUMN1");
        let err = rename_columns(&mut stream(), &[ident("H")], Position::default())
            .expect_err("one name for two columns");
        assert!(
            err.message.contains("gives 2 columns, but 1 names"),
            "{err}"
        );
        let err = rename_columns(
            &mut stream(),
            &[ident("A"), ident("A")],
            Position::default(),
        )
        .expect_err("a name twice");
        assert!(err.message.contains("named twice"), "{err}");
    }

    #[test]
    fn fields_resolve_with_or_without_their_stream() {
        let mut renamed = stream();
        rename_columns(&mut renamed, &[ident("H"), ident("R")], Position::default())
            .expect("renames");
        let names = vec!["P$FROM0".to_string(), "L".to_string()];
        let scope = [RowScope {
            names: &names,
            rows: &renamed.rows,
            columns: &renamed.columns,
            offset: 1,
        }];
        let found =
            resolve_field(&[ident("L"), ident("R"), ident("COLUMN2")], &scope).expect("resolves");
        assert_eq!(found, Some((3, ExprType::Sql(SqlType::Integer))));
        let found = resolve_field(&[ident("R"), ident("COLUMN1")], &scope).expect("resolves");
        assert_eq!(found, Some((2, ExprType::Sql(SqlType::Varchar(1024)))));
        // A plain column is left to the usual resolution.
        assert_eq!(
            resolve_field(&[ident("L"), ident("H")], &scope).expect("ok"),
            None
        );
        assert!(resolve_field(&[ident("L"), ident("R")], &scope).is_err());
        assert!(resolve_field(&[ident("R")], &scope).is_err());
        assert!(resolve_field(&[ident("L"), ident("R"), ident("NOPE")], &scope).is_err());
    }
}

//! `TABLE(GROUP_RANK(CURSOR(SELECT STREAM ...), 'rankByColumnName', 'rankOutColumnName',
//! 'sortOrder', 'outputOrder', maxIdle, outputMax))`, as the SQL reference's "Group Rank"
//! page defines it: rows are gathered until a row of another ROWTIME arrives or, with a
//! `maxIdle` (milliseconds) above 0, the clock passes the last row's time by more than that;
//! the group then goes out with RANK() of its rows by the rank column (`sortOrder` 'asc' or
//! 'desc': equal values share a rank, the next rank skips), ordered by rank (`outputOrder`),
//! at most `outputMax` rows of it (0: all). Rows keep their ROWTIME.
//!
//! Unverified: the reference's DDL returns the cursor's columns and the rank as an INTEGER
//! named by `rankOutColumnName`; if the cursor already has a column of that name (a
//! placeholder), the rank fills it, otherwise it is added after the cursor's columns. Rows of
//! equal rank go out in arrival order; NULLs rank before other values ascending, after them
//! descending; `outputMax` keeps the first rows in output order.
//!
//! The gathered rows are the state, in Arrow's row format.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, RecordBatch, UInt32Array};
use arrow::compute::SortOptions;
use arrow::datatypes::{SchemaRef, TimestampMillisecondType};
use arrow::row::{RowConverter, SortField};
use serde::{Deserialize, Serialize};

use super::expr::{EvalError, PlanError, plan_error};
use super::row_codec::{decode, encode};
use super::schema::{Column, stream_schema};
use crate::input::SqlType;
use crate::sql::ast::{Expr, Literal, Position};

/// Where the rank goes in the output rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankColumn {
    /// Into the cursor's column of that name (a batch index).
    Fills(usize),
    /// Into a column after the cursor's.
    Added,
}

#[derive(Debug, Clone)]
pub struct GroupRankPlan {
    /// The column ranked by (a batch index of the cursor's rows).
    pub rank_by: usize,
    pub rank_column: RankColumn,
    pub rank_descending: bool,
    pub output_descending: bool,
    /// Milliseconds of the clock past the last row before a group goes out (0: never).
    pub max_idle: i64,
    /// Rows of a group that go out (0: all).
    pub output_max: usize,
    pub input_schema: SchemaRef,
    pub schema: SchemaRef,
}

/// The plan of a GROUP_RANK call over a cursor of `input` columns (after ROWTIME), and the
/// output's columns.
pub fn plan_group_rank(
    pos: Position,
    args: &[&Expr],
    input: &[Column],
) -> Result<(GroupRankPlan, Vec<Column>), PlanError> {
    if args.len() != 7 {
        return Err(plan_error(
            pos,
            "GROUP_RANK takes a cursor, rankByColumnName, rankOutColumnName, sortOrder, outputOrder, maxIdle and outputMax",
        ));
    }
    let text = |index: usize, what: &str| -> Result<String, PlanError> {
        match args.get(index) {
            Some(Expr::Literal(Literal::String(text))) => Ok(text.clone()),
            _ => Err(plan_error(
                pos,
                format!("GROUP_RANK's {what} is a string in single quotes"),
            )),
        }
    };
    let number = |index: usize, what: &str| -> Result<i64, PlanError> {
        match args.get(index) {
            Some(Expr::Literal(Literal::Number(text))) => {
                text.parse::<i64>().ok().filter(|value| *value >= 0)
            }
            _ => None,
        }
        .ok_or_else(|| {
            plan_error(
                pos,
                format!("GROUP_RANK's {what} is a whole number, 0 or more"),
            )
        })
    };
    let order = |index: usize, what: &str| -> Result<bool, PlanError> {
        match text(index, what)?.to_ascii_lowercase().as_str() {
            "asc" => Ok(false),
            "desc" => Ok(true),
            // The page's functional attributes mention output "in the order received", but
            // its parameter table lists only 'asc' and 'desc' for outputOrder: no literal
            // selects arrival order, so none is guessed here.
            other if what == "outputOrder" => Err(plan_error(
                pos,
                format!(
                    "GROUP_RANK's outputOrder is 'asc' or 'desc', not '{other}': the reference's parameter table lists no other value (none selects the order received)"
                ),
            )),
            other => Err(plan_error(
                pos,
                format!("GROUP_RANK's {what} is 'asc' or 'desc', not '{other}'"),
            )),
        }
    };
    let rank_by_name = text(1, "rankByColumnName")?;
    let rank_by = input
        .iter()
        .position(|column| column.name == rank_by_name)
        .ok_or_else(|| {
            plan_error(
                pos,
                format!("GROUP_RANK: the cursor has no column {rank_by_name}"),
            )
        })?;
    let rank_out_name = text(2, "rankOutColumnName")?;
    let mut columns = input.to_vec();
    let rank_column = match input.iter().position(|column| column.name == rank_out_name) {
        Some(index) if input[index].sql_type.is_numeric() => RankColumn::Fills(index + 1),
        Some(_) => {
            return Err(plan_error(
                pos,
                format!(
                    "GROUP_RANK: the cursor's column {rank_out_name} cannot hold a rank: it is not a number"
                ),
            ));
        }
        None => {
            columns.push(Column::new(rank_out_name, SqlType::Integer));
            RankColumn::Added
        }
    };
    let plan = GroupRankPlan {
        rank_by: rank_by + 1,
        rank_column,
        rank_descending: order(3, "sortOrder")?,
        output_descending: order(4, "outputOrder")?,
        max_idle: number(5, "maxIdle")?,
        output_max: usize::try_from(number(6, "outputMax")?).unwrap_or(usize::MAX),
        input_schema: stream_schema(input),
        schema: stream_schema(&columns),
    };
    Ok((plan, columns))
}

/// The rows of the current group.
#[derive(Debug)]
pub struct GroupRankState {
    plan: Arc<GroupRankPlan>,
    gathered: Vec<Vec<u8>>,
    rowtime: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GroupRankSnapshot {
    gathered: Vec<Vec<u8>>,
    rowtime: Option<i64>,
}

impl GroupRankState {
    pub fn new(plan: Arc<GroupRankPlan>) -> GroupRankState {
        GroupRankState {
            plan,
            gathered: Vec::new(),
            rowtime: None,
        }
    }

    /// Gathers `batch`; gives the ranked groups a change of ROWTIME closed.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<Vec<RecordBatch>, EvalError> {
        let times = batch.column(0).as_primitive::<TimestampMillisecondType>();
        let mut closed = Vec::new();
        let mut start = 0;
        while start < batch.num_rows() {
            let time = times.value(start);
            let mut end = start + 1;
            while end < batch.num_rows() && times.value(end) == time {
                end += 1;
            }
            if self.rowtime != Some(time) {
                closed.extend(self.flush()?);
                self.rowtime = Some(time);
            }
            self.gathered
                .extend(encode(&batch.slice(start, end - start))?);
            start = end;
        }
        Ok(closed)
    }

    /// The clock reached `now`: the group goes out if it has been idle more than `maxIdle`.
    pub fn advance(&mut self, now: i64) -> Result<Vec<RecordBatch>, EvalError> {
        match self.rowtime {
            Some(time) if self.plan.max_idle > 0 && now - time > self.plan.max_idle => self.flush(),
            _ => Ok(Vec::new()),
        }
    }

    /// The gathered rows, ranked and ordered.
    fn flush(&mut self) -> Result<Vec<RecordBatch>, EvalError> {
        if self.gathered.is_empty() {
            return Ok(Vec::new());
        }
        let plan = self.plan.clone();
        let rows = decode(&self.gathered, &plan.input_schema)?;
        self.gathered.clear();
        let ranked = rows.column(plan.rank_by);
        let converter = RowConverter::new(vec![SortField::new_with_options(
            ranked.data_type().clone(),
            SortOptions {
                descending: plan.rank_descending,
                nulls_first: !plan.rank_descending,
            },
        )])?;
        let keys = converter.convert_columns(std::slice::from_ref(ranked))?;
        let mut by_rank: Vec<usize> = (0..rows.num_rows()).collect();
        by_rank.sort_by(|a, b| keys.row(*a).cmp(&keys.row(*b)));
        // RANK(): a row's rank is one more than the rows before it, ties sharing one.
        let mut ranks = vec![0i32; rows.num_rows()];
        for (position, &row) in by_rank.iter().enumerate() {
            ranks[row] = match position.checked_sub(1).map(|before| by_rank[before]) {
                Some(previous) if keys.row(previous) == keys.row(row) => ranks[previous],
                _ => i32::try_from(position + 1).unwrap_or(i32::MAX),
            };
        }
        let mut order: Vec<usize> = (0..rows.num_rows()).collect();
        if plan.output_descending {
            order.sort_by(|a, b| ranks[*b].cmp(&ranks[*a]));
        } else {
            order.sort_by(|a, b| ranks[*a].cmp(&ranks[*b]));
        }
        if plan.output_max > 0 {
            order.truncate(plan.output_max);
        }
        let indices = UInt32Array::from(order.iter().map(|&row| row as u32).collect::<Vec<_>>());
        let taken = arrow::compute::take_record_batch(&rows, &indices)?;
        let rank_values: ArrayRef = Arc::new(Int32Array::from(
            order.iter().map(|&row| ranks[row]).collect::<Vec<_>>(),
        ));
        let mut columns = taken.columns().to_vec();
        let index = match plan.rank_column {
            RankColumn::Fills(index) => index,
            RankColumn::Added => {
                columns.push(rank_values.clone());
                columns.len() - 1
            }
        };
        columns[index] = arrow::compute::cast(&rank_values, plan.schema.field(index).data_type())?;
        Ok(vec![RecordBatch::try_new(plan.schema.clone(), columns)?])
    }

    pub fn snapshot(&self) -> GroupRankSnapshot {
        GroupRankSnapshot {
            gathered: self.gathered.clone(),
            rowtime: self.rowtime,
        }
    }

    pub fn restore(&mut self, snapshot: GroupRankSnapshot) {
        self.gathered = snapshot.gathered;
        self.rowtime = snapshot.rowtime;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::schema::{batch_to_rows, rows_to_batch};
    use crate::input::Value;

    fn plan(order: &str, output_max: &str) -> (Arc<GroupRankPlan>, Vec<Column>) {
        let input = vec![
            Column::new("NAME", SqlType::Varchar(8)),
            Column::new("SCORE", SqlType::Integer),
        ];
        let args = [
            Expr::Literal(Literal::Null),
            Expr::Literal(Literal::String("SCORE".into())),
            Expr::Literal(Literal::String("RANK_NO".into())),
            Expr::Literal(Literal::String(order.into())),
            Expr::Literal(Literal::String("asc".into())),
            Expr::Literal(Literal::Number("0".into())),
            Expr::Literal(Literal::Number(output_max.into())),
        ];
        let args: Vec<&Expr> = args.iter().collect();
        let (plan, columns) =
            plan_group_rank(Position::default(), &args, &input).expect("a valid call");
        (Arc::new(plan), columns)
    }

    fn group(plan: &GroupRankPlan, time: i64, scores: &[i64]) -> RecordBatch {
        let columns = [
            Column::new("NAME", SqlType::Varchar(8)),
            Column::new("SCORE", SqlType::Integer),
        ];
        let rows: Vec<Vec<Value>> = scores
            .iter()
            .enumerate()
            .map(|(index, score)| vec![Value::Varchar(format!("r{index}")), Value::Integer(*score)])
            .collect();
        rows_to_batch(&plan.input_schema, &columns, &vec![time; rows.len()], &rows)
            .expect("rows fit")
    }

    #[test]
    fn ties_share_a_rank_and_the_next_rank_skips() {
        let (plan, columns) = plan("desc", "0");
        let mut state = GroupRankState::new(plan.clone());
        assert!(
            state
                .push(&group(&plan, 1000, &[5, 9, 5, 1]))
                .expect("gathers")
                .is_empty()
        );
        let out = state.push(&group(&plan, 2000, &[7])).expect("closes 1000");
        let rows: Vec<_> = out
            .iter()
            .flat_map(|batch| batch_to_rows(batch, &columns))
            .map(|(_, row)| row)
            .collect();
        let ranks: Vec<(String, i64)> = rows
            .iter()
            .map(|row| match (&row[0], &row[2]) {
                (Value::Varchar(name), Value::Integer(rank)) => (name.clone(), *rank),
                other => panic!("unexpected row {other:?}"),
            })
            .collect();
        let expected = [("r1", 1), ("r0", 2), ("r2", 2), ("r3", 4)];
        assert_eq!(
            ranks,
            expected
                .iter()
                .map(|(name, rank)| (name.to_string(), *rank))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn output_max_keeps_the_first_rows_and_a_restart_keeps_the_group() {
        let (plan, _) = plan("asc", "2");
        let mut state = GroupRankState::new(plan.clone());
        state
            .push(&group(&plan, 1000, &[3, 1, 2]))
            .expect("gathers");
        let mut restarted = GroupRankState::new(plan.clone());
        restarted.restore(state.snapshot());
        let out = restarted
            .push(&group(&plan, 2000, &[0]))
            .expect("closes 1000");
        assert_eq!(out.iter().map(RecordBatch::num_rows).sum::<usize>(), 2);
    }
}

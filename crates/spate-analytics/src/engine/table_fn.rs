//! The table functions that read a stream through `CURSOR(SELECT STREAM ...)`, each run as a
//! pump of its own from the cursor's stream into a stream of the function's columns:
//!
//! - `COUNT_DISTINCT_ITEMS_TUMBLING(cursor, 'column', windowSeconds)`: one row per tumbling
//!   window of ROWTIME, `NUMBER_OF_DISTINCT_ITEMS BIGINT`. The reference says the count is
//!   exact up to 10,000 items and approximate (HyperLogLog) beyond; Spate's is always exact.
//! - `TOP_K_ITEMS_TUMBLING(cursor, 'column', K, windowSeconds)`: per window, the K most
//!   frequent values with their counts, most frequent first (ties in order of first
//!   appearance), as `ITEM` (the column's type) and `ITEM_COUNT BIGINT` (Unverified: the
//!   column names). Also exact.
//!
//! - `RANDOM_CUT_FOREST(cursor [, numberOfTrees, subSampleSize, timeDecay, shingleSize])` and
//!   `RANDOM_CUT_FOREST_WITH_EXPLANATION(cursor, ..., withDirectionality)` (`rcf`): every row
//!   of the cursor with `ANOMALY_SCORE DOUBLE` (and `ANOMALY_EXPLANATION VARCHAR(20480)`),
//!   scored on the row's numeric columns before it joins the forest. The forest's seed is fixed,
//!   so a replay scores alike.
//! - `HOTSPOTS(cursor, windowSize, scanRadius, minimumNumberOfPointsInAHotspot)` (`hotspots`):
//!   every row with `HOTSPOTS_RESULT VARCHAR(10000)`, the hotspots of the last rows' numeric
//!   columns. (Unverified: the two VARCHAR lengths.)
//!
//! - `GROUP_RANK(cursor, 'rankBy', 'rankOut', 'asc'|'desc', 'asc'|'desc', maxIdle,
//!   outputMax)` (`group_rank`): each group of one ROWTIME, ranked.
//! - `SELECT STREAM DISTINCT` (`distinct`) and a streaming ORDER BY (`sort_within`) run as
//!   functions of their query's rows, though written without `TABLE(...)`.
//!
//! Window rows take the window's end as ROWTIME; scored rows keep theirs. Windows, forests and
//! hotspot windows are state, written out by [`TableFunctionState::snapshot`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{SchemaRef, TimestampMillisecondType};
use arrow::row::{RowConverter, SortField};
use serde::{Deserialize, Serialize};

use super::distinct::{DistinctPlan, DistinctSnapshot, DistinctState};
use super::expr::EvalError;
use super::group_rank::{GroupRankPlan, GroupRankSnapshot, GroupRankState};
use super::hotspots::{Hotspots, HotspotsParams};
use super::rcf::{RandomCutForest, RcfParams};
use super::sort_within::{SortPlan, SortSnapshot, SortState};
use super::t_sort::{TSortPlan, TSortSnapshot, TSortState};
use super::types::ExprType;

/// What a table function computes.
#[derive(Debug, Clone)]
pub enum TableFunctionKind {
    CountDistinct,
    TopK(usize),
    /// `explain`: `Some(with directionality)` for RANDOM_CUT_FOREST_WITH_EXPLANATION.
    RandomCutForest {
        params: RcfParams,
        explain: Option<bool>,
    },
    Hotspots(HotspotsParams),
    Distinct(Arc<DistinctPlan>),
    Sort(Arc<SortPlan>),
    TSort(Arc<TSortPlan>),
    GroupRank(Arc<GroupRankPlan>),
}

/// The seed of every forest: scores depend only on the rows.
const FOREST_SEED: u64 = 0x5EED_F0E5;

/// A table function over its cursor's stream.
#[derive(Debug, Clone)]
pub struct TableFunctionPlan {
    pub kind: TableFunctionKind,
    /// The numeric columns (batch indices) the scoring functions read, and their names.
    pub numeric: Vec<usize>,
    pub numeric_names: Vec<String>,
    /// The column's index in the cursor stream's batches, and its type (the item functions).
    pub column: usize,
    pub column_type: ExprType,
    /// The tumbling window, in milliseconds of ROWTIME.
    pub window: i64,
    /// The output stream's schema.
    pub schema: SchemaRef,
}

/// Counts of each distinct value of one window, in order of first appearance.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Counts {
    /// Values in Arrow's row format.
    values: Vec<Vec<u8>>,
    counts: Vec<i64>,
    #[serde(skip)]
    index: HashMap<Vec<u8>, usize>,
}

#[derive(Debug)]
pub struct TableFunctionState {
    plan: Arc<TableFunctionPlan>,
    converter: RowConverter,
    /// By window end.
    windows: BTreeMap<i64, Counts>,
    forest: Option<RandomCutForest>,
    hotspots: Option<Hotspots>,
    distinct: Option<DistinctState>,
    sort: Option<SortState>,
    t_sort: Option<TSortState>,
    group_rank: Option<GroupRankState>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableFunctionSnapshot {
    windows: BTreeMap<i64, Counts>,
    #[serde(default)]
    forest: Option<RandomCutForest>,
    #[serde(default)]
    hotspots: Option<Hotspots>,
    #[serde(default)]
    distinct: Option<DistinctSnapshot>,
    #[serde(default)]
    sort: Option<SortSnapshot>,
    #[serde(default)]
    t_sort: Option<TSortSnapshot>,
    #[serde(default)]
    group_rank: Option<GroupRankSnapshot>,
}

impl TableFunctionState {
    pub fn new(plan: Arc<TableFunctionPlan>) -> Result<TableFunctionState, EvalError> {
        let converter = RowConverter::new(vec![SortField::new(plan.column_type.arrow_type())])?;
        let (forest, hotspots) = match &plan.kind {
            TableFunctionKind::RandomCutForest { params, .. } => (
                Some(
                    RandomCutForest::new(*params, FOREST_SEED)
                        .map_err(|err| EvalError(err.to_string()))?,
                ),
                None,
            ),
            TableFunctionKind::Hotspots(params) => (
                None,
                Some(Hotspots::new(*params).map_err(|err| EvalError(err.to_string()))?),
            ),
            _ => (None, None),
        };
        let distinct = match &plan.kind {
            TableFunctionKind::Distinct(distinct) => Some(DistinctState::new(distinct)?),
            _ => None,
        };
        let sort = match &plan.kind {
            TableFunctionKind::Sort(sort) => Some(SortState::new(sort.clone())?),
            _ => None,
        };
        let t_sort = match &plan.kind {
            TableFunctionKind::TSort(t_sort) => Some(TSortState::new(t_sort.clone())),
            _ => None,
        };
        let group_rank = match &plan.kind {
            TableFunctionKind::GroupRank(group_rank) => {
                Some(GroupRankState::new(group_rank.clone()))
            }
            _ => None,
        };
        Ok(TableFunctionState {
            plan,
            converter,
            windows: BTreeMap::new(),
            forest,
            hotspots,
            distinct,
            sort,
            t_sort,
            group_rank,
        })
    }

    /// Takes a batch of the cursor's stream; returns the rows it gives: scored rows, or the rows
    /// of the windows it closed.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<Vec<RecordBatch>, EvalError> {
        if let (TableFunctionKind::Distinct(plan), Some(state)) =
            (&self.plan.kind, self.distinct.as_mut())
        {
            return Ok(vec![state.push(plan, batch)?]);
        }
        if let Some(state) = self.sort.as_mut() {
            return state.push(batch);
        }
        if let Some(state) = self.t_sort.as_mut() {
            return state.push(batch);
        }
        if let Some(state) = self.group_rank.as_mut() {
            return state.push(batch);
        }
        if matches!(
            self.plan.kind,
            TableFunctionKind::RandomCutForest { .. } | TableFunctionKind::Hotspots(_)
        ) {
            return Ok(vec![self.score(batch)?]);
        }
        let rowtimes = batch.column(0).as_primitive::<TimestampMillisecondType>();
        let column = batch.column(self.plan.column);
        let encoded = self
            .converter
            .convert_columns(std::slice::from_ref(column))?;
        let window = self.plan.window;
        for row in 0..batch.num_rows() {
            // NULL is not an item (Unverified).
            if column.is_null(row) {
                continue;
            }
            let rowtime = rowtimes.value(row);
            let end = rowtime - rowtime.rem_euclid(window) + window;
            let counts = self.windows.entry(end).or_default();
            let value = encoded.row(row).data();
            match counts.index.get(value) {
                Some(&slot) => counts.counts[slot] += 1,
                None => {
                    counts.index.insert(value.to_vec(), counts.values.len());
                    counts.values.push(value.to_vec());
                    counts.counts.push(1);
                }
            }
        }
        let last = rowtimes.values().last().copied().unwrap_or(i64::MIN);
        self.advance(last)
    }

    /// Closes the windows that end by `now`.
    pub fn advance(&mut self, now: i64) -> Result<Vec<RecordBatch>, EvalError> {
        if let Some(state) = self.sort.as_mut() {
            return state.advance(now);
        }
        // The T-sort's window moves with the rows' timestamps only (see `t_sort`).
        if self.t_sort.is_some() {
            return Ok(Vec::new());
        }
        if let Some(state) = self.group_rank.as_mut() {
            return state.advance(now);
        }
        let mut closed = Vec::new();
        while let Some(entry) = self.windows.first_entry() {
            if *entry.key() > now {
                break;
            }
            let (end, counts) = entry.remove_entry();
            closed.push(self.emit(end, &counts)?);
        }
        Ok(closed)
    }

    fn emit(&self, end: i64, counts: &Counts) -> Result<RecordBatch, EvalError> {
        let columns: Vec<ArrayRef> = match self.plan.kind {
            TableFunctionKind::RandomCutForest { .. }
            | TableFunctionKind::Hotspots(_)
            | TableFunctionKind::Distinct(_)
            | TableFunctionKind::Sort(_)
            | TableFunctionKind::TSort(_)
            | TableFunctionKind::GroupRank(_) => {
                return Err(EvalError("the function has no windows".into()));
            }
            TableFunctionKind::CountDistinct => vec![
                Arc::new(TimestampMillisecondArray::from(vec![end])),
                Arc::new(Int64Array::from(vec![counts.values.len() as i64])),
            ],
            TableFunctionKind::TopK(k) => {
                let mut order: Vec<usize> = (0..counts.values.len()).collect();
                // Stable: equal counts keep their order of first appearance.
                order.sort_by(|a, b| counts.counts[*b].cmp(&counts.counts[*a]));
                order.truncate(k);
                let parser = self.converter.parser();
                let items = self
                    .converter
                    .convert_rows(order.iter().map(|&slot| parser.parse(&counts.values[slot])))?;
                let mut columns: Vec<ArrayRef> =
                    vec![Arc::new(TimestampMillisecondArray::from(vec![
                        end;
                        order.len()
                    ]))];
                columns.extend(items);
                columns.push(Arc::new(Int64Array::from(
                    order
                        .iter()
                        .map(|&slot| counts.counts[slot])
                        .collect::<Vec<_>>(),
                )));
                columns
            }
        };
        Ok(RecordBatch::try_new(self.plan.schema.clone(), columns)?)
    }

    /// Every row of `batch` with its score (or hotspots), the model updated row by row.
    fn score(&mut self, batch: &RecordBatch) -> Result<RecordBatch, EvalError> {
        let readers = self
            .plan
            .numeric
            .iter()
            .map(|&index| float_reader(batch.column(index)))
            .collect::<Result<Vec<_>, _>>()?;
        let names: Vec<&str> = self.plan.numeric_names.iter().map(String::as_str).collect();
        let mut point = vec![0.0; readers.len()];
        let mut scores = Vec::with_capacity(batch.num_rows());
        let mut texts: Vec<String> = Vec::new();
        for row in 0..batch.num_rows() {
            for (value, reader) in point.iter_mut().zip(&readers) {
                *value = reader(row);
            }
            match (
                &self.plan.kind,
                self.forest.as_mut(),
                self.hotspots.as_mut(),
            ) {
                (TableFunctionKind::RandomCutForest { explain: None, .. }, Some(forest), _) => {
                    scores.push(forest.score_and_update(&point));
                }
                (
                    TableFunctionKind::RandomCutForest {
                        explain: Some(directionality),
                        ..
                    },
                    Some(forest),
                    _,
                ) => {
                    let explanation = forest.explain_and_update(&point);
                    scores.push(explanation.anomaly_score);
                    texts.push(explanation.to_json(&names, *directionality));
                }
                (TableFunctionKind::Hotspots(_), _, Some(hotspots)) => {
                    texts.push(hotspots.update(&point));
                }
                _ => return Err(EvalError("the table function has no model".into())),
            }
        }
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        if !scores.is_empty() {
            columns.push(Arc::new(Float64Array::from(scores)));
        }
        if !texts.is_empty() {
            columns.push(Arc::new(StringArray::from(texts)));
        }
        if batch.num_rows() == 0 {
            return Ok(RecordBatch::new_empty(self.plan.schema.clone()));
        }
        Ok(RecordBatch::try_new(self.plan.schema.clone(), columns)?)
    }

    pub fn snapshot(&self) -> TableFunctionSnapshot {
        TableFunctionSnapshot {
            windows: self.windows.clone(),
            forest: self.forest.clone(),
            hotspots: self.hotspots.clone(),
            distinct: self.distinct.as_ref().map(DistinctState::snapshot),
            sort: self.sort.as_ref().map(SortState::snapshot),
            t_sort: self.t_sort.as_ref().map(TSortState::snapshot),
            group_rank: self.group_rank.as_ref().map(GroupRankState::snapshot),
        }
    }

    pub fn restore(&mut self, snapshot: TableFunctionSnapshot) {
        if snapshot.forest.is_some() {
            self.forest = snapshot.forest;
        }
        if snapshot.hotspots.is_some() {
            self.hotspots = snapshot.hotspots;
        }
        if let (Some(state), Some(stored)) = (self.distinct.as_mut(), snapshot.distinct) {
            state.restore(stored);
        }
        if let (Some(state), Some(stored)) = (self.sort.as_mut(), snapshot.sort) {
            state.restore(stored);
        }
        if let (Some(state), Some(stored)) = (self.t_sort.as_mut(), snapshot.t_sort) {
            state.restore(stored);
        }
        if let (Some(state), Some(stored)) = (self.group_rank.as_mut(), snapshot.group_rank) {
            state.restore(stored);
        }
        self.windows = snapshot.windows;
        for counts in self.windows.values_mut() {
            counts.index = counts
                .values
                .iter()
                .enumerate()
                .map(|(slot, value)| (value.clone(), slot))
                .collect();
        }
    }
}

/// How to read a numeric column's values as f64 (NULL as NaN, which the models skip).
fn float_reader(array: &ArrayRef) -> Result<Box<dyn Fn(usize) -> f64 + '_>, EvalError> {
    use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};
    Ok(match array.data_type() {
        DataType::Int64 => {
            let values = array.as_primitive::<Int64Type>();
            Box::new(move |row| {
                if values.is_null(row) {
                    f64::NAN
                } else {
                    values.value(row) as f64
                }
            })
        }
        DataType::Float64 => {
            let values = array.as_primitive::<Float64Type>();
            Box::new(move |row| {
                if values.is_null(row) {
                    f64::NAN
                } else {
                    values.value(row)
                }
            })
        }
        DataType::Decimal128(_, scale) => {
            let values = array.as_primitive::<Decimal128Type>();
            let divisor = 10f64.powi(i32::from(*scale));
            Box::new(move |row| {
                if values.is_null(row) {
                    f64::NAN
                } else {
                    values.value(row) as f64 / divisor
                }
            })
        }
        other => return Err(EvalError(format!("{other} is not a numeric column"))),
    })
}

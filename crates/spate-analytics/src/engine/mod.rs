//! The engine that runs an application's SQL: in-application streams as Arrow record batches
//! (`schema`), expressions compiled against a stream's columns (`expr`), the scalar functions
//! of the SQL reference (`functions`), operators, and the planner that turns pumps into them.

pub mod accumulator;
pub mod aggregate;
pub mod aggregate_call;
pub mod distinct;
pub mod expr;
pub mod fold;
pub mod functions;
pub mod group_rank;
pub mod held;
pub mod hotspots;
pub mod join;
pub mod pipeline;
pub mod plan;
pub mod prepared;
pub mod query_time;
pub mod rcf;
pub mod row_codec;
pub mod row_type;
pub mod run;
pub mod schema;
pub mod sliding;
pub mod sort_within;
pub mod stream_join;
pub mod t_sort;
pub mod table_fn;
pub mod types;
pub mod window_tvf;

//! The application runtime: everything that runs a started application except its SQL, which
//! the engine does behind the [`Pipeline`] contract (`pipeline`).
//!
//! `runner` is one task per running application: it reads the inputs (`reader`, over the Data
//! Streams API of `apis`), gives the rows a ROWTIME from the service's clock and pushes them
//! into the pipeline, advances the pipeline's clock on a short tick, drains the streams the
//! outputs name, checkpoints (`checkpoint`: engine snapshot, input positions and the drained
//! records in one transaction) and then delivers (`output`: JSON or CSV records to a Kinesis
//! data stream or a Firehose delivery stream). `reference` loads reference data sources
//! from S3 objects into the pipeline's tables when it is built. `discover` samples a stream
//! for DiscoverInputSchema.

pub mod apis;
pub mod checkpoint;
pub mod delivery_input;
pub mod discover;
pub mod output;
pub mod pipeline;
pub mod reader;
pub mod reference;
pub(crate) mod runner;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use spate_meta::MetaError;

pub use apis::{FirehoseApi, LambdaApi, ObjectsApi, StreamsApi};
pub use pipeline::{ErrorRow, InputRows, Pipeline, PipelineError, PipelineFactory};

/// The runtime's timing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// How often the pipeline's clock advances and outputs are drained (a window's rows leave
    /// within about this time of its close, plus a checkpoint).
    pub tick: Duration,
    /// How often an idle shard of an input stream is polled. The default, 200 ms, is Data
    /// Streams' read quota of 5 GetRecords calls a second per shard.
    pub poll_interval: Duration,
    /// The least time between two checkpoints carrying output: rows drained meanwhile wait
    /// and go together (fewer snapshots and fsyncs under steady output, at most this much
    /// later).
    pub output_batching: Duration,
    /// How long input positions may go unsaved when no output was produced (a crash reads
    /// that much input again, with the state of the checkpoint before it).
    pub checkpoint_interval: Duration,
    /// How long DiscoverInputSchema waits for sample records.
    pub discovery_wait: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> RuntimeConfig {
        RuntimeConfig {
            tick: Duration::from_millis(20),
            poll_interval: Duration::from_millis(200),
            output_batching: Duration::from_millis(50),
            checkpoint_interval: Duration::from_secs(1),
            discovery_wait: Duration::from_secs(2),
        }
    }
}

/// What the runtime needs from outside the crate: the engine, and the account's other
/// services. Any may be absent (`None`): the operations that need it answer an error that
/// names what is missing.
#[derive(Clone, Default)]
pub struct Connections {
    /// The SQL engine; `None` until it is built, and StartApplication says so.
    pub factory: Option<Arc<dyn PipelineFactory>>,
    pub streams: Option<Arc<dyn StreamsApi>>,
    pub firehose: Option<Arc<dyn FirehoseApi>>,
    /// Reference data sources and DiscoverInputSchema's S3 objects.
    pub objects: Option<Arc<dyn ObjectsApi>>,
    /// The functions of Lambda outputs.
    pub lambda: Option<Arc<dyn LambdaApi>>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("factory", &self.factory.is_some())
            .field("streams", &self.streams)
            .field("firehose", &self.firehose)
            .field("objects", &self.objects)
            .field("lambda", &self.lambda)
            .finish()
    }
}

/// Errors of the runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The application cannot run as configured.
    #[error("{0}")]
    Configuration(String),
    /// A feature Spate does not have (a Lambda output, a Firehose input...).
    #[error("{0}")]
    Unsupported(String),
    /// Reading an input stream failed.
    #[error("reading the source failed: {0}")]
    Source(String),
    /// Writing to a destination failed.
    #[error("writing to the destination failed: {0}")]
    Destination(String),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("metadata failure: {0}")]
    Meta(#[from] MetaError),
    #[error("internal failure: {0}")]
    Internal(String),
    /// The server is shutting down.
    #[error("aborted by shutdown")]
    Aborted,
}

/// What the control plane asks of a runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Run,
    /// StopApplication: stop reading, deliver what was produced, save the stop point, READY.
    Stop,
    /// The server shuts down or the application is deleted: leave at once, status unchanged
    /// (the checkpoint carries what was not delivered).
    Abort,
}

//! One task per running application: the read, push, advance, drain, checkpoint, deliver
//! loop, and the status changes it makes (STARTING to RUNNING once it runs, STOPPING to READY
//! once a stop has delivered everything).
//!
//! Each tick: poll the inputs' shards that are due and push what they gave, ROWTIME being the
//! service clock, never decreasing (also across restarts: the checkpoint keeps the last one);
//! `advance` the pipeline to that time; drain the output streams into serialized records.
//! Records drained are checkpointed with the state that produced them before any is
//! delivered (see `checkpoint`), and delivered in order, output by output; checkpoints that
//! carry output are at least `output_batching` apart, so steady output costs at most one
//! snapshot and fsync per that time. With no output, moved input positions are checkpointed
//! every `checkpoint_interval` at most.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::input::SqlType;
use crate::model::{Application, Status};
use crate::service::AnalyticsService;

use super::checkpoint::{self, Checkpoint, InputPosition, Pending, StartAt};
use super::output::{self, Output, PartitionKeys, Writers};
use super::pipeline::{ErrorRow, InputRows, Pipeline};
use super::reader::InputReader;
use super::reference::Table;
use super::{RuntimeError, Signal};

/// A running application's task and the means to signal it.
#[derive(Debug)]
pub(crate) struct RunnerHandle {
    signal: watch::Sender<Signal>,
    task: JoinHandle<()>,
}

impl RunnerHandle {
    pub(crate) fn signal(&self, signal: Signal) {
        let _ = self.signal.send(signal);
    }

    pub(crate) async fn abort_and_wait(self) {
        let _ = self.signal.send(Signal::Abort);
        let _ = self.task.await;
    }
}

/// One output of a running application.
struct RunningOutput {
    /// The output's id (`1.1`...).
    id: String,
    output: Output,
    /// The columns of the stream it writes.
    columns: Vec<(String, SqlType)>,
}

/// An application ready to run: its pipeline built, its readers and outputs set up.
pub(crate) struct Prepared {
    name: String,
    pipeline: Box<dyn Pipeline>,
    readers: Vec<InputReader>,
    outputs: Vec<RunningOutput>,
    checkpoint: Checkpoint,
}

/// Builds what `application` needs to run from `checkpoint` (its snapshot, positions and
/// pending records) and its reference `tables` (`reference::load`). Inputs without a position
/// start at `default_start`.
pub(crate) fn prepare(
    service: &AnalyticsService,
    application: &Application,
    checkpoint: Checkpoint,
    default_start: StartAt,
    tables: Vec<Table>,
) -> Result<Prepared, RuntimeError> {
    let mut readers = Vec::new();
    for piece in &application.inputs {
        let position = checkpoint
            .inputs
            .get(&piece.id)
            .cloned()
            .unwrap_or_else(|| InputPosition::new(default_start));
        let mut reader = InputReader::new(
            &application.name,
            piece,
            position,
            service.config.runtime.poll_interval,
        )?;
        reader.check_served(&service.source_apis())?;
        if let Some(function_arn) = super::reader::preprocessor_arn(piece) {
            let lambda = service.connections.lambda.clone().ok_or_else(|| {
                RuntimeError::Unsupported(format!(
                    "Input {} has a Lambda preprocessor, which this server does not invoke.",
                    piece.id
                ))
            })?;
            lambda.check(&function_arn).map_err(|err| {
                RuntimeError::Configuration(format!("Input {}: {}", piece.id, err.message))
            })?;
            reader.preprocessor = Some(super::reader::Preprocessor {
                function_arn,
                application_arn: service.application_arn(&application.name),
                lambda,
            });
        }
        readers.push(reader);
    }
    let mut outputs_config = Vec::new();
    for piece in &application.outputs {
        let output = Output::from_piece(piece)?;
        if let super::output::Destination::Lambda { arn } = &output.destination {
            let lambda = service.connections.lambda.as_ref().ok_or_else(|| {
                RuntimeError::Unsupported(format!(
                    "Output {} writes to an AWS Lambda function, which this server does not invoke.",
                    piece.id
                ))
            })?;
            lambda.check(arn).map_err(|err| {
                RuntimeError::Configuration(format!("Output {}: {}", piece.id, err.message))
            })?;
        }
        outputs_config.push((piece.id.clone(), output));
    }
    // The engine last: what is wrong with the configuration is reported even without it.
    let factory = service.connections.factory.as_ref().ok_or_else(|| {
        RuntimeError::Unsupported(crate::ops::not_built::engine_missing("StartApplication"))
    })?;
    let mut pipeline = factory.build(application, checkpoint.snapshot.as_deref())?;
    for table in tables {
        pipeline.set_table(&table.name, table.rows)?;
    }
    let mut outputs = Vec::new();
    for (id, output) in outputs_config {
        let Some(columns) = pipeline.columns(&output.stream) else {
            return Err(RuntimeError::Configuration(format!(
                "Output {id} names in-application stream {}, which the application code does not create.",
                output.stream
            )));
        };
        outputs.push(RunningOutput {
            id,
            output,
            columns,
        });
    }
    Ok(Prepared {
        name: application.name.clone(),
        pipeline,
        readers,
        outputs,
        checkpoint,
    })
}

/// Starts the task of a prepared application.
pub(crate) fn spawn(
    service: Arc<AnalyticsService>,
    prepared: Prepared,
    first: Signal,
) -> RunnerHandle {
    let (signal, signals) = watch::channel(first);
    let seed = service.now_ms() as u64 ^ (prepared.name.len() as u64).rotate_left(32);
    let writers = Writers {
        streams: service.connections.streams.clone(),
        firehose: service.connections.firehose.clone(),
        lambda: service.connections.lambda.clone(),
        application_arn: service.application_arn(&prepared.name),
    };
    let runner = Runner {
        rowtime: prepared.checkpoint.rowtime_ms,
        service,
        prepared,
        writers,
        signals,
        keys: PartitionKeys::new(seed),
        pending: Vec::new(),
        unsaved: false,
        last_checkpoint: Instant::now(),
        delivered_unmarked: None,
    };
    let task = tokio::spawn(runner.run());
    RunnerHandle { signal, task }
}

struct Runner {
    service: Arc<AnalyticsService>,
    prepared: Prepared,
    writers: Writers,
    signals: watch::Receiver<Signal>,
    keys: PartitionKeys,
    /// The last ROWTIME given out.
    rowtime: i64,
    /// Records drained since the last checkpoint, by output.
    pending: Vec<Pending>,
    /// Whether input positions moved since the last checkpoint.
    unsaved: bool,
    last_checkpoint: Instant,
    /// A checkpoint whose records were delivered but not yet marked so.
    delivered_unmarked: Option<u64>,
}

impl Runner {
    async fn run(mut self) {
        let name = self.prepared.name.clone();
        match self.run_loop().await {
            Ok(()) => {}
            Err(RuntimeError::Aborted) => {
                // Leaving in order: what was delivered is not delivered again by the next run.
                if let Some(sequence) = self.delivered_unmarked
                    && let Err(err) =
                        checkpoint::mark_delivered(self.service.meta.as_ref(), &name, sequence)
                            .await
                {
                    warn!(application = %name, error = %err, "marking output delivered failed");
                }
            }
            Err(err) => {
                error!(application = %name, error = %err, "the application stopped running");
                self.service
                    .set_status(
                        &name,
                        &[Status::Starting, Status::Running, Status::Stopping],
                        Status::Ready,
                    )
                    .await;
            }
        }
    }

    async fn run_loop(&mut self) -> Result<(), RuntimeError> {
        let name = self.prepared.name.clone();
        // Records a crash left pending are delivered before anything new.
        let restored = std::mem::take(&mut self.prepared.checkpoint.pending);
        if !restored.is_empty() {
            info!(application = %name, outputs = restored.len(), "delivering the records pending at the last checkpoint");
            self.deliver(&restored).await?;
            self.delivered_unmarked = Some(self.prepared.checkpoint.sequence);
        }
        self.service
            .set_status(&name, &[Status::Starting], Status::Running)
            .await;
        let tick = self.service.config.runtime.tick;
        loop {
            let signal = *self.signals.borrow();
            if signal == Signal::Abort {
                return Err(RuntimeError::Aborted);
            }
            let stopping = signal == Signal::Stop;
            if !stopping {
                self.read_inputs().await?;
            }
            let now = self.now();
            self.prepared.pipeline.advance(now)?;
            self.drain();
            let since = self.last_checkpoint.elapsed();
            let runtime = &self.service.config.runtime;
            let due = stopping
                || (!self.pending.is_empty() && since >= runtime.output_batching)
                || (self.unsaved && since >= runtime.checkpoint_interval);
            if due {
                match self.write_checkpoint().await {
                    Ok(pending) => {
                        self.deliver(&pending).await?;
                        self.delivered_unmarked = Some(self.prepared.checkpoint.sequence);
                    }
                    Err(err) => {
                        warn!(application = %name, error = %err, "writing the checkpoint failed; retrying")
                    }
                }
            }
            if let Some(sequence) = self.delivered_unmarked
                && (!due || stopping)
            {
                match checkpoint::mark_delivered(self.service.meta.as_ref(), &name, sequence).await
                {
                    Ok(()) => self.delivered_unmarked = None,
                    Err(err) => {
                        warn!(application = %name, error = %err, "marking output delivered failed")
                    }
                }
            }
            if stopping && self.pending.is_empty() && self.delivered_unmarked.is_none() {
                info!(application = %name, "the application stopped");
                self.service
                    .set_status(&name, &[Status::Stopping], Status::Ready)
                    .await;
                return Ok(());
            }
            tokio::select! {
                changed = self.signals.changed() => {
                    // The control plane let go of this runner: leave as on an abort.
                    if changed.is_err() {
                        return Err(RuntimeError::Aborted);
                    }
                }
                _ = tokio::time::sleep(tick) => {}
            }
        }
    }

    /// The time of this tick: the clock, or the last ROWTIME if the clock went back.
    fn now(&mut self) -> i64 {
        self.rowtime = self.rowtime.max(self.service.now_ms());
        self.rowtime
    }

    async fn read_inputs(&mut self) -> Result<(), RuntimeError> {
        let apis = self.service.source_apis();
        for index in 0..self.prepared.readers.len() {
            let read = self.prepared.readers[index].poll(&apis).await;
            self.unsaved |= read.moved;
            if read.rows.is_empty() && read.errors.is_empty() {
                continue;
            }
            let rowtime = self.now();
            for (stream, (rows, arrival_ms)) in read.rows {
                if rows.is_empty() {
                    continue;
                }
                let name = self.prepared.readers[index].streams[stream].clone();
                self.prepared.pipeline.push(
                    &name,
                    InputRows {
                        rowtime_ms: rowtime,
                        rows,
                        arrival_ms,
                    },
                )?;
            }
            for (message, data) in read.errors {
                self.prepared.pipeline.push_error(ErrorRow {
                    rowtime_ms: rowtime,
                    message,
                    data,
                });
            }
        }
        Ok(())
    }

    /// Drains the output streams into serialized records.
    fn drain(&mut self) {
        let mut drained: BTreeMap<String, Vec<crate::input::Row>> = BTreeMap::new();
        for RunningOutput {
            id,
            output,
            columns,
        } in &self.prepared.outputs
        {
            // Two outputs may write the same stream: drain it once.
            let rows = drained
                .entry(output.stream.clone())
                .or_insert_with(|| self.prepared.pipeline.drain(&output.stream));
            if rows.is_empty() {
                continue;
            }
            let records = output::encode(output.format, columns, rows);
            match self
                .pending
                .iter_mut()
                .find(|pending| &pending.output == id)
            {
                Some(pending) => pending.records.extend(records),
                None => self.pending.push(Pending {
                    output: id.clone(),
                    records,
                }),
            }
        }
    }

    /// Stores the checkpoint with the drained records; returns them for delivery.
    async fn write_checkpoint(&mut self) -> Result<Vec<Pending>, RuntimeError> {
        let mut next = Checkpoint {
            sequence: self.prepared.checkpoint.sequence + 1,
            rowtime_ms: self.rowtime,
            snapshot: Some(self.prepared.pipeline.snapshot()?),
            inputs: self
                .prepared
                .readers
                .iter()
                .map(|reader| (reader.input_id.clone(), reader.position.clone()))
                .collect(),
            pending: self.pending.clone(),
        };
        checkpoint::store(self.service.meta.as_ref(), &self.prepared.name, &next).await?;
        let apis = self.service.source_apis();
        for reader in &mut self.prepared.readers {
            if let Err(err) = reader.checkpointed(&apis).await {
                warn!(application = %self.prepared.name, input = %reader.input_id, error = %err, "moving the input's hold on its delivery stream failed");
            }
        }
        self.last_checkpoint = Instant::now();
        self.unsaved = false;
        self.delivered_unmarked = None;
        let pending = std::mem::take(&mut next.pending);
        self.pending.clear();
        self.prepared.checkpoint = next;
        Ok(pending)
    }

    async fn deliver(&mut self, pending: &[Pending]) -> Result<(), RuntimeError> {
        for batch in pending {
            let Some(running) = self
                .prepared
                .outputs
                .iter()
                .find(|running| running.id == batch.output)
            else {
                warn!(application = %self.prepared.name, output = %batch.output, records = batch.records.len(), "pending records of an output that no longer exists are dropped");
                continue;
            };
            output::deliver(
                &self.writers,
                &running.output.destination,
                &batch.records,
                &mut self.keys,
                &mut self.signals,
            )
            .await?;
        }
        Ok(())
    }
}

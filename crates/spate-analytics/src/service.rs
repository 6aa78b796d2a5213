//! The application API of one account: its applications, held in memory and written through
//! to the metadata store (under `analytics/applications/<name>`) before they are published.
//! Control-plane changes are serialized by one async lock, so a version check and the write
//! it guards cannot interleave with another change.
//!
//! It also owns the runners of its started applications (`runtime::runner`): StartApplication
//! and StopApplication signal them, `open` runs again the applications a restart found
//! RUNNING (or STARTING, or STOPPING: those finish stopping), from their checkpoints, and
//! `shutdown` leaves them with their statuses as they are.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use spate_log::Clock;
use spate_meta::{MetaStore, Txn};

use crate::error::AnalyticsError;
use crate::model::{Application, Status};
use crate::runtime::RuntimeError;
use crate::runtime::checkpoint::{self, Checkpoint, StartAt};
use crate::runtime::reference;
use crate::runtime::runner::{self, RunnerHandle};
use crate::runtime::{Connections, RuntimeConfig, Signal};

pub(crate) const APPLICATION_PREFIX: &str = "analytics/applications/";

/// What the service needs to know of its account.
#[derive(Debug, Clone)]
pub struct AnalyticsConfig {
    pub account_id: String,
    pub region: String,
    /// Applications an account may have (AWS: 50 per region).
    pub max_applications: usize,
    /// The runtime's tick, polling and checkpoint timings.
    pub runtime: RuntimeConfig,
}

impl AnalyticsConfig {
    pub fn new(account_id: impl Into<String>, region: impl Into<String>) -> AnalyticsConfig {
        AnalyticsConfig {
            account_id: account_id.into(),
            region: region.into(),
            max_applications: 50,
            runtime: RuntimeConfig::default(),
        }
    }
}

/// Kinesis Data Analytics (SQL applications, v1 API) of one account.
pub struct AnalyticsService {
    /// The service itself, for the runners it starts from a borrowed `&self`.
    me: std::sync::Weak<AnalyticsService>,
    pub(crate) config: AnalyticsConfig,
    pub(crate) meta: Arc<dyn MetaStore>,
    clock: Arc<dyn Clock>,
    pub(crate) connections: Connections,
    applications: Mutex<BTreeMap<String, Arc<Application>>>,
    /// The runners of started applications, by application name.
    runners: Mutex<BTreeMap<String, RunnerHandle>>,
    /// Serializes control-plane changes.
    pub(crate) control: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for AnalyticsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalyticsService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AnalyticsService {
    /// Loads the account's applications from the metadata store and runs again those that
    /// were running. `connections` holds the SQL engine (`factory`; `None` until it is built:
    /// StartApplication then answers `UnsupportedOperationException`) and the account's Data
    /// Streams and Firehose APIs that inputs, outputs and DiscoverInputSchema use.
    pub async fn open(
        config: AnalyticsConfig,
        meta: Arc<dyn MetaStore>,
        clock: Arc<dyn Clock>,
        connections: Connections,
    ) -> Result<Arc<AnalyticsService>, AnalyticsError> {
        let mut applications = BTreeMap::new();
        for (key, entry) in meta.scan_prefix(APPLICATION_PREFIX).await? {
            let application: Application = serde_json::from_slice(&entry.value)
                .map_err(|err| AnalyticsError::Internal(format!("stored {key}: {err}")))?;
            applications.insert(application.name.clone(), Arc::new(application));
        }
        let service = Arc::new_cyclic(|me| AnalyticsService {
            me: me.clone(),
            config,
            meta,
            clock,
            connections,
            applications: Mutex::new(applications),
            runners: Mutex::new(BTreeMap::new()),
            control: tokio::sync::Mutex::new(()),
        });
        for application in service.all() {
            if application.status != Status::Ready {
                service.resume(&application).await;
            }
        }
        Ok(service)
    }

    /// Runs again an application a restart found started, from its checkpoint.
    async fn resume(self: &Arc<Self>, application: &Application) {
        let first = if application.status == Status::Stopping {
            Signal::Stop
        } else {
            Signal::Run
        };
        if let Err(err) = self.launch(application, first).await {
            tracing::error!(application = %application.name, error = %err, "a started application cannot run again after the restart; it is READY now");
            let all = [Status::Starting, Status::Running, Status::Stopping];
            self.set_status(&application.name, &all, Status::Ready)
                .await;
        }
    }

    /// Starts a runner for `application` from its stored checkpoint. A snapshot the engine
    /// cannot restore (the code changed, or the engine's format did) is dropped with a warning:
    /// the application continues from its input positions with empty state.
    async fn launch(
        self: &Arc<Self>,
        application: &Application,
        first: Signal,
    ) -> Result<(), RuntimeError> {
        let name = &application.name;
        let stored = checkpoint::load(self.meta.as_ref(), name)
            .await?
            .unwrap_or_default();
        let start = StartAt::Timestamp(self.now_ms());
        let tables = reference::load(self.connections.objects.as_ref(), application).await?;
        let prepared = match runner::prepare(
            self,
            application,
            stored.clone(),
            start,
            tables.clone(),
        ) {
            Ok(prepared) => prepared,
            Err(RuntimeError::Pipeline(err)) if stored.snapshot.is_some() => {
                tracing::warn!(application = %name, error = %err, "the checkpointed state does not fit the application; it continues with empty state");
                let stateless = Checkpoint {
                    snapshot: None,
                    ..stored
                };
                runner::prepare(self, application, stateless, start, tables)?
            }
            Err(err) => return Err(err),
        };
        let handle = runner::spawn(self.clone(), prepared, first);
        self.runners.lock().insert(name.clone(), handle);
        Ok(())
    }

    /// A running application whose configuration changed runs the new one: its runner is
    /// replaced, continuing from the checkpoint the old one leaves (state, positions and
    /// undelivered output). Called after the change is stored, outside the control lock.
    pub(crate) async fn reload(&self, name: &str) {
        let Some(me) = self.me.upgrade() else {
            return;
        };
        if let Some(old) = self.take_runner(name) {
            old.abort_and_wait().await;
        }
        let _control = self.control.lock().await;
        let Some(application) = self.get(name) else {
            return;
        };
        if !matches!(application.status, Status::Running | Status::Starting) {
            // Stopped or deleted meanwhile.
            return;
        }
        if let Err(err) = me.launch(&application, Signal::Run).await {
            tracing::error!(application = %name, error = %err, "the changed application cannot run; it is READY now");
            let mut stopped = (*application).clone();
            stopped.status = Status::Ready;
            if let Err(err) = self.store(stopped).await {
                tracing::warn!(application = %name, error = %err, "storing the application's status failed");
            }
        }
    }

    /// Sets the status of application `name` if it is one of `from` (a runner's transitions:
    /// the application may have been deleted or changed meanwhile). The version stays.
    pub(crate) async fn set_status(&self, name: &str, from: &[Status], to: Status) {
        let _control = self.control.lock().await;
        let Some(current) = self.get(name) else {
            return;
        };
        if !from.contains(&current.status) {
            return;
        }
        let mut application = (*current).clone();
        application.status = to;
        if let Err(err) = self.store(application).await {
            tracing::warn!(application = %name, error = %err, "storing the application's status failed");
        }
    }

    /// Keeps the runner of a started application (replacing a finished one).
    pub(crate) fn add_runner(&self, name: &str, handle: RunnerHandle) {
        self.runners.lock().insert(name.to_owned(), handle);
    }

    /// Signals the runner of `name`; false if it has none.
    pub(crate) fn signal_runner(&self, name: &str, signal: Signal) -> bool {
        match self.runners.lock().get(name) {
            Some(handle) => {
                handle.signal(signal);
                true
            }
            None => false,
        }
    }

    /// Takes the runner of `name` out (the application is deleted).
    pub(crate) fn take_runner(&self, name: &str) -> Option<RunnerHandle> {
        self.runners.lock().remove(name)
    }

    /// Stops every runner without changing statuses (the server shuts down): what they
    /// drained and did not deliver is in their checkpoints.
    pub async fn shutdown(&self) {
        let handles: Vec<RunnerHandle> = std::mem::take(&mut *self.runners.lock())
            .into_values()
            .collect();
        for handle in handles {
            handle.abort_and_wait().await;
        }
    }

    pub fn config(&self) -> &AnalyticsConfig {
        &self.config
    }

    pub fn account_id(&self) -> &str {
        &self.config.account_id
    }

    /// The services inputs are read through.
    pub fn source_apis(&self) -> crate::runtime::reader::SourceApis {
        crate::runtime::reader::SourceApis {
            streams: self.connections.streams.clone(),
            firehose: self.connections.firehose.clone(),
        }
    }

    /// The ARN of the application `name` of this account.
    pub fn application_arn(&self, name: &str) -> String {
        crate::model::application_arn(&self.config.region, &self.config.account_id, name)
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn all(&self) -> Vec<Arc<Application>> {
        self.applications.lock().values().cloned().collect()
    }

    pub(crate) fn count(&self) -> usize {
        self.applications.lock().len()
    }

    pub(crate) fn get(&self, name: &str) -> Option<Arc<Application>> {
        self.applications.lock().get(name).cloned()
    }

    /// The application, or AWS's `ResourceNotFoundException`.
    pub(crate) fn existing(&self, name: &str) -> Result<Arc<Application>, AnalyticsError> {
        self.get(name).ok_or_else(|| {
            AnalyticsError::ResourceNotFound(format!(
                "Application {name} is not found in account {}.",
                self.config.account_id
            ))
        })
    }

    /// Writes the application to the metadata store, then publishes it.
    /// Sets the role of a v2 application (not a change of its configuration: the version
    /// stays).
    pub(crate) async fn set_service_execution_role(
        &self,
        name: &str,
        role: Option<String>,
    ) -> Result<(), AnalyticsError> {
        let _control = self.control.lock().await;
        let mut application = (*self.existing(name)?).clone();
        application.service_execution_role = role;
        self.store(application).await
    }

    pub(crate) async fn store(&self, application: Application) -> Result<(), AnalyticsError> {
        let value = serde_json::to_vec(&application)
            .map_err(|err| AnalyticsError::Internal(format!("encoding an application: {err}")))?;
        self.meta
            .commit(Txn::new().put(format!("{APPLICATION_PREFIX}{}", application.name), value))
            .await?;
        self.applications
            .lock()
            .insert(application.name.clone(), Arc::new(application));
        Ok(())
    }

    /// Removes the application from the metadata store, then from memory.
    pub(crate) async fn remove(&self, name: &str) -> Result<(), AnalyticsError> {
        self.meta
            .commit(Txn::new().delete(format!("{APPLICATION_PREFIX}{name}")))
            .await?;
        self.applications.lock().remove(name);
        Ok(())
    }
}

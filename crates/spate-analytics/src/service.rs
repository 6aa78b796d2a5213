//! The application API of one account: its applications, held in memory and written through
//! to the metadata store (under `analytics/applications/<name>`) before they are published.
//! Control-plane changes are serialized by one async lock, so a version check and the write
//! it guards cannot interleave with another change.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use spate_log::Clock;
use spate_meta::{MetaStore, Txn};

use crate::error::AnalyticsError;
use crate::model::Application;

pub(crate) const APPLICATION_PREFIX: &str = "analytics/applications/";

/// What the service needs to know of its account.
#[derive(Debug, Clone)]
pub struct AnalyticsConfig {
    pub account_id: String,
    pub region: String,
    /// Applications an account may have (AWS: 50 per region).
    pub max_applications: usize,
}

impl AnalyticsConfig {
    pub fn new(account_id: impl Into<String>, region: impl Into<String>) -> AnalyticsConfig {
        AnalyticsConfig {
            account_id: account_id.into(),
            region: region.into(),
            max_applications: 50,
        }
    }
}

/// Kinesis Data Analytics (SQL applications, v1 API) of one account.
pub struct AnalyticsService {
    pub(crate) config: AnalyticsConfig,
    meta: Arc<dyn MetaStore>,
    clock: Arc<dyn Clock>,
    applications: Mutex<BTreeMap<String, Arc<Application>>>,
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
    /// Loads the account's applications from the metadata store.
    pub async fn open(
        config: AnalyticsConfig,
        meta: Arc<dyn MetaStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<AnalyticsService>, AnalyticsError> {
        let mut applications = BTreeMap::new();
        for (key, entry) in meta.scan_prefix(APPLICATION_PREFIX).await? {
            let application: Application = serde_json::from_slice(&entry.value)
                .map_err(|err| AnalyticsError::Internal(format!("stored {key}: {err}")))?;
            applications.insert(application.name.clone(), Arc::new(application));
        }
        Ok(Arc::new(AnalyticsService {
            config,
            meta,
            clock,
            applications: Mutex::new(applications),
            control: tokio::sync::Mutex::new(()),
        }))
    }

    pub fn config(&self) -> &AnalyticsConfig {
        &self.config
    }

    pub fn account_id(&self) -> &str {
        &self.config.account_id
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

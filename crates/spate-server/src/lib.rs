//! Spate's server: storage opened from the configuration, services wired to one HTTP listener.
//!
//! A request flows: listener ([`listener`], HTTP/1.1 or HTTP/2 on one port, cleartext or over
//! [`tls`], bounded by [`limits`]) -> [`http`], routed by `X-Amz-Target` -> a service crate
//! (`spate-streams`) -> the storage engine (`spate-log`) and the metadata store (`spate-meta`). This crate owns configuration
//! ([`config`]), start-up order and shutdown; it holds no Kinesis semantics of its own.

pub mod config;
pub mod http;
pub mod limits;
pub mod listener;
pub mod tls;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use spate_log::{Clock, Log, LogError, SystemClock};
use spate_meta::{MetaError, MetaStore, RedbStore};
use spate_streams::{StreamsError, StreamsService};
use tokio::net::TcpListener;
use tracing::info;

pub use config::{ConfigError, Overrides, ServerConfig};
pub use tls::{Tls, TlsError};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot prepare data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("storage engine: {0}")]
    Log(#[from] LogError),
    #[error("metadata store: {0}")]
    Meta(#[from] MetaError),
    #[error("data streams: {0}")]
    Streams(#[from] StreamsError),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("a start-up task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Storage and services opened from a configuration, ready to serve.
#[derive(Debug)]
pub struct Spate {
    pub streams: Arc<StreamsService>,
    log: Log,
    config: ServerConfig,
    /// Set when the configuration enables TLS.
    tls: Option<Tls>,
}

impl Spate {
    /// Opens (and recovers) the metadata store and the log under the data directory.
    pub async fn open(config: ServerConfig) -> Result<Spate, ServerError> {
        let data_dir = config.data_dir.clone();
        std::fs::create_dir_all(&data_dir).map_err(|source| ServerError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let tls = if config.tls.enabled {
            Some(Tls::prepare(&config.tls, &data_dir)?)
        } else {
            None
        };
        // The metadata store is opened first: it refuses a second server on the same directory.
        let meta_path = data_dir.join("meta.redb");
        let meta: Arc<dyn MetaStore> =
            Arc::new(tokio::task::spawn_blocking(move || RedbStore::open(&meta_path)).await??);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let log_dir = data_dir.join("log");
        let log_config = config.log_config();
        let log_clock = clock.clone();
        let log = tokio::task::spawn_blocking(move || Log::open(&log_dir, log_config, log_clock))
            .await??;
        let streams =
            StreamsService::open(config.streams_config(), log.clone(), meta, clock).await?;
        Ok(Spate {
            streams,
            log,
            config,
            tls,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// The TLS setup, when TLS is on.
    pub fn tls(&self) -> Option<&Tls> {
        self.tls.as_ref()
    }

    /// Serves on `listener` until `shutdown` resolves, then closes storage cleanly.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let period = Duration::from_millis(self.config.maintenance_interval_ms);
        let maintenance = tokio::spawn(self.streams.clone().maintenance_loop(period));
        let app = http::router(http::AppState {
            streams: self.streams.clone(),
        });
        // Open subscriptions are responses that would otherwise keep a graceful shutdown waiting
        // for up to their 5-minute lifetime: end them when shutdown begins.
        let streams = self.streams.clone();
        let shutdown = async move {
            shutdown.await;
            streams.end_subscriptions();
        };
        let served = listener::serve(
            listener,
            app,
            self.tls.clone(),
            &self.config.limits,
            shutdown,
        )
        .await;
        maintenance.abort();
        let closed = self.log.close();
        served.map_err(ServerError::Serve)?;
        closed?;
        info!("storage closed");
        Ok(())
    }
}

/// Opens storage, binds the configured address and serves until `shutdown` resolves.
pub async fn run(
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let address = config.listen;
    let spate = Spate::open(config).await?;
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| ServerError::Listen {
            address: address.to_string(),
            source,
        })?;
    let bound = listener.local_addr().map_err(ServerError::Serve)?;
    let scheme = if spate.tls().is_some() {
        "https"
    } else {
        "http"
    };
    let data_dir = spate.data_dir().display();
    match spate.tls().and_then(|tls| tls.self_signed_pem.as_deref()) {
        Some(pem) => {
            let pem = std::fs::canonicalize(pem).unwrap_or_else(|_| pem.to_path_buf());
            info!(
                address = %bound,
                scheme,
                %data_dir,
                ca_bundle = %pem.display(),
                "spate is serving with a self-signed certificate: trust ca_bundle"
            );
        }
        None => info!(address = %bound, scheme, %data_dir, "spate is serving"),
    }
    spate.serve(listener, shutdown).await
}

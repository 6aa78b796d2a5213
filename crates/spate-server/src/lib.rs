//! Spate's server: storage opened from the configuration, services wired to one HTTP listener.
//!
//! A request flows: listener ([`listener`], HTTP/1.1 or HTTP/2 on one port, cleartext or over
//! [`tls`], bounded by [`limits`]) -> [`http`], routed by `X-Amz-Target` (Kinesis Video by path,
//! [`video`]) -> its SigV4 signature
//! checked ([`auth`]) -> the caller's account's service crate (`spate-streams`, [`accounts`]) ->
//! the storage engine (`spate-log`) and the metadata store (`spate-meta`). This crate owns configuration
//! ([`config`]), start-up order and shutdown; it holds no Kinesis semantics of its own.

pub mod accounts;
pub mod auth;
pub mod config;
pub mod http;
pub mod limits;
pub mod listener;
pub mod tls;
pub mod video;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use spate_log::{Clock, LogError, SystemClock};
use spate_meta::MetaError;
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
    #[error("firehose: {0}")]
    Firehose(#[from] spate_firehose::FirehoseError),
    #[error("kinesis analytics: {0}")]
    Analytics(#[from] spate_analytics::AnalyticsError),
    #[error("kinesis video: {0}")]
    Video(#[from] spate_video::VideoError),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("a start-up task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Storage and services opened from a configuration, ready to serve.
#[derive(Debug)]
pub struct Spate {
    accounts: Arc<accounts::Accounts>,
    config: ServerConfig,
    /// Set when the configuration enables TLS.
    tls: Option<Tls>,
    auth: Arc<auth::Authenticator>,
}

impl Spate {
    /// Opens (and recovers) the metadata store and the log under the data directory.
    pub async fn open(config: ServerConfig) -> Result<Spate, ServerError> {
        let data_dir = config.data_dir.clone();
        std::fs::create_dir_all(&data_dir).map_err(|source| ServerError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let auth = Arc::new(config.authenticator()?);
        match auth.mode() {
            auth::AuthMode::Strict => info!(
                credentials = config.auth.credentials.len(),
                "requests must be signed with a configured access key"
            ),
            auth::AuthMode::AnySignature => info!(
                "no credentials configured: on this loopback listener any well-formed SigV4 \
                 signature is accepted (local development mode)"
            ),
        }
        let tls = if config.tls.enabled {
            Some(Tls::prepare(&config.tls, &data_dir)?)
        } else {
            None
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let accounts = Arc::new(accounts::Accounts::open(&config, clock).await?);
        Ok(Spate {
            accounts,
            config,
            tls,
            auth,
        })
    }

    /// The server's own account's Data Streams service.
    pub fn streams(&self) -> &Arc<StreamsService> {
        self.accounts.default_service()
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
        let maintenance: Vec<_> = self
            .accounts
            .all()
            .map(|streams| tokio::spawn(streams.clone().maintenance_loop(period)))
            .chain(self.accounts.all_firehose().map(|firehose| {
                let firehose = firehose.clone();
                every(period, move || {
                    let firehose = firehose.clone();
                    async move {
                        if let Err(err) = firehose.maintain().await {
                            tracing::warn!(error = %err, "Firehose maintenance failed");
                        }
                    }
                })
            }))
            .chain(self.accounts.all_video().map(|video| {
                let video = video.clone();
                every(period, move || {
                    let video = video.clone();
                    async move {
                        if let Err(err) = video.maintain().await {
                            tracing::warn!(error = %err, "Video maintenance failed");
                        }
                    }
                })
            }))
            .collect();
        let app = http::router(http::AppState {
            accounts: self.accounts.clone(),
            auth: self.auth.clone(),
        });
        // Open subscriptions are responses that would otherwise keep a graceful shutdown waiting
        // for up to their 5-minute lifetime: end them when shutdown begins.
        let accounts = self.accounts.clone();
        let shutdown = async move {
            shutdown.await;
            for streams in accounts.all() {
                streams.end_subscriptions();
            }
        };
        let served = listener::serve(
            listener,
            app,
            self.tls.clone(),
            &self.config.limits,
            shutdown,
        )
        .await;
        for task in maintenance {
            task.abort();
        }
        for analytics in self.accounts.all_analytics() {
            analytics.shutdown().await;
        }
        for firehose in self.accounts.all_firehose() {
            firehose.shutdown().await;
        }
        let closed = self.accounts.close();
        served.map_err(ServerError::Serve)?;
        closed?;
        info!("storage closed");
        Ok(())
    }
}

/// Runs `task` every `period`, until the returned handle is aborted.
fn every<F, Fut>(period: Duration, mut task: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            task().await;
        }
    })
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

//! Pairline: a self-hosted platform for coding interviews and pair programming.
//!
//! [`launch`] runs the whole server on a listener the caller binds, so that tests can
//! bind port 0 and learn the address.

pub mod app;
pub mod auth;
pub mod background;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod document;
pub mod exec;
pub mod http;
pub mod ids;
pub mod languages;
pub mod live;
pub mod media;
pub mod oplog;
pub mod pages;
pub mod protocol;
pub mod retention;
pub mod rooms;
pub mod store;

use std::future::{Future, IntoFuture};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{AppState, Links};
use crate::config::Config;
use crate::http::observe::Metrics;
use crate::live::Rooms;
use crate::store::StoreError;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot start audio and video: {0}")]
    Media(#[from] media::MediaError),
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens and migrates the store, starts the background jobs, and serves HTTP on
/// `listener` until `shutdown` completes. Then it stops accepting connections, lets
/// in-flight requests finish (up to `shutdown_grace`), stops the jobs and closes the
/// store so that every write is flushed.
pub async fn launch(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LaunchError> {
    let bound = listener.local_addr()?;
    let store = store::connect(&config).await?;
    let migrations = store.migrate().await?;
    tracing::info!(
        backend = store.backend().name(),
        database = %config.database_url(),
        applied = migrations.applied,
        "database ready"
    );

    let stopping = CancellationToken::new();
    let links = Links::new(config.public_url_for(bound));
    let retention = retention::spawn(
        store.clone(),
        config.retention_days,
        config.retention_sweep_interval,
        stopping.child_token(),
    );
    let grace = config.shutdown_grace;
    let (rooms, persister) = Rooms::new(store.clone(), config.sync.clone());
    let setup = auth::setup::SetupLink::offer(store.as_ref(), &links).await?;
    let runs = exec::setup::start(&config.exec, store.clone(), rooms.clone()).await;
    let mut metrics = Metrics::default();
    let sfu = if config.media.enabled {
        let media_metrics = media::MediaMetrics::default();
        media_metrics.register(metrics.registry_mut());
        let (media, task) = media::Media::start(&config.media, media_metrics, stopping.child_token())?;
        rooms.set_media(media);
        Some(task)
    } else {
        None
    };
    let state = AppState {
        config: Arc::new(config),
        store: store.clone(),
        rooms: rooms.clone(),
        metrics: Arc::new(metrics),
        links: Arc::new(links),
        shutdown: stopping.clone(),
        login_throttle: Default::default(),
        setup: Arc::new(setup),
        runs,
    };
    let app = http::router(state.clone());

    // Keystrokes are tiny writes; Nagle's algorithm would hold one back behind an
    // unacknowledged one (the WebSocket writer already batches what is queued).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
    });
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let serving = axum::serve(listener, app)
        .with_graceful_shutdown(stopping.clone().cancelled_owned())
        .into_future();
    let mut server = tokio::spawn(serving);
    tracing::info!(address = %bound, public_url = %state.links.base(), "listening on http://{bound}");

    let outcome = tokio::select! {
        () = shutdown => {
            tracing::info!("shutting down: no new connections, finishing requests in flight");
            stopping.cancel();
            match tokio::time::timeout(grace, &mut server).await {
                Ok(joined) => joined.map_err(std::io::Error::other).and_then(|served| served),
                Err(_) => {
                    tracing::warn!(?grace, "requests still running after the grace period; closing them");
                    server.abort();
                    Ok(())
                }
            }
        }
        joined = &mut server => joined.map_err(std::io::Error::other).and_then(|served| served),
    };

    stopping.cancel();
    if let Some(job) = retention {
        let _ = job.await;
    }
    if let Some(sfu) = sfu {
        let _ = sfu.await;
    }
    // Every room writes its last changes and snapshot before the store closes.
    rooms.shutdown().await;
    drop(state);
    let _ = persister.await;
    store.close().await;
    tracing::info!("shut down");
    Ok(outcome?)
}

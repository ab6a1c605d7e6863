//! Starting and stopping the whole service.
//!
//! Start order: the publisher (nothing connects yet); the store; the store's own loops when
//! replicas share it (lease keeper, listener); the service's loops (engine, outbox relay
//! when fires go to a broker, lease sweeper, janitor); HTTP last, once
//! everything it calls runs. Stop order is the reverse: HTTP stops accepting and finishes
//! in-flight requests (long-polls end at once); then the loops, last started first, each
//! joined before the next is asked: the janitor and the sweeper end their step, the engine
//! finishes its batch, the lease keeper gives its shards back for the other replicas to
//! take at once. The store flushes when its last handle drops.

use std::sync::Arc;

use taskcenter_core::Clock;
use taskcenter_publish::PublisherOptions;
use taskcenter_store::{Background, ReplicaConfig, Store, StoreError};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::http::{router, serve_http};
use crate::loops::Loops;
use crate::service::Service;

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error("opening the store")]
    Store(#[from] StoreError),
    /// The listener failed.
    #[error("serving HTTP")]
    Io(#[from] std::io::Error),
    /// The publisher URL names no broker this build can publish to.
    #[error("opening the publisher")]
    Publisher(#[from] taskcenter_publish::OpenError),
}

/// Runs the service on `listener` until `shutdown` is cancelled, then stops gracefully.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let publisher = taskcenter_publish::open(
        &config.publisher,
        &PublisherOptions {
            topic: config.topic.clone(),
            webhook_secret: config.webhook_secret.clone(),
            timeout: config.publish_timeout,
            webhook_timeout: config.webhook_timeout,
            redis_maxlen: config.redis_maxlen,
            rocketmq: config.rocketmq.clone(),
        },
    )?;
    let store = taskcenter_store::open(config.store_url.as_deref(), &config.data_dir).await?;
    let mut loops = Loops::default();
    loops.start_all(store_loops(store.as_ref(), &config));
    let stopping = shutdown.child_token();
    let mut svc = Service::new(store, clock, config, stopping.clone());
    if let Some(publisher) = publisher {
        tracing::info!(
            broker = publisher.broker(),
            "publishing fires to an external broker"
        );
        svc = svc.with_publisher(publisher);
    }
    let svc = Arc::new(svc);
    loops.start_all(svc.background());
    let addr = listener.local_addr()?;
    tracing::info!("taskcenter ready, listening on {addr}");
    let limits = svc.config().connections.clone();
    let result = serve_http(listener, router(svc), limits, stopping).await;
    tracing::info!("HTTP stopped; stopping {:?}", loops.names());
    loops.stop().await;
    tracing::info!("taskcenter stopped");
    result.map_err(ServeError::from)
}

/// Joins the replicas sharing the store, if it is shared, and returns the loops that takes.
fn store_loops(store: &dyn Store, config: &ServerConfig) -> Vec<Arc<dyn Background>> {
    let Some(replicas) = store.replicas() else {
        return Vec::new();
    };
    replicas.join(ReplicaConfig {
        shard_lease: std::time::Duration::from_millis(config.shard_lease_ms.max(1) as u64),
        window_ms: config.window_ms,
    })
}

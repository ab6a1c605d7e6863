//! Starting and stopping the whole service.
//!
//! Start order: store, the store's own loops when replicas share it (lease keeper,
//! listener), queue, engine, HTTP. Stop order: HTTP stops accepting and finishes in-flight
//! requests (long-polls end at once), then the engine finishes its batch, then the store's
//! loops stop (the lease keeper gives its shards back for the other replicas to take at
//! once), then the store flushes when the last handle drops.

use std::sync::Arc;

use taskcenter_core::Clock;
use taskcenter_store::{Background, ReplicaConfig, StoreError};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::alerts::AlertSink;
use crate::config::ServerConfig;
use crate::engine::{Engine, EngineConfig};
use crate::http::router;
use crate::janitor::Janitor;
use crate::queue::Queue;
use crate::service::{Service, announce_fires};
use crate::stats::MinuteStats;
use crate::telemetry::Telemetry;

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error("opening the store: {0}")]
    Store(#[from] StoreError),
    /// The listener failed.
    #[error("serving HTTP: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the service on `listener` until `shutdown` is cancelled, then stops gracefully.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let store = taskcenter_store::open(config.store_url.as_deref(), &config.data_dir).await?;
    let store_loops = start_store_loops(store.as_ref(), &config);
    let stopping = shutdown.child_token();
    let telemetry = Arc::new(Telemetry::default());
    let queue = Arc::new(Queue::new(
        store.clone(),
        clock.clone(),
        config.delivery.clone(),
        stopping.clone(),
        telemetry.clone(),
    ));
    let stats = Arc::new(MinuteStats::new(
        config.name_alert_count,
        config.total_alert_count,
    ));
    let alerts = Arc::new(AlertSink::new(config.alert_webhook.clone()));
    let on_fire = {
        let (queue, stats, alerts, clock, telemetry) = (
            queue.clone(),
            stats.clone(),
            alerts.clone(),
            clock.clone(),
            telemetry.clone(),
        );
        Box::new(
            move |task: &taskcenter_core::Task, fires: &[taskcenter_store::FireRef]| {
                Telemetry::add(&telemetry.fires, fires.len() as u64);
                announce_fires(
                    &stats,
                    &alerts,
                    &queue,
                    task,
                    fires.len() as i64,
                    clock.now_ms(),
                );
            },
        )
    };
    let engine = Engine::new(
        store.clone(),
        clock.clone(),
        EngineConfig {
            window_ms: config.window_ms,
            misfire_grace_ms: config.misfire_grace_ms,
            fire_ahead_ms: config.fire_ahead_ms,
        },
        on_fire,
    );
    let engine_stop = CancellationToken::new();
    let engine_task = tokio::spawn(engine.clone().run(engine_stop.clone()));
    let janitor_task = (config.retention_ms > 0).then(|| {
        let janitor = Janitor::new(store.clone(), clock.clone(), config.retention_ms);
        tokio::spawn(janitor.run(engine_stop.clone()))
    });
    let svc = Arc::new(Service::new(
        store, clock, engine, queue, stats, alerts, telemetry, config,
    ));
    let addr = listener.local_addr()?;
    tracing::info!("taskcenter ready, listening on {addr}");
    let app = router(svc);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stopping.cancelled().await })
        .await;
    tracing::info!("HTTP stopped; stopping the engine");
    engine_stop.cancel();
    if let Err(e) = engine_task.await {
        tracing::error!(error = %e, "engine task failed");
    }
    if let Some(task) = janitor_task
        && let Err(e) = task.await
    {
        tracing::error!(error = %e, "janitor task failed");
    }
    for (component, task) in store_loops {
        component.shutdown();
        if let Err(e) = task.await {
            tracing::error!(error = %e, loop = component.name(), "store loop failed");
        }
    }
    tracing::info!("taskcenter stopped");
    result.map_err(ServeError::from)
}

/// Joins the replicas sharing the store, if it is shared, and runs the loops that takes.
fn start_store_loops(
    store: &dyn taskcenter_store::Store,
    config: &ServerConfig,
) -> Vec<(Arc<dyn Background>, tokio::task::JoinHandle<()>)> {
    let Some(replicas) = store.replicas() else {
        return Vec::new();
    };
    let replica = ReplicaConfig {
        shard_lease: std::time::Duration::from_millis(config.shard_lease_ms.max(1) as u64),
        window_ms: config.window_ms,
    };
    replicas
        .join(replica)
        .into_iter()
        .map(|component| {
            let running = component.clone();
            (component, tokio::spawn(async move { running.run().await }))
        })
        .collect()
}

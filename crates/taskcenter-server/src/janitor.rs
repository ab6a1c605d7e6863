//! The janitor: forgets history past its retention, so the store stays the size of the
//! recent past and the live tasks rather than of everything ever fired.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use taskcenter_core::Clock;
use taskcenter_store::{Background, PurgeReport, Store, StoreError};
use tokio_util::sync::CancellationToken;

/// Fires forgotten per store call: one short commit, so fires and acks go on between.
const STEP_FIRES: usize = 2_000;

/// Longest pause between sweeps.
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// Shortest pause between sweeps.
const MIN_PAUSE: Duration = Duration::from_secs(1);

/// Runs sweeps until shut down: each forgets what finished more than `retention_ms` ago.
pub struct Janitor {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    retention_ms: i64,
    stop: CancellationToken,
}

impl Janitor {
    /// A janitor for `store`; `retention_ms` must be positive.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, retention_ms: i64) -> Self {
        Self {
            store,
            clock,
            retention_ms,
            stop: CancellationToken::new(),
        }
    }

    /// A tenth of the retention, between one second and one minute: history is forgotten
    /// at most about a tenth of the retention late.
    fn pause(&self) -> Duration {
        let tenth = Duration::from_millis(u64::try_from(self.retention_ms / 10).unwrap_or(0));
        tenth.clamp(MIN_PAUSE, MAX_PAUSE)
    }

    /// One sweep, step by step, to its end (or shutdown).
    pub async fn sweep(&self) -> Result<PurgeReport, StoreError> {
        let before = self.clock.now_ms().saturating_sub(self.retention_ms);
        let mut total = PurgeReport::default();
        loop {
            total.add(self.store.purge_history(before, STEP_FIRES).await?);
            if !total.more || self.stop.is_cancelled() {
                return Ok(total);
            }
        }
    }
}

#[async_trait]
impl Background for Janitor {
    fn name(&self) -> &'static str {
        "janitor"
    }

    /// Sweeps every [`Janitor::pause`] until shut down.
    async fn run(&self) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.pause()) => {}
                _ = self.stop.cancelled() => return,
            }
            match self.sweep().await {
                Ok(total) if total.fires > 0 => tracing::info!(
                    fires = total.fires,
                    deliveries = total.deliveries,
                    tasks = total.tasks,
                    "forgot history past the retention"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention sweep failed; retrying later"),
            }
        }
    }

    fn shutdown(&self) {
        self.stop.cancel();
    }
}

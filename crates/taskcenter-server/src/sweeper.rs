//! The lease sweeper: moves leases that ran out to retrying or dead about once a second,
//! so a consumer that died shows in the queue counts, the dead letters and the history on
//! time, not only when its group consumes again. Delivery itself never waits for it:
//! leasing applies the same rule to what it finds expired.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use taskcenter_core::Clock;
use taskcenter_store::{Background, DeliveryPolicy, ExpiryReport, Store, StoreError};
use tokio_util::sync::CancellationToken;

use crate::queue::Queue;
use crate::series::Event;

/// Pause between sweeps: how late a dead consumer's messages may show as retrying or dead.
const PERIOD: Duration = Duration::from_secs(1);

/// Expired leases moved per store call: one short commit, so consumers go on between.
const STEP: usize = 1_000;

/// Sweeps expired leases until shut down.
pub struct LeaseSweeper {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    policy: DeliveryPolicy,
    queue: Arc<Queue>,
    stop: CancellationToken,
}

impl LeaseSweeper {
    /// A stopped sweeper; `queue` hears of messages that became visible again.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        policy: DeliveryPolicy,
        queue: Arc<Queue>,
    ) -> Self {
        Self {
            store,
            clock,
            policy,
            queue,
            stop: CancellationToken::new(),
        }
    }

    /// Moves on every lease expired by the clock now, step by step (or until shutdown).
    pub async fn sweep(&self) -> Result<ExpiryReport, StoreError> {
        let mut total = ExpiryReport::default();
        loop {
            let now = self.clock.now_ms();
            let step = self.store.expire_leases(now, &self.policy, STEP).await?;
            total.retrying += step.retrying;
            total.dead += step.dead;
            if !step.more || self.stop.is_cancelled() {
                total.more = step.more;
                break;
            }
        }
        if total.retrying > 0 {
            // A zero delay makes a retry visible at once.
            self.queue.notify();
        }
        if total.dead > 0 {
            self.queue
                .series()
                .record(Event::Died(total.dead), self.clock.now_ms());
        }
        Ok(total)
    }
}

#[async_trait]
impl Background for LeaseSweeper {
    fn name(&self) -> &'static str {
        "lease sweeper"
    }

    async fn run(&self) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(PERIOD) => {}
                _ = self.stop.cancelled() => return,
            }
            match self.sweep().await {
                Ok(r) if r.dead > 0 || r.retrying > 0 => tracing::info!(
                    retrying = r.retrying,
                    dead = r.dead,
                    "leases ran out: messages retrying or dead"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sweeping expired leases failed; retrying"),
            }
        }
    }

    fn shutdown(&self) {
        self.stop.cancel();
    }
}

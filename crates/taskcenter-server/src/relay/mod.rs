//! The outbox relay: publishes the outbox to the external broker. The outbox is the
//! deliveries of one reserved group, committed with their fire; the relay leases them in
//! batches once due (never before their fire time), publishes them, and settles each from
//! the broker's answer: confirmed is sent (done, or left leased until the end-to-end ack of
//! an `ack` task); not confirmed is tried again after a capped exponential backoff,
//! forever, without counting against the retries; refused for good is a dead letter.
//!
//! Leases keep replicas apart (one replica at a time per message) and bound what a killed
//! replica holds: its leases run out and the messages are published again.

mod metrics;
mod pipeline;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use taskcenter_core::{Clock, TagFilter};
use taskcenter_publish::{OutMessage, PublishError, Publisher};
use taskcenter_store::{
    Background, Delivery, DeliveryPolicy, DeliveryState, FireRecord, LeaseRequest, OUTBOX_GROUP,
    OutboxOutcome, OutboxSettle, Store, StoreError,
};
use tokio_util::sync::CancellationToken;

pub use metrics::RelayMetrics;

use crate::queue::Queue;
use crate::telemetry::Telemetry;

/// Messages leased and published at once. Each batch costs the store a lease and a
/// settle (on SQLite written without an fsync of their own, usually in one commit): a
/// large batch spreads their fixed costs over many messages (1024 published about 60 %
/// faster than 256, 4096 another 20–80 %), and the broker pipelines the batch's
/// confirmations.
const BATCH: usize = 4096;

/// Longest idle wait: fires committed meanwhile wake the relay, this bounds a missed wake.
const IDLE: Duration = Duration::from_millis(100);

/// First backoff after a failed publish, doubled with each failure in a row.
const BACKOFF_FIRST_MS: i64 = 100;

/// Cap of the backoff: a broker back up is used again within this.
const BACKOFF_MAX_MS: i64 = 30_000;

/// Pause after the store failed.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// The backoff after `failures` failed publishes in a row, at least what the broker asked.
pub fn backoff_ms(failures: u32, asked: Option<Duration>) -> i64 {
    let doubled = BACKOFF_FIRST_MS.saturating_mul(1_i64 << failures.saturating_sub(1).min(20));
    let asked = asked.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    doubled.min(BACKOFF_MAX_MS).max(asked)
}

/// A published batch: how to settle each message, and the pause its failures ask for.
struct Published {
    settles: Vec<OutboxSettle>,
    pause: Duration,
}

/// Publishes the outbox until shut down.
pub struct Relay {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    publisher: Arc<dyn Publisher>,
    policy: DeliveryPolicy,
    queue: Arc<Queue>,
    metrics: RelayMetrics,
    stop: CancellationToken,
}

impl Relay {
    /// A stopped relay; `queue` tells it of fires committed, `policy` leases its messages
    /// as any group's.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        publisher: Arc<dyn Publisher>,
        policy: DeliveryPolicy,
        queue: Arc<Queue>,
    ) -> Self {
        Self {
            store,
            clock,
            publisher,
            policy,
            queue,
            metrics: RelayMetrics::default(),
            stop: CancellationToken::new(),
        }
    }

    /// The broker's kind.
    pub fn broker(&self) -> &'static str {
        self.publisher.broker()
    }

    /// The relay's counters.
    pub fn metrics(&self) -> &RelayMetrics {
        &self.metrics
    }

    /// Appends the relay's series to `/metrics`.
    pub async fn render(&self, out: &mut String) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let depth = self.store.queue_counts().await?.ready;
        let next = self
            .store
            .next_visible(OUTBOX_GROUP, &TagFilter::All)
            .await?;
        let oldest = next.map_or(0, |at| (now - at).max(0));
        self.metrics.render(self.broker(), depth, oldest, out);
        Ok(())
    }

    /// Leases and publishes one batch and settles it; `Ok(None)` when nothing was due,
    /// else the pause the broker's failures ask for (zero when all went through).
    pub async fn step(&self, failures: &mut u32) -> Result<Option<Duration>, StoreError> {
        let batch = self.lease_batch().await?;
        if batch.is_empty() {
            return Ok(None);
        }
        let published = self.publish(&batch, failures).await;
        self.settle(published.settles).await?;
        Ok(Some(published.pause))
    }

    /// Leases the next batch of due outbox messages, oldest first.
    async fn lease_batch(&self) -> Result<Vec<Delivery>, StoreError> {
        let req = LeaseRequest {
            group: OUTBOX_GROUP.into(),
            tags: TagFilter::All,
            max: BATCH,
            now_ms: self.clock.now_ms(),
        };
        self.store.lease(req, &self.policy).await
    }

    /// Publishes a leased batch and decides each message's settle from the broker's
    /// answer; touches no store.
    async fn publish(&self, batch: &[Delivery], failures: &mut u32) -> Published {
        let messages: Vec<OutMessage> = batch.iter().map(out_message).collect();
        let started = Instant::now();
        let results = self.publisher.publish(&messages).await;
        self.metrics
            .latency
            .observe_us(i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX));
        let failed = results
            .iter()
            .any(|r| matches!(r, Err(PublishError::Unavailable { .. })));
        if failed {
            *failures = failures.saturating_add(1);
        } else {
            *failures = 0;
        }
        let after = self.clock.now_ms();
        let mut pause = Duration::ZERO;
        let mut settles = Vec::with_capacity(batch.len());
        for (d, result) in batch.iter().zip(results) {
            let outcome = match result {
                Ok(broker_id) => {
                    Telemetry::add(&self.metrics.published, 1);
                    OutboxOutcome::Sent {
                        broker_id,
                        acked: self.publisher.confirm_is_ack(),
                    }
                }
                Err(PublishError::Unavailable {
                    reason,
                    retry_after,
                }) => {
                    Telemetry::add(&self.metrics.errors, 1);
                    let wait = backoff_ms(*failures, retry_after);
                    pause = pause.max(Duration::from_millis(u64::try_from(wait).unwrap_or(0)));
                    tracing::debug!(fire_id = %d.fire_id, %reason, wait_ms = wait, "publish failed");
                    OutboxOutcome::Again { at: after + wait }
                }
                Err(PublishError::Refused(reason)) => {
                    Telemetry::add(&self.metrics.errors, 1);
                    tracing::warn!(fire_id = %d.fire_id, %reason, "broker refused: dead letter");
                    OutboxOutcome::Dead
                }
            };
            settles.push(OutboxSettle {
                msgid: d.msgid.clone(),
                attempt: d.attempt,
                outcome,
            });
        }
        if failed {
            tracing::warn!(
                broker = self.broker(),
                failures = *failures,
                "broker did not confirm; trying again after {pause:?}"
            );
        }
        Published { settles, pause }
    }

    /// Hands leased messages that were not published back, visible again at `at`,
    /// without spending an attempt.
    fn release(batch: &[Delivery], at: i64) -> Vec<OutboxSettle> {
        batch
            .iter()
            .map(|d| OutboxSettle {
                msgid: d.msgid.clone(),
                attempt: d.attempt,
                outcome: OutboxOutcome::Again { at },
            })
            .collect()
    }

    /// Writes the settles of published batches.
    async fn settle(&self, settles: Vec<OutboxSettle>) -> Result<(), StoreError> {
        if settles.is_empty() {
            return Ok(());
        }
        self.store
            .settle_outbox(OUTBOX_GROUP, settles, self.clock.now_ms())
            .await
    }

    /// How long to wait for work: until the next message is due, at most [`IDLE`].
    async fn idle_wait(&self) -> Duration {
        let next = self.store.next_visible(OUTBOX_GROUP, &TagFilter::All).await;
        match next {
            Ok(Some(at)) => {
                let ms = (at - self.clock.now_ms()).clamp(0, IDLE.as_millis() as i64);
                Duration::from_millis(ms as u64)
            }
            _ => IDLE,
        }
    }

    async fn pause(&self, wait: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = self.stop.cancelled() => {}
        }
    }
}

/// Shows an outbox message's state as the publishing sees it: `pending` until the broker
/// confirmed it, `published` once it did (and no end-to-end ack is awaited or it is
/// still awaited), `acked` once an `ack` task's fire was acked, `dead`.
pub fn outbox_state(r: &mut FireRecord, task_ack: bool) {
    if r.group.as_deref() != Some(OUTBOX_GROUP) {
        return;
    }
    r.state = match r.state {
        DeliveryState::Published | DeliveryState::Retrying | DeliveryState::Unclaimed => {
            DeliveryState::Pending
        }
        DeliveryState::Leased if r.broker_id.is_none() => DeliveryState::Pending,
        DeliveryState::Leased => DeliveryState::Published,
        DeliveryState::Acked if !task_ack => DeliveryState::Published,
        other => other,
    };
}

/// A leased outbox message as the broker gets it.
fn out_message(d: &Delivery) -> OutMessage {
    OutMessage {
        tag: d.tag.clone(),
        taskid: d.taskid.to_string(),
        fire_time: d.fire_time,
        fire_id: d.fire_id.clone(),
        attempt: d.attempt,
        data: d.data.clone(),
    }
}

#[async_trait]
impl Background for Relay {
    fn name(&self) -> &'static str {
        "outbox relay"
    }

    async fn run(&self) {
        // Every fire from now on gets an outbox message; fires no group had yet join it.
        while let Err(e) = self.store.subscribe(OUTBOX_GROUP, &TagFilter::All).await {
            tracing::warn!(error = %e, "subscribing the outbox failed; retrying");
            self.pause(STORE_RETRY).await;
            if self.stop.is_cancelled() {
                return;
            }
        }
        self.pipeline().await;
    }

    fn shutdown(&self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod backoff_tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_and_honours_the_broker() {
        assert_eq!(backoff_ms(1, None), 100);
        assert_eq!(backoff_ms(2, None), 200);
        assert_eq!(backoff_ms(5, None), 1_600);
        assert_eq!(backoff_ms(40, None), BACKOFF_MAX_MS);
        assert_eq!(backoff_ms(1, Some(Duration::from_secs(3))), 3_000);
        assert_eq!(backoff_ms(40, Some(Duration::from_secs(120))), 120_000);
    }
}

//! The built-in queue's consume side: long-polls, acks and nacks over the store.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskcenter_core::{Clock, TagFilter};
use taskcenter_store::{Delivery, DeliveryPolicy, LeaseRequest, Store};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::instant_at;
use crate::error::ApiError;
use crate::telemetry::Telemetry;

/// Longest long-poll a consumer may ask for.
pub const MAX_WAIT_MS: i64 = 60_000;
/// Most messages one consume call may ask for.
pub const MAX_BATCH: i64 = 1000;
/// How long before a message's time a waiting poll wakes to lease it.
pub const LEASE_EARLY_MS: i64 = 3;

/// Serves consumers: leases messages, waits for new ones, takes acks and nacks.
pub struct Queue {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    policy: DeliveryPolicy,
    /// Woken whenever messages may have become visible (fires, nacks, requeues).
    arrivals: Notify,
    /// `(group, tags)` pairs already recorded, so a consume is not a write for that.
    subscribed: Mutex<HashSet<(String, String)>>,
    shutdown: CancellationToken,
    telemetry: Arc<Telemetry>,
}

/// A consume call, validated.
#[derive(Debug, Clone)]
pub struct Pull {
    /// Group.
    pub group: String,
    /// Tag expression text.
    pub tags: String,
    /// Most messages.
    pub max: usize,
    /// Longest wait.
    pub wait_ms: i64,
}

impl Queue {
    /// A queue over `store`; long-polls end early when `shutdown` fires.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        policy: DeliveryPolicy,
        shutdown: CancellationToken,
        telemetry: Arc<Telemetry>,
    ) -> Self {
        Self {
            store,
            clock,
            policy,
            arrivals: Notify::new(),
            subscribed: Mutex::new(HashSet::new()),
            telemetry,
            shutdown,
        }
    }

    /// Tells waiting consumers that messages may be visible now.
    pub fn notify(&self) {
        self.arrivals.notify_waiters();
    }

    /// The retry and lease policy in force.
    pub fn policy(&self) -> &DeliveryPolicy {
        &self.policy
    }

    async fn subscribe(
        &self,
        group: &str,
        tags_text: &str,
        tags: &TagFilter,
    ) -> Result<(), ApiError> {
        let key = (group.to_string(), tags_text.to_string());
        let known = self
            .subscribed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key);
        if !known {
            self.store.subscribe(group, tags).await?;
            self.subscribed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key);
            // Claimed fires may be waiting for this very group.
            self.notify();
        }
        Ok(())
    }

    /// Long-polls for up to `wait_ms`: answers as soon as messages are visible, or empty.
    ///
    /// When the next message's time is known, the poll wakes [`LEASE_EARLY_MS`] before it,
    /// leases as of that time and answers on the millisecond, so the lease's own write is
    /// not added to the message's lateness.
    pub async fn consume(&self, pull: Pull) -> Result<Vec<Delivery>, ApiError> {
        let tags = TagFilter::parse(&pull.tags);
        self.subscribe(&pull.group, &pull.tags, &tags).await?;
        let deadline = self.clock.now_ms() + pull.wait_ms;
        let mut as_of = self.clock.now_ms();
        // Other replicas sharing the store say when they made messages visible.
        let mut remote = self.store.replicas().map(|r| r.arrivals());
        loop {
            let arrived = self.arrivals.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let now = self.clock.now_ms();
            let lease_at = as_of.max(now);
            let req = LeaseRequest {
                group: pull.group.clone(),
                tags: tags.clone(),
                max: pull.max,
                now_ms: lease_at,
            };
            let messages = self.store.lease(req, &self.policy).await?;
            if !messages.is_empty() {
                self.record(&messages, lease_at);
                self.hold_until(lease_at).await;
                return Ok(messages);
            }
            if now >= deadline || self.shutdown.is_cancelled() {
                return Ok(messages);
            }
            let next = self.store.next_visible(&pull.group, &tags).await?;
            let due = next.map_or(deadline, |n| n.clamp(now, deadline));
            let wake_at = if next.is_some_and(|n| n <= deadline) {
                due - LEASE_EARLY_MS
            } else {
                due
            };
            as_of = now;
            tokio::select! {
                _ = tokio::time::sleep_until(instant_at(self.clock.as_ref(), wake_at)) => as_of = due,
                _ = &mut arrived => {}
                _ = taskcenter_store::replicas::changed(&mut remote) => {}
                _ = self.shutdown.cancelled() => return Ok(Vec::new()),
            }
        }
    }

    /// Waits until the clock reads `at_ms`, to the millisecond: a tokio sleep for the bulk,
    /// then yields for the last one. Gives up after a few real milliseconds, so a clock
    /// that does not move (tests) cannot hold a poll.
    async fn hold_until(&self, at_ms: i64) {
        let give_up =
            tokio::time::Instant::now() + Duration::from_millis(LEASE_EARLY_MS as u64 + 2);
        loop {
            let left = at_ms - self.clock.now_ms();
            if left <= 0 || tokio::time::Instant::now() >= give_up {
                return;
            }
            if left > 1 {
                tokio::time::sleep(Duration::from_millis((left - 1) as u64)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
    }

    /// Acknowledges messages.
    pub async fn ack(&self, group: &str, msgids: Vec<String>) -> Result<Vec<String>, ApiError> {
        Ok(self.store.ack(group, msgids, self.clock.now_ms()).await?)
    }

    /// Counts messages handed out: retries apart, and each first delivery's lateness.
    fn record(&self, messages: &[Delivery], handed_at: i64) {
        let t = &self.telemetry;
        Telemetry::add(&t.deliveries, messages.len() as u64);
        for m in messages {
            if m.attempt > 1 {
                Telemetry::add(&t.redeliveries, 1);
            } else {
                t.lateness.observe_ms(handed_at - m.fire_time);
            }
        }
    }

    /// Hands messages back for a retry.
    pub async fn nack(
        &self,
        group: &str,
        msgids: Vec<String>,
        delay_ms: Option<i64>,
    ) -> Result<Vec<String>, ApiError> {
        let done = self
            .store
            .nack(group, msgids, delay_ms, self.clock.now_ms(), &self.policy)
            .await?;
        Telemetry::add(&self.telemetry.nacks, done.len() as u64);
        self.notify();
        Ok(done)
    }
}

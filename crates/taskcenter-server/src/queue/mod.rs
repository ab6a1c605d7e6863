//! The built-in queue's consume side: long-polls, acks and nacks over the store.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskcenter_core::{Clock, TagFilter};
use taskcenter_store::{Delivery, DeliveryPolicy, LeaseRef, LeaseRequest, Store};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::instant_at;
use crate::error::ApiError;
use crate::series::{Event, Series};
use crate::telemetry::Telemetry;

mod consumers;

pub use consumers::Consumers;

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
    series: Arc<Series>,
    consumers: Consumers,
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
    /// Who asks, as operators see it: a client id, else an address.
    pub client: String,
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
            series: Arc::new(Series::default()),
            consumers: Consumers::default(),
        }
    }

    /// Tells waiting consumers that messages may be visible now.
    pub fn notify(&self) {
        self.arrivals.notify_waiters();
    }

    /// Wakes on each [`Queue::notify`]: fires committed, retries visible.
    pub fn arrivals(&self) -> &Notify {
        &self.arrivals
    }

    /// The retry and lease policy in force.
    pub fn policy(&self) -> &DeliveryPolicy {
        &self.policy
    }

    /// The last hour per minute: what the queue and the engine did.
    pub fn series(&self) -> &Series {
        &self.series
    }

    /// The consumers seen polling.
    pub fn consumers(&self) -> &Consumers {
        &self.consumers
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
        self.consumers
            .polled(&pull.group, &pull.client, &[], self.clock.now_ms());
        let messages = self.poll(&pull).await?;
        self.consumers
            .polled(&pull.group, &pull.client, &messages, self.clock.now_ms());
        Ok(messages)
    }

    async fn poll(&self, pull: &Pull) -> Result<Vec<Delivery>, ApiError> {
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

    /// Acknowledges messages, each for the lease attempt it names (or its current one).
    pub async fn ack(&self, group: &str, leases: Vec<LeaseRef>) -> Result<Vec<String>, ApiError> {
        let now = self.clock.now_ms();
        let done = self.store.ack(group, leases, now).await?;
        self.consumers.released(&done);
        self.series.record(Event::Acked(done.len() as u64), now);
        Ok(done)
    }

    /// Counts messages handed out: retries apart, and each first delivery's lateness.
    fn record(&self, messages: &[Delivery], handed_at: i64) {
        let t = &self.telemetry;
        Telemetry::add(&t.deliveries, messages.len() as u64);
        let mut retried = 0;
        for m in messages {
            if m.attempt > 1 {
                Telemetry::add(&t.redeliveries, 1);
                retried += 1;
            } else {
                t.lateness.observe_ms(handed_at - m.fire_time);
                self.series
                    .record(Event::Late(handed_at - m.fire_time), handed_at);
            }
        }
        if retried > 0 {
            self.series.record(Event::Retried(retried), handed_at);
        }
    }

    /// Holds messages still leased for `lease_ms` more from now (the default lease when
    /// `None`), for consumers whose handlers still run; an `ack` task's lease stays its
    /// `max_runtime`.
    pub async fn extend(
        &self,
        group: &str,
        leases: Vec<LeaseRef>,
        lease_ms: Option<i64>,
    ) -> Result<Vec<String>, ApiError> {
        let now = self.clock.now_ms();
        let until = now.saturating_add(lease_ms.unwrap_or(self.policy.default_lease_ms));
        Ok(self.store.extend_leases(group, leases, until, now).await?)
    }

    /// Hands messages back for a retry; only their current lease can. A `reason` is kept
    /// with each message given back, for operators.
    pub async fn nack(
        &self,
        group: &str,
        leases: Vec<LeaseRef>,
        delay_ms: Option<i64>,
        reason: Option<String>,
    ) -> Result<Vec<String>, ApiError> {
        let asked: HashMap<String, Option<i64>> = leases
            .iter()
            .map(|l| (l.msgid.clone(), l.attempt))
            .collect();
        let now = self.clock.now_ms();
        let done = self
            .store
            .nack(group, leases, delay_ms, now, &self.policy)
            .await?;
        Telemetry::add(&self.telemetry.nacks, done.len() as u64);
        if let Some(reason) = reason.filter(|_| !done.is_empty()) {
            self.store
                .note_failures(group, done.clone(), &reason)
                .await?;
        }
        // A message given back on its last attempt is dead; the attempt is the one the
        // call named, else the one it was leased with here.
        let died = self
            .consumers
            .released(&done)
            .into_iter()
            .filter_map(|(msgid, held)| asked.get(&msgid).copied().flatten().or(held))
            .filter(|attempt| self.policy.retry_delay(*attempt).is_none())
            .count();
        if died > 0 {
            self.series.record(Event::Died(died as u64), now);
        }
        self.notify();
        Ok(done)
    }
}

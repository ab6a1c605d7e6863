//! The storage interface: small, object-safe, free of driver types.

use async_trait::async_trait;
use taskcenter_core::{TagFilter, Task, TaskId};

use crate::error::StoreError;
use crate::model::{
    DeadLetter, Delivery, ExpiryReport, FireCommit, FireOutcome, FireRecord, InsertOutcome,
    LeaseRef, LeaseRequest, PurgeReport, QueueCounts, QueueDepth, TaskFilter,
};
use crate::outbox::OutboxSettle;
use crate::policy::DeliveryPolicy;
use crate::replicas::Replicated;

/// Tasks and their firing.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// Stores tasks in one durable commit, in order. With `dedup`, a task whose
    /// `(name, data)` equals a live task's (or an earlier one's in the same batch) is not
    /// stored and gets that task's id.
    async fn insert_tasks(
        &self,
        tasks: Vec<Task>,
        dedup: bool,
    ) -> Result<Vec<InsertOutcome>, StoreError>;

    /// One task, `None` if unknown or deleted.
    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, StoreError>;

    /// Tasks matching the filter, newest (last added) first.
    async fn list_tasks(&self, filter: TaskFilter) -> Result<Vec<Task>, StoreError>;

    /// Replaces a task if its stored version is `expected_version`; the stored version
    /// becomes `expected_version + 1`. `false` if the task changed or is gone.
    async fn replace_task(&self, task: Task, expected_version: i64) -> Result<bool, StoreError>;

    /// Deletes tasks and cancels their deliveries not yet consumed; returns the ids that
    /// existed.
    async fn delete_tasks(&self, ids: Vec<TaskId>) -> Result<Vec<TaskId>, StoreError>;

    /// Deletes every task of a name, as [`TaskStore::delete_tasks`].
    async fn delete_by_name(&self, name: &str) -> Result<Vec<TaskId>, StoreError>;

    /// Scheduled tasks due at or before `until_ms`, soonest first, at most `limit`.
    async fn due_tasks(&self, until_ms: i64, limit: usize) -> Result<Vec<Task>, StoreError>;

    /// Commits the engine's decisions for due tasks, each atomically and all in as few
    /// durable commits as the backend can.
    async fn commit_fires(&self, commits: Vec<FireCommit>) -> Result<Vec<FireOutcome>, StoreError>;

    /// A task's fires, newest first.
    async fn fire_history(&self, id: TaskId, limit: usize) -> Result<Vec<FireRecord>, StoreError>;

    /// Number of tasks per status `(scheduled, paused, finished)`.
    async fn task_counts(&self) -> Result<(i64, i64, i64), StoreError>;

    /// Forgets history past its retention, oldest first: fires published before
    /// `before_ms` whose every delivery is acked or cancelled (a fire with a message still
    /// queued, leased or dead stays), their deliveries, and the finished or deleted tasks
    /// that this leaves with no fire. At most `max_fires` fires per call, each call one
    /// short commit, so firing and consuming go on between calls.
    async fn purge_history(
        &self,
        before_ms: i64,
        max_fires: usize,
    ) -> Result<PurgeReport, StoreError>;

    /// Whether the store answers now, for readiness probes: must stay cheap with
    /// millions of tasks, as probes come every few seconds.
    async fn ping(&self) -> Result<(), StoreError> {
        self.task_counts().await.map(|_| ())
    }

    /// The replica split of a store several processes share (optional power, see
    /// [`crate::replicas`]); `None`, the default, when this process fires every task.
    fn replicas(&self) -> Option<&dyn Replicated> {
        None
    }
}

/// The built-in queue: deliveries of fires to consumer groups.
#[async_trait]
pub trait QueueStore: Send + Sync + 'static {
    /// Subscribes `group` to `tags` from now on (idempotent); fires of those tags that no
    /// group had subscribed to yet are handed to this group.
    async fn subscribe(&self, group: &str, tags: &TagFilter) -> Result<(), StoreError>;

    /// Leases up to `max` visible messages, oldest first. Messages whose retries are spent
    /// become dead letters instead.
    async fn lease(
        &self,
        req: LeaseRequest,
        policy: &DeliveryPolicy,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Acknowledges messages of `group`: the delivery each names (its current one when
    /// the reference gives no attempt) was processed. Any delivery's consumer may ack,
    /// even after its lease ran out and the message was retried, leased to another
    /// consumer or turned dead: the message is done, and history records which delivery
    /// acked it. Idempotent: answers every msgid that is acked now, by this call or an
    /// earlier one; unknown msgids, other groups' and messages never delivered are left
    /// out.
    async fn ack(
        &self,
        group: &str,
        leases: Vec<LeaseRef>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError>;

    /// Gives messages back for a retry after `delay_ms` (or the ladder's delay); a message
    /// out of retries becomes a dead letter. Only the current lease can: a reference to an
    /// older delivery (its lease ran out and the message went on) changes nothing.
    /// Returns the msgids given back.
    async fn nack(
        &self,
        group: &str,
        leases: Vec<LeaseRef>,
        delay_ms: Option<i64>,
        now_ms: i64,
        policy: &DeliveryPolicy,
    ) -> Result<Vec<String>, StoreError>;

    /// Holds messages of `group` longer, for a consumer whose handler still runs: each
    /// delivery still leased at `now_ms` (the one its reference names, when it names one)
    /// is leased until `until_ms` at least, and its retry moves on as much. An `ack` task's
    /// delivery is left as it is: its lease is the task's `max_runtime`. Answers the msgids
    /// leased until `until_ms` now.
    async fn extend_leases(
        &self,
        group: &str,
        leases: Vec<LeaseRef>,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError>;

    /// Records `reason` as why the last failed delivery of each of `msgids` in `group`
    /// failed (its consumer's nack says so); shown in history and the dead letters.
    async fn note_failures(
        &self,
        group: &str,
        msgids: Vec<String>,
        reason: &str,
    ) -> Result<(), StoreError>;

    /// Moves leases that ran out by `now_ms` on, oldest lease end first, at most `limit`
    /// per call (each call one short commit; call again while the report says `more`).
    ///
    /// An expired lease counts as a failed delivery, exactly as a nack at the instant the
    /// lease ended ([`DeliveryPolicy::plan_expiry`]): with a retry left the message is
    /// retrying, visible again the ladder's delay after its lease ended; a last attempt
    /// becomes a dead letter dated at its lease end. Acks and nacks of the message
    /// afterwards behave as after any failed delivery.
    ///
    /// Correctness never depends on it (leasing applies the same rule to what it finds
    /// expired); calling it about every second keeps states, queue counts, dead letters
    /// and fire history true within that second of a consumer dying.
    async fn expire_leases(
        &self,
        now_ms: i64,
        policy: &DeliveryPolicy,
        limit: usize,
    ) -> Result<ExpiryReport, StoreError>;

    /// Settles leased outbox messages of `group` from the broker's answers (see
    /// [`crate::OutboxOutcome`]); a message whose lease is no longer the one named (it
    /// ran out and went on, or was acked) is left alone.
    async fn settle_outbox(
        &self,
        group: &str,
        settles: Vec<OutboxSettle>,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// The msgids of `group`'s messages of the fires named, as `(fire_id, msgid)`;
    /// unknown fires and text no fire id can be are left out.
    async fn fire_msgids(
        &self,
        group: &str,
        fire_ids: Vec<String>,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// Acks the messages of `group` of the fires named, as [`QueueStore::ack`] does;
    /// answers the fire ids that are acked now.
    async fn ack_fires(
        &self,
        group: &str,
        fire_ids: Vec<String>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        let pairs = self.fire_msgids(group, fire_ids).await?;
        let leases = pairs
            .iter()
            .map(|(_, m)| LeaseRef::from(m.clone()))
            .collect();
        let acked = self.ack(group, leases, now_ms).await?;
        Ok(pairs
            .into_iter()
            .filter(|(_, m)| acked.contains(m))
            .map(|(f, _)| f)
            .collect())
    }

    /// The earliest instant a message for `group` and `tags` becomes visible (ready,
    /// retry due, or lease expiry), so long-polls can sleep until then.
    async fn next_visible(&self, group: &str, tags: &TagFilter) -> Result<Option<i64>, StoreError>;

    /// Dead letters, newest first, optionally of one group.
    async fn dead_letters(
        &self,
        group: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<DeadLetter>, StoreError>;

    /// Puts dead letters back in their queue with a fresh retry budget; returns those moved.
    async fn requeue_dead(
        &self,
        msgids: Vec<String>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError>;

    /// Deletes dead letters (all of them when `msgids` is `None`); returns how many.
    async fn purge_dead(&self, msgids: Option<Vec<String>>) -> Result<u64, StoreError>;

    /// Queue depth figures.
    async fn queue_counts(&self) -> Result<QueueCounts, StoreError>;

    /// Messages per group and tag by state as of `now_ms` (a retry due by then counts as
    /// ready), ordered by group then tag; pairs with no open message are left out.
    async fn queue_depths(&self, now_ms: i64) -> Result<Vec<QueueDepth>, StoreError>;
}

/// A complete backend.
pub trait Store: TaskStore + QueueStore {}

impl<T: TaskStore + QueueStore> Store for T {}

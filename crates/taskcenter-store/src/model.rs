//! Records the stores keep besides tasks: fires, deliveries, dead letters, and the requests
//! that create and move them.

use taskcenter_core::{TagFilter, Task, TaskId, TaskStatus};

/// Result of inserting one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// A new task was stored.
    Created(TaskId),
    /// A live task with the same `(name, data)` exists; nothing was stored.
    Existing(TaskId),
}

impl InsertOutcome {
    /// The id the caller gets back either way.
    pub fn id(self) -> TaskId {
        match self {
            Self::Created(id) | Self::Existing(id) => id,
        }
    }
}

/// The engine's decision for one due task, committed atomically: the fires, their
/// deliveries and the schedule's advance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireCommit {
    /// The task.
    pub task_id: TaskId,
    /// The version the decision was made on; a task changed since is left alone.
    pub expected_version: i64,
    /// Scheduled times of the fires to create, ascending. `(task_id, fire_time)` is unique:
    /// a time already fired is not fired again.
    pub fire_times: Vec<i64>,
    /// New `next_fire_ms`.
    pub next_fire_ms: Option<i64>,
    /// New `fire_count`.
    pub fire_count: i64,
    /// New status.
    pub status: TaskStatus,
    /// When the fires are published (history's publish time).
    pub now_ms: i64,
}

/// What became of a [`FireCommit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FireOutcome {
    /// Committed; the task's new version, and the fires created (an already-existing
    /// `(task_id, fire_time)` is skipped, not an error).
    Committed {
        /// The task's version after the commit.
        new_version: i64,
        /// Fires created, with their ids.
        fires: Vec<FireRef>,
    },
    /// The task was changed, paused or deleted since it was read; nothing was written.
    Stale,
}

/// A created fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireRef {
    /// `"<taskid>-<fire_time>"`: unique for ever, so consumers can dedup on it.
    pub fire_id: String,
    /// Scheduled time.
    pub fire_time: i64,
}

/// A pull from the built-in queue.
#[derive(Debug, Clone)]
pub struct LeaseRequest {
    /// Consumer group.
    pub group: String,
    /// Tags the consumer handles.
    pub tags: TagFilter,
    /// At most this many messages.
    pub max: usize,
    /// The clock.
    pub now_ms: i64,
}

/// One leased message, as the consume API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Names this message in this group, stable across redeliveries.
    pub msgid: String,
    /// The task.
    pub taskid: TaskId,
    /// Task name.
    pub tag: String,
    /// Payload.
    pub data: String,
    /// Scheduled time of the fire.
    pub fire_time: i64,
    /// Fire id (`"<taskid>-<fire_time>"`).
    pub fire_id: String,
    /// 1 on first delivery, +1 per redelivery.
    pub attempt: i64,
    /// Until when the consumer holds it.
    pub lease_until: i64,
}

/// A message named by an ack or a nack, with the delivery its caller's lease came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRef {
    /// The message.
    pub msgid: String,
    /// The `attempt` of the lease the caller holds; `None` (old clients) means the
    /// message's current delivery.
    pub attempt: Option<i64>,
}

impl From<String> for LeaseRef {
    /// A reference to the message's current delivery.
    fn from(msgid: String) -> Self {
        Self {
            msgid,
            attempt: None,
        }
    }
}

/// State of a fire's delivery, for history and dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting to be pulled (first time).
    Published,
    /// Leased to a consumer right now.
    Leased,
    /// Failed at least once, waiting for a retry.
    Retrying,
    /// Acknowledged.
    Acked,
    /// Out of retries.
    Dead,
    /// Its task was deleted first.
    Cancelled,
    /// No group has subscribed to its tag yet.
    Unclaimed,
    /// Waiting in the outbox until an external broker confirms it.
    Pending,
}

impl DeliveryState {
    /// Name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Leased => "leased",
            Self::Retrying => "retrying",
            Self::Acked => "acked",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
            Self::Unclaimed => "unclaimed",
            Self::Pending => "pending",
        }
    }
}

/// One fire in a task's history, per consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireRecord {
    /// Fire id.
    pub fire_id: String,
    /// Scheduled time.
    pub fire_time: i64,
    /// When it was committed.
    pub published_at: i64,
    /// The delivery's msgid, if a group has it.
    pub msgid: Option<String>,
    /// The group, if one has it.
    pub group: Option<String>,
    /// Deliveries so far.
    pub attempts: i64,
    /// State.
    pub state: DeliveryState,
    /// The delivery (attempt) whose consumer acked it, once acked.
    pub acked_attempt: Option<i64>,
    /// Why its last failed delivery failed, as that consumer said.
    pub reason: Option<String>,
    /// The external broker's id of the message, once a broker confirmed it.
    pub broker_id: Option<String>,
}

/// A message that ran out of retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// msgid of the delivery.
    pub msgid: String,
    /// Group it failed in.
    pub group: String,
    /// The task.
    pub taskid: TaskId,
    /// Tag.
    pub tag: String,
    /// Payload.
    pub data: String,
    /// Fire.
    pub fire_id: String,
    /// Scheduled time.
    pub fire_time: i64,
    /// Deliveries made.
    pub attempts: i64,
    /// When it died.
    pub died_at: i64,
    /// Why its last failed delivery failed, as that consumer said.
    pub reason: Option<String>,
}

/// Which tasks to list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Exact name.
    pub name: Option<String>,
    /// Part of the name, in any case (for people searching).
    pub search: Option<String>,
    /// Status.
    pub status: Option<TaskStatus>,
    /// Page size.
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
    /// Order of the list.
    pub order: TaskOrder,
}

/// How a task list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TaskOrder {
    /// Last added first.
    #[default]
    Newest,
    /// What fires next: scheduled tasks only (whatever the status filter), soonest next
    /// fire first, read from the due-time index however many tasks there are.
    NextFire,
}

/// Counts for metrics and readiness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Deliveries waiting to be pulled or retried.
    pub ready: i64,
    /// Deliveries leased now.
    pub leased: i64,
    /// Dead letters.
    pub dead: i64,
    /// Fires no group has subscribed to yet.
    pub unclaimed: i64,
}

/// The messages of one group and tag by state, for operators watching a queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Consumer group.
    pub group: String,
    /// Tag (task name).
    pub tag: String,
    /// Visible now: never delivered, requeued, or a retry that is due.
    pub ready: i64,
    /// Held by a consumer.
    pub leased: i64,
    /// Failed and waiting for their next attempt.
    pub retrying: i64,
    /// The earliest next attempt among the retrying ones.
    pub next_retry_ms: Option<i64>,
    /// Dead letters.
    pub dead: i64,
}

/// What one call of [`crate::QueueStore::expire_leases`] moved on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiryReport {
    /// Expired leases with a retry left, now retrying.
    pub retrying: u64,
    /// Expired last attempts, now dead letters.
    pub dead: u64,
    /// The call stopped at its limit with more expired leases left: call again.
    pub more: bool,
}

/// What one call of [`crate::TaskStore::purge_history`] forgot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Fires forgotten.
    pub fires: u64,
    /// Their deliveries, all acked or cancelled.
    pub deliveries: u64,
    /// Finished or deleted tasks left with no fire, forgotten with them.
    pub tasks: u64,
    /// The sweep stopped at `max_fires` with older history left: call again.
    pub more: bool,
}

impl PurgeReport {
    /// Adds a step's counts to a sweep's; `more` becomes the step's.
    pub fn add(&mut self, step: PurgeReport) {
        self.fires += step.fires;
        self.deliveries += step.deliveries;
        self.tasks += step.tasks;
        self.more = step.more;
    }
}

/// A task together with everything the engine needs to fire it.
pub type DueTask = Task;

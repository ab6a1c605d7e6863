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

/// Retry ladder and leases of the built-in queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Delay after the i-th failed delivery is `retry_delays_ms[i-1]`; a message is
    /// delivered at most `len + 1` times, then becomes a dead letter.
    pub retry_delays_ms: Vec<i64>,
    /// Lease of a pulled message of a non-`ack` task.
    pub default_lease_ms: i64,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        const S: i64 = 1000;
        const M: i64 = 60 * S;
        Self {
            retry_delays_ms: vec![
                10 * S,
                30 * S,
                M,
                2 * M,
                3 * M,
                4 * M,
                5 * M,
                6 * M,
                7 * M,
                8 * M,
                9 * M,
                10 * M,
                20 * M,
                30 * M,
                60 * M,
                120 * M,
            ],
            default_lease_ms: 30 * S,
        }
    }
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
}

/// Which tasks to list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Exact name.
    pub name: Option<String>,
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

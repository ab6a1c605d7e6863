//! The service's operations as plain async functions; HTTP handlers only parse and map.

use std::sync::Arc;

use taskcenter_api::{
    AddTaskResponse, BatchItemResult, GraphsResponse, GroupQueue, PreviewRequest, QueuesResponse,
    StatResponse, TagQueue, TaskSpec,
};
use taskcenter_core::schedule::TaskPlan;
use taskcenter_core::{Clock, IdGenerator, Task, TaskDraft, TaskId, TaskStatus};
use taskcenter_publish::Publisher;
use taskcenter_store::OUTBOX_GROUP;
use taskcenter_store::{
    Background, DeadLetter, Delivery, FireRecord, InsertOutcome, LeaseRef, QueueCounts, Store,
    StoreError, TaskFilter,
};
use tokio_util::sync::CancellationToken;

use crate::alerts::AlertSink;
use crate::config::ServerConfig;
use crate::engine::{Engine, EngineConfig, ManualFire};
use crate::error::ApiError;
use crate::fired::FireEffects;
use crate::janitor::Janitor;
use crate::queue::{Pull, Queue};
use crate::relay::Relay;
use crate::stats::MinuteStats;
use crate::sweeper::LeaseSweeper;
use crate::telemetry::Telemetry;

/// Most tasks in one batch add.
pub const MAX_BATCH_ADD: usize = 10_000;

/// Everything the handlers call into: the operations of the API as plain async functions.
pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    engine: Arc<Engine>,
    janitor: Option<Arc<Janitor>>,
    sweeper: Arc<LeaseSweeper>,
    queue: Arc<Queue>,
    stats: Arc<MinuteStats>,
    alerts: Arc<AlertSink>,
    telemetry: Arc<Telemetry>,
    config: ServerConfig,
    ids: IdGenerator,
    relay: Option<Arc<Relay>>,
}

/// The figures `/metrics` shows that are read, not counted.
#[derive(Debug, Clone)]
pub struct Gauges {
    /// Tasks per status `(scheduled, paused, finished)`.
    pub tasks: (i64, i64, i64),
    /// Queue depth.
    pub queue: QueueCounts,
    /// Tasks held in the engine's timer.
    pub timer_held: usize,
    /// Fires in the current minute.
    pub fires_this_minute: i64,
    /// Alerts raised since start.
    pub alerts_raised: u64,
    /// Firing rounds the store failed since start.
    pub failed_rounds: u64,
}

/// Schedules `task` from `now` on: its next fire on its grid at or after `now` (the first
/// one, if it never fired), or finished when none is left.
fn go_on_from(task: &mut Task, now: i64) -> Result<(), ApiError> {
    let plan = TaskPlan::of(task).map_err(|e| ApiError::Invalid(e.0))?;
    let next = if task.fire_count == 0 {
        plan.first_fire(task.created_at_ms).map(|f| f.max(now))
    } else {
        plan.next_after(now - 1, task.fire_count)
    };
    task.next_fire_ms = next;
    task.status = if next.is_some() {
        TaskStatus::Scheduled
    } else {
        TaskStatus::Finished
    };
    Ok(())
}

/// Parses a task id from the API.
pub fn parse_id(text: &str) -> Result<TaskId, ApiError> {
    if text.is_empty() {
        return Err(ApiError::Invalid("taskid is required".into()));
    }
    text.parse().map_err(|_| {
        ApiError::Invalid(format!(
            "malformed taskid {text:?}: expected 24 hex characters"
        ))
    })
}

impl Service {
    /// Builds the service over `store`: the queue, the counters, the firing engine, the
    /// lease sweeper and the janitor, none of them running yet (see [`Service::background`]). Long-polls
    /// end early once `stopping` is cancelled.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: ServerConfig,
        stopping: CancellationToken,
    ) -> Self {
        let telemetry = Arc::new(Telemetry::default());
        let queue = Arc::new(Queue::new(
            store.clone(),
            clock.clone(),
            config.delivery.clone(),
            stopping,
            telemetry.clone(),
        ));
        let stats = Arc::new(MinuteStats::new(
            config.name_alert_count,
            config.total_alert_count,
        ));
        let alerts = Arc::new(AlertSink::new(config.alert_webhook.clone()));
        let listener = Arc::new(FireEffects {
            telemetry: telemetry.clone(),
            stats: stats.clone(),
            alerts: alerts.clone(),
            queue: queue.clone(),
            clock: clock.clone(),
        });
        let engine = Engine::new(
            store.clone(),
            clock.clone(),
            EngineConfig {
                window_ms: config.window_ms,
                misfire_grace_ms: config.misfire_grace_ms,
                fire_ahead_ms: config.fire_ahead_ms,
            },
            listener,
        );
        let janitor = (config.retention_ms > 0).then(|| {
            Arc::new(Janitor::new(
                store.clone(),
                clock.clone(),
                config.retention_ms,
            ))
        });
        let sweeper = Arc::new(LeaseSweeper::new(
            store.clone(),
            clock.clone(),
            config.delivery.clone(),
            queue.clone(),
        ));
        Self {
            store,
            clock,
            engine,
            janitor,
            sweeper,
            queue,
            stats,
            alerts,
            telemetry,
            config,
            ids: IdGenerator::new(),
            relay: None,
        }
    }

    /// The service's own background loops in start order: the engine, the lease
    /// sweeper, then the janitor.
    pub fn background(&self) -> Vec<Arc<dyn Background>> {
        let mut loops: Vec<Arc<dyn Background>> = vec![self.engine.clone()];
        if let Some(relay) = &self.relay {
            loops.push(relay.clone());
        }
        loops.push(self.sweeper.clone());
        if let Some(janitor) = &self.janitor {
            loops.push(janitor.clone());
        }
        loops
    }

    /// Publishes every fire to `publisher` instead of handing it to the built-in queue:
    /// the outbox relay joins the loops, started after the engine and stopped before it.
    pub fn with_publisher(mut self, publisher: Arc<dyn Publisher>) -> Self {
        self.relay = Some(Arc::new(Relay::new(
            self.store.clone(),
            self.clock.clone(),
            publisher,
            self.config.delivery.clone(),
            self.queue.clone(),
        )));
        self
    }

    /// The outbox relay, when fires go to an external broker.
    pub fn relay(&self) -> Option<&Relay> {
        self.relay.as_deref()
    }

    /// The configuration the service runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The event counters, for `/metrics` and request timing.
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    fn build(&self, spec: TaskSpec, now: i64) -> Result<Task, ApiError> {
        let draft = spec.into_draft()?;
        Ok(draft.into_task(self.ids.next(now), now, &self.config.limits)?)
    }

    /// Adds one task; durable before it returns.
    pub async fn add(&self, spec: TaskSpec) -> Result<AddTaskResponse, ApiError> {
        let task = self.build(spec, self.clock.now_ms())?;
        let name = task.name.clone();
        let outcome = self
            .store
            .insert_tasks(vec![task.clone()], self.config.dedup)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::Internal("store returned no outcome".into()))?;
        Ok(self.added(&task, outcome, name))
    }

    /// Schedules a task the store created and answers the add.
    fn added(&self, task: &Task, outcome: InsertOutcome, name: String) -> AddTaskResponse {
        let created = outcome == InsertOutcome::Created(task.id);
        if created {
            self.engine.schedule(task);
        }
        AddTaskResponse {
            taskid: outcome.id().to_string(),
            name,
            deduplicated: !created,
        }
    }

    /// Adds many tasks in one durable commit; each item succeeds or fails on its own, and
    /// the answer has one result per item, in order. An item may arrive already refused
    /// (a body the decoder could not read): its error takes its place.
    pub async fn add_batch(
        &self,
        items: Vec<Result<TaskSpec, ApiError>>,
    ) -> Result<Vec<BatchItemResult>, ApiError> {
        if items.is_empty() {
            return Err(ApiError::Invalid("the batch is empty".into()));
        }
        if items.len() > MAX_BATCH_ADD {
            return Err(ApiError::TooLarge(format!(
                "a batch holds at most {MAX_BATCH_ADD} tasks"
            )));
        }
        let now = self.clock.now_ms();
        let built: Vec<Result<Task, ApiError>> = items
            .into_iter()
            .map(|item| item.and_then(|spec| self.build(spec, now)))
            .collect();
        let tasks: Vec<Task> = built
            .iter()
            .filter_map(|b| b.as_ref().ok())
            .cloned()
            .collect();
        let mut outcomes = if tasks.is_empty() {
            Vec::new()
        } else {
            self.store.insert_tasks(tasks, self.config.dedup).await?
        }
        .into_iter();
        built
            .into_iter()
            .map(|item| match item {
                Err(e) => Ok(BatchItemResult::Err(e.body())),
                Ok(task) => {
                    let outcome = outcomes.next().ok_or_else(|| {
                        ApiError::Internal(
                            "the store answered fewer tasks than it was given".into(),
                        )
                    })?;
                    let name = task.name.clone();
                    Ok(BatchItemResult::Ok(self.added(&task, outcome, name)))
                }
            })
            .collect()
    }

    /// Deletes tasks by id; unknown ids are left out of the answer.
    pub async fn delete(&self, ids: Vec<String>) -> Result<Vec<String>, ApiError> {
        if ids.is_empty() {
            return Err(ApiError::Invalid("ids must be a non-empty array".into()));
        }
        // Malformed ids cannot name a task: they are simply not deleted.
        let parsed: Vec<TaskId> = ids.iter().filter_map(|s| s.parse().ok()).collect();
        let deleted = self.store.delete_tasks(parsed).await?;
        for id in &deleted {
            self.engine.unschedule(*id);
        }
        Ok(deleted.iter().map(ToString::to_string).collect())
    }

    /// Deletes every task of a name.
    pub async fn delete_by_name(&self, name: &str) -> Result<Vec<String>, ApiError> {
        if name.is_empty() {
            return Err(ApiError::Invalid("name is required".into()));
        }
        let deleted = self.store.delete_by_name(name).await?;
        for id in &deleted {
            self.engine.unschedule(*id);
        }
        Ok(deleted.iter().map(ToString::to_string).collect())
    }

    /// One task.
    pub async fn get(&self, id: &str) -> Result<Task, ApiError> {
        let id = parse_id(id)?;
        self.store
            .get_task(id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("task {id} not found")))
    }

    /// Tasks, newest first.
    pub async fn list(&self, filter: TaskFilter) -> Result<Vec<Task>, ApiError> {
        Ok(self.store.list_tasks(filter).await?)
    }

    /// The fire times a spec would produce, without creating anything.
    pub fn preview(&self, req: PreviewRequest) -> Result<Vec<i64>, ApiError> {
        let count = req.count.unwrap_or(10);
        if !(1..=1000).contains(&count) {
            return Err(ApiError::Invalid("count must be between 1 and 1000".into()));
        }
        let now = self.clock.now_ms();
        let from = req.from.unwrap_or(now);
        let mut spec = req.spec;
        spec.data.get_or_insert_with(String::new);
        spec.name.get_or_insert_with(|| "preview".into());
        let draft = spec.into_draft()?;
        Ok(draft.preview(now, from, count as usize, &self.config.limits)?)
    }

    /// Stops a task firing until resumed.
    pub async fn pause(&self, id: &str) -> Result<Task, ApiError> {
        self.change(id, |task, _| {
            if task.status == TaskStatus::Scheduled {
                task.status = TaskStatus::Paused;
            }
            Ok(())
        })
        .await
    }

    /// Resumes a paused task from now on, on its grid.
    pub async fn resume(&self, id: &str) -> Result<Task, ApiError> {
        self.change(id, |task, now| {
            if task.status == TaskStatus::Paused {
                go_on_from(task, now)?;
            }
            Ok(())
        })
        .await
    }

    /// Changes a task's fields. Its schedule goes on from now on its grid, as after a
    /// resume: fires already made count toward `loop_count`, and a change that leaves the
    /// schedule alone (the data, say) fires nothing extra. A paused task stays paused.
    pub async fn update(&self, id: &str, patch: TaskSpec) -> Result<Task, ApiError> {
        let limits = self.config.limits.clone();
        self.change(id, move |task, now| {
            let draft = patch.clone().patch(TaskDraft::of(task))?;
            let rebuilt = draft.into_task(task.id, now, &limits)?;
            let paused = task.status == TaskStatus::Paused;
            *task = Task {
                created_at_ms: task.created_at_ms,
                fire_count: task.fire_count,
                version: task.version,
                ..rebuilt
            };
            if paused {
                task.status = TaskStatus::Paused;
            } else {
                go_on_from(task, now)?;
            }
            Ok(())
        })
        .await
    }

    /// Reads, changes and writes back a task, retrying if it changed meanwhile.
    async fn change<F>(&self, id: &str, mut f: F) -> Result<Task, ApiError>
    where
        F: FnMut(&mut Task, i64) -> Result<(), ApiError>,
    {
        let id = parse_id(id)?;
        for _ in 0..16 {
            let mut task = self
                .store
                .get_task(id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("task {id} not found")))?;
            let version = task.version;
            f(&mut task, self.clock.now_ms())?;
            if task.status != TaskStatus::Scheduled {
                task.next_fire_ms = None;
            }
            if self.store.replace_task(task.clone(), version).await? {
                task.version = version + 1;
                self.engine.schedule(&task);
                return Ok(task);
            }
        }
        Err(ApiError::Unavailable(format!(
            "task {id} is changing too often; try again"
        )))
    }

    /// Fires a task now, outside its schedule; the schedule itself is unchanged.
    pub async fn trigger(&self, id: &str) -> Result<String, ApiError> {
        let id = parse_id(id)?;
        match self.engine.fire_now(id).await? {
            ManualFire::Fired(fire_id) => Ok(fire_id),
            ManualFire::NotFound => Err(ApiError::NotFound(format!("task {id} not found"))),
            ManualFire::Contended => Err(ApiError::Unavailable(format!(
                "task {id} is changing too often; try again"
            ))),
        }
    }

    /// A task's fires, newest first.
    pub async fn history(&self, id: &str, limit: usize) -> Result<Vec<FireRecord>, ApiError> {
        let task = self.get(id).await?;
        let mut records = self.store.fire_history(task.id, limit).await?;
        for r in &mut records {
            crate::relay::outbox_state(r, task.ack);
        }
        Ok(records)
    }

    /// The per-minute counters.
    pub fn stat(&self) -> StatResponse {
        self.stats.snapshot(self.clock.now_ms())
    }

    /// Long-polls the built-in queue.
    pub async fn consume(&self, pull: Pull) -> Result<Vec<Delivery>, ApiError> {
        // Fires go to the broker: a group subscribing here would get a second copy.
        if let Some(relay) = &self.relay {
            return Err(ApiError::Unavailable(format!(
                "the built-in queue is off: fires are published to {}",
                relay.broker()
            )));
        }
        self.queue.consume(pull).await
    }

    /// Acknowledges leased messages of `group`.
    pub async fn ack(&self, group: &str, leases: Vec<LeaseRef>) -> Result<Vec<String>, ApiError> {
        self.queue.ack(group, leases).await
    }

    /// Acks fires end to end: with an external publisher their outbox messages (the
    /// request's group does not matter), else their messages of `group`. Returns the fire
    /// ids acked now, by this call or an earlier one.
    pub async fn ack_fires(
        &self,
        group: &str,
        fire_ids: Vec<String>,
    ) -> Result<Vec<String>, ApiError> {
        let group = if self.relay.is_some() {
            OUTBOX_GROUP
        } else {
            group
        };
        let acked = self
            .store
            .ack_fires(group, fire_ids, self.clock.now_ms())
            .await?;
        Ok(acked)
    }

    /// Holds leased messages of `group` for `lease_ms` more (the default lease when
    /// `None`); answers the msgids held.
    pub async fn extend(
        &self,
        group: &str,
        leases: Vec<LeaseRef>,
        lease_ms: Option<i64>,
    ) -> Result<Vec<String>, ApiError> {
        self.queue.extend(group, leases, lease_ms).await
    }

    /// Hands leased messages of `group` back for a retry, with why they failed.
    pub async fn nack(
        &self,
        group: &str,
        leases: Vec<LeaseRef>,
        delay_ms: Option<i64>,
        reason: Option<String>,
    ) -> Result<Vec<String>, ApiError> {
        self.queue.nack(group, leases, delay_ms, reason).await
    }

    /// Dead letters, newest first, optionally of one group.
    pub async fn dead_letters(
        &self,
        group: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<DeadLetter>, ApiError> {
        Ok(self.store.dead_letters(group, limit, offset).await?)
    }

    /// Puts dead letters back in their queue with a fresh retry budget; returns those moved.
    pub async fn requeue_dead(&self, msgids: Vec<String>) -> Result<Vec<String>, ApiError> {
        let moved = self.store.requeue_dead(msgids, self.clock.now_ms()).await?;
        self.queue.notify();
        Ok(moved)
    }

    /// Deletes dead letters (all when `msgids` is `None`); returns how many.
    pub async fn purge_dead(&self, msgids: Option<Vec<String>>) -> Result<u64, ApiError> {
        Ok(self.store.purge_dead(msgids).await?)
    }

    /// Every group's messages by state, in total and per tag, and the consumers seen.
    pub async fn queues(&self) -> Result<QueuesResponse, ApiError> {
        let now = self.clock.now_ms();
        let mut groups: Vec<GroupQueue> = Vec::new();
        for d in self.store.queue_depths(now).await? {
            if groups.last().is_none_or(|g| g.group != d.group) {
                groups.push(GroupQueue {
                    group: d.group.clone(),
                    ..GroupQueue::default()
                });
            }
            let Some(group) = groups.last_mut() else {
                continue;
            };
            group.ready += d.ready;
            group.leased += d.leased;
            group.retrying += d.retrying;
            group.dead += d.dead;
            group.tags.push(TagQueue {
                tag: d.tag,
                ready: d.ready,
                leased: d.leased,
                retrying: d.retrying,
                next_retry: d.next_retry_ms,
                dead: d.dead,
            });
        }
        Ok(QueuesResponse {
            groups,
            consumers: self.queue.consumers().snapshot(now),
        })
    }

    /// The last hour per minute, for the graphs.
    pub fn graphs(&self) -> GraphsResponse {
        GraphsResponse {
            minutes: self.queue.series().snapshot(self.clock.now_ms()),
        }
    }

    /// Whether the store answers now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }

    /// The figures `/metrics` reads from the store and the engine.
    pub async fn gauges(&self) -> Result<Gauges, ApiError> {
        Ok(Gauges {
            tasks: self.store.task_counts().await?,
            queue: self.store.queue_counts().await?,
            timer_held: self.engine.held(),
            fires_this_minute: self.stat().total,
            alerts_raised: self
                .alerts
                .raised
                .load(std::sync::atomic::Ordering::Relaxed),
            failed_rounds: self.engine.failed_rounds(),
        })
    }
}

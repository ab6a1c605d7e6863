//! The service's operations as plain async functions; HTTP handlers only parse and map.

use std::sync::Arc;

use taskcenter_api::{
    AddTaskResponse, BatchItemResult, ErrorBody, PreviewRequest, StatResponse, TaskSpec,
};
use taskcenter_core::schedule::TaskPlan;
use taskcenter_core::{Clock, IdGenerator, Task, TaskId, TaskStatus};
use taskcenter_store::{FireCommit, FireOutcome, FireRecord, Store, TaskFilter};

use crate::alerts::AlertSink;
use crate::config::ServerConfig;
use crate::engine::Engine;
use crate::error::ApiError;
use crate::queue::Queue;
use crate::stats::MinuteStats;
use crate::telemetry::Telemetry;

/// Most tasks in one batch add.
pub const MAX_BATCH_ADD: usize = 10_000;

/// Everything the handlers call into.
pub struct Service {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The firing engine.
    pub engine: Arc<Engine>,
    /// The built-in queue.
    pub queue: Arc<Queue>,
    /// Per-minute counters.
    pub stats: Arc<MinuteStats>,
    /// Alert reporting.
    pub alerts: Arc<AlertSink>,
    /// Event counters for `/metrics`.
    pub telemetry: Arc<Telemetry>,
    /// Configuration.
    pub config: ServerConfig,
    ids: IdGenerator,
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
    /// Wires the parts together.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        engine: Arc<Engine>,
        queue: Arc<Queue>,
        stats: Arc<MinuteStats>,
        alerts: Arc<AlertSink>,
        telemetry: Arc<Telemetry>,
        config: ServerConfig,
    ) -> Self {
        Self {
            store,
            clock,
            engine,
            queue,
            stats,
            alerts,
            telemetry,
            config,
            ids: IdGenerator::new(),
        }
    }

    fn build(&self, spec: TaskSpec, now: i64) -> Result<Task, ApiError> {
        Ok(spec.into_task(self.ids.next(now), now, &self.config.limits)?)
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
        if outcome == taskcenter_store::InsertOutcome::Created(task.id) {
            self.engine.schedule(&task);
        }
        Ok(AddTaskResponse {
            taskid: outcome.id().to_string(),
            name,
        })
    }

    /// Adds many tasks in one durable commit; each item succeeds or fails on its own.
    pub async fn add_batch(&self, specs: Vec<TaskSpec>) -> Result<Vec<BatchItemResult>, ApiError> {
        if specs.is_empty() {
            return Err(ApiError::Invalid("the batch is empty".into()));
        }
        if specs.len() > MAX_BATCH_ADD {
            return Err(ApiError::TooLarge(format!(
                "a batch holds at most {MAX_BATCH_ADD} tasks"
            )));
        }
        let now = self.clock.now_ms();
        let mut results: Vec<Option<BatchItemResult>> = Vec::with_capacity(specs.len());
        let mut tasks = Vec::new();
        let mut slots = Vec::new();
        for spec in specs {
            match self.build(spec, now) {
                Ok(task) => {
                    slots.push(results.len());
                    results.push(None);
                    tasks.push(task);
                }
                Err(e) => results.push(Some(BatchItemResult::Err(e.body()))),
            }
        }
        if !tasks.is_empty() {
            let outcomes = self
                .store
                .insert_tasks(tasks.clone(), self.config.dedup)
                .await?;
            for ((slot, task), outcome) in slots.into_iter().zip(tasks).zip(outcomes) {
                if outcome == taskcenter_store::InsertOutcome::Created(task.id) {
                    self.engine.schedule(&task);
                }
                results[slot] = Some(BatchItemResult::Ok(AddTaskResponse {
                    taskid: outcome.id().to_string(),
                    name: task.name,
                }));
            }
        }
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    BatchItemResult::Err(ErrorBody {
                        err: taskcenter_api::ErrorCode::Internal as i64,
                        msg: "no result".into(),
                    })
                })
            })
            .collect())
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
        if spec.data.is_none() {
            spec.data = Some(String::new());
        }
        if spec.name.is_none() {
            spec.name = Some("preview".into());
        }
        let task = match spec.into_task(self.ids.next(now), now, &self.config.limits) {
            Err(e) if e.kind == taskcenter_core::SpecErrorKind::NeverFires => return Ok(Vec::new()),
            other => other?,
        };
        let plan = TaskPlan::of(&task).map_err(|e| ApiError::Invalid(e.0))?;
        // A `from` in the past asks what the schedule produced then: calendar schedules are
        // read from there; loops keep their grid origin.
        Ok(plan.preview(now.min(from.saturating_add(1)), from, count as usize))
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
            if task.status != TaskStatus::Paused {
                return Ok(());
            }
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
        })
        .await
    }

    /// Changes a task's fields; its schedule restarts from now.
    pub async fn update(&self, id: &str, patch: TaskSpec) -> Result<Task, ApiError> {
        let limits = self.config.limits.clone();
        self.change(id, move |task, now| {
            let merged = TaskSpec {
                name: patch.name.clone().or(Some(task.name.clone())),
                kind: patch.kind.or(Some(task.kind.code())),
                data: patch.data.clone().or(Some(task.data.clone())),
                crontab: patch.crontab.clone().or(Some(task.crontab.clone())),
                loop_time: patch.loop_time.or(Some(task.loop_time)),
                loop_count: patch.loop_count.or(Some(task.loop_count)),
                start_time: patch.start_time.or(Some(task.start_time)),
                end_time: patch.end_time.or(Some(task.end_time)),
                max_runtime: patch.max_runtime.or(Some(task.max_runtime)),
                ack: patch.ack.or(Some(task.ack)),
                timezone: patch.timezone.clone().or(Some(task.timezone.clone())),
                misfire: patch.misfire.clone().or(Some(task.misfire.as_str().into())),
            };
            let rebuilt = merged.into_task(task.id, now, &limits)?;
            let paused = task.status == TaskStatus::Paused;
            *task = Task {
                created_at_ms: task.created_at_ms,
                fire_count: task.fire_count,
                version: task.version,
                status: if paused {
                    TaskStatus::Paused
                } else {
                    rebuilt.status
                },
                ..rebuilt
            };
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
        for _ in 0..16 {
            let task = self
                .store
                .get_task(id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("task {id} not found")))?;
            let now = self.clock.now_ms();
            let commit = FireCommit {
                task_id: id,
                expected_version: task.version,
                fire_times: vec![now],
                next_fire_ms: task.next_fire_ms,
                fire_count: task.fire_count + 1,
                status: task.status,
                now_ms: now,
            };
            // Any replica may fire by hand: it is not the schedule's fire.
            let outcome = match self.store.replicas() {
                Some(replicas) => Some(replicas.commit_manual(commit).await?),
                None => self
                    .store
                    .commit_fires(vec![commit])
                    .await?
                    .into_iter()
                    .next(),
            };
            if let Some(FireOutcome::Committed { new_version, fires }) = outcome {
                self.record_fires(&task, fires.len() as i64);
                let mut held = task;
                held.version = new_version;
                held.fire_count += 1;
                self.engine.schedule(&held);
                return Ok(fires.first().map(|f| f.fire_id.clone()).unwrap_or_default());
            }
        }
        Err(ApiError::Unavailable(format!(
            "task {id} is changing too often; try again"
        )))
    }

    /// Counts fires, raises alerts and wakes consumers.
    pub fn record_fires(&self, task: &Task, n: i64) {
        announce_fires(
            &self.stats,
            &self.alerts,
            &self.queue,
            task,
            n,
            self.clock.now_ms(),
        );
    }

    /// A task's fires, newest first.
    pub async fn history(&self, id: &str, limit: usize) -> Result<Vec<FireRecord>, ApiError> {
        let task = self.get(id).await?;
        Ok(self.store.fire_history(task.id, limit).await?)
    }

    /// The per-minute counters.
    pub fn stat(&self) -> StatResponse {
        self.stats.snapshot(self.clock.now_ms())
    }
}

/// What follows every committed fire, from the engine or a trigger: the per-minute counters,
/// alerts when a threshold is crossed, and a wake-up of waiting consumers.
pub fn announce_fires(
    stats: &MinuteStats,
    alerts: &AlertSink,
    queue: &Queue,
    task: &Task,
    n: i64,
    now_ms: i64,
) {
    for alert in stats.record(&task.name, n, now_ms) {
        alerts.raise(alert);
    }
    queue.notify();
}

//! The firing engine: keeps the tasks due within a window in a timer and fires each at its
//! millisecond, committing the fire, its deliveries and the schedule's advance together.
//!
//! Far-future tasks stay in the store only; a loader pulls the next window ahead of time.
//! On a store shared by replicas the engine holds and fires only the tasks of the shards
//! this replica holds, and reloads its window when the store signals that they changed.

mod manual;
mod timer;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use taskcenter_core::schedule::TaskPlan;
use taskcenter_core::{Clock, Task, TaskId, TaskStatus};
use taskcenter_store::{Background, FireCommit, FireOutcome, Signal, Store, StoreError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use manual::ManualFire;
pub use timer::Timer;

use crate::clock::instant_at;
use crate::fired::FireListener;

/// Most tasks fired in one store commit.
const FIRE_BATCH: usize = 4096;
/// Most tasks loaded ahead at once; the rest come when these have fired.
const LOAD_LIMIT: usize = 200_000;
/// Pause after a storage failure before trying again.
const STORE_RETRY: Duration = Duration::from_millis(500);

/// Tuning of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How far ahead tasks are held in memory.
    pub window_ms: i64,
    /// Lateness beyond which `skip` drops a fire.
    pub misfire_grace_ms: i64,
    /// How long before its time a fire is committed. Its deliveries become visible only
    /// at the fire time, so consumers see it on the millisecond while the commit's own
    /// latency (and a burst of thousands due at once) is paid ahead of time. A task
    /// deleted in between still has its deliveries cancelled.
    pub fire_ahead_ms: i64,
}

/// The firing engine. Share it as `Arc<Engine>`; its loop is [`Background::run`].
pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    timer: Mutex<Timer>,
    /// Tasks due at or before this are in the timer (or being fired).
    horizon_ms: AtomicI64,
    /// Load the window at the next step whatever the horizon (the shards held changed).
    reload: AtomicBool,
    wake: Notify,
    listener: Arc<dyn FireListener>,
    /// Firing rounds the store failed (each is retried).
    failed_rounds: AtomicU64,
    stop: CancellationToken,
}

impl Engine {
    /// A stopped engine; nothing fires until [`Background::run`] or [`Engine::step`].
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
        listener: Arc<dyn FireListener>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            clock,
            config,
            timer: Mutex::new(Timer::default()),
            horizon_ms: AtomicI64::new(i64::MIN),
            reload: AtomicBool::new(false),
            wake: Notify::new(),
            listener,
            failed_rounds: AtomicU64::new(0),
            stop: CancellationToken::new(),
        })
    }

    fn timer(&self) -> MutexGuard<'_, Timer> {
        // A panic while holding the lock leaves a consistent timer (every method is
        // atomic), so a poisoned lock is safe to keep using.
        self.timer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a task that was added, resumed, triggered or changed into account.
    pub fn schedule(&self, task: &Task) {
        if !self.fires_here(task.id) {
            // Another replica holds its shard; the store tells that one.
            return self.unschedule(task.id);
        }
        let due = match (task.status, task.next_fire_ms) {
            (TaskStatus::Scheduled, Some(due)) => due,
            _ => return self.unschedule(task.id),
        };
        if due > self.horizon_ms.load(Ordering::Acquire) {
            // The loader will bring it in ahead of time; make sure it is not held stale.
            self.timer().remove(task.id);
            return;
        }
        if self.timer().insert(task.clone()) {
            self.wake.notify_one();
        }
    }

    /// Forgets a task that was deleted or paused.
    pub fn unschedule(&self, id: TaskId) {
        self.timer().remove(id);
    }

    /// Whether this replica fires `id` (always, unless the store is shared by replicas).
    fn fires_here(&self, id: TaskId) -> bool {
        self.store.replicas().is_none_or(|r| r.owns(id))
    }

    /// The shards held here, or their tasks, changed: drop what is not ours any more and
    /// load the window afresh.
    fn replan(&self) {
        self.timer().retain(|id| self.fires_here(id));
        self.reload.store(true, Ordering::Release);
    }

    /// Firing rounds the store failed since start (each was retried).
    pub fn failed_rounds(&self) -> u64 {
        self.failed_rounds.load(Ordering::Relaxed)
    }

    /// Number of tasks held in memory.
    pub fn held(&self) -> usize {
        self.timer().len()
    }

    /// Fires tasks until stopped; returns after the batch in progress has committed.
    async fn fire_until_stopped(&self) {
        let shutdown = &self.stop;
        let mut placement: Option<Signal> = self.store.replicas().map(|r| r.placement());
        while !shutdown.is_cancelled() {
            match self.step().await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(e) => {
                    self.failed_rounds.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, "storage failed while firing; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(STORE_RETRY) => {}
                        _ = shutdown.cancelled() => break,
                    }
                    continue;
                }
            }
            let reload_at = self
                .horizon_ms
                .load(Ordering::Acquire)
                .saturating_sub(self.config.window_ms / 2);
            let wake_at = self.timer().earliest().map_or(reload_at, |e| {
                (e - self.config.fire_ahead_ms).min(reload_at)
            });
            tokio::select! {
                _ = tokio::time::sleep_until(instant_at(self.clock.as_ref(), wake_at)) => {}
                _ = self.wake.notified() => {}
                _ = taskcenter_store::replicas::changed(&mut placement) => self.replan(),
                _ = shutdown.cancelled() => break,
            }
        }
    }

    /// Loads the window if needed and fires one batch of what is due by the clock now.
    /// Returns how many tasks were handled; the loop and tests drive the engine with it.
    pub async fn step(&self) -> Result<usize, StoreError> {
        self.load_window().await?;
        let now = self.clock.now_ms();
        let due = self
            .timer()
            .pop_due(now + self.config.fire_ahead_ms, FIRE_BATCH);
        let n = due.len();
        if n > 0 {
            self.fire(due, now).await?;
        }
        Ok(n)
    }

    /// Loads tasks due within the window when the loaded part runs short.
    async fn load_window(&self) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let horizon = self.horizon_ms.load(Ordering::Acquire);
        let half = self.config.window_ms / 2;
        let forced = self.reload.swap(false, Ordering::AcqRel);
        if !forced && (now < horizon.saturating_sub(half) || self.held() >= LOAD_LIMIT / 2) {
            return Ok(());
        }
        let until = now + self.config.window_ms;
        // Tasks added while the query runs may be missing from its answer: `schedule`
        // puts those due up to the new horizon straight into the timer.
        self.horizon_ms.fetch_max(until, Ordering::AcqRel);
        let tasks = match self.store.due_tasks(until, LOAD_LIMIT).await {
            Ok(tasks) => tasks,
            Err(e) => {
                self.horizon_ms.store(horizon, Ordering::Release);
                self.reload.fetch_or(forced, Ordering::AcqRel);
                return Err(e);
            }
        };
        let full = tasks.len() >= LOAD_LIMIT;
        let new_horizon = match tasks.last() {
            // The load was cut: tasks due exactly at the last time may be missing.
            Some(last) if full => last.next_fire_ms.unwrap_or(until) - 1,
            _ => until,
        };
        let mut timer = self.timer();
        for task in tasks {
            timer.offer(task);
        }
        self.horizon_ms
            .store(new_horizon.max(horizon), Ordering::Release);
        Ok(())
    }

    /// Fires a batch of due tasks in one store call.
    async fn fire(&self, due: Vec<Task>, now: i64) -> Result<(), StoreError> {
        let mut batch = Vec::with_capacity(due.len());
        let mut commits = Vec::with_capacity(due.len());
        for task in due {
            match self.decide(&task, now) {
                Some(commit) => {
                    commits.push(commit);
                    batch.push(task);
                }
                None => {
                    tracing::error!(task = %task.id, "stored schedule is unreadable; not firing")
                }
            }
        }
        let outcomes = match self.store.commit_fires(commits.clone()).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                // Nothing was fired: hold the tasks again so the retry finds them.
                let mut timer = self.timer();
                for task in batch {
                    timer.offer(task);
                }
                return Err(e);
            }
        };
        for ((task, commit), outcome) in batch.into_iter().zip(commits).zip(outcomes) {
            match outcome {
                FireOutcome::Committed { new_version, fires } => {
                    if !fires.is_empty() {
                        self.listener.fired(&task, &fires);
                    }
                    let mut next = task;
                    next.version = new_version;
                    next.fire_count = commit.fire_count;
                    next.next_fire_ms = commit.next_fire_ms;
                    next.status = commit.status;
                    self.schedule(&next);
                }
                FireOutcome::Stale => self.refresh(task.id).await,
            }
        }
        Ok(())
    }

    /// What to commit for one due task.
    fn decide(&self, task: &Task, now: i64) -> Option<FireCommit> {
        let plan = TaskPlan::of(task).ok()?;
        let due = task.next_fire_ms?;
        let fp = plan.fires_due(due, now, task.fire_count, self.config.misfire_grace_ms);
        Some(FireCommit {
            task_id: task.id,
            expected_version: task.version,
            fire_count: task.fire_count + fp.fire_times.len() as i64,
            status: if fp.next.is_some() {
                TaskStatus::Scheduled
            } else {
                TaskStatus::Finished
            },
            next_fire_ms: fp.next,
            fire_times: fp.fire_times,
            // Published when it becomes visible, which is its time when committed ahead.
            now_ms: now.max(due),
        })
    }

    /// Re-reads a task that changed under the engine and holds its current version.
    async fn refresh(&self, id: TaskId) {
        match self.store.get_task(id).await {
            Ok(Some(task)) => self.schedule(&task),
            Ok(None) => self.unschedule(id),
            Err(e) => tracing::warn!(task = %id, error = %e, "re-reading a changed task failed"),
        }
    }
}

#[async_trait]
impl Background for Engine {
    fn name(&self) -> &'static str {
        "engine"
    }

    /// Fires until shutdown; returns after the batch in progress has committed.
    async fn run(&self) {
        self.fire_until_stopped().await;
    }

    fn shutdown(&self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests;

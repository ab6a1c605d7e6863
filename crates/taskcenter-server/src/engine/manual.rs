//! Fires asked for by hand (trigger-now): outside the schedule, which stays as it was, but
//! through the same commit and the same fire listener as the engine's own fires.

use taskcenter_core::TaskId;
use taskcenter_store::{FireCommit, FireOutcome, StoreError};

use super::Engine;

/// Commits retried when the task changed between reading and committing.
const ATTEMPTS: usize = 16;

/// What a fire by hand came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManualFire {
    /// Fired; the fire's id.
    Fired(String),
    /// No such task (or deleted).
    NotFound,
    /// The task kept changing under every attempt; nothing was fired.
    Contended,
}

impl Engine {
    /// Fires task `id` once now. The schedule (next fire, status) is left as it is; the
    /// fire counts toward the task's fires.
    pub async fn fire_now(&self, id: TaskId) -> Result<ManualFire, StoreError> {
        for _ in 0..ATTEMPTS {
            let Some(task) = self.store.get_task(id).await? else {
                return Ok(ManualFire::NotFound);
            };
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
            // Any replica may fire by hand: it is not the schedule's fire, so it needs no
            // shard lease.
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
                if !fires.is_empty() {
                    self.listener.fired(&task, &fires);
                }
                let fire_id = fires.first().map(|f| f.fire_id.clone()).unwrap_or_default();
                let mut held = task;
                held.version = new_version;
                held.fire_count += 1;
                self.schedule(&held);
                return Ok(ManualFire::Fired(fire_id));
            }
        }
        Ok(ManualFire::Contended)
    }
}

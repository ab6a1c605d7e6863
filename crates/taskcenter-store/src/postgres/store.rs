//! [`TaskStore`] and [`QueueStore`] for [`PgStore`].

use async_trait::async_trait;
use taskcenter_core::{TagFilter, Task, TaskId};

use super::{
    PgStore, batcher, dead, depths, expiry, failures, fires, outbox, queue, retention, tasks,
};
use crate::error::StoreError;
use crate::model::{
    DeadLetter, Delivery, ExpiryReport, FireCommit, FireOutcome, FireRecord, InsertOutcome,
    LeaseRef, LeaseRequest, PurgeReport, QueueCounts, QueueDepth, TaskFilter,
};
use crate::outbox::OutboxSettle;
use crate::policy::DeliveryPolicy;
use crate::replicas::Replicated;
use crate::traits::{QueueStore, TaskStore};

#[async_trait]
impl TaskStore for PgStore {
    async fn insert_tasks(
        &self,
        tasks: Vec<Task>,
        dedup: bool,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        if tasks.is_empty() {
            return Ok(Vec::new());
        }
        batcher::insert(&self.shared, tasks, dedup).await
    }

    async fn purge_history(
        &self,
        before_ms: i64,
        max_fires: usize,
    ) -> Result<PurgeReport, StoreError> {
        retention::purge(&self.shared, before_ms, max_fires).await
    }

    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        tasks::get_one(&self.shared, id).await
    }

    async fn list_tasks(&self, filter: TaskFilter) -> Result<Vec<Task>, StoreError> {
        tasks::list(&self.shared, &filter).await
    }

    async fn replace_task(&self, task: Task, expected_version: i64) -> Result<bool, StoreError> {
        tasks::replace(&self.shared, &task, expected_version).await
    }

    async fn delete_tasks(&self, ids: Vec<TaskId>) -> Result<Vec<TaskId>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        tasks::delete(&self.shared, &ids).await
    }

    async fn delete_by_name(&self, name: &str) -> Result<Vec<TaskId>, StoreError> {
        tasks::delete_by_name(&self.shared, name).await
    }

    async fn due_tasks(&self, until_ms: i64, limit: usize) -> Result<Vec<Task>, StoreError> {
        tasks::due(&self.shared, until_ms, limit).await
    }

    async fn commit_fires(&self, commits: Vec<FireCommit>) -> Result<Vec<FireOutcome>, StoreError> {
        if commits.is_empty() {
            return Ok(Vec::new());
        }
        fires::commit(&self.shared, &commits, true).await
    }

    async fn fire_history(&self, id: TaskId, limit: usize) -> Result<Vec<FireRecord>, StoreError> {
        fires::history(&self.shared, id, limit).await
    }

    async fn task_counts(&self) -> Result<(i64, i64, i64), StoreError> {
        tasks::counts(&self.shared).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.shared.pool.get().await?;
        conn.query("SELECT 1", &[]).await.map(|_| ())
    }

    fn replicas(&self) -> Option<&dyn Replicated> {
        Some(self)
    }
}

#[async_trait]
impl QueueStore for PgStore {
    async fn subscribe(&self, group: &str, tags: &TagFilter) -> Result<(), StoreError> {
        queue::subscribe(&self.shared, group, tags).await
    }

    async fn lease(
        &self,
        req: LeaseRequest,
        policy: &DeliveryPolicy,
    ) -> Result<Vec<Delivery>, StoreError> {
        if req.max == 0 {
            return Ok(Vec::new());
        }
        queue::lease(&self.shared, &req, policy).await
    }

    async fn ack(
        &self,
        group: &str,
        msgids: Vec<LeaseRef>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        if msgids.is_empty() {
            return Ok(Vec::new());
        }
        queue::ack(&self.shared, group, &msgids, now_ms).await
    }

    async fn extend_leases(
        &self,
        group: &str,
        leases: Vec<LeaseRef>,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        queue::extend(&self.shared, group, &leases, until_ms, now_ms).await
    }

    async fn nack(
        &self,
        group: &str,
        msgids: Vec<LeaseRef>,
        delay_ms: Option<i64>,
        now_ms: i64,
        policy: &DeliveryPolicy,
    ) -> Result<Vec<String>, StoreError> {
        if msgids.is_empty() {
            return Ok(Vec::new());
        }
        queue::nack(&self.shared, group, &msgids, delay_ms, now_ms, policy).await
    }

    async fn settle_outbox(
        &self,
        group: &str,
        settles: Vec<OutboxSettle>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if settles.is_empty() {
            return Ok(());
        }
        outbox::settle(&self.shared, group, &settles, now_ms).await
    }

    async fn fire_msgids(
        &self,
        group: &str,
        fire_ids: Vec<String>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        outbox::fire_msgids(&self.shared, group, &fire_ids).await
    }

    async fn expire_leases(
        &self,
        now_ms: i64,
        policy: &DeliveryPolicy,
        limit: usize,
    ) -> Result<ExpiryReport, StoreError> {
        if limit == 0 {
            return Ok(ExpiryReport::default());
        }
        expiry::expire(&self.shared, now_ms, policy, limit).await
    }

    async fn next_visible(&self, group: &str, tags: &TagFilter) -> Result<Option<i64>, StoreError> {
        queue::next_visible(&self.shared, group, tags).await
    }

    async fn dead_letters(
        &self,
        group: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        dead::list(&self.shared, group, limit, offset).await
    }

    async fn requeue_dead(
        &self,
        msgids: Vec<String>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        if msgids.is_empty() {
            return Ok(Vec::new());
        }
        dead::requeue(&self.shared, &msgids, now_ms).await
    }

    async fn purge_dead(&self, msgids: Option<Vec<String>>) -> Result<u64, StoreError> {
        dead::purge(&self.shared, msgids.as_deref()).await
    }

    async fn queue_counts(&self) -> Result<QueueCounts, StoreError> {
        dead::counts(&self.shared).await
    }

    async fn note_failures(
        &self,
        group: &str,
        msgids: Vec<String>,
        reason: &str,
    ) -> Result<(), StoreError> {
        failures::note(&self.shared, group, &msgids, reason).await
    }

    async fn queue_depths(&self, now_ms: i64) -> Result<Vec<QueueDepth>, StoreError> {
        depths::depths(&self.shared, now_ms).await
    }
}

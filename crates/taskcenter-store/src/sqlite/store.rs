//! [`TaskStore`] and [`QueueStore`] for [`SqliteStore`]: every write goes through the
//! group-commit writer, every read to the read pool.

use async_trait::async_trait;
use taskcenter_core::{TagFilter, Task, TaskId};

use std::sync::{Arc, PoisonError};

use super::{SqliteStore, dead, fires, queue, retention, tasks};
use crate::error::StoreError;
use crate::model::{
    DeadLetter, Delivery, DeliveryPolicy, FireCommit, FireOutcome, FireRecord, InsertOutcome,
    LeaseRequest, PurgeReport, QueueCounts, TaskFilter,
};
use crate::traits::{QueueStore, TaskStore};

#[async_trait]
impl TaskStore for SqliteStore {
    async fn insert_tasks(
        &self,
        tasks: Vec<Task>,
        dedup: bool,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        if tasks.is_empty() {
            return Ok(Vec::new());
        }
        self.intake.insert(&self.writer, tasks, dedup).await
    }

    async fn purge_history(
        &self,
        before_ms: i64,
        max_fires: usize,
    ) -> Result<PurgeReport, StoreError> {
        let cursor = Arc::clone(&self.purge_cursor);
        self.write(move |conn| {
            let mut cursor = cursor.lock().unwrap_or_else(PoisonError::into_inner);
            let (report, next) = retention::purge(conn, *cursor, before_ms, max_fires)?;
            *cursor = next;
            Ok(report)
        })
        .await
    }

    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        self.read(move |conn| tasks::get(conn, id)).await
    }

    async fn list_tasks(&self, filter: TaskFilter) -> Result<Vec<Task>, StoreError> {
        self.read(move |conn| tasks::list(conn, &filter)).await
    }

    async fn replace_task(&self, task: Task, expected_version: i64) -> Result<bool, StoreError> {
        self.write(move |conn| tasks::replace(conn, &task, expected_version))
            .await
    }

    async fn delete_tasks(&self, ids: Vec<TaskId>) -> Result<Vec<TaskId>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.write(move |conn| tasks::delete(conn, &ids)).await
    }

    async fn delete_by_name(&self, name: &str) -> Result<Vec<TaskId>, StoreError> {
        let name = name.to_string();
        self.write(move |conn| tasks::delete_by_name(conn, &name))
            .await
    }

    async fn due_tasks(&self, until_ms: i64, limit: usize) -> Result<Vec<Task>, StoreError> {
        self.read(move |conn| tasks::due(conn, until_ms, limit))
            .await
    }

    async fn commit_fires(&self, commits: Vec<FireCommit>) -> Result<Vec<FireOutcome>, StoreError> {
        if commits.is_empty() {
            return Ok(Vec::new());
        }
        self.write(move |conn| fires::commit(conn, &commits)).await
    }

    async fn fire_history(&self, id: TaskId, limit: usize) -> Result<Vec<FireRecord>, StoreError> {
        self.read(move |conn| fires::history(conn, id, limit)).await
    }

    async fn task_counts(&self) -> Result<(i64, i64, i64), StoreError> {
        self.read(tasks::counts).await
    }
}

#[async_trait]
impl QueueStore for SqliteStore {
    async fn subscribe(&self, group: &str, tags: &TagFilter) -> Result<(), StoreError> {
        let (group, tags) = (group.to_string(), tags.clone());
        self.write(move |conn| queue::subscribe(conn, &group, &tags))
            .await
    }

    async fn lease(
        &self,
        req: LeaseRequest,
        policy: &DeliveryPolicy,
    ) -> Result<Vec<Delivery>, StoreError> {
        if req.max == 0 {
            return Ok(Vec::new());
        }
        let policy = policy.clone();
        self.write(move |conn| queue::lease(conn, &req, &policy))
            .await
    }

    async fn ack(
        &self,
        group: &str,
        msgids: Vec<String>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        if msgids.is_empty() {
            return Ok(Vec::new());
        }
        let group = group.to_string();
        self.write(move |conn| queue::ack(conn, &group, &msgids, now_ms))
            .await
    }

    async fn nack(
        &self,
        group: &str,
        msgids: Vec<String>,
        delay_ms: Option<i64>,
        now_ms: i64,
        policy: &DeliveryPolicy,
    ) -> Result<Vec<String>, StoreError> {
        if msgids.is_empty() {
            return Ok(Vec::new());
        }
        let (group, policy) = (group.to_string(), policy.clone());
        self.write(move |conn| queue::nack(conn, &group, &msgids, delay_ms, now_ms, &policy))
            .await
    }

    async fn next_visible(&self, group: &str, tags: &TagFilter) -> Result<Option<i64>, StoreError> {
        let (group, tags) = (group.to_string(), tags.clone());
        self.read(move |conn| queue::next_visible(conn, &group, &tags))
            .await
    }

    async fn dead_letters(
        &self,
        group: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let group = group.map(str::to_string);
        self.read(move |conn| dead::list(conn, group.as_deref(), limit, offset))
            .await
    }

    async fn requeue_dead(
        &self,
        msgids: Vec<String>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        if msgids.is_empty() {
            return Ok(Vec::new());
        }
        self.write(move |conn| dead::requeue(conn, &msgids, now_ms))
            .await
    }

    async fn purge_dead(&self, msgids: Option<Vec<String>>) -> Result<u64, StoreError> {
        self.write(move |conn| dead::purge(conn, msgids.as_deref()))
            .await
    }

    async fn queue_counts(&self) -> Result<QueueCounts, StoreError> {
        self.read(dead::counts).await
    }
}

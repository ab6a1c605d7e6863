//! [`TaskStore`] and [`QueueStore`] for [`SqliteStore`]: every write goes through the
//! group-commit writer, every read to the read pool.

use async_trait::async_trait;
use taskcenter_core::{TagFilter, Task, TaskId};

use std::sync::{Arc, PoisonError};

use super::{
    SqliteStore, dead, depths, expiry, failures, fires, outbox, probe, queue, retention, tasks,
};
use crate::error::StoreError;
use crate::model::{
    DeadLetter, Delivery, ExpiryReport, FireCommit, FireOutcome, FireRecord, InsertOutcome,
    LeaseRef, LeaseRequest, PurgeReport, QueueCounts, QueueDepth, TaskFilter,
};
use crate::outbox::{OUTBOX_GROUP, OutboxSettle};
use crate::policy::DeliveryPolicy;
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
        let mut records = self
            .read(move |conn| fires::history(conn, id, limit))
            .await?;
        self.held_leases().show_in(&mut records);
        Ok(records)
    }

    async fn task_counts(&self) -> Result<(i64, i64, i64), StoreError> {
        self.read(tasks::counts).await
    }

    /// Reads answer while the disk is full, so a read says little: while the last write
    /// failed for want of storage, a small write must commit before the store is ready.
    /// A failed probe makes the writer checkpoint and empty the WAL, so a second one
    /// finds whatever room that and freed space give. Takes the disk reserve back when
    /// there is room again.
    async fn ping(&self) -> Result<(), StoreError> {
        if self.writer.failing().is_some() {
            if self.write(probe::write).await.is_err() {
                self.write(probe::write).await?;
            }
            if let Some(err) = self.writer.failing() {
                return Err(err);
            }
        }
        if !self.space.held() {
            let space = Arc::clone(&self.space);
            let taken = tokio::task::spawn_blocking(move || space.take())
                .await
                .unwrap_or(false);
            if taken {
                let space = Arc::clone(&self.space);
                self.write(move |conn| space.set_wal_limits(conn)).await?;
                tracing::info!("took the disk reserve again; normal WAL limits restored");
            }
        }
        self.read(tasks::counts).await.map(drop)
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
        if req.group == OUTBOX_GROUP {
            return self.lease_outbox(req, policy).await;
        }
        self.write(move |conn| queue::lease(conn, &req, &policy, None))
            .await
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
        let group = group.to_string();
        self.write(move |conn| queue::ack(conn, &group, &msgids, now_ms))
            .await
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
        let (group, policy) = (group.to_string(), policy.clone());
        self.write(move |conn| queue::nack(conn, &group, &msgids, delay_ms, now_ms, &policy))
            .await
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
        let group = group.to_string();
        self.write(move |conn| queue::extend(conn, &group, &leases, until_ms, now_ms))
            .await
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
        let group = group.to_string();
        let held = Arc::new(self.held_leases().named(&settles));
        let settled = Arc::clone(&held);
        // Lost in a crash, a settle only has its messages published again.
        let result = self
            .writer
            .write_redoable(move |conn| outbox::settle(conn, &group, &settles, now_ms, &held))
            .await;
        // Committed (or rolled back, the messages waiting again): no lease passes them over
        // any more.
        self.held_leases().forget(&settled);
        result
    }

    async fn fire_msgids(
        &self,
        group: &str,
        fire_ids: Vec<String>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let group = group.to_string();
        self.read(move |conn| outbox::fire_msgids(conn, &group, &fire_ids))
            .await
    }

    async fn expire_leases(
        &self,
        now_ms: i64,
        policy: &DeliveryPolicy,
        limit: usize,
    ) -> Result<ExpiryReport, StoreError> {
        let policy = policy.clone();
        self.write(move |conn| expiry::expire(conn, now_ms, &policy, limit))
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
        let mut counts = self.read(dead::counts).await?;
        self.held_leases().count_in(&mut counts);
        Ok(counts)
    }

    async fn note_failures(
        &self,
        group: &str,
        msgids: Vec<String>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let (group, reason) = (group.to_string(), reason.to_string());
        self.write(move |conn| failures::note(conn, &group, &msgids, &reason))
            .await
    }

    async fn queue_depths(&self, now_ms: i64) -> Result<Vec<QueueDepth>, StoreError> {
        self.read(move |conn| depths::depths(conn, now_ms)).await
    }
}

//! The store test suite, written against `dyn Store` only so every backend runs the same
//! tests: a backend's test file instantiates each function here (see `tests/sqlite.rs`).
//!
//! Times are fixed instants around [`T0`]; nothing reads the wall clock.

#![allow(dead_code)]

mod ack;
mod concurrency;
mod dead;
mod dedup;
mod fires;
mod queue;
mod retention;
mod retry;
mod tasks;

use std::sync::Arc;

use async_trait::async_trait;
use taskcenter_core::{MisfirePolicy, TagFilter, Task, TaskId, TaskKind, TaskStatus};
use taskcenter_store::{
    DeliveryPolicy, FireCommit, FireOutcome, FireRef, LeaseRequest, Store, TaskFilter,
};

// Each backend's test file uses all of these; the throughput test only the helpers.
#[allow(unused_imports)]
pub use self::{
    ack::*, concurrency::*, dead::*, dedup::*, fires::*, queue::*, retention::*, retry::*, tasks::*,
};

/// An arbitrary fixed instant (2023-11-14T22:13:20Z) the tests count from.
pub const T0: i64 = 1_700_000_000_000;

/// Lease of non-ack deliveries in the tests.
pub const LEASE_MS: i64 = 5_000;

/// Something that opens one database, again and again (for the durability test).
#[async_trait]
pub trait Backend: Send + Sync {
    /// Opens the store; each call opens the same underlying database.
    async fn open(&self) -> Arc<dyn Store>;
}

/// A deterministic id: `n` in the low bytes, T0's seconds in the high ones.
pub fn id(n: u32) -> TaskId {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&((T0 / 1000) as u32).to_be_bytes());
    b[8..].copy_from_slice(&n.to_be_bytes());
    TaskId::from_bytes(b)
}

/// A scheduled once task due a minute after T0, created `n` ms after T0.
pub fn task(n: u32, name: &str, data: &str) -> Task {
    Task {
        id: id(n),
        name: name.into(),
        kind: TaskKind::Once,
        data: data.into(),
        crontab: String::new(),
        loop_time: 0,
        loop_count: 0,
        start_time: 0,
        end_time: 0,
        max_runtime: 60,
        ack: false,
        timezone: "UTC".into(),
        misfire: MisfirePolicy::Coalesce,
        created_at_ms: T0 + i64::from(n),
        status: TaskStatus::Scheduled,
        next_fire_ms: Some(T0 + 60_000),
        fire_count: 0,
        version: 0,
    }
}

/// The same task with another status.
pub fn with_status(mut t: Task, status: TaskStatus) -> Task {
    t.status = status;
    t
}

/// A policy with the given ladder and [`LEASE_MS`] leases.
pub fn policy(delays: &[i64]) -> DeliveryPolicy {
    DeliveryPolicy {
        retry_delays_ms: delays.to_vec(),
        default_lease_ms: LEASE_MS,
    }
}

/// Inserts tasks without dedup, asserting they were all created.
pub async fn put(store: &dyn Store, tasks: Vec<Task>) {
    let n = tasks.len();
    let out = store.insert_tasks(tasks, false).await.expect("insert");
    assert_eq!(out.len(), n);
}

/// Fires a task once at `at` (published at `at`), keeping it scheduled.
pub async fn fire_at(store: &dyn Store, id: TaskId, at: i64) -> Vec<FireRef> {
    let t = store.get_task(id).await.expect("get").expect("task exists");
    let commit = FireCommit {
        task_id: id,
        expected_version: t.version,
        fire_times: vec![at],
        next_fire_ms: Some(at + 60_000),
        fire_count: t.fire_count + 1,
        status: TaskStatus::Scheduled,
        now_ms: at,
    };
    match store
        .commit_fires(vec![commit])
        .await
        .expect("commit")
        .pop()
    {
        Some(FireOutcome::Committed { fires, .. }) => fires,
        other => panic!("fire not committed: {other:?}"),
    }
}

/// A lease request.
pub fn pull(group: &str, tags: &str, max: usize, now_ms: i64) -> LeaseRequest {
    LeaseRequest {
        group: group.into(),
        tags: TagFilter::parse(tags),
        max,
        now_ms,
    }
}

/// Every task, newest first.
pub async fn all_tasks(store: &dyn Store) -> Vec<Task> {
    let filter = TaskFilter {
        limit: 100_000,
        ..TaskFilter::default()
    };
    store.list_tasks(filter).await.expect("list")
}

/// Subscribes a group.
pub async fn subscribe(store: &dyn Store, group: &str, tags: &str) {
    store
        .subscribe(group, &TagFilter::parse(tags))
        .await
        .expect("subscribe");
}

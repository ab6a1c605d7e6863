//! The store test suite, written against `dyn Store` only so every backend runs the same
//! tests: a backend's test file instantiates each function here (see `tests/sqlite.rs`).
//!
//! Times are fixed instants around [`T0`]; nothing reads the wall clock.

#![allow(dead_code)]

mod ack;
mod concurrency;
mod dead;
mod dedup;
mod depths;
mod expiry;
mod failures;
mod fires;
mod leases;
mod outbox;
mod outbox_batch;
mod queue;
mod retention;
mod retry;
mod tasks;

use std::sync::Arc;

use async_trait::async_trait;
use taskcenter_core::{MisfirePolicy, TagFilter, Task, TaskId, TaskKind, TaskStatus};
use taskcenter_store::{
    DeliveryPolicy, FireCommit, FireOutcome, FireRef, LeaseRef, LeaseRequest, Store, TaskFilter,
};

// Each backend's test file uses all of these; the throughput test only the helpers.
#[allow(unused_imports)]
pub use self::{
    ack::*, concurrency::*, dead::*, dedup::*, depths::*, expiry::*, failures::*, fires::*,
    leases::*, outbox::*, outbox_batch::*, queue::*, retention::*, retry::*, tasks::*,
};

/// An arbitrary fixed instant (2023-11-14T22:13:20Z) the tests count from.
pub const T0: i64 = 1_700_000_000_000;

/// Lease of non-ack deliveries in the tests.
pub const LEASE_MS: i64 = 5_000;

/// Something that opens one database, again and again (for the durability test).
#[async_trait]
pub trait Backend: Send + Sync {
    /// A fresh, empty database for the test named `test`, removed when dropped.
    async fn create(test: &str) -> Self
    where
        Self: Sized;

    /// Opens the store; each call opens the same underlying database.
    async fn open(&self) -> Arc<dyn Store>;

    /// Checks the backend makes after each suite test (its own invariants).
    fn check(&self) {}

    /// Whether the relay's leases of messages of tasks without end-to-end ack are stored,
    /// so they outlive the store being closed. A store only one process opens may hold
    /// them in memory instead: closed, it publishes such messages again at once.
    fn outbox_leases_are_stored(&self) -> bool {
        true
    }
}

/// One `#[tokio::test]` per suite function for the backend type given: functions taking
/// a store get a freshly opened one, those taking a backend the backend itself (to
/// reopen it). Each ends with the backend's own checks. A new suite test is added here
/// once and runs on every backend.
#[allow(unused_macros)] // the shard tests use the helpers only
macro_rules! store_suite {
    ($backend:ty) => {
        store_suite!(@tests $backend; store: [
            insert_and_get,
            list_filters_and_orders,
            list_by_name_part,
            list_by_next_fire,
            dedup_returns_live_task,
            dedup_within_batch,
            dedup_ignores_finished_and_deleted,
            replace_is_compare_and_set,
            delete_reports_existing,
            delete_by_name_takes_all_of_a_name,
            due_tasks_in_order,
            commit_fires_advances_task,
            commit_fires_rejects_stale,
            commit_fires_skips_fired_times,
            fire_history_per_group,
            unclaimed_fires_wait_for_first_group,
            subscribe_all_claims_every_tag,
            groups_each_get_every_message,
            lease_returns_message_fields,
            lease_oldest_first_up_to_max,
            ack_only_leased_messages,
            ack_after_lease_expiry_is_accepted,
            nack_with_explicit_delay,
            next_visible_tracks_the_earliest,
            ack_task_lease_is_max_runtime,
            retry_ladder_by_nack,
            retry_ladder_by_lease_expiry,
            empty_ladder_delivers_once,
            dead_letters_list_requeue_purge,
            queue_depths_per_group_and_tag,
            failure_reasons_reach_history_and_dead_letters,
            delete_cancels_deliveries,
            purge_forgets_only_finished_history,
            concurrent_inserts,
            concurrent_dedup_creates_once,
            concurrent_fires_and_leases,
            expire_leases_retries_then_kills,
            expire_leases_in_bounded_steps,
            late_ack_and_current_ack_both_succeed,
            ack_without_attempt_is_the_current_delivery,
            stale_nack_leaves_the_new_lease_alone,
            extend_holds_a_running_message,
            extend_leaves_an_ack_task_s_lease_alone,
            outbox_sent_is_done_with_broker_id,
            outbox_again_does_not_count_attempts,
            outbox_dead_and_stale_settles,
            outbox_ack_by_fire_id,
            outbox_settles_a_mixed_batch_at_once,
        ], backend: [durable_across_reopen, outbox_lease_after_reopen]);
    };
    (@tests $backend:ty; store: [$($store_test:ident),* $(,)?], backend: [$($backend_test:ident),* $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $store_test() {
                let backend = <$backend as suite::Backend>::create(stringify!($store_test)).await;
                suite::$store_test(suite::Backend::open(&backend).await).await;
                suite::Backend::check(&backend);
            }
        )*
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $backend_test() {
                let backend = <$backend as suite::Backend>::create(stringify!($backend_test)).await;
                suite::$backend_test(&backend).await;
                suite::Backend::check(&backend);
            }
        )*
    };
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

/// References to the current deliveries of messages, as old clients ack and nack.
pub fn refs(msgids: Vec<String>) -> Vec<LeaseRef> {
    msgids.into_iter().map(LeaseRef::from).collect()
}

/// A reference to delivery `attempt` of a message.
pub fn lease_ref(msgid: &str, attempt: i64) -> LeaseRef {
    LeaseRef {
        msgid: msgid.into(),
        attempt: Some(attempt),
    }
}

/// Subscribes a group.
pub async fn subscribe(store: &dyn Store, group: &str, tags: &str) {
    store
        .subscribe(group, &TagFilter::parse(tags))
        .await
        .expect("subscribe");
}

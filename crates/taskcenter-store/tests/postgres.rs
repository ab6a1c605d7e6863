//! Runs the store test suite against PostgreSQL, one fresh database per test: the same
//! functions `tests/sqlite.rs` runs against the embedded store.

#![cfg(feature = "postgres")]

mod pg;
mod suite;

use std::sync::Arc;

use async_trait::async_trait;
use pg::TempDb;
use suite::Backend;
use taskcenter_store::Store;

#[async_trait]
impl Backend for TempDb {
    async fn open(&self) -> Arc<dyn Store> {
        // Through the URL resolver, as the server opens it.
        let dir = std::env::temp_dir();
        taskcenter_store::open(Some(&self.url), &dir)
            .await
            .expect("open postgres store")
    }
}

/// One `#[tokio::test]` per suite function: `store:` ones get a fresh store, `backend:`
/// ones the backend itself (to reopen it).
macro_rules! postgres_suite {
    (store: [$($store_test:ident),* $(,)?], backend: [$($backend_test:ident),* $(,)?] $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $store_test() {
                let db = TempDb::new(stringify!($store_test)).await;
                suite::$store_test(db.open().await).await;
            }
        )*
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $backend_test() {
                let db = TempDb::new(stringify!($backend_test)).await;
                suite::$backend_test(&db).await;
            }
        )*
    };
}

postgres_suite! {
    store: [
        insert_and_get,
        list_filters_and_orders,
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
        delete_cancels_deliveries,
        purge_forgets_only_finished_history,
        concurrent_inserts,
        concurrent_dedup_creates_once,
        concurrent_fires_and_leases,
    ],
    backend: [durable_across_reopen],
}

/// Beyond the suite: text columns cannot hold NUL, payloads may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_keep_every_byte() {
    let db = TempDb::new("payload").await;
    let store = db.open().await;
    let data = "a\u{0}b é \u{0}";
    suite::put(&*store, vec![suite::task(1, "a", data)]).await;
    let got = store
        .get_task(suite::id(1))
        .await
        .expect("get")
        .expect("task");
    assert_eq!(got.data, data);
    let dup = store
        .insert_tasks(vec![suite::task(2, "a", data)], true)
        .await
        .expect("insert");
    assert_eq!(dup[0].id(), suite::id(1), "dedup compares the bytes");
}

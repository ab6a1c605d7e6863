//! Runs the store test suite against the embedded SQLite store, one fresh file per test.

mod suite;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use suite::Backend;
use taskcenter_store::Store;

/// A store directory under the system temp dir, removed when the test ends.
struct TempSqlite {
    dir: PathBuf,
}

impl TempSqlite {
    fn new(test: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // Not created here: opening the store must create its directory.
        let dir = std::env::temp_dir().join(format!(
            "taskcenter-store-{}-{n}-{test}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Self { dir }
    }
}

impl TempSqlite {
    fn file(&self) -> PathBuf {
        self.dir.join("nested/taskcenter.db")
    }

    /// The counters the store keeps incrementally agree with a full recount.
    fn check_counters(&self) {
        let conn = rusqlite::Connection::open(self.file()).expect("open for recount");
        let pairs = |sql: &str| -> Vec<(i64, i64)> {
            let mut stmt = conn.prepare(sql).expect("prepare");
            let rows = stmt
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("query");
            rows.map(|r| r.expect("row")).collect()
        };
        let kept = pairs("SELECT status, n FROM task_counts WHERE n <> 0 ORDER BY status");
        let real = pairs("SELECT status, COUNT(*) FROM tasks GROUP BY status ORDER BY status");
        assert_eq!(kept, real, "task counters");
        let kept = pairs("SELECT kind, n FROM queue_counts WHERE n <> 0 ORDER BY kind");
        let real = pairs(
            "SELECT CASE WHEN state IN (0, 1) THEN 0 WHEN state IN (2, 3) THEN 1 \
             WHEN state = 5 THEN 2 WHEN state = 7 THEN 3 END AS kind, COUNT(*) \
             FROM deliveries WHERE kind IS NOT NULL GROUP BY kind ORDER BY kind",
        );
        assert_eq!(kept, real, "queue counters");
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[async_trait]
impl Backend for TempSqlite {
    async fn open(&self) -> Arc<dyn Store> {
        // Through the URL resolver, as the server opens it.
        let url = format!("sqlite:{}", self.file().display());
        taskcenter_store::open(Some(&url), &self.dir)
            .await
            .expect("open sqlite store")
    }
}

/// One `#[tokio::test]` per suite function: `store:` ones get a fresh store, `backend:`
/// ones the backend itself (to reopen it). Each ends by checking the counters.
macro_rules! sqlite_suite {
    (store: [$($store_test:ident),* $(,)?], backend: [$($backend_test:ident),* $(,)?] $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $store_test() {
                let backend = TempSqlite::new(stringify!($store_test));
                suite::$store_test(backend.open().await).await;
                backend.check_counters();
            }
        )*
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $backend_test() {
                let backend = TempSqlite::new(stringify!($backend_test));
                suite::$backend_test(&backend).await;
                backend.check_counters();
            }
        )*
    };
}

sqlite_suite! {
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

/// A task deleted before it ever fired leaves no row; one that fired stays, marked
/// deleted, for retention to forget with its last fire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_unfired_task_leaves_no_row() {
    let backend = TempSqlite::new("unfired");
    let store = backend.open().await;
    suite::put(
        &*store,
        vec![suite::task(1, "a", "1"), suite::task(2, "b", "2")],
    )
    .await;
    suite::fire_at(&*store, suite::id(2), suite::T0 + 100).await;
    let gone = store
        .delete_tasks(vec![suite::id(1), suite::id(2)])
        .await
        .expect("delete");
    assert_eq!(gone, vec![suite::id(1), suite::id(2)]);
    drop(store);
    let conn = rusqlite::Connection::open(backend.file()).expect("open");
    let rows: Vec<(i64, i64)> = conn
        .prepare("SELECT rid, status FROM tasks ORDER BY rid")
        .expect("prepare")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(
        rows,
        vec![(2, 3)],
        "only the fired task is kept, marked deleted"
    );
    let payloads: i64 = conn
        .query_row("SELECT count(*) FROM task_payloads", [], |row| row.get(0))
        .expect("count");
    assert_eq!(payloads, 1);
    drop(conn);
    backend.check_counters();
}

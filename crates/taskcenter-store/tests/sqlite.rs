//! Runs the store test suite against the embedded SQLite store, one fresh file per test.

#[macro_use]
mod suite;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use suite::Backend;
use taskcenter_store::Store;

/// A store directory under the system temp dir, removed when the test ends.
struct TempSqlite {
    dir: tempfile::TempDir,
}

impl TempSqlite {
    fn new(test: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("taskcenter-store-{test}-"))
            .tempdir()
            .expect("create a temp dir");
        Self { dir }
    }

    /// Not created here: opening the store must create its directory.
    fn file(&self) -> PathBuf {
        self.dir.path().join("nested/taskcenter.db")
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

#[async_trait]
impl Backend for TempSqlite {
    async fn create(test: &str) -> Self {
        Self::new(test)
    }

    fn check(&self) {
        self.check_counters();
    }

    fn outbox_leases_are_stored(&self) -> bool {
        false
    }

    async fn open(&self) -> Arc<dyn Store> {
        // Through the URL resolver, as the server opens it.
        let url = format!("sqlite:{}", self.file().display());
        taskcenter_store::open(Some(&url), self.dir.path())
            .await
            .expect("open sqlite store")
    }
}

store_suite!(TempSqlite);

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

/// One process per store file: a second open fails naming the holder's pid, and the file
/// is free again once the first store is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_open_fails_naming_the_holder() {
    let backend = TempSqlite::new("lock");
    let first = backend.open().await;
    let url = format!("sqlite:{}", backend.file().display());
    let second = taskcenter_store::open(Some(&url), backend.dir.path()).await;
    let err = second.err().expect("the second open fails");
    let text = err.to_string();
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    drop(first);
    let again = backend.open().await;
    suite::put(&*again, vec![suite::task(1, "a", "x")]).await;
}

//! Runs the store test suite against PostgreSQL, one fresh database per test: the same
//! functions `tests/sqlite.rs` runs against the embedded store.

#![cfg(feature = "postgres")]

mod pg;
#[macro_use]
mod suite;

use std::sync::Arc;

use async_trait::async_trait;
use pg::TestDb;
use suite::Backend;
use taskcenter_store::Store;

#[async_trait]
impl Backend for TestDb {
    async fn create(test: &str) -> Self {
        TestDb::new(test)
    }

    async fn open(&self) -> Arc<dyn Store> {
        // Through the URL resolver, as the server opens it.
        let dir = std::env::temp_dir();
        taskcenter_store::open(Some(&self.url), &dir)
            .await
            .expect("open postgres store")
    }
}

store_suite!(TestDb);

/// Beyond the suite: text columns cannot hold NUL, payloads may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_keep_every_byte() {
    let db = TestDb::new("payload");
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

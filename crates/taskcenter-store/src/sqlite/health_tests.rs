//! A store out of room: adds fail with `Unavailable`, reads go on, the disk reserve is
//! given back, readiness fails until a write commits again, and the reserve is taken
//! again once there is room. The room is SQLite's page limit (`max_page_count`), which
//! fails a write that grows the file with the very error a full disk gives (SQLITE_FULL).

use std::os::unix::fs::MetadataExt;

use super::{SqliteOptions, SqliteStore};
use crate::error::StoreError;
use crate::fixtures::{once_task, temp_dir};
use crate::traits::TaskStore;

/// The write connection's checkpoint interval, in WAL pages.
async fn checkpoint_pages(store: &SqliteStore) -> i64 {
    store
        .write(|conn| conn.pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0)))
        .await
        .expect("read the pragma")
}

async fn limit_pages(store: &SqliteStore, pages: Option<i64>) {
    store
        .write(move |conn| {
            let now: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let limit = pages.unwrap_or(now);
            conn.query_row(&format!("PRAGMA max_page_count = {limit}"), [], |_| Ok(()))
        })
        .await
        .expect("set the page limit");
}

#[tokio::test]
async fn a_full_store_is_not_ready_until_a_write_commits_again() {
    let dir = temp_dir();
    let store = SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("open");
    store
        .insert_tasks(vec![once_task(1, "a", "small")], false)
        .await
        .expect("insert");
    store.ping().await.expect("ready");
    let reserve = dir.path().join("t.db.reserve");
    let held = std::fs::metadata(&reserve).expect("a reserve is held");
    assert_eq!(held.len(), SqliteOptions::default().reserve_bytes);
    assert!(
        held.blocks() * 512 >= held.len(),
        "the reserve is allocated, not sparse"
    );
    let normal = checkpoint_pages(&store).await;

    limit_pages(&store, None).await;
    let big = "x".repeat(200_000);
    let err = store
        .insert_tasks(vec![once_task(2, "a", &big)], false)
        .await
        .expect_err("no room");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    for _ in 0..2 {
        let not_ready = store.ping().await.expect_err("not ready while full");
        assert!(
            matches!(not_ready, StoreError::Unavailable(_)),
            "{not_ready:?}"
        );
    }
    let kept = store.get_task(once_task(1, "", "").id).await.expect("read");
    assert!(kept.is_some(), "reads go on");
    assert!(!reserve.exists(), "the reserve was given back");
    assert!(
        checkpoint_pages(&store).await < normal,
        "a small WAL meanwhile"
    );

    limit_pages(&store, Some(1 << 30)).await;
    store.ping().await.expect("ready once a write commits");
    store
        .insert_tasks(vec![once_task(2, "a", &big)], false)
        .await
        .expect("room again");
    assert!(
        reserve.exists(),
        "the reserve is taken again once there is room"
    );
    assert_eq!(checkpoint_pages(&store).await, normal);
}

//! Many callers at once, and durability across a close and reopen.

use std::collections::HashSet;
use std::sync::Arc;

use taskcenter_core::TagFilter;
use taskcenter_store::{FireOutcome, InsertOutcome, Store};

use super::{
    Backend, LEASE_MS, T0, all_tasks, fire_at, id, policy, pull, put, refs, subscribe, task,
};

/// 64 callers inserting at once all get their tasks stored, each exactly once.
pub async fn concurrent_inserts(store: Arc<dyn Store>) {
    const CALLERS: u32 = 64;
    const EACH: u32 = 20;
    let mut handles = Vec::new();
    for caller in 0..CALLERS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..EACH {
                let n = caller * EACH + i + 1;
                let t = task(n, &format!("c{caller}"), &n.to_string());
                let out = store.insert_tasks(vec![t], true).await.expect("insert");
                assert_eq!(out, vec![InsertOutcome::Created(id(n))]);
                ids.push(id(n));
            }
            ids
        }));
    }
    let mut expected = HashSet::new();
    for handle in handles {
        expected.extend(handle.await.expect("caller"));
    }
    let stored: HashSet<_> = all_tasks(&*store).await.iter().map(|t| t.id).collect();
    assert_eq!(stored.len(), (CALLERS * EACH) as usize);
    assert_eq!(stored, expected);
    let (scheduled, _, _) = store.task_counts().await.expect("counts");
    assert_eq!(scheduled, i64::from(CALLERS * EACH));
}

/// Concurrent inserts of one `(name, data)` with dedup create it exactly once.
pub async fn concurrent_dedup_creates_once(store: Arc<dyn Store>) {
    let mut handles = Vec::new();
    for n in 1..=32u32 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let out = store
                .insert_tasks(vec![task(n, "same", "payload")], true)
                .await
                .expect("insert");
            out[0]
        }));
    }
    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.push(handle.await.expect("caller"));
    }
    let created: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, InsertOutcome::Created(_)))
        .collect();
    assert_eq!(created.len(), 1, "{outcomes:?}");
    let winner = created[0].id();
    assert!(outcomes.iter().all(|o| o.id() == winner));
    assert_eq!(all_tasks(&*store).await.len(), 1);
}

/// Fires committed while consumers lease concurrently reach each consumer group once.
pub async fn concurrent_fires_and_leases(store: Arc<dyn Store>) {
    const TASKS: u32 = 50;
    put(
        &*store,
        (1..=TASKS).map(|n| task(n, "a", &n.to_string())).collect(),
    )
    .await;
    subscribe(&*store, "g", "a").await;
    let firing = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 1..=TASKS {
                fire_at(&*store, id(n), T0 + i64::from(n)).await;
            }
        })
    };
    let mut consumers = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        consumers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..200 {
                let got = store
                    .lease(pull("g", "a", 5, T0 + 1000), &policy(&[1000]))
                    .await
                    .expect("lease");
                for d in got {
                    seen.push(d.msgid.clone());
                    store
                        .ack("g", refs(vec![d.msgid]), T0 + 1000)
                        .await
                        .expect("ack");
                }
                tokio::task::yield_now().await;
            }
            seen
        }));
    }
    firing.await.expect("firing");
    let mut seen = Vec::new();
    for consumer in consumers {
        seen.extend(consumer.await.expect("consumer"));
    }
    // Whatever the consumers missed while fires were still coming is still there.
    let rest = store
        .lease(pull("g", "a", 1000, T0 + 1000), &policy(&[1000]))
        .await
        .expect("lease");
    seen.extend(rest.into_iter().map(|d| d.msgid));
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), TASKS as usize, "each message leased once");
    assert_eq!(unique.len(), TASKS as usize);
}

/// Everything committed survives closing and reopening the store.
pub async fn durable_across_reopen(backend: &dyn Backend) {
    let msgid;
    {
        let store = backend.open().await;
        put(&*store, vec![task(1, "a", "kept"), task(2, "a", "gone")]).await;
        store.delete_tasks(vec![id(2)]).await.expect("delete");
        subscribe(&*store, "g", "a").await;
        fire_at(&*store, id(1), T0).await;
        fire_at(&*store, id(1), T0 + 1).await;
        let got = store
            .lease(pull("g", "a", 1, T0 + 10), &policy(&[1000]))
            .await
            .expect("lease");
        msgid = got[0].msgid.clone();
    }
    let store = backend.open().await;
    let t = store.get_task(id(1)).await.expect("get").expect("kept");
    assert_eq!((t.data.as_str(), t.fire_count, t.version), ("kept", 2, 2));
    assert_eq!(store.get_task(id(2)).await.expect("get"), None);
    let p = policy(&[1000]);
    // The other fire is still ready; the leased one is still leased.
    let got = store
        .lease(pull("g", "a", 10, T0 + 20), &p)
        .await
        .expect("lease");
    assert_eq!(
        got.iter().map(|d| d.fire_time).collect::<Vec<_>>(),
        vec![T0 + 1]
    );
    let acked = store
        .ack("g", refs(vec![msgid]), T0 + 30)
        .await
        .expect("ack");
    assert_eq!(acked.len(), 1);
    // The subscription survived: a new fire reaches the group.
    fire_at(&*store, id(1), T0 + 2).await;
    let got = store
        .lease(pull("g", "a", 10, T0 + 40), &p)
        .await
        .expect("lease");
    assert_eq!(got.len(), 1);
    assert_eq!(
        store
            .next_visible("g", &TagFilter::All)
            .await
            .expect("next"),
        Some(T0 + 20 + LEASE_MS + 1000)
    );
    // A stale commit from before the restart is still refused.
    let commit = taskcenter_store::FireCommit {
        task_id: id(1),
        expected_version: 0,
        fire_times: vec![T0 + 3],
        next_fire_ms: None,
        fire_count: 9,
        status: taskcenter_core::TaskStatus::Finished,
        now_ms: T0 + 3,
    };
    let out = store.commit_fires(vec![commit]).await.expect("commit");
    assert_eq!(out, vec![FireOutcome::Stale]);
}

//! The built-in queue: claiming, fan-out to groups, tag filters, lease, ack, nack.

use std::sync::Arc;

use taskcenter_core::TagFilter;
use taskcenter_store::Store;

use super::{LEASE_MS, T0, fire_at, id, policy, pull, put, subscribe, task};

/// Fires made before any group subscribed wait, and go to the first subscriber only.
pub async fn unclaimed_fires_wait_for_first_group(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    fire_at(&*store, id(1), T0).await;
    let counts = store.queue_counts().await.expect("counts");
    assert_eq!(counts.unclaimed, 1);
    let p = policy(&[1000]);
    assert!(
        store
            .lease(pull("g1", "a", 10, T0 + 1), &p)
            .await
            .expect("lease")
            .is_empty()
    );
    subscribe(&*store, "g1", "a").await;
    assert_eq!(store.queue_counts().await.expect("counts").unclaimed, 0);
    let got = store
        .lease(pull("g1", "a", 10, T0 + 2), &p)
        .await
        .expect("lease");
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].fire_time, got[0].attempt), (T0, 1));
    // A later group only gets fires from its subscription on.
    subscribe(&*store, "g2", "a").await;
    assert!(
        store
            .lease(pull("g2", "a", 10, T0 + 3), &p)
            .await
            .expect("lease")
            .is_empty()
    );
    fire_at(&*store, id(1), T0 + 1000).await;
    for group in ["g1", "g2"] {
        let got = store
            .lease(pull(group, "a", 10, T0 + 1001), &p)
            .await
            .expect("lease");
        assert_eq!(got.len(), 1, "{group}");
        assert_eq!(got[0].fire_time, T0 + 1000);
    }
}

/// Subscribing to `*` claims the waiting fires of every tag.
pub async fn subscribe_all_claims_every_tag(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x"), task(2, "b", "y")]).await;
    fire_at(&*store, id(1), T0).await;
    fire_at(&*store, id(2), T0 + 1).await;
    subscribe(&*store, "g", "*").await;
    subscribe(&*store, "g", "*").await; // idempotent
    let got = store
        .lease(pull("g", "*", 10, T0 + 10), &policy(&[]))
        .await
        .expect("lease");
    let tags: Vec<_> = got.iter().map(|d| d.tag.as_str()).collect();
    assert_eq!(tags, vec!["a", "b"]);
}

/// Every subscribed group gets every message of its tags; a lease's tags filter within
/// the group.
pub async fn groups_each_get_every_message(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x"), task(2, "b", "y")]).await;
    subscribe(&*store, "g1", "a").await;
    subscribe(&*store, "g2", "a || b").await;
    fire_at(&*store, id(1), T0).await;
    fire_at(&*store, id(2), T0 + 1).await;
    let p = policy(&[1000]);
    let g1 = store
        .lease(pull("g1", "*", 10, T0 + 5), &p)
        .await
        .expect("lease");
    assert_eq!(g1.iter().map(|d| d.taskid).collect::<Vec<_>>(), vec![id(1)]);
    let g2_b = store
        .lease(pull("g2", "b", 10, T0 + 5), &p)
        .await
        .expect("lease");
    assert_eq!(
        g2_b.iter().map(|d| d.taskid).collect::<Vec<_>>(),
        vec![id(2)]
    );
    let g2_rest = store
        .lease(pull("g2", "*", 10, T0 + 5), &p)
        .await
        .expect("lease");
    assert_eq!(
        g2_rest.iter().map(|d| d.taskid).collect::<Vec<_>>(),
        vec![id(1)]
    );
    assert_ne!(g1[0].msgid, g2_rest[0].msgid);
    assert_eq!(g1[0].fire_id, g2_rest[0].fire_id);
}

/// A leased message carries the task's data and the fire's identity.
pub async fn lease_returns_message_fields(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "orders", "{\"id\": 7}")]).await;
    subscribe(&*store, "g", "orders").await;
    fire_at(&*store, id(1), T0).await;
    let now = T0 + 250;
    let got = store
        .lease(pull("g", "orders", 10, now), &policy(&[1000]))
        .await
        .expect("lease");
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert!(!d.msgid.is_empty());
    assert_eq!(
        (d.taskid, d.tag.as_str(), d.data.as_str()),
        (id(1), "orders", "{\"id\": 7}")
    );
    assert_eq!(
        (d.fire_time, d.fire_id.clone()),
        (T0, format!("{}-{T0}", id(1)))
    );
    assert_eq!((d.attempt, d.lease_until), (1, now + LEASE_MS));
    let again = store
        .lease(pull("g", "orders", 10, now + 1), &policy(&[1000]))
        .await
        .expect("lease");
    assert!(again.is_empty(), "a leased message is not handed out twice");
}

/// Oldest first, at most `max`.
pub async fn lease_oldest_first_up_to_max(store: Arc<dyn Store>) {
    put(
        &*store,
        vec![task(1, "a", "1"), task(2, "a", "2"), task(3, "a", "3")],
    )
    .await;
    subscribe(&*store, "g", "a").await;
    fire_at(&*store, id(2), T0 + 20).await;
    fire_at(&*store, id(3), T0 + 30).await;
    fire_at(&*store, id(1), T0 + 10).await;
    let p = policy(&[]);
    let first = store
        .lease(pull("g", "a", 2, T0 + 100), &p)
        .await
        .expect("lease");
    let times: Vec<_> = first.iter().map(|d| d.fire_time).collect();
    assert_eq!(times, vec![T0 + 10, T0 + 20]);
    let rest = store
        .lease(pull("g", "a", 2, T0 + 100), &p)
        .await
        .expect("lease");
    assert_eq!(
        rest.iter().map(|d| d.fire_time).collect::<Vec<_>>(),
        vec![T0 + 30]
    );
    assert!(
        store
            .lease(pull("g", "a", 0, T0 + 100), &p)
            .await
            .expect("max 0")
            .is_empty()
    );
}

/// `next_visible` follows new fires, leases and tag filters.
pub async fn next_visible_tracks_the_earliest(store: Arc<dyn Store>) {
    let only_b = TagFilter::parse("b");
    assert_eq!(
        store
            .next_visible("g", &TagFilter::All)
            .await
            .expect("next"),
        None
    );
    put(&*store, vec![task(1, "a", "x")]).await;
    subscribe(&*store, "g", "*").await;
    fire_at(&*store, id(1), T0).await;
    assert_eq!(
        store
            .next_visible("g", &TagFilter::All)
            .await
            .expect("next"),
        Some(T0)
    );
    assert_eq!(
        store
            .next_visible("g", &TagFilter::parse("a || b"))
            .await
            .expect("next"),
        Some(T0)
    );
    assert_eq!(store.next_visible("g", &only_b).await.expect("next"), None);
    assert_eq!(
        store
            .next_visible("other", &TagFilter::All)
            .await
            .expect("next"),
        None
    );
    let p = policy(&[1000]);
    store
        .lease(pull("g", "*", 1, T0 + 10), &p)
        .await
        .expect("lease");
    let redelivery = T0 + 10 + LEASE_MS + 1000;
    assert_eq!(
        store
            .next_visible("g", &TagFilter::All)
            .await
            .expect("next"),
        Some(redelivery)
    );
}

/// An `ack` task's lease is its `max_runtime`; others get the policy's lease.
pub async fn ack_task_lease_is_max_runtime(store: Arc<dyn Store>) {
    let mut acked = task(1, "a", "x");
    acked.ack = true;
    acked.max_runtime = 7;
    let mut plain = task(2, "a", "y");
    plain.max_runtime = 7;
    put(&*store, vec![acked, plain]).await;
    subscribe(&*store, "g", "a").await;
    fire_at(&*store, id(1), T0).await;
    fire_at(&*store, id(2), T0 + 1).await;
    let got = store
        .lease(pull("g", "a", 10, T0 + 100), &policy(&[1000]))
        .await
        .expect("lease");
    let leases: Vec<_> = got.iter().map(|d| (d.taskid, d.lease_until)).collect();
    assert_eq!(
        leases,
        vec![(id(1), T0 + 100 + 7_000), (id(2), T0 + 100 + LEASE_MS)]
    );
}

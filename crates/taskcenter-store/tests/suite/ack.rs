//! Ack and nack of leased messages.

use std::sync::Arc;

use taskcenter_core::TagFilter;
use taskcenter_store::{QueueCounts, Store};

use super::{LEASE_MS, T0, fire_at, id, policy, pull, put, refs, subscribe, task};

/// Only the group's delivered messages can be acked; acking again is success, and acked
/// messages never return.
pub async fn ack_only_leased_messages(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    subscribe(&*store, "g", "a").await;
    subscribe(&*store, "other", "a").await;
    fire_at(&*store, id(1), T0).await;
    let p = policy(&[1000]);
    let got = store.lease(pull("g", "a", 1, T0), &p).await.expect("lease");
    let msgid = got[0].msgid.clone();
    let acked = store
        .ack("other", refs(vec![msgid.clone()]), T0 + 1)
        .await
        .expect("ack");
    assert!(acked.is_empty(), "another group's msgid");
    let acked = store
        .ack(
            "g",
            refs(vec![msgid.clone(), "nonsense".into(), "999999".into()]),
            T0 + 1,
        )
        .await
        .expect("ack");
    assert_eq!(acked, vec![msgid.clone()]);
    let again = store
        .ack("g", refs(vec![msgid.clone()]), T0 + 2)
        .await
        .expect("ack");
    assert_eq!(again, vec![msgid], "acking an acked message is success");
    let later = store
        .lease(pull("g", "a", 1, T0 + 60_000), &p)
        .await
        .expect("lease");
    assert!(later.is_empty());
    assert_eq!(
        store
            .next_visible("g", &TagFilter::All)
            .await
            .expect("next"),
        None
    );
    assert_eq!(
        store.queue_counts().await.expect("counts"),
        QueueCounts {
            ready: 1,
            leased: 0,
            dead: 0,
            unclaimed: 0
        }
    );
}

/// An ack after the lease ran out but before a redelivery is accepted.
pub async fn ack_after_lease_expiry_is_accepted(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    subscribe(&*store, "g", "a").await;
    fire_at(&*store, id(1), T0).await;
    let p = policy(&[1000]);
    let got = store.lease(pull("g", "a", 1, T0), &p).await.expect("lease");
    let late = T0 + LEASE_MS + 500;
    let acked = store
        .ack("g", refs(vec![got[0].msgid.clone()]), late)
        .await
        .expect("ack");
    assert_eq!(acked.len(), 1);
    let later = store
        .lease(pull("g", "a", 1, T0 + 60_000), &p)
        .await
        .expect("lease");
    assert!(later.is_empty());
}

/// `nack` with an explicit delay overrides the ladder.
pub async fn nack_with_explicit_delay(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    subscribe(&*store, "g", "a").await;
    fire_at(&*store, id(1), T0).await;
    let p = policy(&[60_000]);
    let got = store.lease(pull("g", "a", 1, T0), &p).await.expect("lease");
    let msgid = got[0].msgid.clone();
    let nacked = store
        .nack(
            "g",
            refs(vec![msgid.clone(), "x".into()]),
            Some(500),
            T0 + 100,
            &p,
        )
        .await
        .expect("nack");
    assert_eq!(nacked, vec![msgid.clone()]);
    assert!(
        store
            .nack("g", refs(vec![msgid.clone()]), None, T0 + 101, &p)
            .await
            .expect("again")
            .is_empty()
    );
    let next = store
        .next_visible("g", &TagFilter::All)
        .await
        .expect("next");
    assert_eq!(next, Some(T0 + 600));
    assert!(
        store
            .lease(pull("g", "a", 1, T0 + 599), &p)
            .await
            .expect("early")
            .is_empty()
    );
    let again = store
        .lease(pull("g", "a", 1, T0 + 600), &p)
        .await
        .expect("lease");
    assert_eq!((again[0].msgid.clone(), again[0].attempt), (msgid, 2));
}

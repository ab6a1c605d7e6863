//! Sweeping expired leases: states, counts, dead letters and history show a dead
//! consumer's messages on time, without anyone consuming again.

use std::sync::Arc;

use taskcenter_core::TagFilter;
use taskcenter_store::{DeliveryState, ExpiryReport, QueueCounts, Store};

use super::{LEASE_MS, T0, fire_at, id, policy, pull, put, subscribe, task};

fn counts(ready: i64, leased: i64, dead: i64) -> QueueCounts {
    QueueCounts {
        ready,
        leased,
        dead,
        unclaimed: 0,
    }
}

/// A lease that ran out becomes retrying (due the ladder's delay after its end), a last
/// attempt's becomes a dead letter dated at its end; nothing else moves.
pub async fn expire_leases_retries_then_kills(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    subscribe(&*store, "g", "a").await;
    fire_at(&*store, id(1), T0).await;
    let p = policy(&[1000]);
    let first = store.lease(pull("g", "a", 1, T0), &p).await.expect("lease");
    let end = T0 + LEASE_MS;
    assert_eq!(first[0].lease_until, end);

    let none = store.expire_leases(end - 1, &p, 100).await.expect("expire");
    assert_eq!(none, ExpiryReport::default(), "the lease has not ended");
    assert_eq!(store.queue_counts().await.expect("counts"), counts(0, 1, 0));

    let report = store.expire_leases(end, &p, 100).await.expect("expire");
    assert_eq!((report.retrying, report.dead, report.more), (1, 0, false));
    assert_eq!(store.queue_counts().await.expect("counts"), counts(1, 0, 0));
    let history = store.fire_history(id(1), 10).await.expect("history");
    assert_eq!(
        (history[0].state, history[0].attempts),
        (DeliveryState::Retrying, 1)
    );
    let next = store
        .next_visible("g", &TagFilter::All)
        .await
        .expect("next");
    assert_eq!(
        next,
        Some(end + 1000),
        "due the ladder's delay after the lease end"
    );
    let again = store
        .expire_leases(end + 10, &p, 100)
        .await
        .expect("expire");
    assert_eq!(again, ExpiryReport::default(), "moved once");

    assert!(
        store
            .lease(pull("g", "a", 1, end + 999), &p)
            .await
            .expect("lease")
            .is_empty()
    );
    let second = store
        .lease(pull("g", "a", 1, end + 1000), &p)
        .await
        .expect("lease");
    assert_eq!(second[0].attempt, 2);
    let end2 = second[0].lease_until;
    let report = store.expire_leases(end2, &p, 100).await.expect("expire");
    assert_eq!((report.retrying, report.dead), (0, 1));
    assert_eq!(store.queue_counts().await.expect("counts"), counts(0, 0, 1));
    let dead = store.dead_letters(None, 10, 0).await.expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].msgid.as_str(), dead[0].attempts, dead[0].died_at),
        (first[0].msgid.as_str(), 2, end2)
    );
    let history = store.fire_history(id(1), 10).await.expect("history");
    assert_eq!(history[0].state, DeliveryState::Dead);
}

/// A sweep takes at most `limit` leases, oldest end first, and says when more are left.
pub async fn expire_leases_in_bounded_steps(store: Arc<dyn Store>) {
    put(
        &*store,
        vec![task(1, "a", "x"), task(2, "a", "y"), task(3, "a", "z")],
    )
    .await;
    subscribe(&*store, "g", "a").await;
    for n in 1..=3 {
        fire_at(&*store, id(n), T0).await;
    }
    let p = policy(&[1000]);
    for at in [T0, T0 + 1, T0 + 2] {
        let got = store.lease(pull("g", "a", 1, at), &p).await.expect("lease");
        assert_eq!(got.len(), 1);
    }
    let now = T0 + 2 + LEASE_MS;
    let step = store.expire_leases(now, &p, 2).await.expect("expire");
    assert_eq!((step.retrying, step.more), (2, true));
    assert_eq!(store.queue_counts().await.expect("counts"), counts(2, 1, 0));
    let step = store.expire_leases(now, &p, 2).await.expect("expire");
    assert_eq!((step.retrying, step.more), (1, false));
    assert_eq!(store.queue_counts().await.expect("counts"), counts(3, 0, 0));
}

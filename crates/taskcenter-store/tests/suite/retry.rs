//! The retry ladder (by nack and by lease expiry), dead letters, and deletion.

use std::sync::Arc;

use taskcenter_core::TagFilter;
use taskcenter_store::{DeliveryState, Store};

use super::{LEASE_MS, T0, fire_at, id, policy, pull, put, refs, subscribe, task};

/// One task `a` fired once at T0 to group `g`; returns nothing, the message is ready.
async fn one_message(store: &dyn Store) {
    put(store, vec![task(1, "a", "x")]).await;
    subscribe(store, "g", "a").await;
    fire_at(store, id(1), T0).await;
}

/// Ladder `[1000, 2000]` by nack: attempts 1, 2, 3 at exactly the ladder's delays, then dead.
pub async fn retry_ladder_by_nack(store: Arc<dyn Store>) {
    one_message(&*store).await;
    let p = policy(&[1000, 2000]);
    let lease = |now| {
        let (store, p) = (store.clone(), p.clone());
        async move {
            store
                .lease(pull("g", "a", 10, now), &p)
                .await
                .expect("lease")
        }
    };
    let first = lease(T0).await;
    assert_eq!(first[0].attempt, 1);
    let msgid = first[0].msgid.clone();
    let n1 = T0 + 100;
    let nacked = store
        .nack("g", refs(vec![msgid.clone()]), None, n1, &p)
        .await
        .expect("nack");
    assert_eq!(nacked, vec![msgid.clone()]);
    assert_eq!(
        store
            .next_visible("g", &TagFilter::All)
            .await
            .expect("next"),
        Some(n1 + 1000)
    );
    assert!(lease(n1 + 999).await.is_empty());
    let second = lease(n1 + 1000).await;
    assert_eq!(
        (second[0].msgid.clone(), second[0].attempt),
        (msgid.clone(), 2)
    );
    let n2 = n1 + 1500;
    store
        .nack("g", refs(vec![msgid.clone()]), None, n2, &p)
        .await
        .expect("nack");
    assert!(lease(n2 + 1999).await.is_empty());
    let third = lease(n2 + 2000).await;
    assert_eq!(
        (third[0].msgid.clone(), third[0].attempt),
        (msgid.clone(), 3)
    );
    let n3 = n2 + 2100;
    let nacked = store
        .nack("g", refs(vec![msgid.clone()]), None, n3, &p)
        .await
        .expect("nack");
    assert_eq!(nacked, vec![msgid.clone()], "the last nack is reported too");
    assert!(lease(n3 + 1_000_000).await.is_empty());
    assert_eq!(
        store
            .next_visible("g", &TagFilter::All)
            .await
            .expect("next"),
        None
    );
    let dead = store.dead_letters(None, 10, 0).await.expect("dead");
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(
        (d.msgid.clone(), d.group.as_str(), d.attempts, d.died_at),
        (msgid, "g", 3, n3)
    );
    assert_eq!(
        (d.taskid, d.tag.as_str(), d.data.as_str()),
        (id(1), "a", "x")
    );
    assert_eq!(
        (d.fire_time, d.fire_id.clone()),
        (T0, format!("{}-{T0}", id(1)))
    );
    let counts = store.queue_counts().await.expect("counts");
    assert_eq!((counts.ready, counts.leased, counts.dead), (0, 0, 1));
    let history = store.fire_history(id(1), 10).await.expect("history");
    assert_eq!(
        (history[0].state, history[0].attempts),
        (DeliveryState::Dead, 3)
    );
}

/// Ladder `[1000, 2000]` by expiring leases: redelivered `delays[i-1]` after the i-th
/// lease ran out; the third lease's expiry makes a dead letter dated at that expiry.
pub async fn retry_ladder_by_lease_expiry(store: Arc<dyn Store>) {
    one_message(&*store).await;
    let p = policy(&[1000, 2000]);
    let lease = |now| {
        let (store, p) = (store.clone(), p.clone());
        async move {
            store
                .lease(pull("g", "a", 10, now), &p)
                .await
                .expect("lease")
        }
    };
    let first = lease(T0).await;
    let l1 = first[0].lease_until;
    assert_eq!((first[0].attempt, l1), (1, T0 + LEASE_MS));
    assert!(lease(l1 + 999).await.is_empty());
    assert_eq!(
        store
            .next_visible("g", &TagFilter::All)
            .await
            .expect("next"),
        Some(l1 + 1000)
    );
    let second = lease(l1 + 1000).await;
    let l2 = second[0].lease_until;
    assert_eq!((second[0].attempt, l2), (2, l1 + 1000 + LEASE_MS));
    assert!(lease(l2 + 1999).await.is_empty());
    let third = lease(l2 + 2000).await;
    let l3 = third[0].lease_until;
    assert_eq!(third[0].attempt, 3);
    assert_eq!(third[0].msgid, first[0].msgid);
    // The last lease's expiry is no wake-up: there is nothing left to deliver.
    assert_eq!(
        store
            .next_visible("g", &TagFilter::All)
            .await
            .expect("next"),
        None
    );
    assert!(lease(l3 + 1_000_000).await.is_empty());
    let dead = store.dead_letters(Some("g"), 10, 0).await.expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].attempts, dead[0].died_at), (3, l3));
    let counts = store.queue_counts().await.expect("counts");
    assert_eq!((counts.ready, counts.leased, counts.dead), (0, 0, 1));
}

/// With an empty ladder a message is delivered once.
pub async fn empty_ladder_delivers_once(store: Arc<dyn Store>) {
    one_message(&*store).await;
    let p = policy(&[]);
    let got = store.lease(pull("g", "a", 1, T0), &p).await.expect("lease");
    store
        .nack("g", refs(vec![got[0].msgid.clone()]), Some(0), T0 + 1, &p)
        .await
        .expect("nack");
    assert!(
        store
            .lease(pull("g", "a", 1, T0 + 10), &p)
            .await
            .expect("lease")
            .is_empty()
    );
    assert_eq!(
        store.dead_letters(None, 10, 0).await.expect("dead").len(),
        1
    );
}

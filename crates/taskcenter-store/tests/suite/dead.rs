//! Dead letters (list, requeue, purge) and what deleting a task does to its deliveries.

use std::sync::Arc;

use taskcenter_core::TagFilter;
use taskcenter_store::Store;

use super::{T0, fire_at, id, policy, pull, put, refs, subscribe, task};

/// Dead letters list newest first (by group, paged), requeue with a fresh budget, purge.
pub async fn dead_letters_list_requeue_purge(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x"), task(2, "a", "y")]).await;
    subscribe(&*store, "g1", "a").await;
    subscribe(&*store, "g2", "a").await;
    fire_at(&*store, id(1), T0).await;
    fire_at(&*store, id(2), T0 + 1).await;
    let p = policy(&[]);
    let mut now = T0 + 10;
    for group in ["g1", "g2"] {
        for d in store
            .lease(pull(group, "a", 10, now), &p)
            .await
            .expect("lease")
        {
            now += 10;
            store
                .nack(group, refs(vec![d.msgid]), None, now, &p)
                .await
                .expect("nack");
        }
    }
    let dead = store.dead_letters(None, 10, 0).await.expect("dead");
    assert_eq!(dead.len(), 4);
    let died: Vec<_> = dead.iter().map(|d| d.died_at).collect();
    assert!(
        died.windows(2).all(|w| w[0] > w[1]),
        "newest first: {died:?}"
    );
    let page = store.dead_letters(None, 2, 1).await.expect("page");
    assert_eq!(page, dead[1..3].to_vec());
    let g1 = store.dead_letters(Some("g1"), 10, 0).await.expect("g1");
    assert_eq!(g1.len(), 2);
    assert!(g1.iter().all(|d| d.group == "g1"));

    let back = g1[0].msgid.clone();
    let moved = store
        .requeue_dead(vec![back.clone(), "999999".into()], now + 100)
        .await
        .expect("requeue");
    assert_eq!(moved, vec![back.clone()]);
    assert_eq!(store.queue_counts().await.expect("counts").dead, 3);
    let again = store
        .lease(pull("g1", "a", 10, now + 100), &p)
        .await
        .expect("lease");
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].msgid.clone(), again[0].attempt), (back, 1));

    let one = store
        .purge_dead(Some(vec![dead[0].msgid.clone(), "nonsense".into()]))
        .await
        .expect("purge");
    assert_eq!(one, 1);
    assert_eq!(store.purge_dead(None).await.expect("purge all"), 2);
    assert!(
        store
            .dead_letters(None, 10, 0)
            .await
            .expect("dead")
            .is_empty()
    );
    assert_eq!(store.queue_counts().await.expect("counts").dead, 0);
}

/// Deleting a task cancels its unconsumed deliveries (ready, leased, unclaimed); acked
/// and dead ones stay, and its dead letters cannot be requeued.
pub async fn delete_cancels_deliveries(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x"), task(2, "lonely", "z")]).await;
    subscribe(&*store, "g", "a").await;
    let p = policy(&[1000]);
    for (i, at) in [T0, T0 + 1, T0 + 2, T0 + 3].into_iter().enumerate() {
        fire_at(&*store, id(1), at).await;
        let got = store.lease(pull("g", "a", 1, at), &p).await.expect("lease");
        match i {
            0 => drop(
                store
                    .ack("g", refs(vec![got[0].msgid.clone()]), at)
                    .await
                    .expect("ack"),
            ),
            1 => drop(
                store
                    .nack("g", refs(vec![got[0].msgid.clone()]), None, at, &p)
                    .await,
            ),
            2 => {} // stays leased
            _ => {
                let dead = store
                    .nack("g", refs(vec![got[0].msgid.clone()]), Some(0), at, &p)
                    .await;
                let again = store.lease(pull("g", "a", 1, at), &p).await.expect("lease");
                let msgid = dead.expect("nack")[0].clone();
                assert_eq!(again[0].msgid, msgid);
                store
                    .nack("g", refs(vec![msgid]), None, at, &p)
                    .await
                    .expect("to dead");
            }
        }
    }
    fire_at(&*store, id(1), T0 + 4).await; // published, never leased
    fire_at(&*store, id(2), T0 + 5).await; // unclaimed
    let before = store.queue_counts().await.expect("counts");
    assert_eq!(
        (before.ready, before.leased, before.dead, before.unclaimed),
        (2, 1, 1, 1)
    );

    let gone = store
        .delete_tasks(vec![id(1), id(2)])
        .await
        .expect("delete");
    assert_eq!(gone.len(), 2);
    let after = store.queue_counts().await.expect("counts");
    assert_eq!(
        (after.ready, after.leased, after.dead, after.unclaimed),
        (0, 0, 1, 0)
    );
    let late = T0 + 3_600_000;
    assert!(
        store
            .lease(pull("g", "*", 10, late), &p)
            .await
            .expect("lease")
            .is_empty()
    );
    assert_eq!(
        store
            .next_visible("g", &TagFilter::All)
            .await
            .expect("next"),
        None
    );
    subscribe(&*store, "g2", "lonely").await;
    assert!(
        store
            .lease(pull("g2", "*", 10, late), &p)
            .await
            .expect("lease")
            .is_empty()
    );
    let dead = store.dead_letters(None, 10, 0).await.expect("dead");
    assert_eq!(dead.len(), 1, "dead letters outlive their task");
    let moved = store
        .requeue_dead(vec![dead[0].msgid.clone()], late)
        .await
        .expect("requeue");
    assert!(moved.is_empty());
}

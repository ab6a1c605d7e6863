//! The relay's batches: one settle of many messages with every kind of answer, and the
//! outbox after the store was closed with leases unsettled, as after a crash.

use std::sync::Arc;

use taskcenter_store::{
    DeliveryState, OUTBOX_GROUP, OutboxOutcome, OutboxSettle, QueueCounts, Store,
};

use super::{Backend, LEASE_MS, T0, fire_at, id, policy, pull, put, subscribe, task};

fn sent(msgid: &str, attempt: i64, acked: bool) -> OutboxSettle {
    OutboxSettle {
        msgid: msgid.into(),
        attempt,
        outcome: OutboxOutcome::Sent {
            broker_id: format!("b-{msgid}"),
            acked,
        },
    }
}

/// One settle of a whole batch, in lease order, with confirmations of plain and
/// end-to-end-acked tasks, a confirmation that is itself the ack, a failed publish, a
/// refusal, and a settle naming an older attempt: each message ends as its answer says.
pub async fn outbox_settles_a_mixed_batch_at_once(store: Arc<dyn Store>) {
    let acked_task = |n, name| {
        let mut t = task(n, name, "x");
        t.ack = true;
        t.max_runtime = 30;
        t
    };
    put(
        &*store,
        vec![
            task(1, "plain", "x"),
            acked_task(2, "e2e"),
            acked_task(3, "hook"),
            task(4, "again", "x"),
            task(5, "dead", "x"),
            task(6, "stale", "x"),
        ],
    )
    .await;
    subscribe(&*store, OUTBOX_GROUP, "*").await;
    for n in 1..=6 {
        fire_at(&*store, id(n), T0).await;
    }
    let p = policy(&[1000]);
    let got = store
        .lease(pull(OUTBOX_GROUP, "*", 10, T0), &p)
        .await
        .expect("lease");
    assert_eq!(got.len(), 6);
    let by_task = |n: u32| {
        got.iter()
            .find(|d| d.taskid == id(n))
            .map(|d| d.msgid.clone())
            .expect("leased")
    };
    let settles = vec![
        sent(&by_task(1), 1, false),
        sent(&by_task(2), 1, false),
        sent(&by_task(3), 1, true),
        OutboxSettle {
            msgid: by_task(4),
            attempt: 1,
            outcome: OutboxOutcome::Again { at: T0 + 700 },
        },
        OutboxSettle {
            msgid: by_task(5),
            attempt: 1,
            outcome: OutboxOutcome::Dead,
        },
        sent(&by_task(6), 2, false),
    ];
    store
        .settle_outbox(OUTBOX_GROUP, settles, T0 + 5)
        .await
        .expect("settle");
    let last = |n: u32| {
        let store = Arc::clone(&store);
        async move {
            let h = store.fire_history(id(n), 10).await.expect("history");
            (h[0].state, h[0].broker_id.clone())
        }
    };
    let b = |n: u32| Some(format!("b-{}", by_task(n)));
    assert_eq!(
        last(1).await,
        (DeliveryState::Acked, b(1)),
        "plain task: done"
    );
    assert_eq!(
        last(2).await,
        (DeliveryState::Leased, b(2)),
        "end-to-end ack task: leased until its fire is acked"
    );
    assert_eq!(
        last(3).await,
        (DeliveryState::Acked, b(3)),
        "confirmed is acked"
    );
    assert_eq!(
        last(4).await,
        (DeliveryState::Published, None),
        "not confirmed"
    );
    assert_eq!(last(5).await.0, DeliveryState::Dead);
    assert_eq!(
        last(6).await,
        (DeliveryState::Leased, None),
        "a settle of another attempt changes nothing"
    );
    assert_eq!(
        store.queue_counts().await.expect("counts"),
        QueueCounts {
            ready: 1,
            leased: 2,
            dead: 1,
            ..QueueCounts::default()
        }
    );
    let again = store
        .lease(pull(OUTBOX_GROUP, "*", 10, T0 + 700), &p)
        .await
        .expect("lease");
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].taskid, again[0].attempt), (id(4), 1));
}

/// The store closed with a batch leased and half settled, as a relay killed mid-batch
/// leaves it: reopened, the settled message stays done and the rest is leased again (and
/// so published again). A stored lease holds it until the lease ran out, then it goes as
/// the next attempt; a lease held in memory died with the store, so it goes again at once
/// as the same delivery.
pub async fn outbox_lease_after_reopen(backend: &dyn Backend) {
    let p = policy(&[1000]);
    let (first, second) = {
        let store = backend.open().await;
        put(&*store, vec![task(1, "a", "x"), task(2, "b", "y")]).await;
        subscribe(&*store, OUTBOX_GROUP, "*").await;
        fire_at(&*store, id(1), T0).await;
        fire_at(&*store, id(2), T0).await;
        let got = store
            .lease(pull(OUTBOX_GROUP, "*", 10, T0), &p)
            .await
            .expect("lease");
        assert_eq!(got.len(), 2);
        let none = store
            .lease(pull(OUTBOX_GROUP, "*", 10, T0 + 1), &p)
            .await
            .expect("lease");
        assert!(none.is_empty(), "leased twice: {none:?}");
        store
            .settle_outbox(OUTBOX_GROUP, vec![sent(&got[0].msgid, 1, false)], T0 + 1)
            .await
            .expect("settle");
        (got[0].clone(), got[1].clone())
    };
    let store = backend.open().await;
    let again_at = if backend.outbox_leases_are_stored() {
        let early = store
            .lease(pull(OUTBOX_GROUP, "*", 10, T0 + LEASE_MS - 1), &p)
            .await
            .expect("lease");
        assert!(early.is_empty(), "still leased: {early:?}");
        T0 + LEASE_MS + 1000
    } else {
        T0 + 2
    };
    let again = store
        .lease(pull(OUTBOX_GROUP, "*", 10, again_at), &p)
        .await
        .expect("lease");
    assert_eq!(again.len(), 1);
    let attempt = if backend.outbox_leases_are_stored() {
        2
    } else {
        1
    };
    assert_eq!(
        (again[0].msgid.as_str(), again[0].attempt),
        (second.msgid.as_str(), attempt)
    );
    let h = store.fire_history(first.taskid, 10).await.expect("history");
    assert_eq!(h[0].state, DeliveryState::Acked);
}

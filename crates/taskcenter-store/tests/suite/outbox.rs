//! The outbox of an external publisher: the relay's leases settled from the broker's
//! answers, and end-to-end acks by fire id.

use std::sync::Arc;

use taskcenter_store::{
    DeliveryState, OUTBOX_GROUP, OutboxOutcome, OutboxSettle, QueueCounts, Store,
};

use super::{T0, fire_at, id, policy, pull, put, subscribe, task};

fn settle(msgid: &str, attempt: i64, outcome: OutboxOutcome) -> OutboxSettle {
    OutboxSettle {
        msgid: msgid.into(),
        attempt,
        outcome,
    }
}

/// A confirmed message is done and shows the broker's id; it is never leased again.
pub async fn outbox_sent_is_done_with_broker_id(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    subscribe(&*store, OUTBOX_GROUP, "*").await;
    fire_at(&*store, id(1), T0).await;
    let p = policy(&[1000]);
    let early = store.lease(pull(OUTBOX_GROUP, "*", 10, T0 - 1), &p).await;
    assert!(
        early.expect("lease").is_empty(),
        "never before its fire time"
    );
    let got = store
        .lease(pull(OUTBOX_GROUP, "*", 10, T0), &p)
        .await
        .expect("lease");
    assert_eq!(got.len(), 1);
    let sent = OutboxOutcome::Sent {
        broker_id: "stream-7".into(),
        acked: false,
    };
    store
        .settle_outbox(OUTBOX_GROUP, vec![settle(&got[0].msgid, 1, sent)], T0 + 5)
        .await
        .expect("settle");
    let history = store.fire_history(id(1), 10).await.expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].state, DeliveryState::Acked);
    assert_eq!(history[0].broker_id.as_deref(), Some("stream-7"));
    let later = store
        .lease(pull(OUTBOX_GROUP, "*", 10, T0 + 3_600_000), &p)
        .await
        .expect("lease");
    assert!(later.is_empty());
    assert_eq!(
        store.queue_counts().await.expect("counts"),
        QueueCounts::default()
    );
}

/// A broker that did not confirm gets the message again at the time given, and the
/// failed try does not count: the next lease is attempt 1 again, however often it fails.
pub async fn outbox_again_does_not_count_attempts(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    subscribe(&*store, OUTBOX_GROUP, "*").await;
    fire_at(&*store, id(1), T0).await;
    let p = policy(&[]);
    let mut at = T0;
    for round in 0..5 {
        let got = store
            .lease(pull(OUTBOX_GROUP, "*", 10, at), &p)
            .await
            .expect("lease");
        assert_eq!(got.len(), 1, "round {round}");
        assert_eq!(got[0].attempt, 1, "a failed publish is not an attempt");
        let again = OutboxOutcome::Again { at: at + 500 };
        store
            .settle_outbox(OUTBOX_GROUP, vec![settle(&got[0].msgid, 1, again)], at)
            .await
            .expect("settle");
        let none = store.lease(pull(OUTBOX_GROUP, "*", 10, at + 499), &p).await;
        assert!(none.expect("lease").is_empty(), "not before the backoff");
        at += 500;
    }
    let history = store.fire_history(id(1), 10).await.expect("history");
    assert_eq!(history[0].state, DeliveryState::Published);
    assert_eq!(history[0].broker_id, None);
}

/// A refused message is a dead letter at once; a settle naming an older lease is ignored.
pub async fn outbox_dead_and_stale_settles(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x"), task(2, "b", "y")]).await;
    subscribe(&*store, OUTBOX_GROUP, "*").await;
    fire_at(&*store, id(1), T0).await;
    fire_at(&*store, id(2), T0).await;
    let p = policy(&[1000]);
    let got = store
        .lease(pull(OUTBOX_GROUP, "*", 10, T0), &p)
        .await
        .expect("lease");
    assert_eq!(got.len(), 2);
    let (a, b) = (&got[0], &got[1]);
    store
        .settle_outbox(
            OUTBOX_GROUP,
            vec![
                settle(&a.msgid, 1, OutboxOutcome::Dead),
                settle(&b.msgid, 2, OutboxOutcome::Dead),
            ],
            T0 + 1,
        )
        .await
        .expect("settle");
    let dead = store
        .dead_letters(Some(OUTBOX_GROUP), 10, 0)
        .await
        .expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].msgid, a.msgid);
    let counts = store.queue_counts().await.expect("counts");
    assert_eq!((counts.dead, counts.leased), (1, 1));
}

/// An acked-end-to-end task's message stays leased once sent, until its fire is acked by
/// fire id; without the ack, the lease runs out and it is published again as attempt 2.
pub async fn outbox_ack_by_fire_id(store: Arc<dyn Store>) {
    let acked_task = |n, name| {
        let mut t = task(n, name, "x");
        t.ack = true;
        t.max_runtime = 30;
        t
    };
    put(&*store, vec![acked_task(1, "a"), acked_task(2, "b")]).await;
    subscribe(&*store, OUTBOX_GROUP, "*").await;
    let f1 = fire_at(&*store, id(1), T0).await;
    let f2 = fire_at(&*store, id(2), T0).await;
    let p = policy(&[1000]);
    let got = store
        .lease(pull(OUTBOX_GROUP, "*", 10, T0), &p)
        .await
        .expect("lease");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].lease_until, T0 + 30_000, "the lease is max_runtime");
    let sent: Vec<_> = got
        .iter()
        .map(|d| {
            let outcome = OutboxOutcome::Sent {
                broker_id: format!("b-{}", d.fire_id),
                acked: false,
            };
            settle(&d.msgid, 1, outcome)
        })
        .collect();
    store
        .settle_outbox(OUTBOX_GROUP, sent, T0 + 1)
        .await
        .expect("settle");
    let acked = store
        .ack_fires(
            OUTBOX_GROUP,
            vec![
                f1[0].fire_id.clone(),
                "bogus".into(),
                format!("{}-1", id(9)),
            ],
            T0 + 2,
        )
        .await
        .expect("ack");
    assert_eq!(acked, vec![f1[0].fire_id.clone()]);
    let h1 = store.fire_history(id(1), 10).await.expect("history");
    assert_eq!(h1[0].state, DeliveryState::Acked);
    let h2 = store.fire_history(id(2), 10).await.expect("history");
    assert_eq!(h2[0].state, DeliveryState::Leased);
    assert_eq!(h2[0].broker_id, Some(format!("b-{}", f2[0].fire_id)));
    let again = store
        .lease(pull(OUTBOX_GROUP, "*", 10, T0 + 31_000), &p)
        .await
        .expect("lease");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].fire_id, f2[0].fire_id);
    assert_eq!(again[0].attempt, 2);
}

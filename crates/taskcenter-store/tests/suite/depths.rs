//! Queue depth per group and tag: ready, leased, retrying with the next attempt, dead.

use std::sync::Arc;

use taskcenter_store::{QueueDepth, Store};

use super::{T0, fire_at, id, policy, pull, put, refs, subscribe, task};

fn depth(group: &str, tag: &str) -> QueueDepth {
    QueueDepth {
        group: group.into(),
        tag: tag.into(),
        ..QueueDepth::default()
    }
}

/// Each group's messages per tag by state; a retry counts as ready once it is due.
pub async fn queue_depths_per_group_and_tag(store: Arc<dyn Store>) {
    put(
        &*store,
        vec![
            task(1, "a", "x"),
            task(2, "a", "y"),
            task(3, "b", "z"),
            task(4, "c", "w"),
        ],
    )
    .await;
    subscribe(&*store, "g1", "*").await;
    subscribe(&*store, "g2", "a").await;
    fire_at(&*store, id(1), T0).await;
    fire_at(&*store, id(2), T0 + 1).await;
    fire_at(&*store, id(3), T0 + 2).await;
    let p = policy(&[1_000]);

    // g1: the first `a` fails once and waits for its retry, `b` is held by a consumer.
    let first = store
        .lease(pull("g1", "a", 1, T0 + 10), &p)
        .await
        .expect("lease");
    assert_eq!(first.len(), 1);
    let nacked = store
        .nack("g1", refs(vec![first[0].msgid.clone()]), None, T0 + 20, &p)
        .await
        .expect("nack");
    assert_eq!(nacked.len(), 1);
    let held = store
        .lease(pull("g1", "b", 1, T0 + 30), &p)
        .await
        .expect("lease");
    assert_eq!(held.len(), 1);

    // g2: both `a` messages fail twice and die.
    let mut now = T0 + 40;
    for _ in 0..2 {
        let leased = store
            .lease(pull("g2", "a", 10, now), &p)
            .await
            .expect("lease");
        assert_eq!(leased.len(), 2);
        let ids = leased.into_iter().map(|d| d.msgid).collect();
        store
            .nack("g2", refs(ids), Some(0), now, &p)
            .await
            .expect("nack");
        now += 10;
    }

    let depths = store.queue_depths(T0 + 100).await.expect("depths");
    assert_eq!(
        depths,
        vec![
            QueueDepth {
                ready: 1,
                retrying: 1,
                next_retry_ms: Some(T0 + 1_020),
                ..depth("g1", "a")
            },
            QueueDepth {
                leased: 1,
                ..depth("g1", "b")
            },
            QueueDepth {
                dead: 2,
                ..depth("g2", "a")
            },
        ]
    );

    // Once the retry is due it counts as ready; acked messages leave the figures.
    store
        .ack("g1", refs(vec![held[0].msgid.clone()]), T0 + 200)
        .await
        .expect("ack");
    let later = store.queue_depths(T0 + 2_000).await.expect("depths");
    assert_eq!(
        later,
        vec![
            QueueDepth {
                ready: 2,
                ..depth("g1", "a")
            },
            QueueDepth {
                dead: 2,
                ..depth("g2", "a")
            },
        ]
    );
}

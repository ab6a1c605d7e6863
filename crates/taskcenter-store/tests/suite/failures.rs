//! The reason a consumer gives for a failed delivery, kept into history and dead letters.

use std::sync::Arc;

use taskcenter_store::Store;

use super::{T0, fire_at, id, policy, pull, put, refs, subscribe, task};

/// The last reason given stays with the message: in its fire's history while it retries,
/// and in the dead letters once it died; other groups' messages keep none.
pub async fn failure_reasons_reach_history_and_dead_letters(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    subscribe(&*store, "g1", "a").await;
    subscribe(&*store, "g2", "a").await;
    fire_at(&*store, id(1), T0).await;
    let p = policy(&[0]);
    let mut now = T0 + 10;
    for reason in ["timeout calling the API", "HTTP 503 from billing"] {
        let leased = store
            .lease(pull("g1", "a", 1, now), &p)
            .await
            .expect("lease");
        assert_eq!(leased.len(), 1);
        let msgid = leased[0].msgid.clone();
        let back = store
            .nack("g1", refs(vec![msgid.clone()]), Some(0), now, &p)
            .await
            .expect("nack");
        store.note_failures("g1", back, reason).await.expect("note");
        let history = store.fire_history(id(1), 10).await.expect("history");
        let g1 = history
            .iter()
            .find(|r| r.group.as_deref() == Some("g1"))
            .expect("g1's record");
        assert_eq!(g1.reason.as_deref(), Some(reason));
        now += 10;
    }
    // A note naming another group's message changes nothing there.
    let other = store
        .lease(pull("g2", "a", 1, now), &p)
        .await
        .expect("lease");
    store
        .note_failures("g1", vec![other[0].msgid.clone()], "wrong group")
        .await
        .expect("note");
    let dead = store.dead_letters(None, 10, 0).await.expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].group, "g1");
    assert_eq!(dead[0].reason.as_deref(), Some("HTTP 503 from billing"));
    let history = store.fire_history(id(1), 10).await.expect("history");
    let g2 = history
        .iter()
        .find(|r| r.group.as_deref() == Some("g2"))
        .expect("g2's record");
    assert_eq!(g2.reason, None);
}

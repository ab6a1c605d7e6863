//! Acks and nacks tied to the lease they come from: after a lease ran out and another
//! consumer got the next delivery, both consumers' acks succeed, and the first one's
//! nack cannot reschedule the second one's delivery.

use std::sync::Arc;

use taskcenter_store::{DeliveryState, QueueCounts, Store};

use super::{LEASE_MS, T0, fire_at, id, lease_ref, policy, pull, put, refs, subscribe, task};

/// One message of task 1 leased twice: to A at T0 (attempt 1), and, once that lease ran
/// out and its retry was due, to B (attempt 2). Returns the msgid and B's lease time.
async fn leased_twice(store: &dyn Store, ladder: &[i64]) -> (String, i64) {
    put(store, vec![task(1, "a", "x")]).await;
    subscribe(store, "g", "a").await;
    fire_at(store, id(1), T0).await;
    let p = policy(ladder);
    let a = store.lease(pull("g", "a", 1, T0), &p).await.expect("lease");
    let b_at = T0 + LEASE_MS + ladder[0];
    let b = store
        .lease(pull("g", "a", 1, b_at), &p)
        .await
        .expect("lease");
    assert_eq!((a[0].attempt, b[0].attempt), (1, 2));
    assert_eq!(a[0].msgid, b[0].msgid);
    (b[0].msgid.clone(), b_at)
}

async fn acked_attempt(store: &dyn Store) -> (DeliveryState, Option<i64>) {
    let history = store.fire_history(id(1), 10).await.expect("history");
    (history[0].state, history[0].acked_attempt)
}

/// A's late ack acks the message (the work is done) and B's ack succeeds too; history
/// says attempt 1 acked it.
pub async fn late_ack_and_current_ack_both_succeed(store: Arc<dyn Store>) {
    let (msgid, b_at) = leased_twice(&*store, &[1000, 2000]).await;
    let late = store
        .ack("g", vec![lease_ref(&msgid, 1)], b_at + 10)
        .await
        .expect("ack");
    assert_eq!(late, vec![msgid.clone()]);
    assert_eq!(
        acked_attempt(&*store).await,
        (DeliveryState::Acked, Some(1))
    );
    let current = store
        .ack("g", vec![lease_ref(&msgid, 2)], b_at + 20)
        .await
        .expect("ack");
    assert_eq!(current, vec![msgid.clone()], "already acked: success");
    let old_client = store
        .ack("g", refs(vec![msgid.clone()]), b_at + 30)
        .await
        .expect("ack");
    assert_eq!(old_client, vec![msgid]);
    assert_eq!(
        acked_attempt(&*store).await,
        (DeliveryState::Acked, Some(1))
    );
    assert_eq!(
        store.queue_counts().await.expect("counts"),
        QueueCounts::default()
    );
}

/// Without an attempt an ack is the current delivery's; a delivery not made yet cannot ack.
pub async fn ack_without_attempt_is_the_current_delivery(store: Arc<dyn Store>) {
    let (msgid, b_at) = leased_twice(&*store, &[1000, 2000]).await;
    let future = store
        .ack("g", vec![lease_ref(&msgid, 3)], b_at + 10)
        .await
        .expect("ack");
    assert!(future.is_empty(), "attempt 3 was never delivered");
    let acked = store
        .ack("g", refs(vec![msgid.clone()]), b_at + 20)
        .await
        .expect("ack");
    assert_eq!(acked, vec![msgid]);
    assert_eq!(
        acked_attempt(&*store).await,
        (DeliveryState::Acked, Some(2))
    );
}

/// A's nack after its lease ran out changes nothing: B keeps its lease; B's own nack
/// gives the message back.
pub async fn stale_nack_leaves_the_new_lease_alone(store: Arc<dyn Store>) {
    let ladder = [1000, 2000];
    let (msgid, b_at) = leased_twice(&*store, &ladder).await;
    let p = policy(&ladder);
    let stale = store
        .nack("g", vec![lease_ref(&msgid, 1)], Some(0), b_at + 10, &p)
        .await
        .expect("nack");
    assert!(stale.is_empty(), "a stale lease gives nothing back");
    let got = store
        .lease(pull("g", "a", 1, b_at + 20), &p)
        .await
        .expect("lease");
    assert!(got.is_empty(), "B still holds the message");
    let history = store.fire_history(id(1), 10).await.expect("history");
    assert_eq!(
        (history[0].state, history[0].attempts),
        (DeliveryState::Leased, 2)
    );
    let current = store
        .nack("g", vec![lease_ref(&msgid, 2)], Some(0), b_at + 30, &p)
        .await
        .expect("nack");
    assert_eq!(current, vec![msgid.clone()]);
    let again = store
        .lease(pull("g", "a", 1, b_at + 30), &p)
        .await
        .expect("lease");
    assert_eq!(
        (again[0].msgid.as_str(), again[0].attempt),
        (msgid.as_str(), 3)
    );
}

/// A consumer whose handler still runs holds its message longer: the extended lease keeps
/// it from the sweeper and from other consumers, and its retry comes as much later. Only
/// the current delivery, still leased, can be extended.
pub async fn extend_holds_a_running_message(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    subscribe(&*store, "g", "a").await;
    fire_at(&*store, id(1), T0).await;
    let p = policy(&[1000, 2000]);
    let got = store.lease(pull("g", "a", 1, T0), &p).await.expect("lease");
    let msgid = got[0].msgid.clone();
    assert_eq!(got[0].lease_until, T0 + LEASE_MS);

    let wrong = store
        .extend_leases("g", vec![lease_ref(&msgid, 2)], T0 + 9_000, T0 + 4_000)
        .await
        .expect("extend");
    assert!(wrong.is_empty(), "attempt 2 was never delivered");
    let other_group = store
        .extend_leases("h", refs(vec![msgid.clone()]), T0 + 9_000, T0 + 4_000)
        .await
        .expect("extend");
    assert!(other_group.is_empty());
    let held = store
        .extend_leases("g", vec![lease_ref(&msgid, 1)], T0 + 9_000, T0 + 4_000)
        .await
        .expect("extend");
    assert_eq!(held, vec![msgid.clone()]);
    // Never back: a shorter extension leaves the longer lease.
    let again = store
        .extend_leases("g", refs(vec![msgid.clone()]), T0 + 6_000, T0 + 4_500)
        .await
        .expect("extend");
    assert_eq!(again, vec![msgid.clone()]);

    // Where the old lease and its 1 s retry would have ended, nothing moves.
    store
        .expire_leases(T0 + 7_000, &p, 100)
        .await
        .expect("expire");
    let early = store
        .lease(pull("g", "a", 1, T0 + 7_000), &p)
        .await
        .expect("lease");
    assert!(early.is_empty(), "still held: {early:?}");
    // The retry comes 1 s after the extended lease.
    let before = store
        .lease(pull("g", "a", 1, T0 + 9_999), &p)
        .await
        .expect("lease");
    assert!(before.is_empty(), "{before:?}");
    let retry = store
        .lease(pull("g", "a", 1, T0 + 10_000), &p)
        .await
        .expect("lease");
    assert_eq!(
        (retry[0].msgid.as_str(), retry[0].attempt),
        (msgid.as_str(), 2)
    );

    // Attempt 1's lease is gone: it cannot hold the message from attempt 2's consumer.
    let stale = store
        .extend_leases("g", vec![lease_ref(&msgid, 1)], T0 + 30_000, T0 + 10_001)
        .await
        .expect("extend");
    assert!(stale.is_empty());
    // A lease that ran out cannot be taken back.
    let late = store
        .extend_leases("g", refs(vec![msgid]), T0 + 30_000, T0 + 10_000 + LEASE_MS)
        .await
        .expect("extend");
    assert!(late.is_empty());
}

/// An `ack` task's lease is its `max_runtime`: an extension leaves it as it is.
pub async fn extend_leaves_an_ack_task_s_lease_alone(store: Arc<dyn Store>) {
    let mut acked = task(1, "a", "x");
    acked.ack = true;
    acked.max_runtime = 7;
    put(&*store, vec![acked]).await;
    subscribe(&*store, "g", "a").await;
    fire_at(&*store, id(1), T0).await;
    let p = policy(&[1000]);
    let got = store.lease(pull("g", "a", 1, T0), &p).await.expect("lease");
    let held = store
        .extend_leases(
            "g",
            refs(vec![got[0].msgid.clone()]),
            T0 + 60_000,
            T0 + 1_000,
        )
        .await
        .expect("extend");
    assert!(held.is_empty());
    let retry = store
        .lease(pull("g", "a", 1, T0 + 8_000), &p)
        .await
        .expect("lease");
    assert_eq!(retry[0].attempt, 2);
}

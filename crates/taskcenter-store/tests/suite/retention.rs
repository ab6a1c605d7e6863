//! Retention: what `purge_history` forgets and what it must keep.

use std::sync::Arc;

use taskcenter_core::TaskStatus;
use taskcenter_store::{FireCommit, FireOutcome, PurgeReport, Store};

use super::{T0, fire_at, id, policy, pull, put, refs, subscribe, task};

/// Fires task `n` once at `at` and finishes it (a once task's only fire).
async fn fire_last(store: &dyn Store, n: u32, at: i64) {
    let t = store.get_task(id(n)).await.expect("get").expect("task");
    let commit = FireCommit {
        task_id: id(n),
        expected_version: t.version,
        fire_times: vec![at],
        next_fire_ms: None,
        fire_count: t.fire_count + 1,
        status: TaskStatus::Finished,
        now_ms: at,
    };
    let out = store.commit_fires(vec![commit]).await.expect("commit");
    assert!(
        matches!(out[..], [FireOutcome::Committed { .. }]),
        "{out:?}"
    );
}

/// Leases everything visible at `now` for group `g` and acks the messages of `ack`.
async fn consume(store: &dyn Store, now: i64, ack: &[u32]) {
    let got = store
        .lease(pull("g", "*", 100, now), &policy(&[1_000; 5]))
        .await
        .expect("lease");
    let msgids: Vec<String> = got
        .iter()
        .filter(|d| ack.iter().any(|n| d.taskid == id(*n)))
        .map(|d| d.msgid.clone())
        .collect();
    store.ack("g", refs(msgids), now).await.expect("ack");
}

/// Sweeps to the end, a step of `step` fires at a time.
async fn sweep(store: &dyn Store, before: i64, step: usize) -> PurgeReport {
    let mut total = PurgeReport::default();
    for _ in 0..1000 {
        total.add(store.purge_history(before, step).await.expect("purge"));
        if !total.more {
            return total;
        }
    }
    panic!("the sweep never ended");
}

async fn history_len(store: &dyn Store, n: u32) -> usize {
    store.fire_history(id(n), 100).await.expect("history").len()
}

/// Acked and cancelled history older than the cutoff goes, with the finished or deleted
/// tasks it leaves empty; a fire with a message still queued, a newer fire, and the
/// schedule of a live task stay.
pub async fn purge_forgets_only_finished_history(store: Arc<dyn Store>) {
    subscribe(&*store, "g", "*").await;
    put(
        &*store,
        (1..=5).map(|n| task(n, &format!("t{n}"), "x")).collect(),
    )
    .await;
    fire_last(&*store, 1, T0 + 100).await; // 1: finished, acked: forgotten with its task
    fire_at(&*store, id(2), T0 + 100).await; // 2: scheduled, acked twice: task stays
    fire_at(&*store, id(3), T0 + 100).await; // 3: message never acked: stays
    fire_at(&*store, id(4), T0 + 100).await; // 4: deleted before consumption: forgotten
    consume(&*store, T0 + 200, &[1, 2]).await;
    fire_at(&*store, id(2), T0 + 300).await;
    consume(&*store, T0 + 400, &[2]).await;
    store.delete_tasks(vec![id(4)]).await.expect("delete");
    fire_last(&*store, 5, T0 + 10_000).await; // 5: after the cutoff: stays
    consume(&*store, T0 + 10_000, &[5]).await;

    assert_eq!(
        sweep(&*store, T0, 10).await,
        PurgeReport::default(),
        "nothing is older than the cutoff"
    );
    let report = sweep(&*store, T0 + 5_000, 1).await;
    assert_eq!(
        (report.fires, report.deliveries, report.tasks),
        (4, 4, 2),
        "fires of 1, 2 (two) and 4; tasks 1 and 4"
    );
    assert_eq!(store.get_task(id(1)).await.expect("get"), None);
    assert_eq!(history_len(&*store, 1).await, 0);
    let live = store.get_task(id(2)).await.expect("get").expect("2 stays");
    assert_eq!((live.status, live.fire_count), (TaskStatus::Scheduled, 2));
    assert_eq!(history_len(&*store, 2).await, 0);
    assert_eq!(history_len(&*store, 3).await, 1, "an unacked message stays");
    assert_eq!(history_len(&*store, 5).await, 1, "a newer fire stays");
    assert!(store.get_task(id(5)).await.expect("get").is_some());
    let again = store
        .lease(pull("g", "*", 100, T0 + 60_000), &policy(&[1_000; 5]))
        .await
        .expect("lease");
    assert_eq!(
        again.iter().map(|d| d.taskid).collect::<Vec<_>>(),
        vec![id(3)],
        "task 3's message is still in the queue"
    );
    assert_eq!(
        sweep(&*store, T0 + 5_000, 10).await,
        PurgeReport::default(),
        "a second sweep finds nothing more"
    );
}

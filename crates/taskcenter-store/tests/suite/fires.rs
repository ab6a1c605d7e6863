//! Committing fires: version checks, the unique fire key, schedule advance, history.

use std::sync::Arc;

use taskcenter_core::TaskStatus;
use taskcenter_store::{DeliveryState, FireCommit, FireOutcome, FireRef, Store};

use super::{T0, fire_at, id, put, subscribe, task};

fn commit(n: u32, version: i64, times: &[i64], next: Option<i64>, count: i64) -> FireCommit {
    FireCommit {
        task_id: id(n),
        expected_version: version,
        fire_times: times.to_vec(),
        next_fire_ms: next,
        fire_count: count,
        status: if next.is_some() {
            TaskStatus::Scheduled
        } else {
            TaskStatus::Finished
        },
        now_ms: times.last().copied().unwrap_or(T0) + 5,
    }
}

fn fire_ref(n: u32, at: i64) -> FireRef {
    FireRef {
        fire_id: format!("{}-{at}", id(n)),
        fire_time: at,
    }
}

/// A commit creates its fires and advances the task's schedule and version.
pub async fn commit_fires_advances_task(store: Arc<dyn Store>) {
    let mut t = task(1, "a", "x");
    t.next_fire_ms = Some(T0 + 1000);
    put(&*store, vec![t]).await;
    let out = store
        .commit_fires(vec![commit(1, 0, &[T0 + 1000], Some(T0 + 2000), 1)])
        .await
        .expect("commit");
    assert_eq!(
        out,
        vec![FireOutcome::Committed {
            new_version: 1,
            fires: vec![fire_ref(1, T0 + 1000)],
        }]
    );
    let stored = store.get_task(id(1)).await.expect("get").expect("exists");
    assert_eq!(
        (
            stored.next_fire_ms,
            stored.fire_count,
            stored.version,
            stored.status
        ),
        (Some(T0 + 2000), 1, 1, TaskStatus::Scheduled)
    );
    assert!(
        store
            .due_tasks(T0 + 1500, 10)
            .await
            .expect("due")
            .is_empty()
    );
    // The last fire finishes it.
    let out = store
        .commit_fires(vec![commit(1, 1, &[T0 + 2000], None, 2)])
        .await
        .expect("commit");
    assert!(matches!(
        out[0],
        FireOutcome::Committed { new_version: 2, .. }
    ));
    let stored = store.get_task(id(1)).await.expect("get").expect("exists");
    assert_eq!(
        (stored.status, stored.next_fire_ms),
        (TaskStatus::Finished, None)
    );
    assert_eq!(store.task_counts().await.expect("counts"), (0, 0, 1));
}

/// A commit against a changed, deleted or unknown task writes nothing; the others of the
/// same call still commit.
pub async fn commit_fires_rejects_stale(store: Arc<dyn Store>) {
    put(
        &*store,
        vec![task(1, "a", "1"), task(2, "a", "2"), task(3, "a", "3")],
    )
    .await;
    store.delete_tasks(vec![id(3)]).await.expect("delete");
    let out = store
        .commit_fires(vec![
            commit(1, 5, &[T0], Some(T0 + 1000), 1),
            commit(2, 0, &[T0], Some(T0 + 1000), 1),
            commit(3, 0, &[T0], Some(T0 + 1000), 1),
            commit(9, 0, &[T0], Some(T0 + 1000), 1),
        ])
        .await
        .expect("commit");
    assert_eq!(out[0], FireOutcome::Stale);
    assert!(matches!(
        out[1],
        FireOutcome::Committed { new_version: 1, .. }
    ));
    assert_eq!(out[2], FireOutcome::Stale);
    assert_eq!(out[3], FireOutcome::Stale);
    let untouched = store.get_task(id(1)).await.expect("get").expect("exists");
    assert_eq!((untouched.version, untouched.fire_count), (0, 0));
    assert!(
        store
            .fire_history(id(1), 10)
            .await
            .expect("history")
            .is_empty()
    );
    assert_eq!(
        store.fire_history(id(2), 10).await.expect("history").len(),
        1
    );
}

/// A fire time already fired is skipped, not an error, and makes no second delivery.
pub async fn commit_fires_skips_fired_times(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    subscribe(&*store, "g", "a").await;
    store
        .commit_fires(vec![commit(1, 0, &[T0], Some(T0 + 1000), 1)])
        .await
        .expect("commit");
    let out = store
        .commit_fires(vec![commit(1, 1, &[T0, T0 + 1000], Some(T0 + 2000), 2)])
        .await
        .expect("commit");
    assert_eq!(
        out,
        vec![FireOutcome::Committed {
            new_version: 2,
            fires: vec![fire_ref(1, T0 + 1000)],
        }]
    );
    let history = store.fire_history(id(1), 10).await.expect("history");
    let times: Vec<_> = history.iter().map(|r| r.fire_time).collect();
    assert_eq!(times, vec![T0 + 1000, T0]);
    let counts = store.queue_counts().await.expect("counts");
    assert_eq!(counts.ready, 2);
}

/// History: newest first, one record per group, unclaimed fires with no group.
pub async fn fire_history_per_group(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    fire_at(&*store, id(1), T0).await;
    let history = store.fire_history(id(1), 10).await.expect("history");
    assert_eq!(history.len(), 1);
    let first = &history[0];
    assert_eq!(first.fire_id, format!("{}-{T0}", id(1)));
    assert_eq!((first.fire_time, first.published_at), (T0, T0));
    assert_eq!(
        (first.group.as_deref(), first.msgid.as_deref()),
        (None, None)
    );
    assert_eq!((first.state, first.attempts), (DeliveryState::Unclaimed, 0));

    subscribe(&*store, "g1", "a").await;
    subscribe(&*store, "g2", "*").await;
    fire_at(&*store, id(1), T0 + 1000).await;
    let history = store.fire_history(id(1), 10).await.expect("history");
    assert_eq!(history.len(), 3);
    let mut newest: Vec<_> = history[..2]
        .iter()
        .map(|r| (r.fire_time, r.group.clone(), r.state, r.msgid.is_some()))
        .collect();
    newest.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        newest,
        vec![
            (T0 + 1000, Some("g1".into()), DeliveryState::Published, true),
            (T0 + 1000, Some("g2".into()), DeliveryState::Published, true),
        ]
    );
    // The old fire went to the first subscriber.
    assert_eq!(history[2].group.as_deref(), Some("g1"));
    assert_eq!(
        store.fire_history(id(1), 1).await.expect("history").len(),
        1
    );
    assert!(
        store
            .fire_history(id(9), 10)
            .await
            .expect("unknown")
            .is_empty()
    );
}

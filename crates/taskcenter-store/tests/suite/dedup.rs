//! Dedup of `(name, data)` against live tasks.

use std::sync::Arc;

use taskcenter_core::TaskStatus;
use taskcenter_store::{FireCommit, InsertOutcome, Store};

use super::{T0, all_tasks, id, put, task, with_status};

/// With dedup a live `(name, data)` twin answers with its id; without, a copy is stored.
pub async fn dedup_returns_live_task(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "x")]).await;
    let out = store
        .insert_tasks(
            vec![task(2, "a", "x"), task(3, "a", "y"), task(4, "b", "x")],
            true,
        )
        .await
        .expect("insert");
    assert_eq!(
        out,
        vec![
            InsertOutcome::Existing(id(1)),
            InsertOutcome::Created(id(3)),
            InsertOutcome::Created(id(4)),
        ]
    );
    assert_eq!(store.get_task(id(2)).await.expect("get"), None);
    let out = store
        .insert_tasks(vec![task(5, "a", "x")], false)
        .await
        .expect("insert");
    assert_eq!(out, vec![InsertOutcome::Created(id(5))]);
    assert_eq!(all_tasks(&*store).await.len(), 4);
}

/// An earlier task of the same batch counts as live.
pub async fn dedup_within_batch(store: Arc<dyn Store>) {
    let out = store
        .insert_tasks(
            vec![task(1, "a", "x"), task(2, "a", "x"), task(3, "b", "x")],
            true,
        )
        .await
        .expect("insert");
    assert_eq!(
        out,
        vec![
            InsertOutcome::Created(id(1)),
            InsertOutcome::Existing(id(1)),
            InsertOutcome::Created(id(3)),
        ]
    );
}

/// Paused tasks are live; finished (stored so, or by firing, or by replace) and deleted
/// ones are not.
pub async fn dedup_ignores_finished_and_deleted(store: Arc<dyn Store>) {
    put(
        &*store,
        vec![
            with_status(task(1, "done", "d"), TaskStatus::Finished),
            task(2, "gone", "g"),
            with_status(task(3, "paused", "p"), TaskStatus::Paused),
            task(4, "fired", "f"),
            task(5, "replaced", "r"),
        ],
    )
    .await;
    store.delete_tasks(vec![id(2)]).await.expect("delete");
    let commit = FireCommit {
        task_id: id(4),
        expected_version: 0,
        fire_times: vec![T0],
        next_fire_ms: None,
        fire_count: 1,
        status: TaskStatus::Finished,
        now_ms: T0,
    };
    store.commit_fires(vec![commit]).await.expect("commit");
    let finished = with_status(task(5, "replaced", "r"), TaskStatus::Finished);
    assert!(store.replace_task(finished, 0).await.expect("replace"));
    let out = store
        .insert_tasks(
            vec![
                task(11, "done", "d"),
                task(12, "gone", "g"),
                task(13, "paused", "p"),
                task(14, "fired", "f"),
                task(15, "replaced", "r"),
            ],
            true,
        )
        .await
        .expect("insert");
    assert_eq!(
        out,
        vec![
            InsertOutcome::Created(id(11)),
            InsertOutcome::Created(id(12)),
            InsertOutcome::Existing(id(3)),
            InsertOutcome::Created(id(14)),
            InsertOutcome::Created(id(15)),
        ]
    );
}

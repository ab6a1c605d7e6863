//! Task storage: insert, get, list, dedup, compare-and-set, delete, due, counts.

use std::sync::Arc;

use taskcenter_core::{MisfirePolicy, TaskKind, TaskStatus};
use taskcenter_store::{InsertOutcome, Store, TaskFilter, TaskOrder};

use super::{T0, all_tasks, fire_at, id, put, task, with_status};

/// Every field survives a round trip; unknown ids read as `None`.
pub async fn insert_and_get(store: Arc<dyn Store>) {
    let plain = task(1, "plain", "");
    let mut cron = task(2, "cron.job", "{\"x\": \"ü\"}");
    cron.kind = TaskKind::Cron;
    cron.crontab = "0 3 * * *".into();
    cron.loop_count = 7;
    cron.start_time = 1_700_000_100;
    cron.end_time = 1_800_000_000;
    cron.max_runtime = 120;
    cron.ack = true;
    cron.timezone = "Europe/Berlin".into();
    cron.misfire = MisfirePolicy::All;
    cron.next_fire_ms = None;
    cron.status = TaskStatus::Paused;
    cron.fire_count = 3;
    cron.version = 9;
    let out = store
        .insert_tasks(vec![plain.clone(), cron.clone()], false)
        .await
        .expect("insert");
    assert_eq!(
        out,
        vec![
            InsertOutcome::Created(plain.id),
            InsertOutcome::Created(cron.id)
        ]
    );
    assert_eq!(store.get_task(plain.id).await.expect("get"), Some(plain));
    assert_eq!(store.get_task(cron.id).await.expect("get"), Some(cron));
    assert_eq!(store.get_task(id(99)).await.expect("get"), None);
    assert_eq!(
        store.insert_tasks(vec![], true).await.expect("empty"),
        vec![]
    );
}

/// Name and status filters, newest (last added) first, limit and offset.
pub async fn list_filters_and_orders(store: Arc<dyn Store>) {
    put(
        &*store,
        vec![
            task(1, "a", "1"),
            task(2, "b", "2"),
            task(3, "a", "3"),
            with_status(task(4, "a", "4"), TaskStatus::Paused),
        ],
    )
    .await;
    let ids = |tasks: Vec<taskcenter_core::Task>| tasks.iter().map(|t| t.id).collect::<Vec<_>>();
    let by_name = TaskFilter {
        name: Some("a".into()),
        limit: 10,
        ..TaskFilter::default()
    };
    let got = store.list_tasks(by_name.clone()).await.expect("list");
    assert_eq!(ids(got), vec![id(4), id(3), id(1)]);
    let paused = TaskFilter {
        status: Some(TaskStatus::Paused),
        limit: 10,
        ..TaskFilter::default()
    };
    assert_eq!(
        ids(store.list_tasks(paused).await.expect("list")),
        vec![id(4)]
    );
    let scheduled_a = TaskFilter {
        status: Some(TaskStatus::Scheduled),
        ..by_name.clone()
    };
    let got = store.list_tasks(scheduled_a).await.expect("list");
    assert_eq!(ids(got), vec![id(3), id(1)]);
    let page = TaskFilter {
        limit: 2,
        offset: 1,
        ..TaskFilter::default()
    };
    assert_eq!(
        ids(store.list_tasks(page).await.expect("list")),
        vec![id(3), id(2)]
    );
    let none = TaskFilter {
        name: Some("zzz".into()),
        limit: 10,
        ..TaskFilter::default()
    };
    assert!(store.list_tasks(none).await.expect("list").is_empty());
}

/// `replace_task` writes only against the expected version and bumps it by one.
pub async fn replace_is_compare_and_set(store: Arc<dyn Store>) {
    put(&*store, vec![task(1, "a", "old")]).await;
    let mut changed = task(1, "a", "new");
    changed.status = TaskStatus::Paused;
    changed.next_fire_ms = Some(T0 + 5);
    assert!(
        store
            .replace_task(changed.clone(), 0)
            .await
            .expect("replace")
    );
    let stored = store.get_task(id(1)).await.expect("get").expect("exists");
    assert_eq!(
        stored,
        taskcenter_core::Task {
            version: 1,
            ..changed.clone()
        }
    );
    assert!(!store.replace_task(changed.clone(), 0).await.expect("stale"));
    assert!(
        store
            .replace_task(changed.clone(), 1)
            .await
            .expect("replace")
    );
    let stored = store.get_task(id(1)).await.expect("get").expect("exists");
    assert_eq!(stored.version, 2);
    // Dedup follows the new data.
    let out = store
        .insert_tasks(vec![task(2, "a", "new"), task(3, "a", "old")], true)
        .await
        .expect("insert");
    assert_eq!(
        out,
        vec![
            InsertOutcome::Existing(id(1)),
            InsertOutcome::Created(id(3))
        ]
    );
    assert!(
        !store
            .replace_task(task(9, "a", "x"), 0)
            .await
            .expect("unknown")
    );
    store.delete_tasks(vec![id(1)]).await.expect("delete");
    let deleted_version = 3; // deleting may bump it; no version must bring it back
    for v in 0..=deleted_version {
        assert!(!store.replace_task(changed.clone(), v).await.expect("gone"));
    }
    assert_eq!(store.get_task(id(1)).await.expect("get"), None);
}

/// Deletion reports the ids that existed; deleted tasks vanish from get, list and due.
pub async fn delete_reports_existing(store: Arc<dyn Store>) {
    put(
        &*store,
        vec![task(1, "a", "1"), task(2, "a", "2"), task(3, "b", "3")],
    )
    .await;
    let gone = store
        .delete_tasks(vec![id(1), id(99), id(2)])
        .await
        .expect("delete");
    assert_eq!(gone, vec![id(1), id(2)]);
    assert!(
        store
            .delete_tasks(vec![id(1)])
            .await
            .expect("again")
            .is_empty()
    );
    assert_eq!(store.get_task(id(1)).await.expect("get"), None);
    let left: Vec<_> = all_tasks(&*store).await.iter().map(|t| t.id).collect();
    assert_eq!(left, vec![id(3)]);
    let due: Vec<_> = store.due_tasks(T0 + 3_600_000, 10).await.expect("due");
    assert_eq!(due.iter().map(|t| t.id).collect::<Vec<_>>(), vec![id(3)]);
    assert_eq!(store.task_counts().await.expect("counts"), (1, 0, 0));
}

/// Deleting by name takes every live task of that name and only those.
pub async fn delete_by_name_takes_all_of_a_name(store: Arc<dyn Store>) {
    put(
        &*store,
        vec![task(1, "a", "1"), task(2, "b", "2"), task(3, "a", "3")],
    )
    .await;
    let mut gone = store.delete_by_name("a").await.expect("delete");
    gone.sort();
    assert_eq!(gone, vec![id(1), id(3)]);
    assert!(store.delete_by_name("a").await.expect("again").is_empty());
    assert!(
        store
            .delete_by_name("nobody")
            .await
            .expect("none")
            .is_empty()
    );
    assert!(store.get_task(id(2)).await.expect("get").is_some());
}

/// Only scheduled tasks due by the limit, soonest first, at most `limit`.
pub async fn due_tasks_in_order(store: Arc<dyn Store>) {
    let at = |n: u32, next: Option<i64>, status: TaskStatus| {
        let mut t = task(n, "a", &n.to_string());
        t.next_fire_ms = next;
        t.status = status;
        t
    };
    use TaskStatus::{Finished, Paused, Scheduled};
    put(
        &*store,
        vec![
            at(1, Some(T0 + 3000), Scheduled),
            at(2, Some(T0 + 1000), Scheduled),
            at(3, Some(T0 + 2000), Scheduled),
            at(4, Some(T0 + 5000), Scheduled),
            at(5, Some(T0 + 500), Paused),
            at(6, Some(T0 + 500), Finished),
            at(7, None, Finished),
        ],
    )
    .await;
    let due = |until, limit| {
        let store = store.clone();
        async move {
            let tasks = store.due_tasks(until, limit).await.expect("due");
            tasks.iter().map(|t| t.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(due(T0 + 3000, 10).await, vec![id(2), id(3), id(1)]);
    assert_eq!(due(T0 + 3000, 2).await, vec![id(2), id(3)]);
    assert!(due(T0, 10).await.is_empty());
    // Firing moves a task along the index.
    fire_at(&*store, id(2), T0 + 1000).await;
    assert_eq!(due(T0 + 3000, 10).await, vec![id(3), id(1)]);
    assert_eq!(store.task_counts().await.expect("counts"), (4, 1, 2));
}

/// `TaskOrder::NextFire`: scheduled tasks only, soonest next fire first, by name too.
pub async fn list_by_next_fire(store: Arc<dyn Store>) {
    let at = |n: u32, name: &str, next: i64| {
        let mut t = task(n, name, &n.to_string());
        t.next_fire_ms = Some(T0 + next);
        t
    };
    put(
        &*store,
        vec![
            at(1, "a", 3_000),
            at(2, "b", 1_000),
            at(3, "a", 2_000),
            with_status(at(4, "a", 500), TaskStatus::Paused),
            at(5, "a", 4_000),
        ],
    )
    .await;
    let ids = |tasks: Vec<taskcenter_core::Task>| tasks.iter().map(|t| t.id).collect::<Vec<_>>();
    let next = TaskFilter {
        limit: 10,
        order: TaskOrder::NextFire,
        ..TaskFilter::default()
    };
    assert_eq!(
        ids(store.list_tasks(next.clone()).await.expect("list")),
        vec![id(2), id(3), id(1), id(5)]
    );
    let of_a = TaskFilter {
        name: Some("a".into()),
        limit: 2,
        offset: 1,
        ..next
    };
    assert_eq!(
        ids(store.list_tasks(of_a).await.expect("list")),
        vec![id(1), id(5)]
    );
}

/// A search finds tasks whose name holds the text, in any case, with the other filters
/// and in either order.
pub async fn list_by_name_part(store: Arc<dyn Store>) {
    put(
        &*store,
        vec![
            task(1, "billing.Invoice", "1"),
            task(2, "billing.refund", "2"),
            task(3, "report.invoice-daily", "3"),
            with_status(task(4, "INVOICE.sweep", "4"), TaskStatus::Paused),
        ],
    )
    .await;
    let ids = |tasks: Vec<taskcenter_core::Task>| tasks.iter().map(|t| t.id).collect::<Vec<_>>();
    let search = |text: &str| TaskFilter {
        search: Some(text.into()),
        limit: 10,
        ..TaskFilter::default()
    };
    let got = store.list_tasks(search("invoice")).await.expect("list");
    assert_eq!(ids(got), vec![id(4), id(3), id(1)]);
    let scheduled = TaskFilter {
        status: Some(TaskStatus::Scheduled),
        ..search("Invoice")
    };
    let got = store.list_tasks(scheduled).await.expect("list");
    assert_eq!(ids(got), vec![id(3), id(1)]);
    let next = TaskFilter {
        order: TaskOrder::NextFire,
        ..search("BILLING")
    };
    let mut got = ids(store.list_tasks(next).await.expect("list"));
    got.sort();
    assert_eq!(got, vec![id(1), id(2)]);
    let exact_and_part = TaskFilter {
        name: Some("billing.refund".into()),
        ..search("fund")
    };
    let got = store.list_tasks(exact_and_part).await.expect("list");
    assert_eq!(ids(got), vec![id(2)]);
    assert!(
        store
            .list_tasks(search("nothing"))
            .await
            .expect("list")
            .is_empty()
    );
}

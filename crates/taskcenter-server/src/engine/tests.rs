//! The engine on a hand-driven clock against the embedded store: exact and instant.

use std::sync::atomic::{AtomicUsize, Ordering};

use taskcenter_api::TaskSpec;
use taskcenter_core::{IdGenerator, Limits, ManualClock};
use taskcenter_store::sqlite::SqliteStore;

use super::*;

const T0: i64 = 1_800_000_000_000;

/// Counts the fires the engine announces.
#[derive(Default)]
struct Counter(AtomicUsize);

impl FireListener for Counter {
    fn fired(&self, _task: &Task, fires: &[taskcenter_store::FireRef]) {
        self.0.fetch_add(fires.len(), Ordering::SeqCst);
    }
}

struct Rig {
    clock: ManualClock,
    store: Arc<dyn Store>,
    engine: Arc<Engine>,
    fired: Arc<Counter>,
    ids: IdGenerator,
    _dir: tempfile::TempDir,
}

fn engine_config(fire_ahead_ms: i64) -> EngineConfig {
    EngineConfig {
        window_ms: 60_000,
        misfire_grace_ms: 1_000,
        fire_ahead_ms,
    }
}

async fn rig() -> Rig {
    let dir = tempfile::Builder::new()
        .prefix("taskcenter-engine-")
        .tempdir()
        .expect("temp dir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("open store"),
    );
    let clock = ManualClock::new(T0);
    let fired = Arc::new(Counter::default());
    let engine = Engine::new(
        store.clone(),
        Arc::new(clock.clone()),
        engine_config(0),
        fired.clone(),
    );
    Rig {
        clock,
        store,
        engine,
        fired,
        ids: IdGenerator::new(),
        _dir: dir,
    }
}

impl Rig {
    async fn add(&self, spec: TaskSpec) -> Task {
        let now = self.clock.now_ms();
        let task = spec
            .into_draft()
            .and_then(|d| d.into_task(self.ids.next(now), now, &Limits::default()))
            .expect("valid");
        self.store
            .insert_tasks(vec![task.clone()], false)
            .await
            .expect("insert");
        self.engine.schedule(&task);
        task
    }

    async fn run_until(&self, until_ms: i64, step_ms: i64) {
        while self.clock.now_ms() < until_ms {
            self.clock.advance(step_ms);
            while self.engine.step().await.expect("step") > 0 {}
        }
    }
}

fn spec(kind: i64) -> TaskSpec {
    TaskSpec {
        name: Some("job".into()),
        kind: Some(kind),
        data: Some("payload".into()),
        ..TaskSpec::default()
    }
}

#[tokio::test]
async fn a_delayed_task_fires_at_its_millisecond_and_only_once() {
    let r = rig().await;
    r.engine.step().await.expect("first load");
    let task = r
        .add(TaskSpec {
            start_time: Some(T0 / 1000 + 2),
            ..spec(1)
        })
        .await;
    r.clock.set(T0 + 1_999);
    assert_eq!(r.engine.step().await.expect("step"), 0);
    r.clock.set(T0 + 2_000);
    assert_eq!(r.engine.step().await.expect("step"), 1);
    r.run_until(T0 + 10_000, 500).await;
    assert_eq!(r.fired.0.load(Ordering::SeqCst), 1);
    let stored = r
        .store
        .get_task(task.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.status, TaskStatus::Finished);
    let history = r.store.fire_history(task.id, 10).await.expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].fire_time, T0 + 2_000);
}

#[tokio::test]
async fn a_loop_fires_on_its_grid_until_its_count() {
    let r = rig().await;
    let task = r
        .add(TaskSpec {
            loop_time: Some(1),
            loop_count: Some(3),
            ..spec(2)
        })
        .await;
    r.run_until(T0 + 10_000, 250).await;
    let mut times: Vec<i64> = r
        .store
        .fire_history(task.id, 10)
        .await
        .expect("history")
        .iter()
        .map(|f| f.fire_time)
        .collect();
    times.sort();
    assert_eq!(times, vec![T0, T0 + 1_000, T0 + 2_000]);
}

#[tokio::test]
async fn far_future_tasks_stay_on_disk_until_their_window() {
    let r = rig().await;
    r.engine.step().await.expect("first load");
    r.add(TaskSpec {
        start_time: Some(T0 / 1000 + 3_600),
        ..spec(1)
    })
    .await;
    assert_eq!(r.engine.held(), 0);
    r.clock.set(T0 + 3_600_000 - 20_000);
    r.engine.step().await.expect("load");
    assert_eq!(r.engine.held(), 1);
    r.clock.set(T0 + 3_600_000);
    assert_eq!(r.engine.step().await.expect("fire"), 1);
}

#[tokio::test]
async fn deleted_and_paused_tasks_do_not_fire() {
    let r = rig().await;
    let a = r
        .add(TaskSpec {
            start_time: Some(T0 / 1000 + 1),
            ..spec(1)
        })
        .await;
    r.store.delete_tasks(vec![a.id]).await.expect("delete");
    r.engine.unschedule(a.id);
    // Even a stale timer entry must not fire a deleted task.
    let b = r
        .add(TaskSpec {
            start_time: Some(T0 / 1000 + 1),
            data: Some("other".into()),
            ..spec(1)
        })
        .await;
    r.store.delete_tasks(vec![b.id]).await.expect("delete");
    r.run_until(T0 + 5_000, 500).await;
    assert_eq!(r.fired.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_restart_fires_missed_loops_once_and_goes_on_on_the_grid() {
    let r = rig().await;
    let task = r
        .add(TaskSpec {
            loop_time: Some(10),
            ..spec(2)
        })
        .await;
    r.clock.set(T0);
    r.engine.step().await.expect("fire first");
    // The service is "down" for 55 s: a fresh engine over the same store.
    let fresh = Engine::new(
        r.store.clone(),
        Arc::new(r.clock.clone()),
        engine_config(0),
        Arc::new(Counter::default()),
    );
    r.clock.set(T0 + 55_000);
    assert_eq!(fresh.step().await.expect("catch up"), 1);
    let stored = r
        .store
        .get_task(task.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.fire_count, 2);
    assert_eq!(stored.next_fire_ms, Some(T0 + 60_000));
    let newest = &r.store.fire_history(task.id, 1).await.expect("history")[0];
    assert_eq!(newest.fire_time, T0 + 50_000);
}

#[tokio::test]
async fn a_fire_committed_ahead_is_visible_only_at_its_time() {
    use taskcenter_core::TagFilter;
    use taskcenter_store::{DeliveryPolicy, LeaseRequest};

    let r = rig().await;
    let ahead = Engine::new(
        r.store.clone(),
        Arc::new(r.clock.clone()),
        engine_config(500),
        Arc::new(Counter::default()),
    );
    r.store
        .subscribe("g", &TagFilter::All)
        .await
        .expect("subscribe");
    let task = r
        .add(TaskSpec {
            start_time: Some(T0 / 1000 + 2),
            ..spec(1)
        })
        .await;
    let lease = |now_ms| LeaseRequest {
        group: "g".into(),
        tags: TagFilter::All,
        max: 10,
        now_ms,
    };
    let policy = DeliveryPolicy::default();
    r.clock.set(T0 + 1_499);
    assert_eq!(
        ahead.step().await.expect("step"),
        0,
        "not yet within the lead"
    );
    r.clock.set(T0 + 1_500);
    assert_eq!(
        ahead.step().await.expect("step"),
        1,
        "committed 500 ms ahead"
    );
    let early = r
        .store
        .lease(lease(T0 + 1_999), &policy)
        .await
        .expect("lease");
    assert!(early.is_empty(), "visible before its time: {early:?}");
    let on_time = r
        .store
        .lease(lease(T0 + 2_000), &policy)
        .await
        .expect("lease");
    assert_eq!(on_time.len(), 1);
    assert_eq!(on_time[0].fire_time, T0 + 2_000);
    let history = r.store.fire_history(task.id, 10).await.expect("history");
    assert_eq!(history[0].published_at, T0 + 2_000);
}

#[tokio::test]
async fn a_fire_by_hand_is_announced_like_a_scheduled_one_and_keeps_the_schedule() {
    let r = rig().await;
    r.engine.step().await.expect("first load");
    let task = r
        .add(TaskSpec {
            start_time: Some(T0 / 1000 + 30),
            ..spec(1)
        })
        .await;
    r.clock.set(T0 + 1_000);
    let fired = r.engine.fire_now(task.id).await.expect("fire now");
    let ManualFire::Fired(fire_id) = fired else {
        panic!("expected a fire, got {fired:?}");
    };
    assert_eq!(r.fired.0.load(Ordering::SeqCst), 1);
    let history = r.store.fire_history(task.id, 10).await.expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].fire_time, T0 + 1_000);
    assert_eq!(history[0].fire_id, fire_id);
    let stored = r
        .store
        .get_task(task.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.status, TaskStatus::Scheduled);
    assert_eq!(stored.next_fire_ms, Some(T0 + 30_000));
    // The scheduled fire still comes, once, at its time.
    r.run_until(T0 + 40_000, 1_000).await;
    assert_eq!(r.fired.0.load(Ordering::SeqCst), 2);
    assert_eq!(
        r.engine
            .fire_now(TaskId::from_bytes([7; 12]))
            .await
            .expect("fire unknown"),
        ManualFire::NotFound
    );
}

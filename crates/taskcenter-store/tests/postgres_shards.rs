//! The PostgreSQL store's replica split: shard leases, their fair share, fencing of fires
//! on the lease epoch, and the words replicas send each other. Each test has its own
//! database and runs the stores' background loops itself.

#![cfg(feature = "postgres")]

mod pg;
mod suite;

use std::sync::Arc;
use std::time::{Duration, Instant};

use pg::TestDb;
use suite::{T0, fire_at, id, policy, pull, put, subscribe, task};
use taskcenter_core::{TaskId, TaskStatus};
use taskcenter_store::postgres::PgStore;
use taskcenter_store::{Background, FireCommit, FireOutcome, ReplicaConfig, Replicated};
use taskcenter_store::{QueueStore, TaskStore};
use tokio_postgres::NoTls;

const LEASE: Duration = Duration::from_millis(1500);

/// A joined store with its loops running.
struct Replica {
    store: PgStore,
    loops: Vec<(Arc<dyn Background>, tokio::task::JoinHandle<()>)>,
}

impl Replica {
    async fn start(db: &TestDb) -> Self {
        let store = PgStore::open(&db.url).await.expect("open");
        let config = ReplicaConfig {
            shard_lease: LEASE,
            window_ms: 60_000,
        };
        let loops = store
            .join(config)
            .into_iter()
            .map(|bg| {
                let running = bg.clone();
                (bg, tokio::spawn(async move { running.run().await }))
            })
            .collect();
        Self { store, loops }
    }

    async fn stop(self) {
        for (bg, handle) in self.loops {
            bg.shutdown();
            handle.await.expect("loop");
        }
    }
}

/// A client on the test's database.
async fn sql(db: &TestDb) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&db.url, NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

async fn held_by(client: &tokio_postgres::Client, owner: &str) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM shard_leases WHERE owner = $1 AND expires_at > now()",
            &[&owner],
        )
        .await
        .expect("count")
        .get(0)
}

/// Waits up to `within` for `check` to hold.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn shard_of(client: &tokio_postgres::Client, task: TaskId) -> i32 {
    client
        .query_one(
            "SELECT shard FROM tasks WHERE id = $1",
            &[&&task.as_bytes()[..]],
        )
        .await
        .expect("shard")
        .get(0)
}

fn commit(task: TaskId, version: i64, at: i64) -> FireCommit {
    FireCommit {
        task_id: task,
        expected_version: version,
        fire_times: vec![at],
        next_fire_ms: Some(at + 60_000),
        fire_count: version + 1,
        status: TaskStatus::Scheduled,
        now_ms: at,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_the_shards_and_take_over_a_leaver() {
    let db = TestDb::new("share");
    let client = sql(&db).await;
    let a = Replica::start(&db).await;
    let a_name = a.store.replica().to_string();
    eventually(LEASE * 2, "a lone replica holds every shard", || async {
        held_by(&client, &a_name).await == 128
    })
    .await;
    assert!(a.store.owns(id(1)));

    let b = Replica::start(&db).await;
    let b_name = b.store.replica().to_string();
    eventually(LEASE * 3, "two replicas hold 64 shards each", || async {
        held_by(&client, &a_name).await == 64
            && held_by(&client, &b_name).await == 64
            && (1..=50).all(|n| a.store.owns(id(n)) != b.store.owns(id(n)))
    })
    .await;
    let owners = (1..=50)
        .map(|n| (a.store.owns(id(n)), b.store.owns(id(n))))
        .collect::<Vec<_>>();
    assert!(
        owners.iter().all(|(x, y)| x != y),
        "each task has one owner: {owners:?}"
    );

    // A replica leaving gives its shards back; the other takes them at once.
    let left = Instant::now();
    b.stop().await;
    eventually(LEASE, "the leaver's shards are taken over", || async {
        held_by(&client, &a_name).await == 128
    })
    .await;
    eprintln!("taken over {:?} after the leave", left.elapsed());
    a.stop().await;
    assert_eq!(held_by(&client, &a_name).await, 0, "given back on shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_replicas_shards_are_taken_when_its_leases_expire() {
    let db = TestDb::new("expire");
    let client = sql(&db).await;
    let a = Replica::start(&db).await;
    let a_name = a.store.replica().to_string();
    // A replica that stopped renewing (as if killed) holding half the shards.
    client
        .batch_execute(
            "INSERT INTO replicas VALUES ('ghost', now()); \
             UPDATE shard_leases SET owner = 'ghost', epoch = epoch + 1, \
             expires_at = now() + interval '1 second' WHERE shard < 64",
        )
        .await
        .expect("ghost");
    let silent = Instant::now();
    eventually(LEASE * 2, "the ghost's shards are taken", || async {
        held_by(&client, &a_name).await == 128
    })
    .await;
    let taken = silent.elapsed();
    assert!(
        taken >= Duration::from_millis(900),
        "not before expiry: {taken:?}"
    );
    eprintln!("taken over {taken:?} after the last renewal (lease 1 s)");
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fires_commit_only_under_a_live_lease() {
    let db = TestDb::new("fence");
    let client = sql(&db).await;
    let a = Replica::start(&db).await;
    let name = a.store.replica().to_string();
    eventually(LEASE * 2, "all shards held", || async {
        held_by(&client, &name).await == 128
    })
    .await;
    put(
        &a.store,
        vec![task(1, "a", "1"), task(2, "a", "2"), task(3, "a", "3")],
    )
    .await;
    let due = a.store.due_tasks(T0 + 60_000, 10).await.expect("due");
    assert_eq!(due.len(), 3);

    // Task 1's shard changes hands behind the keeper's back; task 2's lease runs out.
    let (s1, s2, s3) = (
        shard_of(&client, id(1)).await,
        shard_of(&client, id(2)).await,
        shard_of(&client, id(3)).await,
    );
    assert!(
        s1 != s2 && s1 != s3 && s2 != s3,
        "pick ids of distinct shards"
    );
    client
        .execute(
            "UPDATE shard_leases SET owner = 'thief', epoch = epoch + 1, \
             expires_at = now() + interval '1 hour' WHERE shard = $1",
            &[&s1],
        )
        .await
        .expect("steal");
    let expire = || async {
        client
            .execute(
                "UPDATE shard_leases SET expires_at = now() - interval '1 second' \
                 WHERE shard = $1",
                &[&s2],
            )
            .await
            .expect("expire");
    };
    expire().await;
    let out = a
        .store
        .commit_fires(vec![
            commit(id(1), 0, T0),
            commit(id(2), 0, T0),
            commit(id(3), 0, T0),
        ])
        .await
        .expect("commit");
    assert_eq!(out[0], FireOutcome::Stale, "another replica's shard");
    // The keeper renews every lease still naming its replica, an expired one too, each
    // quarter lease: on a busy machine it may do so between expiring the lease and the
    // commit. Expire again until a commit lands inside the expired window.
    let mut second = out[1].clone();
    let mut version = 0;
    for attempt in 1..=20 {
        match second {
            FireOutcome::Stale => break,
            FireOutcome::Committed { new_version, .. } => {
                version = new_version;
                expire().await;
                second = a
                    .store
                    .commit_fires(vec![commit(id(2), version, T0 + attempt)])
                    .await
                    .expect("commit")
                    .remove(0);
            }
        }
    }
    assert_eq!(
        second,
        FireOutcome::Stale,
        "an expired lease (version {version})"
    );
    assert!(matches!(out[2], FireOutcome::Committed { .. }));
    assert!(!a.store.owns(id(1)), "a lost shard is dropped at once");
    assert!(
        a.store
            .fire_history(id(1), 10)
            .await
            .expect("history")
            .is_empty()
    );

    // A hand-made fire (trigger) needs no lease.
    let manual = a
        .store
        .commit_manual(commit(id(1), 0, T0 + 5))
        .await
        .expect("manual");
    assert!(matches!(manual, FireOutcome::Committed { .. }));
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_tasks_are_those_of_held_shards() {
    let db = TestDb::new("due");
    let client = sql(&db).await;
    let a = Replica::start(&db).await;
    let b = Replica::start(&db).await;
    let (a_name, b_name) = (a.store.replica().to_string(), b.store.replica().to_string());
    eventually(LEASE * 3, "split", || async {
        held_by(&client, &a_name).await == 64
            && held_by(&client, &b_name).await == 64
            // and each replica knows it (its placement follows the database a moment later)
            && (1..=100).all(|n| a.store.owns(id(n)) != b.store.owns(id(n)))
    })
    .await;
    put(
        &a.store,
        (1..=40).map(|n| task(n, "a", &n.to_string())).collect(),
    )
    .await;
    let due_a = a.store.due_tasks(T0 + 60_000, 100).await.expect("due");
    let due_b = b.store.due_tasks(T0 + 60_000, 100).await.expect("due");
    assert_eq!(due_a.len() + due_b.len(), 40);
    assert!(due_a.iter().all(|t| a.store.owns(t.id)));
    assert!(due_b.iter().all(|t| b.store.owns(t.id)));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_hear_of_each_others_messages_and_tasks() {
    let db = TestDb::new("words");
    let client = sql(&db).await;
    let a = Replica::start(&db).await;
    let b = Replica::start(&db).await;
    let (a_name, b_name) = (a.store.replica().to_string(), b.store.replica().to_string());
    eventually(LEASE * 3, "split", || async {
        held_by(&client, &a_name).await == 64
            && held_by(&client, &b_name).await == 64
            // and each replica knows it (its placement follows the database a moment later)
            && (1..=100).all(|n| a.store.owns(id(n)) != b.store.owns(id(n)))
    })
    .await;
    let mut arrivals = b.store.arrivals();
    let mut placement = b.store.placement();
    // A task for one of b's shards, due right away, added through a.
    let n = (1..).find(|&n| b.store.owns(id(n))).expect("an id of b's");
    let mut t = task(n, "w", "x");
    t.created_at_ms = T0 + 59_000;
    put(&a.store, vec![t]).await;
    tokio::time::timeout(Duration::from_secs(2), placement.changed())
        .await
        .expect("b is told to reload its window");
    // a fires a task of its own to a subscribed group: b's long-polls hear of it.
    let m = (1..)
        .find(|&m| a.store.owns(id(m)) && m != n)
        .expect("an id of a's");
    put(&a.store, vec![task(m, "w", "y")]).await;
    subscribe(&a.store, "g", "w").await;
    fire_at(&a.store, id(m), T0).await;
    tokio::time::timeout(Duration::from_secs(2), arrivals.changed())
        .await
        .expect("b hears of the message");
    let got = b
        .store
        .lease(pull("g", "w", 10, T0 + 10), &policy(&[]))
        .await
        .expect("lease");
    assert_eq!(got.len(), 1);
    a.stop().await;
    b.stop().await;
}

//! The relay on a hand-driven clock against the embedded store, with a scripted publisher
//! standing in for the broker: exact and instant. The real brokers are proven in the
//! end-to-end publisher suite.

use std::collections::VecDeque;
use std::sync::Mutex;

use taskcenter_api::TaskSpec;
use taskcenter_core::{IdGenerator, Limits, ManualClock, TaskId, TaskStatus};
use taskcenter_publish::PublishResult;
use taskcenter_store::sqlite::SqliteStore;
use taskcenter_store::{FireCommit, FireOutcome};

use super::*;
use crate::telemetry::Telemetry;

const T0: i64 = 1_800_000_000_000;

/// Answers each message with the next scripted answer (a confirmation once none is left)
/// and records what it was given.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<PublishResult>>,
    seen: Mutex<Vec<OutMessage>>,
}

#[async_trait]
impl Publisher for Scripted {
    fn broker(&self) -> &'static str {
        "scripted"
    }

    async fn publish(&self, batch: &[OutMessage]) -> Vec<PublishResult> {
        let mut answers = self.answers.lock().expect("answers");
        let mut seen = self.seen.lock().expect("seen");
        batch
            .iter()
            .map(|m| {
                seen.push(m.clone());
                answers
                    .pop_front()
                    .unwrap_or_else(|| Ok(format!("id-{}", m.fire_id)))
            })
            .collect()
    }
}

struct Rig {
    clock: ManualClock,
    store: Arc<dyn Store>,
    publisher: Arc<Scripted>,
    relay: Relay,
    _dir: tempfile::TempDir,
}

async fn rig(answers: Vec<PublishResult>) -> Rig {
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("open store"),
    );
    store
        .subscribe(OUTBOX_GROUP, &TagFilter::All)
        .await
        .expect("subscribe the outbox");
    let clock = ManualClock::new(T0);
    let publisher = Arc::new(Scripted {
        answers: Mutex::new(answers.into()),
        ..Scripted::default()
    });
    let policy = DeliveryPolicy::default();
    let queue = Arc::new(Queue::new(
        store.clone(),
        Arc::new(clock.clone()),
        policy.clone(),
        CancellationToken::new(),
        Arc::new(Telemetry::default()),
    ));
    let relay = Relay::new(
        store.clone(),
        Arc::new(clock.clone()),
        publisher.clone(),
        policy,
        queue,
    );
    Rig {
        clock,
        store,
        publisher,
        relay,
        _dir: dir,
    }
}

impl Rig {
    /// A once task fired at `fire_time`, committed now (possibly ahead of its time).
    async fn fire(&self, fire_time: i64) -> TaskId {
        self.fires(&[fire_time]).await[0]
    }

    /// A once task fired at each time, all committed now in one write.
    async fn fires(&self, fire_times: &[i64]) -> Vec<TaskId> {
        let spec = TaskSpec {
            name: Some("job".into()),
            kind: Some(1),
            data: Some("payload\0✓".into()),
            ..TaskSpec::default()
        };
        let now = self.clock.now_ms();
        let ids = IdGenerator::new();
        let tasks: Vec<_> = fire_times
            .iter()
            .map(|_| {
                spec.clone()
                    .into_draft()
                    .and_then(|d| d.into_task(ids.next(now), now, &Limits::default()))
                    .expect("valid")
            })
            .collect();
        let task_ids: Vec<TaskId> = tasks.iter().map(|t| t.id).collect();
        self.store.insert_tasks(tasks, false).await.expect("insert");
        let commits = task_ids
            .iter()
            .zip(fire_times)
            .map(|(&task_id, &fire_time)| FireCommit {
                task_id,
                expected_version: 0,
                fire_times: vec![fire_time],
                next_fire_ms: None,
                fire_count: 1,
                status: TaskStatus::Finished,
                now_ms: now,
            })
            .collect();
        let out = self.store.commit_fires(commits).await.expect("commit");
        assert!(
            out.iter()
                .all(|o| matches!(o, FireOutcome::Committed { .. }))
        );
        task_ids
    }

    async fn step(&self, failures: &mut u32) -> Option<Duration> {
        self.relay.step(failures).await.expect("step")
    }

    fn seen(&self) -> Vec<OutMessage> {
        self.publisher.seen.lock().expect("seen").clone()
    }

    async fn state(&self, id: TaskId) -> FireRecord {
        let mut h = self.store.fire_history(id, 1).await.expect("history");
        h.pop().expect("one fire")
    }
}

#[tokio::test]
async fn a_fire_committed_ahead_is_published_at_its_time_not_before() {
    let r = rig(Vec::new()).await;
    let id = r.fire(T0 + 1_000).await;
    let mut failures = 0;
    r.clock.set(T0 + 999);
    assert_eq!(r.step(&mut failures).await, None, "not due yet");
    assert!(r.seen().is_empty());
    r.clock.set(T0 + 1_000);
    assert_eq!(r.step(&mut failures).await, Some(Duration::ZERO));
    let seen = r.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].fire_time, T0 + 1_000);
    assert_eq!(seen[0].attempt, 1);
    assert_eq!(seen[0].data, "payload\0✓");
    assert_eq!(seen[0].fire_id, format!("{id}-{}", T0 + 1_000));
    let mut record = r.state(id).await;
    assert_eq!(record.broker_id, Some(format!("id-{}", seen[0].fire_id)));
    outbox_state(&mut record, false);
    assert_eq!(record.state, DeliveryState::Published);
    assert_eq!(
        r.relay
            .metrics()
            .published
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test]
async fn a_broker_down_is_tried_again_with_a_growing_backoff_and_no_attempt_spent() {
    let down = || Err(PublishError::unavailable("down"));
    let r = rig(vec![down(), down()]).await;
    let id = r.fire(T0).await;
    let mut failures = 0;
    assert_eq!(
        r.step(&mut failures).await,
        Some(Duration::from_millis(100))
    );
    let mut record = r.state(id).await;
    outbox_state(&mut record, false);
    assert_eq!(record.state, DeliveryState::Pending);
    r.clock.advance(99);
    assert_eq!(r.step(&mut failures).await, None, "not before the backoff");
    r.clock.advance(1);
    assert_eq!(
        r.step(&mut failures).await,
        Some(Duration::from_millis(200))
    );
    r.clock.advance(200);
    assert_eq!(r.step(&mut failures).await, Some(Duration::ZERO));
    assert_eq!(failures, 0, "a success resets the backoff");
    let attempts: Vec<i64> = r.seen().iter().map(|m| m.attempt).collect();
    assert_eq!(attempts, vec![1, 1, 1], "failed tries are no attempts");
    assert_eq!(
        r.relay
            .metrics()
            .errors
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
}

#[tokio::test]
async fn a_broker_asking_for_a_pause_gets_it_and_a_refusal_is_dead() {
    let later = Err(PublishError::Unavailable {
        reason: "busy".into(),
        retry_after: Some(Duration::from_secs(5)),
    });
    let r = rig(vec![later, Err(PublishError::Refused("gone".into()))]).await;
    let id = r.fire(T0).await;
    let mut failures = 0;
    assert_eq!(r.step(&mut failures).await, Some(Duration::from_secs(5)));
    r.clock.advance(4_999);
    assert_eq!(r.step(&mut failures).await, None);
    r.clock.advance(1);
    r.step(&mut failures).await;
    assert_eq!(r.state(id).await.state, DeliveryState::Dead);
    r.clock.advance(3_600_000);
    assert_eq!(
        r.step(&mut failures).await,
        None,
        "a dead letter is not published"
    );
}

/// The running loop, which leases the next batch while one is at the broker, publishes
/// batch after batch in lease order and marks every message sent.
#[tokio::test]
async fn the_loop_publishes_batch_after_batch_in_lease_order() {
    let r = Arc::new(rig(Vec::new()).await);
    let n = BATCH * 2 + 10;
    let times: Vec<i64> = (0..n).map(|i| T0 - 10_000 + i as i64).collect();
    let ids = r.fires(&times).await;
    let running = {
        let r = r.clone();
        tokio::spawn(async move { r.relay.run().await })
    };
    for _ in 0..1000 {
        if r.seen().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    r.relay.shutdown();
    running.await.expect("the loop ends");
    let seen: Vec<String> = r.seen().iter().map(|m| m.taskid.clone()).collect();
    let want: Vec<String> = ids.iter().map(ToString::to_string).collect();
    assert_eq!(seen, want, "each once, in lease order");
    for id in [ids[0], ids[BATCH], ids[n - 1]] {
        let mut record = r.state(id).await;
        assert!(record.broker_id.is_some(), "sent: {record:?}");
        outbox_state(&mut record, false);
        assert_eq!(record.state, DeliveryState::Published);
    }
}

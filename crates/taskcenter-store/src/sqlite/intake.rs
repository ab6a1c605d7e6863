//! Coalesces concurrent adds into one writer job.
//!
//! Each job of a group commit runs in a savepoint of its own, and a savepoint copies every
//! page it first touches into the statement journal: a hundred single adds in one commit
//! meant a hundred copies of the same tail pages and a hundred updates of the counters'
//! row. Adds that arrive while the writer is busy wait here instead, and the one job
//! queued for them takes all of them when the writer reaches it: one savepoint, one
//! counter update, one commit. If that job fails, every add in it fails and none of them
//! is written.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use taskcenter_core::Task;
use tokio::sync::oneshot;

use super::tasks;
use super::writer::Writer;
use crate::error::StoreError;
use crate::model::InsertOutcome;

type Answer = Result<Vec<InsertOutcome>, StoreError>;

/// One caller's add, waiting for the next insert job.
struct PendingAdd {
    tasks: Vec<Task>,
    dedup: bool,
    reply: oneshot::Sender<Answer>,
}

/// Adds waiting for the writer's next insert job.
#[derive(Default)]
pub(crate) struct Intake {
    waiting: Arc<Mutex<Vec<PendingAdd>>>,
}

impl Intake {
    /// Inserts `tasks` in the next group commit, together with every other add that
    /// arrives before the writer gets to it; answers once that commit is durable.
    pub(crate) async fn insert(&self, writer: &Writer, tasks: Vec<Task>, dedup: bool) -> Answer {
        let (reply, answer) = oneshot::channel();
        let first = {
            let mut waiting = lock(&self.waiting);
            waiting.push(PendingAdd {
                tasks,
                dedup,
                reply,
            });
            waiting.len() == 1
        };
        if first {
            self.queue_job(writer);
        }
        answer
            .await
            .map_err(|_| StoreError::Internal("sqlite insert job was dropped (panic?)".into()))?
    }

    /// Queues the job that takes every waiting add when it runs. Only the add that found
    /// the queue empty queues one, so there is at most one such job not yet running.
    fn queue_job(&self, writer: &Writer) {
        let waiting = Arc::clone(&self.waiting);
        let taken: Arc<Mutex<Vec<oneshot::Sender<Answer>>>> = Arc::default();
        let replies = Arc::clone(&taken);
        let left = Arc::clone(&self.waiting);
        writer.submit(
            move |conn| {
                let adds = std::mem::take(&mut *lock(&waiting));
                let answers =
                    tasks::insert(conn, adds.iter().map(|a| (a.tasks.as_slice(), a.dedup)));
                *lock(&taken) = adds.into_iter().map(|a| a.reply).collect();
                answers
            },
            move |result| {
                let mut replies = std::mem::take(&mut *lock(&replies));
                if replies.is_empty() {
                    // The job never ran (the writer is gone): fail the adds it was for.
                    replies = lock(&left).drain(..).map(|a| a.reply).collect();
                }
                answer_all(replies, result);
            },
        );
    }
}

/// Sends each caller its answer, or the job's error to all.
fn answer_all(
    replies: Vec<oneshot::Sender<Answer>>,
    result: Result<Vec<Vec<InsertOutcome>>, StoreError>,
) {
    match result {
        Ok(answers) => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                // A caller that stopped waiting needs no answer.
                let _ = reply.send(Ok(answer));
            }
        }
        Err(err) => {
            for reply in replies {
                let _ = reply.send(Err(err.clone()));
            }
        }
    }
}

/// The lists stay consistent whatever panicked while holding them: each change is one
/// push or one take.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sqlite::SqliteOptions;
    use crate::sqlite::conn::open_writer;
    use crate::sqlite::writer::BatchLimits;

    fn task(n: u64, data: &str) -> Task {
        crate::fixtures::once_task(n, "intake", data)
    }

    fn writer(name: &str) -> Writer {
        let dir = std::env::temp_dir().join(format!(
            "taskcenter-intake-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let conn = open_writer(&dir.join("t.db"), &SqliteOptions::default()).expect("open");
        let limits = BatchLimits {
            max_jobs: 64,
            max_time: Duration::from_millis(10),
        };
        Writer::start(conn, limits).expect("writer")
    }

    /// Holds the writer busy so the adds that follow wait in the intake together.
    fn stall(writer: &Writer) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        writer.submit(
            |_| {
                std::thread::sleep(Duration::from_millis(200));
                Ok(())
            },
            move |_| {
                let _ = tx.send(());
            },
        );
        rx
    }

    async fn tasks_stored(writer: &Writer) -> i64 {
        writer
            .write(|conn| conn.query_row("SELECT count(*) FROM tasks", [], |r| r.get(0)))
            .await
            .expect("count")
    }

    #[tokio::test]
    async fn adds_waiting_together_each_get_their_answer_and_dedup_among_themselves() {
        let writer = writer("share");
        let intake = Intake::default();
        let stalled = stall(&writer);
        let (a, b, c) = tokio::join!(
            intake.insert(&writer, vec![task(1, "x")], true),
            intake.insert(&writer, vec![task(2, "x")], true),
            intake.insert(&writer, vec![task(3, "y"), task(4, "z")], true),
        );
        stalled.await.expect("stall job ran");
        assert_eq!(a.expect("a"), vec![InsertOutcome::Created(task(1, "").id)]);
        assert_eq!(
            b.expect("b"),
            vec![InsertOutcome::Existing(task(1, "").id)],
            "the twin added in the same job answers the first one's id"
        );
        assert_eq!(c.expect("c").len(), 2);
        assert_eq!(tasks_stored(&writer).await, 3);
    }

    #[tokio::test]
    async fn a_failing_job_fails_every_add_in_it_and_writes_none() {
        let writer = writer("fail");
        let intake = Intake::default();
        let stalled = stall(&writer);
        // The same id twice without dedup: the second insert breaks the unique key.
        let (a, b) = tokio::join!(
            intake.insert(&writer, vec![task(7, "p")], false),
            intake.insert(&writer, vec![task(7, "q")], false),
        );
        stalled.await.expect("stall job ran");
        assert!(a.is_err() && b.is_err(), "both fail: {a:?} {b:?}");
        assert_eq!(tasks_stored(&writer).await, 0, "nothing half-written");
        let again = intake.insert(&writer, vec![task(8, "r")], false).await;
        assert!(
            again.is_ok(),
            "the intake works after a failed job: {again:?}"
        );
    }
}

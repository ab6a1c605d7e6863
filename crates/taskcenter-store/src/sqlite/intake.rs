//! Coalesces concurrent adds into one writer job.
//!
//! Each job of a group commit runs in a savepoint of its own, and a savepoint copies every
//! page it first touches into the statement journal: a hundred single adds in one commit
//! meant a hundred copies of the same tail pages and a hundred updates of the counters'
//! row. Adds that arrive while the writer is busy wait here instead, and the one job
//! queued for them takes all of them when the writer reaches it: one savepoint, one
//! counter update, one commit. If that job fails, every add in it fails and none of them
//! is written.

use std::sync::{Arc, Mutex, PoisonError};

use taskcenter_core::Task;

use super::tasks;
use super::writer::Writer;
use crate::coalesce::{Batch, Coalescer};
use crate::error::StoreError;
use crate::model::InsertOutcome;

/// One caller's add: its tasks and whether to dedup them.
type Add = (Vec<Task>, bool);

/// Adds taken by one insert job, answered once its commit is known.
type AddBatch = Batch<Add, Vec<InsertOutcome>>;

/// Adds waiting for the writer's next insert job.
#[derive(Default)]
pub(crate) struct Intake {
    waiting: Arc<Coalescer<Add, Vec<InsertOutcome>>>,
}

impl Intake {
    /// Inserts `tasks` in the next group commit, together with every other add that
    /// arrives before the writer gets to it; answers once that commit is durable.
    pub(crate) async fn insert(
        &self,
        writer: &Writer,
        tasks: Vec<Task>,
        dedup: bool,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        let (ticket, lead) = self.waiting.join((tasks, dedup));
        if lead {
            self.queue_job(writer);
        }
        ticket.answer().await
    }

    /// Queues the job that takes every waiting add when it runs. Only the add that found
    /// nobody busy queues one, so there is at most one such job not yet running.
    fn queue_job(&self, writer: &Writer) {
        let waiting = Arc::clone(&self.waiting);
        let left = Arc::clone(&self.waiting);
        let taken: Arc<Mutex<Option<AddBatch>>> = Arc::default();
        let answered = Arc::clone(&taken);
        writer.submit(
            move |conn| {
                let batch = waiting.take_all();
                let adds = batch.requests().iter().map(|(t, d)| (t.as_slice(), *d));
                let answers = tasks::insert(conn, adds);
                *taken.lock().unwrap_or_else(PoisonError::into_inner) = Some(batch);
                answers
            },
            move |result| {
                let batch = answered
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    // The job never ran (the writer is gone): fail the adds it was for.
                    .unwrap_or_else(|| left.take_all());
                batch.answer(result);
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::oneshot;

    use super::*;
    use crate::sqlite::writer::test_writer as writer;

    fn task(n: u64, data: &str) -> Task {
        crate::fixtures::once_task(n, "intake", data)
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
        let (_dir, writer) = writer();
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
        let (_dir, writer) = writer();
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

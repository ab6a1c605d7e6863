//! Group commit: one thread owns the write connection and commits many callers' jobs at once.
//!
//! The thread takes the first queued job, then keeps taking whatever else is queued (up to
//! a cap of jobs or of time) and runs them all in one transaction, each inside its own
//! SAVEPOINT so a failing job is rolled back alone. It COMMITs once (one fsync for the
//! whole batch) and only then answers every caller. While it waits on the fsync, new jobs
//! queue up and form the next batch, so the batch size follows the load by itself.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::error::map_err;
use crate::error::StoreError;

/// Sends a job's result to its caller once the batch's commit outcome is known.
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A unit of work queued for the writer.
type Job = Box<dyn QueuedJob>;

/// What the writer can do with a queued job.
trait QueuedJob: Send {
    /// Runs against the connection; says whether it succeeded (so the writer can roll
    /// its savepoint back) and how to answer the caller after the commit.
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Reply);
    /// Answers the caller with an error without running.
    fn fail(self: Box<Self>, err: StoreError);
}

/// A closure and what to do with its result once the commit outcome is known.
struct Work<T, F, D> {
    work: F,
    done: D,
    _result: std::marker::PhantomData<fn() -> T>,
}

impl<T, F, D> QueuedJob for Work<T, F, D>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    D: FnOnce(Result<T, StoreError>) + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Reply) {
        let Self { work, done, .. } = *self;
        let result = work(conn).map_err(map_err);
        let ok = result.is_ok();
        let answer: Reply = Box::new(move |commit| done(commit.and(result)));
        (ok, answer)
    }

    fn fail(self: Box<Self>, err: StoreError) {
        (self.done)(Err(err));
    }
}

/// How much one commit may gather.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLimits {
    /// At most this many jobs per commit.
    pub max_jobs: usize,
    /// Stop gathering once the batch has run this long, to bound callers' latency.
    pub max_time: Duration,
}

/// Handle to the writer thread; dropping it lets the thread finish the queued jobs and
/// close the connection, and waits for that.
pub(crate) struct Writer {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread on an open, migrated connection.
    pub(crate) fn start(conn: Connection, limits: BatchLimits) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("taskcenter-sqlite-writer".into())
            .spawn(move || run(conn, queue, limits))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `work` in the next group commit and returns its result once that commit is
    /// durable. An error from `work` rolls back only `work`'s changes.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel::<Result<T, StoreError>>();
        self.submit(work, move |result| {
            // The caller may have given up waiting; nothing to do then.
            let _ = reply.send(result);
        });
        rx.await
            .map_err(|_| StoreError::Internal("sqlite write job was dropped (panic?)".into()))?
    }

    /// Queues `work` for the next group commit and calls `done` on the writer thread
    /// with its result once that commit's outcome is known (or at once, if the writer is
    /// gone). For jobs that answer several callers: no caller's future has to survive
    /// for the others to hear back.
    pub(crate) fn submit<T, F, D>(&self, work: F, done: D)
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
        D: FnOnce(Result<T, StoreError>) + Send + 'static,
    {
        let job: Job = Box::new(Work {
            work,
            done,
            _result: std::marker::PhantomData,
        });
        let Some(sender) = self.jobs.as_ref() else {
            job.fail(StoreError::Unavailable("sqlite writer is shut down".into()));
            return;
        };
        if let Err(unsent) = sender.send(job) {
            unsent
                .0
                .fail(StoreError::Unavailable("sqlite writer has stopped".into()));
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the thread after the jobs already queued.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("sqlite writer thread panicked");
        }
    }
}

/// The writer thread's loop: one transaction per batch until the channel closes.
fn run(conn: Connection, queue: Receiver<Job>, limits: BatchLimits) {
    while let Ok(first) = queue.recv() {
        let replies = match run_batch(&conn, first, &queue, limits) {
            Ok(replies) => {
                let commit = exec(&conn, "COMMIT");
                if commit.is_err() {
                    let _ = exec(&conn, "ROLLBACK");
                }
                (replies, commit)
            }
            Err((replies, err)) => {
                let _ = exec(&conn, "ROLLBACK");
                (replies, Err(err))
            }
        };
        let (replies, outcome) = replies;
        if let Err(err) = &outcome {
            tracing::warn!(%err, jobs = replies.len(), "sqlite group commit failed");
        }
        for reply in replies {
            reply(outcome.clone());
        }
    }
    tracing::debug!("sqlite writer stopping");
}

/// Begins a transaction and runs the first job and whatever queued after it. On a
/// failure that spoils the whole transaction, returns the replies gathered so far with
/// the error so every caller hears of it.
fn run_batch(
    conn: &Connection,
    first: Job,
    queue: &Receiver<Job>,
    limits: BatchLimits,
) -> Result<Vec<Reply>, (Vec<Reply>, StoreError)> {
    let mut replies = Vec::new();
    if let Err(err) = exec(conn, "BEGIN IMMEDIATE") {
        first.fail(err.clone());
        return Err((replies, err));
    }
    let started = Instant::now();
    let mut next = Some(first);
    while let Some(job) = next {
        match run_job(conn, job) {
            Ok(reply) => replies.push(reply),
            Err((reply, err)) => {
                replies.extend(reply);
                return Err((replies, err));
            }
        }
        if replies.len() >= limits.max_jobs || started.elapsed() >= limits.max_time {
            break;
        }
        next = queue.try_recv().ok();
    }
    Ok(replies)
}

/// Runs one job inside its own savepoint, rolling back to it when the job fails or
/// panics. A panicking job's caller sees its channel closed.
fn run_job(conn: &Connection, job: Job) -> Result<Reply, (Option<Reply>, StoreError)> {
    if let Err(err) = exec(conn, "SAVEPOINT job") {
        job.fail(err.clone());
        return Err((None, err));
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| job.run(conn)));
    let (ok, reply) = match outcome {
        Ok((ok, reply)) => (ok, Some(reply)),
        Err(_) => {
            tracing::error!("sqlite write job panicked; its changes are rolled back");
            (false, None)
        }
    };
    let end = if ok {
        exec(conn, "RELEASE job")
    } else {
        exec(conn, "ROLLBACK TO job").and_then(|()| exec(conn, "RELEASE job"))
    };
    match (end, reply) {
        (Ok(()), Some(reply)) => Ok(reply),
        (Ok(()), None) => Ok(Box::new(|_| {})),
        (Err(err), reply) => Err((reply, err)),
    }
}

/// Runs one statement from the cache of prepared statements.
fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .map(|_| ())
        .map_err(map_err)
}

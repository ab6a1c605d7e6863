//! Group commit: one thread owns the write connection and commits many callers' jobs at once.
//!
//! The thread takes the first queued job, then keeps taking whatever else is queued (up to
//! a cap of jobs or of time) and runs them all in one transaction, each inside its own
//! SAVEPOINT so a failing job is rolled back alone. It COMMITs once (one fsync for the
//! whole batch) and only then answers every caller. While it waits on the fsync, new jobs
//! queue up and form the next batch, so the batch size follows the load by itself.
//!
//! A job is durable (answered once fsynced) unless queued as redoable: a commit of
//! redoable jobs only is made without an fsync of its own (see `sync.rs`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::error::map_err;
use super::space::{self, Space};
use super::sync::SyncLevel;
use crate::error::StoreError;

/// Sends a job's result to its caller once the batch's commit outcome is known.
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A unit of work queued for the writer.
type Job = Box<dyn QueuedJob>;

/// What the writer can do with a queued job.
trait QueuedJob: Send {
    /// Runs against the connection; says whether it succeeded (so the writer can roll
    /// its savepoint back, and knows of storage failures) and how to answer the caller
    /// after the commit.
    fn run(self: Box<Self>, conn: &Connection) -> (Result<(), StoreError>, Reply);
    /// Answers the caller with an error without running.
    fn fail(self: Box<Self>, err: StoreError);
    /// Losing the job's commit in a crash only makes its work be done again.
    fn redoable(&self) -> bool;
}

/// A closure and what to do with its result once the commit outcome is known.
struct Work<T, F, D> {
    work: F,
    done: D,
    redoable: bool,
    _result: std::marker::PhantomData<fn() -> T>,
}

impl<T, F, D> QueuedJob for Work<T, F, D>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    D: FnOnce(Result<T, StoreError>) + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> (Result<(), StoreError>, Reply) {
        let Self { work, done, .. } = *self;
        let result = work(conn).map_err(map_err);
        let status = result.as_ref().map(drop).map_err(Clone::clone);
        let answer: Reply = Box::new(move |commit| done(commit.and(result)));
        (status, answer)
    }

    fn fail(self: Box<Self>, err: StoreError) {
        (self.done)(Err(err));
    }

    fn redoable(&self) -> bool {
        self.redoable
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
    health: Arc<Health>,
}

/// Whether writes are failing for want of storage (a full disk, an I/O error), so that
/// readiness can say so while reads still work.
#[derive(Debug, Default)]
pub(crate) struct Health {
    failing: Mutex<Option<StoreError>>,
}

impl Health {
    /// The last storage failure of a write, until a commit succeeds again.
    pub(crate) fn failing(&self) -> Option<StoreError> {
        self.lock().clone()
    }

    /// Records how a group commit went: a storage failure of the commit or of one of its
    /// jobs marks the store failing, a commit without one clears that.
    fn record(&self, commit: &Result<(), StoreError>, jobs: &[Result<(), StoreError>]) {
        let storage = |r: &Result<(), StoreError>| match r {
            Err(err @ StoreError::Unavailable(_)) => Some(err.clone()),
            _ => None,
        };
        let failure = storage(commit).or_else(|| jobs.iter().find_map(storage));
        *self.lock() = failure;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<StoreError>> {
        self.failing.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Writer {
    /// Starts the writer thread on an open, migrated connection; `space` is what it gives
    /// back when a write fails for want of storage.
    pub(crate) fn start(
        conn: Connection,
        limits: BatchLimits,
        space: Arc<Space>,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let health = Arc::new(Health::default());
        let seen = Arc::clone(&health);
        let thread = std::thread::Builder::new()
            .name("taskcenter-sqlite-writer".into())
            .spawn(move || run(conn, queue, limits, &seen, &space))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
            health,
        })
    }

    /// The last storage failure of a write, until a commit succeeds again.
    pub(crate) fn failing(&self) -> Option<StoreError> {
        self.health.failing()
    }

    /// Runs `work` in the next group commit and returns its result once that commit is
    /// durable. An error from `work` rolls back only `work`'s changes.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.write_as(work, false).await
    }

    /// Runs `work` in a group commit that may be made without an fsync of its own, for
    /// work that is done again if its commit is lost in a crash (see `sync.rs`); returns
    /// its result once committed.
    pub(crate) async fn write_redoable<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.write_as(work, true).await
    }

    async fn write_as<T, F>(&self, work: F, redoable: bool) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel::<Result<T, StoreError>>();
        let done = move |result| {
            // The caller may have given up waiting; nothing to do then.
            let _ = reply.send(result);
        };
        self.queue(work, done, redoable);
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
        self.queue(work, done, false);
    }

    fn queue<T, F, D>(&self, work: F, done: D, redoable: bool)
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
        D: FnOnce(Result<T, StoreError>) + Send + 'static,
    {
        let job: Job = Box::new(Work {
            work,
            done,
            redoable,
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
fn run(
    conn: Connection,
    queue: Receiver<Job>,
    limits: BatchLimits,
    health: &Health,
    space: &Space,
) {
    let mut sync = match SyncLevel::read(&conn) {
        Ok(sync) => sync,
        Err(err) => {
            tracing::error!(%err, "sqlite writer cannot read its fsync level");
            fail_all(&queue, &map_err(err));
            return;
        }
    };
    // The first durable job met while gathering redoable ones: it opens the next commit.
    let mut held: Option<Job> = None;
    while let Some(first) = held.take().or_else(|| queue.recv().ok()) {
        let only_redoable = match sync.prepare(&conn, first.redoable()) {
            Ok(only) => only,
            Err(err) => {
                // Never run a durable job at a level that was not set as it needs.
                first.fail(map_err(err));
                continue;
            }
        };
        let gather = Gather {
            queue: &queue,
            limits,
            only_redoable,
        };
        let mut statuses = Vec::new();
        let replies = match run_batch(&conn, first, &gather, &mut held, &mut statuses) {
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
        health.record(&outcome, &statuses);
        if health.failing().is_some() {
            space::recover(space, &conn);
        }
        if let Err(err) = &outcome {
            tracing::warn!(%err, jobs = replies.len(), "sqlite group commit failed");
        }
        for reply in replies {
            reply(outcome.clone());
        }
    }
    tracing::debug!("sqlite writer stopping");
}

/// Answers every queued job with `err`, until the channel closes.
fn fail_all(queue: &Receiver<Job>, err: &StoreError) {
    while let Ok(job) = queue.recv() {
        job.fail(err.clone());
    }
}

/// Which queued jobs one commit takes.
struct Gather<'a> {
    queue: &'a Receiver<Job>,
    limits: BatchLimits,
    /// The commit is made without an fsync of its own: durable jobs wait for the next.
    only_redoable: bool,
}

impl Gather<'_> {
    /// The next queued job this commit takes; a durable job a redoable-only commit
    /// cannot take goes to `held`, ending the gathering.
    fn next(&self, held: &mut Option<Job>) -> Option<Job> {
        let job = self.queue.try_recv().ok()?;
        if self.only_redoable && !job.redoable() {
            *held = Some(job);
            return None;
        }
        Some(job)
    }
}

/// Begins a transaction and runs the first job and whatever queued after it. On a
/// failure that spoils the whole transaction, returns the replies gathered so far with
/// the error so every caller hears of it.
fn run_batch(
    conn: &Connection,
    first: Job,
    gather: &Gather<'_>,
    held: &mut Option<Job>,
    statuses: &mut Vec<Result<(), StoreError>>,
) -> Result<Vec<Reply>, (Vec<Reply>, StoreError)> {
    let mut replies = Vec::new();
    if let Err(err) = exec(conn, "BEGIN IMMEDIATE") {
        first.fail(err.clone());
        return Err((replies, err));
    }
    let started = Instant::now();
    let mut next = Some(first);
    while let Some(job) = next {
        match run_job(conn, job, statuses) {
            Ok(reply) => replies.push(reply),
            Err((reply, err)) => {
                replies.extend(reply);
                return Err((replies, err));
            }
        }
        let limits = gather.limits;
        if replies.len() >= limits.max_jobs || started.elapsed() >= limits.max_time {
            break;
        }
        next = gather.next(held);
    }
    Ok(replies)
}

/// Runs one job inside its own savepoint, rolling back to it when the job fails or
/// panics. A panicking job's caller sees its channel closed.
fn run_job(
    conn: &Connection,
    job: Job,
    statuses: &mut Vec<Result<(), StoreError>>,
) -> Result<Reply, (Option<Reply>, StoreError)> {
    if let Err(err) = exec(conn, "SAVEPOINT job") {
        job.fail(err.clone());
        return Err((None, err));
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| job.run(conn)));
    let (ok, reply) = match outcome {
        Ok((Err(err), reply)) if conn.is_autocommit() => {
            // SQLite rolled the whole transaction back itself (a full disk, an I/O
            // error): the batch is lost, and every caller in it hears this job's error.
            statuses.push(Err(err.clone()));
            return Err((Some(reply), err));
        }
        Ok((status, reply)) => {
            let ok = status.is_ok();
            statuses.push(status);
            (ok, Some(reply))
        }
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

/// A writer with the default options on a fresh file in a directory removed when the
/// test ends.
#[cfg(test)]
pub(crate) fn test_writer() -> (tempfile::TempDir, Writer) {
    let dir = crate::fixtures::temp_dir();
    let path = dir.path().join("t.db");
    let conn = super::conn::open_writer(&path, &super::SqliteOptions::default()).expect("open");
    let limits = BatchLimits {
        max_jobs: 64,
        max_time: Duration::from_millis(10),
    };
    let space = Arc::new(Space::new(&path, 0, 8192));
    (dir, Writer::start(conn, limits, space).expect("writer"))
}

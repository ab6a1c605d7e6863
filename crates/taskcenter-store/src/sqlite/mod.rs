//! The embedded store: one SQLite file in WAL mode, written through a group-commit thread.
//!
//! Writes (inserts, fire commits, leases, acks…) are queued to one writer thread that
//! commits many of them per fsync (see `writer.rs`); reads run on a small pool of read
//! connections on tokio's blocking pool, beside the writer thanks to WAL. Only indexed
//! queries are used and SQLite's page cache is bounded, so memory does not grow with the
//! number of stored tasks.
//!
//! Beside the store file `F` live `F.lock` (one process per store, see `lock.rs`) and
//! `F.reserve` (disk space kept to recover from a full disk, see `space.rs`).
//!
//! Choices the trait leaves open:
//! - A msgid is the delivery row id in decimal.
//! - A message's data and tag are read from its task when it is leased.
//! - Deleted tasks stay as rows marked deleted, invisible to reads and dedup, so their
//!   dead letters keep their payload; such dead letters cannot be requeued.
//! - An ack after the lease expired but before the message was leased again is accepted.
//! - An expired lease counts as leased until `expire_leases` sweeps it (or the group
//!   leases again), then as retrying or dead.
//! - Fire history shows one record per group; an unclaimed fire has no group and no
//!   msgid; a fire whose deliveries were all purged from the dead letters shows as dead.

mod conn;
mod counts;
mod dead;
mod depths;
mod error;
mod expiry;
mod failures;
mod fires;
mod held;
mod intake;
mod lock;
mod outbox;
mod probe;
mod queue;
mod retention;
mod rows;
mod space;
mod store;
mod sync;
mod tasks;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use self::error::map_err;
use self::writer::{BatchLimits, Writer};
use crate::error::StoreError;

/// Tuning of the embedded store; [`Default`] is what production uses.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// fsync the WAL on every durable commit (`synchronous=FULL`), so an accepted task
    /// survives power loss. `false` (`NORMAL`) still survives a process crash, not an OS
    /// crash. The outbox relay's leases and settles never wait for an fsync of their own
    /// (see `sync.rs`): lost, they only publish messages again.
    pub synchronous_full: bool,
    /// How long a statement waits for a lock held by another process.
    pub busy_timeout: Duration,
    /// Read connections kept open between reads.
    pub read_connections: usize,
    /// Most jobs one group commit gathers.
    pub max_batch_jobs: usize,
    /// Longest a group commit keeps gathering jobs before it commits.
    pub max_batch_time: Duration,
    /// Page cache of the write connection, in KiB (bounded whatever the data size).
    pub writer_cache_kib: i64,
    /// WAL size, in pages, that triggers a checkpoint after a commit.
    pub wal_autocheckpoint_pages: i64,
    /// Disk space kept aside beside the store file, given back when the disk is full so
    /// the WAL backlog can be checkpointed (see `space.rs`); 0 keeps none. At least the
    /// WAL backlog: `wal_autocheckpoint_pages` pages plus a large group commit.
    pub reserve_bytes: u64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            synchronous_full: true,
            busy_timeout: Duration::from_secs(5),
            read_connections: 4,
            max_batch_jobs: 4096,
            max_batch_time: Duration::from_millis(10),
            writer_cache_kib: 16 * 1024,
            wal_autocheckpoint_pages: 8192,
            // 16 MiB of 2 KiB WAL pages, and a group commit past the limit.
            reserve_bytes: 20 << 20,
        }
    }
}

/// The embedded SQLite store. Only one process may have a store file open (a second
/// open fails naming the holder's pid). Dropping it lets the writer finish the jobs
/// already queued, closes the file and waits for that (briefly blocking the dropping
/// thread), then releases the file to other processes.
pub struct SqliteStore {
    writer: Writer,
    intake: intake::Intake,
    /// Where the retention sweep goes on (a delivery id; 0 = from the bottom).
    purge_cursor: Arc<Mutex<i64>>,
    /// The outbox's leases held in memory (see `held.rs`).
    held: Arc<Mutex<held::HeldLeases>>,
    /// Taken by each outbox lease.
    outbox_lease: tokio::sync::Mutex<()>,
    readers: Arc<ReadPool>,
    /// The disk reserve, taken again by readiness probes once there is room.
    space: Arc<space::Space>,
    /// Held until the writer above has closed the file (fields drop in order).
    _lock: lock::StoreLock,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.readers.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it and its directory if missing) the store file at `path` with the
    /// default, fully durable options.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// Opens the store file at `path` with explicit options.
    pub async fn open_with(path: &Path, options: SqliteOptions) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(path, options))
            .await
            .map_err(|e| StoreError::Internal(format!("opening the sqlite store: {e}")))?
    }

    fn open_blocking(path: PathBuf, options: SqliteOptions) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("creating {}: {e}", dir.display())))?;
        }
        let lock = lock::StoreLock::acquire(&path)?;
        let conn = conn::open_writer(&path, &options).map_err(map_err)?;
        let limits = BatchLimits {
            max_jobs: options.max_batch_jobs.max(1),
            max_time: options.max_batch_time,
        };
        let space = Arc::new(space::Space::new(
            &path,
            options.reserve_bytes,
            options.wal_autocheckpoint_pages,
        ));
        space.take();
        space.set_wal_limits(&conn).map_err(map_err)?;
        let writer = Writer::start(conn, limits, Arc::clone(&space))
            .map_err(|e| StoreError::Internal(format!("starting the sqlite writer: {e}")))?;
        let readers = Arc::new(ReadPool {
            path,
            options,
            idle: Mutex::new(Vec::new()),
        });
        Ok(Self {
            writer,
            intake: intake::Intake::default(),
            purge_cursor: Arc::default(),
            held: Arc::default(),
            outbox_lease: tokio::sync::Mutex::new(()),
            readers,
            space,
            _lock: lock,
        })
    }

    /// Leases outbox messages: on a read connection, holding them in memory, unless one of
    /// them needs its lease stored; then on the writer. One outbox lease at a time, so
    /// two never take the same message.
    async fn lease_outbox(
        &self,
        req: crate::model::LeaseRequest,
        policy: crate::policy::DeliveryPolicy,
    ) -> Result<Vec<crate::model::Delivery>, StoreError> {
        let _one_at_a_time = self.outbox_lease.lock().await;
        if matches!(req.tags, taskcenter_core::TagFilter::All) {
            let skip = self.held_leases().ids(req.now_ms);
            let (r, p) = (req.clone(), policy.clone());
            let read = self
                .read(move |conn| queue::lease_unwritten(conn, &r, &p, &skip))
                .await?;
            if let Some(batch) = read {
                let mut held = self.held_leases();
                for (id, lease) in batch.leases {
                    held.hold(id, lease);
                }
                return Ok(batch.deliveries);
            }
        }
        let held = Arc::clone(&self.held);
        // Lost in a crash, an outbox lease only has its messages published again.
        self.writer
            .write_redoable(move |conn| {
                let mut held = held
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                queue::lease(conn, &req, &policy, Some(&mut held))
            })
            .await
    }

    /// The outbox's leases held in memory, locked.
    fn held_leases(&self) -> std::sync::MutexGuard<'_, held::HeldLeases> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work` on a read connection on the blocking pool.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let pool = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || pool.with(work))
            .await
            .map_err(|e| StoreError::Internal(format!("sqlite read task failed: {e}")))?
    }

    /// Runs `work` in the writer's next group commit; answers once it is durable.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.writer.write(work).await
    }
}

/// Read connections, opened on demand and kept up to `options.read_connections`.
struct ReadPool {
    path: PathBuf,
    options: SqliteOptions,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    fn with<T>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let pooled = self.lock().pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => conn::open_reader(&self.path, &self.options).map_err(map_err)?,
        };
        let result = work(&conn).map_err(map_err);
        let mut idle = self.lock();
        if idle.len() < self.options.read_connections {
            idle.push(conn);
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic elsewhere cannot leave a connection list half-updated.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod health_tests;
#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod redoable_tests;

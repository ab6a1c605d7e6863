//! The PostgreSQL store, for several `taskcenter serve` replicas on one database.
//!
//! Every operation is a few set-based statements on a pooled connection (`pool.rs`);
//! batches are one transaction each (a batch of fires is one statement; adds, batched or
//! not, are grouped into one multi-row insert per transaction by `batcher.rs`). The
//! schema lives in `migrations/`, applied at open.
//!
//! Replicas (see [`crate::replicas`]): the task space is split into 128 shards, each held
//! by one replica under an expiring lease in `shard_leases`. The lease keeper
//! (`keeper.rs`) renews this replica's leases and takes or gives back shards so the live
//! replicas (heartbeats in `replicas`) hold a fair share each. A fire commits only if, in
//! the same transaction, the task's lease row (locked `FOR SHARE`) still names this
//! replica at the epoch the keeper saw and has not expired by the database's clock
//! (`fires.rs`); the unique `(task_id, fire_time)` and the version check come on top.
//! Replicas tell each other what their engines and long-polls cannot see with
//! `NOTIFY` (`listener.rs`): tasks added for another replica's shards, and new messages.
//!
//! Choices the trait leaves open (as in the embedded store unless said):
//! - A msgid is the delivery row id in decimal.
//! - Deleted tasks stay as rows marked deleted; their dead letters cannot be requeued.
//! - An ack after the lease expired but before the message was leased again is accepted.
//! - `task_counts` and `queue_counts` count rows (there are no counter rows that every
//!   replica's writes would queue on); the queue count reads a partial index of the
//!   deliveries still in play.
//! - Until [`Replicated::join`](crate::Replicated::join) the store fires every task.

mod batcher;
mod dead;
mod depths;
mod error;
mod expiry;
mod failures;
mod fires;
mod insert;
mod keeper;
mod listener;
mod migrate;
mod outbox;
mod placement;
mod pool;
mod queue;
mod replicated;
mod retention;
mod rows;
mod store;
mod tasks;

use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio_postgres::Config;

use self::placement::Placement;
use self::pool::Pool;
use crate::error::StoreError;
use crate::replicas::ReplicaConfig;

/// Tuning of the PostgreSQL store; [`Default`] is what production uses.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Most connections one replica opens (besides its listener); the URL parameter
    /// `pool_size` overrides it.
    pub pool_size: usize,
    /// How long opening a connection may take, unless the URL says (`connect_timeout`).
    pub connect_timeout: Duration,
    /// The server ends a session that sits inside a transaction this long, so a replica
    /// frozen mid-commit cannot hold its locks for ever.
    pub idle_in_transaction_timeout: Duration,
    /// Longest any one statement may run.
    pub statement_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            pool_size: 10,
            connect_timeout: Duration::from_secs(5),
            idle_in_transaction_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(60),
        }
    }
}

/// The PostgreSQL store. Clones share the pool and the replica identity.
#[derive(Clone)]
pub struct PgStore {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("replica", &self.shared.me)
            .finish_non_exhaustive()
    }
}

/// What the store, its keeper and its listener share.
pub(crate) struct Shared {
    pub(crate) pool: Pool,
    /// This replica's name in `shard_leases.owner` and in notifications.
    pub(crate) me: String,
    pub(crate) placement: Placement,
    /// Moves when another replica may have made messages visible.
    pub(crate) arrivals: watch::Sender<u64>,
    /// Set once the replica joined the split.
    pub(crate) joined: OnceLock<ReplicaConfig>,
    /// Wakes the lease keeper early (another replica joined or left).
    pub(crate) keeper_poke: Notify,
    /// Adds waiting for the next group transaction.
    pub(crate) inserts: batcher::Batcher,
    /// Where this replica's retention sweep goes on (a delivery id; 0 = from the bottom).
    pub(crate) purge_cursor: std::sync::Mutex<i64>,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), applies the
    /// migrations, and answers as a store not yet joined to the replica split.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, PgOptions::default()).await
    }

    /// [`PgStore::open`] with explicit options.
    pub async fn open_with(url: &str, options: PgOptions) -> Result<Self, StoreError> {
        let (config, pool_size) = parse_url(url, &options)?;
        let pool = Pool::new(config, pool_size);
        let applied = migrate::migrate(&mut *pool.get().await?).await?;
        if !applied.is_empty() {
            tracing::info!(versions = ?applied, "postgres schema migrated");
        }
        let me = replica_name();
        tracing::info!(replica = %me, "postgres store open");
        Ok(Self {
            shared: Arc::new(Shared {
                pool,
                me,
                placement: Placement::new(),
                arrivals: watch::Sender::new(0),
                joined: OnceLock::new(),
                keeper_poke: Notify::new(),
                inserts: batcher::Batcher::default(),
                purge_cursor: std::sync::Mutex::new(0),
            }),
        })
    }

    /// This replica's name in the lease table.
    pub fn replica(&self) -> &str {
        &self.shared.me
    }
}

/// The driver's configuration from a URL, with our defaults, and the pool size.
fn parse_url(url: &str, options: &PgOptions) -> Result<(Config, usize), StoreError> {
    let bad = |why: String| StoreError::BadUrl(format!("{url}: {why}"));
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pool_size = options.pool_size;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("pool_size", n)) => {
                pool_size = n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad(format!("pool_size {n:?}")))?;
            }
            _ => kept.push(pair),
        }
    }
    let url = match kept.is_empty() {
        true => base.to_string(),
        false => format!("{base}?{}", kept.join("&")),
    };
    let mut config: Config = url.parse().map_err(|e| bad(format!("{e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(options.connect_timeout);
    }
    if config.get_application_name().is_none() {
        config.application_name("taskcenter");
    }
    // Every statement here is meant to run on an index. Without fresh statistics (a table
    // that grew fast, autovacuum off or behind), the planner's default estimates can pick
    // a sequential scan that costs the whole table per call; turning those off keeps the
    // plans on the indexes whatever the statistics say.
    let settings = format!(
        "-c enable_seqscan=off -c idle_in_transaction_session_timeout={} -c statement_timeout={}",
        options.idle_in_transaction_timeout.as_millis(),
        options.statement_timeout.as_millis()
    );
    let all = match config.get_options() {
        Some(given) => format!("{given} {settings}"),
        None => settings,
    };
    config.options(all);
    Ok((config, pool_size))
}

/// A name no other replica has: the process id and 32 random bits.
fn replica_name() -> String {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{}-{:08x}", std::process::id(), random as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parameters_of_ours_are_taken_out() {
        let o = PgOptions::default();
        let (c, n) = parse_url("postgres://u@h:5433/db?pool_size=3", &o).expect("parse");
        assert_eq!(
            (c.get_dbname(), c.get_ports(), n),
            (Some("db"), &[5433][..], 3)
        );
        assert_eq!(c.get_connect_timeout(), Some(&Duration::from_secs(5)));
        let (c, n) = parse_url("postgresql://u@h/db?connect_timeout=2", &o).expect("parse");
        assert_eq!(
            (c.get_connect_timeout(), n),
            (Some(&Duration::from_secs(2)), 10)
        );
        assert!(parse_url("postgres://u@h/db?pool_size=0", &o).is_err());
        assert!(parse_url("postgres://u@h/db?nonsense=1", &o).is_err());
    }
}

//! The optional power of a store that several `taskcenter serve` replicas share: the
//! firing is split by shards held under leases, and each replica hears what the others did
//! that its engine and its long-polls cannot see by themselves.
//!
//! A store only one process uses (the embedded one) answers `None` to
//! [`TaskStore::replicas`](crate::TaskStore::replicas) and none of this applies.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use taskcenter_core::TaskId;
use tokio::sync::watch;

pub use crate::background::Background;
use crate::error::StoreError;
use crate::model::{FireCommit, FireOutcome};

/// How a replica takes part in the split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// How long a shard lease lasts without renewal: the shards of a replica that died
    /// are taken over once its leases run out.
    pub shard_lease: Duration,
    /// How far ahead the engine holds tasks: a task added or changed by another replica
    /// that is due within this of its creation is worth telling its shard's owner about.
    pub window_ms: i64,
}

impl Default for ReplicaConfig {
    fn default() -> Self {
        Self {
            shard_lease: Duration::from_secs(10),
            window_ms: 60_000,
        }
    }
}

/// A counter that moves when something happened. A handle sees every move made after it
/// was handed out, however late it waits; moves made meanwhile coalesce into one.
#[derive(Debug, Clone)]
pub struct Signal(watch::Receiver<u64>);

impl Signal {
    /// A handle on the counter behind `sender` (for backends).
    pub fn new(sender: &watch::Sender<u64>) -> Self {
        Self(sender.subscribe())
    }

    /// Waits until the counter moves past what this handle last saw. Never returns once
    /// the counter's owner is gone.
    pub async fn changed(&mut self) {
        if self.0.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Waits on an optional signal: forever when there is none.
pub async fn changed(signal: &mut Option<Signal>) {
    match signal {
        Some(signal) => signal.changed().await,
        None => std::future::pending().await,
    }
}

/// What a shared store offers the server.
#[async_trait]
pub trait Replicated: Send + Sync {
    /// Joins the split and returns the loops to run (lease keeper, listener) until
    /// shutdown. From then on `due_tasks` answers only tasks of shards this replica holds,
    /// and `commit_fires` commits only under a live lease of the task's shard (else
    /// [`FireOutcome::Stale`]). Before, the store fires every task, fenced by the version
    /// check and the unique fire key alone.
    fn join(&self, config: ReplicaConfig) -> Vec<Arc<dyn Background>>;

    /// Whether this replica fires task `id` now (it holds the task's shard).
    fn owns(&self, id: TaskId) -> bool;

    /// Moves whenever the set of tasks this replica fires changed behind its engine's
    /// back: shards gained or lost, or tasks of its shards added or changed by another
    /// replica. The engine reloads its window then.
    fn placement(&self) -> Signal;

    /// Moves when another replica may have made messages visible (fires, nacks,
    /// requeues), so long-polls here look again.
    fn arrivals(&self) -> Signal;

    /// Commits a fire asked for by hand (trigger-now). Any replica may: it is not the
    /// schedule's fire, so no shard lease is needed; the version check and the unique
    /// fire key still apply.
    async fn commit_manual(&self, commit: FireCommit) -> Result<FireOutcome, StoreError>;
}

//! [`Replicated`] for [`PgStore`]: joining the shard split, and what the server asks of it.

use std::sync::Arc;

use async_trait::async_trait;
use taskcenter_core::TaskId;

use super::keeper::LeaseKeeper;
use super::listener::Listener;
use super::rows::shard_of;
use super::{PgStore, fires};
use crate::error::StoreError;
use crate::model::{FireCommit, FireOutcome};
use crate::replicas::{Background, ReplicaConfig, Replicated, Signal};

#[async_trait]
impl Replicated for PgStore {
    fn join(&self, config: ReplicaConfig) -> Vec<Arc<dyn Background>> {
        let lease = config.shard_lease;
        if self.shared.joined.set(config).is_err() {
            tracing::warn!("this store joined the replicas already");
            return Vec::new();
        }
        self.shared.placement.join();
        vec![
            Arc::new(LeaseKeeper::new(self.shared.clone(), lease)),
            Arc::new(Listener::new(self.shared.clone())),
        ]
    }

    fn owns(&self, id: TaskId) -> bool {
        self.shared.placement.owns(shard_of(id))
    }

    fn placement(&self) -> Signal {
        self.shared.placement.signal()
    }

    fn arrivals(&self) -> Signal {
        Signal::new(&self.shared.arrivals)
    }

    async fn commit_manual(&self, commit: FireCommit) -> Result<FireOutcome, StoreError> {
        let mut out = fires::commit(&self.shared, &[commit], false).await?;
        out.pop()
            .ok_or_else(|| StoreError::Internal("a commit came back without its outcome".into()))
    }
}

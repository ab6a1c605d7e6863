//! Handler slots: a consumer fetches only as many messages as it has free slots, so no
//! message waits leased in a local buffer while its lease runs.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// Waits for one free slot, then takes every other free one too. `None` once `stop` is
/// cancelled (or the slots are closed): the consumer is shutting down.
pub(crate) async fn free_slots(
    slots: &Arc<Semaphore>,
    stop: &CancellationToken,
) -> Option<Vec<OwnedSemaphorePermit>> {
    let first = tokio::select! {
        biased;
        _ = stop.cancelled() => return None,
        permit = slots.clone().acquire_owned() => permit.ok()?,
    };
    let mut permits = vec![first];
    while let Ok(p) = slots.clone().try_acquire_owned() {
        permits.push(p);
    }
    Some(permits)
}

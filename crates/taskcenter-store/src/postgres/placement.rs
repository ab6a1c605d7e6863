//! Which shards this replica holds, at which lease epoch, as the lease keeper last saw
//! them; and the signal that tells the engine when that (or its shards' tasks) changed.
//!
//! This is only this replica's belief: a fire still commits only after the database
//! confirms the lease (see `fires.rs`), so a stale belief costs a refused commit, never a
//! wrong fire.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

use super::rows::SHARDS;
use crate::replicas::Signal;

/// Held shards and their epochs; before [`Placement::join`] every shard counts as held.
pub(crate) struct Placement {
    joined: AtomicBool,
    /// Epoch per shard; `None` when not held.
    epochs: RwLock<[Option<i64>; SHARDS]>,
    changed: watch::Sender<u64>,
}

impl Placement {
    pub(crate) fn new() -> Self {
        Self {
            joined: AtomicBool::new(false),
            epochs: RwLock::new([None; SHARDS]),
            changed: watch::Sender::new(0),
        }
    }

    /// From now on only shards set by the keeper are held (none at first).
    pub(crate) fn join(&self) {
        self.joined.store(true, Ordering::Release);
        self.bump();
    }

    /// Whether the split applies (a lease keeper runs).
    pub(crate) fn is_joined(&self) -> bool {
        self.joined.load(Ordering::Acquire)
    }

    /// Whether this replica fires tasks of `shard`.
    pub(crate) fn owns(&self, shard: usize) -> bool {
        !self.is_joined() || self.epoch(shard).is_some()
    }

    /// The epoch under which `shard` is held.
    pub(crate) fn epoch(&self, shard: usize) -> Option<i64> {
        self.read().get(shard).copied().flatten()
    }

    /// Held shards with their epochs, ascending.
    pub(crate) fn held(&self) -> Vec<(i32, i64)> {
        self.read()
            .iter()
            .enumerate()
            .filter_map(|(shard, epoch)| epoch.map(|e| (shard as i32, e)))
            .collect()
    }

    /// Held shards as a bit set.
    pub(crate) fn mask(&self) -> u128 {
        self.read()
            .iter()
            .enumerate()
            .filter(|(_, epoch)| epoch.is_some())
            .fold(0, |mask, (shard, _)| mask | 1u128 << shard)
    }

    /// Replaces the held set; signals if it changed.
    pub(crate) fn set(&self, held: &[(i32, i64)]) {
        let mut next = [None; SHARDS];
        for &(shard, epoch) in held {
            if let Some(slot) = usize::try_from(shard).ok().and_then(|s| next.get_mut(s)) {
                *slot = Some(epoch);
            }
        }
        let changed = {
            let mut epochs = self.write();
            let changed = *epochs != next;
            *epochs = next;
            changed
        };
        if changed {
            self.bump();
        }
    }

    /// Forgets shards found lost (a commit's lease check failed); signals if any was held.
    pub(crate) fn lose(&self, shards: &[usize]) {
        let mut changed = false;
        {
            let mut epochs = self.write();
            for &shard in shards {
                if let Some(slot) = epochs.get_mut(shard) {
                    changed |= slot.take().is_some();
                }
            }
        }
        if changed {
            self.bump();
        }
    }

    /// Tells the engine to look again.
    pub(crate) fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A handle on the change signal.
    pub(crate) fn signal(&self) -> Signal {
        Signal::new(&self.changed)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, [Option<i64>; SHARDS]> {
        // Every write replaces whole values: a poisoned lock still holds a valid array.
        self.epochs.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, [Option<i64>; SHARDS]> {
        self.epochs.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_everything_until_joined_then_what_is_set() {
        let p = Placement::new();
        assert!(p.owns(5));
        p.join();
        assert!(!p.owns(5));
        p.set(&[(5, 2), (7, 1)]);
        assert_eq!((p.epoch(5), p.epoch(6)), (Some(2), None));
        assert_eq!(p.held(), vec![(5, 2), (7, 1)]);
        assert_eq!(p.mask(), (1 << 5) | (1 << 7));
        p.lose(&[5, 9]);
        assert_eq!(p.held(), vec![(7, 1)]);
    }

    #[tokio::test]
    async fn signals_changes_only() {
        let p = Placement::new();
        let mut s = p.signal();
        p.set(&[]);
        p.join();
        s.changed().await;
        p.set(&[(1, 1)]);
        s.changed().await;
        p.set(&[(1, 1)]);
        let again = tokio::time::timeout(std::time::Duration::from_millis(20), s.changed());
        assert!(again.await.is_err(), "no change, no signal");
    }
}

//! Skipping fires already handled: brokers deliver at least once, so the same fire (same
//! `fire_id`) may arrive twice — a redelivery after a lost ack, or the server publishing an
//! `ack` task's fire again because its ack did not reach the server.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// Remembers which fires were handled. The consumer asks [`seen`](Self::seen) before it
/// runs the handlers and calls [`remember`](Self::remember) after they all succeeded (a
/// failed fire is not remembered, so its retry runs). Implement it over a shared store
/// (Redis `SET NX`, a database table) to dedup across processes.
pub trait SeenFires: Send + Sync + std::fmt::Debug {
    /// Whether `fire_id` was handled already.
    fn seen(&self, fire_id: &str) -> bool;
    /// Records that `fire_id` was handled.
    fn remember(&self, fire_id: &str);
}

/// An in-process [`SeenFires`] holding the last `capacity` fire ids.
///
/// Limits: it is per process (another consumer of the group may still run a fire this one
/// ran), forgets everything on restart, forgets the oldest ids beyond `capacity`, and two
/// deliveries of one fire running at the same moment both run (it records a fire once its
/// handlers succeeded).
#[derive(Debug)]
pub struct RecentFires {
    capacity: usize,
    inner: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl RecentFires {
    /// Remembers up to `capacity` fire ids (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new((HashSet::new(), VecDeque::new())),
        }
    }
}

impl SeenFires for RecentFires {
    fn seen(&self, fire_id: &str) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.0.contains(fire_id)
    }

    fn remember(&self, fire_id: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *inner;
        if set.insert(fire_id.to_string()) {
            order.push_back(fire_id.to_string());
        }
        while order.len() > self.capacity {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_up_to_capacity() {
        let seen = RecentFires::new(2);
        assert!(!seen.seen("a"));
        seen.remember("a");
        seen.remember("b");
        seen.remember("a");
        assert!(seen.seen("a") && seen.seen("b"));
        seen.remember("c");
        assert!(!seen.seen("a"), "the oldest is forgotten");
        assert!(seen.seen("b") && seen.seen("c"));
    }
}

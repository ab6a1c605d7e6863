//! Outbox leases held in memory instead of in the table.
//!
//! A lease exists to keep other consumers off a message while one handles it. The outbox
//! has one consumer per store, the relay of the one process that may open the file, so a
//! lease written to the table only costs the writer (the row and its ready-index entry
//! rewritten at the lease and again at the settle) for nothing another process could see.
//! Instead, a message of a task without end-to-end ack is held here from its lease to its
//! settle, and the settle writes the lease's outcome straight from the row's waiting
//! state.
//!
//! The lease reads its candidates on a read connection, off the writer: a message stays
//! held until its settle has committed, and a lease takes the held ids before it starts its
//! read, so a message it finds waiting is either still held (and passed over) or its
//! settle was not committed when the read began. A held lease runs out like a stored one (a
//! relay that lost track of it publishes the message again); a process that dies loses its
//! held leases, and its messages, still waiting in the table, are published again at once.

use std::collections::{HashMap, HashSet};

use super::rows::{parse_msgid, state};
use crate::model::{DeliveryState, FireRecord, QueueCounts};
use crate::outbox::{OUTBOX_GROUP, OutboxSettle};

/// One message's lease held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeldLease {
    /// The delivery the relay publishes (the row's attempt plus one).
    pub attempt: i64,
    /// The row's state when leased (published or retrying), for the counters.
    pub from_state: i16,
    /// Until then no lease takes the message again.
    pub until: i64,
}

impl HeldLease {
    /// The row's attempt while held: the settle applies only if it did not move.
    pub(crate) fn row_attempt(&self) -> i64 {
        self.attempt - 1
    }
}

/// Held leases by delivery row id.
pub(crate) type Leases = HashMap<i64, HeldLease>;

/// The held outbox leases, by delivery row id.
#[derive(Debug, Default)]
pub(crate) struct HeldLeases {
    leases: Leases,
}

impl HeldLeases {
    /// Forgets leases run out at `now_ms`; how many are still held.
    pub(crate) fn expire(&mut self, now_ms: i64) -> usize {
        self.leases.retain(|_, lease| lease.until > now_ms);
        self.leases.len()
    }

    /// The ids held at `now_ms`, for a lease to pass over.
    pub(crate) fn ids(&mut self, now_ms: i64) -> HashSet<i64> {
        self.expire(now_ms);
        self.leases.keys().copied().collect()
    }

    /// The held leases the settles name (by id and delivery).
    pub(crate) fn named(&self, settles: &[OutboxSettle]) -> Leases {
        settles
            .iter()
            .filter_map(|s| {
                let id = parse_msgid(&s.msgid)?;
                let lease = self.leases.get(&id).filter(|l| l.attempt == s.attempt)?;
                Some((id, *lease))
            })
            .collect()
    }

    /// Lets go of `settled` once their settle committed (or failed: the messages wait in
    /// the table and are leased again).
    pub(crate) fn forget(&mut self, settled: &Leases) {
        for (id, lease) in settled {
            self.release(*id, lease.attempt);
        }
    }

    /// Whether message `id` is held.
    pub(crate) fn holds(&self, id: i64) -> bool {
        self.leases.contains_key(&id)
    }

    /// Holds message `id`.
    pub(crate) fn hold(&mut self, id: i64, lease: HeldLease) {
        self.leases.insert(id, lease);
    }

    /// Shows the held messages among `records`, read from the table where they still
    /// wait, as leased by their held delivery.
    pub(crate) fn show_in(&self, records: &mut [FireRecord]) {
        for r in records {
            if r.group.as_deref() != Some(OUTBOX_GROUP) {
                continue;
            }
            let lease = r
                .msgid
                .as_deref()
                .and_then(parse_msgid)
                .and_then(|id| self.leases.get(&id));
            if let Some(lease) = lease
                && r.attempts == lease.row_attempt()
                && matches!(r.state, DeliveryState::Published | DeliveryState::Retrying)
            {
                r.state = DeliveryState::Leased;
                r.attempts = lease.attempt;
            }
        }
    }

    /// Counts the held messages the table counts as waiting as leased.
    pub(crate) fn count_in(&self, counts: &mut QueueCounts) {
        let waiting = self
            .leases
            .values()
            .filter(|l| matches!(l.from_state, state::PUBLISHED | state::RETRYING))
            .count();
        let waiting = i64::try_from(waiting).unwrap_or(i64::MAX).min(counts.ready);
        counts.ready -= waiting;
        counts.leased += waiting;
    }

    /// Lets go of message `id` if it is held for delivery `attempt`, answering the lease.
    pub(crate) fn release(&mut self, id: i64, attempt: i64) -> Option<HeldLease> {
        match self.leases.get(&id) {
            Some(lease) if lease.attempt == attempt => self.leases.remove(&id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(attempt: i64, until: i64) -> HeldLease {
        HeldLease {
            attempt,
            from_state: 0,
            until,
        }
    }

    #[test]
    fn a_lease_is_released_only_by_its_own_delivery() {
        let mut held = HeldLeases::default();
        held.hold(7, lease(2, 1_000));
        assert!(held.holds(7));
        assert_eq!(held.release(7, 1), None, "an older delivery's settle");
        assert!(held.holds(7));
        assert_eq!(held.release(7, 2), Some(lease(2, 1_000)));
        assert!(!held.holds(7));
        assert_eq!(held.release(7, 2), None, "settled twice");
    }

    #[test]
    fn a_lease_runs_out_at_its_end() {
        let mut held = HeldLeases::default();
        held.hold(1, lease(1, 1_000));
        held.hold(2, lease(1, 2_000));
        assert_eq!(held.expire(999), 2);
        assert_eq!(held.expire(1_000), 1);
        assert!(!held.holds(1));
        assert!(held.holds(2));
    }
}

//! How both backends encode what they store: status and delivery-state codes, msgids,
//! fire ids and the dedup hash. Stored values, so none of this may change once released.

use std::collections::HashSet;

use taskcenter_core::{TaskId, TaskStatus};

use crate::model::{DeliveryState, LeaseRef};

/// `tasks.status` codes. A deleted task is kept (for its dead letters and history) and
/// is invisible to reads and dedup.
pub(crate) mod status {
    pub const SCHEDULED: i16 = 0;
    pub const PAUSED: i16 = 1;
    pub const FINISHED: i16 = 2;
    pub const DELETED: i16 = 3;
}

/// `deliveries.state` codes. Codes below [`state::LEASED_FINAL`] are deliverable: the
/// ready indexes hold exactly those rows.
pub(crate) mod state {
    /// Waiting for its first lease (or requeued from the dead letters).
    pub const PUBLISHED: i16 = 0;
    /// Failed at least once, visible again at `visible_at`.
    pub const RETRYING: i16 = 1;
    /// Leased with retries left; `visible_at = lease_until + next ladder delay`, so an
    /// expired lease comes back by itself.
    pub const LEASED: i16 = 2;
    /// Leased for the last time; `visible_at = lease_until`, dead once expired.
    pub const LEASED_FINAL: i16 = 3;
    pub const ACKED: i16 = 4;
    pub const DEAD: i16 = 5;
    /// Its task was deleted before it was consumed.
    pub const CANCELLED: i16 = 6;
    /// No group has subscribed to its tag yet (no group).
    pub const UNCLAIMED: i16 = 7;
}

/// The state code of a leased message: [`state::LEASED_FINAL`] for its `last` delivery.
pub(crate) fn leased_state(last: bool) -> i16 {
    if last {
        state::LEASED_FINAL
    } else {
        state::LEASED
    }
}

/// Whether an ack of delivery `asked` (`None`: the current one) takes a message in state
/// `code` that was delivered `attempt` times. Any delivery's consumer may ack, even after
/// its lease ran out and the message went on (retrying, leased again, dead): the work is
/// done, and a redelivery would only repeat it. A message never delivered, or a claimed
/// delivery that never happened, is not acked. Acking an acked message is not a change
/// (the caller hears success all the same).
pub(crate) fn ack_takes(code: i16, attempt: i64, asked: Option<i64>) -> bool {
    let delivered = matches!(
        code,
        state::RETRYING | state::LEASED | state::LEASED_FINAL | state::DEAD
    ) && attempt >= 1;
    delivered && asked.is_none_or(|a| (1..=attempt).contains(&a))
}

/// Whether a nack of delivery `asked` (`None`: the current one) gives back a message in
/// state `code` delivered `attempt` times: only the current lease can, so a consumer
/// whose lease ran out cannot reschedule the next consumer's delivery.
pub(crate) fn nack_takes(code: i16, attempt: i64, asked: Option<i64>) -> bool {
    matches!(code, state::LEASED | state::LEASED_FINAL) && asked.is_none_or(|a| a == attempt)
}

/// The stored code of a status.
pub(crate) fn status_code(status: TaskStatus) -> i16 {
    match status {
        TaskStatus::Scheduled => status::SCHEDULED,
        TaskStatus::Paused => status::PAUSED,
        TaskStatus::Finished => status::FINISHED,
    }
}

/// The status of a stored code; `None` for deleted or unknown codes.
pub(crate) fn status_of(code: i16) -> Option<TaskStatus> {
    match code {
        status::SCHEDULED => Some(TaskStatus::Scheduled),
        status::PAUSED => Some(TaskStatus::Paused),
        status::FINISHED => Some(TaskStatus::Finished),
        _ => None,
    }
}

/// The public state of a stored delivery-state code; `None` for unknown codes.
pub(crate) fn delivery_state(code: i16) -> Option<DeliveryState> {
    Some(match code {
        state::PUBLISHED => DeliveryState::Published,
        state::RETRYING => DeliveryState::Retrying,
        state::LEASED | state::LEASED_FINAL => DeliveryState::Leased,
        state::ACKED => DeliveryState::Acked,
        state::DEAD => DeliveryState::Dead,
        state::CANCELLED => DeliveryState::Cancelled,
        state::UNCLAIMED => DeliveryState::Unclaimed,
        _ => return None,
    })
}

/// A msgid is the delivery row id in decimal: short, and stable across redeliveries.
pub(crate) fn msgid(id: i64) -> String {
    id.to_string()
}

/// The delivery row id named by a msgid, `None` for text no msgid can be.
pub(crate) fn parse_msgid(text: &str) -> Option<i64> {
    text.parse().ok()
}

/// The delivery row ids named by msgids, in order, each once; text no msgid can be is
/// left out.
pub(crate) fn parse_msgids(msgids: &[String]) -> Vec<i64> {
    let mut seen = HashSet::new();
    msgids
        .iter()
        .filter_map(|m| parse_msgid(m))
        .filter(|id| seen.insert(*id))
        .collect()
}

/// The delivery row ids named by leases, in order, each once (the first reference to it
/// wins), with the attempt each names; text no msgid can be is left out.
pub(crate) fn parse_leases(leases: &[LeaseRef]) -> Vec<(i64, &LeaseRef)> {
    let mut seen = HashSet::new();
    leases
        .iter()
        .filter_map(|l| parse_msgid(&l.msgid).map(|id| (id, l)))
        .filter(|(id, _)| seen.insert(*id))
        .collect()
}

/// `"<taskid>-<fire_time>"`: unique for ever, so consumers can dedup on it.
pub(crate) fn fire_id(task: TaskId, fire_time: i64) -> String {
    format!("{task}-{fire_time}")
}

/// FNV-1a over `name`, a separator byte no UTF-8 text holds, and `data`. Stored, so it
/// must never change (std's hasher is not promised to be stable across releases).
pub(crate) fn dedup_hash(name: &str, data: &str) -> i64 {
    fnv1a(name.bytes().chain([0xff]).chain(data.bytes())) as i64
}

/// 64-bit FNV-1a: tiny, and the same on every platform and release.
pub(crate) fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_hash_is_pinned_and_separates_fields() {
        // Stored values: they must survive upgrades.
        assert_eq!(dedup_hash("a", "b"), 0xe57d_a319_03de_37b1_u64 as i64);
        assert_ne!(dedup_hash("ab", ""), dedup_hash("a", "b"));
    }

    #[test]
    fn msgids_round_trip_and_parse_in_order_once() {
        assert_eq!(parse_msgid(&msgid(42)), Some(42));
        assert_eq!(parse_msgid("x"), None);
        let text = ["3", "x", "1", "3", ""].map(String::from);
        assert_eq!(parse_msgids(&text), vec![3, 1]);
    }

    #[test]
    fn fire_ids_name_task_and_time() {
        let task = TaskId::from_bytes([0xab; 12]);
        assert_eq!(fire_id(task, 1_700), format!("{task}-1700"));
    }

    #[test]
    fn any_delivery_may_ack_only_the_current_one_nack() {
        assert!(ack_takes(state::LEASED, 2, None));
        assert!(
            ack_takes(state::LEASED, 2, Some(1)),
            "a late ack of attempt 1"
        );
        assert!(
            ack_takes(state::RETRYING, 1, Some(1)),
            "after the lease ran out"
        );
        assert!(ack_takes(state::DEAD, 3, None));
        assert!(
            !ack_takes(state::LEASED, 2, Some(3)),
            "a delivery not made yet"
        );
        assert!(!ack_takes(state::PUBLISHED, 0, None), "never delivered");
        assert!(!ack_takes(state::ACKED, 1, None), "nothing to change");
        assert!(!ack_takes(state::CANCELLED, 1, None));
        assert!(nack_takes(state::LEASED_FINAL, 2, Some(2)));
        assert!(nack_takes(state::LEASED, 2, None));
        assert!(!nack_takes(state::LEASED, 2, Some(1)), "a stale lease");
        assert!(!nack_takes(state::RETRYING, 1, None));
    }

    #[test]
    fn codes_round_trip() {
        for s in [
            TaskStatus::Scheduled,
            TaskStatus::Paused,
            TaskStatus::Finished,
        ] {
            assert_eq!(status_of(status_code(s)), Some(s));
        }
        assert_eq!(status_of(status::DELETED), None);
        assert_eq!(
            delivery_state(state::LEASED_FINAL),
            Some(DeliveryState::Leased)
        );
        assert_eq!(delivery_state(99), None);
    }
}

//! Row encodings: task columns, status and delivery-state codes, msgids, the dedup hash.

use rusqlite::Row;
use taskcenter_core::{MisfirePolicy, Task, TaskId, TaskKind, TaskStatus};

use super::error::bad_value;
use crate::model::DeliveryState;

/// `tasks.status` of a deleted task: kept for its dead letters, invisible otherwise.
pub(crate) const STATUS_DELETED: i64 = 3;

/// `deliveries.state` codes; see the migration for what each means.
pub(crate) mod state {
    pub const PUBLISHED: i64 = 0;
    pub const RETRYING: i64 = 1;
    pub const LEASED: i64 = 2;
    pub const LEASED_FINAL: i64 = 3;
    pub const ACKED: i64 = 4;
    pub const DEAD: i64 = 5;
    pub const CANCELLED: i64 = 6;
    pub const UNCLAIMED: i64 = 7;
}

/// The stored code of a status.
pub(crate) fn status_code(status: TaskStatus) -> i64 {
    match status {
        TaskStatus::Scheduled => 0,
        TaskStatus::Paused => 1,
        TaskStatus::Finished => 2,
    }
}

fn status_from_code(column: usize, code: i64) -> rusqlite::Result<TaskStatus> {
    match code {
        0 => Ok(TaskStatus::Scheduled),
        1 => Ok(TaskStatus::Paused),
        2 => Ok(TaskStatus::Finished),
        _ => Err(bad_value(column, format!("task status code {code}"))),
    }
}

/// The public state of a stored delivery state.
pub(crate) fn delivery_state(column: usize, code: i64) -> rusqlite::Result<DeliveryState> {
    Ok(match code {
        state::PUBLISHED => DeliveryState::Published,
        state::RETRYING => DeliveryState::Retrying,
        state::LEASED | state::LEASED_FINAL => DeliveryState::Leased,
        state::ACKED => DeliveryState::Acked,
        state::DEAD => DeliveryState::Dead,
        state::CANCELLED => DeliveryState::Cancelled,
        state::UNCLAIMED => DeliveryState::Unclaimed,
        _ => return Err(bad_value(column, format!("delivery state code {code}"))),
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

/// `"<taskid>-<fire_time>"`.
pub(crate) fn fire_id(task: TaskId, fire_time: i64) -> String {
    format!("{task}-{fire_time}")
}

/// Reads a task id from a 12-byte blob column.
pub(crate) fn task_id(row: &Row<'_>, column: usize) -> rusqlite::Result<TaskId> {
    let raw: Vec<u8> = row.get(column)?;
    let bytes: [u8; 12] = raw
        .try_into()
        .map_err(|raw: Vec<u8>| bad_value(column, format!("task id of {} bytes", raw.len())))?;
    Ok(TaskId::from_bytes(bytes))
}

/// FNV-1a over `name`, a separator byte no UTF-8 text holds, and `data`. Stored, so it
/// must never change (std's hasher is not promised to be stable across releases).
pub(crate) fn dedup_hash(name: &str, data: &str) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let bytes = name.bytes().chain([0xff]).chain(data.bytes());
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    hash as i64
}

/// Task columns in the order [`read_task`] expects, for `tasks t JOIN task_payloads p`.
pub(crate) const TASK_COLUMNS: &str = "t.id, t.name, t.kind, p.data, t.crontab, t.loop_time, \
     t.loop_count, t.start_time, t.end_time, t.max_runtime, t.ack, t.timezone, t.misfire, \
     t.created_at_ms, t.status, t.next_fire_ms, t.fire_count, t.version";

/// Decodes a row selected with [`TASK_COLUMNS`].
pub(crate) fn read_task(row: &Row<'_>) -> rusqlite::Result<Task> {
    let kind: i64 = row.get(2)?;
    let misfire: String = row.get(12)?;
    Ok(Task {
        id: task_id(row, 0)?,
        name: row.get(1)?,
        kind: TaskKind::from_code(kind).ok_or_else(|| bad_value(2, format!("task kind {kind}")))?,
        data: row.get(3)?,
        crontab: row.get(4)?,
        loop_time: row.get(5)?,
        loop_count: row.get(6)?,
        start_time: row.get(7)?,
        end_time: row.get(8)?,
        max_runtime: row.get(9)?,
        ack: row.get(10)?,
        timezone: row.get(11)?,
        misfire: MisfirePolicy::parse(&misfire)
            .ok_or_else(|| bad_value(12, format!("misfire policy {misfire:?}")))?,
        created_at_ms: row.get(13)?,
        status: status_from_code(14, row.get(14)?)?,
        next_fire_ms: row.get(15)?,
        fire_count: row.get(16)?,
        version: row.get(17)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_hash_is_stable_and_separates_fields() {
        // Pinned: stored hashes must survive upgrades.
        assert_eq!(dedup_hash("", ""), dedup_hash("", ""));
        assert_eq!(dedup_hash("a", "b"), 0xe57d_a319_03de_37b1_u64 as i64);
        assert_ne!(dedup_hash("ab", ""), dedup_hash("a", "b"));
    }

    #[test]
    fn msgids_round_trip() {
        assert_eq!(parse_msgid(&msgid(42)), Some(42));
        assert_eq!(parse_msgid("x"), None);
    }
}

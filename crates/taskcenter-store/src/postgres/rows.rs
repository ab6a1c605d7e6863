//! Row encodings: task columns, status and delivery-state codes (the embedded store's),
//! msgids, the dedup hash and the shard of a task.

use taskcenter_core::{MisfirePolicy, Task, TaskId, TaskKind, TaskStatus};
use tokio_postgres::Row;

use super::error::{corrupt, map_err};
use crate::error::StoreError;
use crate::model::DeliveryState;

/// Number of shards the task space is split into; the migration makes one lease row each.
pub(crate) const SHARDS: usize = 128;

/// `tasks.status` of a deleted task: kept for its dead letters, invisible otherwise.
pub(crate) const STATUS_DELETED: i16 = 3;

/// `deliveries.state` codes; see the migration for what each means.
pub(crate) mod state {
    pub const PUBLISHED: i16 = 0;
    pub const RETRYING: i16 = 1;
    pub const LEASED: i16 = 2;
    pub const LEASED_FINAL: i16 = 3;
    pub const ACKED: i16 = 4;
    pub const DEAD: i16 = 5;
    pub const CANCELLED: i16 = 6;
    pub const UNCLAIMED: i16 = 7;
}

/// The stored code of a status.
pub(crate) fn status_code(status: TaskStatus) -> i16 {
    match status {
        TaskStatus::Scheduled => 0,
        TaskStatus::Paused => 1,
        TaskStatus::Finished => 2,
    }
}

fn status_from_code(code: i16) -> Result<TaskStatus, StoreError> {
    match code {
        0 => Ok(TaskStatus::Scheduled),
        1 => Ok(TaskStatus::Paused),
        2 => Ok(TaskStatus::Finished),
        _ => Err(corrupt(format!("task status code {code}"))),
    }
}

/// The public state of a stored delivery state.
pub(crate) fn delivery_state(code: i16) -> Result<DeliveryState, StoreError> {
    Ok(match code {
        state::PUBLISHED => DeliveryState::Published,
        state::RETRYING => DeliveryState::Retrying,
        state::LEASED | state::LEASED_FINAL => DeliveryState::Leased,
        state::ACKED => DeliveryState::Acked,
        state::DEAD => DeliveryState::Dead,
        state::CANCELLED => DeliveryState::Cancelled,
        state::UNCLAIMED => DeliveryState::Unclaimed,
        _ => return Err(corrupt(format!("delivery state code {code}"))),
    })
}

/// A msgid is the delivery row id in decimal.
pub(crate) fn msgid(id: i64) -> String {
    id.to_string()
}

/// The delivery row ids named by msgids, in order, each once; text no msgid can be is
/// left out.
pub(crate) fn parse_msgids(msgids: &[String]) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
    msgids
        .iter()
        .filter_map(|m| m.parse::<i64>().ok())
        .filter(|id| seen.insert(*id))
        .collect()
}

/// `"<taskid>-<fire_time>"`.
pub(crate) fn fire_id(task: TaskId, fire_time: i64) -> String {
    format!("{task}-{fire_time}")
}

/// A task id from a `bytea` column.
pub(crate) fn task_id(row: &Row, column: usize) -> Result<TaskId, StoreError> {
    let raw: &[u8] = row.try_get(column).map_err(map_err)?;
    let bytes: [u8; 12] = raw
        .try_into()
        .map_err(|_| corrupt(format!("task id of {} bytes", raw.len())))?;
    Ok(TaskId::from_bytes(bytes))
}

/// A column's value, undecodable values being corrupt data.
pub(crate) fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    column: usize,
) -> Result<T, StoreError> {
    row.try_get(column).map_err(map_err)
}

/// A payload stored as its UTF-8 bytes (`bytea`: text cannot hold NUL).
pub(crate) fn payload(row: &Row, column: usize) -> Result<String, StoreError> {
    let raw: Vec<u8> = get(row, column)?;
    String::from_utf8(raw).map_err(|_| corrupt("a payload that is not UTF-8"))
}

/// FNV-1a over `name`, a separator byte no UTF-8 text holds, and `data` (the embedded
/// store's hash). Stored, so it must never change.
pub(crate) fn dedup_hash(name: &str, data: &str) -> i64 {
    fnv1a(name.bytes().chain([0xff]).chain(data.bytes())) as i64
}

/// The shard of a task: FNV-1a of its id, modulo [`SHARDS`]. Stored with the task, so it
/// must never change.
pub(crate) fn shard_of(id: TaskId) -> usize {
    (fnv1a(id.as_bytes().iter().copied()) % SHARDS as u64) as usize
}

fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// Task columns in the order [`read_task`] expects.
macro_rules! task_columns {
    () => {
        "id, name, kind, data, crontab, loop_time, loop_count, start_time, end_time, \
         max_runtime, ack, timezone, misfire, created_at_ms, status, next_fire_ms, \
         fire_count, version"
    };
}
pub(crate) use task_columns;

/// Decodes a row selected with [`task_columns`].
pub(crate) fn read_task(row: &Row) -> Result<Task, StoreError> {
    let kind: i16 = get(row, 2)?;
    let misfire: &str = get(row, 12)?;
    Ok(Task {
        id: task_id(row, 0)?,
        name: get(row, 1)?,
        kind: TaskKind::from_code(i64::from(kind))
            .ok_or_else(|| corrupt(format!("task kind {kind}")))?,
        data: payload(row, 3)?,
        crontab: get(row, 4)?,
        loop_time: get(row, 5)?,
        loop_count: get(row, 6)?,
        start_time: get(row, 7)?,
        end_time: get(row, 8)?,
        max_runtime: get(row, 9)?,
        ack: get(row, 10)?,
        timezone: get(row, 11)?,
        misfire: MisfirePolicy::parse(misfire)
            .ok_or_else(|| corrupt(format!("misfire policy {misfire:?}")))?,
        created_at_ms: get(row, 13)?,
        status: status_from_code(get(row, 14)?)?,
        next_fire_ms: get(row, 15)?,
        fire_count: get(row, 16)?,
        version: get(row, 17)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_pinned() {
        // Stored values: they must survive upgrades, and match the embedded store's.
        assert_eq!(dedup_hash("a", "b"), 0xe57d_a319_03de_37b1_u64 as i64);
        assert_ne!(dedup_hash("ab", ""), dedup_hash("a", "b"));
        assert_eq!(shard_of(TaskId::from_bytes([0; 12])), 21);
    }

    #[test]
    fn shards_spread_evenly() {
        let ids = taskcenter_core::IdGenerator::new();
        let mut counts = [0usize; SHARDS];
        for i in 0..SHARDS * 200 {
            counts[shard_of(ids.next(1_700_000_000_000 + i as i64))] += 1;
        }
        assert!(
            counts.iter().all(|&n| (100..300).contains(&n)),
            "{counts:?}"
        );
    }

    #[test]
    fn msgids_parse_in_order_once() {
        let text = ["3", "x", "1", "3", ""].map(String::from);
        assert_eq!(parse_msgids(&text), vec![3, 1]);
        assert_eq!(msgid(42), "42");
    }
}

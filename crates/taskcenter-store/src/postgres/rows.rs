//! Row mapping: task columns, ids and payloads, and the shard of a task; the stored codes
//! come from [`crate::codec`].

use taskcenter_core::{MisfirePolicy, Task, TaskId, TaskKind, TaskStatus};
use tokio_postgres::Row;

use super::error::{corrupt, map_err};
use crate::error::StoreError;
use crate::model::DeliveryState;

/// Number of shards the task space is split into; the migration makes one lease row each.
pub(crate) const SHARDS: usize = 128;

pub(crate) use crate::codec::status::DELETED as STATUS_DELETED;
pub(crate) use crate::codec::{dedup_hash, fire_id, msgid, parse_msgids, state, status_code};

fn status_from_code(code: i16) -> Result<TaskStatus, StoreError> {
    crate::codec::status_of(code).ok_or_else(|| corrupt(format!("task status code {code}")))
}

/// The public state of a stored delivery state.
pub(crate) fn delivery_state(code: i16) -> Result<DeliveryState, StoreError> {
    crate::codec::delivery_state(code).ok_or_else(|| corrupt(format!("delivery state code {code}")))
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

/// The shard of a task: FNV-1a of its id, modulo [`SHARDS`]. Stored with the task, so it
/// must never change.
pub(crate) fn shard_of(id: TaskId) -> usize {
    (crate::codec::fnv1a(id.as_bytes().iter().copied()) % SHARDS as u64) as usize
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
}

//! Task statements: reads, compare-and-set replace, soft delete, the window query
//! (adding them is `insert.rs`).

use taskcenter_core::{Task, TaskId, TaskStatus};

use super::Shared;
use super::listener::{self, Channel};
use super::rows::{
    STATUS_DELETED, dedup_hash, get, read_task, shard_of, status_code, task_columns, task_id,
};
use crate::error::StoreError;
use crate::model::{TaskFilter, TaskOrder};

const GET: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM tasks WHERE id = $1 AND status < 3"
);

/// One task that is not deleted.
pub(crate) async fn get_one(s: &Shared, id: TaskId) -> Result<Option<Task>, StoreError> {
    let mut conn = s.pool.get().await?;
    let rows = conn.query(GET, &[&&id.as_bytes()[..]]).await?;
    rows.first().map(read_task).transpose()
}

const LIST_BY_NAME: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM tasks WHERE name = $1 AND status < 3 AND ($2::smallint IS NULL OR status = $2) \
     AND ($5::text IS NULL OR strpos(lower(name), lower($5)) > 0) \
     ORDER BY created_at_ms DESC, id DESC LIMIT $3 OFFSET $4"
);

const LIST_ALL: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM tasks WHERE status < 3 AND ($1::smallint IS NULL OR status = $1) \
     AND ($4::text IS NULL OR strpos(lower(name), lower($4)) > 0) \
     ORDER BY created_at_ms DESC, id DESC LIMIT $2 OFFSET $3"
);

const LIST_NEXT: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM tasks WHERE status = 0 AND next_fire_ms IS NOT NULL \
     AND ($1::text IS NULL OR name = $1) \
     AND ($4::text IS NULL OR strpos(lower(name), lower($4)) > 0) ORDER BY next_fire_ms, id LIMIT $2 OFFSET $3"
);

/// Tasks by name and/or status, newest first (or by next fire), paged.
pub(crate) async fn list(s: &Shared, filter: &TaskFilter) -> Result<Vec<Task>, StoreError> {
    let status = filter.status.map(status_code);
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
    let search = &filter.search;
    let mut conn = s.pool.get().await?;
    let rows = match (filter.order, &filter.name) {
        (TaskOrder::NextFire, name) => {
            conn.query(LIST_NEXT, &[name, &limit, &offset, search])
                .await?
        }
        (TaskOrder::Newest, Some(name)) => {
            conn.query(LIST_BY_NAME, &[name, &status, &limit, &offset, search])
                .await?
        }
        (TaskOrder::Newest, None) => {
            conn.query(LIST_ALL, &[&status, &limit, &offset, search])
                .await?
        }
    };
    rows.iter().map(read_task).collect()
}

const REPLACE: &str = "UPDATE tasks SET name = $2, kind = $3, data = $4, crontab = $5, \
     loop_time = $6, loop_count = $7, start_time = $8, end_time = $9, max_runtime = $10, \
     ack = $11, timezone = $12, misfire = $13, created_at_ms = $14, status = $15, \
     next_fire_ms = $16, fire_count = $17, version = $18 + 1, dedup_hash = $19 \
     WHERE id = $1 AND version = $18 AND status < 3";

/// Compare-and-set: writes `task` only if its stored version is `expected`.
pub(crate) async fn replace(s: &Shared, t: &Task, expected: i64) -> Result<bool, StoreError> {
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    let changed = tx
        .execute(
            REPLACE,
            &[
                &&t.id.as_bytes()[..],
                &t.name,
                &(t.kind.code() as i16),
                &t.data.as_bytes(),
                &t.crontab,
                &t.loop_time,
                &t.loop_count,
                &t.start_time,
                &t.end_time,
                &t.max_runtime,
                &t.ack,
                &t.timezone,
                &t.misfire.as_str(),
                &t.created_at_ms,
                &status_code(t.status),
                &t.next_fire_ms,
                &t.fire_count,
                &expected,
                &dedup_hash(&t.name, &t.data),
            ],
        )
        .await?;
    let shard = shard_of(t.id);
    // A changed schedule may be due sooner than its owner holds it.
    if changed > 0
        && t.status == TaskStatus::Scheduled
        && s.joined.get().is_some()
        && !s.placement.owns(shard)
    {
        listener::tell(&mut tx, s, Channel::Tasks(1u128 << shard)).await?;
    }
    tx.commit().await?;
    Ok(changed > 0)
}

const DELETE_IDS: &str = "UPDATE tasks SET status = 3, version = version + 1 \
     WHERE id = ANY($1::bytea[]) AND status < 3 RETURNING id";

const DELETE_NAME: &str = "UPDATE tasks SET status = 3, version = version + 1 \
     WHERE name = $1 AND status < 3 RETURNING id, created_at_ms";

/// Deliveries nobody consumed yet are cancelled with their task.
const CANCEL: &str = "UPDATE deliveries SET state = 6 \
     WHERE task_id = ANY($1::bytea[]) AND state IN (0, 1, 2, 3, 7)";

/// Finished or deleted tasks among `$1` with no fire stored, removed for good: a task
/// deleted before it ever fired leaves nothing behind, and retention forgets the others
/// with their last fire (until then their dead letters still show their payload).
pub(crate) const FORGET_UNFIRED: &str = "DELETE FROM tasks t WHERE t.id = ANY($1::bytea[]) \
     AND t.status IN (2, 3) AND NOT EXISTS (SELECT 1 FROM fires f WHERE f.task_id = t.id)";

/// Deletes tasks by id; returns, in the order asked, those that existed and were not
/// deleted yet.
pub(crate) async fn delete(s: &Shared, ids: &[TaskId]) -> Result<Vec<TaskId>, StoreError> {
    let raw: Vec<&[u8]> = ids.iter().map(|id| &id.as_bytes()[..]).collect();
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    let gone = tx
        .query(DELETE_IDS, &[&raw])
        .await?
        .iter()
        .map(|row| task_id(row, 0))
        .collect::<Result<std::collections::HashSet<_>, _>>()?;
    if gone.is_empty() {
        return Ok(Vec::new());
    }
    let gone_raw: Vec<&[u8]> = gone.iter().map(|id| &id.as_bytes()[..]).collect();
    tx.execute(CANCEL, &[&gone_raw]).await?;
    tx.execute(FORGET_UNFIRED, &[&gone_raw]).await?;
    tx.commit().await?;
    let mut seen = std::collections::HashSet::new();
    Ok(ids
        .iter()
        .filter(|id| gone.contains(id) && seen.insert(**id))
        .copied()
        .collect())
}

/// Deletes every task of a name, oldest first in the answer.
pub(crate) async fn delete_by_name(s: &Shared, name: &str) -> Result<Vec<TaskId>, StoreError> {
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    let mut gone = tx
        .query(DELETE_NAME, &[&name])
        .await?
        .iter()
        .map(|row| Ok((get::<i64>(row, 1)?, task_id(row, 0)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    if gone.is_empty() {
        return Ok(Vec::new());
    }
    gone.sort_unstable();
    let raw: Vec<&[u8]> = gone.iter().map(|(_, id)| &id.as_bytes()[..]).collect();
    tx.execute(CANCEL, &[&raw]).await?;
    tx.execute(FORGET_UNFIRED, &[&raw]).await?;
    tx.commit().await?;
    Ok(gone.into_iter().map(|(_, id)| id).collect())
}

const DUE: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM tasks WHERE status = 0 AND next_fire_ms <= $1 ORDER BY next_fire_ms, id LIMIT $2"
);

const DUE_IN_SHARDS: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM tasks WHERE status = 0 AND next_fire_ms <= $1 AND shard = ANY($3::int[]) \
     ORDER BY next_fire_ms, id LIMIT $2"
);

/// Scheduled tasks due by `until_ms`, soonest first: of the held shards once joined.
pub(crate) async fn due(s: &Shared, until_ms: i64, limit: usize) -> Result<Vec<Task>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut conn = s.pool.get().await?;
    let rows = if s.placement.is_joined() {
        let shards: Vec<i32> = s.placement.held().iter().map(|(shard, _)| *shard).collect();
        if shards.is_empty() {
            return Ok(Vec::new());
        }
        conn.query(DUE_IN_SHARDS, &[&until_ms, &limit, &shards])
            .await?
    } else {
        conn.query(DUE, &[&until_ms, &limit]).await?
    };
    rows.iter().map(read_task).collect()
}

const COUNTS: &str = "SELECT count(*) FILTER (WHERE status = 0), \
     count(*) FILTER (WHERE status = 1), count(*) FILTER (WHERE status = 2) \
     FROM tasks WHERE status < $1";

/// `(scheduled, paused, finished)`.
pub(crate) async fn counts(s: &Shared) -> Result<(i64, i64, i64), StoreError> {
    let mut conn = s.pool.get().await?;
    let rows = conn.query(COUNTS, &[&STATUS_DELETED]).await?;
    match rows.first() {
        Some(row) => Ok((get(row, 0)?, get(row, 1)?, get(row, 2)?)),
        None => Ok((0, 0, 0)),
    }
}

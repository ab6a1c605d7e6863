//! Dead letters (list, requeue, purge) and the queue's depth.

use std::collections::HashSet;

use super::Shared;
use super::listener::{self, Channel};
use super::rows::{fire_id, get, msgid, parse_msgids, payload, task_id};
use crate::error::StoreError;
use crate::model::{DeadLetter, QueueCounts};

const LIST: &str = "SELECT d.id, d.grp, d.task_id, d.tag, t.data, d.fire_time, d.attempt, \
     d.done_at, d.fail_reason FROM deliveries d JOIN tasks t ON t.id = d.task_id \
     WHERE d.state = 5 ORDER BY d.done_at DESC, d.id DESC LIMIT $1 OFFSET $2";

const LIST_GROUP: &str = "SELECT d.id, d.grp, d.task_id, d.tag, t.data, d.fire_time, \
     d.attempt, d.done_at, d.fail_reason FROM deliveries d JOIN tasks t ON t.id = d.task_id \
     WHERE d.state = 5 AND d.grp = $3 ORDER BY d.done_at DESC, d.id DESC LIMIT $1 OFFSET $2";

/// Dead letters, newest death first, of one group or all.
pub(crate) async fn list(
    s: &Shared,
    group: Option<&str>,
    limit: usize,
    offset: usize,
) -> Result<Vec<DeadLetter>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let mut conn = s.pool.get().await?;
    let rows = match group {
        Some(group) => conn.query(LIST_GROUP, &[&limit, &offset, &group]).await?,
        None => conn.query(LIST, &[&limit, &offset]).await?,
    };
    rows.iter()
        .map(|row| {
            let taskid = task_id(row, 2)?;
            let fire_time: i64 = get(row, 5)?;
            Ok(DeadLetter {
                msgid: msgid(get(row, 0)?),
                group: get::<Option<String>>(row, 1)?.unwrap_or_default(),
                taskid,
                tag: get(row, 3)?,
                data: payload(row, 4)?,
                fire_id: fire_id(taskid, fire_time),
                fire_time,
                attempts: get(row, 6)?,
                died_at: get::<Option<i64>>(row, 7)?.unwrap_or(0),
                reason: get(row, 8)?,
            })
        })
        .collect()
}

/// Those of deleted tasks stay dead: their task is not to fire any more.
const REQUEUE: &str = "UPDATE deliveries d SET state = 0, attempt = 0, visible_at = $2, \
     lease_until = NULL, done_at = NULL \
     WHERE d.id = ANY($1::bigint[]) AND d.state = 5 \
     AND EXISTS (SELECT 1 FROM tasks t WHERE t.id = d.task_id AND t.status < 3) RETURNING d.id";

/// Puts dead letters back as fresh messages visible at `now_ms`, with a full retry budget.
pub(crate) async fn requeue(
    s: &Shared,
    msgids: &[String],
    now_ms: i64,
) -> Result<Vec<String>, StoreError> {
    let ids = parse_msgids(msgids);
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    let moved: HashSet<i64> = tx
        .query(REQUEUE, &[&ids, &now_ms])
        .await?
        .iter()
        .map(|row| get(row, 0))
        .collect::<Result<_, _>>()?;
    if !moved.is_empty() && s.joined.get().is_some() {
        listener::tell(&mut tx, s, Channel::Queue).await?;
    }
    tx.commit().await?;
    Ok(ids
        .into_iter()
        .filter(|id| moved.contains(id))
        .map(msgid)
        .collect())
}

const PURGE_ALL: &str = "DELETE FROM deliveries WHERE state = 5";

const PURGE: &str = "DELETE FROM deliveries WHERE id = ANY($1::bigint[]) AND state = 5";

/// Deletes dead letters, all or those named; returns how many went.
pub(crate) async fn purge(s: &Shared, msgids: Option<&[String]>) -> Result<u64, StoreError> {
    let mut conn = s.pool.get().await?;
    match msgids {
        None => conn.execute(PURGE_ALL, &[]).await,
        Some(msgids) => conn.execute(PURGE, &[&parse_msgids(msgids)]).await,
    }
}

const COUNTS: &str = "SELECT count(*) FILTER (WHERE state IN (0, 1)), \
     count(*) FILTER (WHERE state IN (2, 3)), count(*) FILTER (WHERE state = 5), \
     count(*) FILTER (WHERE state = 7) FROM deliveries WHERE state IN (0, 1, 2, 3, 5, 7)";

/// Queue depth. An expired lease counts as leased until `expire_leases` (or the group's
/// next lease) moves it on.
pub(crate) async fn counts(s: &Shared) -> Result<QueueCounts, StoreError> {
    let mut conn = s.pool.get().await?;
    let rows = conn.query(COUNTS, &[]).await?;
    let Some(row) = rows.first() else {
        return Ok(QueueCounts::default());
    };
    Ok(QueueCounts {
        ready: get(row, 0)?,
        leased: get(row, 1)?,
        dead: get(row, 2)?,
        unclaimed: get(row, 3)?,
    })
}

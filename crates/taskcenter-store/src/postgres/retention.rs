//! Retention on PostgreSQL: the embedded store's sweep (see `sqlite/retention.rs`), by
//! one replica at a time.
//!
//! Delivery ids come from one sequence, so walking them from a cursor visits fires about
//! oldest first; two replicas' commits may land slightly out of id order, and a fire the
//! walk passed too early is met again by the next sweep. Each step takes a transaction
//! advisory lock and skips the step when another replica holds it.

use std::collections::HashSet;

use super::Shared;
use super::rows::{get, state};
use super::tasks::FORGET_UNFIRED;
use crate::error::StoreError;
use crate::model::PurgeReport;

/// Deliveries read per fire wanted: most fires have one delivery per group.
const SCAN_PER_FIRE: usize = 4;

/// Held for one sweep step, in the two-key space of taskcenter's own locks.
const LOCK: &str = "SELECT pg_try_advisory_xact_lock(1952670579, 2)";

const WALK: &str = "SELECT d.id, d.task_id, d.fire_time, f.published_at FROM deliveries d \
     JOIN fires f ON f.task_id = d.task_id AND f.fire_time = d.fire_time \
     WHERE d.id > $1 ORDER BY d.id LIMIT $2";

/// The candidate fires whose deliveries are all acked or cancelled, deleted.
const PURGE_FIRES: &str = "DELETE FROM fires f \
     USING unnest($1::bytea[], $2::bigint[]) AS c(task_id, fire_time) \
     WHERE f.task_id = c.task_id AND f.fire_time = c.fire_time \
     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.task_id = f.task_id \
       AND d.fire_time = f.fire_time AND d.state NOT IN ($3, $4)) \
     RETURNING f.task_id, f.fire_time";

const PURGE_DELIVERIES: &str = "DELETE FROM deliveries d \
     USING unnest($1::bytea[], $2::bigint[]) AS c(task_id, fire_time) \
     WHERE d.task_id = c.task_id AND d.fire_time = c.fire_time";

/// One sweep step, as `TaskStore::purge_history`, from this replica's cursor.
pub(crate) async fn purge(
    s: &Shared,
    before_ms: i64,
    max_fires: usize,
) -> Result<PurgeReport, StoreError> {
    let scan = max_fires.saturating_mul(SCAN_PER_FIRE).max(64);
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    let locked: bool = match tx.query(LOCK, &[]).await?.first() {
        Some(row) => get(row, 0)?,
        None => false,
    };
    if !locked {
        return Ok(PurgeReport::default());
    }
    let start = *lock(&s.purge_cursor);
    let rows = tx
        .query(WALK, &[&start, &i64::try_from(scan).unwrap_or(i64::MAX)])
        .await?;
    let mut more = rows.len() == scan;
    let mut last = start;
    let mut visited = HashSet::new();
    let (mut tasks, mut times) = (Vec::<Vec<u8>>::new(), Vec::<i64>::new());
    for row in &rows {
        let (id, task, fire_time, published_at): (i64, Vec<u8>, i64, i64) =
            (get(row, 0)?, get(row, 1)?, get(row, 2)?, get(row, 3)?);
        if published_at >= before_ms {
            more = false;
            break;
        }
        last = id;
        if visited.insert((task.clone(), fire_time)) {
            tasks.push(task);
            times.push(fire_time);
            if tasks.len() >= max_fires {
                more = true;
                break;
            }
        }
    }
    let mut report = PurgeReport::default();
    if !tasks.is_empty() {
        let gone = tx
            .query(
                PURGE_FIRES,
                &[&tasks, &times, &state::ACKED, &state::CANCELLED],
            )
            .await?;
        let mut gone_tasks = Vec::with_capacity(gone.len());
        let mut gone_times = Vec::with_capacity(gone.len());
        for row in &gone {
            gone_tasks.push(get::<Vec<u8>>(row, 0)?);
            gone_times.push(get::<i64>(row, 1)?);
        }
        report.fires = gone.len() as u64;
        report.deliveries = tx
            .execute(PURGE_DELIVERIES, &[&gone_tasks, &gone_times])
            .await?;
        gone_tasks.dedup();
        report.tasks = tx.execute(FORGET_UNFIRED, &[&gone_tasks]).await?;
    }
    tx.commit().await?;
    report.more = more;
    *lock(&s.purge_cursor) = if more { last } else { 0 };
    Ok(report)
}

fn lock(cursor: &std::sync::Mutex<i64>) -> std::sync::MutexGuard<'_, i64> {
    cursor
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

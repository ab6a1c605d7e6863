//! Retention: forgetting fires whose story is over, their deliveries, and the finished or
//! deleted tasks they leave behind.
//!
//! Deliveries are numbered in commit order, and a fire's deliveries are inserted together,
//! so walking the deliveries from a cursor visits fires oldest first without an index on
//! publish time (which every fire would pay for). The walk stops at the first fire
//! published at or after the cutoff; fires it passes that still have a live message (or a
//! dead letter) are left and seen again by the next sweep, which starts from the bottom.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};

use super::counts::Tally;
use super::rows::{STATUS_DELETED, state, status_code};
use super::tasks;
use crate::model::PurgeReport;
use taskcenter_core::TaskStatus;

/// Deliveries read per fire wanted: most fires have one delivery per group.
const SCAN_PER_FIRE: usize = 4;

/// One sweep step: forgets up to `max_fires` fires published before `before_ms`, walking
/// deliveries above `cursor`. Answers with the cursor the next step goes on from (0 when
/// the sweep is through).
pub(crate) fn purge(
    conn: &Connection,
    cursor: i64,
    before_ms: i64,
    max_fires: usize,
) -> rusqlite::Result<(PurgeReport, i64)> {
    let scan = max_fires.saturating_mul(SCAN_PER_FIRE).max(64);
    let rows = conn
        .prepare_cached(
            "SELECT d.id, d.task_rid, d.fire_time, f.published_at FROM deliveries d \
             JOIN fires f ON f.task_rid = d.task_rid AND f.fire_time = d.fire_time \
             WHERE d.id > ?1 ORDER BY d.id LIMIT ?2",
        )?
        .query_map(
            params![cursor, i64::try_from(scan).unwrap_or(i64::MAX)],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )?
        .collect::<rusqlite::Result<Vec<(i64, i64, i64, i64)>>>()?;
    let mut report = PurgeReport {
        more: rows.len() == scan,
        ..PurgeReport::default()
    };
    let mut last = cursor;
    let mut visited = HashSet::new();
    let mut emptied = Vec::new();
    for (id, task_rid, fire_time, published_at) in rows {
        if published_at >= before_ms {
            report.more = false;
            break;
        }
        last = id;
        if !visited.insert((task_rid, fire_time)) {
            continue;
        }
        if let Some(deliveries) = purge_fire(conn, task_rid, fire_time)? {
            report.fires += 1;
            report.deliveries += deliveries;
            emptied.push(task_rid);
            if report.fires as usize >= max_fires {
                report.more = true;
                break;
            }
        }
    }
    let mut tally = Tally::default();
    for task_rid in emptied {
        if purge_task(conn, task_rid, &mut tally)? {
            report.tasks += 1;
        }
    }
    tally.apply(conn)?;
    Ok((report, if report.more { last } else { 0 }))
}

/// Deletes the fire and its deliveries if every one of them is acked or cancelled;
/// answers how many deliveries went, `None` if the fire stays.
fn purge_fire(conn: &Connection, task_rid: i64, fire_time: i64) -> rusqlite::Result<Option<u64>> {
    let Some((first, count)) = conn
        .prepare_cached(
            "SELECT first_delivery, delivery_count FROM fires \
             WHERE task_rid = ?1 AND fire_time = ?2",
        )?
        .query_row(params![task_rid, fire_time], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    let last = first + count - 1;
    let open: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM deliveries \
             WHERE id BETWEEN ?1 AND ?2 AND state NOT IN (?3, ?4)",
        )?
        .query_row(
            params![first, last, state::ACKED, state::CANCELLED],
            |row| row.get(0),
        )?;
    if open > 0 {
        return Ok(None);
    }
    // Acked and cancelled deliveries are in no counter: nothing to tally.
    let gone = conn
        .prepare_cached("DELETE FROM deliveries WHERE id BETWEEN ?1 AND ?2")?
        .execute(params![first, last])?;
    conn.prepare_cached("DELETE FROM fires WHERE task_rid = ?1 AND fire_time = ?2")?
        .execute(params![task_rid, fire_time])?;
    Ok(Some(gone as u64))
}

/// Forgets a finished or deleted task that has no fire left.
fn purge_task(conn: &Connection, task_rid: i64, tally: &mut Tally) -> rusqlite::Result<bool> {
    let status: Option<i16> = conn
        .prepare_cached("SELECT status FROM tasks WHERE rid = ?1")?
        .query_row([task_rid], |row| row.get(0))
        .optional()?;
    let finished = status_code(TaskStatus::Finished);
    match status.filter(|s| *s == finished || *s == STATUS_DELETED) {
        Some(status) => tasks::forget_if_unfired(conn, task_rid, status, tally),
        None => Ok(false),
    }
}

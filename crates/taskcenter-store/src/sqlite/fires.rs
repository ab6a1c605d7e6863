//! Fire statements: committing the engine's fires with their deliveries, and history.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use taskcenter_core::TaskId;

use super::counts::{Kind, Tally};
use super::rows::{delivery_state, fire_id, msgid, state, status_code};
use crate::model::{DeliveryState, FireCommit, FireOutcome, FireRecord, FireRef};

/// Groups subscribed to each tag, looked up once per tag per call.
type GroupCache = HashMap<String, Vec<String>>;

/// Applies each commit atomically (a stale one writes nothing).
pub(crate) fn commit(
    conn: &Connection,
    commits: &[FireCommit],
) -> rusqlite::Result<Vec<FireOutcome>> {
    let mut groups = GroupCache::new();
    let mut tally = Tally::default();
    let out = commits
        .iter()
        .map(|c| commit_one(conn, c, &mut groups, &mut tally))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tally.apply(conn)?;
    Ok(out)
}

fn commit_one(
    conn: &Connection,
    c: &FireCommit,
    groups: &mut GroupCache,
    tally: &mut Tally,
) -> rusqlite::Result<FireOutcome> {
    let found: Option<(i64, String, i16)> = conn
        .prepare_cached(
            "SELECT rid, name, status FROM tasks WHERE id = ?1 AND status < 3 AND version = ?2",
        )?
        .query_row(
            params![&c.task_id.as_bytes()[..], c.expected_version],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((rid, name, old_status)) = found else {
        return Ok(FireOutcome::Stale);
    };
    if !groups.contains_key(&name) {
        let subscribed = subscribed_groups(conn, &name)?;
        groups.insert(name.clone(), subscribed);
    }
    let targets = groups.get(&name).map(Vec::as_slice).unwrap_or_default();
    let mut fires = Vec::with_capacity(c.fire_times.len());
    for &fire_time in &c.fire_times {
        let fired = conn
            .prepare_cached("SELECT 1 FROM fires WHERE task_rid = ?1 AND fire_time = ?2")?
            .exists(params![rid, fire_time])?;
        if fired {
            // Fired before: the unique key is what keeps a fire from happening twice.
            continue;
        }
        let mut insert = conn.prepare_cached(
            "INSERT INTO deliveries (task_rid, fire_time, grp, tag, state, attempt, visible_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?2)",
        )?;
        let first = if targets.is_empty() {
            let none: Option<&str> = None;
            tally.queue(Kind::Unclaimed, 1);
            insert.insert(params![rid, fire_time, none, name, state::UNCLAIMED])?
        } else {
            tally.queue(Kind::Ready, targets.len() as i64);
            let mut first = None;
            for group in targets {
                let id = insert.insert(params![rid, fire_time, group, name, state::PUBLISHED])?;
                first.get_or_insert(id);
            }
            first.unwrap_or_default()
        };
        let count = targets.len().max(1) as i64;
        conn.prepare_cached(
            "INSERT INTO fires (task_rid, fire_time, published_at, first_delivery, \
             delivery_count) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![rid, fire_time, c.now_ms, first, count])?;
        fires.push(FireRef {
            fire_id: fire_id(c.task_id, fire_time),
            fire_time,
        });
    }
    let new_version = c.expected_version + 1;
    tally.task_moved(old_status, status_code(c.status));
    conn.prepare_cached(
        "UPDATE tasks SET next_fire_ms = ?2, fire_count = ?3, status = ?4, version = ?5 \
         WHERE rid = ?1",
    )?
    .execute(params![
        rid,
        c.next_fire_ms,
        c.fire_count,
        status_code(c.status),
        new_version
    ])?;
    Ok(FireOutcome::Committed { new_version, fires })
}

/// Groups subscribed to `tag` directly or through `*`.
pub(crate) fn subscribed_groups(conn: &Connection, tag: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT grp FROM subscriptions WHERE tag IN (?1, '*') ORDER BY grp",
    )?;
    let rows = stmt.query_map([tag], |row| row.get(0))?;
    rows.collect()
}

/// A task's fires, newest first, one record per (fire, group). A fire whose deliveries
/// were all purged from the dead letters shows as dead.
pub(crate) fn history(
    conn: &Connection,
    task: TaskId,
    limit: usize,
) -> rusqlite::Result<Vec<FireRecord>> {
    let rid: Option<i64> = conn
        .prepare_cached("SELECT rid FROM tasks WHERE id = ?1 AND status < 3")?
        .query_row([&task.as_bytes()[..]], |row| row.get(0))
        .optional()?;
    let Some(rid) = rid else {
        return Ok(Vec::new());
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(
        "SELECT f.fire_time, f.published_at, d.id, d.grp, d.attempt, d.state, \
         d.acked_attempt, d.fail_reason, d.broker_id \
         FROM fires f LEFT JOIN deliveries d \
         ON d.id BETWEEN f.first_delivery AND f.first_delivery + f.delivery_count - 1 \
         WHERE f.task_rid = ?1 ORDER BY f.fire_time DESC, d.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![rid, limit], |row| {
        let fire_time: i64 = row.get(0)?;
        let id: Option<i64> = row.get(2)?;
        let group: Option<String> = row.get(3)?;
        let state = match row.get::<_, Option<i16>>(5)? {
            Some(code) => delivery_state(5, code)?,
            None => DeliveryState::Dead,
        };
        Ok(FireRecord {
            fire_id: fire_id(task, fire_time),
            fire_time,
            published_at: row.get(1)?,
            // An unclaimed fire's row is no message of any group yet.
            msgid: id.filter(|_| group.is_some()).map(msgid),
            group,
            attempts: row.get::<_, Option<i64>>(4)?.unwrap_or(0),
            state,
            acked_attempt: row.get::<_, Option<i64>>(6)?,
            reason: row.get(7)?,
            broker_id: row.get::<_, Option<String>>(8)?,
        })
    })?;
    rows.collect()
}

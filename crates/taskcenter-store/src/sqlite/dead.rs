//! Dead letters (list, requeue, purge) and the queue's counters.

use rusqlite::{Connection, params};

use super::counts::{Kind, Tally};
use super::rows::{fire_id, msgid, parse_msgid, state, task_id};
use crate::model::{DeadLetter, QueueCounts};

/// Dead letters, newest death first, of one group or all.
pub(crate) fn list(
    conn: &Connection,
    group: Option<&str>,
    limit: usize,
    offset: usize,
) -> rusqlite::Result<Vec<DeadLetter>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let (index, filter) = match group {
        Some(_) => ("deliveries_dead_grp", "AND d.grp = ?3"),
        None => ("deliveries_dead", ""),
    };
    let sql = format!(
        "SELECT d.id, d.grp, t.id, d.tag, p.data, d.fire_time, d.attempt, d.done_at, d.fail_reason \
         FROM deliveries d INDEXED BY {index} \
         JOIN tasks t ON t.rid = d.task_rid JOIN task_payloads p ON p.rid = d.task_rid \
         WHERE d.state = 5 {filter} ORDER BY d.done_at DESC, d.id DESC LIMIT ?1 OFFSET ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let read = |row: &rusqlite::Row<'_>| {
        let taskid = task_id(row, 2)?;
        let fire_time: i64 = row.get(5)?;
        Ok(DeadLetter {
            msgid: msgid(row.get(0)?),
            group: row.get::<_, Option<String>>(1)?.unwrap_or_default(),
            taskid,
            tag: row.get(3)?,
            data: row.get(4)?,
            fire_id: fire_id(taskid, fire_time),
            fire_time,
            attempts: row.get(6)?,
            died_at: row.get::<_, Option<i64>>(7)?.unwrap_or(0),
            reason: row.get(8)?,
        })
    };
    let rows = match group {
        Some(group) => stmt.query_map(params![limit, offset, group], read)?,
        None => stmt.query_map(params![limit, offset], read)?,
    };
    rows.collect()
}

/// Puts dead letters back as fresh messages visible at `now_ms`, with a full retry
/// budget. Those of deleted tasks stay dead: their task is not to fire any more.
pub(crate) fn requeue(
    conn: &Connection,
    msgids: &[String],
    now_ms: i64,
) -> rusqlite::Result<Vec<String>> {
    let mut moved = Vec::new();
    for text in msgids {
        let Some(id) = parse_msgid(text) else {
            continue;
        };
        let changed = conn
            .prepare_cached(
                "UPDATE deliveries SET state = ?2, attempt = 0, visible_at = ?3, \
                 lease_until = NULL, done_at = NULL \
                 WHERE id = ?1 AND state = 5 AND EXISTS \
                 (SELECT 1 FROM tasks t WHERE t.rid = deliveries.task_rid AND t.status < 3)",
            )?
            .execute(params![id, state::PUBLISHED, now_ms])?;
        if changed > 0 {
            moved.push(text.clone());
        }
    }
    let mut tally = Tally::default();
    tally.moved(state::DEAD, state::PUBLISHED, moved.len() as i64);
    tally.apply(conn)?;
    Ok(moved)
}

/// Deletes dead letters, all or those named; returns how many went.
pub(crate) fn purge(conn: &Connection, msgids: Option<&[String]>) -> rusqlite::Result<u64> {
    let n = match msgids {
        None => conn
            .prepare_cached("DELETE FROM deliveries WHERE state = 5")?
            .execute([])?,
        Some(msgids) => {
            let mut stmt =
                conn.prepare_cached("DELETE FROM deliveries WHERE id = ?1 AND state = 5")?;
            let mut n = 0;
            for id in msgids.iter().filter_map(|m| parse_msgid(m)) {
                n += stmt.execute([id])?;
            }
            n
        }
    };
    let mut tally = Tally::default();
    tally.queue(Kind::Dead, -(n as i64));
    tally.apply(conn)?;
    Ok(n as u64)
}

/// Queue depth from the counters the writes keep. An expired lease counts as leased
/// until `expire_leases` (or the group's next lease) moves it on.
pub(crate) fn counts(conn: &Connection) -> rusqlite::Result<QueueCounts> {
    let mut stmt = conn.prepare_cached("SELECT kind, n FROM queue_counts")?;
    let rows = stmt.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))?;
    let mut counts = QueueCounts::default();
    for row in rows {
        let (kind, n) = row?;
        match kind {
            k if k == Kind::Ready as i64 => counts.ready = n,
            k if k == Kind::Leased as i64 => counts.leased = n,
            k if k == Kind::Dead as i64 => counts.dead = n,
            k if k == Kind::Unclaimed as i64 => counts.unclaimed = n,
            _ => {}
        }
    }
    Ok(counts)
}

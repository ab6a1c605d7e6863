//! Queue statements: subscribing, leasing with the retry ladder, ack and nack.
//!
//! The ladder costs no sweeper: leasing attempt `i` (of at most `n + 1`) sets
//! `visible_at = lease_until + delays[i-1]`, so an expired lease becomes visible again by
//! itself exactly when the retry is due. The last attempt's lease is stored as
//! `LEASED_FINAL` with `visible_at = lease_until`; once expired it turns dead the next
//! time the group leases, and it is never counted as deliverable meanwhile.

use rusqlite::{Connection, OptionalExtension, params};
use taskcenter_core::TagFilter;

use super::counts::Tally;
use super::rows::{fire_id, msgid, parse_msgid, state, task_id};
use crate::model::{Delivery, DeliveryPolicy, LeaseRequest};

/// The tags a filter names as stored in `subscriptions` (`*` for all).
fn filter_tags(tags: &TagFilter) -> Vec<&str> {
    match tags {
        TagFilter::All => vec!["*"],
        TagFilter::Only(tags) => tags.iter().map(String::as_str).collect(),
    }
}

/// Records the subscription and hands the group the fires nobody had claimed.
pub(crate) fn subscribe(conn: &Connection, group: &str, tags: &TagFilter) -> rusqlite::Result<()> {
    let mut tally = Tally::default();
    for tag in filter_tags(tags) {
        conn.prepare_cached(
            "INSERT INTO subscriptions (tag, grp) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )?
        .execute(params![tag, group])?;
        let claimed = if tag == "*" {
            conn.prepare_cached("UPDATE deliveries SET grp = ?1, state = ?2 WHERE state = 7")?
                .execute(params![group, state::PUBLISHED])?
        } else {
            conn.prepare_cached(
                "UPDATE deliveries SET grp = ?1, state = ?2 WHERE state = 7 AND tag = ?3",
            )?
            .execute(params![group, state::PUBLISHED, tag])?
        };
        tally.moved(state::UNCLAIMED, state::PUBLISHED, claimed as i64);
    }
    tally.apply(conn)
}

/// A deliverable row picked for a lease.
struct Candidate {
    id: i64,
    state: i64,
    visible_at: i64,
    fire_time: i64,
    attempt: i64,
    tag: String,
    task: taskcenter_core::TaskId,
    data: String,
    ack: bool,
    max_runtime: i64,
}

const CANDIDATE_COLUMNS: &str = "d.id, d.state, d.visible_at, d.fire_time, d.attempt, d.tag, t.id, \
     p.data, t.ack, t.max_runtime";

fn read_candidate(row: &rusqlite::Row<'_>) -> rusqlite::Result<Candidate> {
    Ok(Candidate {
        id: row.get(0)?,
        state: row.get(1)?,
        visible_at: row.get(2)?,
        fire_time: row.get(3)?,
        attempt: row.get(4)?,
        tag: row.get(5)?,
        task: task_id(row, 6)?,
        data: row.get(7)?,
        ack: row.get(8)?,
        max_runtime: row.get(9)?,
    })
}

/// Leases up to `req.max` visible messages of the group, oldest first.
pub(crate) fn lease(
    conn: &Connection,
    req: &LeaseRequest,
    policy: &DeliveryPolicy,
) -> rusqlite::Result<Vec<Delivery>> {
    let mut tally = Tally::default();
    // Last attempts whose lease ran out are dead letters now, dated at their expiry.
    let died = conn
        .prepare_cached(
            "UPDATE deliveries SET state = ?3, done_at = visible_at \
             WHERE grp = ?1 AND state = 3 AND visible_at <= ?2",
        )?
        .execute(params![req.group, req.now_ms, state::DEAD])?;
    tally.moved(state::LEASED_FINAL, state::DEAD, died as i64);

    let max = i64::try_from(req.max).unwrap_or(i64::MAX);
    let candidates = match &req.tags {
        TagFilter::All => select(conn, None, req, max)?,
        TagFilter::Only(tags) => {
            let mut all = Vec::new();
            for tag in tags {
                all.extend(select(conn, Some(tag), req, max)?);
            }
            all.sort_by_key(|c| (c.visible_at, c.id));
            all.truncate(req.max);
            all
        }
    };
    let ladder = &policy.retry_delays_ms;
    let max_attempts = ladder.len() as i64 + 1;
    let mut out = Vec::with_capacity(candidates.len());
    for c in candidates {
        let attempt = c.attempt + 1;
        if attempt > max_attempts {
            // Only when the ladder was shortened since its last lease.
            conn.prepare_cached("UPDATE deliveries SET state = ?2, done_at = ?3 WHERE id = ?1")?
                .execute(params![c.id, state::DEAD, req.now_ms])?;
            tally.moved(c.state, state::DEAD, 1);
            continue;
        }
        let lease_ms = if c.ack && c.max_runtime > 0 {
            c.max_runtime.saturating_mul(1000)
        } else {
            policy.default_lease_ms
        };
        let lease_until = req.now_ms.saturating_add(lease_ms);
        let (code, visible_at) = match usize::try_from(attempt - 1)
            .ok()
            .and_then(|i| ladder.get(i))
        {
            Some(delay) => (state::LEASED, lease_until.saturating_add(*delay)),
            None => (state::LEASED_FINAL, lease_until),
        };
        conn.prepare_cached(
            "UPDATE deliveries SET state = ?2, attempt = ?3, lease_until = ?4, visible_at = ?5 \
             WHERE id = ?1",
        )?
        .execute(params![c.id, code, attempt, lease_until, visible_at])?;
        tally.moved(c.state, code, 1);
        out.push(Delivery {
            msgid: msgid(c.id),
            taskid: c.task,
            tag: c.tag,
            data: c.data,
            fire_time: c.fire_time,
            fire_id: fire_id(c.task, c.fire_time),
            attempt,
            lease_until,
        });
    }
    tally.apply(conn)?;
    Ok(out)
}

/// Visible deliverable rows of the group (of one tag if given), oldest first.
fn select(
    conn: &Connection,
    tag: Option<&str>,
    req: &LeaseRequest,
    max: i64,
) -> rusqlite::Result<Vec<Candidate>> {
    let sql = match tag {
        None => format!(
            "SELECT {CANDIDATE_COLUMNS} FROM deliveries d INDEXED BY deliveries_ready \
             JOIN tasks t ON t.rid = d.task_rid JOIN task_payloads p ON p.rid = d.task_rid \
             WHERE d.grp = ?1 AND d.state < 3 AND d.visible_at <= ?2 \
             ORDER BY d.visible_at, d.id LIMIT ?3"
        ),
        Some(_) => format!(
            "SELECT {CANDIDATE_COLUMNS} FROM deliveries d INDEXED BY deliveries_ready_tag \
             JOIN tasks t ON t.rid = d.task_rid JOIN task_payloads p ON p.rid = d.task_rid \
             WHERE d.grp = ?1 AND d.tag = ?4 AND d.state < 3 AND d.visible_at <= ?2 \
             ORDER BY d.visible_at, d.id LIMIT ?3"
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = match tag {
        None => stmt.query_map(params![req.group, req.now_ms, max], read_candidate)?,
        Some(tag) => stmt.query_map(params![req.group, req.now_ms, max, tag], read_candidate)?,
    };
    rows.collect()
}

/// Acks leased messages of the group. A lease that ran out but was not leased again yet
/// is still accepted: the consumer did the work, and a redelivery would only repeat it.
pub(crate) fn ack(
    conn: &Connection,
    group: &str,
    msgids: &[String],
    now_ms: i64,
) -> rusqlite::Result<Vec<String>> {
    let mut acked = Vec::new();
    for text in msgids {
        let Some(id) = parse_msgid(text) else {
            continue;
        };
        let changed = conn
            .prepare_cached(
                "UPDATE deliveries SET state = ?3, done_at = ?4 \
                 WHERE id = ?1 AND grp = ?2 AND state IN (2, 3)",
            )?
            .execute(params![id, group, state::ACKED, now_ms])?;
        if changed > 0 {
            acked.push(text.clone());
        }
    }
    let mut tally = Tally::default();
    tally.moved(state::LEASED, state::ACKED, acked.len() as i64);
    tally.apply(conn)?;
    Ok(acked)
}

/// Hands leased messages back: visible again after `delay_ms` or the ladder's delay, or
/// dead when their attempts are spent.
pub(crate) fn nack(
    conn: &Connection,
    group: &str,
    msgids: &[String],
    delay_ms: Option<i64>,
    now_ms: i64,
    policy: &DeliveryPolicy,
) -> rusqlite::Result<Vec<String>> {
    let mut nacked = Vec::new();
    let mut tally = Tally::default();
    for text in msgids {
        let Some(id) = parse_msgid(text) else {
            continue;
        };
        let attempt: Option<i64> = conn
            .prepare_cached(
                "SELECT attempt FROM deliveries WHERE id = ?1 AND grp = ?2 AND state IN (2, 3)",
            )?
            .query_row(params![id, group], |row| row.get(0))
            .optional()?;
        let Some(attempt) = attempt else {
            continue;
        };
        let ladder_delay = usize::try_from(attempt - 1)
            .ok()
            .and_then(|i| policy.retry_delays_ms.get(i));
        let to = match ladder_delay {
            Some(ladder_delay) => {
                let visible_at = now_ms.saturating_add(delay_ms.unwrap_or(*ladder_delay).max(0));
                conn.prepare_cached(
                    "UPDATE deliveries SET state = ?2, visible_at = ?3 WHERE id = ?1",
                )?
                .execute(params![id, state::RETRYING, visible_at])?;
                state::RETRYING
            }
            None => {
                conn.prepare_cached(
                    "UPDATE deliveries SET state = ?2, done_at = ?3 WHERE id = ?1",
                )?
                .execute(params![id, state::DEAD, now_ms])?;
                state::DEAD
            }
        };
        tally.moved(state::LEASED, to, 1);
        nacked.push(text.clone());
    }
    tally.apply(conn)?;
    Ok(nacked)
}

/// The earliest `visible_at` among the group's deliverable rows of these tags.
pub(crate) fn next_visible(
    conn: &Connection,
    group: &str,
    tags: &TagFilter,
) -> rusqlite::Result<Option<i64>> {
    match tags {
        TagFilter::All => conn
            .prepare_cached(
                "SELECT MIN(visible_at) FROM deliveries INDEXED BY deliveries_ready \
                 WHERE grp = ?1 AND state < 3",
            )?
            .query_row([group], |row| row.get(0)),
        TagFilter::Only(tags) => {
            let mut stmt = conn.prepare_cached(
                "SELECT MIN(visible_at) FROM deliveries INDEXED BY deliveries_ready_tag \
                 WHERE grp = ?1 AND tag = ?2 AND state < 3",
            )?;
            let mut earliest: Option<i64> = None;
            for tag in tags {
                let at: Option<i64> = stmt.query_row(params![group, tag], |row| row.get(0))?;
                earliest = match (earliest, at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            Ok(earliest)
        }
    }
}

//! Queue statements: subscribing, leasing, ack and nack. What each does to a message is
//! decided by [`DeliveryPolicy`]; this module only stores it.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};
use taskcenter_core::TagFilter;

use super::counts::Tally;
use super::expiry::retry;
use super::held::{HeldLease, HeldLeases};
use super::rows::{fire_id, json_error, msgid, state, task_id};
use crate::codec::{ack_takes, leased_state, nack_takes, parse_leases};
use crate::model::{Delivery, LeaseRef, LeaseRequest};
use crate::policy::{DeliveryPolicy, LeasePlan, RetryPlan};

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
    state: i16,
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

/// Leases up to `req.max` visible messages of the group, oldest first. With `held` (the
/// outbox's leases held in memory), messages held there are passed over and the leases of
/// tasks without end-to-end ack are held there instead of written.
pub(crate) fn lease(
    conn: &Connection,
    req: &LeaseRequest,
    policy: &DeliveryPolicy,
    mut held: Option<&mut HeldLeases>,
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
    let candidates = match (&req.tags, held.as_deref_mut()) {
        (TagFilter::All, Some(held)) => {
            let holding = held.expire(req.now_ms);
            select_unheld(conn, req, holding, |id| held.holds(id))?
        }
        (TagFilter::All, None) => select(conn, None, req, max)?,
        (TagFilter::Only(tags), _) => {
            let mut all = Vec::new();
            for tag in tags {
                all.extend(select(conn, Some(tag), req, max)?);
            }
            all.sort_by_key(|c| (c.visible_at, c.id));
            all.truncate(req.max);
            all
        }
    };
    let mut marks = Marks::default();
    let mut out = Vec::with_capacity(candidates.len());
    for c in candidates {
        let (attempt, lease_until, code, visible_at) =
            match policy.plan_lease(c.attempt, c.ack, c.max_runtime, req.now_ms) {
                LeasePlan::Dead => {
                    let dead = RetryPlan::Dead { at: req.now_ms };
                    retry(conn, c.id, c.state, dead, &mut tally)?;
                    continue;
                }
                LeasePlan::Lease {
                    attempt,
                    lease_until,
                    visible_at,
                    last,
                } => (attempt, lease_until, leased_state(last), visible_at),
            };
        match held.as_deref_mut() {
            Some(held) if !c.ack => held.hold(
                c.id,
                HeldLease {
                    attempt,
                    from_state: c.state,
                    until: lease_until,
                },
            ),
            _ => {
                marks.add((code, attempt, lease_until, visible_at), c.id);
                tally.moved(c.state, code, 1);
            }
        }
        out.push(delivery(c, attempt, lease_until));
    }
    marks.store(conn)?;
    tally.apply(conn)?;
    Ok(out)
}

/// Marks leased the rows with the same stored values (`state`, `attempt`, `lease_until`,
/// `visible_at`).
pub(super) const MARK_LEASED: &str = "UPDATE deliveries SET state = ?1, attempt = ?2, lease_until = ?3, \
     visible_at = ?4 WHERE id IN (SELECT value FROM json_each(?5))";

/// The leases of one batch by their stored values. A batch's leases mostly share them
/// (one lease length, one attempt), so each distinct set is one statement for its rows,
/// not one per row.
#[derive(Default)]
struct Marks {
    rows: Vec<(LeaseValues, Vec<i64>)>,
    index: HashMap<LeaseValues, usize>,
}

/// What a lease stores: `state`, `attempt`, `lease_until`, `visible_at`.
type LeaseValues = (i16, i64, i64, i64);

impl Marks {
    fn add(&mut self, values: LeaseValues, id: i64) {
        let next = self.rows.len();
        let at = *self.index.entry(values).or_insert(next);
        match self.rows.get_mut(at) {
            Some((_, ids)) => ids.push(id),
            None => self.rows.push((values, vec![id])),
        }
    }

    fn store(self, conn: &Connection) -> rusqlite::Result<()> {
        let mut mark = conn.prepare_cached(MARK_LEASED)?;
        for ((code, attempt, lease_until, visible_at), ids) in self.rows {
            let ids = serde_json::to_string(&ids).map_err(json_error)?;
            mark.execute(params![code, attempt, lease_until, visible_at, ids])?;
        }
        Ok(())
    }
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
             AND d.grp <> '@outbox' \
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

/// The ids of the group's visible deliverable messages, oldest first, from the index alone.
pub(super) const READY_IDS: &str = "SELECT id FROM deliveries INDEXED BY deliveries_ready \
     WHERE grp = ?1 AND state < 3 AND visible_at <= ?2 ORDER BY visible_at, id LIMIT ?3";

/// Like [`select`] over the whole group, passing over the `holding` messages `held`
/// names: their ids are read from the ready index alone, the rows only of those taken.
fn select_unheld(
    conn: &Connection,
    req: &LeaseRequest,
    holding: usize,
    held: impl Fn(i64) -> bool,
) -> rusqlite::Result<Vec<Candidate>> {
    let scan = i64::try_from(req.max.saturating_add(holding)).unwrap_or(i64::MAX);
    let ids = conn
        .prepare_cached(READY_IDS)?
        .query_map(params![req.group, req.now_ms, scan], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    let mut row = conn.prepare_cached(&format!(
        "SELECT {CANDIDATE_COLUMNS} FROM deliveries d \
         JOIN tasks t ON t.rid = d.task_rid JOIN task_payloads p ON p.rid = d.task_rid \
         WHERE d.id = ?1"
    ))?;
    let mut out = Vec::with_capacity(req.max.min(ids.len()));
    for id in ids.into_iter().filter(|id| !held(*id)).take(req.max) {
        if let Some(c) = row.query_row([id], read_candidate).optional()? {
            out.push(c);
        }
    }
    Ok(out)
}

/// An outbox lease taken on a read connection: the messages and the leases to hold them
/// by in memory.
pub(crate) struct HeldBatch {
    pub deliveries: Vec<Delivery>,
    pub leases: Vec<(i64, HeldLease)>,
}

/// Leases the next messages of the whole group, passing over the `held` ones, without a
/// write: every message taken is held in memory. `None` when one of them needs a write
/// (its task is acked end to end, so its lease is stored; or its retries are spent):
/// the writer's [`lease`] then takes the request. Reads one snapshot.
pub(crate) fn lease_unwritten(
    conn: &Connection,
    req: &LeaseRequest,
    policy: &DeliveryPolicy,
    held: &HashSet<i64>,
) -> rusqlite::Result<Option<HeldBatch>> {
    let snapshot = conn.unchecked_transaction()?;
    let candidates = select_unheld(&snapshot, req, held.len(), |id| held.contains(&id))?;
    snapshot.finish()?;
    let mut batch = HeldBatch {
        deliveries: Vec::with_capacity(candidates.len()),
        leases: Vec::with_capacity(candidates.len()),
    };
    for c in candidates {
        if c.ack {
            return Ok(None);
        }
        let LeasePlan::Lease {
            attempt,
            lease_until,
            ..
        } = policy.plan_lease(c.attempt, c.ack, c.max_runtime, req.now_ms)
        else {
            return Ok(None);
        };
        let lease = HeldLease {
            attempt,
            from_state: c.state,
            until: lease_until,
        };
        batch.leases.push((c.id, lease));
        batch.deliveries.push(delivery(c, attempt, lease_until));
    }
    Ok(Some(batch))
}

/// A leased candidate as its consumer gets it.
fn delivery(c: Candidate, attempt: i64, lease_until: i64) -> Delivery {
    Delivery {
        msgid: msgid(c.id),
        fire_id: fire_id(c.task, c.fire_time),
        taskid: c.task,
        tag: c.tag,
        data: c.data,
        fire_time: c.fire_time,
        attempt,
        lease_until,
    }
}

/// The state and deliveries so far of a message of the group.
fn message_state(conn: &Connection, id: i64, group: &str) -> rusqlite::Result<Option<(i16, i64)>> {
    conn.prepare_cached("SELECT state, attempt FROM deliveries WHERE id = ?1 AND grp = ?2")?
        .query_row(params![id, group], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
}

/// Acks messages of the group as [`ack_takes`] says; answers the msgids that are acked
/// now, by this call or an earlier one.
pub(crate) fn ack(
    conn: &Connection,
    group: &str,
    leases: &[LeaseRef],
    now_ms: i64,
) -> rusqlite::Result<Vec<String>> {
    let mut acked = Vec::new();
    let mut tally = Tally::default();
    for (id, lease) in parse_leases(leases) {
        let Some((code, attempt)) = message_state(conn, id, group)? else {
            continue;
        };
        if ack_takes(code, attempt, lease.attempt) {
            conn.prepare_cached(
                "UPDATE deliveries SET state = ?2, done_at = ?3, acked_attempt = ?4 WHERE id = ?1",
            )?
            .execute(params![
                id,
                state::ACKED,
                now_ms,
                lease.attempt.unwrap_or(attempt)
            ])?;
            tally.moved(code, state::ACKED, 1);
        } else if code != state::ACKED {
            continue;
        }
        acked.push(lease.msgid.clone());
    }
    tally.apply(conn)?;
    Ok(acked)
}

/// Moves a delivery's lease on to `?4` (never back) and its retry with it, while it is
/// leased (`?6`, `?7`) by the attempt named (`?3`, any when NULL) and has not run out at
/// `?5`; not for an `ack` task, whose lease is its `max_runtime`.
const EXTEND: &str = "UPDATE deliveries \
     SET visible_at = visible_at + max(0, ?4 - lease_until), lease_until = max(lease_until, ?4) \
     WHERE id = ?1 AND grp = ?2 AND state IN (?6, ?7) AND (?3 IS NULL OR attempt = ?3) \
     AND lease_until > ?5 \
     AND NOT (SELECT t.ack FROM tasks t WHERE t.rid = deliveries.task_rid)";

/// Leases messages of the group until `until_ms` at least, as
/// [`QueueStore::extend_leases`](crate::QueueStore::extend_leases) says; answers the
/// msgids held until then now.
pub(crate) fn extend(
    conn: &Connection,
    group: &str,
    leases: &[LeaseRef],
    until_ms: i64,
    now_ms: i64,
) -> rusqlite::Result<Vec<String>> {
    let mut held = Vec::new();
    let mut stmt = conn.prepare_cached(EXTEND)?;
    for (id, lease) in parse_leases(leases) {
        let changed = stmt.execute(params![
            id,
            group,
            lease.attempt,
            until_ms,
            now_ms,
            state::LEASED,
            state::LEASED_FINAL
        ])?;
        if changed > 0 {
            held.push(lease.msgid.clone());
        }
    }
    Ok(held)
}

/// Hands messages of the group back, as [`nack_takes`] says: visible again after
/// `delay_ms` or the ladder's delay, or dead when their attempts are spent.
pub(crate) fn nack(
    conn: &Connection,
    group: &str,
    leases: &[LeaseRef],
    delay_ms: Option<i64>,
    now_ms: i64,
    policy: &DeliveryPolicy,
) -> rusqlite::Result<Vec<String>> {
    let mut nacked = Vec::new();
    let mut tally = Tally::default();
    for (id, lease) in parse_leases(leases) {
        let Some((code, attempt)) = message_state(conn, id, group)? else {
            continue;
        };
        if !nack_takes(code, attempt, lease.attempt) {
            continue;
        }
        let plan = policy.plan_nack(attempt, delay_ms, now_ms);
        retry(conn, id, code, plan, &mut tally)?;
        nacked.push(lease.msgid.clone());
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
                 WHERE grp = ?1 AND tag = ?2 AND state < 3 AND grp <> '@outbox'",
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

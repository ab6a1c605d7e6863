//! Outbox statements: settling the relay's leases from the broker's answers, and finding
//! the messages of fires for end-to-end acks.

use rusqlite::{Connection, OptionalExtension, params};

use super::counts::Tally;
use super::held::{HeldLease, Leases};
use super::rows::{msgid, parse_msgid, state};
use crate::outbox::{OutboxSettle, SettleStep, parse_fire_id, settle_step};

// One execution per message of a statement prepared once, guarded by the lease the
// settle names: no read before the write. (One statement for the whole batch through
// `json_each` measured slower here: SQLite materialises an `UPDATE … FROM` join first.)

/// A confirmed message still leased by the settle's attempt, done unless its task waits
/// for an end-to-end ack the confirmation is not (`?6`).
pub(super) const SENT_DONE: &str = "UPDATE deliveries SET broker_id = ?3, state = 4, \
     done_at = ?4, acked_attempt = attempt \
     WHERE id = ?1 AND grp = ?2 AND attempt = ?5 AND state IN (2, 3) \
     AND (?6 OR NOT (SELECT ack FROM tasks WHERE rid = deliveries.task_rid))";

/// A confirmed message that stays as it is (leased until its end-to-end ack, or acked
/// already): only the broker's id is recorded.
const SENT: &str =
    "UPDATE deliveries SET broker_id = ?3 WHERE id = ?1 AND grp = ?2 AND attempt = ?4";

const RELEASE: &str = "UPDATE deliveries SET state = ?3, attempt = ?4, visible_at = ?5, \
     lease_until = NULL WHERE id = ?1 AND grp = ?2 AND attempt = ?6 AND state IN (2, 3)";

const DEAD: &str = "UPDATE deliveries SET state = 5, done_at = ?3 \
     WHERE id = ?1 AND grp = ?2 AND attempt = ?4 AND state IN (2, 3)";

// A message held in memory (see `held.rs`) is still waiting in the table, as it was
// when leased (`attempt` one less than the settle's, deliverable): each statement applies
// only then, and writes the delivery's outcome straight from there.

/// A confirmed message held in memory: done by this delivery.
pub(super) const HELD_SENT: &str = "UPDATE deliveries SET broker_id = ?3, state = 4, done_at = ?4, \
     attempt = ?5, acked_attempt = ?5, lease_until = NULL \
     WHERE id = ?1 AND grp = ?2 AND attempt = ?6 AND state < 3";

/// A message held in memory and not confirmed: waits until `?3`, the try not counted.
pub(super) const HELD_AGAIN: &str = "UPDATE deliveries SET visible_at = ?3 \
     WHERE id = ?1 AND grp = ?2 AND attempt = ?4 AND state < 3";

/// A message held in memory and refused for good.
pub(super) const HELD_DEAD: &str = "UPDATE deliveries SET state = 5, done_at = ?3, attempt = ?4 \
     WHERE id = ?1 AND grp = ?2 AND attempt = ?5 AND state < 3";

/// Applies each settle that still names the message's current lease: one statement per
/// message (two for a confirmed one that stays leased). Every change of a stored lease
/// moves a leased message (leased or leased-final, one counter); a lease `held` in memory
/// moves the message from the state it waited in.
pub(crate) fn settle(
    conn: &Connection,
    group: &str,
    settles: &[OutboxSettle],
    now_ms: i64,
    held: &Leases,
) -> rusqlite::Result<()> {
    let mut tally = Tally::default();
    let (mut sent_done, mut sent) = (conn.prepare_cached(SENT_DONE)?, conn.prepare_cached(SENT)?);
    let (mut release, mut dead) = (conn.prepare_cached(RELEASE)?, conn.prepare_cached(DEAD)?);
    for settle in settles {
        let Some(id) = parse_msgid(&settle.msgid) else {
            continue;
        };
        let attempt = settle.attempt;
        if let Some(lease) = held.get(&id).filter(|l| l.attempt == attempt) {
            settle_held(conn, group, id, *lease, settle, now_ms, &mut tally)?;
            continue;
        }
        match settle_step(settle) {
            SettleStep::Sent { broker_id, acked } => {
                let done =
                    sent_done.execute(params![id, group, broker_id, now_ms, attempt, acked])?;
                if done == 0 {
                    sent.execute(params![id, group, broker_id, attempt])?;
                }
                tally.moved(state::LEASED, state::ACKED, done as i64);
            }
            SettleStep::Release {
                code,
                attempt: back,
                at,
            } => {
                let moved = release.execute(params![id, group, code, back, at, attempt])?;
                tally.moved(state::LEASED, code, moved as i64);
            }
            SettleStep::Dead => {
                let moved = dead.execute(params![id, group, now_ms, attempt])?;
                tally.moved(state::LEASED, state::DEAD, moved as i64);
            }
        }
    }
    tally.apply(conn)
}

/// Applies the settle of a lease that was held in memory.
fn settle_held(
    conn: &Connection,
    group: &str,
    id: i64,
    lease: HeldLease,
    settle: &OutboxSettle,
    now_ms: i64,
    tally: &mut Tally,
) -> rusqlite::Result<()> {
    let (attempt, row_attempt) = (lease.attempt, lease.row_attempt());
    match settle_step(settle) {
        SettleStep::Sent { broker_id, .. } => {
            let done = conn.prepare_cached(HELD_SENT)?.execute(params![
                id,
                group,
                broker_id,
                now_ms,
                attempt,
                row_attempt
            ])?;
            tally.moved(lease.from_state, state::ACKED, done as i64);
        }
        SettleStep::Release { at, .. } => {
            conn.prepare_cached(HELD_AGAIN)?
                .execute(params![id, group, at, row_attempt])?;
        }
        SettleStep::Dead => {
            let moved = conn.prepare_cached(HELD_DEAD)?.execute(params![
                id,
                group,
                now_ms,
                attempt,
                row_attempt
            ])?;
            tally.moved(lease.from_state, state::DEAD, moved as i64);
        }
    }
    Ok(())
}

/// `(fire_id, msgid)` of the group's message of each fire named.
pub(crate) fn fire_msgids(
    conn: &Connection,
    group: &str,
    fire_ids: &[String],
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for fire in fire_ids {
        let Some((task, fire_time)) = parse_fire_id(fire) else {
            continue;
        };
        // A fire's deliveries are one id range, found from the fire's row.
        let range: Option<(i64, i64)> = conn
            .prepare_cached(
                "SELECT f.first_delivery, f.delivery_count FROM tasks t \
                 JOIN fires f ON f.task_rid = t.rid WHERE t.id = ?1 AND f.fire_time = ?2",
            )?
            .query_row(params![&task.as_bytes()[..], fire_time], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        let Some((first, count)) = range else {
            continue;
        };
        let id: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM deliveries WHERE id BETWEEN ?1 AND ?2 AND grp = ?3 LIMIT 1",
            )?
            .query_row(params![first, first + count - 1, group], |row| row.get(0))
            .optional()?;
        if let Some(id) = id {
            out.push((fire.clone(), msgid(id)));
        }
    }
    Ok(out)
}

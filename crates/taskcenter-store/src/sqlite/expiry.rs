//! Failed deliveries: sweeping leases that ran out, and storing what a failure does
//! (retrying or dead, as the policy says).

use rusqlite::{Connection, params};

use super::counts::Tally;
use super::rows::state;
use crate::model::ExpiryReport;
use crate::policy::{DeliveryPolicy, RetryPlan};

/// Moves up to `limit` leases that ended by `now_ms` on, oldest end first.
pub(crate) fn expire(
    conn: &Connection,
    now_ms: i64,
    policy: &DeliveryPolicy,
    limit: usize,
) -> rusqlite::Result<ExpiryReport> {
    let take = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
    let expired: Vec<(i64, i16, i64, i64)> = conn
        .prepare_cached(
            "SELECT id, state, attempt, lease_until FROM deliveries INDEXED BY deliveries_leased \
             WHERE state IN (2, 3) AND lease_until <= ?1 ORDER BY lease_until LIMIT ?2",
        )?
        .query_map(params![now_ms, take], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut report = ExpiryReport {
        more: expired.len() > limit,
        ..ExpiryReport::default()
    };
    let mut tally = Tally::default();
    for (id, from, attempt, lease_until) in expired.into_iter().take(limit) {
        match retry(
            conn,
            id,
            from,
            policy.plan_expiry(attempt, lease_until),
            &mut tally,
        )? {
            state::DEAD => report.dead += 1,
            _ => report.retrying += 1,
        }
    }
    tally.apply(conn)?;
    Ok(report)
}

/// Stores what a failed delivery of the message `id` (now in state `from`) does; answers
/// the state it moved to.
pub(crate) fn retry(
    conn: &Connection,
    id: i64,
    from: i16,
    plan: RetryPlan,
    tally: &mut Tally,
) -> rusqlite::Result<i16> {
    let to = match plan {
        RetryPlan::Retry { visible_at } => {
            conn.prepare_cached("UPDATE deliveries SET state = ?2, visible_at = ?3 WHERE id = ?1")?
                .execute(params![id, state::RETRYING, visible_at])?;
            state::RETRYING
        }
        RetryPlan::Dead { at } => {
            conn.prepare_cached("UPDATE deliveries SET state = ?2, done_at = ?3 WHERE id = ?1")?
                .execute(params![id, state::DEAD, at])?;
            state::DEAD
        }
    };
    tally.moved(from, to, 1);
    Ok(to)
}

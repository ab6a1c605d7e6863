//! Sweeping leases that ran out: each becomes retrying or dead as the policy says.

use super::Shared;
use super::rows::get;
use crate::error::StoreError;
use crate::model::ExpiryReport;
use crate::policy::{DeliveryPolicy, RetryPlan};

/// Expired leases, oldest end first; locked rows (being acked or nacked right now, or
/// swept by another replica) are left to them.
const EXPIRED: &str = "SELECT id, attempt, lease_until FROM deliveries \
     WHERE state IN (2, 3) AND lease_until <= $1 ORDER BY lease_until LIMIT $2 \
     FOR UPDATE SKIP LOCKED";

/// Failed deliveries with a retry left.
pub(crate) const MARK_RETRY: &str = "UPDATE deliveries d SET state = 1, visible_at = u.visible_at \
     FROM unnest($1::bigint[], $2::bigint[]) AS u(id, visible_at) WHERE d.id = u.id";

/// Failed deliveries out of retries, each dated.
pub(crate) const MARK_DEAD_AT: &str = "UPDATE deliveries d SET state = 5, done_at = u.at \
     FROM unnest($1::bigint[], $2::bigint[]) AS u(id, at) WHERE d.id = u.id";

/// Moves up to `limit` leases that ended by `now_ms` on, oldest end first.
pub(crate) async fn expire(
    s: &Shared,
    now_ms: i64,
    policy: &DeliveryPolicy,
    limit: usize,
) -> Result<ExpiryReport, StoreError> {
    let take = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
    let mut conn = s.pool.get().await?;
    let mut tx = conn.begin().await?;
    let rows = tx.query(EXPIRED, &[&now_ms, &take]).await?;
    let mut plans = FailedDeliveries::default();
    for row in rows.iter().take(limit) {
        let (id, attempt, lease_until) = (get(row, 0)?, get(row, 1)?, get(row, 2)?);
        plans.push(id, policy.plan_expiry(attempt, lease_until));
    }
    let report = ExpiryReport {
        retrying: plans.retry_ids.len() as u64,
        dead: plans.dead_ids.len() as u64,
        more: rows.len() > limit,
    };
    plans.store(&mut tx).await?;
    tx.commit().await?;
    Ok(report)
}

/// What failed deliveries do, gathered to be stored in two statements.
#[derive(Default)]
pub(crate) struct FailedDeliveries {
    pub(crate) retry_ids: Vec<i64>,
    visible_at: Vec<i64>,
    pub(crate) dead_ids: Vec<i64>,
    died_at: Vec<i64>,
}

impl FailedDeliveries {
    /// Adds the plan for the message `id`.
    pub(crate) fn push(&mut self, id: i64, plan: RetryPlan) {
        match plan {
            RetryPlan::Retry { visible_at } => {
                self.retry_ids.push(id);
                self.visible_at.push(visible_at);
            }
            RetryPlan::Dead { at } => {
                self.dead_ids.push(id);
                self.died_at.push(at);
            }
        }
    }

    /// Stores the plans in `tx`.
    pub(crate) async fn store(&self, tx: &mut super::pool::Tx<'_>) -> Result<(), StoreError> {
        if !self.retry_ids.is_empty() {
            tx.execute(MARK_RETRY, &[&self.retry_ids, &self.visible_at])
                .await?;
        }
        if !self.dead_ids.is_empty() {
            tx.execute(MARK_DEAD_AT, &[&self.dead_ids, &self.died_at])
                .await?;
        }
        Ok(())
    }
}

//! Queue depth per group and tag, read from the index of open deliveries only (acked
//! history is never scanned).

use super::Shared;
use super::rows::get;
use crate::error::StoreError;
use crate::model::QueueDepth;

const DEPTHS: &str = "SELECT grp, tag, \
     count(*) FILTER (WHERE state = 0 OR (state = 1 AND visible_at <= $1)), \
     count(*) FILTER (WHERE state IN (2, 3)), \
     count(*) FILTER (WHERE state = 1 AND visible_at > $1), \
     min(visible_at) FILTER (WHERE state = 1 AND visible_at > $1), \
     count(*) FILTER (WHERE state = 5) \
     FROM deliveries WHERE state IN (0, 1, 2, 3, 5) AND grp IS NOT NULL \
     GROUP BY grp, tag ORDER BY grp, tag";

/// Messages per group and tag by state as of `now_ms`.
pub(crate) async fn depths(s: &Shared, now_ms: i64) -> Result<Vec<QueueDepth>, StoreError> {
    let mut conn = s.pool.get().await?;
    let rows = conn.query(DEPTHS, &[&now_ms]).await?;
    rows.iter()
        .map(|row| {
            Ok(QueueDepth {
                group: get(row, 0)?,
                tag: get(row, 1)?,
                ready: get(row, 2)?,
                leased: get(row, 3)?,
                retrying: get(row, 4)?,
                next_retry_ms: get(row, 5)?,
                dead: get(row, 6)?,
            })
        })
        .collect()
}

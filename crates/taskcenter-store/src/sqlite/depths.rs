//! Queue depth per group and tag, read from the partial indexes of open deliveries only
//! (acked history is never scanned).

use rusqlite::{Connection, params};

use crate::model::QueueDepth;

/// One `UNION ALL` arm per partial index (deliverable, last-attempt leases, dead), so
/// each reads its own index instead of the whole table.
const DEPTHS: &str = "SELECT grp, tag, \
     SUM(state = 0 OR (state = 1 AND visible_at <= ?1)), \
     SUM(state IN (2, 3)), \
     SUM(state = 1 AND visible_at > ?1), \
     MIN(CASE WHEN state = 1 AND visible_at > ?1 THEN visible_at END), \
     SUM(state = 5) \
     FROM (SELECT grp, tag, state, visible_at FROM deliveries WHERE state < 3 \
           UNION ALL SELECT grp, tag, state, visible_at FROM deliveries WHERE state = 3 \
           UNION ALL SELECT grp, tag, state, visible_at FROM deliveries WHERE state = 5) \
     WHERE grp IS NOT NULL GROUP BY grp, tag ORDER BY grp, tag";

/// Messages per group and tag by state as of `now_ms`.
pub(crate) fn depths(conn: &Connection, now_ms: i64) -> rusqlite::Result<Vec<QueueDepth>> {
    let mut stmt = conn.prepare_cached(DEPTHS)?;
    let rows = stmt.query_map(params![now_ms], |row| {
        Ok(QueueDepth {
            group: row.get(0)?,
            tag: row.get(1)?,
            ready: row.get(2)?,
            leased: row.get(3)?,
            retrying: row.get(4)?,
            next_retry_ms: row.get(5)?,
            dead: row.get(6)?,
        })
    })?;
    rows.collect()
}

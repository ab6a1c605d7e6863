//! Why deliveries failed: the reason a consumer gave in its nack, kept on the delivery.

use super::Shared;
use super::rows::parse_msgids;
use crate::error::StoreError;

const NOTE: &str =
    "UPDATE deliveries SET fail_reason = $3 WHERE id = ANY($1::bigint[]) AND grp = $2";

/// Records `reason` on the deliveries of `msgids` in `group` (unknown ones are skipped).
pub(crate) async fn note(
    s: &Shared,
    group: &str,
    msgids: &[String],
    reason: &str,
) -> Result<(), StoreError> {
    let ids = parse_msgids(msgids);
    let mut conn = s.pool.get().await?;
    conn.execute(NOTE, &[&ids, &group, &reason]).await?;
    Ok(())
}

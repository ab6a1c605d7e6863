//! Why deliveries failed: the reason a consumer gave in its nack, kept on the delivery.

use rusqlite::{Connection, params};

use super::rows::parse_msgid;

/// Records `reason` on the deliveries of `msgids` in `group` (unknown ones are skipped).
pub(crate) fn note(
    conn: &Connection,
    group: &str,
    msgids: &[String],
    reason: &str,
) -> rusqlite::Result<()> {
    let mut stmt =
        conn.prepare_cached("UPDATE deliveries SET fail_reason = ?3 WHERE id = ?1 AND grp = ?2")?;
    for id in msgids.iter().filter_map(|m| parse_msgid(m)) {
        stmt.execute(params![id, group, reason])?;
    }
    Ok(())
}

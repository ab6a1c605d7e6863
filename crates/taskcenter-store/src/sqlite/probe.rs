//! The write probe of readiness: rewrites one row of some pages, so a store whose writes
//! failed for want of storage is ready again only once a write of that size commits.

use rusqlite::{Connection, params};

/// Bytes the probe writes: a few pages, about what a large add commits. The row stays
/// (one row, rewritten each time): pages freed in the same commit would not be written.
const PROBE_BYTES: i64 = 64 * 1024;

/// Rewrites the probe row.
pub(crate) fn write(conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO write_probe (id, pad) VALUES (1, zeroblob(?1))")?
        .execute(params![PROBE_BYTES])?;
    Ok(())
}

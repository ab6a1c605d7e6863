//! Opening connections: pragmas for the writer and the readers, and schema migrations.

use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::SqliteOptions;
use super::error::bad_value;

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
/// Append new files here, never edit a released one.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_init.sql"),
    include_str!("migrations/002_list_by_rowid.sql"),
    include_str!("migrations/003_lease_expiry.sql"),
    include_str!("migrations/004_acked_attempt.sql"),
    include_str!("migrations/005_write_probe.sql"),
    include_str!("migrations/006_fail_reason.sql"),
    include_str!("migrations/007_outbox.sql"),
    include_str!("migrations/008_outbox_untagged.sql"),
];

/// Opens the write connection: WAL, the configured fsync level, the schema up to date.
pub(crate) fn open_writer(path: &Path, opts: &SqliteOptions) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(opts.busy_timeout)?;
    // 2 KiB pages for a new file (an existing one keeps its own): each add lands on about
    // two randomly placed index pages (due time, dedup hash), and every page a commit
    // dirties is written whole to the WAL, so smaller pages halve those bytes. Measured
    // with 64 single adds in flight: 38.8k -> 42.0k adds/s.
    conn.pragma_update(None, "page_size", 2048)?;
    // WAL lets readers run beside the single writer and makes a commit one sequential
    // append plus one fsync.
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(bad_value(0, format!("journal_mode stayed {mode:?}")));
    }
    // FULL fsyncs the WAL on every commit: an accepted task survives power loss.
    let sync = if opts.synchronous_full {
        "FULL"
    } else {
        "NORMAL"
    };
    conn.pragma_update(None, "synchronous", sync)?;
    // A bounded page cache (negative = KiB): memory does not grow with the task count.
    conn.pragma_update(None, "cache_size", -opts.writer_cache_kib)?;
    // No foreign keys: every reference is written by this module in one transaction,
    // and the checks would cost an index probe per fire.
    conn.pragma_update(None, "foreign_keys", false)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Checkpoint every ~32 MiB of WAL rather than 4 MiB: pages rewritten by many commits
    // (index tails, counters) are copied back to the database once per checkpoint.
    conn.pragma_update(None, "wal_autocheckpoint", opts.wal_autocheckpoint_pages)?;
    stable_plans(&conn)?;
    conn.set_prepared_statement_cache_capacity(64);
    migrate(&conn)?;
    Ok(conn)
}

/// Opens a read connection; `query_only` guards against a write slipping past the writer.
pub(crate) fn open_reader(path: &Path, opts: &SqliteOptions) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(opts.busy_timeout)?;
    conn.pragma_update(None, "query_only", true)?;
    stable_plans(&conn)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// Turns on the query planner stability guarantee. Without it SQLite recompiles a cached
/// statement whenever a newly bound value might change its plan (joins, LIMIT ?…), which
/// cost a tenth of the writer's time; our plans are chosen by the schema, not the values.
fn stable_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// Brings the schema up to the newest migration, each step in its own transaction. The
/// version is read inside the transaction so two processes opening one file at once
/// cannot both apply a step.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let known = MIGRATIONS.len() as i64;
    loop {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let step = next_migration(conn, known).and_then(|next| {
            if let Some((version, sql)) = next {
                conn.execute_batch(sql)?;
                conn.pragma_update(None, "user_version", version)?;
            }
            Ok(next.map(|(version, _)| version))
        });
        match step {
            Ok(applied) => {
                conn.execute_batch("COMMIT")?;
                match applied {
                    Some(version) => tracing::info!(version, "applied sqlite schema migration"),
                    None => return Ok(()),
                }
            }
            Err(err) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(err);
            }
        }
    }
}

/// The migration to apply next, `None` when the schema is current.
fn next_migration(conn: &Connection, known: i64) -> rusqlite::Result<Option<(i64, &'static str)>> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if current > known {
        return Err(bad_value(
            0,
            format!("database schema version {current} is newer than this build ({known})"),
        ));
    }
    Ok(MIGRATIONS
        .get(current as usize)
        .map(|sql| (current + 1, *sql)))
}

/// The schema version of an open database.
#[cfg(test)]
pub(crate) fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

//! The fsync level of each group commit. Most writes are durable before their answer: an
//! add, a fire, an ack is fsynced (`synchronous=FULL` in the store's default options).
//! A few only record work that is done again if the record is lost: the outbox relay's
//! lease and settle. Losing one in a crash only publishes a message again, which
//! consumers dedup on its `fire_id` (and JetStream on `Nats-Msg-Id`). Those are committed
//! with `synchronous=NORMAL`: written to the WAL without an fsync of their own.
//!
//! The rule that keeps every durable write durable: in WAL mode, a `FULL` commit fsyncs
//! the WAL file, which makes every frame written before it durable too, the `NORMAL`
//! commits' among them; and a checkpoint fsyncs the WAL before copying it into the
//! database. So a redoable commit can be lost only together with the redoable commits
//! right after it, never with a durable one; and a durable write is never committed at
//! `NORMAL`: a group commit whose first job is redoable takes only redoable jobs, and
//! the first durable job waits for the next commit, which is made at the durable level.
//!
//! SQLite applies `PRAGMA synchronous` when the statement is prepared, and refuses it
//! inside a transaction: it is set between transactions, never from the statement cache.

use rusqlite::Connection;

/// SQLite's code of `synchronous=NORMAL`.
const NORMAL: i64 = 1;

/// The write connection's fsync level, switched per group commit.
#[derive(Debug)]
pub(crate) struct SyncLevel {
    /// The configured level, which durable commits use.
    durable: i64,
    /// The level set now.
    current: i64,
}

impl SyncLevel {
    /// Reads the configured level of a connection outside any transaction.
    pub(crate) fn read(conn: &Connection) -> rusqlite::Result<Self> {
        let durable = conn.query_row("PRAGMA synchronous", [], |row| row.get(0))?;
        Ok(Self {
            durable,
            current: durable,
        })
    }

    /// Sets the level for the next group commit, before its `BEGIN`: the configured
    /// one unless `redoable`, `NORMAL` (or the configured level, if lower) if it is.
    /// Answers whether the commit may take only redoable jobs.
    pub(crate) fn prepare(&mut self, conn: &Connection, redoable: bool) -> rusqlite::Result<bool> {
        let want = if redoable {
            self.durable.min(NORMAL)
        } else {
            self.durable
        };
        if want != self.current {
            // Not cached: the pragma does its work when prepared.
            conn.execute_batch(&format!("PRAGMA synchronous = {want}"))?;
            self.current = want;
        }
        Ok(want < self.durable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA synchronous", [], |row| row.get(0))
            .expect("read the level")
    }

    #[test]
    fn a_redoable_commit_is_normal_and_the_next_durable_one_full_again() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("PRAGMA synchronous = FULL")
            .expect("full");
        let mut sync = SyncLevel::read(&conn).expect("read");
        assert!(sync.prepare(&conn, true).expect("relax"));
        assert_eq!(level(&conn), NORMAL);
        assert!(sync.prepare(&conn, true).expect("again"));
        assert_eq!(level(&conn), NORMAL);
        assert!(!sync.prepare(&conn, false).expect("durable"));
        assert_eq!(level(&conn), 2, "FULL again for a durable commit");
    }

    #[test]
    fn a_store_opened_at_normal_has_nothing_to_relax() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("PRAGMA synchronous = NORMAL")
            .expect("normal");
        let mut sync = SyncLevel::read(&conn).expect("read");
        assert!(!sync.prepare(&conn, true).expect("redoable"));
        assert_eq!(level(&conn), NORMAL);
    }
}

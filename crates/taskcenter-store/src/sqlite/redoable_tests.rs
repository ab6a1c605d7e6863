//! Redoable and durable jobs on one writer: a commit of redoable jobs only is made at
//! `synchronous=NORMAL`, and a durable job is always committed at the configured `FULL`,
//! whatever was queued before or after it. A job sees its commit's level: SQLite cannot
//! change it inside a transaction.

use std::time::Duration;

use rusqlite::Connection;

use super::writer::{Writer, test_writer};

/// The level a job's commit is made at (2 `FULL`, 1 `NORMAL`); read uncached, as the
/// pragma answers when prepared.
fn level(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA synchronous", [], |row| row.get(0))
}

async fn durable(writer: &Writer) -> i64 {
    writer.write(level).await.expect("durable job")
}

async fn redoable(writer: &Writer) -> i64 {
    writer.write_redoable(level).await.expect("redoable job")
}

#[tokio::test]
async fn durable_jobs_are_committed_full_even_when_queued_behind_redoable_ones() {
    let (_dir, writer) = test_writer();
    assert_eq!(durable(&writer).await, 2, "the store's level is FULL");
    assert_eq!(redoable(&writer).await, 1, "a lone redoable job: NORMAL");
    // A redoable job holds the writer so the rest queue behind it, interleaved.
    let stall = writer.write_redoable(|conn| {
        std::thread::sleep(Duration::from_millis(200));
        level(conn)
    });
    let queued = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        tokio::join!(
            redoable(&writer),
            durable(&writer),
            redoable(&writer),
            durable(&writer),
            redoable(&writer),
        )
    };
    let (stall, (a, b, c, d, e)) = tokio::join!(stall, queued);
    assert_eq!(stall.expect("stall"), 1);
    assert_eq!(a, 1, "gathered into the redoable commit");
    assert_eq!((b, d), (2, 2), "durable jobs are never committed at NORMAL");
    assert_eq!(
        (c, e),
        (2, 2),
        "redoable jobs behind a durable one share its FULL commit"
    );
    assert_eq!(durable(&writer).await, 2);
    assert_eq!(redoable(&writer).await, 1);
}

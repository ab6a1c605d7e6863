//! Schema migrations, applied at start-up in one transaction under an advisory lock, so
//! replicas starting together do not race: the first applies them, the others wait and
//! then find them applied.

use super::pool::Conn;
use super::rows::SHARDS;
use crate::error::StoreError;

/// Migrations in order: version, name, SQL.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "init", include_str!("migrations/001_init.sql")),
    (
        2,
        "lease_expiry",
        include_str!("migrations/002_lease_expiry.sql"),
    ),
    (
        3,
        "acked_attempt",
        include_str!("migrations/003_acked_attempt.sql"),
    ),
    (
        4,
        "fail_reason",
        include_str!("migrations/004_fail_reason.sql"),
    ),
    (5, "outbox", include_str!("migrations/005_outbox.sql")),
];

/// The advisory lock taken while migrating (two-key form: its own key space).
const LOCK: &str = "SELECT pg_advisory_xact_lock(1952670579, 1)";

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations ( \
     version integer PRIMARY KEY, name text NOT NULL, \
     applied_at timestamptz NOT NULL DEFAULT now())";

const APPLIED: &str = "SELECT version FROM schema_migrations";

const RECORD: &str = "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)";

const SHARD_COUNT: &str = "SELECT count(*) FROM shard_leases";

/// Brings the schema up to date; returns the versions applied now.
pub(crate) async fn migrate(conn: &mut Conn) -> Result<Vec<i32>, StoreError> {
    let mut tx = conn.begin().await?;
    tx.execute(LOCK, &[]).await?;
    tx.execute(CREATE_TABLE, &[]).await?;
    let applied: Vec<i32> = tx
        .query(APPLIED, &[])
        .await?
        .iter()
        .map(|row| super::rows::get(row, 0))
        .collect::<Result<_, _>>()?;
    let mut done = Vec::new();
    for &(version, name, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        tx.batch(sql).await?;
        tx.execute(RECORD, &[&version, &name]).await?;
        done.push(version);
    }
    if let Some(newest) = applied.iter().max()
        && MIGRATIONS.iter().all(|(v, _, _)| v < newest)
    {
        return Err(StoreError::Internal(format!(
            "the database has schema version {newest}, newer than this binary knows"
        )));
    }
    let rows = tx.query(SHARD_COUNT, &[]).await?;
    let shards: i64 = match rows.first() {
        Some(row) => super::rows::get(row, 0)?,
        None => 0,
    };
    if shards != SHARDS as i64 {
        return Err(StoreError::Corrupt(format!(
            "{shards} shard leases in the database, this binary expects {SHARDS}"
        )));
    }
    tx.commit().await?;
    Ok(done)
}

//! A small pool of PostgreSQL connections, each keeping its prepared statements.
//!
//! Connections are opened on demand up to a limit and handed back after use; a connection
//! the server closed (a restart, an idle timeout) is dropped instead of reused, so the
//! pool heals by itself once the database is back.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, GenericClient, NoTls, Row, Statement, Transaction};

use super::error::{map_err, unavailable};
use crate::error::StoreError;

/// Parameters of one statement.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// Statements prepared on one connection, by their text.
type Prepared = HashMap<&'static str, Statement>;

/// Connections to one database.
pub(crate) struct Pool {
    config: Config,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
}

impl Pool {
    /// A pool of at most `size` connections made with `config`; none is opened yet.
    pub(crate) fn new(config: Config, size: usize) -> Self {
        Self {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1)),
        }
    }

    /// The connection settings (for connections kept outside the pool).
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// A connection: an idle one that is still open, or a new one.
    pub(crate) async fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| unavailable("the connection pool is closed"))?;
        while let Some(conn) = self.lock().pop() {
            if !conn.client.is_closed() {
                return Ok(Pooled {
                    conn: Some(conn),
                    pool: self,
                    _permit: permit,
                });
            }
        }
        let client = connect(&self.config).await?;
        Ok(Pooled {
            conn: Some(Conn {
                client,
                prepared: HashMap::new(),
            }),
            pool: self,
            _permit: permit,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        // A panic elsewhere cannot leave the list half-updated.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Opens one connection and drives it on its own task.
pub(crate) async fn connect(config: &Config) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(map_err)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "postgres connection ended");
        }
    });
    Ok(client)
}

/// One open connection and the statements prepared on it.
pub(crate) struct Conn {
    client: Client,
    prepared: Prepared,
}

impl Conn {
    /// Runs a query outside any transaction.
    pub(crate) async fn query(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<Vec<Row>, StoreError> {
        let statement = prepare(&mut self.prepared, &self.client, sql).await?;
        self.client.query(&statement, params).await.map_err(map_err)
    }

    /// Runs a statement outside any transaction; returns the rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<u64, StoreError> {
        let statement = prepare(&mut self.prepared, &self.client, sql).await?;
        self.client
            .execute(&statement, params)
            .await
            .map_err(map_err)
    }

    /// Starts a transaction; it rolls back unless committed.
    pub(crate) async fn begin(&mut self) -> Result<Tx<'_>, StoreError> {
        let tx = self.client.transaction().await.map_err(map_err)?;
        Ok(Tx {
            tx,
            prepared: &mut self.prepared,
        })
    }
}

/// A transaction on a pooled connection.
pub(crate) struct Tx<'a> {
    tx: Transaction<'a>,
    prepared: &'a mut Prepared,
}

impl Tx<'_> {
    /// Runs a query in the transaction.
    pub(crate) async fn query(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<Vec<Row>, StoreError> {
        let statement = prepare(self.prepared, &self.tx, sql).await?;
        self.tx.query(&statement, params).await.map_err(map_err)
    }

    /// Runs a statement in the transaction; returns the rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: &'static str,
        params: &Params<'_>,
    ) -> Result<u64, StoreError> {
        let statement = prepare(self.prepared, &self.tx, sql).await?;
        self.tx.execute(&statement, params).await.map_err(map_err)
    }

    /// Runs several statements of text with no parameters (migrations).
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.tx.batch_execute(sql).await.map_err(map_err)
    }

    /// Commits this transaction without waiting for its WAL to reach the disk: for work
    /// whose loss in a crash only has it done again (the outbox relay's leases and
    /// settles), so a burst of them does not wait on the disk. Later durable commits
    /// flush its WAL before their own.
    pub(crate) async fn redoable(&mut self) -> Result<(), StoreError> {
        self.batch("SET LOCAL synchronous_commit = off").await
    }

    /// Commits.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(map_err)
    }
}

/// The prepared statement for `sql`, preparing it on first use.
async fn prepare(
    prepared: &mut Prepared,
    client: &impl GenericClient,
    sql: &'static str,
) -> Result<Statement, StoreError> {
    if let Some(statement) = prepared.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(sql).await.map_err(map_err)?;
    prepared.insert(sql, statement.clone());
    Ok(statement)
}

/// A connection lent by the pool, given back when dropped.
pub(crate) struct Pooled<'a> {
    conn: Option<Conn>,
    pool: &'a Pool,
    _permit: SemaphorePermit<'a>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        // Only `drop` takes the connection out.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !conn.client.is_closed()
        {
            self.pool.lock().push(conn);
        }
    }
}

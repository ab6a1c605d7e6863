//! PostgreSQL for tests: a fresh database per test (or per server under test), dropped
//! after it. The store suite and the end-to-end tests share it.
//!
//! The end-to-end suite runs on PostgreSQL when `TASKCENTER_TEST_STORE=postgres` (see
//! [`suite_on_postgres`]). The server is the machine's (`scripts/test.sh` starts it when it
//! is down); its URL comes from `TASKCENTER_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Every user of it holds a shared lock on a
//! file, so the test that restarts PostgreSQL (it takes the lock exclusively, see
//! [`exclusive_lock`]) never runs beside them.
#![allow(clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_postgres::{NoTls, Row};

/// Whether the end-to-end suite is asked to run on PostgreSQL.
pub fn suite_on_postgres() -> bool {
    std::env::var("TASKCENTER_TEST_STORE").is_ok_and(|s| s == "postgres")
}

/// The URL of the server's administrative database.
pub fn admin_url() -> String {
    std::env::var("TASKCENTER_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `url` with its database replaced by `db`.
pub fn with_db(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
    match query {
        "" => format!("{root}/{db}"),
        q => format!("{root}/{db}?{q}"),
    }
}

fn lock_file() -> File {
    let path = std::env::temp_dir().join("taskcenter-postgres-tests.lock");
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .expect("open the postgres test lock file")
}

/// The shared side of the lock that keeps PostgreSQL from being restarted under a test.
pub fn shared_lock() -> File {
    let file = lock_file();
    file.lock_shared().expect("take the postgres test lock");
    file
}

/// The exclusive side: no other test uses PostgreSQL while it is held.
pub fn exclusive_lock() -> File {
    let file = lock_file();
    file.lock().expect("take the postgres test lock");
    file
}

/// Runs `work` to completion on a runtime of its own, on a thread of its own, so it may be
/// called from synchronous and async tests alike.
fn block_on<T: Send>(work: impl Future<Output = T> + Send) -> T {
    std::thread::scope(|scope| {
        let handle = scope.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(work)
        });
        handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A connection to the database at `url`, driven on the current runtime.
async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is not reachable at {url} ({e}); scripts/test.sh starts it")
        });
    tokio::spawn(connection);
    client
}

/// Runs `sql` on the database at `url` and returns its rows.
pub fn query(url: &str, sql: &str) -> Vec<Row> {
    block_on(async {
        connect(url)
            .await
            .query(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
}

/// Runs statements with no result on the database at `url`.
pub fn execute(url: &str, sql: &str) {
    block_on(async {
        connect(url)
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
}

/// A database made for one test (or one server) and dropped with it.
pub struct TestDb {
    pub name: String,
    pub url: String,
    _lock: File,
}

impl TestDb {
    /// A database for a test that shares the server with others.
    pub fn new(label: &str) -> TestDb {
        Self::holding(label, shared_lock())
    }

    /// A database whose user holds `lock` (the exclusive one, to restart the server).
    pub fn holding(label: &str, lock: File) -> TestDb {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut name = format!(
            "tc_{}_{}_{label}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        name.truncate(63);
        execute(
            &admin_url(),
            &format!("CREATE DATABASE \"{name}\" TEMPLATE template0"),
        );
        let url = with_db(&admin_url(), &name);
        TestDb {
            name,
            url,
            _lock: lock,
        }
    }

    /// Rows of a query on this database.
    pub fn query(&self, sql: &str) -> Vec<Row> {
        query(&self.url, sql)
    }

    /// One `bigint` from a query on this database.
    pub fn count(&self, sql: &str) -> i64 {
        self.query(sql)
            .first()
            .map(|row| row.get::<_, i64>(0))
            .unwrap_or_else(|| panic!("no row from {sql}"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // On a thread of its own: this may run while the test unwinds from a panic.
        let dropped = std::thread::spawn(move || execute(&admin_url(), &sql)).join();
        if dropped.is_err() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

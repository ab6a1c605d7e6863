//! PostgreSQL for the store tests: a fresh database per test, dropped after it.
//!
//! The server is the machine's (`scripts/test.sh` starts it when it is down); its URL
//! comes from `TASKCENTER_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`).
//! Every test holds a shared lock on a file while it uses the server, so the one test
//! that restarts PostgreSQL (it takes the lock exclusively) never runs beside them.

#![allow(dead_code)]

use std::fs::File;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio_postgres::NoTls;

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

/// Holds the shared side of the lock that keeps PostgreSQL from being restarted under
/// running tests.
#[allow(clippy::incompatible_msrv)] // tests run on the project's current toolchain
pub fn shared_lock() -> File {
    let path = std::env::temp_dir().join("taskcenter-postgres-tests.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .expect("open the postgres test lock file");
    file.lock_shared().expect("take the postgres test lock");
    file
}

/// Runs one statement on the administrative database.
pub async fn admin(sql: &str) {
    let url = admin_url();
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is not reachable at {url} ({e}); scripts/test.sh starts it")
        });
    tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A database made for one test and dropped after it.
pub struct TempDb {
    pub name: String,
    pub url: String,
    _lock: File,
}

impl TempDb {
    pub async fn new(test: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let lock = shared_lock();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut name = format!("tcs_{}_{n}_{test}", std::process::id());
        name.truncate(63);
        admin(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0")).await;
        let url = with_db(&admin_url(), &name);
        Self {
            name,
            url,
            _lock: lock,
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Called inside the test's runtime: the drop runs on a runtime of its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(admin(&sql)))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

//! A restart of PostgreSQL itself under three replicas: they wait for it and resume,
//! losing no fire and doubling none. This restarts the machine's shared server, so it
//! holds the PostgreSQL test lock exclusively (every other test using PostgreSQL holds it
//! shared) and lives in its own file.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::pg::{TestDb, exclusive_lock};
use common::replicas::*;
use common::*;

/// Stops the machine's PostgreSQL cluster, as an operator would, keeps it down for
/// `down` (longer than a shard lease, so every lease has expired when it is back), and
/// starts it again.
fn restart_postgres(down: Duration) {
    let versions = std::fs::read_dir("/etc/postgresql")
        .expect("PostgreSQL's configuration in /etc/postgresql")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    let version = versions.first().expect("a PostgreSQL cluster");
    let ctl = |action: &str| {
        let status = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", version, "main", action])
            .status()
            .expect("run pg_ctlcluster");
        assert!(status.success(), "pg_ctlcluster {action} failed: {status}");
    };
    ctl("stop");
    std::thread::sleep(down);
    ctl("start");
}

#[test]
fn replicas_wait_out_a_postgres_restart_and_lose_nothing() {
    const N: usize = 1500;
    let db = TestDb::holding("pgrestart", exclusive_lock());
    let mut cluster = Cluster::start(3, db);
    let apis: Vec<Api> = cluster.servers.iter().map(|s| s.api.clone()).collect();
    apis[0].subscribe(GROUP, TAG);
    let consumers = Consumers::start(apis, 1);
    let first_s = now_s() + 3;
    cluster.add_spread(N, first_s, 12);

    sleep_until_ms((first_s + 4) * 1000);
    let before = cluster.db.count("SELECT count(*) FROM fires");
    let t = Instant::now();
    restart_postgres(LEASE + Duration::from_secs(1));
    eprintln!(
        "PostgreSQL down and up again in {:?}, {before} of {N} fired before",
        t.elapsed()
    );

    cluster.wait_fires(N as i64, Duration::from_secs(40));
    cluster.wait_acked(&consumers, N, Duration::from_secs(30));
    let seen = consumers.stop();
    cluster.assert_fired_once_each(N as i64);
    assert_consumed_once_each(&cluster.db, &seen, N);
    for server in &mut cluster.servers {
        assert!(server.is_running(), "a replica died with the database");
    }
    assert_eq!(cluster.live_owners(), 3, "every replica holds shards again");
    eprintln!(
        "worst lateness {} ms; {} deliveries for {N} fires",
        cluster.worst_lateness_ms(),
        seen.len()
    );
}

//! Several replicas on one PostgreSQL database: every fire exactly
//! once while a replica is killed with `kill -9`, its shards taken over within the lease
//! time; and a replica frozen past its lease (SIGSTOP) fires nothing another replica
//! took over when it is resumed. The PostgreSQL restart test is `replicas_pg_restart.rs`.

mod common;

use std::time::Duration;

use common::pg::TestDb;
use common::replicas::*;
use common::*;

const TASKS: usize = 5000;
const SPREAD_S: i64 = 20;

#[test]
fn three_replicas_fire_every_task_once_while_one_is_killed() {
    let mut cluster = Cluster::start(3, TestDb::new("kill9"));
    let apis: Vec<Api> = cluster.servers.iter().map(|s| s.api.clone()).collect();
    apis[0].subscribe(GROUP, TAG);
    let consumers = Consumers::start(apis, 1);
    let first_s = now_s() + 3;
    cluster.add_spread(TASKS, first_s, SPREAD_S);

    // Mid-way, kill one replica outright.
    sleep_until_ms((first_s + SPREAD_S / 2) * 1000);
    let dead = cluster.names[1].clone();
    let held = cluster.leases_of(&dead).len();
    assert!(held > 0, "the victim held shards");
    cluster.servers[1].kill9();
    let takeover = time_until(
        LEASE * 3,
        "the dead replica's shards to be taken over",
        || cluster.leases_of(&dead).is_empty(),
    );
    eprintln!("{held} shards of the killed replica taken over {takeover:?} after kill -9");
    assert!(
        takeover <= LEASE,
        "taken over {takeover:?} after the kill; the lease is {LEASE:?}"
    );

    cluster.wait_fires(TASKS as i64, Duration::from_secs(SPREAD_S as u64 + 20));
    cluster.wait_acked(&consumers, TASKS, Duration::from_secs(20));
    let seen = consumers.stop();
    cluster.assert_fired_once_each(TASKS as i64);
    assert_consumed_once_each(&cluster.db, &seen, TASKS);
    let by_dead = cluster.db.count(&format!(
        "SELECT count(*) FROM fires WHERE replica = '{dead}'"
    ));
    eprintln!(
        "{by_dead} fires by the killed replica; worst lateness {} ms; {} deliveries for {TASKS} fires",
        cluster.worst_lateness_ms(),
        seen.len()
    );
}

#[test]
fn a_replica_frozen_past_its_lease_fires_nothing_taken_over_when_resumed() {
    const N: usize = 1500;
    let cluster = Cluster::start(3, TestDb::new("sigstop"));
    let apis: Vec<Api> = cluster.servers.iter().map(|s| s.api.clone()).collect();
    apis[0].subscribe(GROUP, TAG);
    let consumers = Consumers::start(apis, 1);
    let first_s = now_s() + 3;
    cluster.add_spread(N, first_s, 15);

    sleep_until_ms((first_s + 4) * 1000);
    let frozen = cluster.names[1].clone();
    let pid = cluster.servers[1].pid();
    let before = cluster.leases_of(&frozen);
    signal(pid, "STOP");
    let froze_at = now_ms();
    // Past its lease: the others take its shards over.
    let taken = time_until(
        LEASE * 3,
        "the frozen replica's shards to be taken over",
        || cluster.leases_of(&frozen).is_empty(),
    );
    std::thread::sleep(LEASE);
    signal(pid, "CONT");
    eprintln!(
        "{} shards taken over {taken:?} into the freeze",
        before.len()
    );

    cluster.wait_fires(N as i64, Duration::from_secs(30));
    cluster.wait_acked(&consumers, N, Duration::from_secs(20));
    std::thread::sleep(LEASE); // anything late from the resumed replica would show now
    let seen = consumers.stop();
    cluster.assert_fired_once_each(N as i64);
    assert_consumed_once_each(&cluster.db, &seen, N);
    // Nothing fired by the resumed replica under the leases it held before the freeze,
    // other than fires committed before it froze (up to the fire-ahead before their time).
    let old: Vec<String> = before
        .iter()
        .map(|(shard, epoch)| format!("({shard}, {epoch})"))
        .collect();
    let stale = cluster.db.count(&format!(
        "SELECT count(*) FROM fires f JOIN tasks t ON t.id = f.task_id \
         JOIN (VALUES {}) AS old(shard, epoch) ON old.shard = t.shard AND old.epoch = f.epoch \
         WHERE f.replica = '{frozen}' AND f.published_at > {}",
        old.join(", "),
        froze_at + 1000
    ));
    assert_eq!(
        stale, 0,
        "fires by the resumed replica under leases it had lost"
    );
    let after = cluster.db.count(&format!(
        "SELECT count(*) FROM fires WHERE replica = '{frozen}' AND published_at > {froze_at}"
    ));
    eprintln!("the resumed replica fired {after} tasks under leases it holds anew");
    assert!(cluster.servers.iter().all(|s| s.pid() > 0));
}

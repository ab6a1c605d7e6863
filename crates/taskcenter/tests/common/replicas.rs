//! Harness of the replica tests: several `taskcenter serve` on one PostgreSQL database,
//! consumers that ack on whichever replica answers, and checks of the fires the database
//! recorded (each fire row names the replica and the lease epoch it was made under).
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::pg::TestDb;
use super::*;

/// The shard lease the replica tests run with.
pub const LEASE: Duration = Duration::from_secs(2);

pub const GROUP: &str = "rep";
pub const TAG: &str = "rep";

/// Replicas on one database.
pub struct Cluster {
    pub servers: Vec<Server>,
    /// Each replica's name in the lease table.
    pub names: Vec<String>,
    pub db: TestDb,
}

impl Cluster {
    /// `n` replicas with a 2 s shard lease, 3 s message leases and a 1 s retry, so a
    /// message lost with a killed replica comes back quickly.
    pub fn start(n: usize, db: TestDb) -> Cluster {
        Self::start_with(n, db, &[])
    }

    /// As [`Cluster::start`], each replica with the `extra` flags too.
    pub fn start_with(n: usize, db: TestDb, extra: &[&str]) -> Cluster {
        let config = format!("shard_lease = \"{}ms\"\n", LEASE.as_millis());
        let mut args = vec![
            "--store",
            &db.url,
            "--lease",
            "3s",
            "--retry-delays",
            "1s,1s,1s",
        ];
        args.extend_from_slice(extra);
        let servers: Vec<Server> = (0..n)
            .map(|_| Server::start_with_config(&config, &args))
            .collect();
        let names = servers.iter().map(replica_name).collect();
        let cluster = Cluster { servers, names, db };
        wait_for(
            LEASE * 4,
            "every replica to hold its share of shards",
            || cluster.live_owners() == n,
        );
        cluster
    }

    /// Replicas holding at least one live lease.
    pub fn live_owners(&self) -> usize {
        self.db.count(
            "SELECT count(DISTINCT owner) FROM shard_leases \
             WHERE owner IS NOT NULL AND expires_at > now()",
        ) as usize
    }

    /// Shards `name` holds, with their epochs.
    pub fn leases_of(&self, name: &str) -> Vec<(i32, i64)> {
        self.db
            .query(&format!(
                "SELECT shard, epoch FROM shard_leases WHERE owner = '{name}' ORDER BY shard"
            ))
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect()
    }

    /// Adds `n` once tasks spread evenly over `spread_s` seconds from `first_s` (unix
    /// seconds), in batches through every replica in turn.
    pub fn add_spread(&self, n: usize, first_s: i64, spread_s: i64) {
        let specs: Vec<Value> = (0..n)
            .map(|i| {
                let at = first_s + (i as i64 * spread_s) / n as i64;
                json!({"name": TAG, "type": 1, "data": format!("task {i}"), "start_time": at})
            })
            .collect();
        for (k, batch) in specs.chunks(500).enumerate() {
            let server = &self.servers[k % self.servers.len()];
            let (status, body) = server.post("/v1/api/tasks", &json!(batch));
            assert_eq!(status, 200, "batch add: {}", short(&body));
        }
        assert_eq!(self.db.count("SELECT count(*) FROM tasks"), n as i64);
    }

    /// Waits until `n` fires exist, or `within`.
    pub fn wait_fires(&self, n: i64, within: Duration) {
        wait_for(within, &format!("{n} fires"), || {
            self.db.count("SELECT count(*) FROM fires") >= n
        });
    }

    /// Every task fired exactly once, and no lease epoch of a shard saw fires from two
    /// replicas (fencing).
    pub fn assert_fired_once_each(&self, n: i64) {
        let db = &self.db;
        assert_eq!(db.count("SELECT count(*) FROM fires"), n, "fires");
        assert_eq!(
            db.count("SELECT count(DISTINCT task_id) FROM fires"),
            n,
            "fired tasks"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM tasks WHERE status = 2"),
            n,
            "finished"
        );
        let shared = db.count(
            "SELECT count(*) FROM (SELECT t.shard, f.epoch FROM fires f \
             JOIN tasks t ON t.id = f.task_id WHERE f.epoch IS NOT NULL \
             GROUP BY t.shard, f.epoch HAVING count(DISTINCT f.replica) > 1) x",
        );
        assert_eq!(shared, 0, "a shard's lease epoch fired by two replicas");
    }

    /// Waits until the consumers received each of `n` fires and every delivery is acked
    /// in the database (an ack whose answer was lost with a killed replica still counts);
    /// says where the others are if that does not happen within `within`.
    pub fn wait_acked(&self, consumers: &Consumers, n: usize, within: Duration) {
        let deadline = Instant::now() + within;
        let acked = || {
            self.db
                .count("SELECT count(*) FROM deliveries WHERE state = 4")
        };
        while consumers.received() < n || acked() < n as i64 {
            if Instant::now() > deadline {
                let states: Vec<String> = self
                    .db
                    .query("SELECT state::text || ':' || count(*) FROM deliveries GROUP BY state")
                    .iter()
                    .map(|row| row.get(0))
                    .collect();
                panic!(
                    "{} of {n} fires received after {within:?}; deliveries by state {states:?}",
                    consumers.received()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Worst lateness of a fire (commit time after its due time), ms.
    pub fn worst_lateness_ms(&self) -> i64 {
        self.db
            .count("SELECT coalesce(max(published_at - fire_time), 0)::bigint FROM fires")
    }
}

/// A replica's name, from its log line `postgres store open replica=NAME`.
pub fn replica_name(server: &Server) -> String {
    let log = server.log_tail(500);
    log.lines()
        .find_map(|line| line.split("replica=").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or(rest).to_string())
        .unwrap_or_else(|| panic!("no replica name in the log:\n{log}"))
}

/// One delivery as a consumer saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub fire_id: String,
    pub attempt: i64,
    pub acked: bool,
}

/// Consumer threads, each long-polling one replica and moving to the next when it
/// fails, acking every batch where it got it.
pub struct Consumers {
    stop: Arc<AtomicBool>,
    handles: Vec<thread::JoinHandle<()>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Consumers {
    pub fn start(apis: Vec<Api>, per_replica: usize) -> Consumers {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handles = (0..apis.len() * per_replica)
            .map(|i| {
                let (apis, stop, seen) = (apis.clone(), stop.clone(), seen.clone());
                thread::spawn(move || consume_loop(&apis, i % apis.len(), &stop, &seen))
            })
            .collect();
        Consumers {
            stop,
            handles,
            seen,
        }
    }

    /// Stops the consumers; returns what they saw.
    pub fn stop(self) -> Vec<Seen> {
        self.stop.store(true, Ordering::SeqCst);
        for handle in self.handles {
            handle.join().expect("consumer thread");
        }
        let seen = self.seen.lock().expect("lock");
        seen.clone()
    }

    /// Distinct fires received so far.
    pub fn received(&self) -> usize {
        let seen = self.seen.lock().expect("lock");
        seen.iter()
            .map(|s| &s.fire_id)
            .collect::<HashSet<_>>()
            .len()
    }
}

fn consume_loop(apis: &[Api], mut at: usize, stop: &AtomicBool, seen: &Mutex<Vec<Seen>>) {
    while !stop.load(Ordering::SeqCst) {
        let api = &apis[at];
        let msgs = match api.try_consume(GROUP, TAG, 200, 500) {
            Ok(msgs) => msgs,
            Err(_) => {
                // That replica is gone or its database is: try the next one.
                at = (at + 1) % apis.len();
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if msgs.is_empty() {
            continue;
        }
        let acked = match api.try_ack(GROUP, &msgids(&msgs)) {
            Ok((200, body)) => body["msgids"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_else(|| msgids(&msgs)),
            _ => Vec::new(),
        };
        let acked: HashSet<String> = acked.into_iter().collect();
        let mut log = seen.lock().expect("lock");
        for m in &msgs {
            log.push(Seen {
                fire_id: m["fire_id"].as_str().unwrap_or_default().to_string(),
                attempt: m["attempt"].as_i64().unwrap_or(0),
                acked: acked.contains(m["msgid"].as_str().unwrap_or_default()),
            });
        }
    }
}

/// Each fire reached the consumers, none was delivered as new twice (a fire seen again is
/// a redelivery: its ack was lost with a replica or the database, never a second fire), and
/// the database holds exactly one delivery per fire, acked.
pub fn assert_consumed_once_each(db: &TestDb, seen: &[Seen], n: usize) {
    let mut by_fire: HashMap<&str, Vec<&Seen>> = HashMap::new();
    for s in seen {
        by_fire.entry(&s.fire_id).or_default().push(s);
    }
    assert_eq!(by_fire.len(), n, "distinct fires delivered");
    for (fire, deliveries) in &by_fire {
        let firsts = deliveries.iter().filter(|s| s.attempt == 1).count();
        assert!(
            firsts <= 1,
            "fire {fire} delivered as new twice: {deliveries:?}"
        );
    }
    assert_eq!(
        db.count("SELECT count(*) FROM deliveries"),
        n as i64,
        "deliveries"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM deliveries WHERE state = 4"),
        n as i64,
        "acked deliveries"
    );
}

/// How long `check` took to hold, polled every 20 ms, at most `within`.
pub fn time_until(within: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    wait_for(within, what, || {
        let done = check();
        if !done {
            thread::sleep(Duration::from_millis(20));
        }
        done
    });
    start.elapsed()
}

//! Crash-loop probe: single and batch adds, fires of once and loop tasks, and consumes with
//! acks run against the real binary while it is killed with `kill -9` at random moments
//! and restarted on the same data; then every accepted task must have been delivered and
//! acked, and no fire may exist twice.
//!
//! A normal test run is short (3 kills). `scripts/crash-loop.sh` runs it long, and with
//! `TASKCENTER_CRASH_SOAK_SECS` it is a soak instead: no kills, a steady load for that long
//! and the server's resident memory sampled as it goes. Knobs, all optional:
//! `TASKCENTER_CRASH_KILLS`, `TASKCENTER_CRASH_SEED` (replays the kill moments and the
//! load's choices of a run, printed at its start), `TASKCENTER_CRASH_PACE_MS` (pause of the
//! single adder), `TASKCENTER_CRASH_SOAK_SECS`, `TASKCENTER_CRASH_RSS_EVERY_SECS`.
//! The last line printed is one JSON object: kills, accepted, delivered, lost, doubled,
//! seed, store.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const GROUP: &str = "crash";
const ONCE_TAG: &str = "crash.once";
const LOOP_TAG: &str = "crash.loop";
const TAGS: &str = "crash.once || crash.loop";
/// Short lease and retry delays, so deliveries a kill cut off come again within seconds.
const LEASE: &str = "3s";
const RETRIES: usize = 30;

/// What a run does, from the environment.
struct Knobs {
    kills: u64,
    seed: u64,
    pace_ms: u64,
    soak_secs: u64,
    rss_every_secs: u64,
}

impl Knobs {
    fn from_env() -> Knobs {
        let num = |key: &str, default: u64| match std::env::var(key) {
            Ok(text) => text
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{key}={text:?} is not a whole number")),
            Err(_) => default,
        };
        let soak_secs = num("TASKCENTER_CRASH_SOAK_SECS", 0);
        Knobs {
            kills: if soak_secs > 0 {
                0
            } else {
                num("TASKCENTER_CRASH_KILLS", 3)
            },
            seed: num("TASKCENTER_CRASH_SEED", now_ms() as u64),
            pace_ms: num("TASKCENTER_CRASH_PACE_MS", 5),
            soak_secs,
            rss_every_secs: num("TASKCENTER_CRASH_RSS_EVERY_SECS", 30).max(1),
        }
    }
}

/// splitmix64: a few lines that make every choice of a run reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Once,
    Loop,
}

/// One delivery as a consumer saw it, and what became of its ack.
#[derive(Debug, Clone)]
struct Seen {
    taskid: String,
    fire_id: String,
    fire_time: i64,
    acked: bool,
    /// The ack call got no answer (the server died under it): it may have committed, and
    /// only the server's history can tell.
    ack_unanswered: bool,
}

/// State the load threads share with the test.
struct Shared {
    /// The server that runs now; swapped after each restart.
    target: RwLock<Api>,
    adding: AtomicBool,
    consuming: AtomicBool,
    accepted: Mutex<Vec<(String, Kind)>>,
    seen: Mutex<Vec<Seen>>,
}

impl Shared {
    fn api(&self) -> Api {
        self.target.read().expect("lock").clone()
    }

    fn accept(&self, id: &str, kind: Kind) {
        self.accepted
            .lock()
            .expect("lock")
            .push((id.to_string(), kind));
    }
}

/// A task body with data no other task of the run has (so the dedup of equal tasks never
/// merges two adds); once tasks fall due within 0–2 s.
fn task_body(kind: Kind, data: String, rng: &mut Rng) -> Value {
    match kind {
        Kind::Loop => {
            json!({"name": LOOP_TAG, "type": 2, "data": data, "loop_time": 1, "loop_count": 5})
        }
        Kind::Once => match rng.range(0, 2) {
            0 => json!({"name": ONCE_TAG, "type": 1, "data": data}),
            ahead => {
                json!({"name": ONCE_TAG, "type": 1, "data": data, "start_time": now_s() + ahead as i64})
            }
        },
    }
}

/// A refusal of a well-formed add is a bug of the probe or the server; a 5xx or no answer
/// is what a dying server gives, and the add then simply does not count as accepted.
fn check_refusal(status: u16, body: &Value) {
    assert!(
        status >= 500,
        "an add was refused with {status}: {}",
        short(body)
    );
}

/// Adds tasks one by one (one in forty a loop task) until told to stop.
fn single_adder(shared: Arc<Shared>, seed: u64, pace: Duration) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut rng = Rng(seed ^ 0x51);
        let mut i = 0u64;
        while shared.adding.load(Ordering::SeqCst) {
            i += 1;
            let kind = if rng.range(0, 39) == 0 {
                Kind::Loop
            } else {
                Kind::Once
            };
            let body = task_body(kind, format!("s{seed}-{i}"), &mut rng);
            match shared.api().try_post("/v1/api/task", &body) {
                Ok((200, resp)) => shared.accept(resp["taskid"].as_str().expect("taskid"), kind),
                Ok((status, resp)) => check_refusal(status, &resp),
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
            thread::sleep(pace);
        }
    })
}

/// Adds batches of 1–25 once tasks, four a second, until told to stop.
fn batch_adder(shared: Arc<Shared>, seed: u64) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut rng = Rng(seed ^ 0xba);
        let mut i = 0u64;
        while shared.adding.load(Ordering::SeqCst) {
            let batch: Vec<Value> = (0..rng.range(1, 25))
                .map(|_| {
                    i += 1;
                    task_body(Kind::Once, format!("b{seed}-{i}"), &mut rng)
                })
                .collect();
            match shared.api().try_post("/v1/api/tasks", &Value::Array(batch)) {
                Ok((200, resp)) => {
                    for item in resp.as_array().expect("per-item results") {
                        match item["taskid"].as_str() {
                            Some(id) => shared.accept(id, Kind::Once),
                            None => panic!("a batch item was refused: {item}"),
                        }
                    }
                }
                Ok((status, resp)) => check_refusal(status, &resp),
                Err(_) => {}
            }
            thread::sleep(Duration::from_millis(250));
        }
    })
}

/// Consumes and acks until told to stop, recording every delivery.
fn consumer(shared: Arc<Shared>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        while shared.consuming.load(Ordering::SeqCst) {
            let api = shared.api();
            let msgs = match api.try_consume(GROUP, TAGS, 100, 500) {
                Ok(msgs) => msgs,
                Err(_) => {
                    thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            if msgs.is_empty() {
                continue;
            }
            let answer = api.try_ack(GROUP, &msgids(&msgs));
            let applied: Option<HashSet<&str>> = match &answer {
                Ok((200, body)) => Some(match body.get("msgids").and_then(Value::as_array) {
                    Some(list) => list.iter().filter_map(Value::as_str).collect(),
                    None => msgs.iter().filter_map(|m| m["msgid"].as_str()).collect(),
                }),
                _ => None,
            };
            let text = |m: &Value, f: &str| {
                m[f].as_str()
                    .unwrap_or_else(|| panic!("{f} in {m}"))
                    .to_string()
            };
            let mut seen = shared.seen.lock().expect("lock");
            for m in &msgs {
                let msgid = text(m, "msgid");
                seen.push(Seen {
                    taskid: text(m, "taskid"),
                    fire_id: text(m, "fire_id"),
                    fire_time: m["fire_time"].as_i64().expect("fire_time"),
                    acked: applied.as_ref().is_some_and(|a| a.contains(msgid.as_str())),
                    ack_unanswered: answer.is_err(),
                });
            }
        }
    })
}

/// Each fire of a task in the server's history: `(fire_time, fire_id, state)`.
fn history(api: &Api, taskid: &str) -> Vec<(i64, String, String)> {
    let (status, body) = api.get(&format!("/v1/api/task-history?taskid={taskid}&limit=1000"));
    assert_eq!(status, 200, "history of {taskid}: {body}");
    body["fires"]
        .as_array()
        .unwrap_or_else(|| panic!("history without fires: {body}"))
        .iter()
        .map(|f| {
            (
                f["fire_time"].as_i64().expect("fire_time"),
                f["fire_id"].as_str().expect("fire_id").to_string(),
                f["state"].as_str().expect("state").to_string(),
            )
        })
        .collect()
}

/// The accepted tasks not delivered yet: never acked by a consumer, and not acked by an
/// ack call that lost its answer either (the server's history says which).
fn undelivered(api: &Api, accepted: &[(String, Kind)], seen: &[Seen]) -> Vec<String> {
    let acked: HashSet<&str> = seen
        .iter()
        .filter(|s| s.acked)
        .map(|s| s.taskid.as_str())
        .collect();
    let unanswered: HashSet<&str> = seen
        .iter()
        .filter(|s| s.ack_unanswered)
        .map(|s| s.taskid.as_str())
        .collect();
    accepted
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !acked.contains(id.as_str()))
        .filter(|id| {
            !(unanswered.contains(id.as_str())
                && history(api, id)
                    .iter()
                    .any(|(_, _, state)| state == "acked"))
        })
        .cloned()
        .collect()
}

/// What the fires say, from the deliveries and every accepted task's history.
struct FireCheck {
    /// A `(taskid, fire_time)` with two fire ids, or a once task with two fires.
    twice: Vec<String>,
    /// A delivered once task whose history holds no fire.
    unrecorded: Vec<String>,
}

fn check_fires(api: &Api, accepted: &[(String, Kind)], seen: &[Seen]) -> FireCheck {
    let mut ids_of: HashMap<(&str, i64), HashSet<String>> = HashMap::new();
    for s in seen {
        ids_of
            .entry((&s.taskid, s.fire_time))
            .or_default()
            .insert(s.fire_id.clone());
    }
    let mut twice = Vec::new();
    let mut unrecorded = Vec::new();
    for (id, kind) in accepted {
        let fires = history(api, id);
        let distinct: HashSet<&str> = fires
            .iter()
            .map(|(_, fire_id, _)| fire_id.as_str())
            .collect();
        match (*kind, distinct.len()) {
            (Kind::Once, 0) => unrecorded.push(id.clone()),
            (Kind::Once, n) if n > 1 => twice.push(format!("once task {id} has {n} fires")),
            _ => {}
        }
        for (fire_time, fire_id, _) in fires {
            ids_of.entry((id, fire_time)).or_default().insert(fire_id);
        }
    }
    twice.extend(
        ids_of
            .iter()
            .filter(|(_, ids)| ids.len() > 1)
            .map(|((id, at), ids)| format!("task {id} fire_time {at} has fire ids {ids:?}")),
    );
    FireCheck { twice, unrecorded }
}

/// The resident memory of a process in KiB, from `/proc/PID/status`.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Keeps the load running for `secs`, printing the server's resident memory every `every`.
fn soak(server: &Server, secs: u64, every: u64) {
    let start = Instant::now();
    let mut next = 0;
    while start.elapsed() < Duration::from_secs(secs) {
        if start.elapsed() >= Duration::from_secs(next) {
            let rss = rss_kib(server.pid()).expect("VmRSS of the server");
            println!("{{\"t_s\": {next}, \"rss_kib\": {rss}}}");
            next += every;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn kill9_in_a_loop_loses_no_accepted_task_and_makes_no_fire_twice() {
    let knobs = Knobs::from_env();
    let store = if pg::suite_on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    println!(
        "crash-loop: {} kills on {store}, seed {} (TASKCENTER_CRASH_SEED={} replays it)",
        knobs.kills, knobs.seed, knobs.seed
    );
    let delays = vec!["1s"; RETRIES].join(",");
    let mut server = Server::start(&["--retry-delays", &delays, "--lease", LEASE]);
    server.subscribe(GROUP, TAGS);
    let shared = Arc::new(Shared {
        target: RwLock::new(server.api.clone()),
        adding: AtomicBool::new(true),
        consuming: AtomicBool::new(true),
        accepted: Mutex::new(Vec::new()),
        seen: Mutex::new(Vec::new()),
    });
    let adders = [
        single_adder(
            shared.clone(),
            knobs.seed,
            Duration::from_millis(knobs.pace_ms),
        ),
        batch_adder(shared.clone(), knobs.seed),
    ];
    let consumers = [consumer(shared.clone()), consumer(shared.clone())];

    let mut rng = Rng(knobs.seed);
    let started = Instant::now();
    for kill in 1..=knobs.kills {
        thread::sleep(Duration::from_millis(rng.range(300, 2500)));
        server.kill9();
        server.restart();
        *shared.target.write().expect("lock") = server.api.clone();
        if kill % 10 == 0 {
            println!("crash-loop: {kill} kills in {:?}", started.elapsed());
        }
    }
    if knobs.soak_secs > 0 {
        soak(&server, knobs.soak_secs, knobs.rss_every_secs);
    } else {
        // Load on the last incarnation too, so its own fires and acks are checked.
        thread::sleep(Duration::from_millis(rng.range(300, 2500)));
    }
    shared.adding.store(false, Ordering::SeqCst);
    for adder in adders {
        adder.join().expect("adder thread");
    }

    let accepted = shared.accepted.lock().expect("lock").clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut left = accepted.len();
    while Instant::now() < deadline {
        let seen = shared.seen.lock().expect("lock").clone();
        left = undelivered(&server.api, &accepted, &seen).len();
        if left == 0 {
            break;
        }
        thread::sleep(Duration::from_millis(500));
    }
    // Time for a fire made twice to be delivered too (a lease plus a retry delay).
    if left == 0 {
        thread::sleep(Duration::from_secs(4));
    }
    shared.consuming.store(false, Ordering::SeqCst);
    for consumer in consumers {
        consumer.join().expect("consumer thread");
    }

    let seen = shared.seen.lock().expect("lock").clone();
    let lost = undelivered(&server.api, &accepted, &seen);
    let FireCheck { twice, unrecorded } = check_fires(&server.api, &accepted, &seen);
    let rss = rss_kib(server.pid()).unwrap_or(0);
    println!(
        "crash-loop: {} deliveries in {:?}, server RSS at the end {rss} KiB",
        seen.len(),
        started.elapsed()
    );
    // Spelled out rather than `json!`, which would sort the keys.
    println!(
        "{{\"kills\": {}, \"accepted\": {}, \"delivered\": {}, \"lost\": {}, \"doubled\": {}, \"seed\": {}, \"store\": \"{store}\"}}",
        knobs.kills,
        accepted.len(),
        accepted.len() - lost.len(),
        lost.len(),
        twice.len(),
        knobs.seed,
    );
    assert!(
        accepted.len() > 100,
        "too little load to judge: {}",
        accepted.len()
    );
    assert_none(&lost, "accepted tasks never delivered", knobs.seed);
    assert_none(&twice, "fires made twice", knobs.seed);
    assert_none(
        &unrecorded,
        "once tasks with no fire in their history",
        knobs.seed,
    );
}

/// Fails the run when `found` is not empty, naming the seed that replays it.
fn assert_none(found: &[String], what: &str, seed: u64) {
    assert!(
        found.is_empty(),
        "{} {what} (seed {seed}), e.g. {:?}",
        found.len(),
        &found[..found.len().min(5)]
    );
}

//! Crash safety of the embedded store: a `kill -9` at any moment loses no
//! accepted task, creates no fire twice, and loses no delivery.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const TAG: &str = "dur";
const GROUP: &str = "dur";
const TASKS: usize = 2000;

/// One message as the consumer saw it, and whether its ack call succeeded.
#[derive(Debug, Clone)]
struct Seen {
    taskid: String,
    fire_id: String,
    attempt: i64,
    acked: bool,
    /// The ack call got no answer (the server died under it): the ack may or may not
    /// have committed, and only the server can tell which.
    ack_unanswered: bool,
}

/// Consumes and acks in a loop against whatever server `api` currently points at,
/// recording every delivery, until `stop`.
fn consumer(
    api: Arc<Mutex<Api>>,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Seen>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            let api = api.lock().expect("lock").clone();
            let msgs = match api.try_consume(GROUP, TAG, 100, 500) {
                Ok(msgs) => msgs,
                Err(_) => {
                    thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            if msgs.is_empty() {
                continue;
            }
            let answer = api.try_ack(GROUP, &msgids(&msgs));
            let field = |m: &Value, f: &str| {
                m[f].as_str()
                    .unwrap_or_else(|| panic!("{f} in {m}"))
                    .to_string()
            };
            let mut log = log.lock().expect("lock");
            for m in &msgs {
                let attempt = m["attempt"].as_i64().expect("attempt");
                log.push(Seen {
                    taskid: field(m, "taskid"),
                    fire_id: field(m, "fire_id"),
                    attempt,
                    acked: ack_applied(&answer, &field(m, "msgid")),
                    ack_unanswered: answer.is_err(),
                });
            }
        }
    })
}

/// The ack call succeeded for `msgid`: a 200 that, if it lists the msgids it applied to,
/// lists this one.
fn ack_applied(answer: &Result<(u16, Value), String>, msgid: &str) -> bool {
    match answer {
        Ok((200, body)) => match body.get("msgids").and_then(Value::as_array) {
            Some(applied) => applied.iter().any(|m| m == msgid),
            None => true,
        },
        _ => false,
    }
}

fn acked_tasks(log: &Mutex<Vec<Seen>>) -> HashSet<String> {
    log.lock()
        .expect("lock")
        .iter()
        .filter(|s| s.acked)
        .map(|s| s.taskid.clone())
        .collect()
}

#[test]
fn kill9_mid_delivery_loses_no_fire_and_duplicates_none() {
    let mut server = Server::start(&["--retry-delays", "1s,1s,1s,1s,1s", "--lease", "2s"]);
    server.subscribe(GROUP, TAG);
    let t0 = now_s();
    let mut ids = Vec::with_capacity(TASKS);
    for chunk in 0..TASKS / 500 {
        let batch: Vec<Value> = (chunk * 500..(chunk + 1) * 500)
            .map(|i| json!({"name": TAG, "type": 1, "data": format!("d{i}"), "start_time": t0 + 1 + (i % 3) as i64}))
            .collect();
        let (status, body) = server.post("/v1/api/tasks", &Value::Array(batch));
        assert_eq!(status, 200, "batch add: {body}");
        let items = body.as_array().or_else(|| {
            body.as_object()
                .and_then(|o| o.values().find_map(Value::as_array))
        });
        for item in items.expect("per-item results") {
            let id = item["taskid"]
                .as_str()
                .unwrap_or_else(|| panic!("batch item without taskid: {item}"));
            ids.push(id.to_string());
        }
    }
    let ids: HashSet<String> = ids.into_iter().collect();
    assert_eq!(ids.len(), TASKS, "distinct task ids");

    let api = Arc::new(Mutex::new(server.api.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::new()));
    let handle = consumer(api.clone(), stop.clone(), log.clone());

    wait_for(
        Duration::from_secs(15),
        "some deliveries before the kill",
        || acked_tasks(&log).len() >= 100,
    );
    let before_kill = acked_tasks(&log).len();
    server.kill9();
    server.restart();
    *api.lock().expect("lock") = server.api.clone();

    let all_acked =
        || ids.iter().all(|id| acked_tasks(&log).contains(id)) || acked_tasks(&log).len() >= TASKS;
    let deadline = Instant::now() + Duration::from_secs(90);
    while !all_acked() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(100));
    }
    // Leave time for any wrong redelivery of an acked message (lease 2 s + retry 1 s).
    thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::SeqCst);
    handle.join().expect("consumer thread");

    let log = log.lock().expect("lock").clone();
    let acked = log
        .iter()
        .filter(|s| s.acked)
        .map(|s| s.taskid.clone())
        .collect::<HashSet<_>>();
    // A batch whose ack call the kill cut off may have been acked all the same; the
    // server's history of such a task must then say `acked` (and it is never redelivered).
    let unanswered: HashSet<&str> = log
        .iter()
        .filter(|s| s.ack_unanswered)
        .map(|s| s.taskid.as_str())
        .collect();
    let acked_per_server = |id: &str| {
        let (status, body) = server.get(&format!("/v1/api/task-history?taskid={id}"));
        status == 200
            && body["fires"]
                .as_array()
                .is_some_and(|fires| fires.iter().any(|f| f["state"] == "acked"))
    };
    let missing: Vec<&String> = ids
        .difference(&acked)
        .filter(|id| !(unanswered.contains(id.as_str()) && acked_per_server(id)))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {TASKS} tasks never delivered+acked ({before_kill} acked before the kill, \
         {} acks unanswered), e.g. {:?}",
        missing.len(),
        unanswered.len(),
        missing.first()
    );
    assert!(
        log.iter().all(|s| ids.contains(&s.taskid)),
        "a delivery of an unknown task"
    );

    let mut fires_of_task: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut task_of_fire: HashMap<&str, &str> = HashMap::new();
    for s in &log {
        fires_of_task
            .entry(&s.taskid)
            .or_default()
            .insert(&s.fire_id);
        let owner = task_of_fire.entry(&s.fire_id).or_insert(&s.taskid);
        assert_eq!(
            *owner,
            s.taskid.as_str(),
            "fire_id {} used by two tasks",
            s.fire_id
        );
    }
    let twice: Vec<_> = fires_of_task
        .iter()
        .filter(|(_, fires)| fires.len() > 1)
        .collect();
    assert!(
        twice.is_empty(),
        "once tasks fired more than once (fire created twice): {:?}",
        &twice[..twice.len().min(5)]
    );

    // Per fire: once an ack succeeded, the message never comes again.
    let mut acked_fires: HashSet<&str> = HashSet::new();
    let mut after_ack = Vec::new();
    for s in &log {
        if acked_fires.contains(s.fire_id.as_str()) {
            after_ack.push(s);
        }
        if s.acked {
            acked_fires.insert(&s.fire_id);
        }
    }
    assert!(
        after_ack.is_empty(),
        "{} deliveries after a successful ack, e.g. {:?}",
        after_ack.len(),
        after_ack.first()
    );
    let attempts = log.iter().map(|s| s.attempt).max().unwrap_or(0);
    eprintln!(
        "{} deliveries, {before_kill} acked before the kill, highest attempt {attempts}",
        log.len()
    );
}

#[test]
fn tasks_accepted_before_kill9_survive() {
    let mut server = Server::start(&[]);
    let start = now_s() + 3600;
    let accepted = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let adder = {
        let (api, accepted) = (server.api.clone(), accepted.clone());
        thread::spawn(move || {
            for i in 0.. {
                let data = format!("keep-{i}");
                let body = json!({"name": "keep", "type": 1, "data": data, "start_time": start});
                match api.try_post("/v1/api/task", &body) {
                    Ok((200, resp)) => {
                        let id = resp["taskid"].as_str().expect("taskid").to_string();
                        accepted.lock().expect("lock").push((id, data));
                    }
                    Ok((status, resp)) => panic!("add answered {status} {resp}"),
                    Err(_) => break, // the server is gone
                }
            }
        })
    };
    wait_for(Duration::from_secs(15), "50 accepted adds", || {
        accepted.lock().expect("lock").len() >= 50
    });
    let batch: Vec<Value> =
        (0..200).map(|i| json!({"name": "keep.batch", "type": 1, "data": format!("b{i}"), "start_time": start})).collect();
    let (status, body) = server.post("/v1/api/tasks", &Value::Array(batch));
    assert_eq!(status, 200, "{body}");
    let batch_ids: Vec<String> = body
        .as_array()
        .or_else(|| {
            body.as_object()
                .and_then(|o| o.values().find_map(Value::as_array))
        })
        .expect("per-item results")
        .iter()
        .map(|item| item["taskid"].as_str().expect("taskid").to_string())
        .collect();
    server.kill9();
    adder.join().expect("adder thread");

    server.restart();
    let accepted = accepted.lock().expect("lock").clone();
    for (id, data) in &accepted {
        let (status, task) = server.task(id);
        assert_eq!(
            status, 200,
            "task {id} ({data}) was accepted before the kill and is gone"
        );
        assert_eq!(task["data"], json!(data));
    }
    for id in &batch_ids {
        assert_eq!(
            server.task(id).0,
            200,
            "batch task {id} was accepted before the kill and is gone"
        );
    }
    let (_, listed) = server.get("/v1/api/query-task-by-name?name=keep&limit=1000");
    let listed = listed.as_array().map(Vec::len).unwrap_or(0);
    assert!(
        listed >= accepted.len().min(1000),
        "query-task-by-name lists {listed} of {}",
        accepted.len()
    );
}

/// Adds in flight at once in the burst test, as in the W1a benchmark.
const BURST_CLIENTS: usize = 64;

/// `(tasks, distinct data)` of the tasks named `name`, counted by SQLite's own shell in the
/// server's file (read-only), not through the server.
fn stored_by_sqlite(server: &Server, name: &str) -> (u64, u64) {
    let db = server.data_dir.join("taskcenter.db");
    let out = std::process::Command::new("sqlite3")
        .arg("-readonly")
        .arg(&db)
        .arg(format!(
            "SELECT count(*), count(DISTINCT p.data) FROM tasks t \
             JOIN task_payloads p ON p.rid = t.rid WHERE t.name = '{name}';"
        ))
        .output()
        .expect("running sqlite3 (apt-get install sqlite3)");
    assert!(
        out.status.success(),
        "sqlite3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let (all, distinct) = text.trim().split_once('|').expect("two counts");
    (
        all.parse().expect("a count"),
        distinct.parse().expect("a count"),
    )
}

#[test]
fn kill9_during_a_burst_of_single_adds_loses_no_answered_add_and_stores_none_twice() {
    let mut server = Server::start(&[]);
    let start = now_s() + 3600;
    let answered = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clients: Vec<_> = (0..BURST_CLIENTS)
        .map(|c| {
            let (api, answered, sent) = (server.api.clone(), answered.clone(), sent.clone());
            thread::spawn(move || {
                for i in 0.. {
                    let data = format!("burst-{c}-{i}");
                    let body =
                        json!({"name": "burst", "type": 1, "data": data, "start_time": start});
                    sent.fetch_add(1, Ordering::SeqCst);
                    match api.try_post("/v1/api/task", &body) {
                        Ok((200, resp)) => {
                            let id = resp["taskid"].as_str().expect("taskid").to_string();
                            answered.lock().expect("lock").push((id, data));
                        }
                        Ok((status, resp)) => panic!("add answered {status} {resp}"),
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    wait_for(Duration::from_secs(30), "2,000 answered adds", || {
        answered.lock().expect("lock").len() >= 2000
    });
    server.kill9();
    for client in clients {
        client.join().expect("adder thread");
    }
    let answered = answered.lock().expect("lock").clone();
    let sent = sent.load(Ordering::SeqCst);

    server.restart();
    // SQLite's own shell counts the embedded store's rows; on PostgreSQL every answered add
    // is still checked below through the API.
    if server.pg.is_none() {
        let (stored, distinct) = stored_by_sqlite(&server, "burst");
        assert_eq!(stored, distinct, "a task was stored twice");
        assert!(
            stored as usize >= answered.len() && stored as usize <= sent,
            "{stored} stored, {} answered 200, {sent} sent",
            answered.len()
        );
        eprintln!("{stored} stored after the kill");
    }
    for (id, data) in &answered {
        let (status, task) = server.task(id);
        assert_eq!(
            status, 200,
            "task {id} ({data}) was answered 200 before the kill and is gone"
        );
        assert_eq!(task["data"], json!(data));
    }
    eprintln!("{} answered, {sent} sent", answered.len());
}

//! A consumer that dies holding leases: its messages show as retrying or dead on time,
//! in the dead letters, the metrics and the history, without anyone consuming again.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

fn metric(server: &Server, series: &str) -> f64 {
    let text = reqwest::blocking::get(server.url("/metrics"))
        .expect("metrics")
        .text()
        .expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap_or_else(|e| panic!("{series}: {e}"))
}

fn wait_for(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn leases_of_a_dead_consumer_turn_retrying_then_dead_without_another_consume() {
    let server = Server::start(&["--lease", "1s", "--retry-delays", "1s"]);
    server.subscribe("g", "sweep");
    let id = server.add_task(json!({"name": "sweep", "type": 1, "data": "d"}));
    let first = server.consume("g", "sweep", 10, 5_000);
    assert_eq!(first.len(), 1, "{first:?}");
    // The consumer dies: nobody acks, nacks or consumes in group g from here on.
    wait_for(
        "the expired lease counted as retrying",
        Duration::from_secs(5),
        || {
            metric(&server, "taskcenter_queue_leased") == 0.0
                && metric(&server, "taskcenter_queue_ready") == 1.0
        },
    );
    let (_, history) = server.get(&format!("/v1/api/task-history?taskid={id}"));
    assert_eq!(history["fires"][0]["state"], json!("retrying"), "{history}");

    // The second (last) delivery's consumer dies too: a dead letter, on time.
    let second = server.consume("g", "sweep", 10, 5_000);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0]["attempt"], json!(2));
    wait_for(
        "the last expired lease a dead letter",
        Duration::from_secs(5),
        || metric(&server, "taskcenter_dead_letters") == 1.0,
    );
    assert_eq!(metric(&server, "taskcenter_queue_leased"), 0.0);
    let (status, dead) = server.get("/v1/api/dead-letters?group=g");
    assert_eq!(status, 200, "{dead}");
    let letters = dead["dead_letters"].as_array().cloned().unwrap_or_default();
    assert_eq!(letters.len(), 1, "{dead}");
    assert_eq!(letters[0]["taskid"], Value::String(id.clone()), "{dead}");
    let (_, history) = server.get(&format!("/v1/api/task-history?taskid={id}"));
    assert_eq!(history["fires"][0]["state"], json!("dead"), "{history}");
}

//! When tasks fire, observed through the built-in queue.

mod common;

use std::thread;
use std::time::Duration;

use common::*;
use serde_json::json;

const G: &str = "sched";

fn secs(s: i64) -> Duration {
    Duration::from_millis(s.max(0) as u64 * 1000)
}

fn until_ms(unix_ms: i64) -> Duration {
    Duration::from_millis((unix_ms - now_ms()).max(0) as u64)
}

fn fire_times(got: &[Received]) -> Vec<i64> {
    got.iter().map(|r| r.int("fire_time")).collect()
}

#[test]
fn once_now_is_delivered_promptly_byte_for_byte() {
    let server = Server::start(&[]);
    let data = "line1\nline2 \"quoted\" é ✓ \u{0} \\ {\"json\": true}";
    let before = now_ms();
    let id = server.add_task(json!({"name": "s.now", "type": 1, "data": data}));
    let added = now_ms();
    let got = server.collect(G, "s.now", 1, secs(5), true);
    assert_eq!(got.len(), 1, "one delivery within 5 s");
    let m = &got[0];
    assert_eq!(m.str("taskid"), id);
    assert_eq!(m.str("tag"), "s.now");
    assert_eq!(m.str("data"), data, "data is delivered unchanged");
    assert_eq!(m.int("attempt"), 1);
    assert!(!m.str("fire_id").is_empty());
    let fire_time = m.int("fire_time");
    assert!(
        (before - 1000..=m.at_ms).contains(&fire_time),
        "fire_time {fire_time} vs added at {before}..{added}"
    );
    assert!(
        m.at_ms - added < 2000,
        "delivered {} ms after the add",
        m.at_ms - added
    );
    wait_for(secs(3), "the once task to finish", || {
        let task = server.task_ok(&id);
        task["status"] == json!("finished") && task["fire_count"] == json!(1)
    });
}

#[test]
fn delayed_once_fires_at_start_time_and_not_before() {
    let server = Server::start(&[]);
    let start = now_s() + 3;
    let id =
        server.add_task(json!({"name": "s.later", "type": 1, "data": "d", "start_time": start}));
    assert_eq!(server.task_ok(&id)["next_fire_time"], json!(start * 1000));
    let early = server.drain_for(G, "s.later", until_ms(start * 1000 - 300), false);
    assert!(early.is_empty(), "delivered before start_time: {early:?}");
    let got = server.collect(G, "s.later", 1, until_ms(start * 1000 + 4000), true);
    assert_eq!(got.len(), 1, "not delivered within 4 s of start_time");
    assert_eq!(
        got[0].int("fire_time"),
        start * 1000,
        "fire_time is the scheduled time"
    );
    assert!(
        got[0].at_ms >= start * 1000,
        "received {} ms early",
        start * 1000 - got[0].at_ms
    );
    assert!(
        got[0].at_ms <= start * 1000 + 2500,
        "received {} ms late",
        got[0].at_ms - start * 1000
    );
}

#[test]
fn loop_count_limits_fires_on_the_grid() {
    let server = Server::start(&[]);
    let start = now_s() + 2;
    let id = server.add_task(
        json!({"name": "s.loop", "type": 2, "data": "d", "loop_time": 1, "loop_count": 3, "start_time": start}),
    );
    let got = server.collect(G, "s.loop", 3, until_ms(start * 1000 + 6000), true);
    let want: Vec<i64> = (0..3).map(|k| start * 1000 + k * 1000).collect();
    assert_eq!(fire_times(&got), want, "three fires on the grid");
    for r in &got {
        assert!(
            r.at_ms >= r.int("fire_time"),
            "delivered before its fire_time: {:?}",
            r
        );
    }
    let fire_ids: std::collections::HashSet<String> =
        got.iter().map(|r| r.str("fire_id")).collect();
    assert_eq!(fire_ids.len(), 3, "each fire has its own fire_id");
    let extra = server.drain_for(G, "s.loop", secs(2), true);
    assert!(
        extra.is_empty(),
        "fired more than loop_count times: {:?}",
        fire_times(&extra)
    );
    let task = server.task_ok(&id);
    assert_eq!(task["status"], json!("finished"), "{task}");
    assert_eq!(task["fire_count"], json!(3), "{task}");
    assert!(task["next_fire_time"].is_null(), "{task}");
}

#[test]
fn six_field_crontab_fires_on_even_seconds() {
    let server = Server::start(&[]);
    let added = now_ms();
    let id = server
        .add_task(json!({"name": "s.cron", "type": 3, "data": "d", "crontab": "*/2 * * * * *"}));
    let got = server.collect(G, "s.cron", 3, secs(12), true);
    let times = fire_times(&got);
    assert_eq!(times.len(), 3, "three fires within 12 s: {times:?}");
    assert!(
        times.iter().all(|t| t % 2000 == 0 && *t > added),
        "not on even seconds after the add: {times:?}"
    );
    assert!(
        times.windows(2).all(|w| w[1] - w[0] == 2000),
        "consecutive even seconds: {times:?}"
    );
    for r in &got {
        assert!(
            r.at_ms >= r.int("fire_time"),
            "delivered before its fire_time: {r:?}"
        );
    }
    server.post("/v1/api/delete-task", &json!({"ids": [id]}));
}

#[test]
fn end_time_stops_a_loop() {
    let server = Server::start(&[]);
    let start = now_s() + 2;
    let end = start + 2;
    let id = server.add_task(
        json!({"name": "s.end", "type": 2, "data": "d", "loop_time": 1, "start_time": start, "end_time": end}),
    );
    // Ask for more than can come: wait well past end_time for a stray fire.
    let got = server.collect(G, "s.end", 10, until_ms(end * 1000 + 3500), true);
    let times = fire_times(&got);
    assert!(
        times.iter().all(|t| *t <= end * 1000),
        "fired after end_time {}: {times:?}",
        end * 1000
    );
    let want: Vec<i64> = (0..3).map(|k| start * 1000 + k * 1000).collect();
    assert_eq!(
        times, want,
        "the grid points from start_time up to end_time inclusive"
    );
    wait_for(secs(3), "the task to finish", || {
        server.task_ok(&id)["status"] == json!("finished")
    });
}

#[test]
fn delete_stops_fires_and_cancels_pending_deliveries() {
    let server = Server::start(&[]);
    server.subscribe(G, "s.del");
    let id = server.add_task(json!({"name": "s.del", "type": 2, "data": "d", "loop_time": 1}));
    wait_for(secs(6), "two fires", || {
        server.task_ok(&id)["fire_count"].as_i64().unwrap_or(0) >= 2
    });
    let (status, body) = server.post("/v1/api/delete-task", &json!({"ids": [id]}));
    assert_eq!((status, body), (200, json!({"SucIds": [id]})));
    let after = server.drain_for(G, "s.del", secs(3), true);
    assert!(
        after.is_empty(),
        "deliveries of a deleted task: {:?}",
        fire_times(&after)
    );
    assert_eq!(server.task(&id).0, 404);
}

#[test]
fn loop_without_start_time_runs_on_the_creation_grid_to_the_millisecond() {
    let server = Server::start(&[]);
    server.subscribe(G, "s.grid");
    let before = now_ms();
    server.add_task(
        json!({"name": "s.grid", "type": 2, "data": "d", "loop_time": 1, "loop_count": 3}),
    );
    let added = now_ms();
    let got = server.collect(G, "s.grid", 3, secs(8), true);
    let times = fire_times(&got);
    assert_eq!(times.len(), 3, "three fires: {times:?}");
    assert!(
        (before..=added).contains(&times[0]),
        "t0 is the creation instant: {} not in [{before}, {added}]",
        times[0]
    );
    assert!(
        times.windows(2).all(|w| w[1] - w[0] == 1000),
        "a 1 s grid from t0: {times:?}"
    );
    // Not rounded to a polling tick: the best of three is handed over well within 300 ms.
    let lateness: Vec<i64> = got.iter().map(|r| r.at_ms - r.int("fire_time")).collect();
    assert!(
        lateness
            .iter()
            .min()
            .is_some_and(|&l| (0..300).contains(&l)),
        "delivery lateness (ms): {lateness:?}"
    );
}

#[test]
fn misfired_loop_fires_once_for_the_missed_span_then_keeps_its_grid() {
    let mut server = Server::start(&[]);
    let start = now_s() + 1;
    server.add_task(
        json!({"name": "s.misfire", "type": 2, "data": "d", "loop_time": 1, "start_time": start}),
    );
    let before = server.collect(G, "s.misfire", 2, until_ms(start * 1000 + 5000), true);
    assert_eq!(fire_times(&before), [start * 1000, start * 1000 + 1000]);
    server.sigterm(secs(5)).expect("exit within 5 s of SIGTERM");
    let stopped = now_ms();
    thread::sleep(secs(3));
    let spawned = now_ms();
    server.restart();
    let ready = now_ms();
    let after = fire_times(&server.collect(G, "s.misfire", 4, secs(6), true));
    assert!(
        after.iter().all(|t| (t - start * 1000) % 1000 == 0),
        "off the grid: {after:?}"
    );
    let missed: Vec<i64> = after
        .iter()
        .copied()
        .filter(|t| *t > stopped && *t < spawned - 1000)
        .collect();
    assert!(
        missed.is_empty(),
        "missed grid points fired one by one: {missed:?} (down {stopped}..{spawned})"
    );
    let resumed: Vec<i64> = after.iter().copied().filter(|t| *t > stopped).collect();
    assert!(resumed.len() >= 3, "fires after the restart: {after:?}");
    assert!(
        resumed[0] <= ready + 1000,
        "the missed span's fire came late: {resumed:?}, ready at {ready}"
    );
    assert!(
        resumed.windows(2).all(|w| w[1] - w[0] == 1000),
        "back on the grid: {resumed:?}"
    );
}

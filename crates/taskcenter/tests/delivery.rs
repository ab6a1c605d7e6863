//! The built-in queue: long-poll, leases, nack and retries, dead letters,
//! ack tasks, groups and tag filters. Retries here are 1 s, 1 s and leases 2 s.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const ARGS: [&str; 4] = ["--retry-delays", "1s,1s", "--lease", "2s"];

fn start() -> Server {
    Server::start(&ARGS)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Adds a once task due now and returns its first delivery to `group`.
fn first_delivery(
    server: &Server,
    group: &str,
    tag: &str,
    extra: serde_json::Value,
) -> (String, Received) {
    let mut body = json!({"name": tag, "type": 1, "data": "payload"});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    let id = server.add_task(body);
    let got = server.collect(group, tag, 1, ms(5000), false);
    assert_eq!(got.len(), 1, "first delivery within 5 s");
    assert_eq!(got[0].str("taskid"), id);
    assert_eq!(got[0].int("attempt"), 1);
    (id, got.into_iter().next().expect("one"))
}

#[test]
fn long_poll_waits_then_returns_early_on_a_fire() {
    let server = start();
    let t = Instant::now();
    let got = server.consume("lp", "d.lp", 10, 1500);
    let waited = t.elapsed();
    assert!(got.is_empty(), "nothing is due: {got:?}");
    assert!(
        waited >= ms(1400) && waited < ms(4000),
        "an empty long-poll of 1.5 s took {waited:?}"
    );

    let due = (now_s() + 2) * 1000;
    server.add_task(json!({"name": "d.lp", "type": 1, "data": "x", "start_time": due / 1000}));
    let asked = now_ms();
    let got = server.consume("lp", "d.lp", 10, 10_000);
    let back = now_ms();
    assert_eq!(got.len(), 1, "the fire during the poll is returned");
    assert!(
        back >= due,
        "returned {} ms before the fire was due",
        due - back
    );
    assert!(
        back - asked < (due - asked) + 2000,
        "did not return early: {} ms after a fire due in {} ms",
        back - asked,
        due - asked
    );
}

#[test]
fn nack_redelivers_after_the_first_retry_delay() {
    let server = start();
    let (_, first) = first_delivery(&server, "nk", "d.nack", json!({}));
    let nacked = now_ms();
    server.nack("nk", &[first.str("msgid")], None);
    let got = server.collect("nk", "d.nack", 1, ms(5000), false);
    assert_eq!(got.len(), 1, "redelivered within 5 s of the nack");
    let again = &got[0];
    assert_eq!(
        again.str("msgid"),
        first.str("msgid"),
        "same msgid across redeliveries"
    );
    assert_eq!(again.str("fire_id"), first.str("fire_id"));
    assert_eq!(again.int("attempt"), 2);
    let after = again.at_ms - nacked;
    assert!(
        (950..=4000).contains(&after),
        "redelivered {after} ms after the nack; retry delay is 1 s"
    );
}

#[test]
fn nack_with_delay_ms_overrides_the_ladder() {
    let server = start();
    let (_, first) = first_delivery(&server, "nd", "d.nackdelay", json!({}));
    let nacked = now_ms();
    server.nack("nd", &[first.str("msgid")], Some(2500));
    let got = server.collect("nd", "d.nackdelay", 1, ms(6000), false);
    assert_eq!(got.len(), 1, "redelivered within 6 s of the nack");
    assert_eq!(
        (got[0].str("msgid"), got[0].int("attempt")),
        (first.str("msgid"), 2)
    );
    let after = got[0].at_ms - nacked;
    assert!(
        (2450..=5500).contains(&after),
        "redelivered {after} ms after a nack with delay_ms 2500"
    );
}

#[test]
fn consume_returns_at_most_max_messages() {
    let server = start();
    server.subscribe("mx", "d.max");
    for i in 0..5 {
        server.add_task(json!({"name": "d.max", "type": 1, "data": format!("m{i}")}));
    }
    // Only the setup waits here (what is asserted is `max`): room for a loaded CI machine.
    wait_for(ms(15_000), "the 5 fires", || {
        let (_, stat) = server.get("/v1/api/task/stat");
        stat["names"]["d.max"].as_i64().unwrap_or(0) >= 5
    });
    let got = server.consume("mx", "d.max", 2, 1000);
    assert_eq!(got.len(), 2, "max 2 with 5 waiting");
    let rest = server.collect("mx", "d.max", 3, ms(3000), true);
    assert_eq!(rest.len(), 3, "the other three stay available");
}

#[test]
fn exhausted_retries_go_to_dead_letters() {
    let server = start();
    let (_, first) = first_delivery(&server, "dl", "d.dead", json!({}));
    let msgid = first.str("msgid");
    server.nack("dl", std::slice::from_ref(&msgid), None);
    for attempt in 2..=3 {
        let got = server.collect("dl", "d.dead", 1, ms(5000), false);
        assert_eq!(got.len(), 1, "delivery {attempt} within 5 s");
        assert_eq!(
            (got[0].str("msgid"), got[0].int("attempt")),
            (msgid.clone(), attempt)
        );
        server.nack("dl", std::slice::from_ref(&msgid), None);
    }
    let more = server.drain_for("dl", "d.dead", ms(3000), false);
    assert!(
        more.is_empty(),
        "a ladder of 2 delays allows 3 deliveries, got a 4th: {more:?}"
    );
    let (status, body) = server.get("/v1/api/dead-letters");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.to_string().contains(&msgid),
        "dead letters do not mention {msgid}: {body}"
    );
}

#[test]
fn ack_removes_the_message() {
    let server = start();
    let (_, first) = first_delivery(&server, "ak", "d.ack", json!({}));
    server.ack("ak", &[first.str("msgid")]);
    let more = server.drain_for("ak", "d.ack", ms(4000), false);
    assert!(more.is_empty(), "an acked message came back: {more:?}");
}

#[test]
fn expired_lease_redelivers_with_next_attempt() {
    let server = start();
    let asked = now_ms();
    let (_, first) = first_delivery(&server, "ls", "d.lease", json!({}));
    let lease_until = first.int("lease_until");
    assert!(
        (asked + 2000 - 50..=first.at_ms + 2050).contains(&lease_until),
        "--lease 2s: lease_until {lease_until}, received at {}",
        first.at_ms
    );
    let got = server.collect("ls", "d.lease", 1, ms(7000), false);
    assert_eq!(got.len(), 1, "redelivered after the lease expired");
    assert_eq!(
        (got[0].str("msgid"), got[0].int("attempt")),
        (first.str("msgid"), 2)
    );
    let after = got[0].at_ms - lease_until;
    assert!(
        (950..=4000).contains(&after),
        "redelivered {after} ms after lease_until; retry delay is 1 s"
    );
    server.ack("ls", &[got[0].str("msgid")]);
}

#[test]
fn unacked_ack_task_is_redelivered_after_max_runtime() {
    let server = start();
    let asked = now_ms();
    let (_, first) = first_delivery(
        &server,
        "mr",
        "d.maxrt",
        json!({"ack": true, "max_runtime": 1}),
    );
    let lease_until = first.int("lease_until");
    assert!(
        (asked + 1000 - 50..=first.at_ms + 1050).contains(&lease_until),
        "an ack task's lease is its max_runtime (1 s): lease_until {lease_until}, received at {}",
        first.at_ms
    );
    let got = server.collect("mr", "d.maxrt", 1, ms(6000), false);
    assert_eq!(got.len(), 1, "redelivered after max_runtime");
    assert_eq!(
        (got[0].str("msgid"), got[0].int("attempt")),
        (first.str("msgid"), 2)
    );
    let after = got[0].at_ms - lease_until;
    assert!(
        (950..=4000).contains(&after),
        "redelivered {after} ms after the ack deadline; retry delay is 1 s"
    );
    server.ack("mr", &[got[0].str("msgid")]);
    let more = server.drain_for("mr", "d.maxrt", ms(2500), false);
    assert!(more.is_empty(), "came back after its ack: {more:?}");
}

#[test]
fn every_group_gets_every_message() {
    let server = start();
    server.subscribe("g1", "d.grp");
    server.subscribe("g2", "d.grp");
    let ids: HashSet<String> = (0..5)
        .map(|i| server.add_task(json!({"name": "d.grp", "type": 1, "data": format!("m{i}")})))
        .collect();
    for group in ["g1", "g2"] {
        let got = server.collect(group, "d.grp", 5, ms(6000), true);
        let taskids: HashSet<String> = got.iter().map(|r| r.str("taskid")).collect();
        assert_eq!(
            (got.len(), &taskids),
            (5, &ids),
            "group {group} gets each message once"
        );
    }
}

#[test]
fn consumers_of_one_group_split_the_messages() {
    let server = start();
    server.subscribe("split", "d.split");
    let total = 20;
    let ids: HashSet<String> = (0..total)
        .map(|i| server.add_task(json!({"name": "d.split", "type": 1, "data": format!("m{i}")})))
        .collect();
    let seen = Arc::new(Mutex::new(HashSet::<String>::new()));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let (api, seen) = (server.api.clone(), seen.clone());
            thread::spawn(move || {
                let mut mine = Vec::new();
                let deadline = Instant::now() + ms(8000);
                while seen.lock().expect("lock").len() < total && Instant::now() < deadline {
                    let got = api.consume("split", "d.split", 3, 300);
                    if !got.is_empty() {
                        api.ack("split", &msgids(&got));
                    }
                    for m in got {
                        let taskid = m["taskid"].as_str().expect("taskid").to_string();
                        seen.lock().expect("lock").insert(taskid.clone());
                        mine.push(taskid);
                    }
                }
                mine
            })
        })
        .collect();
    let results: Vec<Vec<String>> = consumers
        .into_iter()
        .map(|c| c.join().expect("consumer"))
        .collect();
    let all: Vec<&String> = results.iter().flatten().collect();
    let distinct: HashSet<String> = all.iter().map(|s| s.to_string()).collect();
    assert_eq!(distinct, ids, "every message reached the group");
    assert_eq!(
        all.len(),
        total,
        "a message went to both consumers (or twice): {results:?}"
    );
}

#[test]
fn a_fire_without_consumers_waits_for_the_first_one() {
    let server = start();
    let id = server.add_task(json!({"name": "d.nobody", "type": 1, "data": "kept"}));
    wait_for(ms(5000), "the fire", || {
        server.task_ok(&id)["fire_count"] == json!(1)
    });
    thread::sleep(ms(500));
    let got = server.collect("late", "d.nobody", 1, ms(3000), true);
    assert_eq!(got.len(), 1, "the fire made before any consumer was lost");
    assert_eq!(
        (got[0].str("taskid"), got[0].str("data")),
        (id, "kept".to_string())
    );
}

#[test]
fn tag_expressions_filter_messages() {
    let server = start();
    server.subscribe("either", "t.a || t.b");
    server.subscribe("all", "*");
    let mut ids = std::collections::HashMap::new();
    for tag in ["t.a", "t.b", "t.c"] {
        ids.insert(
            tag,
            server.add_task(json!({"name": tag, "type": 1, "data": tag})),
        );
    }
    let got = server.drain_for("either", "t.a || t.b", ms(3000), true);
    let mut tags: Vec<String> = got.iter().map(|r| r.str("tag")).collect();
    tags.sort();
    assert_eq!(tags, ["t.a", "t.b"], "`t.a || t.b` gets a and b only");
    for r in &got {
        assert_eq!(r.str("taskid"), ids[r.str("tag").as_str()]);
    }
    let got = server.collect("all", "*", 3, ms(3000), true);
    let mut tags: Vec<String> = got.iter().map(|r| r.str("tag")).collect();
    tags.sort();
    assert_eq!(tags, ["t.a", "t.b", "t.c"], "`*` gets every tag");
}

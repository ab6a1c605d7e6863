//! Fires published to external brokers, proven with a consumer of each broker's own client
//! library: one suite, run against every broker (`publisher_suite!`), as the store suite
//! is run against every store. NATS (4222, JetStream), RabbitMQ (5672), Redis (6379) and,
//! in a build with the rocketmq feature, a RocketMQ name server (9876) and broker are the
//! machine's own (scripts/test.sh starts them); the webhook receiver is in the test.
//! Brokers are made unreachable through a TCP proxy the test cuts; the RocketMQ broker,
//! whose clients connect where the name server sends them, is stopped and started again.

mod common;
mod publish_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::*;
use hmac::{KeyInit, Mac};
use publish_support::{Broker, Got, amqp::Amqp, nats::Nats, next, redis::Redis, webhook};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

/// A server publishing to `broker` on `topic`, retrying unacked fires after 1 s.
fn serve<B: Broker>(broker: &B, topic: &str) -> Server {
    Server::start(&[
        "--publisher",
        &broker.publisher_url(),
        "--topic",
        topic,
        "--webhook-secret",
        webhook::SECRET,
        "--retry-delays",
        "1s,1s",
    ])
}

/// Every message received within `within` (stops early once `n` arrived).
fn receive(rx: &std::sync::mpsc::Receiver<Got>, n: usize, within: Duration) -> Vec<Got> {
    let until = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < n {
        let left = until.saturating_duration_since(Instant::now());
        match next(rx, left) {
            Some(m) => got.push(m),
            None => break,
        }
    }
    got
}

/// The task's fire history entries.
fn history(server: &Server, id: &str) -> Vec<Value> {
    let (status, body) = server.get(&format!("/v1/api/task-history?taskid={id}"));
    assert_eq!(status, 200, "{body}");
    body["fires"].as_array().cloned().unwrap_or_default()
}

/// Waits until the task's (only) fire shows `state`.
fn wait_state(server: &Server, id: &str, state: &str) -> Value {
    let mut last = Value::Null;
    wait_for(
        Duration::from_secs(10),
        &format!("history state {state}"),
        || {
            last = history(server, id).first().cloned().unwrap_or(Value::Null);
            last["state"] == state
        },
    );
    last
}

/// The `/metrics` text.
fn metrics(server: &Server) -> String {
    reqwest::blocking::get(server.url("/metrics"))
        .and_then(|r| r.text())
        .expect("GET /metrics")
}

fn hmac_hex(key: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("key");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Tag/subject/routing key, every property and the body byte for byte (a NUL, emoji,
/// 100 KB); the broker's id shows in the history.
fn properties_and_body_byte_for_byte<B: Broker>() {
    let rt = Runtime::new().expect("runtime");
    let topic = publish_support::topic("bytes");
    let (broker, rx) = B::start(&rt, &topic);
    let server = serve(&broker, &topic);
    let big: String = (0..100 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let datas = ["nul\0inside", "emoji 🎉 ünïcödé ✓", big.as_str()];
    let mut ids = BTreeMap::new();
    for data in datas {
        let id = server.add_task(json!({"name": "orders", "type": 1, "data": data}));
        ids.insert(id, data.to_string());
    }
    let got = receive(&rx, 3, Duration::from_secs(15));
    assert_eq!(
        got.len(),
        3,
        "three messages: {:?}",
        got.iter().map(|g| &g.props).collect::<Vec<_>>()
    );
    for m in &got {
        let taskid = m.prop("taskid");
        let data = ids
            .get(&taskid)
            .unwrap_or_else(|| panic!("unknown taskid in {m:?}"));
        assert_eq!(m.key, B::key(&topic, "orders"));
        assert_eq!(m.prop("tag"), "orders");
        assert_eq!(m.body, data.as_bytes(), "body byte for byte");
        assert_eq!(m.prop("attempt"), "1");
        let fire_time: i64 = m
            .prop("fire_time")
            .parse()
            .expect("fire_time is decimal ms");
        assert_eq!(m.prop("fire_id"), format!("{taskid}-{fire_time}"));
        assert!(
            (now_ms() - fire_time).abs() < 60_000,
            "fire_time is unix ms"
        );
        match B::KIND {
            "nats" => assert_eq!(m.extra, Some(format!("{}:1", m.prop("fire_id")))),
            "amqp" => {
                assert_eq!(m.extra, Some(m.prop("fire_id")), "message_id = fire_id");
                assert_eq!(m.prop("delivery_mode"), "2", "persistent");
            }
            "rocketmq" => {
                assert_eq!(m.prop("keys"), taskid, "keys = taskid");
                assert!(m.extra.as_ref().is_some_and(|id| !id.is_empty()), "msg id");
            }
            "webhook" => assert_eq!(
                m.extra,
                Some(format!(
                    "/hook sha256={}",
                    hmac_hex(webhook::SECRET, &m.body)
                ))
            ),
            _ => assert!(m.extra.is_some(), "stream entry id"),
        }
    }
    for id in ids.keys() {
        let entry = wait_state(&server, id, "published");
        assert!(
            entry["broker_id"].as_str().is_some_and(|s| !s.is_empty()),
            "broker id in history: {entry}"
        );
    }
    if B::KIND == "nats" {
        let (messages, subjects) = Nats::stream_state(&rt, &topic);
        assert!(messages >= 3, "JetStream stored them: {messages}");
        assert_eq!(subjects, vec![format!("{topic}.>")]);
    }
}

/// A once task due in two seconds is published at its time, not before.
fn once_task_fires_on_time<B: Broker>() {
    let rt = Runtime::new().expect("runtime");
    let topic = publish_support::topic("ontime");
    let (broker, rx) = B::start(&rt, &topic);
    let server = serve(&broker, &topic);
    let due_s = now_s() + 2;
    server.add_task(json!({"name": "later", "type": 1, "data": "x", "start_time": due_s}));
    let m = next(&rx, Duration::from_secs(10)).expect("published within 10 s");
    let at = now_ms();
    let fire_time: i64 = m.prop("fire_time").parse().expect("fire_time");
    assert_eq!(fire_time, due_s * 1000);
    assert!(
        at >= fire_time,
        "published {} ms before its time",
        fire_time - at
    );
    assert!(
        at - fire_time < 1_500,
        "published {} ms late",
        at - fire_time
    );
}

/// Loop and crontab tasks are published at each fire time, not before: three fires of a
/// loop a second apart, and a six-field crontab's fires on even seconds.
fn loop_and_crontab_fire_on_time<B: Broker>() {
    let rt = Runtime::new().expect("runtime");
    let topic = publish_support::topic("repeat");
    let (broker, rx) = B::start(&rt, &topic);
    let server = serve(&broker, &topic);
    let looped = server.add_task(
        json!({"name": "looped", "type": 2, "data": "l", "loop_time": 1, "loop_count": 3}),
    );
    let cron = server
        .add_task(json!({"name": "cron", "type": 3, "data": "c", "crontab": "*/2 * * * * *"}));
    let (mut loops, mut crons) = (Vec::new(), Vec::new());
    let until = Instant::now() + Duration::from_secs(20);
    while (loops.len() < 3 || crons.len() < 2) && Instant::now() < until {
        let Some(m) = next(&rx, Duration::from_millis(500)) else {
            continue;
        };
        let at = now_ms();
        let fire_time: i64 = m.prop("fire_time").parse().expect("fire_time");
        assert!(
            at >= fire_time,
            "published {} ms early: {m:?}",
            fire_time - at
        );
        assert!(
            at - fire_time < 1_500,
            "published {} ms late: {m:?}",
            at - fire_time
        );
        let taskid = m.prop("taskid");
        if taskid == looped {
            loops.push(fire_time);
        } else if taskid == cron {
            crons.push(fire_time);
        }
    }
    loops.sort_unstable();
    assert_eq!(loops.len(), 3, "three loop fires: {loops:?}");
    assert!(
        loops.windows(2).all(|w| w[1] - w[0] == 1_000),
        "a second apart: {loops:?}"
    );
    assert!(crons.len() >= 2, "two crontab fires: {crons:?}");
    assert!(
        crons.iter().all(|t| t % 2_000 == 0),
        "even seconds: {crons:?}"
    );
}

/// An `ack` task's fire not acked within max_runtime is published again as attempt 2;
/// acked by fire id (the CLI's `taskcenter ack`), it is not published again. A webhook's
/// 2xx is its ack.
fn ack_task_published_again_until_acked<B: Broker>() {
    let rt = Runtime::new().expect("runtime");
    let topic = publish_support::topic("ack");
    let (broker, rx) = B::start(&rt, &topic);
    let server = serve(&broker, &topic);
    let id = server
        .add_task(json!({"name": "acks", "type": 1, "data": "a", "ack": true, "max_runtime": 2}));
    let first = next(&rx, Duration::from_secs(10)).expect("attempt 1");
    assert_eq!(first.prop("attempt"), "1");
    let fire_id = first.prop("fire_id");
    if B::CONFIRM_IS_ACK {
        wait_state(&server, &id, "acked");
        assert!(
            next(&rx, Duration::from_secs(5)).is_none(),
            "a 2xx is the ack"
        );
        return;
    }
    assert_eq!(wait_state(&server, &id, "published")["attempts"], 1);
    let second = next(&rx, Duration::from_secs(10)).expect("attempt 2 after max_runtime");
    assert_eq!(second.prop("attempt"), "2");
    assert_eq!(second.prop("fire_id"), fire_id);
    assert_eq!(second.body, b"a");
    if B::KIND == "nats" {
        assert_eq!(second.extra, Some(format!("{fire_id}:2")));
    }
    let out = server.cli(&["ack", &fire_id]);
    assert!(out.ok().contains(&fire_id), "{out:?}");
    let entry = wait_state(&server, &id, "acked");
    assert_eq!(entry["attempts"], 2);
    assert!(
        next(&rx, Duration::from_secs(5)).is_none(),
        "acked: not published again"
    );
    // The API form too; acking again is success, unknown fires are left out.
    let (status, body) = server.post("/v1/api/consume", &json!({"group": "g", "wait_ms": 0}));
    assert_eq!(status, 503, "the built-in queue is off: {body}");
    let (status, body) = server.post(
        "/v1/api/ack",
        &json!({"fire_ids": [fire_id, format!("{id}-1")]}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["fire_ids"], json!([fire_id]));
}

/// The broker unreachable (or refusing) while fires come due: nothing is published, every
/// fire stays pending, and once it is back every fire is delivered; only a fire already
/// sent may come twice (same fire id).
fn broker_down_while_fires_come_due_loses_nothing<B: Broker>() {
    let rt = Runtime::new().expect("runtime");
    let topic = publish_support::topic("outage");
    let (broker, rx) = B::start(&rt, &topic);
    let server = serve(&broker, &topic);
    let warm = server.add_task(json!({"name": "warm", "type": 1, "data": "w"}));
    next(&rx, Duration::from_secs(10)).expect("the broker works before the outage");
    broker.cut();
    let due_s = now_s() + 1;
    let mut ids = BTreeSet::new();
    for i in 0..6 {
        let start = due_s + i % 3;
        let id = server.add_task(
            json!({"name": "outage", "type": 1, "data": format!("m{i}"), "start_time": start}),
        );
        ids.insert(id);
    }
    std::thread::sleep(Duration::from_secs(5));
    let during: Vec<Got> = rx.try_iter().collect();
    assert!(
        during.is_empty(),
        "nothing gets through while cut: {during:?}"
    );
    for id in &ids {
        assert_eq!(history(&server, id)[0]["state"], "pending");
    }
    // A publish in flight may take its timeout to fail.
    let errors = format!(
        "taskcenter_broker_publish_errors_total{{broker=\"{}\"}}",
        B::KIND
    );
    wait_for(Duration::from_secs(20), "publish errors counted", || {
        let text = metrics(&server);
        text.lines()
            .any(|l| l.starts_with(&errors) && !l.ends_with(" 0"))
    });
    broker.restore();
    // A fire whose confirmation the cut swallowed is published again: the same fire id.
    let mut fired = BTreeSet::new();
    let until = Instant::now() + Duration::from_secs(40);
    while fired != ids && Instant::now() < until {
        let Some(m) = next(&rx, Duration::from_millis(500)) else {
            continue;
        };
        let taskid = m.prop("taskid");
        assert!(
            ids.contains(&taskid) || taskid == warm,
            "unknown message {m:?}"
        );
        if taskid != warm {
            fired.insert(taskid);
        }
    }
    assert_eq!(fired, ids, "every fire delivered after the outage");
    for id in &ids {
        wait_state(&server, id, "published");
    }
    let text = metrics(&server);
    assert!(text.contains("taskcenter_outbox_depth 0"), "{text}");
}

/// A burst of fires due at one instant, more than a relay batch sends at once to some
/// brokers' clients, reaches the broker whole: every fire, each under its own fire id.
fn a_burst_due_at_once_arrives_whole<B: Broker>() {
    const N: usize = 3_000;
    let rt = Runtime::new().expect("runtime");
    let topic = publish_support::topic("burst");
    let (broker, rx) = B::start(&rt, &topic);
    let server = serve(&broker, &topic);
    let due_s = now_s() + 3;
    for chunk in 0..N / 1000 {
        let tasks: Vec<Value> = (0..1000)
            .map(|i| {
                let data = format!("burst-{}", chunk * 1000 + i);
                json!({"name": "burst", "type": 1, "data": data, "start_time": due_s})
            })
            .collect();
        let (status, body) = server.post("/v1/api/tasks", &Value::Array(tasks));
        assert_eq!(status, 200, "{body}");
    }
    let got = receive(&rx, N, Duration::from_secs(90));
    let fires: BTreeSet<String> = got.iter().map(|m| m.prop("fire_id")).collect();
    let bodies: BTreeSet<&[u8]> = got.iter().map(|m| m.body.as_slice()).collect();
    assert_eq!(
        (fires.len(), bodies.len()),
        (N, N),
        "distinct fires and bodies received"
    );
    assert!(
        got.iter()
            .all(|m| m.prop("fire_time") == (due_s * 1000).to_string())
    );
    // Sends the broker did not confirm are tried again, and a loaded broker may miss a few;
    // a client that refuses sends past its own limit misses most of a burst.
    let name = format!(
        "taskcenter_broker_publish_errors_total{{broker=\"{}\"}} ",
        B::KIND
    );
    let text = metrics(&server);
    let errors: usize = text
        .lines()
        .find_map(|line| line.strip_prefix(&name))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"));
    assert!(
        errors <= N / 10,
        "{errors} of {N} sends were not confirmed the first time"
    );
}

/// One `#[test]` per suite function for the broker type given.
macro_rules! publisher_suite {
    ($name:ident, $broker:ty) => {
        mod $name {
            use super::*;

            #[test]
            fn properties_and_body_byte_for_byte() {
                super::properties_and_body_byte_for_byte::<$broker>();
            }

            #[test]
            fn once_task_fires_on_time() {
                super::once_task_fires_on_time::<$broker>();
            }

            #[test]
            fn loop_and_crontab_fire_on_time() {
                super::loop_and_crontab_fire_on_time::<$broker>();
            }

            #[test]
            fn ack_task_published_again_until_acked() {
                super::ack_task_published_again_until_acked::<$broker>();
            }

            #[test]
            fn a_burst_due_at_once_arrives_whole() {
                super::a_burst_due_at_once_arrives_whole::<$broker>();
            }

            #[test]
            fn broker_down_while_fires_come_due_loses_nothing() {
                super::broker_down_while_fires_come_due_loses_nothing::<$broker>();
            }
        }
    };
}

publisher_suite!(nats, Nats);
publisher_suite!(redis, Redis);
publisher_suite!(amqp, Amqp);
publisher_suite!(webhook_receiver, webhook::Webhook);
#[cfg(feature = "rocketmq")]
publisher_suite!(rocketmq, publish_support::rocketmq::RocketMq);

/// A Go service's `task_center.toml` publishes every fire to RocketMQ as the Go service
/// did: its name server, producer group, instance name, ACL keys and topic, a topic the
/// first send creates on the broker.
#[cfg(feature = "rocketmq")]
#[test]
fn the_go_files_rocketmq_section_publishes_to_rocketmq() {
    use publish_support::rocketmq::{NAMESRV, RocketMq};
    let turn = RocketMq::take_turn();
    let topic = publish_support::topic("seed");
    let config = format!(
        "[task_center]\nname_alert_count = 100\n\
         [rocketmq]\nnamesvr = \"{NAMESRV}\"\ngroup_id = \"GID_{topic}\"\n\
         instance_name = \"taskcenter_seed\"\naccess_key = \"AK\"\nsecret_key = \"SK\"\n\
         topic = \"{topic}\"\n"
    );
    let server = Server::start_with_config(&config, &[]);
    let id = server.add_task(json!({"name": "seed_tag", "type": 1, "data": "from the seed"}));
    let entry = wait_state(&server, &id, "published");
    let (_witness, rx) = RocketMq::consume(turn, &topic);
    let m = next(&rx, Duration::from_secs(30)).expect("the fire on the seed's topic");
    assert_eq!(m.key, "seed_tag");
    assert_eq!(m.prop("keys"), id);
    assert_eq!(m.prop("taskid"), id);
    assert_eq!(m.body, b"from the seed");
    assert_eq!(
        entry["broker_id"].as_str(),
        Some(m.prop("uniq_key").as_str()),
        "the history shows the producer's msg id the consumer got"
    );
    assert!(
        !server.log_tail(200).contains("[rocketmq]"),
        "{}",
        server.log_tail(200)
    );
}

#[test]
fn an_unknown_publisher_url_stops_start_up() {
    let out = run_cli(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--publisher",
        "kafka://127.0.0.1:9092",
    ]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("kafka://"), "{out:?}");
}

/// A webhook answering 410 Gone refuses the message for good: a dead letter at once,
/// never posted again.
#[test]
fn webhook_gone_is_a_dead_letter_at_once() {
    let rt = Runtime::new().expect("runtime");
    let (hook, rx) = webhook::Webhook::start(&rt, "gone");
    hook.answer_gone();
    let server = serve(&hook, "gone");
    let id = server.add_task(json!({"name": "gone", "type": 1, "data": "g"}));
    let entry = wait_state(&server, &id, "dead");
    assert_eq!(entry["attempts"], 1);
    let (status, body) = server.get("/v1/api/dead-letters");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.to_string().contains(&id),
        "in the dead letters: {body}"
    );
    assert!(
        next(&rx, Duration::from_secs(3)).is_none(),
        "never posted again"
    );
}

//! RocketMQ behind ACL: a name server and broker that check every request's access key and
//! its signature with the user's secret key (`scripts/rocketmq.sh auth`). The server
//! publishes with `--rocketmq-access-key` / `--rocketmq-secret-key`, a consumer of
//! taskcenter-client consumes with the same keys, and RocketMQ's own pull consumer, signing
//! with them too, reads what the broker stored. Without the right keys the broker refuses:
//! nothing is published, nothing consumed.
#![cfg(feature = "rocketmq")]
// The classic pull consumer reads a queue by offset: what a witness of everything stored
// needs.
#![allow(deprecated)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Server;
use common::client::logs;
use rocketmq_client_rust::{
    AclClientRPCHook, ClientRuntime, ClientRuntimeConfig, DefaultMQPullConsumer,
    SessionCredentials, TelemetryHandle,
};
use rocketmq_runtime::RuntimeOwner;
use serde_json::json;
use taskcenter_client::{Client, Config, Message};
use tokio::runtime::Runtime;

const NAMESRV: &str = "127.0.0.1:19876";
const ACCESS_KEY: &str = "taskcenter";
const SECRET_KEY: &str = "taskcenter-secret-1";

/// Starts the ACL name server and broker where they are down.
fn auth_broker() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/rocketmq.sh");
    let status = std::process::Command::new(script)
        .arg("auth")
        .status()
        .expect("run scripts/rocketmq.sh auth");
    assert!(status.success(), "scripts/rocketmq.sh auth: {status}");
}

fn topic(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("tc_acl_{test}_{}_{nanos}", std::process::id())
}

/// A server publishing to the ACL broker on `topic`, signing with `secret`.
fn server(topic: &str, secret: &str) -> Server {
    Server::start(&[
        "--publisher",
        &format!("rocketmq://{NAMESRV}"),
        "--topic",
        topic,
        "--rocketmq-access-key",
        ACCESS_KEY,
        "--rocketmq-secret-key",
        secret,
    ])
}

fn fire_state(server: &Server, id: &str) -> String {
    let (_, body) = server.get(&format!("/v1/api/task-history?taskid={id}"));
    body["fires"][0]["state"].as_str().unwrap_or("").to_string()
}

fn until(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}

/// A started consumer of `topic` in `group` whose handler records every message of tag
/// `acl.t`; it signs with the keys when `keys`.
fn consumer(
    rt: &Runtime,
    server: &Server,
    topic: &str,
    group: &str,
    keys: bool,
) -> (Client, Arc<Mutex<Vec<Message>>>) {
    let mut config = Config::new(server.base_url())
        .with_broker(&format!("rocketmq://{NAMESRV}"))
        .expect("rocketmq transport")
        .with_topic(topic)
        .with_group(group)
        .with_backoff(Duration::from_millis(100), Duration::from_secs(1));
    if keys {
        config = config.with_rocketmq_keys(ACCESS_KEY, SECRET_KEY);
    }
    let client = Client::new(config).expect("client");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    client
        .register_message("acl.t", move |m| {
            let sink = sink.clone();
            async move {
                sink.lock().expect("seen").push(m);
                Ok::<(), String>(())
            }
        })
        .expect("register");
    let _in_runtime = rt.enter();
    client.start().expect("start");
    (client, seen)
}

/// The bodies of the messages keyed `key` on `topic`, read with RocketMQ's own pull
/// consumer signing with `secret` (none without); `None` when the broker refused.
fn read_with_rocketmq(topic: &str, key: &str, secret: Option<&str>) -> Option<Vec<String>> {
    let owner = RuntimeOwner::new().expect("rocketmq client runtime");
    let client = ClientRuntime::try_new(
        owner.root_context().component("acl-witness"),
        ClientRuntimeConfig::default(),
        TelemetryHandle::noop(),
    )
    .expect("rocketmq client");
    let read = owner.block_on(pull_all(&client, topic, key, secret));
    owner.block_on(client.shutdown());
    read
}

async fn pull_all(
    client: &Arc<ClientRuntime>,
    topic: &str,
    key: &str,
    secret: Option<&str>,
) -> Option<Vec<String>> {
    let mut builder = DefaultMQPullConsumer::builder(Arc::clone(client))
        .consumer_group(format!("{topic}_witness_{}", secret.is_some()))
        .name_server_addr(NAMESRV);
    if let Some(secret) = secret {
        let keys = SessionCredentials::with_keys(ACCESS_KEY, secret);
        builder = builder.rpc_hook(Arc::new(AclClientRPCHook::new(keys)));
    }
    let consumer = builder.build().expect("a pull consumer");
    consumer.start().await.expect("start the pull consumer");
    let queues = consumer.fetch_subscribe_message_queues(topic).await.ok()?;
    let mut bodies = Vec::new();
    for mq in queues {
        let end = consumer.max_offset(&mq).await.ok()?;
        let mut offset = 0;
        while offset < end {
            let pulled = consumer.pull(&mq, "*", offset, 32).await.ok()?;
            for m in pulled.msg_found_list().unwrap_or_default() {
                if m.keys().unwrap_or_default().iter().any(|k| k == key) {
                    bodies.push(String::from_utf8_lossy(m.body_slice()).into_owned());
                }
            }
            let next = i64::try_from(pulled.next_begin_offset()).unwrap_or(offset);
            if next <= offset {
                break;
            }
            offset = next;
        }
    }
    let _ = consumer.shutdown().await;
    Some(bodies)
}

/// With the keys a fire is published, handled by a consumer signing with them, and stored
/// as the broker's own client reads it; that client without the keys is refused, and so is
/// a consumer without them.
#[test]
fn with_the_keys_fires_are_published_and_consumed() {
    logs();
    auth_broker();
    let rt = Runtime::new().expect("runtime");
    let topic = topic("keys");
    let server = server(&topic, SECRET_KEY);
    let (client, seen) = consumer(&rt, &server, &topic, &format!("{topic}_keys"), true);
    // Every group gets every message: this one would too, if the broker let it in.
    let (keyless, unseen) = consumer(&rt, &server, &topic, &format!("{topic}_nokeys"), false);
    let id = server.add_task(json!({"name": "acl.t", "type": 1, "data": "behind the ACL"}));
    let published = || fire_state(&server, &id) == "published";
    assert!(
        until(Duration::from_secs(30), published),
        "the fire was not published ({}): {}",
        fire_state(&server, &id),
        server.log_tail(20)
    );
    assert!(
        until(Duration::from_secs(40), || !seen
            .lock()
            .expect("seen")
            .is_empty()),
        "the consumer with the keys got nothing"
    );
    let got = seen.lock().expect("seen")[0].clone();
    assert_eq!(
        (got.taskid.as_str(), got.data.as_str()),
        (id.as_str(), "behind the ACL")
    );

    assert_eq!(
        read_with_rocketmq(&topic, &id, Some(SECRET_KEY)),
        Some(vec!["behind the ACL".to_string()]),
        "RocketMQ's own client with the keys reads the message"
    );
    let refused = read_with_rocketmq(&topic, &id, None);
    assert!(
        refused.as_ref().is_none_or(Vec::is_empty),
        "without keys the broker handed out {refused:?}"
    );
    std::thread::sleep(Duration::from_secs(3)); // time for the keyless group to get it
    rt.block_on(client.release());
    rt.block_on(keyless.release());
    assert!(
        unseen.lock().expect("unseen").is_empty(),
        "a consumer without the keys got the fire"
    );
}

/// A server signing with a wrong secret key is refused: the fire stays pending in the
/// outbox and the refusals show in `/metrics`.
#[test]
fn with_a_wrong_secret_nothing_is_published() {
    logs();
    auth_broker();
    let topic = topic("wrong");
    let server = server(&topic, "not-the-secret");
    let id = server.add_task(json!({"name": "acl.t", "type": 1, "data": "refused"}));
    let errors = || {
        let text = reqwest::blocking::get(server.url("/metrics"))
            .and_then(|r| r.text())
            .unwrap_or_default();
        text.lines()
            .find(|l| l.starts_with("taskcenter_broker_publish_errors_total{broker=\"rocketmq\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    assert!(
        until(Duration::from_secs(20), || errors() >= 3.0),
        "no refusal counted: {}",
        server.log_tail(20)
    );
    assert_eq!(fire_state(&server, &id), "pending");
}

//! What the consumer suite needs of each transport: the flags of the server that feeds it,
//! the consumer's configuration (reaching the broker, or for the built-in queue the server,
//! through a proxy the test can cut, as if the broker restarted), and the dead letters read
//! back with the broker's own client library (the built-in queue's from the server's API).
#![allow(dead_code)]

#[cfg(feature = "rocketmq")]
mod rocketmq;

use std::collections::BTreeMap;
use std::sync::MutexGuard;
use std::time::Duration;

use taskcenter_client::Config;
use tokio::runtime::Runtime;

use crate::common::Server;
use crate::publish_support::Switch;
use crate::publish_support::proxy::Proxy;
#[cfg(feature = "rocketmq")]
pub use rocketmq::RocketMq;

/// A dead letter as the broker holds it: the fire's properties, plus `group` where the
/// broker records it.
pub type DeadLetter = BTreeMap<String, String>;

/// How a test's consumers retry and lease: the pauses before each retry, and how long a
/// delivered message may stay unsettled (the transport's default when `None`).
#[derive(Debug, Clone)]
pub struct Terms {
    pub ladder_ms: Vec<u64>,
    pub lease: Option<Duration>,
}

/// `500ms,1000ms`: a ladder as the server's `--retry-delays` takes it; empty for none.
fn ladder_flag(ladder_ms: &[u64]) -> String {
    let steps: Vec<String> = ladder_ms.iter().map(|ms| format!("{ms}ms")).collect();
    steps.join(",")
}

/// A transport the consumer suite runs against.
pub trait Transport {
    /// The transport's kind, as the cargo feature is named.
    const KIND: &'static str;
    /// The broker's address on this machine.
    const ADDR: &'static str;
    /// The URL of the broker at `addr` (the server's `--publisher`, the consumer's broker).
    fn url(addr: &str) -> String;
    /// The dead letters of `group` on `topic`.
    fn dead_letters(rt: &Runtime, server: &Server, topic: &str, group: &str) -> Vec<DeadLetter>;

    /// The two delays of the retry test's ladder: ones the broker waits as asked.
    const LADDER_MS: [u64; 2] = [1000, 2000];

    /// What a test holds while it runs, if the broker cannot serve tests side by side.
    fn turn() -> Option<MutexGuard<'static, ()>> {
        None
    }

    /// The flags of the server feeding the consumers: it publishes on `topic` to the
    /// broker, and its ladder (which republishes unacked fires of `ack` tasks) is the
    /// consumers'.
    fn server_flags(topic: &str, terms: &Terms) -> Vec<String> {
        vec![
            "--publisher".into(),
            Self::url(Self::ADDR),
            "--topic".into(),
            topic.into(),
            "--retry-delays".into(),
            ladder_flag(&terms.ladder_ms),
        ]
    }

    /// The address the consumer's proxy forwards to.
    fn upstream(_server: &Server) -> String {
        Self::ADDR.into()
    }

    /// The consumer's configuration: the broker's URL (through `proxy`) and `topic`, the
    /// ladder and lease of `terms`; the server is called only to ack fires.
    fn config(server: &Server, proxy: &Proxy, topic: &str, terms: &Terms) -> Config {
        let config = Config::new(server.base_url())
            .with_broker(&Self::consumer_url(proxy))
            .expect("transport built")
            .with_topic(topic)
            .with_retry_delays(
                terms
                    .ladder_ms
                    .iter()
                    .map(|ms| Duration::from_millis(*ms))
                    .collect(),
            );
        match terms.lease {
            Some(lease) => config.with_lease(lease),
            None => config,
        }
    }

    /// The URL the consumer gets: the proxy's, so that cutting the proxy cuts the consumer.
    fn consumer_url(proxy: &Proxy) -> String {
        Self::url(&proxy.addr.to_string())
    }

    /// Makes the broker unreachable for the consumer, or reachable again.
    fn set_reachable(proxy: &Proxy, open: bool) {
        proxy.set_open(open);
    }
}

/// A proxy in front of what the consumer reaches.
pub fn proxy<T: Transport>(rt: &Runtime, server: &Server) -> Proxy {
    Proxy::start(rt, &T::upstream(server))
}

/// The server's own queue: the server keeps the ladder and the lease, the consumer pulls
/// from the server (through the proxy), and the dead letters are the server's.
pub struct Builtin;

impl Transport for Builtin {
    const KIND: &'static str = "builtin";
    const ADDR: &'static str = "";

    fn url(_: &str) -> String {
        "builtin".into()
    }

    fn server_flags(_topic: &str, terms: &Terms) -> Vec<String> {
        let mut flags = vec!["--retry-delays".into(), ladder_flag(&terms.ladder_ms)];
        if let Some(lease) = terms.lease {
            flags.extend(["--lease".into(), format!("{}ms", lease.as_millis())]);
        }
        flags
    }

    fn upstream(server: &Server) -> String {
        server.addr.clone()
    }

    fn config(_server: &Server, proxy: &Proxy, _topic: &str, _terms: &Terms) -> Config {
        Config::new(format!("http://{}", proxy.addr))
    }

    /// The server's dead letters of `group`, as `GET /v1/api/dead-letters` lists them.
    fn dead_letters(_: &Runtime, server: &Server, _topic: &str, group: &str) -> Vec<DeadLetter> {
        let (status, body) = server.get(&format!("/v1/api/dead-letters?group={group}"));
        assert_eq!(status, 200, "dead letters: {body}");
        let letters = body["dead_letters"].as_array().cloned().unwrap_or_default();
        letters
            .iter()
            .map(|letter| {
                let mut out = DeadLetter::new();
                for name in [
                    "tag",
                    "taskid",
                    "fire_time",
                    "fire_id",
                    "attempts",
                    "reason",
                    "data",
                ] {
                    let v = &letter[name];
                    let text = v
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string());
                    out.insert(name.into(), text);
                }
                out
            })
            .collect()
    }
}

pub struct Nats;
pub struct Redis;
pub struct Amqp;

impl Transport for Nats {
    const KIND: &'static str = "nats";
    const ADDR: &'static str = "127.0.0.1:4222";

    fn url(addr: &str) -> String {
        format!("nats://{addr}")
    }

    /// Every message of the dead-letter stream `<topic>_dead` under `<topic>_dead.<group>.>`.
    fn dead_letters(rt: &Runtime, _: &Server, topic: &str, group: &str) -> Vec<DeadLetter> {
        rt.block_on(async {
            let client = async_nats::connect(Self::ADDR)
                .await
                .expect("connect to NATS");
            let js = async_nats::jetstream::new(client);
            let Ok(mut stream) = js.get_stream(format!("{topic}_dead")).await else {
                return Vec::new();
            };
            let last = stream
                .info()
                .await
                .expect("stream info")
                .state
                .last_sequence;
            let prefix = format!("{topic}_dead.{group}.");
            let mut out = Vec::new();
            for seq in 1..=last {
                let Ok(m) = stream.get_raw_message(seq).await else {
                    continue;
                };
                if !m.subject.as_str().starts_with(&prefix) {
                    continue;
                }
                let mut letter = DeadLetter::new();
                for name in ["tag", "taskid", "fire_time", "fire_id", "attempt", "reason"] {
                    if let Some(v) = m.headers.get(name) {
                        letter.insert(name.into(), v.as_str().to_string());
                    }
                }
                letter.insert("data".into(), String::from_utf8_lossy(&m.payload).into());
                out.push(letter);
            }
            out
        })
    }
}

impl Transport for Redis {
    const KIND: &'static str = "redis";
    const ADDR: &'static str = "127.0.0.1:6379";

    fn url(addr: &str) -> String {
        format!("redis://{addr}/0")
    }

    /// The entries of the stream `<topic>:dead` whose `group` field is `group`.
    fn dead_letters(rt: &Runtime, _: &Server, topic: &str, group: &str) -> Vec<DeadLetter> {
        rt.block_on(async {
            let client = redis::Client::open(format!("redis://{}/0", Self::ADDR)).expect("url");
            let mut conn = client
                .get_multiplexed_async_connection()
                .await
                .expect("connect to Redis");
            let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(format!("{topic}:dead"))
                .arg("-")
                .arg("+")
                .query_async(&mut conn)
                .await
                .expect("XRANGE");
            reply
                .ids
                .into_iter()
                .map(|entry| {
                    entry
                        .map
                        .into_iter()
                        .map(|(k, v)| {
                            let bytes: Vec<u8> = redis::from_redis_value(v).expect("bulk string");
                            (k, String::from_utf8_lossy(&bytes).into_owned())
                        })
                        .collect::<DeadLetter>()
                })
                .filter(|letter| letter.get("group").map(String::as_str) == Some(group))
                .collect()
        })
    }
}

impl Transport for Amqp {
    const KIND: &'static str = "amqp";
    const ADDR: &'static str = "127.0.0.1:5672";

    fn url(addr: &str) -> String {
        format!("amqp://guest:guest@{addr}/%2f")
    }

    /// The messages of the queue `<topic>.dead.<group>`, taken off it, with the group
    /// RabbitMQ's own `x-death` header names as the queue they died in.
    fn dead_letters(rt: &Runtime, _: &Server, topic: &str, group: &str) -> Vec<DeadLetter> {
        use lapin::options::BasicGetOptions;
        use lapin::types::{AMQPValue, ShortString};
        rt.block_on(async {
            let url = Self::url(Self::ADDR);
            let conn = lapin::Connection::connect(&url, lapin::ConnectionProperties::default())
                .await
                .expect("connect to RabbitMQ");
            let ch = conn.create_channel().await.expect("channel");
            let queue = format!("{topic}.dead.{group}");
            let mut out = Vec::new();
            while let Ok(Some(got)) = ch
                .basic_get(
                    ShortString::from(queue.as_str()),
                    BasicGetOptions { no_ack: true },
                )
                .await
            {
                let d = got.delivery;
                let mut letter = DeadLetter::new();
                if let Some(headers) = d.properties.headers() {
                    for (k, v) in headers.inner() {
                        let text = match v {
                            AMQPValue::LongString(s) => {
                                String::from_utf8_lossy(s.as_bytes()).into()
                            }
                            AMQPValue::FieldArray(deaths) => {
                                // x-death: one table per queue the message died in.
                                let queues: Vec<String> = deaths
                                    .as_slice()
                                    .iter()
                                    .filter_map(|t| match t {
                                        AMQPValue::FieldTable(t) => {
                                            t.inner().get("queue").map(|q| format!("{q:?}"))
                                        }
                                        _ => None,
                                    })
                                    .collect();
                                queues.join(",")
                            }
                            other => format!("{other:?}"),
                        };
                        letter.insert(k.as_str().to_string(), text);
                    }
                }
                letter.insert("data".into(), String::from_utf8_lossy(&d.data).into());
                out.push(letter);
            }
            let _ = conn.close(0, "done".into()).await;
            out
        })
    }
}

//! A Redis Streams consumer (the redis crate): `XREAD BLOCK` on the stream `<topic>`
//! from its start.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, channel};

use redis::streams::StreamReadReply;
use tokio::runtime::Runtime;

use super::proxy::Proxy;
use super::{Broker, Got};

pub const ADDR: &str = "127.0.0.1:6379";

pub struct Redis {
    proxy: Proxy,
}

impl Broker for Redis {
    const KIND: &'static str = "redis";

    fn start(rt: &Runtime, topic: &str) -> (Self, Receiver<Got>) {
        let (tx, rx) = channel();
        let client = redis::Client::open(format!("redis://{ADDR}/")).expect("redis URL");
        let mut conn = rt
            .block_on(client.get_multiplexed_async_connection())
            .expect("Redis runs on 127.0.0.1:6379 (scripts/test.sh starts it)");
        let stream = topic.to_string();
        rt.spawn(async move {
            let mut last = "0".to_string();
            loop {
                let reply: Result<Option<StreamReadReply>, _> = redis::cmd("XREAD")
                    .arg("BLOCK")
                    .arg(100)
                    .arg("STREAMS")
                    .arg(&stream)
                    .arg(&last)
                    .query_async(&mut conn)
                    .await;
                // A blocked read may outlast the client's response timeout: read again.
                let Ok(reply) = reply else {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                };
                for key in reply.map(|r| r.keys).unwrap_or_default() {
                    for entry in key.ids {
                        last = entry.id.clone();
                        let mut props = BTreeMap::new();
                        let mut body = Vec::new();
                        for (field, value) in entry.map {
                            let bytes: Vec<u8> =
                                redis::from_redis_value(value).expect("a bulk string");
                            if field == "data" {
                                body = bytes;
                            } else {
                                props.insert(field, String::from_utf8_lossy(&bytes).into_owned());
                            }
                        }
                        let got = Got {
                            key: props.get("tag").cloned().unwrap_or_default(),
                            props,
                            body,
                            extra: Some(entry.id),
                        };
                        if tx.send(got).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        (
            Redis {
                proxy: Proxy::start(rt, ADDR),
            },
            rx,
        )
    }

    fn publisher_url(&self) -> String {
        format!("redis://{}/0", self.proxy.addr)
    }

    fn switch(&self) -> &dyn super::Switch {
        &self.proxy
    }
}

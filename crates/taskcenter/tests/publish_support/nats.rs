//! A NATS consumer (async-nats): a core subscription to `<topic>.>`, which sees every
//! message JetStream stores on those subjects, and a check of the stream afterwards.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, channel};

use futures_util::StreamExt;
use tokio::runtime::Runtime;

use super::proxy::Proxy;
use super::{Broker, Got};

pub const ADDR: &str = "127.0.0.1:4222";

pub struct Nats {
    proxy: Proxy,
    pub topic: String,
}

impl Nats {
    /// Messages the stream `<topic>` holds, and its subjects, from JetStream itself.
    pub fn stream_state(rt: &Runtime, topic: &str) -> (u64, Vec<String>) {
        rt.block_on(async {
            let client = async_nats::connect(ADDR).await.expect("connect to NATS");
            let js = async_nats::jetstream::new(client);
            let mut stream = js.get_stream(topic).await.expect("the stream exists");
            let info = stream.info().await.expect("stream info");
            (info.state.messages, info.config.subjects.clone())
        })
    }
}

impl Broker for Nats {
    const KIND: &'static str = "nats";

    fn start(rt: &Runtime, topic: &str) -> (Self, Receiver<Got>) {
        let (tx, rx) = channel();
        let subject = format!("{topic}.>");
        let mut sub = rt.block_on(async {
            let client = async_nats::connect(ADDR)
                .await
                .expect("NATS runs on 127.0.0.1:4222 (scripts/test.sh starts it)");
            client.subscribe(subject).await.expect("subscribe")
        });
        rt.spawn(async move {
            while let Some(m) = sub.next().await {
                let mut props = BTreeMap::new();
                let mut extra = None;
                if let Some(headers) = &m.headers {
                    for name in ["tag", "taskid", "fire_time", "fire_id", "attempt"] {
                        if let Some(v) = headers.get(name) {
                            props.insert(name.to_string(), v.as_str().to_string());
                        }
                    }
                    extra = headers.get("Nats-Msg-Id").map(|v| v.as_str().to_string());
                }
                let got = Got {
                    key: m.subject.to_string(),
                    props,
                    body: m.payload.to_vec(),
                    extra,
                };
                if tx.send(got).is_err() {
                    return;
                }
            }
        });
        let proxy = Proxy::start(rt, ADDR);
        let topic = topic.to_string();
        (Nats { proxy, topic }, rx)
    }

    fn publisher_url(&self) -> String {
        format!("nats://{}", self.proxy.addr)
    }

    fn switch(&self) -> &dyn super::Switch {
        &self.proxy
    }

    fn key(topic: &str, tag: &str) -> String {
        format!("{topic}.{tag}")
    }
}

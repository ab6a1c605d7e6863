//! RocketMQ for the consumer suite: the machine's one name server and broker
//! (scripts/rocketmq.sh), taken in turns; the broker itself is stopped and started again to
//! play a restart (the name server hands out the broker's own address, so a proxy in front
//! of the name server would cut nothing); dead letters read from `%DLQ%<group>` with
//! rocketmq-client-rust's pull consumer.

// The classic pull consumer reads a queue by offset, from the first message, with no
// group offsets in the way: what a reader of every dead letter needs.
#![allow(deprecated)]

use std::sync::{Arc, MutexGuard};

use rocketmq_client_rust::{ClientRuntime, DefaultMQPullConsumer};
use rocketmq_model::common::message::message_ext::MessageExt;
use tokio::runtime::Runtime;

use super::{DeadLetter, Transport};
use crate::common::Server;
use crate::publish_support::Switch;
use crate::publish_support::proxy::Proxy;
use crate::publish_support::rocketmq::{
    BrokerProcess, NAMESRV, RocketMq as Witness, client_runtime,
};

pub struct RocketMq;

impl Transport for RocketMq {
    const KIND: &'static str = "rocketmq";
    const ADDR: &'static str = NAMESRV;
    /// The broker's delay levels 1 and 2: RocketMQ retries only after one of its levels.
    const LADDER_MS: [u64; 2] = [1000, 5000];

    fn url(addr: &str) -> String {
        format!("rocketmq://{addr}")
    }

    fn turn() -> Option<MutexGuard<'static, ()>> {
        let turn = Witness::take_turn();
        BrokerProcess.start();
        Some(turn)
    }

    fn consumer_url(_: &Proxy) -> String {
        Self::url(Self::ADDR)
    }

    fn set_reachable(_: &Proxy, open: bool) {
        BrokerProcess.set_open(open);
    }

    /// Every message of `%DLQ%<group>` that died on `topic` (its `RETRY_TOPIC` property).
    fn dead_letters(_: &Runtime, _: &Server, topic: &str, group: &str) -> Vec<DeadLetter> {
        let (owner, client) = client_runtime("dead-letters");
        let letters = owner.block_on(read_dead_letters(&client, topic, group));
        owner.block_on(client.shutdown());
        letters
    }
}

async fn read_dead_letters(
    client: &Arc<ClientRuntime>,
    topic: &str,
    group: &str,
) -> Vec<DeadLetter> {
    let consumer = DefaultMQPullConsumer::builder(Arc::clone(client))
        .consumer_group(format!("{topic}_dead_reader"))
        .name_server_addr(NAMESRV)
        .build()
        .expect("a pull consumer");
    consumer.start().await.expect("start the pull consumer");
    let dlq = format!("%DLQ%{group}");
    // No route yet: the group has no dead letters.
    let queues = consumer
        .fetch_subscribe_message_queues(&dlq)
        .await
        .unwrap_or_default();
    let mut out = Vec::new();
    for mq in queues {
        let end = consumer.max_offset(&mq).await.expect("max offset");
        let mut offset = 0;
        while offset < end {
            let pulled = consumer.pull(&mq, "*", offset, 32).await.expect("pull");
            for m in pulled.msg_found_list().unwrap_or_default() {
                if m.property("RETRY_TOPIC") == Some(topic) {
                    out.push(letter(m));
                }
            }
            let next = i64::try_from(pulled.next_begin_offset()).expect("offset");
            if next <= offset {
                break;
            }
            offset = next;
        }
    }
    let _ = consumer.shutdown().await;
    out
}

fn letter(m: &MessageExt) -> DeadLetter {
    let mut letter = DeadLetter::new();
    for name in ["tag", "taskid", "fire_time", "fire_id", "attempt"] {
        if let Some(v) = m.get_user_property(name) {
            letter.insert(name.into(), v.to_string());
        }
    }
    letter.insert("reconsume_times".into(), m.reconsume_times().to_string());
    letter.insert(
        "data".into(),
        String::from_utf8_lossy(m.body_slice()).into(),
    );
    letter
}

//! A RocketMQ witness (rocketmq-client-rust's pull consumer reading every queue of a topic
//! by offset) of the machine's name server and broker, which scripts/rocketmq.sh starts.
//! There is one broker, and the outage test stops it and starts it again through that
//! script, so RocketMQ tests take turns.
//!
//! The witness pulls by offset rather than through a push consumer: after the broker was
//! stopped and started again, the push consumer sometimes stopped pulling one of the
//! topic's queues, so a message the broker held never reached the test. Reading each queue
//! from its first offset to its last sees everything the broker stored.

// The classic pull consumer reads a queue by offset, from the first message, with no
// group offsets or rebalancing in the way: what a witness of everything stored needs.
#![allow(deprecated)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rocketmq_client_rust::{
    ClientRuntime, ClientRuntimeConfig, DefaultMQProducer, DefaultMQPullConsumer, TelemetryHandle,
};
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_runtime::RuntimeOwner;
use tokio::runtime::Runtime;

use super::{Broker, Got, Switch};

/// The name server scripts/rocketmq.sh runs.
pub const NAMESRV: &str = "127.0.0.1:9876";

/// The topic every broker creates topics from.
const CREATE_TOPIC_KEY: &str = "TBW102";

/// Held by whichever RocketMQ test runs.
static TURN: Mutex<()> = Mutex::new(());

/// A reader of one topic, and the broker's stop and start.
pub struct RocketMq {
    // Dropped first: the reader stops, then the turn is released.
    _reader: Reader,
    broker: BrokerProcess,
    _turn: MutexGuard<'static, ()>,
}

impl RocketMq {
    /// Waits for this test's turn with the one broker.
    pub fn take_turn() -> MutexGuard<'static, ()> {
        TURN.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A reader of `topic`, which exists on the broker or is created there now.
    pub fn consume(turn: MutexGuard<'static, ()>, topic: &str) -> (Self, Receiver<Got>) {
        BrokerProcess.start();
        let (tx, rx) = channel();
        let reader = Reader::start(topic, tx);
        let witness = RocketMq {
            _reader: reader,
            broker: BrokerProcess,
            _turn: turn,
        };
        (witness, rx)
    }
}

/// A thread with its own RocketMQ client that forwards every message of a topic, each
/// queue read in offset order, until dropped. A pull that fails (the broker stopped) is
/// tried again from the same offset.
struct Reader {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Reader {
    fn start(topic: &str, tx: Sender<Got>) -> Self {
        let (owner, client) = client_runtime("witness");
        let consumer = owner.block_on(async {
            ensure_topic(&client, topic).await;
            let consumer = DefaultMQPullConsumer::builder(Arc::clone(&client))
                .consumer_group(format!("{topic}_witness"))
                .name_server_addr(NAMESRV)
                .build()
                .expect("a pull consumer");
            consumer.start().await.expect("start the pull consumer");
            consumer
        });
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let topic = topic.to_string();
        let thread = std::thread::spawn(move || {
            owner.block_on(async {
                let queues = consumer
                    .fetch_subscribe_message_queues(&topic)
                    .await
                    .expect("the topic's queues");
                let mut offsets = vec![0i64; queues.len()];
                while !stopped.load(Ordering::Relaxed) {
                    let mut found = false;
                    for (mq, offset) in queues.iter().zip(offsets.iter_mut()) {
                        let Ok(pulled) = consumer.pull(mq, "*", *offset, 32).await else {
                            continue;
                        };
                        for m in pulled.msg_found_list().unwrap_or_default() {
                            found = true;
                            let _ = tx.send(got(m));
                        }
                        *offset = i64::try_from(pulled.next_begin_offset())
                            .unwrap_or(*offset)
                            .max(*offset);
                    }
                    if !found {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                let _ = consumer.shutdown().await;
            });
            drop(client);
            drop(owner);
        });
        Reader {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A RocketMQ client and the runtime it runs on, which the caller drops last.
pub fn client_runtime(component: &'static str) -> (RuntimeOwner, Arc<ClientRuntime>) {
    let owner = RuntimeOwner::new().expect("rocketmq client runtime");
    let client = ClientRuntime::try_new(
        owner.root_context().component(component),
        ClientRuntimeConfig::default(),
        TelemetryHandle::noop(),
    )
    .expect("rocketmq client");
    (owner, client)
}

/// Creates `topic` unless a route to it exists, then waits until the name server routes
/// it: a broker registers with the name server when it starts and only every 30 s after.
async fn ensure_topic(client: &Arc<ClientRuntime>, topic: &str) {
    let mut admin = DefaultMQProducer::builder(Arc::clone(client))
        .producer_group(format!("{topic}_admin"))
        .name_server_addr(NAMESRV)
        .build();
    admin.start().await.expect("start the admin producer");
    let until = Instant::now() + Duration::from_secs(45);
    loop {
        let routed = admin.fetch_publish_message_queues(topic).await;
        if routed.as_ref().is_ok_and(|queues| !queues.is_empty()) {
            break;
        }
        let created = admin
            .create_topic(CREATE_TOPIC_KEY, topic, 4, HashMap::new())
            .await;
        assert!(
            Instant::now() < until,
            "no route to topic {topic} within 45 s: {routed:?} {created:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    admin.shutdown().await;
}

/// A message as the tests read it.
fn got(m: &MessageExt) -> Got {
    let mut props = BTreeMap::new();
    for name in ["tag", "taskid", "fire_time", "fire_id", "attempt"] {
        if let Some(v) = m.get_user_property(name) {
            props.insert(name.to_string(), v.to_string());
        }
    }
    props.insert("keys".into(), m.keys().unwrap_or_default().join(" "));
    // The producer's id of the message (the consumer's msg id is the broker's).
    let uniq = m.property("UNIQ_KEY").unwrap_or_default();
    props.insert("uniq_key".into(), uniq.to_string());
    Got {
        key: m.tags().unwrap_or_default().to_string(),
        props,
        body: m.body().map(|b| b.to_vec()).unwrap_or_default(),
        extra: Some(m.msg_id().to_string()),
    }
}

/// The broker scripts/rocketmq.sh runs: stopped to cut, started again to restore.
pub struct BrokerProcess;

impl BrokerProcess {
    fn script(args: &[&str]) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/rocketmq.sh");
        let status = std::process::Command::new(script)
            .args(args)
            .status()
            .expect("run scripts/rocketmq.sh");
        assert!(status.success(), "scripts/rocketmq.sh {args:?}: {status}");
    }

    /// Starts the name server and broker where they are down.
    pub fn start(&self) {
        Self::script(&[]);
    }
}

impl Switch for BrokerProcess {
    fn set_open(&self, open: bool) {
        if open {
            self.start();
        } else {
            Self::script(&["stop-broker"]);
        }
    }
}

impl Broker for RocketMq {
    const KIND: &'static str = "rocketmq";

    fn start(_: &Runtime, topic: &str) -> (Self, Receiver<Got>) {
        Self::consume(Self::take_turn(), topic)
    }

    fn publisher_url(&self) -> String {
        format!("rocketmq://{NAMESRV}?group=taskcenter_test")
    }

    fn switch(&self) -> &dyn Switch {
        &self.broker
    }
}

//! RocketMQ in W5 (cargo feature `rocketmq`): a topic of 4 queues created on the machine's
//! broker (scripts/rocketmq.sh) and routed by its name server before anything is sent, the
//! ceiling loop with rocketmq-client-rust's `DefaultMQProducer` (the relay's messages: tag =
//! task name, keys = task id, body = data, the properties as user properties; a batch's
//! sends side by side, each awaited for SEND_OK), and as witness the broker's store itself.
//!
//! This client refuses most of 4,096 sends started at once ("transport admission queue is
//! saturated": its transport queues at most 1,024 requests per connection), so the ceiling,
//! like the relay's publisher, keeps at most [`SEND_WINDOW`] of a batch's sends in flight;
//! any window from 64 to 512 gave the same rate here.
//!
//! The witness reads the topic back with the client's classic pull consumer, every queue
//! by offset from 0 to its max offset, and takes each message's store timestamp (the
//! millisecond the broker appended it to its commit log) as its arrival. It pulls by offset
//! rather than through a push consumer because the push consumer sometimes stops pulling
//! one of a topic's queues (see the publisher tests' witness); and the count is the sum of
//! the queues' max offsets, which on a fresh topic is the number of messages stored.
//!
//! Like the publisher, the client runs on a thread of its own with a one-worker runtime of
//! its own; this side hands it jobs over a channel. The topic outlives the run: deleting it
//! takes the client's `admin-mutation` feature, which the publisher does not build (topics
//! are per run, named by pid and time).

// The classic pull consumer reads a queue by offset with no group offsets or rebalancing in
// the way: what a witness of everything stored needs (the tests' witness does the same).
#![allow(deprecated)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail, ensure};
use futures_util::future::try_join_all;
use futures_util::{StreamExt, TryStreamExt};
use rocketmq_client_rust::{
    ClientResult, ClientRuntime, ClientRuntimeConfig, DefaultMQProducer, DefaultMQPullConsumer,
    PullStatus, SendStatus, TelemetryHandle,
};
use rocketmq_model::common::message::message_queue::MessageQueue;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_runtime::{RuntimeConfig, RuntimeOwner};
use tokio::sync::{mpsc, oneshot};

use super::broker::{Broker, Fire};

/// The name server scripts/rocketmq.sh runs.
pub const NAMESRV: &str = "127.0.0.1:9876";

/// The topic every broker creates topics from.
const CREATE_TOPIC_KEY: &str = "TBW102";

/// Queues of the topic: what the tests create and the producer's default.
const QUEUES: i32 = 4;

/// How long one send may take: the relay's default `--publish-timeout`.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the name server may take to route a new topic: a broker registers its topics
/// when it starts and every 30 s after.
const ROUTE_WAIT: Duration = Duration::from_secs(45);

/// Sends in flight at once: the client's transport queues at most 1,024 requests per
/// connection and refuses the rest at once (a window of 1,024 was refused too).
const SEND_WINDOW: usize = 512;

/// Messages asked for per pull (the broker's cap for a pull from memory).
const PULL_MAX: i32 = 32;

/// How long the witness tries a query again before it gives up: the machine's broker may
/// be restarting (the publisher tests stop and start it).
const RETRY_FOR: Duration = Duration::from_secs(15);

/// A job for the client thread, answered on its oneshot.
enum Job {
    Publish(Vec<Fire>, oneshot::Sender<anyhow::Result<()>>),
    Count(oneshot::Sender<anyhow::Result<usize>>),
    Arrivals(oneshot::Sender<anyhow::Result<Vec<i64>>>),
}

pub struct RocketMq {
    jobs: mpsc::Sender<Job>,
    /// Answered once the client thread has shut its producer and consumer down.
    done: oneshot::Receiver<()>,
}

impl RocketMq {
    async fn ask<T>(&self, job: impl FnOnce(oneshot::Sender<T>) -> Job) -> anyhow::Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(job(tx))
            .await
            .map_err(|_| anyhow!("rocketmq client thread has stopped"))?;
        rx.await
            .map_err(|_| anyhow!("rocketmq client thread dropped the job"))
    }
}

impl Broker for RocketMq {
    const NAME: &'static str = "rocketmq";

    async fn open(topic: &str) -> anyhow::Result<Self> {
        let (jobs, rx) = mpsc::channel(1);
        let (ready_tx, ready) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        let topic = topic.to_string();
        std::thread::Builder::new()
            .name("rocketmq-client".into())
            .spawn(move || {
                run(&topic, rx, ready_tx);
                let _ = done_tx.send(());
            })?;
        ready
            .await
            .map_err(|_| anyhow!("rocketmq client thread ended before it was ready"))??;
        Ok(Self { jobs, done })
    }

    fn publisher_url(&self) -> String {
        format!("rocketmq://{NAMESRV}")
    }

    async fn publish_batch(&self, batch: &[Fire]) -> anyhow::Result<()> {
        // Copied for the client thread, as the publisher copies the relay's batch.
        self.ask(|tx| Job::Publish(batch.to_vec(), tx)).await?
    }

    async fn count(&self) -> anyhow::Result<usize> {
        self.ask(Job::Count).await?
    }

    async fn arrivals(&self) -> anyhow::Result<Vec<i64>> {
        self.ask(Job::Arrivals).await?
    }

    async fn close(self) -> anyhow::Result<()> {
        drop(self.jobs);
        tokio::time::timeout(Duration::from_secs(30), self.done)
            .await
            .context("rocketmq client thread did not stop within 30 s")?
            .map_err(|_| anyhow!("rocketmq client thread ended without stopping"))
    }
}

/// The client thread: its runtime, one client, then the jobs until every sender is gone.
fn run(topic: &str, mut jobs: mpsc::Receiver<Job>, ready: oneshot::Sender<anyhow::Result<()>>) {
    // One worker, as the publisher's: the client only waits on sockets.
    let config = RuntimeConfig::for_parallelism("rocketmq-client", 1);
    let owner = match RuntimeOwner::plan(config)
        .map_err(|e| anyhow!("{e}"))
        .and_then(|plan| plan.build().map_err(|e| anyhow!("{e}")))
    {
        Ok(owner) => owner,
        Err(e) => {
            let _ = ready.send(Err(e.context("rocketmq client runtime")));
            return;
        }
    };
    let root = owner.root_context();
    owner.block_on(async move {
        let client = match ClientRuntime::try_new(
            root.component("w5-rocketmq"),
            ClientRuntimeConfig::default(),
            TelemetryHandle::noop(),
        ) {
            Ok(client) => client,
            Err(e) => {
                let _ = ready.send(Err(anyhow!("rocketmq client: {e}")));
                return;
            }
        };
        let opened = Box::pin(Client::open(&client, topic)).await;
        let c = match opened {
            Ok(c) => {
                let _ = ready.send(Ok(()));
                c
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                client.shutdown().await;
                return;
            }
        };
        while let Some(job) = jobs.recv().await {
            match job {
                Job::Publish(batch, tx) => {
                    let _ = tx.send(c.publish(&batch).await);
                }
                Job::Count(tx) => {
                    let _ = tx.send(c.count().await);
                }
                Job::Arrivals(tx) => {
                    let _ = tx.send(c.arrivals().await);
                }
            }
        }
        Box::pin(c.shutdown()).await;
        client.shutdown().await;
    });
    owner.shutdown_background();
}

/// The producer and the witness of one topic, on the client thread.
struct Client {
    topic: String,
    producer: DefaultMQProducer,
    witness: DefaultMQPullConsumer,
    queues: Vec<MessageQueue>,
}

impl Client {
    async fn open(client: &Arc<ClientRuntime>, topic: &str) -> anyhow::Result<Self> {
        let mut producer = DefaultMQProducer::builder(Arc::clone(client))
            .name_server_addr(NAMESRV)
            .producer_group(format!("{topic}_bench"))
            .send_msg_timeout(u32::try_from(SEND_TIMEOUT.as_millis())?)
            .build();
        producer
            .start()
            .await
            .map_err(|e| anyhow!("rocketmq producer start: {e}"))?;
        ensure_topic(&mut producer, topic).await?;
        let witness = DefaultMQPullConsumer::builder(Arc::clone(client))
            .consumer_group(format!("{topic}_witness"))
            .name_server_addr(NAMESRV)
            .build()
            .map_err(|e| anyhow!("rocketmq pull consumer: {e}"))?;
        witness
            .start()
            .await
            .map_err(|e| anyhow!("rocketmq pull consumer start: {e}"))?;
        let queues = witness
            .fetch_subscribe_message_queues(topic)
            .await
            .map_err(|e| anyhow!("rocketmq queues of {topic}: {e}"))?;
        ensure!(!queues.is_empty(), "rocketmq topic {topic} has no queues");
        Ok(Self {
            topic: topic.into(),
            producer,
            witness,
            queues,
        })
    }

    /// The relay's way: the batch's messages sent side by side, each awaited for SEND_OK,
    /// but at most [`SEND_WINDOW`] at once.
    async fn publish(&self, batch: &[Fire]) -> anyhow::Result<()> {
        futures_util::stream::iter(batch)
            .map(|m| self.send(m))
            .buffer_unordered(SEND_WINDOW)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn send(&self, m: &Fire) -> anyhow::Result<()> {
        let message = message(&self.topic, m)?;
        let timeout = u64::try_from(SEND_TIMEOUT.as_millis())?;
        let sent = tokio::time::timeout(
            SEND_TIMEOUT,
            self.producer.send_with_timeout(message, timeout),
        )
        .await
        .map_err(|_| anyhow!("rocketmq send timed out"))?
        .map_err(|e| anyhow!("rocketmq send: {e}"))?
        .context("rocketmq send: no send result")?;
        ensure!(
            sent.send_status == SendStatus::SendOk,
            "rocketmq send status {:?}",
            sent.send_status
        );
        ensure!(
            sent.msg_id.is_some(),
            "rocketmq send: SEND_OK without a msg id"
        );
        Ok(())
    }

    /// Messages stored: a fresh topic's queues start at offset 0.
    async fn count(&self) -> anyhow::Result<usize> {
        let mut n = 0;
        for mq in &self.queues {
            n += usize::try_from(self.max_offset(mq).await?)?;
        }
        Ok(n)
    }

    async fn max_offset(&self, mq: &MessageQueue) -> anyhow::Result<i64> {
        retrying("max offset", || self.witness.max_offset(mq)).await
    }

    /// Every queue read from offset 0 to its max offset, side by side.
    async fn arrivals(&self) -> anyhow::Result<Vec<i64>> {
        let read = try_join_all(self.queues.iter().map(|mq| self.read_queue(mq))).await?;
        Ok(read.concat())
    }

    async fn read_queue(&self, mq: &MessageQueue) -> anyhow::Result<Vec<i64>> {
        let end = self.max_offset(mq).await?;
        let mut out = Vec::with_capacity(usize::try_from(end)?);
        let mut offset = 0i64;
        while offset < end {
            let pulled = retrying("pull", || self.witness.pull(mq, "*", offset, PULL_MAX)).await?;
            match pulled.pull_status() {
                PullStatus::Found => {}
                PullStatus::NoNewMsg | PullStatus::NoMatchedMsg => break,
                PullStatus::OffsetIllegal => bail!("rocketmq pull: offset {offset} illegal"),
            }
            for m in pulled.msg_found_list().unwrap_or_default() {
                let at = m.store_timestamp();
                ensure!(at > 0, "rocketmq message without a store timestamp");
                out.push(at);
            }
            let next = i64::try_from(pulled.next_begin_offset())?;
            ensure!(
                next > offset,
                "rocketmq pull: no progress at offset {offset}"
            );
            offset = next;
        }
        Ok(out)
    }

    async fn shutdown(mut self) {
        let _ = self.witness.shutdown().await;
        self.producer.shutdown().await;
    }
}

/// `op`'s answer, asked again after a pause while it fails, for up to [`RETRY_FOR`].
async fn retrying<T, F>(what: &str, mut op: impl FnMut() -> F) -> anyhow::Result<T>
where
    F: Future<Output = ClientResult<T>>,
{
    let until = Instant::now() + RETRY_FOR;
    loop {
        match op().await {
            Ok(answer) => return Ok(answer),
            Err(e) if Instant::now() >= until => bail!("rocketmq {what}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Creates `topic` unless a route to it exists, then waits until the name server routes
/// it (as the publisher tests' witness does).
async fn ensure_topic(admin: &mut DefaultMQProducer, topic: &str) -> anyhow::Result<()> {
    let until = Instant::now() + ROUTE_WAIT;
    loop {
        let routed = admin.fetch_publish_message_queues(topic).await;
        if routed.as_ref().is_ok_and(|queues| !queues.is_empty()) {
            return Ok(());
        }
        let created = admin
            .create_topic(CREATE_TOPIC_KEY, topic, QUEUES, HashMap::new())
            .await;
        if Instant::now() >= until {
            bail!(
                "no route to rocketmq topic {topic} within {} s: {:?} {:?}",
                ROUTE_WAIT.as_secs(),
                routed.err().map(|e| e.to_string()),
                created.err().map(|e| e.to_string())
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The fire as the publisher sends it: tag = name, keys = task id, body = data, and the
/// properties as user properties.
fn message(topic: &str, m: &Fire) -> anyhow::Result<Message> {
    let mut builder = Message::builder()
        .topic(topic)
        .tags(m.tag.as_str())
        .key(m.taskid.as_str())
        .body_slice(m.data.as_bytes());
    for (name, value) in m.properties() {
        builder = builder
            .raw_property(name, value)
            .map_err(|e| anyhow!("rocketmq message: {e}"))?;
    }
    builder
        .build()
        .map_err(|e| anyhow!("rocketmq message: {e}"))
}

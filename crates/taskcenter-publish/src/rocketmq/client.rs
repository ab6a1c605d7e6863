//! The thread the RocketMQ client runs on: its own runtime, one client and producer started
//! on the first batch (and again after a start that failed or a batch of which nothing was
//! sent), each batch's messages sent side by side and each answered on its own oneshot.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;
use rocketmq_client_rust::{
    AclClientRPCHook, ClientConfig, ClientRuntime, ClientRuntimeConfig, DefaultMQProducer,
    SendStatus, SessionCredentials, TelemetryHandle,
};
use rocketmq_model::common::message::message_single::Message;
use rocketmq_runtime::{ChildServiceContext, RuntimeConfig, RuntimeOwner, ScopeId};
use tokio::sync::mpsc;

use super::{Batch, Endpoint};
use crate::{OutMessage, PublishError, PublishResult};

/// Batches waiting for the thread; the relay sends one at a time.
const QUEUED_BATCHES: usize = 4;

/// Starts the thread; it ends once every sender of the returned channel is gone.
pub(super) fn spawn(
    endpoint: Endpoint,
    topic: String,
    timeout: Duration,
) -> std::io::Result<mpsc::Sender<Batch>> {
    let (tx, rx) = mpsc::channel(QUEUED_BATCHES);
    std::thread::Builder::new()
        .name("rocketmq-client".into())
        .spawn(move || {
            run(
                Sender {
                    endpoint,
                    topic,
                    timeout,
                },
                rx,
            )
        })?;
    Ok(tx)
}

/// Sends of a batch awaiting the broker at once. The client refuses requests beyond 1,024
/// in flight on a connection ("transport admission queue is saturated"), which a batch of
/// thousands sent all at once hit; 64, 256 and 512 in flight published equally fast.
const SENDS_IN_FLIGHT: usize = 512;

/// What the thread publishes to, and how long one send may take.
struct Sender {
    endpoint: Endpoint,
    topic: String,
    timeout: Duration,
}

fn run(sender: Sender, mut rx: mpsc::Receiver<Batch>) {
    let owner = match build_runtime() {
        Ok(owner) => owner,
        Err(e) => {
            tracing::error!("rocketmq client runtime: {e}");
            // Nothing can be sent: every batch is answered so, until the publisher is gone.
            while let Some(batch) = rx.blocking_recv() {
                batch.answer_all(&PublishError::unavailable(format!(
                    "rocketmq client runtime: {e}"
                )));
            }
            return;
        }
    };
    let root = owner.root_context();
    owner.block_on(async move {
        let mut connection: Option<Connection> = None;
        // A client that was shut down closes its context for good: each one gets its own.
        let mut connections = 0u64;
        while let Some(batch) = rx.recv().await {
            if connection.is_none() {
                connections += 1;
                let scope = ScopeId::try_new(format!("taskcenter-publisher-{connections}"))
                    .map_err(|e| PublishError::unavailable(format!("rocketmq client scope: {e}")));
                let connected = match scope {
                    Ok(scope) => Box::pin(sender.connect(root.component(scope))).await,
                    Err(e) => Err(e),
                };
                match connected {
                    Ok(started) => connection = Some(started),
                    Err(e) => {
                        batch.answer_all(&e);
                        continue;
                    }
                }
            }
            let Some(c) = connection.as_ref() else {
                continue;
            };
            let results: Vec<PublishResult> = stream::iter(&batch.messages)
                .map(|m| sender.send(&c.producer, m))
                .buffered(SENDS_IN_FLIGHT)
                .collect()
                .await;
            // A client that could send none of a batch may be stuck on a broker that went
            // away and came back (its connections and circuit breakers keep the old state):
            // the next batch gets a new one.
            let none_sent = results
                .iter()
                .all(|r| matches!(r, Err(PublishError::Unavailable { .. })));
            for (reply, result) in batch.replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
            if none_sent && let Some(c) = connection.take() {
                Box::pin(c.shutdown()).await;
            }
        }
        if let Some(c) = connection {
            Box::pin(c.shutdown()).await;
        }
    });
    owner.shutdown_background();
}

fn build_runtime() -> Result<RuntimeOwner, String> {
    // One worker: the client only waits on sockets.
    let config = RuntimeConfig::for_parallelism("rocketmq-client", 1);
    RuntimeOwner::plan(config)
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())
}

impl Batch {
    fn answer_all(self, e: &PublishError) {
        for reply in self.replies {
            let _ = reply.send(Err(e.clone()));
        }
    }
}

/// A client runtime and the producer started on it.
struct Connection {
    client: Arc<ClientRuntime>,
    producer: DefaultMQProducer,
}

impl Connection {
    async fn shutdown(self) {
        let Connection {
            client,
            mut producer,
        } = self;
        producer.shutdown().await;
        client.shutdown().await;
    }
}

impl Sender {
    async fn connect(&self, context: ChildServiceContext) -> Result<Connection, PublishError> {
        let client = ClientRuntime::try_new(
            context,
            ClientRuntimeConfig::default(),
            TelemetryHandle::noop(),
        )
        .map_err(|e| PublishError::unavailable(format!("rocketmq client: {e}")))?;
        match self.start(&client).await {
            Ok(producer) => Ok(Connection { client, producer }),
            Err(e) => {
                client.shutdown().await;
                Err(e)
            }
        }
    }

    async fn start(&self, client: &Arc<ClientRuntime>) -> Result<DefaultMQProducer, PublishError> {
        let e = &self.endpoint;
        let mut config = ClientConfig::default();
        if let Some(name) = &e.instance_name {
            config.set_instance_name(name.as_str().into());
        }
        let mut builder = DefaultMQProducer::builder(Arc::clone(client))
            .client_config(config)
            .name_server_addr(e.name_servers.as_str())
            .producer_group(e.group.as_str())
            .send_msg_timeout(millis(self.timeout));
        if let Some((access, secret)) = &e.credentials {
            let keys = SessionCredentials::with_keys(access.as_str(), secret.as_str());
            builder = builder.rpc_hook(Arc::new(AclClientRPCHook::new(keys)));
        }
        let mut producer = builder.build();
        producer
            .start()
            .await
            .map_err(|e| PublishError::unavailable(format!("rocketmq producer start: {e}")))?;
        Ok(producer)
    }

    async fn send(&self, producer: &DefaultMQProducer, m: &OutMessage) -> PublishResult {
        let message = message(&self.topic, m)?;
        let sending = producer.send_with_timeout(message, u64::from(millis(self.timeout)));
        let sent = tokio::time::timeout(self.timeout, sending)
            .await
            .map_err(|_| PublishError::unavailable("rocketmq send timed out"))?
            .map_err(|e| PublishError::unavailable(format!("rocketmq send: {e}")))?
            .ok_or_else(|| PublishError::unavailable("rocketmq send: no send result"))?;
        if sent.send_status != SendStatus::SendOk {
            return Err(PublishError::unavailable(format!(
                "rocketmq send status {:?}",
                sent.send_status
            )));
        }
        sent.msg_id
            .map(|id| id.to_string())
            .ok_or_else(|| PublishError::unavailable("rocketmq send: SEND_OK without a msg id"))
    }
}

/// The fire as a message: tag = name, keys = task id, body = data, and the properties.
fn message(topic: &str, m: &OutMessage) -> Result<Message, PublishError> {
    let refused =
        |e: &dyn std::fmt::Display| PublishError::Refused(format!("rocketmq message: {e}"));
    let mut builder = Message::builder()
        .topic(topic)
        .tags(m.tag.as_str())
        .key(m.taskid.as_str())
        .body_slice(m.data.as_bytes());
    for (name, value) in m.properties() {
        builder = builder.raw_property(name, value).map_err(|e| refused(&e))?;
    }
    builder.build().map_err(|e| refused(&e))
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

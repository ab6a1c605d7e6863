//! The thread the RocketMQ client runs on: the client brings its own runtime, so one thread
//! per session owns it, starts the group's push consumer on it and then sends messages back
//! to the broker on the session's behalf until the session and every message it handed out
//! are gone; then it shuts the consumer down (its offsets committed) and ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rocketmq_client_rust::{
    AclClientRPCHook, ClientRuntime, ClientRuntimeConfig, DefaultMQProducer, DefaultMQPushConsumer,
    MQPushConsumer, SessionCredentials, TelemetryHandle,
};
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_runtime::{RuntimeConfig, RuntimeOwner, ScopeId};
use tokio::sync::{mpsc, oneshot};

use super::super::BrokerError;
use super::bridge::{Bridge, Incoming, Verdict};
use crate::consumer::config::RocketMqKeys;

/// The topic a broker creates new topics from.
const CREATE_TOPIC_KEY: &str = "TBW102";

/// Queues of a topic the consumer creates: the broker's default for a topic created by a send.
const TOPIC_QUEUES: i32 = 4;

/// Queues of the group's retry topic: what the broker gives it (`retryQueueNums`).
const RETRY_QUEUES: i32 = 1;

/// How long the consumer waits for the name server to route a topic it created.
const ROUTE_WAIT: Duration = Duration::from_secs(20);

/// How long a handler may hold its message (RocketMQ's `consumeTimeout`): after that the
/// push consumer sends the message back for a retry, whatever the handler does.
const HANDLER_LIMIT_MINUTES: u64 = 15;

/// How long a shutdown waits for the push consumer to finish what it was settling.
const SETTLE_ON_SHUTDOWN: Duration = Duration::from_secs(5);

/// What the consumer is set up with.
pub(super) struct Setup {
    pub name_servers: String,
    pub topic: String,
    pub group: String,
    /// `*` or the tags joined by `||` without spaces (with spaces the broker matches none).
    pub expression: String,
    pub concurrency: usize,
    /// The group's last reconsume: a send-back of a message reconsumed this often goes to
    /// the dead-letter topic.
    pub max_reconsume: i32,
    /// The ACL keys requests are signed with, if the broker checks them.
    pub keys: Option<RocketMqKeys>,
}

impl Setup {
    /// The hook that signs requests with the ACL keys, if there are any.
    fn acl_hook(&self) -> Option<Arc<AclClientRPCHook>> {
        let keys = self.keys.as_ref()?;
        let credentials =
            SessionCredentials::with_keys(keys.access_key.as_str(), keys.secret_key.as_str());
        Some(Arc::new(AclClientRPCHook::new(credentials)))
    }
}

/// A message to send back to the broker with `level`. Once it is sent, the push consumer
/// is told it was consumed; if it cannot be, the push consumer sends it back itself.
pub(super) struct SendBack {
    pub message: MessageExt,
    pub level: i32,
    pub verdict: oneshot::Sender<Verdict>,
    /// Where the result goes, if anyone waits for it.
    pub done: Option<oneshot::Sender<Result<(), String>>>,
}

/// A started consumer: its messages, and the way to send them back.
pub(super) struct Started {
    pub incoming: mpsc::Receiver<Incoming>,
    pub send_back: mpsc::Sender<SendBack>,
}

/// Starts the thread; the answer says whether the consumer started.
pub(super) fn spawn(
    setup: Setup,
) -> Result<oneshot::Receiver<Result<Started, BrokerError>>, BrokerError> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("rocketmq-consumer".into())
        .spawn(move || run(setup, tx))
        .map_err(|e| BrokerError::new("rocketmq client thread", e))?;
    Ok(rx)
}

fn run(setup: Setup, started: oneshot::Sender<Result<Started, BrokerError>>) {
    let owner = match build_runtime(setup.concurrency) {
        Ok(owner) => owner,
        Err(e) => {
            let _ = started.send(Err(BrokerError(format!("rocketmq client runtime: {e}"))));
            return;
        }
    };
    let root = owner.root_context();
    owner.block_on(async move {
        let context = match ScopeId::try_new(format!("taskcenter-consumer-{}", setup.group)) {
            Ok(scope) => root.component(scope),
            Err(_) => root.component(ScopeId::from("taskcenter-consumer")),
        };
        let client = match ClientRuntime::try_new(
            context,
            ClientRuntimeConfig::default(),
            TelemetryHandle::noop(),
        ) {
            Ok(client) => client,
            Err(e) => {
                let _ = started.send(Err(BrokerError::new("rocketmq client", e)));
                return;
            }
        };
        let (to_session, incoming) = mpsc::channel(setup.concurrency.max(1));
        let mut consumer = match start(&client, &setup, Bridge { to_session }).await {
            Ok(consumer) => consumer,
            Err(e) => {
                let _ = started.send(Err(e));
                client.shutdown().await;
                return;
            }
        };
        let (send_back, mut requests) = mpsc::channel::<SendBack>(setup.concurrency.max(1) * 2);
        if started
            .send(Ok(Started {
                incoming,
                send_back,
            }))
            .is_ok()
        {
            while let Some(r) = requests.recv().await {
                let broker = r.message.broker_name().to_string();
                let sent = consumer
                    .send_message_back(r.message, r.level, &broker)
                    .await
                    .map_err(|e| e.to_string());
                let _ = r.verdict.send(match sent {
                    Ok(()) => Verdict::Done,
                    Err(_) => Verdict::Later,
                });
                if let Some(done) = r.done {
                    let _ = done.send(sent);
                }
            }
        }
        consumer.shutdown().await;
        client.shutdown().await;
    });
    owner.shutdown_background();
}

/// A runtime whose blocking lane holds every listener waiting for its handler's verdict,
/// for as long as a handler may take, with room for the client's own blocking work.
fn build_runtime(concurrency: usize) -> Result<RuntimeOwner, String> {
    let mut config = RuntimeConfig::for_parallelism("rocketmq-consumer", 1);
    let lane = concurrency.max(1) + 4;
    config.max_blocking_threads = config.max_blocking_threads.max(lane);
    let io = &mut config.blocking_lane_policies.metadata_io;
    io.max_concurrency = lane;
    io.max_queue_depth = io.max_queue_depth.max(lane * 2);
    io.task_timeout = Duration::from_secs(HANDLER_LIMIT_MINUTES * 60 + 60);
    RuntimeOwner::plan(config)
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())
}

/// Makes sure the topic and the group's retry topic are routed, then starts the push
/// consumer: one message per listener call, as many calls at once as handlers may run, a
/// new group from the oldest message the topic holds.
async fn start(
    client: &Arc<ClientRuntime>,
    setup: &Setup,
    bridge: Bridge,
) -> Result<DefaultMQPushConsumer, BrokerError> {
    let retry_topic = format!("%RETRY%{}", setup.group);
    ensure_routes(
        client,
        setup,
        &[(&setup.topic, TOPIC_QUEUES), (&retry_topic, RETRY_QUEUES)],
    )
    .await;
    let threads = u32::try_from(setup.concurrency.max(1)).unwrap_or(u32::MAX);
    let mut consumer = DefaultMQPushConsumer::builder(Arc::clone(client))
        .consumer_group(setup.group.as_str())
        .name_server_addr(setup.name_servers.as_str())
        .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset)
        .consume_thread_min(threads)
        .consume_thread_max(threads)
        .consume_message_batch_max_size(1)
        .max_reconsume_times(setup.max_reconsume)
        .consume_timeout(HANDLER_LIMIT_MINUTES)
        .await_termination_millis_when_shutdown(millis(SETTLE_ON_SHUTDOWN))
        .rpc_hook(setup.acl_hook().map(|hook| hook as _))
        .build();
    consumer
        .subscribe(setup.topic.as_str(), setup.expression.as_str())
        .await
        .map_err(|e| BrokerError::new("rocketmq subscribe", e))?;
    consumer.register_message_listener_concurrently(bridge);
    consumer
        .start()
        .await
        .map_err(|e| BrokerError::new("rocketmq consumer start", e))?;
    Ok(consumer)
}

/// Creates each topic that has no route yet and waits (a while) for the name server to
/// route it: a consumer that starts before its topics are routed only learns of them at
/// its next poll of the name server, half a minute later. Creating the topic first is what
/// the server's first send does too; a broker that refuses is left to that send.
async fn ensure_routes(client: &Arc<ClientRuntime>, setup: &Setup, topics: &[(&str, i32)]) {
    let mut admin = DefaultMQProducer::builder(Arc::clone(client))
        .producer_group(format!("{}_setup", setup.group))
        .name_server_addr(setup.name_servers.as_str());
    if let Some(hook) = setup.acl_hook() {
        admin = admin.rpc_hook(hook);
    }
    let mut admin = admin.build();
    if let Err(e) = admin.start().await {
        tracing::warn!(error = %e, "rocketmq: cannot check the topics' routes");
        return;
    }
    for (topic, queues) in topics {
        let until = Instant::now() + ROUTE_WAIT;
        let mut created = false;
        loop {
            let routed = admin.fetch_publish_message_queues(topic).await;
            if routed.as_ref().is_ok_and(|q| !q.is_empty()) {
                break;
            }
            if !created {
                match admin
                    .create_topic(CREATE_TOPIC_KEY, topic, *queues, HashMap::new())
                    .await
                {
                    Ok(()) => created = true,
                    Err(e) => {
                        tracing::warn!(topic, error = %e, "rocketmq: cannot create the topic");
                        break;
                    }
                }
            }
            if Instant::now() >= until {
                tracing::warn!(
                    topic,
                    "rocketmq: the name server does not route the topic yet"
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    admin.shutdown().await;
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

//! The consumer: [`Client`] registers async handlers by tag expression, takes messages
//! from the built-in queue (`runner`) or a broker (`broker`), acks what succeeds and
//! retries what fails.

mod backoff;
mod broker;
pub(crate) mod config;
mod dedup;
mod handlers;
mod keep_alive;
mod routes;
mod runner;
mod settle;
mod slots;
mod transport;

use std::collections::HashSet;
use std::fmt::Display;
use std::future::Future;
use std::sync::{Arc, Mutex};

use taskcenter_api::Message;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::ApiClient;
use crate::error::ClientError;
use broker::Plan;
use broker::runner::BrokerRunner;
pub use config::{Config, DEFAULT_SERVER, DEFAULT_TOPIC, RocketMqKeys};
pub use dedup::{RecentFires, SeenFires};
use keep_alive::Running;
use routes::{HandlerFn, Route, message_style, parse_tags, seed_style};
use runner::Runner;
use taskcenter_core::TagFilter;
pub use transport::Transport;

/// A consumer of the built-in queue or of a broker, as [`Config::transport`] says (the
/// explicit style: `Client::new`, `register`, `start`). The handlers do not depend on the
/// transport.
///
/// Register handlers with [`register`](Self::register), then [`start`](Self::start) it;
/// it runs in the background on the current tokio runtime until
/// [`release`](Self::release). Cheap to clone: clones are handles on one consumer.
///
/// - A handler gets `(taskid, data, msgid)` and returns `Result<(), E>`. `Ok` acks the
///   message; `Err` (or a panic) nacks it and the server redelivers it after its retry
///   ladder's delay, with `attempt` one higher, until it goes to the dead letters.
/// - Tag expressions: `"tag"`, `"tag1 || tag2"`, or `"*"` for every tag. The consumer
///   subscribes to the union of its handlers' tags and runs, for each message, every
///   handler whose expression matches the message's tag.
/// - At most [`Config::concurrency`] handlers run at once.
/// - While the server is down or restarting, the consumer keeps trying with backoff;
///   messages are acked only after their handlers succeed, and a redelivery of a message
///   still in hand is not run twice.
///
/// ```no_run
/// use taskcenter_client::{Client, Config};
///
/// #[tokio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let client = Client::new(Config::new("http://127.0.0.1:8081").with_group("mailer"))?;
///     client.register("mail.send || mail.retry", |taskid, data, msgid| async move {
///         println!("task {taskid} message {msgid}: {data}");
///         Ok::<(), std::io::Error>(())
///     })?;
///     client.start()?;
///     tokio::signal::ctrl_c().await?;
///     client.release().await; // finishes the handlers in flight
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    api: ApiClient,
    config: Config,
    state: Mutex<State>,
}

enum State {
    Idle(Vec<Route>),
    Running(CancellationToken, JoinHandle<()>),
    Released,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("running", &self.is_running())
            .finish()
    }
}

impl Client {
    /// A consumer of the server in `config`; nothing is contacted until
    /// [`start`](Self::start).
    pub fn new(config: Config) -> Result<Self, ClientError> {
        let mut api = ApiClient::new(&config.server)?.with_client_id(config.client_id.clone());
        if let Some(token) = &config.token {
            api = api.with_token(token.clone());
        }
        Ok(Self {
            inner: Arc::new(Inner {
                api,
                config,
                state: Mutex::new(State::Idle(Vec::new())),
            }),
        })
    }

    /// The API client this consumer uses, for adding tasks and the like.
    pub fn api(&self) -> &ApiClient {
        &self.inner.api
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Registers `handler(taskid, data, msgid)` for the tags of `tags` (`"a"`, `"a || b"`
    /// or `"*"`). Handlers are fixed once the consumer starts.
    pub fn register<F, Fut, E>(&self, tags: &str, handler: F) -> Result<(), ClientError>
    where
        F: Fn(String, String, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display + Send + 'static,
    {
        self.add_route(tags, seed_style(handler))
    }

    /// Like [`register`](Self::register), with a handler that takes the whole
    /// [`Message`] (its `attempt`, `fire_time`, `fire_id`, `tag`, …).
    pub fn register_message<F, Fut, E>(&self, tags: &str, handler: F) -> Result<(), ClientError>
    where
        F: Fn(Message) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display + Send + 'static,
    {
        self.add_route(tags, message_style(handler))
    }

    fn add_route(&self, tags: &str, handler: HandlerFn) -> Result<(), ClientError> {
        let filter = parse_tags(tags)?;
        match &mut *self.inner.lock() {
            State::Idle(routes) => {
                routes.push(Route { filter, handler });
                Ok(())
            }
            _ => Err(ClientError::AlreadyStarted),
        }
    }

    /// Starts pulling in the background, on the current tokio runtime. Returns at once.
    pub fn start(&self) -> Result<(), ClientError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| ClientError::NoRuntime)?;
        let mut state = self.inner.lock();
        let routes = match &mut *state {
            State::Idle(routes) if routes.is_empty() => return Err(ClientError::NoHandlers),
            State::Idle(routes) => std::mem::take(routes),
            _ => return Err(ClientError::AlreadyStarted),
        };
        let stop = CancellationToken::new();
        let config = &self.inner.config;
        let join = if config.transport == Transport::Builtin {
            let runner = Arc::new(Runner {
                api: self.inner.api.clone(),
                config: config.clone(),
                routes,
                in_flight: Arc::new(Mutex::new(HashSet::new())),
                running: Running::default(),
            });
            handle.spawn(runner.run(stop.clone()))
        } else {
            let plan = Plan {
                topic: config.topic.clone(),
                group: config.group.clone(),
                tags: subscribed_tags(&routes),
                ladder: config.retry_delays.clone(),
                lease: config.lease,
                concurrency: config.concurrency.max(1),
                rocketmq_keys: config.rocketmq_keys.clone(),
            };
            let runner = Arc::new(BrokerRunner {
                api: self.inner.api.clone(),
                config: config.clone(),
                plan,
                routes,
                abort: CancellationToken::new(),
            });
            handle.spawn(runner.run(stop.clone()))
        };
        *state = State::Running(stop, join);
        Ok(())
    }

    /// Whether the consumer is started and not yet released.
    pub fn is_running(&self) -> bool {
        matches!(&*self.inner.lock(), State::Running(..))
    }

    /// Stops pulling, waits for running handlers up to [`Config::shutdown_timeout`]
    /// (handlers still running then are stopped and their messages given back for
    /// redelivery), and sends the last acks. A released consumer cannot start again.
    pub async fn release(&self) {
        let previous = std::mem::replace(&mut *self.inner.lock(), State::Released);
        if let State::Running(stop, join) = previous {
            stop.cancel();
            if let Err(e) = join.await {
                tracing::error!(error = %e, "consumer loop failed");
            }
        }
    }
}

/// The tags the handlers take, sorted, or `None` if one takes every tag.
fn subscribed_tags(routes: &[Route]) -> Option<Vec<String>> {
    let mut tags = Vec::new();
    for route in routes {
        match &route.filter {
            TagFilter::All => return None,
            TagFilter::Only(only) => tags.extend(only.iter().cloned()),
        }
    }
    tags.sort_unstable();
    tags.dedup();
    Some(tags)
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Inner {
    /// Dropping the last handle stops pulling; handlers in flight finish in the background.
    fn drop(&mut self) {
        if let State::Running(stop, _) = &*self.lock() {
            stop.cancel();
        }
    }
}

//! Client library for [taskcenter], the scheduled-task service: hand it tasks, and
//! consume the messages their fires produce.
//!
//! - [`ApiClient`]: typed calls of the HTTP API — add (every field, see [`TaskBuilder`]),
//!   batch add, delete by ids or by name, query by id or by name, list, pause, resume,
//!   trigger now, update, preview, history and dead letters. Errors carry the server's
//!   `err` and `msg` ([`ClientError::Api`]).
//! - A consumer in the two styles of the original Go client: the explicit [`Client`]
//!   (`Client::new(config)`, `register(tags, f)`, `start()`), and a process-wide one
//!   ([`init`], [`add_task_handler`], [`start`], [`release`]). Handlers are async
//!   functions of `(taskid, data, msgid)` returning `Result<(), E>`: success acks, an
//!   error makes the server retry later on its retry ladder, and after the last retry the
//!   message goes to the dead letters.
//! - Transports ([`Transport`], chosen in [`Config`]): the server's built-in queue, or the
//!   broker the server publishes to — NATS JetStream, Redis Streams, RabbitMQ, RocketMQ,
//!   each behind the cargo feature of its name — with the same handlers, retry ladder, dead letters and
//!   shutdown; [`RecentFires`] skips fires already handled.
//!
//! The request and response bodies are the server's own, re-exported as [`types`].
//!
//! # Adding a task
//!
//! ```no_run
//! use taskcenter_client::{ApiClient, TaskBuilder};
//!
//! # async fn demo() -> Result<(), taskcenter_client::ClientError> {
//! let api = ApiClient::new("http://127.0.0.1:8081")?;
//! // Every day at 03:00 Berlin time.
//! let spec = TaskBuilder::cron("db.vacuum", r#"{"db":"orders"}"#, "0 3 * * *")
//!     .timezone("Europe/Berlin")
//!     .build();
//! let added = api.add(&spec).await?;
//! println!("task {}", added.taskid);
//! # Ok(())
//! # }
//! ```
//!
//! # Consuming
//!
//! ```no_run
//! use taskcenter_client::{Client, Config};
//!
//! # async fn demo() -> Result<(), taskcenter_client::ClientError> {
//! let client = Client::new(Config::new("http://127.0.0.1:8081").with_concurrency(4))?;
//! client.register("db.vacuum", |taskid, data, _msgid| async move {
//!     println!("vacuum for task {taskid}: {data}");
//!     Ok::<(), String>(())
//! })?;
//! client.register("*", |_taskid, _data, msgid| async move {
//!     println!("audit: saw {msgid}");
//!     Ok::<(), String>(())
//! })?;
//! client.start()?;
//! // ... until the program stops:
//! client.release().await;
//! # Ok(())
//! # }
//! ```
//!
//! [taskcenter]: https://crates.io/crates/taskcenter

#![warn(missing_docs)]

mod api;
mod consumer;
mod error;
mod global;
mod task;

pub use api::{ApiClient, ListQuery, Page, TriggerResponse};
pub use consumer::{
    Client, Config, DEFAULT_SERVER, DEFAULT_TOPIC, RecentFires, RocketMqKeys, SeenFires, Transport,
};
pub use error::ClientError;
pub use global::{add_task_handler, global, init, release, start};
pub use task::TaskBuilder;
/// The request and response bodies of the HTTP API, shared with the server.
pub use taskcenter_api as types;
pub use taskcenter_api::{Message, TaskObject, TaskSpec};

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

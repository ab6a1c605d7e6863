//! The process-wide consumer, the original client's first style: `init`, `add_task_handler`,
//! `start`, `release`, with no handle to carry around.

use std::fmt::Display;
use std::future::Future;
use std::sync::Mutex;

use crate::consumer::{Client, Config};
use crate::error::ClientError;

static GLOBAL: Mutex<Option<Client>> = Mutex::new(None);

fn current() -> Result<Client, ClientError> {
    GLOBAL
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .ok_or(ClientError::NotInitialized)
}

/// Creates the process-wide consumer. Call once, before [`add_task_handler`]; again only
/// after [`release`].
///
/// ```no_run
/// use taskcenter_client as taskcenter;
///
/// #[tokio::main]
/// async fn main() -> Result<(), taskcenter::ClientError> {
///     taskcenter::init(taskcenter::Config::from_env()?)?;
///     taskcenter::add_task_handler("test1", |taskid, data, msgid| async move {
///         println!("handleTask taskid={taskid}, data={data}, msgid={msgid}");
///         Ok::<(), String>(())
///     })?;
///     taskcenter::start()?;
///     let _ = tokio::signal::ctrl_c().await;
///     taskcenter::release().await;
///     Ok(())
/// }
/// ```
pub fn init(config: Config) -> Result<(), ClientError> {
    let client = Client::new(config)?;
    let mut global = GLOBAL.lock().unwrap_or_else(|p| p.into_inner());
    if global.is_some() {
        return Err(ClientError::AlreadyInitialized);
    }
    *global = Some(client);
    Ok(())
}

/// Registers `handler(taskid, data, msgid)` on the process-wide consumer for the tags of
/// `tags` (`"a"`, `"a || b"` or `"*"`); see [`Client::register`].
pub fn add_task_handler<F, Fut, E>(tags: &str, handler: F) -> Result<(), ClientError>
where
    F: Fn(String, String, String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Display + Send + 'static,
{
    current()?.register(tags, handler)
}

/// Starts the process-wide consumer on the current tokio runtime; returns at once.
pub fn start() -> Result<(), ClientError> {
    current()?.start()
}

/// The process-wide consumer, for its [`api`](Client::api) or its other methods.
pub fn global() -> Result<Client, ClientError> {
    current()
}

/// Stops the process-wide consumer gracefully (see [`Client::release`]) and forgets it,
/// so [`init`] may be called again. Does nothing if it was never initialized.
pub async fn release() {
    let client = GLOBAL.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(client) = client {
        client.release().await;
    }
}

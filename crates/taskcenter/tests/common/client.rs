//! Helpers of the client-library tests: its logs in test output, a consumer configuration
//! with short polls, the delivery states of a task, and polling from async code.

use std::time::{Duration, Instant};

use super::Server;

/// Shows the client library's logs in test output when `RUST_LOG` is set
/// (e.g. `RUST_LOG=taskcenter_client=debug`).
pub fn logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
    }
}

/// A consumer configuration for tests: short long-polls and quick backoff.
pub fn consumer_config(server: &Server, group: &str) -> taskcenter_client::Config {
    taskcenter_client::Config::new(server.base_url())
        .with_group(group)
        .with_poll_wait(Duration::from_secs(2))
        .with_backoff(Duration::from_millis(50), Duration::from_millis(300))
}

/// The delivery states of a task's fires, newest first.
pub async fn states(api: &taskcenter_client::ApiClient, taskid: &str) -> Vec<String> {
    let h = api.history(taskid, None).await.expect("history");
    h.fires.into_iter().map(|f| f.state).collect()
}

/// Polls `check` every 50 ms until it holds or `within` passes; whether it held.
pub async fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

//! The original client README's third snippet: an explicit client whose handler fails, to show the
//! retries.
//!
//! Start a server with a short retry ladder (`taskcenter serve --retry-delays 1s,2s,4s`),
//! then run `cargo run -p taskcenter-client --example explicit_client`. It adds a task
//! tagged `tag1` and handles it with a handler that always fails: the message comes back
//! after each delay of the ladder, and after the last one it is in the dead letters
//! (`taskcenter dlq ls`). Stop with Ctrl-C.

use std::time::{SystemTime, UNIX_EPOCH};

use taskcenter_client::{Client, Config, TaskBuilder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let conf = Config::from_env()?.with_group("retry-demo");
    let c = Client::new(conf)?;
    c.register("tag1", handle_task)?;
    c.start()?;

    let added = c
        .api()
        .add(&TaskBuilder::once("tag1", "a payload that never succeeds").build())
        .await?;
    println!("added task {}", added.taskid);

    let _ = tokio::signal::ctrl_c().await;
    c.release().await;
    Ok(())
}

/// Returning `Ok` acks the message; an error triggers a retry (16 by default on the
/// server, after 10s, 30s, 1m, … like RocketMQ).
async fn handle_task(taskid: String, data: String, msgid: String) -> Result<(), String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    println!(
        "{}.{:03}: handleTask taskid={taskid}, data={data}, msgid={msgid}",
        now.as_secs(),
        now.subsec_millis()
    );
    Err("retry error".into())
}

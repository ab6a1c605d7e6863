//! Consuming fires from a broker, in both styles of the original client: the same handlers
//! as over the built-in queue; only the configuration (`TASKCENTER_PUBLISHER`, the variable
//! the server reads too) names the broker.
//!
//! Start a server publishing to one broker and run this with the same URL, e.g.
//! - `taskcenter serve --publisher nats://127.0.0.1:4222 --retry-delays 1s,2s` and
//!   `TASKCENTER_PUBLISHER=nats://127.0.0.1:4222 cargo run -p taskcenter-client --features nats --example broker_consumer`;
//! - `… --publisher redis://127.0.0.1:6379/0 …` and `--features redis`;
//! - `… --publisher amqp://guest:guest@127.0.0.1:5672/%2f …` and `--features amqp`;
//! - `… --publisher rocketmq://127.0.0.1:9876 --retry-delays 1s,5s …` (a server built with
//!   `--features rocketmq`) and `--features rocketmq` (RocketMQ retries after its delay
//!   levels: 1 s, then 5 s).
//!
//! Then add tasks: `taskcenter add --name test1 --data hello` (handled by the process-wide
//! consumer, group `groupid`) and `taskcenter add --name tag1 --data fails` (the explicit
//! client's handler fails: retried after 1 s and 2 s — 1 s and 5 s over RocketMQ —, then a
//! dead letter of group `retry-demo`). Stop with Ctrl-C.

use std::time::Duration;

use taskcenter_client::{self as client, Client, Config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // TASKCENTER_PUBLISHER picks the transport; unset, the built-in queue.
    let base = Config::from_env()?;

    // The process-wide style: init, add_task_handler, start, release.
    client::init(base.clone().with_group("groupid"))?;
    client::add_task_handler("test1", |taskid, data, msgid| async move {
        println!("handleTask taskid={taskid}, data={data}, msgid={msgid}");
        Ok::<(), String>(())
    })?;
    client::start()?;

    // The explicit style: Client::new, register, start, release.
    let explicit = Client::new(
        base.with_group("retry-demo")
            .with_retry_delays(vec![Duration::from_secs(1), Duration::from_secs(2)]),
    )?;
    explicit.register_message("tag1", |m| async move {
        println!(
            "tag1 fire {} attempt {} taskid={} data={}",
            m.fire_id, m.attempt, m.taskid, m.data
        );
        Err::<(), _>("retry error")
    })?;
    explicit.start()?;

    let _ = tokio::signal::ctrl_c().await;
    explicit.release().await;
    client::release().await;
    Ok(())
}

//! The original client README's second snippet: the process-wide client.
//!
//! Start a server (`taskcenter serve`), run this with
//! `cargo run -p taskcenter-client --example global_client`, then add a task:
//! `taskcenter add --name test1 --data hello`. Stop with Ctrl-C: the handlers in flight
//! finish before the program exits.

use taskcenter_client as client;

#[tokio::main]
async fn main() -> Result<(), client::ClientError> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    // TASKCENTER_SERVER, TASKCENTER_GROUP and TASKCENTER_AUTH_TOKEN apply when set, and
    // TASKCENTER_PUBLISHER / TASKCENTER_TOPIC move it to a broker with the same handlers.
    client::init(client::Config::from_env()?.with_group("groupid"))?;
    client::add_task_handler("test1", handle_task)?;
    client::start()?;

    let _ = tokio::signal::ctrl_c().await;
    client::release().await;
    Ok(())
}

async fn handle_task(taskid: String, data: String, msgid: String) -> Result<(), String> {
    println!("handleTask taskid={taskid}, data={data}, msgid={msgid}");
    Ok(())
}

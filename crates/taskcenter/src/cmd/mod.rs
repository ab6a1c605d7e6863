//! The management commands: each talks to a running server through the client library.

pub mod ack;
pub mod add;
pub mod dlq;
pub mod schedule;
pub mod tasks;
pub mod update;

use clap::Args;
use taskcenter_client::{ApiClient, DEFAULT_SERVER};

use crate::cli::Command;

/// Shown after `taskcenter --help`.
pub const MAIN_HELP: &str = "\
Examples:
  taskcenter serve                                   run the service on 127.0.0.1:8081
  taskcenter add --name report --data '{\"day\":1}'    deliver a message now
  taskcenter add --name remind --data x --in 10m     ... in ten minutes
  taskcenter add --name poll --every 30s --count 5   ... every 30 s, five times
  taskcenter add --name vacuum --cron '0 3 * * *' --tz Europe/Berlin
  taskcenter ls --name report                        list tasks of a name
  taskcenter update ID --data '{\"day\":2}'            change a task's fields
  taskcenter consume 'report || remind' --json       print deliveries, one JSON a line

The management commands talk to --server (env TASKCENTER_SERVER, default
http://127.0.0.1:8081). Add --json for the server's answer as JSON, for scripts.
Exit status: 0 success, 1 error (the server's message is printed), 2 bad usage.";

/// How to reach the server, and how to print: shared by every management command.
#[derive(Debug, Args)]
pub struct Conn {
    /// Server URL.
    #[arg(long, env = "TASKCENTER_SERVER", default_value = DEFAULT_SERVER)]
    pub server: String,
    /// Bearer token, if the server requires one.
    #[arg(long, env = "TASKCENTER_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
    /// Print the server's answer as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl Conn {
    /// The API client these flags describe.
    pub fn client(&self) -> anyhow::Result<ApiClient> {
        let client = ApiClient::new(&self.server)?;
        Ok(match &self.auth_token {
            Some(token) if !token.is_empty() => client.with_token(token.clone()),
            _ => client,
        })
    }
}

/// Runs a management command (`serve` and `consume` have their own modules).
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Add(a) => add::add(a).await,
        Command::Preview(a) => add::preview(a).await,
        Command::Get(a) => tasks::get(a).await,
        Command::Ls(a) => tasks::ls(a).await,
        Command::Rm(a) => tasks::rm(a).await,
        Command::Pause(a) => tasks::pause(a, true).await,
        Command::Resume(a) => tasks::pause(a, false).await,
        Command::Trigger(a) => tasks::trigger(a).await,
        Command::Update(a) => update::update(a).await,
        Command::History(a) => tasks::history(a).await,
        Command::Dlq(a) => dlq::run(a).await,
        Command::Ack(a) => ack::ack(a).await,
        Command::Serve(_) | Command::Consume(_) => Err(anyhow::anyhow!("not a management command")),
    }
}

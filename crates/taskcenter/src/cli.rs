//! Command-line syntax. The flags of `serve` and `consume` are fixed contracts (SPEC §8).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// taskcenter: a scheduled-task service. Run it with `serve`; hand it tasks with `add`; watch
/// their deliveries with `consume`.
#[derive(Debug, Parser)]
#[command(name = "taskcenter", version, after_help = crate::cmd::MAIN_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (embedded store in ./taskcenter-data, listening on 127.0.0.1:8081).
    Serve(ServeArgs),
    /// Print deliveries of the built-in queue, one per line, acking each after printing.
    Consume(ConsumeArgs),
    /// Add a task: once now, once later (--in, --at), every N (--every) or on a crontab (--cron).
    Add(crate::cmd::add::AddArgs),
    /// Show one task.
    Get(crate::cmd::tasks::IdArgs),
    /// List tasks, newest first.
    Ls(crate::cmd::tasks::LsArgs),
    /// Delete tasks by id, or every task of a name.
    Rm(crate::cmd::tasks::RmArgs),
    /// Stop a task firing until it is resumed.
    Pause(crate::cmd::tasks::IdArgs),
    /// Resume a paused task from now on.
    Resume(crate::cmd::tasks::IdArgs),
    /// Fire a task now, outside its schedule.
    Trigger(crate::cmd::tasks::IdArgs),
    /// Show a task's fires: when, delivery state, attempts.
    History(crate::cmd::tasks::HistoryArgs),
    /// Show the next fire times of a schedule without adding anything.
    Preview(crate::cmd::add::PreviewArgs),
    /// Dead letters: messages out of retries. List, requeue or purge them.
    Dlq(crate::cmd::dlq::DlqArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8081].
    #[arg(long, env = "TASKCENTER_LISTEN")]
    pub listen: Option<String>,
    /// Directory of the embedded store [default: ./taskcenter-data].
    #[arg(long, env = "TASKCENTER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Store URL, e.g. postgres://user@127.0.0.1:5432/db [default: embedded store].
    #[arg(long, env = "TASKCENTER_STORE")]
    pub store: Option<String>,
    /// TOML configuration file.
    #[arg(long, env = "TASKCENTER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Retry delays of the built-in queue, e.g. 10s,30s,1m.
    #[arg(long, value_delimiter = ',')]
    pub retry_delays: Option<Vec<String>>,
    /// Default lease of a pulled non-ack message, e.g. 30s.
    #[arg(long)]
    pub lease: Option<String>,
    /// Require this bearer token on the API.
    #[arg(long, env = "TASKCENTER_AUTH_TOKEN")]
    pub auth_token: Option<String>,
    /// Replicas on PostgreSQL: a dead replica's shards are taken over within this, e.g. 10s.
    #[arg(long, env = "TASKCENTER_SHARD_LEASE")]
    pub shard_lease: Option<String>,
    /// How long to keep the history of fires whose messages are all done, e.g. 7d
    /// [default: 7d; 0 keeps everything].
    #[arg(long, env = "TASKCENTER_RETENTION")]
    pub retention: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// Tags to consume: `tag`, `tag1 || tag2`, or `*`.
    pub tags: String,
    /// Consumer group.
    #[arg(long, default_value = "default")]
    pub group: String,
    /// Server URL.
    #[arg(
        long,
        env = "TASKCENTER_SERVER",
        default_value = "http://127.0.0.1:8081"
    )]
    pub server: String,
    /// Print one JSON object a line (the consume API's fields).
    #[arg(long)]
    pub json: bool,
    /// Messages to pull at once.
    #[arg(long, default_value_t = 100)]
    pub max: i64,
    /// Stop after this many deliveries.
    #[arg(long)]
    pub count: Option<u64>,
    /// Bearer token.
    #[arg(long, env = "TASKCENTER_AUTH_TOKEN")]
    pub auth_token: Option<String>,
}

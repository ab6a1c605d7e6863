//! Command-line syntax. The flags of `serve` and `consume` are fixed contracts: scripts
//! and tools rely on them, so they only ever gain options.

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
    /// Change a task: its data, schedule, count, … (the fields given; the rest stay).
    Update(crate::cmd::update::UpdateArgs),
    /// Show a task's fires: when, delivery state, attempts.
    History(crate::cmd::tasks::HistoryArgs),
    /// Show the next fire times of a schedule without adding anything.
    Preview(crate::cmd::add::PreviewArgs),
    /// Dead letters: messages out of retries. List, requeue or purge them.
    Dlq(crate::cmd::dlq::DlqArgs),
    /// Ack fires end to end by fire id (consumers of an external broker).
    Ack(crate::cmd::ack::AckArgs),
}

#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on: IP:PORT, HOST:PORT, or :PORT for every interface
    /// [default: 127.0.0.1:8081].
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
    #[arg(long, env = "TASKCENTER_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
    /// Require the bearer token on /metrics too.
    #[arg(long, env = "TASKCENTER_PROTECT_METRICS")]
    pub protect_metrics: bool,
    /// A web origin besides the server's own allowed to change state, e.g.
    /// https://ops.example (repeatable).
    #[arg(long, env = "TASKCENTER_ALLOW_ORIGIN", value_delimiter = ',')]
    pub allow_origin: Vec<String>,
    /// A host name accepted while listening on loopback, e.g. a reverse proxy's (repeatable).
    #[arg(long, env = "TASKCENTER_ALLOW_HOST", value_delimiter = ',')]
    pub allow_host: Vec<String>,
    /// Most HTTP connections at once [default: 4096].
    #[arg(long, env = "TASKCENTER_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Time to send a whole request head once started, e.g. 10s [default: 10s].
    #[arg(long, env = "TASKCENTER_HEADER_TIMEOUT")]
    pub header_timeout: Option<String>,
    /// An idle keep-alive connection is closed after this, e.g. 60s [default: 60s].
    #[arg(long, env = "TASKCENTER_IDLE_TIMEOUT")]
    pub idle_timeout: Option<String>,
    /// Replicas on PostgreSQL: a dead replica's shards are taken over within this, e.g. 10s.
    #[arg(long, env = "TASKCENTER_SHARD_LEASE")]
    pub shard_lease: Option<String>,
    /// How long to keep the history of fires whose messages are all done, e.g. 7d
    /// [default: 7d; 0 keeps everything].
    #[arg(long, env = "TASKCENTER_RETENTION")]
    pub retention: Option<String>,
    /// Shortest time allowed between two fires of a task (loops, @every and crontabs),
    /// e.g. 5s [default: 1s].
    #[arg(long, value_name = "DURATION")]
    pub min_interval: Option<String>,
    /// Where fires go: builtin (the built-in queue), nats://HOST:4222,
    /// amqp://USER:PASS@HOST:5672/VHOST, redis://HOST:6379/DB,
    /// rocketmq://HOST:9876[?group=G] (a build with the rocketmq feature) or an http(s)://
    /// webhook [default: builtin].
    #[arg(long, env = "TASKCENTER_PUBLISHER")]
    pub publisher: Option<String>,
    /// Topic, subject prefix, exchange or stream of an external publisher
    /// [default: taskcenter].
    #[arg(long, env = "TASKCENTER_TOPIC")]
    pub topic: Option<String>,
    /// Sign webhook requests with this key (`Taskcenter-Signature: sha256=<hex HMAC>`).
    #[arg(long, env = "TASKCENTER_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// How long connecting to the broker, or one batch's publish until its last
    /// confirmation, may take before it is tried again, e.g. 10s [default: 10s].
    #[arg(long, env = "TASKCENTER_PUBLISH_TIMEOUT", value_name = "DURATION")]
    pub publish_timeout: Option<String>,
    /// How long one webhook request may take before it is tried again, e.g. 10s
    /// [default: 10s].
    #[arg(long, env = "TASKCENTER_WEBHOOK_TIMEOUT", value_name = "DURATION")]
    pub webhook_timeout: Option<String>,
    /// Redis Streams: keep about the newest N entries of the stream (`XADD … MAXLEN ~ N`)
    /// [default: 0, every entry].
    #[arg(long, env = "TASKCENTER_REDIS_MAXLEN", value_name = "N")]
    pub redis_maxlen: Option<u64>,
    /// ACL access key of the RocketMQ publisher (with --rocketmq-secret-key).
    #[arg(long, env = "TASKCENTER_ROCKETMQ_ACCESS_KEY", hide_env_values = true)]
    pub rocketmq_access_key: Option<String>,
    /// ACL secret key of the RocketMQ publisher (with --rocketmq-access-key).
    #[arg(long, env = "TASKCENTER_ROCKETMQ_SECRET_KEY", hide_env_values = true)]
    pub rocketmq_secret_key: Option<String>,
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
    #[arg(long, env = "TASKCENTER_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
}

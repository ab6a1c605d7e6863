//! `taskcenter-bench`: the taskcenter side of `bench/run`. Each workload subcommand starts
//! its own server (the release binary given by `--bin`) on a fresh data directory under
//! `--work`, drives it, stops it, and prints one JSON object on stdout; progress goes to
//! stderr. `report` assembles both sides' objects into the final one, whose shape outside
//! tools rely on: keep it.

mod api;
mod burst;
mod capacity;
mod ceiling;
mod consumer;
mod http1;
mod ingest;
mod loops;
mod precision;
mod report;
mod server;
mod stats;
mod w5;
mod wrk;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde_json::Value;

/// Load driver of taskcenter's benchmarks.
#[derive(Debug, Parser)]
#[command(name = "taskcenter-bench")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// Where the server binary is and where its data directories go.
#[derive(Debug, Args)]
struct Target {
    /// The taskcenter binary to benchmark.
    #[arg(long)]
    bin: PathBuf,
    /// Folder for this workload's data directory and server log (made fresh).
    #[arg(long)]
    work: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// W1 ingest: `n` tasks due 1 min–1 h ahead; `--batch 1` single adds (W1a), else batches (W1b).
    W1 {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 100_000)]
        n: usize,
        #[arg(long, default_value_t = 1)]
        batch: usize,
        #[arg(long, default_value_t = 64)]
        inflight: usize,
    },
    /// W1a's load against a bare HTTP server: the ceiling of single adds on this machine.
    Ceiling {
        #[arg(long, default_value_t = 100_000)]
        n: usize,
        #[arg(long, default_value_t = 64)]
        inflight: usize,
    },
    /// W1a driven by wrk: `n` single adds, `connections` in flight, then the tasks stored
    /// are counted in the server's file with sqlite3.
    W1Wrk {
        #[command(flatten)]
        target: Target,
        /// The wrk Lua script (`bench/wrk/add.lua`).
        #[arg(long)]
        script: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        n: usize,
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// The wrk load of `w1-wrk` against the bare HTTP server: wrk's ceiling on this machine.
    CeilingWrk {
        #[arg(long)]
        script: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        n: usize,
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// W2 burst: `n` tasks due at one instant, drained by 1 and then 2 consumer processes.
    W2 {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 100_000)]
        n: usize,
        /// Concurrent long-polls per consumer process.
        #[arg(long, default_value_t = 1)]
        polls: usize,
        /// Time given to the adds before the due instant, ms [default: 5000 + n/10].
        #[arg(long)]
        margin_ms: Option<i64>,
        /// Raw lateness samples of the one-consumer run, one per line, for the chart.
        #[arg(long)]
        samples: Option<PathBuf>,
    },
    /// W3 precision: `n` tasks due over `spread_s` seconds.
    W3 {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 2000)]
        n: usize,
        #[arg(long, default_value_t = 20)]
        spread_s: i64,
        /// Seconds from now to the first due second.
        #[arg(long, default_value_t = 3)]
        lead_s: i64,
        #[arg(long)]
        samples: Option<PathBuf>,
    },
    /// W4 loops: `n` loop tasks every 1 s, `count` fires each.
    W4 {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 200)]
        n: usize,
        #[arg(long, default_value_t = 30)]
        count: i64,
        /// Seconds from now to the first grid time.
        #[arg(long, default_value_t = 3)]
        lead_s: i64,
        #[arg(long)]
        samples: Option<PathBuf>,
    },
    /// M1/M2 capacity: `n` far-future tasks; memory, disk, restart time.
    Capacity {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1_000_000)]
        n: usize,
        /// Batches of 1000 in flight.
        #[arg(long, default_value_t = 4)]
        inflight: usize,
        /// Quiet time before memory is read, ms.
        #[arg(long, default_value_t = 2000)]
        settle_ms: u64,
    },
    /// W5 publish burst: `n` once tasks due at one instant, published to each broker, beside
    /// the broker's own ceiling measured in the same run.
    W5 {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 100_000)]
        n: usize,
        /// Time given to the adds before the due instant, ms [default: 5000 + n/10].
        #[arg(long)]
        margin_ms: Option<i64>,
        /// Brokers to publish to: by default nats, amqp, redis and webhook; rocketmq when
        /// named (taskcenter and the bench built with their rocketmq features).
        #[arg(long, value_delimiter = ',', default_values_t = w5::BROKERS.map(String::from))]
        brokers: Vec<String>,
        /// A PostgreSQL server (`postgres://…/DB`) to store taskcenter's tasks in, instead
        /// of the embedded store: each broker's run gets a fresh database of its own on that
        /// server, `taskcenter_w5_<broker>`, made and dropped with `psql`.
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Assembles `tc-*.json` and `bq-*.json` of a results folder into the final object.
    Report {
        #[arg(long)]
        dir: PathBuf,
    },
    /// (internal) A W2 consumer process.
    #[command(hide = true)]
    Consumer {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 1)]
        polls: usize,
        #[arg(long, default_value_t = 1000)]
        max: i64,
        #[arg(long, default_value_t = 1000)]
        wait_ms: i64,
    },
    /// (internal) The bare HTTP server of `ceiling`.
    #[command(hide = true)]
    BareServer,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let out = match cli.command {
        Cmd::W1 {
            target,
            n,
            batch,
            inflight,
        } => {
            let (server, _) = start(&target).await?;
            let api = api::Api::new(&server.url)?;
            let added =
                ingest::add_tasks(&api, n, batch, inflight, ingest::w1_task(ingest::now_s())).await;
            server.stop().await?;
            added.to_json(batch, inflight)
        }
        Cmd::Ceiling { n, inflight } => ceiling::run(n, inflight).await?,
        Cmd::W1Wrk {
            target,
            script,
            n,
            connections,
        } => {
            let (server, _) = start(&target).await?;
            let load = wrk::WrkLoad {
                script: &script,
                n,
                connections,
            };
            let figures = wrk::drive(&server.url, &load).await;
            server.stop().await?;
            let db = target.work.join("data").join("taskcenter.db");
            let (all, distinct) = wrk::stored_tasks(&db).await?;
            wrk::with_stored(figures?, all, distinct)
        }
        Cmd::CeilingWrk {
            script,
            n,
            connections,
        } => {
            let (mut bare, url) = ceiling::spawn().await?;
            let load = wrk::WrkLoad {
                script: &script,
                n,
                connections,
            };
            let figures = wrk::drive(&url, &load).await;
            let _ = bare.kill().await;
            figures?
        }
        Cmd::W2 {
            target,
            n,
            polls,
            margin_ms,
            samples,
        } => {
            let mut args = burst::BurstArgs {
                n,
                consumers: 1,
                polls,
                max: 1000,
                margin_ms: margin_ms.unwrap_or(5000 + n as i64 / 10),
                deadline_ms: 120_000,
            };
            let mut runs = serde_json::Map::new();
            for (key, consumers) in [("one", 1), ("two", 2)] {
                args.consumers = consumers;
                eprintln!("  W2 with {consumers} consumer process(es)");
                let work = fresh(&target.work.join(key))?;
                let samples = samples.as_deref().filter(|_| consumers == 1);
                runs.insert(
                    key.into(),
                    burst::run(&target.bin, &work, &args, samples).await?,
                );
            }
            Value::Object(runs)
        }
        Cmd::W3 {
            target,
            n,
            spread_s,
            lead_s,
            samples,
        } => {
            let work = fresh(&target.work)?;
            precision::run(&target.bin, &work, n, spread_s, lead_s, samples.as_deref()).await?
        }
        Cmd::W4 {
            target,
            n,
            count,
            lead_s,
            samples,
        } => {
            let work = fresh(&target.work)?;
            loops::run(&target.bin, &work, n, count, lead_s, samples.as_deref()).await?
        }
        Cmd::Capacity {
            target,
            n,
            inflight,
            settle_ms,
        } => {
            let settle = std::time::Duration::from_millis(settle_ms);
            capacity::run(&target.bin, &fresh(&target.work)?, n, inflight, settle).await?
        }
        Cmd::W5 {
            target,
            n,
            margin_ms,
            brokers,
            postgres,
        } => {
            let args = w5::W5Args {
                n,
                margin_ms: margin_ms.unwrap_or(5000 + n as i64 / 10),
                deadline_ms: 120_000,
                brokers,
                postgres,
            };
            w5::run(&target.bin, &fresh(&target.work)?, &args).await?
        }
        Cmd::Report { dir } => report::build(&dir),
        Cmd::Consumer {
            url,
            polls,
            max,
            wait_ms,
        } => {
            consumer::run_process(&url, polls, max, wait_ms).await?;
            return Ok(());
        }
        Cmd::BareServer => {
            ceiling::serve().await?;
            return Ok(());
        }
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

/// Starts a server on a fresh data directory for a one-phase workload.
async fn start(target: &Target) -> anyhow::Result<(server::Server, server::StartTimes)> {
    let work = fresh(&target.work)?;
    server::Server::start(&target.bin, &work.join("data"), &work.join("server.log")).await
}

/// Empties (or makes) `dir` and returns it.
fn fresh(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
    Ok(dir.to_path_buf())
}

//! `taskcenter add` and `taskcenter preview`: a task from flags, added or only previewed.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Args;
use jiff::tz::TimeZone;
use taskcenter_api::{PreviewRequest, TaskSpec};
use taskcenter_core::duration::parse_duration_ms;

use super::Conn;
use super::schedule::{ScheduleArgs, parse_time};
use crate::output;

const ADD_HELP: &str = "\
Examples:
  taskcenter add --name report --data '{\"day\":1}'             once, now
  taskcenter add --name remind --data order-42 --in 10m          once, in ten minutes
  taskcenter add --name remind --data x --at 2026-12-01T09:00:00+08:00
  taskcenter add --name poll --every 30s --count 5               every 30 s, five times
  taskcenter add --name vacuum --cron '0 3 * * *' --tz Europe/Berlin

Prints the task id (with --json, the server's answer). Adding a task whose name and
data equal those of a live task answers that task's id and adds nothing.";

/// `taskcenter add`.
#[derive(Debug, Args)]
#[command(after_help = ADD_HELP)]
pub struct AddArgs {
    /// Task name: the tag consumers subscribe to (letters, digits, _ - . : /).
    #[arg(long)]
    pub name: String,
    #[command(flatten)]
    pub payload: PayloadArgs,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    #[command(flatten)]
    pub conn: Conn,
}

/// The payload, given on the command line or read from a file.
#[derive(Debug, Args)]
pub struct PayloadArgs {
    /// Payload delivered with each fire, byte for byte [add's default: empty].
    #[arg(long, conflicts_with = "data_file")]
    pub data: Option<String>,
    /// Read the payload from a file ('-' for stdin).
    #[arg(long, value_name = "PATH")]
    pub data_file: Option<String>,
}

/// How fires are delivered.
#[derive(Debug, Args)]
pub struct DeliveryArgs {
    /// Track each fire until a consumer acknowledges it; redeliver it otherwise.
    #[arg(long)]
    pub ack: bool,
    /// With --ack: how long a consumer has to acknowledge a fire (e.g. 60s, 5m).
    #[arg(long, value_name = "DURATION")]
    pub max_runtime: Option<String>,
    /// Fires missed while the server was down: coalesce (one fire, default), skip, all.
    #[arg(long, value_name = "POLICY", value_parser = ["coalesce", "skip", "all"])]
    pub misfire: Option<String>,
}

/// `taskcenter preview`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  taskcenter preview --cron '0 9 * * MON-FRI' --tz Europe/Berlin -n 5"
)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    /// How many fire times to show (1-1000).
    #[arg(short = 'n', long = "next", value_name = "N", default_value_t = 10)]
    pub next: i64,
    /// Show fire times after this time (RFC 3339 or unix seconds) [default: now].
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    #[command(flatten)]
    pub conn: Conn,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl PayloadArgs {
    /// The payload given, if any: `--data`, or the file of `--data-file` (`-` is stdin).
    pub fn read(&self) -> anyhow::Result<Option<String>> {
        match self.data_file.as_deref() {
            None => Ok(self.data.clone()),
            Some("-") => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading the payload from stdin")?;
                Ok(Some(text))
            }
            Some(path) => std::fs::read_to_string(path)
                .map(Some)
                .with_context(|| format!("reading {path}")),
        }
    }
}

impl DeliveryArgs {
    /// Sets the delivery fields these flags give; the others stay as they are.
    pub fn apply(&self, spec: &mut TaskSpec) -> anyhow::Result<()> {
        if self.ack {
            spec.ack = Some(true);
        }
        if let Some(rt) = &self.max_runtime {
            let ms = parse_duration_ms(rt).map_err(|e| anyhow::anyhow!("--max-runtime: {e}"))?;
            spec.max_runtime = Some((ms + 999) / 1000);
        }
        if self.misfire.is_some() {
            spec.misfire.clone_from(&self.misfire);
        }
        Ok(())
    }
}

pub async fn add(args: AddArgs) -> anyhow::Result<()> {
    let client = args.conn.client()?;
    let mut spec = TaskSpec {
        name: Some(args.name.clone()),
        data: Some(args.payload.read()?.unwrap_or_default()),
        ..TaskSpec::default()
    };
    args.schedule.apply(&mut spec, now_ms())?;
    args.delivery.apply(&mut spec)?;
    let added = client.add(&spec).await?;
    if args.conn.json {
        output::json(&added)
    } else {
        println!("{}", added.taskid);
        if added.deduplicated {
            // On stderr: scripts read the id from stdout either way.
            eprintln!("a live task with this name and data exists: returned its id, added nothing");
        }
        Ok(())
    }
}

pub async fn preview(args: PreviewArgs) -> anyhow::Result<()> {
    let client = args.conn.client()?;
    let now = now_ms();
    let mut spec = TaskSpec::default();
    args.schedule.apply(&mut spec, now)?;
    let from = match &args.from {
        Some(t) => Some(parse_time("--from", t, now, false)?.saturating_mul(1000)),
        None => None,
    };
    let req = PreviewRequest {
        spec,
        count: Some(args.next),
        from,
    };
    let resp = client.preview(&req).await?;
    if args.conn.json {
        return output::json(&resp);
    }
    // Times in the crontab's zone when one is given: that is what the user reasons in.
    let tz = match &args.schedule.tz {
        Some(zone) => TimeZone::get(zone).unwrap_or_else(|_| TimeZone::system()),
        None => TimeZone::system(),
    };
    if resp.fire_times.is_empty() {
        println!("This schedule never fires again.");
    }
    for t in resp.fire_times {
        println!("{}", output::time_in(t, &tz));
    }
    Ok(())
}

//! `taskcenter update ID`: changes the fields its flags give; the others keep their values.

use clap::{ArgGroup, Args};
use taskcenter_api::TaskSpec;

use super::Conn;
use super::add::{DeliveryArgs, PayloadArgs, now_ms};
use super::schedule::ScheduleArgs;
use super::tasks::print_task;
use crate::output;

const UPDATE_HELP: &str = "\
Examples:
  taskcenter update 6b04db80453f833a38869991 --data '{\"day\":2}'
  taskcenter update 6b04db80453f833a38869991 --every 1m --count 10
  taskcenter update 6b04db80453f833a38869991 --cron '0 4 * * *' --tz Europe/Berlin

Only the fields given change; the schedule starts again from now. Prints the task as it
is now (with --json, the server's answer). A paused task stays paused.";

/// The flags that change something: at least one is needed.
const CHANGES: [&str; 14] = [
    "name",
    "data",
    "data_file",
    "in_",
    "at",
    "every",
    "cron",
    "tz",
    "count",
    "until",
    "ack",
    "no_ack",
    "max_runtime",
    "misfire",
];

/// `taskcenter update`.
#[derive(Debug, Args)]
#[command(after_help = UPDATE_HELP, override_usage = "taskcenter update <ID> <FLAGS OF WHAT TO CHANGE>...")]
#[command(group(ArgGroup::new("change").required(true).multiple(true).args(CHANGES)))]
pub struct UpdateArgs {
    /// The task id.
    pub id: String,
    /// New name: the tag consumers subscribe to.
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub payload: PayloadArgs,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Stop tracking fires until acknowledged.
    #[arg(long, conflicts_with = "ack")]
    pub no_ack: bool,
    #[command(flatten)]
    pub conn: Conn,
}

impl UpdateArgs {
    /// The fields to change.
    fn patch(&self, now_ms: i64) -> anyhow::Result<TaskSpec> {
        let mut spec = TaskSpec {
            name: self.name.clone(),
            data: self.payload.read()?,
            ..TaskSpec::default()
        };
        self.schedule.patch(&mut spec, now_ms)?;
        self.delivery.apply(&mut spec)?;
        if self.no_ack {
            spec.ack = Some(false);
        }
        if spec == TaskSpec::default() {
            anyhow::bail!(
                "nothing to change: give --data, --every, --cron, --count, … (see --help)"
            );
        }
        Ok(spec)
    }
}

pub async fn update(args: UpdateArgs) -> anyhow::Result<()> {
    let patch = args.patch(now_ms())?;
    let task = args.conn.client()?.update(&args.id, &patch).await?;
    if args.conn.json {
        return output::json(&task);
    }
    print_task(&task)
}

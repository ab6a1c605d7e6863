//! `get`, `ls`, `rm`, `pause`, `resume`, `trigger` and `history`: one task or many.

use anyhow::bail;
use clap::Args;
use taskcenter_api::{DeleteResponse, TaskObject};
use taskcenter_client::{ListQuery, Page};

use super::Conn;
use crate::output::{self, Table, clip, opt_time, schedule, seconds, time};

/// A command on one task.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The task id (24 hex characters, as `add` printed it).
    pub id: String,
    #[command(flatten)]
    pub conn: Conn,
}

/// `taskcenter ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only tasks of this name.
    #[arg(long)]
    pub name: Option<String>,
    /// Only tasks in this status.
    #[arg(long, value_parser = ["scheduled", "paused", "finished"])]
    pub status: Option<String>,
    /// What fires next first (scheduled tasks only), instead of the last added first.
    #[arg(long)]
    pub next: bool,
    /// Most tasks to show (1-1000).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Tasks to skip, for the next page.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    #[command(flatten)]
    pub conn: Conn,
}

/// `taskcenter rm`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  taskcenter rm 6b04db80453f833a38869991 6b04db80453f833a38869992\n  \
    taskcenter rm --name report\n\nExits 1 if a task is not found, unless --force."
)]
pub struct RmArgs {
    /// Ids of the tasks to delete.
    #[arg(required_unless_present = "name", conflicts_with = "name")]
    pub ids: Vec<String>,
    /// Delete every task of this name instead.
    #[arg(long)]
    pub name: Option<String>,
    /// Succeed even if nothing was there to delete.
    #[arg(short, long)]
    pub force: bool,
    #[command(flatten)]
    pub conn: Conn,
}

/// `taskcenter history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The task id.
    pub id: String,
    /// Most fires to show, newest first (1-1000).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[command(flatten)]
    pub conn: Conn,
}

pub async fn get(args: IdArgs) -> anyhow::Result<()> {
    let task = args.conn.client()?.get(&args.id).await?;
    if args.conn.json {
        return output::json(&task);
    }
    print_task(&task)
}

/// One task as a two-column table, for people.
pub fn print_task(task: &TaskObject) -> anyhow::Result<()> {
    let mut t = Table::new(&["id", &task.id]);
    t.row(vec!["name".into(), task.name.clone()]);
    t.row(vec!["schedule".into(), schedule(task)]);
    t.row(vec!["status".into(), task.status.clone()]);
    t.row(vec!["next fire".into(), opt_time(task.next_fire_time)]);
    t.row(vec!["fires".into(), task.fire_count.to_string()]);
    let ack = if task.ack {
        format!("yes, within {}", seconds(task.max_runtime))
    } else {
        "no".into()
    };
    t.row(vec!["ack".into(), ack]);
    t.row(vec!["misfire".into(), task.misfire.clone()]);
    t.row(vec!["created".into(), time(task.created_at * 1000)]);
    let data = if task.data.is_empty() {
        "(empty)".into()
    } else {
        clip(&task.data, 200)
    };
    t.row(vec!["data".into(), data]);
    t.print()
}

fn task_table(tasks: &[TaskObject]) -> Table {
    let mut t = Table::new(&["ID", "NAME", "STATUS", "NEXT FIRE", "FIRES", "SCHEDULE"]);
    for task in tasks {
        t.row(vec![
            task.id.clone(),
            task.name.clone(),
            task.status.clone(),
            opt_time(task.next_fire_time),
            task.fire_count.to_string(),
            schedule(task),
        ]);
    }
    t
}

pub async fn ls(args: LsArgs) -> anyhow::Result<()> {
    let query = ListQuery {
        name: args.name.clone(),
        status: args.status.clone(),
        next_fire_first: args.next,
        page: Page {
            limit: Some(args.limit),
            offset: Some(args.offset),
        },
    };
    let resp = args.conn.client()?.list(&query).await?;
    if args.conn.json {
        return output::json(&resp);
    }
    if resp.tasks.is_empty() {
        println!("No tasks.");
        return Ok(());
    }
    task_table(&resp.tasks).print()?;
    if let Some(next) = resp.next_offset {
        eprintln!("(more: taskcenter ls --offset {next})");
    }
    Ok(())
}

pub async fn rm(args: RmArgs) -> anyhow::Result<()> {
    let client = args.conn.client()?;
    let deleted = match &args.name {
        Some(name) => client.delete_by_name(name).await?,
        None => client.delete(&args.ids).await?,
    };
    if args.conn.json {
        output::json(&DeleteResponse {
            suc_ids: deleted.clone(),
        })?;
    } else {
        for id in &deleted {
            println!("deleted {id}");
        }
    }
    if args.force {
        return Ok(());
    }
    if let Some(name) = &args.name {
        if deleted.is_empty() {
            bail!("no task named {name:?}");
        }
        return Ok(());
    }
    let missing: Vec<&str> = args
        .ids
        .iter()
        .filter(|id| !deleted.contains(id))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        bail!("not found: {}", missing.join(" "));
    }
    Ok(())
}

pub async fn pause(args: IdArgs, pause: bool) -> anyhow::Result<()> {
    let client = args.conn.client()?;
    let task = if pause {
        client.pause(&args.id).await?
    } else {
        client.resume(&args.id).await?
    };
    if args.conn.json {
        return output::json(&task);
    }
    println!(
        "{} {}: {}, next fire {}",
        task.id,
        task.name,
        task.status,
        opt_time(task.next_fire_time)
    );
    Ok(())
}

pub async fn trigger(args: IdArgs) -> anyhow::Result<()> {
    let fired = args.conn.client()?.trigger(&args.id).await?;
    if args.conn.json {
        return output::json(&fired);
    }
    println!("fired {} now: fire {}", fired.taskid, fired.fire_id);
    Ok(())
}

pub async fn history(args: HistoryArgs) -> anyhow::Result<()> {
    let resp = args
        .conn
        .client()?
        .history(&args.id, Some(args.limit))
        .await?;
    if args.conn.json {
        return output::json(&resp);
    }
    if resp.fires.is_empty() {
        println!("No fires yet.");
        return Ok(());
    }
    let mut t = Table::new(&[
        "FIRE TIME",
        "PUBLISHED",
        "STATE",
        "ATTEMPTS",
        "GROUP",
        "MSGID",
    ]);
    for f in &resp.fires {
        t.row(vec![
            time(f.fire_time),
            time(f.publish_time),
            f.state.clone(),
            f.attempts.to_string(),
            f.group.clone().unwrap_or_else(|| "-".into()),
            f.msgid.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    t.print()
}

//! `taskcenter dlq ls | requeue | purge`: messages that ran out of retries.

use anyhow::bail;
use clap::{Args, Subcommand};
use taskcenter_api::CountResponse;
use taskcenter_client::Page;

use super::Conn;
use crate::output::{self, Table, clip, time};

/// `taskcenter dlq`.
#[derive(Debug, Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub command: DlqCommand,
}

/// What to do with dead letters.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead letters, newest first.
    Ls(LsArgs),
    /// Put dead letters back in their queue for a fresh round of deliveries.
    Requeue(IdsArgs),
    /// Delete dead letters for good.
    Purge(PurgeArgs),
}

/// `taskcenter dlq ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only this consumer group's.
    #[arg(long)]
    pub group: Option<String>,
    /// Most to show (1-1000).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// How many to skip, for the next page.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    #[command(flatten)]
    pub conn: Conn,
}

/// `taskcenter dlq requeue`.
#[derive(Debug, Args)]
pub struct IdsArgs {
    /// msgids of the dead letters (as `dlq ls` shows them).
    #[arg(required = true)]
    pub msgids: Vec<String>,
    #[command(flatten)]
    pub conn: Conn,
}

/// `taskcenter dlq purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// msgids of the dead letters to delete.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub msgids: Vec<String>,
    /// Delete every dead letter.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub conn: Conn,
}

pub async fn run(args: DlqArgs) -> anyhow::Result<()> {
    match args.command {
        DlqCommand::Ls(a) => ls(a).await,
        DlqCommand::Requeue(a) => {
            let count = a
                .conn
                .client()?
                .requeue_dead_letters(a.msgids.clone())
                .await?;
            report(&a.conn, count, "requeued")?;
            if count < a.msgids.len() as u64 {
                bail!(
                    "{} of {} msgids were not dead letters",
                    a.msgids.len() as u64 - count,
                    a.msgids.len()
                );
            }
            Ok(())
        }
        DlqCommand::Purge(a) => {
            let ids = (!a.all).then(|| a.msgids.clone());
            let count = a.conn.client()?.purge_dead_letters(ids).await?;
            report(&a.conn, count, "purged")
        }
    }
}

fn report(conn: &Conn, count: u64, verb: &str) -> anyhow::Result<()> {
    if conn.json {
        return output::json(&CountResponse { count });
    }
    let s = if count == 1 { "" } else { "s" };
    println!("{verb} {count} dead letter{s}");
    Ok(())
}

async fn ls(args: LsArgs) -> anyhow::Result<()> {
    let page = Page {
        limit: Some(args.limit),
        offset: Some(args.offset),
    };
    let resp = args
        .conn
        .client()?
        .dead_letters(args.group.as_deref(), page)
        .await?;
    if args.conn.json {
        return output::json(&resp);
    }
    if resp.dead_letters.is_empty() {
        println!("No dead letters.");
        return Ok(());
    }
    let mut t = Table::new(&[
        "MSGID", "GROUP", "TAG", "TASKID", "ATTEMPTS", "DIED", "DATA",
    ]);
    for d in &resp.dead_letters {
        t.row(vec![
            d.msgid.clone(),
            d.group.clone(),
            d.tag.clone(),
            d.taskid.clone(),
            d.attempts.to_string(),
            time(d.died_at),
            clip(&d.data, 40),
        ]);
    }
    t.print()
}

//! `taskcenter ack FIRE_ID…`: acks fires end to end, as a consumer of an external broker
//! does once it handled them (an `ack` task's fire not acked in time is published again).

use anyhow::bail;
use clap::Args;

use super::Conn;
use crate::output;

/// `taskcenter ack`.
#[derive(Debug, Args)]
pub struct AckArgs {
    /// Fire ids, as the message's `fire_id` property carries them.
    #[arg(required = true)]
    pub fire_ids: Vec<String>,
    #[command(flatten)]
    pub conn: Conn,
}

pub async fn ack(args: AckArgs) -> anyhow::Result<()> {
    let asked = args.fire_ids.len();
    let answer = args.conn.client()?.ack_fires(args.fire_ids).await?;
    if args.conn.json {
        output::json(&answer)?;
    } else {
        for fire in &answer.fire_ids {
            println!("acked {fire}");
        }
    }
    if answer.fire_ids.len() < asked {
        bail!(
            "{} of {asked} fire ids were not acked (unknown, or no message awaits them)",
            asked - answer.fire_ids.len()
        );
    }
    Ok(())
}

//! `taskcenter consume TAGS`: prints deliveries and acks each after printing.

use std::io::Write;
use std::time::Duration;

use taskcenter_api::{ConsumeRequest, Message};
use taskcenter_client::ApiClient;

use crate::cli::ConsumeArgs;

pub async fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    let mut client = ApiClient::new(&args.server)?;
    if let Some(token) = &args.auth_token {
        client = client.with_token(token.clone());
    }
    let req = ConsumeRequest {
        group: Some(args.group.clone()),
        tags: Some(args.tags.clone()),
        max: Some(args.max),
        wait_ms: Some(10_000),
    };
    let mut printed: u64 = 0;
    let mut backoff = Duration::from_millis(200);
    loop {
        let messages = match client.consume(&req).await {
            Ok(resp) => {
                backoff = Duration::from_millis(200);
                resp.messages
            }
            Err(e) if e.is_retryable() => {
                eprintln!("taskcenter consume: {e}; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for m in messages {
            print_message(&m, args.json)?;
            ack_with_retry(&client, &args.group, &m.msgid).await?;
            printed += 1;
            if args.count.is_some_and(|c| printed >= c) {
                return Ok(());
            }
        }
    }
}

fn print_message(m: &Message, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, m)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{}  tag={} taskid={} attempt={} fire_time={} data={}",
            m.msgid, m.tag, m.taskid, m.attempt, m.fire_time, m.data
        )?;
    }
    out.flush()?;
    Ok(())
}

async fn ack_with_retry(client: &ApiClient, group: &str, msgid: &str) -> anyhow::Result<()> {
    for attempt in 0..10u32 {
        match client.ack(group, vec![msgid.to_string()]).await {
            Ok(_) => return Ok(()),
            Err(e) if e.is_retryable() && attempt < 9 => {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt + 1))).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

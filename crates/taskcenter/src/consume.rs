//! `taskcenter consume TAGS`: prints deliveries and acks each after printing.
//!
//! It leases no more than it will still print (`--count`), and on every way out it gives
//! back (nacks) what it leased and did not print, so nothing waits for a lease to run out.
//! A reader that goes away (`| head -1`) ends it quietly, with exit status 0.

use std::collections::VecDeque;
use std::io::{ErrorKind, Write};
use std::time::Duration;

use jiff::Timestamp;
use taskcenter_api::{ConsumeRequest, Message};
use taskcenter_client::ApiClient;

use crate::cli::ConsumeArgs;

mod stdout_watch;

/// How long an answer already on its way is waited for once stdout is gone.
const GRACE: Duration = Duration::from_millis(500);

/// How a printing round ended.
enum Stop {
    /// `--count` messages printed.
    Done,
    /// Nobody reads stdout any more.
    ReaderGone,
}

pub async fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    let mut client = ApiClient::new(&args.server)?;
    if let Some(token) = &args.auth_token {
        client = client.with_token(token.clone());
    }
    let reader_gone = stdout_watch::reader_gone();
    tokio::pin!(reader_gone);
    let mut printed: u64 = 0;
    let mut backoff = Duration::from_millis(200);
    loop {
        let max = match args.count {
            Some(count) => args
                .max
                .min(i64::try_from(count - printed).unwrap_or(i64::MAX)),
            None => args.max,
        };
        let req = ConsumeRequest {
            group: Some(args.group.clone()),
            tags: Some(args.tags.clone()),
            max: Some(max),
            wait_ms: Some(10_000),
        };
        let consume = client.consume(&req);
        tokio::pin!(consume);
        let answer = tokio::select! {
            biased;
            answer = &mut consume => answer,
            () = &mut reader_gone => {
                // An answer on its way holds leased messages: wait for it briefly, to give
                // them back. A long-poll still waiting after that has leased nothing.
                if let Ok(Ok(resp)) = tokio::time::timeout(GRACE, &mut consume).await {
                    give_back(&client, &args.group, resp.messages.into()).await;
                }
                return Ok(());
            }
        };
        let messages = match answer {
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
        let mut leased: VecDeque<Message> = messages.into();
        let round = print_and_ack(&client, &args, &mut leased, &mut printed).await;
        give_back(&client, &args.group, leased).await;
        match round? {
            Some(Stop::Done | Stop::ReaderGone) => return Ok(()),
            None => {}
        }
    }
}

/// Prints and acks messages from the front of `leased` until it is empty, `--count` is
/// reached or stdout is gone; what is left in `leased` was not printed.
async fn print_and_ack(
    client: &ApiClient,
    args: &ConsumeArgs,
    leased: &mut VecDeque<Message>,
    printed: &mut u64,
) -> anyhow::Result<Option<Stop>> {
    while let Some(m) = leased.front() {
        match print_message(m, args.json) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(Some(Stop::ReaderGone)),
            Err(e) => return Err(anyhow::Error::new(e).context("writing to stdout")),
        }
        let msgid = m.msgid.clone();
        leased.pop_front();
        ack_with_retry(client, &args.group, &msgid).await?;
        *printed += 1;
        if args.count.is_some_and(|c| *printed >= c) {
            return Ok(Some(Stop::Done));
        }
    }
    Ok(None)
}

fn print_message(m: &Message, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, m)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{}  tag={} taskid={} attempt={} fire_time={} data={}",
            m.msgid,
            m.tag,
            m.taskid,
            m.attempt,
            utc(m.fire_time),
            m.data
        )?;
    }
    out.flush()
}

/// Unix ms as an RFC 3339 UTC time (`2026-12-05T07:50:00.123Z`).
fn utc(ms: i64) -> String {
    Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}

/// Nacks messages leased and not printed, so they are handed out again at once rather
/// than when their lease runs out. Best effort: on failure the lease still ends them.
async fn give_back(client: &ApiClient, group: &str, leased: VecDeque<Message>) {
    if leased.is_empty() {
        return;
    }
    let msgids: Vec<String> = leased.into_iter().map(|m| m.msgid).collect();
    if let Err(e) = client.nack(group, msgids, Some(0)).await {
        eprintln!("taskcenter consume: giving back unprinted messages failed: {e}");
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fire_times_read_as_utc() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_796_086_800_250), "2026-12-01T01:00:00.25Z");
    }
}

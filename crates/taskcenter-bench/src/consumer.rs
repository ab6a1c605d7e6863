//! Consuming the built-in queue as a benchmark consumer: long-poll loops that stamp each
//! batch with the time it arrived and ack it in the background.
//!
//! A consumer *process* (`taskcenter-bench consumer`) runs `polls` such loops and streams
//! one line per batch on stdout, `B <arrived_ms> <lateness_ms>…`, where lateness is the
//! arrival time minus the message's `fire_time`; W2's coordinator reads those lines.

use taskcenter_api::Message;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::Api;
use crate::stats::now_ms;

/// Messages of one consume answer and when the answer arrived (unix ms).
#[derive(Debug)]
pub struct Batch {
    /// Arrival time of the answer, unix ms.
    pub at: i64,
    /// The messages.
    pub messages: Vec<Message>,
}

/// Subscribes the bench group (its first consume call does), without waiting.
pub async fn subscribe(api: &Api, tx: &mpsc::UnboundedSender<Batch>) -> anyhow::Result<()> {
    let messages = api.consume(1000, 0).await?;
    let at = now_ms();
    if !messages.is_empty() {
        ack_later(api, &messages);
        let _ = tx.send(Batch { at, messages });
    }
    Ok(())
}

/// Starts `polls` consume loops sending every batch to `tx`; they run until `tx` closes.
pub fn spawn_loops(
    api: &Api,
    polls: usize,
    max: i64,
    wait_ms: i64,
    tx: mpsc::UnboundedSender<Batch>,
) -> Vec<JoinHandle<()>> {
    (0..polls.max(1))
        .map(|_| {
            let (api, tx) = (api.clone(), tx.clone());
            tokio::spawn(async move {
                while !tx.is_closed() {
                    match api.consume(max, wait_ms).await {
                        Ok(messages) if messages.is_empty() => {}
                        Ok(messages) => {
                            let at = now_ms();
                            ack_later(&api, &messages);
                            if tx.send(Batch { at, messages }).is_err() {
                                break;
                            }
                        }
                        Err(e) => {
                            eprintln!("consume failed: {e:#}");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        }
                    }
                }
            })
        })
        .collect()
}

/// Acks a batch without holding up the next poll.
fn ack_later(api: &Api, messages: &[Message]) {
    let api = api.clone();
    let msgids = messages.iter().map(|m| m.msgid.clone()).collect();
    tokio::spawn(async move {
        if let Err(e) = api.ack(msgids).await {
            eprintln!("ack failed: {e:#}");
        }
    });
}

/// The consumer process: subscribes, prints `ready`, then one `B …` line per batch until
/// its parent kills it or closes its stdin.
pub async fn run_process(url: &str, polls: usize, max: i64, wait_ms: i64) -> anyhow::Result<()> {
    let api = Api::new(url)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    subscribe(&api, &tx).await?;
    let mut out = tokio::io::stdout();
    out.write_all(b"ready\n").await?;
    out.flush().await?;
    let _loops = spawn_loops(&api, polls, max, wait_ms, tx);
    let writer = async move {
        while let Some(batch) = rx.recv().await {
            let mut line = format!("B {}", batch.at);
            for m in &batch.messages {
                line.push(' ');
                line.push_str(&(batch.at - m.fire_time).to_string());
            }
            line.push('\n');
            if out.write_all(line.as_bytes()).await.is_err() || out.flush().await.is_err() {
                break;
            }
        }
    };
    let stdin_closed = async {
        let mut sink = tokio::io::sink();
        let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut sink).await;
    };
    tokio::select! {
        _ = writer => {}
        _ = stdin_closed => {}
    }
    Ok(())
}

//! What W5 needs of a broker: a fresh topic, a minimal publisher loop written with the
//! broker's own client crate (the ceiling), and a witness that reads back, from the broker
//! or a consumer of it, when each message arrived.

use std::time::Duration;

use anyhow::bail;
use futures_util::{StreamExt, TryStreamExt};

use crate::stats::now_ms;

/// One message shaped like a fire as taskcenter publishes it: the same body and the same
/// properties, so the ceiling moves as many bytes per message as the relay does.
#[derive(Debug, Clone)]
pub struct Fire {
    pub tag: String,
    pub taskid: String,
    pub fire_time: i64,
    pub fire_id: String,
    pub attempt: i64,
    pub data: String,
}

impl Fire {
    /// The `i`-th message of a ceiling run, shaped like the `i`-th fire of the run.
    pub fn nth(i: usize, fire_time: i64) -> Self {
        let taskid = format!("{:024x}", i as u64 | 0x6700_0000_0000_0000);
        Self {
            tag: super::TASK_NAME.into(),
            fire_id: format!("{taskid}-{fire_time}"),
            taskid,
            fire_time,
            attempt: 1,
            data: format!("{}-{i}", super::TASK_NAME),
        }
    }

    /// The properties every broker carries, as `(name, value)`, in the publishers' order.
    pub fn properties(&self) -> [(&'static str, String); 5] {
        [
            ("tag", self.tag.clone()),
            ("taskid", self.taskid.clone()),
            ("fire_time", self.fire_time.to_string()),
            ("fire_id", self.fire_id.clone()),
            ("attempt", self.attempt.to_string()),
        ]
    }
}

/// A broker W5 publishes to. One implementation per broker; adding a broker is one more
/// module and one more line in `w5::run`.
pub trait Broker: Sized {
    /// The broker's key in the output (the publisher's kind).
    const NAME: &'static str;

    /// Connects and makes `topic` ready and empty, with the witness listening.
    async fn open(topic: &str) -> anyhow::Result<Self>;

    /// The `--publisher` URL taskcenter gets.
    fn publisher_url(&self) -> String;

    /// The minimal publisher loop's step: sends `batch` and waits for the broker to confirm
    /// every message, as the publisher does.
    async fn publish_batch(&self, batch: &[Fire]) -> anyhow::Result<()>;

    /// How many messages the broker (or its consumer) has so far.
    async fn count(&self) -> anyhow::Result<usize>;

    /// When each message reached the broker, unix ms, as the broker or its consumer saw it.
    async fn arrivals(&self) -> anyhow::Result<Vec<i64>>;

    /// Deletes what `open` made.
    async fn close(self) -> anyhow::Result<()>;
}

/// Publishes `fires` in batches of `batch`, `inflight` batches at once, each batch
/// confirmed before its slot takes the next: the relay's way of publishing.
pub async fn publish_all<B: Broker>(
    broker: &B,
    fires: &[Fire],
    batch: usize,
    inflight: usize,
) -> anyhow::Result<()> {
    futures_util::stream::iter(fires.chunks(batch.max(1)))
        .map(|chunk| broker.publish_batch(chunk))
        .buffered(inflight.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// Waits until the broker has `n` messages, up to `until` (unix ms); returns how many
/// it has then.
pub async fn wait_count<B: Broker>(broker: &B, n: usize, until: i64) -> anyhow::Result<usize> {
    loop {
        let seen = broker.count().await?;
        if seen >= n || now_ms() >= until {
            return Ok(seen);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Fails unless exactly `want` arrivals were read back.
pub fn expect_all(broker: &str, arrivals: &[i64], want: usize) -> anyhow::Result<()> {
    if arrivals.len() != want {
        bail!("{broker}: {} of {want} messages read back", arrivals.len());
    }
    Ok(())
}

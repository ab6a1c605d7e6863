//! Redis Streams in W5: the ceiling loop with the redis crate (the same `XADD` fields, one
//! pipeline per batch), and as witness the stream itself: `XLEN`, and per entry the
//! millisecond Redis appended it, which is the first half of its entry id.

use anyhow::Context as _;
use redis::aio::MultiplexedConnection;
use redis::streams::StreamRangeReply;

use super::broker::{Broker, Fire};

/// The machine's Redis.
pub const URL: &str = "redis://127.0.0.1:6379/0";

/// Entries read back per `XRANGE`.
const PAGE: usize = 10_000;

pub struct Redis {
    conn: MultiplexedConnection,
    topic: String,
}

impl Broker for Redis {
    const NAME: &'static str = "redis";

    async fn open(topic: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(URL)?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("DEL")
            .arg(topic)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(Self {
            conn,
            topic: topic.into(),
        })
    }

    fn publisher_url(&self) -> String {
        URL.into()
    }

    async fn publish_batch(&self, batch: &[Fire]) -> anyhow::Result<()> {
        let mut pipe = redis::pipe();
        for m in batch {
            let cmd = pipe.cmd("XADD").arg(&self.topic).arg("*");
            for (name, value) in m.properties() {
                cmd.arg(name).arg(value);
            }
            cmd.arg("data").arg(m.data.as_bytes());
        }
        let ids: Vec<String> = pipe.query_async(&mut self.conn.clone()).await?;
        anyhow::ensure!(ids.len() == batch.len(), "redis answered {} ids", ids.len());
        Ok(())
    }

    async fn count(&self) -> anyhow::Result<usize> {
        let n: usize = redis::cmd("XLEN")
            .arg(&self.topic)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(n)
    }

    async fn arrivals(&self) -> anyhow::Result<Vec<i64>> {
        let mut out = Vec::new();
        let mut from = "-".to_string();
        loop {
            let page: StreamRangeReply = redis::cmd("XRANGE")
                .arg(&self.topic)
                .arg(&from)
                .arg("+")
                .arg("COUNT")
                .arg(PAGE)
                .query_async(&mut self.conn.clone())
                .await?;
            for entry in &page.ids {
                let ms = entry.id.split('-').next().unwrap_or_default();
                out.push(ms.parse().context("stream entry id")?);
            }
            match page.ids.last() {
                Some(last) if page.ids.len() == PAGE => from = format!("({}", last.id),
                _ => return Ok(out),
            }
        }
    }

    async fn close(self) -> anyhow::Result<()> {
        redis::cmd("DEL")
            .arg(&self.topic)
            .query_async::<()>(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}

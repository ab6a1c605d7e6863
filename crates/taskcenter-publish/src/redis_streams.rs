//! Redis Streams: each fire is `XADD <topic> [MAXLEN ~ N] * tag … taskid … fire_time …
//! fire_id … attempt … data …`; the entry id Redis answers is the broker's id. A batch is
//! one pipeline. With a `MAXLEN` the stream keeps about the newest N entries: Redis trims
//! whole nodes only (`~`), which costs next to nothing, so it may keep a few more.

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use tokio::sync::Mutex;

use crate::{OpenError, OutMessage, PublishError, PublishResult, Publisher, PublisherOptions};

/// Appends fires to one stream, connecting on first use and again after a failure.
pub(crate) struct RedisStreams {
    client: redis::Client,
    topic: String,
    maxlen: Option<u64>,
    timeout: std::time::Duration,
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl RedisStreams {
    pub(crate) fn new(url: &str, o: &PublisherOptions) -> Result<Self, OpenError> {
        let client =
            redis::Client::open(url).map_err(|e| OpenError::Invalid(format!("redis URL: {e}")))?;
        Ok(Self {
            client,
            topic: o.topic.clone(),
            maxlen: o.redis_maxlen,
            timeout: o.timeout,
            conn: Mutex::new(None),
        })
    }

    async fn xadd_all(
        &self,
        conn: &mut MultiplexedConnection,
        batch: &[OutMessage],
    ) -> Result<Vec<String>, PublishError> {
        let mut pipe = redis::pipe();
        for m in batch {
            let cmd = pipe.cmd("XADD").arg(&self.topic);
            if let Some(n) = self.maxlen {
                cmd.arg("MAXLEN").arg("~").arg(n);
            }
            cmd.arg("*");
            for (name, value) in m.properties() {
                cmd.arg(name).arg(value);
            }
            cmd.arg("data").arg(m.data.as_bytes());
        }
        let ids = tokio::time::timeout(self.timeout, pipe.query_async::<Vec<String>>(conn))
            .await
            .map_err(|_| PublishError::unavailable("redis XADD timed out"))?
            .map_err(|e| PublishError::unavailable(format!("redis XADD: {e}")))?;
        Ok(ids)
    }
}

#[async_trait]
impl Publisher for RedisStreams {
    fn broker(&self) -> &'static str {
        "redis"
    }

    async fn publish(&self, batch: &[OutMessage]) -> Vec<PublishResult> {
        let mut slot = self.conn.lock().await;
        let mut conn = match slot.as_ref() {
            Some(c) => c.clone(),
            None => {
                let connecting = self.client.get_multiplexed_async_connection();
                match tokio::time::timeout(self.timeout, connecting).await {
                    Ok(Ok(c)) => {
                        *slot = Some(c.clone());
                        c
                    }
                    Ok(Err(e)) => {
                        let e = PublishError::unavailable(format!("redis connect: {e}"));
                        return vec![Err(e); batch.len()];
                    }
                    Err(_) => {
                        let e = PublishError::unavailable("redis connect timed out");
                        return vec![Err(e); batch.len()];
                    }
                }
            }
        };
        match self.xadd_all(&mut conn, batch).await {
            Ok(ids) if ids.len() == batch.len() => ids.into_iter().map(Ok).collect(),
            Ok(ids) => {
                *slot = None;
                let e = PublishError::unavailable(format!("redis answered {} ids", ids.len()));
                vec![Err(e); batch.len()]
            }
            Err(e) => {
                *slot = None;
                vec![Err(e); batch.len()]
            }
        }
    }
}

//! Redis Streams: the server appends each fire to stream `<topic>`. A group is a consumer
//! group of that name (created at the stream's start, so it gets what the stream holds).
//! New entries are read with `XREADGROUP`; each running handler's entry is kept by
//! resetting its idle time (`XCLAIM … JUSTID`) every third of the lease. A failure leaves
//! the entry pending with its idle time set to the lease; a pending entry is claimed again
//! (`XCLAIM`, which counts a delivery) once its idle time passes the lease plus the
//! ladder's delay for its delivery count — so a failure is retried after its delay and an
//! entry of a consumer that died is taken over after the lease plus that delay. After the
//! last delivery the entry is added to the dead-letter stream `<topic>:dead` with a `group`
//! and a `reason` field, and acked.
//!
//! The retry scan uses `XPENDING` with an idle filter and `XCLAIM` per entry rather than
//! `XAUTOCLAIM`, because the delay differs per entry with its delivery count.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use redis::{AsyncConnectionConfig, Value};

use super::{BrokerError, Delivery, Plan, Session, Settle, fire_message};
use crate::consumer::handlers::AbortOnDrop;

/// Longest a read blocks, so that due retries are claimed about this often.
const MAX_BLOCK: Duration = Duration::from_millis(500);

/// Most pending entries looked at in one retry scan.
const SCAN: usize = 100;

/// Two connections: blocking reads on one, everything else on the other, so a blocked
/// read never holds up an ack.
pub(crate) struct RedisSession {
    reader: MultiplexedConnection,
    writer: MultiplexedConnection,
    plan: Plan,
    consumer: String,
}

fn err(what: &str) -> impl Fn(redis::RedisError) -> BrokerError + '_ {
    move |e| BrokerError::new(what, e)
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RedisSession {
    pub(crate) async fn connect(url: &str, plan: &Plan) -> Result<Self, BrokerError> {
        let client = redis::Client::open(url).map_err(err("redis URL"))?;
        let blocking = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(MAX_BLOCK + Duration::from_secs(5)));
        let reader = client
            .get_multiplexed_async_connection_with_config(&blocking)
            .await
            .map_err(err("redis connect"))?;
        let mut writer = client
            .get_multiplexed_async_connection_with_config(&blocking)
            .await
            .map_err(err("redis connect"))?;
        let created: Result<(), _> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&plan.topic)
            .arg(&plan.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut writer)
            .await;
        if let Err(e) = created
            && e.code() != Some("BUSYGROUP")
        {
            return Err(BrokerError::new("redis XGROUP CREATE", e));
        }
        let consumer = format!(
            "{}-{}-{:08x}",
            hostname(),
            std::process::id(),
            fastrand::u32(..)
        );
        Ok(Self {
            reader,
            writer,
            plan: plan.clone(),
            consumer,
        })
    }

    /// Pending entries whose retry is due, claimed for this consumer (up to `max`).
    async fn claim_due(&mut self, max: usize) -> Result<Vec<(StreamId, u32)>, BrokerError> {
        let lease = ms(self.plan.lease);
        let pending: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(&self.plan.topic)
            .arg(&self.plan.group)
            .arg("IDLE")
            .arg(lease)
            .arg("-")
            .arg("+")
            .arg(SCAN)
            .query_async(&mut self.writer)
            .await
            .map_err(err("redis XPENDING"))?;
        let mut out = Vec::new();
        for p in pending.ids {
            if out.len() >= max {
                break;
            }
            let count = u32::try_from(p.times_delivered).unwrap_or(u32::MAX);
            let delay = self
                .plan
                .ladder
                .get((count as usize).saturating_sub(1))
                .copied()
                .unwrap_or(Duration::ZERO);
            let due = lease + ms(delay);
            if (p.last_delivered_ms as u64) < due {
                continue;
            }
            // Claims only if still idle that long: another consumer may have taken it.
            let claimed: StreamClaimReply = redis::cmd("XCLAIM")
                .arg(&self.plan.topic)
                .arg(&self.plan.group)
                .arg(&self.consumer)
                .arg(due)
                .arg(&p.id)
                .query_async(&mut self.writer)
                .await
                .map_err(err("redis XCLAIM"))?;
            for entry in claimed.ids {
                out.push((entry, count.saturating_add(1)));
            }
        }
        Ok(out)
    }

    fn delivery(&self, entry: StreamId, deliveries: u32) -> Delivery {
        let text = |name: &str| -> Option<Vec<u8>> {
            entry
                .map
                .get(name)
                .and_then(|v| redis::from_redis_value::<Vec<u8>>(v.clone()).ok())
        };
        let prop = |name: &str| text(name).map(|b| String::from_utf8_lossy(&b).into_owned());
        let data = text("data").unwrap_or_default();
        let message = fire_message(prop, "", &data, entry.id.clone(), deliveries);
        let fields: Vec<(String, Vec<u8>)> = entry
            .map
            .iter()
            .filter_map(|(k, v)| {
                redis::from_redis_value::<Vec<u8>>(v.clone())
                    .ok()
                    .map(|b| (k.clone(), b))
            })
            .collect();
        let keeper = AbortOnDrop(tokio::spawn(keep_idle_low(
            self.writer.clone(),
            self.plan.clone(),
            self.consumer.clone(),
            entry.id.clone(),
        )));
        Delivery {
            message,
            deliveries,
            settle: Box::new(RedisSettle {
                conn: self.writer.clone(),
                plan: self.plan.clone(),
                consumer: self.consumer.clone(),
                id: entry.id,
                fields,
                _keeper: keeper,
            }),
        }
    }
}

#[async_trait]
impl Session for RedisSession {
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BrokerError> {
        let due = self.claim_due(max).await?;
        if !due.is_empty() {
            return Ok(due
                .into_iter()
                .map(|(entry, n)| self.delivery(entry, n))
                .collect());
        }
        let block = wait.clamp(Duration::from_millis(1), MAX_BLOCK);
        let reply: Option<StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.plan.group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(max)
            .arg("BLOCK")
            .arg(ms(block))
            .arg("STREAMS")
            .arg(&self.plan.topic)
            .arg(">")
            .query_async(&mut self.reader)
            .await
            .map_err(err("redis XREADGROUP"))?;
        let entries = reply
            .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect::<Vec<_>>())
            .unwrap_or_default();
        Ok(entries.into_iter().map(|e| self.delivery(e, 1)).collect())
    }
}

/// Resets the entry's idle time every third of the lease while its handler runs.
async fn keep_idle_low(mut conn: MultiplexedConnection, plan: Plan, consumer: String, id: String) {
    let every = (plan.lease / 3).max(Duration::from_millis(200));
    loop {
        tokio::time::sleep(every).await;
        let kept: Result<Value, _> = redis::cmd("XCLAIM")
            .arg(&plan.topic)
            .arg(&plan.group)
            .arg(&consumer)
            .arg(0)
            .arg(&id)
            .arg("JUSTID")
            .query_async(&mut conn)
            .await;
        if kept.is_err() {
            return;
        }
    }
}

struct RedisSettle {
    conn: MultiplexedConnection,
    plan: Plan,
    consumer: String,
    id: String,
    fields: Vec<(String, Vec<u8>)>,
    _keeper: AbortOnDrop<()>,
}

impl RedisSettle {
    /// Sets the entry's idle time to `idle_ms` without counting a delivery.
    async fn set_idle(&mut self, idle_ms: u64) -> Result<(), BrokerError> {
        let _: Value = redis::cmd("XCLAIM")
            .arg(&self.plan.topic)
            .arg(&self.plan.group)
            .arg(&self.consumer)
            .arg(0)
            .arg(&self.id)
            .arg("IDLE")
            .arg(idle_ms)
            .arg("JUSTID")
            .query_async(&mut self.conn)
            .await
            .map_err(err("redis XCLAIM"))?;
        Ok(())
    }
}

#[async_trait]
impl Settle for RedisSettle {
    async fn ack(mut self: Box<Self>) -> Result<(), BrokerError> {
        let _: i64 = redis::cmd("XACK")
            .arg(&self.plan.topic)
            .arg(&self.plan.group)
            .arg(&self.id)
            .query_async(&mut self.conn)
            .await
            .map_err(err("redis XACK"))?;
        Ok(())
    }

    async fn retry(mut self: Box<Self>, _delay: Duration) -> Result<(), BrokerError> {
        // The scan claims it once idle for the lease plus the delay of its delivery count.
        self._keeper.0.abort();
        let lease = ms(self.plan.lease);
        self.set_idle(lease).await
    }

    async fn dead(mut self: Box<Self>, reason: &str) -> Result<(), BrokerError> {
        self._keeper.0.abort();
        let mut pipe = redis::pipe();
        pipe.atomic();
        let add = pipe
            .cmd("XADD")
            .arg(format!("{}:dead", self.plan.topic))
            .arg("*");
        for (k, v) in &self.fields {
            add.arg(k).arg(v.as_slice());
        }
        add.arg("group")
            .arg(&self.plan.group)
            .arg("entry")
            .arg(&self.id)
            .arg("reason")
            .arg(reason);
        pipe.cmd("XACK")
            .arg(&self.plan.topic)
            .arg(&self.plan.group)
            .arg(&self.id)
            .ignore();
        let _: Value = pipe
            .query_async(&mut self.conn)
            .await
            .map_err(err("redis dead letter"))?;
        Ok(())
    }

    async fn release(mut self: Box<Self>) -> Result<(), BrokerError> {
        self._keeper.0.abort();
        // Idle long enough that the next scan of any consumer claims it at once.
        let idle =
            ms(self.plan.lease) + ms(self.plan.ladder.iter().copied().max().unwrap_or_default());
        self.set_idle(idle).await
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "consumer".into())
}

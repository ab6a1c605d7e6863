//! RabbitMQ in W5: the exchange the publisher declares (durable, topic), the ceiling loop
//! with lapin (the same persistent messages and headers on a confirm-mode channel, then
//! every confirm awaited), and as witness a consumer on its own connection: an exclusive
//! queue bound with `#`, auto-ack, noting when each message arrived (RabbitMQ keeps no
//! arrival time of its own).

use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};

use super::broker::{Broker, Fire};
use crate::stats::now_ms;

/// The machine's RabbitMQ.
pub const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Delivery mode of a message RabbitMQ keeps on disk.
const PERSISTENT: u8 = 2;

pub struct Amqp {
    // Kept so the connections live as long as their channels.
    _publishing: Connection,
    _consuming: Connection,
    channel: Channel,
    topic: String,
    seen: Arc<Mutex<Vec<i64>>>,
}

impl Amqp {
    fn properties(m: &Fire) -> BasicProperties {
        let mut headers = FieldTable::default();
        for (name, value) in m.properties() {
            headers.insert(
                ShortString::from(name),
                AMQPValue::LongString(LongString::from(value)),
            );
        }
        BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_message_id(ShortString::from(m.fire_id.as_str()))
            .with_headers(headers)
    }
}

impl Broker for Amqp {
    const NAME: &'static str = "amqp";

    async fn open(topic: &str) -> anyhow::Result<Self> {
        let publishing = Connection::connect(URL, ConnectionProperties::default()).await?;
        let channel = publishing.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        channel
            .exchange_declare(
                ShortString::from(topic),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await?;
        let consuming = Connection::connect(URL, ConnectionProperties::default()).await?;
        let ch = consuming.create_channel().await?;
        let exclusive = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..QueueDeclareOptions::default()
        };
        let q = ch
            .queue_declare(ShortString::from(""), exclusive, FieldTable::default())
            .await?;
        ch.queue_bind(
            q.name().clone(),
            ShortString::from(topic),
            ShortString::from("#"),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
        let no_ack = BasicConsumeOptions {
            no_ack: true,
            ..BasicConsumeOptions::default()
        };
        let mut consumer = ch
            .basic_consume(
                q.name().clone(),
                ShortString::from("w5"),
                no_ack,
                FieldTable::default(),
            )
            .await?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let noted = seen.clone();
        tokio::spawn(async move {
            while let Some(Ok(_)) = consumer.next().await {
                if let Ok(mut v) = noted.lock() {
                    v.push(now_ms());
                }
            }
        });
        Ok(Self {
            _publishing: publishing,
            _consuming: consuming,
            channel,
            topic: topic.into(),
            seen,
        })
    }

    fn publisher_url(&self) -> String {
        URL.into()
    }

    async fn publish_batch(&self, batch: &[Fire]) -> anyhow::Result<()> {
        let mut pending = Vec::with_capacity(batch.len());
        for m in batch {
            pending.push(
                self.channel
                    .basic_publish(
                        ShortString::from(self.topic.as_str()),
                        ShortString::from(m.tag.as_str()),
                        BasicPublishOptions::default(),
                        m.data.as_bytes(),
                        Self::properties(m),
                    )
                    .await?,
            );
        }
        for confirm in pending {
            match confirm.await? {
                Confirmation::Ack(_) => {}
                other => anyhow::bail!("amqp confirm: {other:?}"),
            }
        }
        Ok(())
    }

    async fn count(&self) -> anyhow::Result<usize> {
        Ok(self.seen.lock().map(|v| v.len()).unwrap_or(0))
    }

    async fn arrivals(&self) -> anyhow::Result<Vec<i64>> {
        Ok(self.seen.lock().map(|v| v.clone()).unwrap_or_default())
    }

    async fn close(self) -> anyhow::Result<()> {
        self.channel
            .exchange_delete(
                ShortString::from(self.topic.as_str()),
                ExchangeDeleteOptions::default(),
            )
            .await?;
        Ok(())
    }
}

//! RabbitMQ: a durable topic exchange `<topic>` (declared if missing); each fire a
//! persistent message with routing key = name, `message_id` = fire id and the properties
//! as headers, sent once the broker's publisher confirm acked it.

use async_trait::async_trait;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use tokio::sync::Mutex;

use crate::{OutMessage, PublishError, PublishResult, Publisher, PublisherOptions};

/// Delivery mode of a message RabbitMQ keeps on disk.
const PERSISTENT: u8 = 2;

/// An open connection and its confirm-mode channel.
struct Link {
    // Kept so the connection lives as long as its channel.
    _connection: Connection,
    channel: Channel,
}

/// Publishes to one exchange, connecting on first use and again after a failure.
pub(crate) struct Amqp {
    url: String,
    topic: String,
    timeout: std::time::Duration,
    link: Mutex<Option<Link>>,
}

impl Amqp {
    pub(crate) fn new(url: &str, o: &PublisherOptions) -> Self {
        Self {
            url: url.into(),
            topic: o.topic.clone(),
            timeout: o.timeout,
            link: Mutex::new(None),
        }
    }

    async fn connect(&self) -> Result<Link, lapin::Error> {
        let connection = Connection::connect(&self.url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        channel
            .exchange_declare(
                ShortString::from(self.topic.as_str()),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await?;
        Ok(Link {
            _connection: connection,
            channel,
        })
    }

    fn properties(m: &OutMessage) -> BasicProperties {
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

    async fn publish_on(&self, channel: &Channel, batch: &[OutMessage]) -> Vec<PublishResult> {
        let mut pending = Vec::with_capacity(batch.len());
        for m in batch {
            pending.push(
                channel
                    .basic_publish(
                        ShortString::from(self.topic.as_str()),
                        ShortString::from(m.tag.as_str()),
                        BasicPublishOptions::default(),
                        m.data.as_bytes(),
                        Self::properties(m),
                    )
                    .await,
            );
        }
        let mut out = Vec::with_capacity(batch.len());
        for (m, sent) in batch.iter().zip(pending) {
            let confirm = match sent {
                Ok(confirm) => confirm,
                Err(e) => {
                    out.push(Err(PublishError::unavailable(format!("amqp publish: {e}"))));
                    continue;
                }
            };
            out.push(match confirm.await {
                Ok(Confirmation::Ack(_)) => Ok(m.fire_id.clone()),
                Ok(other) => Err(PublishError::unavailable(format!(
                    "amqp confirm: {other:?}"
                ))),
                Err(e) => Err(PublishError::unavailable(format!("amqp confirm: {e}"))),
            });
        }
        out
    }
}

#[async_trait]
impl Publisher for Amqp {
    fn broker(&self) -> &'static str {
        "amqp"
    }

    async fn publish(&self, batch: &[OutMessage]) -> Vec<PublishResult> {
        let mut slot = self.link.lock().await;
        if slot.is_none() {
            match tokio::time::timeout(self.timeout, self.connect()).await {
                Ok(Ok(link)) => *slot = Some(link),
                Ok(Err(e)) => {
                    let e = PublishError::unavailable(format!("amqp connect: {e}"));
                    return vec![Err(e); batch.len()];
                }
                Err(_) => {
                    let e = PublishError::unavailable("amqp connect timed out");
                    return vec![Err(e); batch.len()];
                }
            }
        }
        let Some(link) = slot.as_ref() else {
            return vec![Err(PublishError::unavailable("amqp not connected")); batch.len()];
        };
        let publishing = self.publish_on(&link.channel, batch);
        let out = match tokio::time::timeout(self.timeout, publishing).await {
            Ok(out) => out,
            Err(_) => vec![Err(PublishError::unavailable("amqp confirm timed out")); batch.len()],
        };
        if out.iter().any(Result::is_err) {
            *slot = None;
        }
        out
    }
}

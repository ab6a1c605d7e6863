//! RabbitMQ: the server publishes each fire to the durable topic exchange `<topic>` with
//! the task's name as routing key. A group is the durable queue `<topic>.<group>`, bound
//! with each tag of the handlers (`#` for `*`), read with a prefetch of the concurrency.
//!
//! Retries go through one durable queue per delay of the ladder,
//! `<topic>.<group>.retry.<ms>`, whose messages expire after that delay and are then
//! dead-lettered by RabbitMQ back into the group's queue: a failed message is published
//! there (confirmed) with header `taskcenter-delivery` counting its deliveries (a
//! redelivery by RabbitMQ itself counts one more), then acked. After the last delivery it is rejected, and RabbitMQ dead-letters it through the
//! exchange `<topic>.dead` (direct, routing key = group) into the durable queue
//! `<topic>.dead.<group>`, with the broker's own `x-death` header.
//!
//! A group's queue only gets fires published after it was bound. Queues keep the
//! arguments they were declared with: changing a group's ladder adds retry queues, the old
//! ones stay until deleted.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::message::Delivery as AmqpDelivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Consumer};

use super::{BrokerError, Delivery, Plan, Session, Settle, fire_message};

/// The header counting a message's deliveries across retry queues.
const DELIVERY_HEADER: &str = "taskcenter-delivery";

/// Delivery mode of a message RabbitMQ keeps on disk.
const PERSISTENT: u8 = 2;

pub(crate) struct AmqpSession {
    connection: Arc<Connection>,
    channel: Channel,
    consumer: Consumer,
    plan: Plan,
}

fn err(what: &str) -> impl Fn(lapin::Error) -> BrokerError + '_ {
    move |e| BrokerError::new(what, e)
}

fn s(text: &str) -> ShortString {
    ShortString::from(text)
}

fn group_queue(plan: &Plan) -> String {
    format!("{}.{}", plan.topic, plan.group)
}

fn retry_queue(plan: &Plan, delay: Duration) -> String {
    format!("{}.{}.retry.{}", plan.topic, plan.group, delay.as_millis())
}

fn durable_exchange() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    }
}

fn durable_queue() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    }
}

impl AmqpSession {
    pub(crate) async fn connect(url: &str, plan: &Plan) -> Result<Self, BrokerError> {
        let connecting = Connection::connect(url, ConnectionProperties::default());
        let connection = tokio::time::timeout(Duration::from_secs(10), connecting)
            .await
            .map_err(|_| BrokerError("amqp connect timed out".into()))?
            .map_err(err("amqp connect"))?;
        let channel = connection
            .create_channel()
            .await
            .map_err(err("amqp channel"))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(err("amqp confirm mode"))?;
        let prefetch = u16::try_from(plan.concurrency).unwrap_or(u16::MAX).max(1);
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await
            .map_err(err("amqp qos"))?;
        declare(&channel, plan).await?;
        let consumer = channel
            .basic_consume(
                s(&group_queue(plan)),
                s(""),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(err("amqp consume"))?;
        Ok(Self {
            connection: Arc::new(connection),
            channel,
            consumer,
            plan: plan.clone(),
        })
    }

    fn delivery(&self, d: AmqpDelivery) -> Delivery {
        let headers = d.properties.headers().clone().unwrap_or_default();
        let prop = |name: &str| headers.inner().get(name).map(text);
        // The header counts deliveries across retry queues; RabbitMQ's redelivered flag
        // adds the one that never settled (its consumer died or gave it back).
        let counted: u32 = prop(DELIVERY_HEADER)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let deliveries = counted + u32::from(d.redelivered);
        let fire_id = prop("fire_id").unwrap_or_default();
        let msgid = format!("{fire_id}:{}", prop("attempt").unwrap_or_default());
        let message = fire_message(prop, d.routing_key.as_str(), &d.data, msgid, deliveries);
        Delivery {
            message,
            deliveries,
            settle: Box::new(AmqpSettle {
                _connection: self.connection.clone(),
                channel: self.channel.clone(),
                plan: self.plan.clone(),
                deliveries,
                d,
            }),
        }
    }
}

/// Declares the group's exchanges and queues (idempotent; the same exchange as the server).
async fn declare(channel: &Channel, plan: &Plan) -> Result<(), BrokerError> {
    let dead_exchange = format!("{}.dead", plan.topic);
    let dead_queue = format!("{}.dead.{}", plan.topic, plan.group);
    let main = group_queue(plan);
    channel
        .exchange_declare(
            s(&plan.topic),
            lapin::ExchangeKind::Topic,
            durable_exchange(),
            FieldTable::default(),
        )
        .await
        .map_err(err("amqp exchange"))?;
    channel
        .exchange_declare(
            s(&dead_exchange),
            lapin::ExchangeKind::Direct,
            durable_exchange(),
            FieldTable::default(),
        )
        .await
        .map_err(err("amqp dead-letter exchange"))?;
    channel
        .queue_declare(s(&dead_queue), durable_queue(), FieldTable::default())
        .await
        .map_err(err("amqp dead-letter queue"))?;
    channel
        .queue_bind(
            s(&dead_queue),
            s(&dead_exchange),
            s(&plan.group),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(err("amqp dead-letter binding"))?;
    let mut args = FieldTable::default();
    args.insert(s("x-dead-letter-exchange"), long_string(&dead_exchange));
    args.insert(s("x-dead-letter-routing-key"), long_string(&plan.group));
    channel
        .queue_declare(s(&main), durable_queue(), args)
        .await
        .map_err(err("amqp group queue"))?;
    let keys = match &plan.tags {
        Some(tags) => tags.clone(),
        None => vec!["#".to_string()],
    };
    for key in keys {
        channel
            .queue_bind(
                s(&main),
                s(&plan.topic),
                s(&key),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(err("amqp binding"))?;
    }
    let mut delays = plan.ladder.clone();
    delays.sort_unstable();
    delays.dedup();
    for delay in delays {
        let mut args = FieldTable::default();
        let ttl = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        args.insert(s("x-message-ttl"), AMQPValue::LongLongInt(ttl));
        args.insert(s("x-dead-letter-exchange"), long_string(""));
        args.insert(s("x-dead-letter-routing-key"), long_string(&main));
        channel
            .queue_declare(s(&retry_queue(plan, delay)), durable_queue(), args)
            .await
            .map_err(err("amqp retry queue"))?;
    }
    Ok(())
}

fn long_string(text: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(text))
}

fn text(v: &AMQPValue) -> String {
    match v {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.as_str().to_string(),
        AMQPValue::LongLongInt(n) => n.to_string(),
        AMQPValue::LongInt(n) => n.to_string(),
        AMQPValue::LongUInt(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

#[async_trait]
impl Session for AmqpSession {
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BrokerError> {
        let mut out = Vec::new();
        let first = match tokio::time::timeout(wait, self.consumer.next()).await {
            Err(_) => return Ok(out),
            Ok(None) => return Err(BrokerError("amqp consumer closed".into())),
            Ok(Some(d)) => d.map_err(err("amqp delivery"))?,
        };
        out.push(self.delivery(first));
        while out.len() < max {
            match futures_util::FutureExt::now_or_never(self.consumer.next()) {
                Some(Some(Ok(d))) => out.push(self.delivery(d)),
                Some(Some(Err(e))) => return Err(BrokerError::new("amqp delivery", e)),
                Some(None) | None => break,
            }
        }
        Ok(out)
    }
}

struct AmqpSettle {
    // Kept so the connection lives as long as a message of it is unsettled.
    _connection: Arc<Connection>,
    channel: Channel,
    plan: Plan,
    deliveries: u32,
    d: AmqpDelivery,
}

#[async_trait]
impl Settle for AmqpSettle {
    async fn ack(self: Box<Self>) -> Result<(), BrokerError> {
        self.d
            .acker
            .ack(BasicAckOptions::default())
            .await
            .map(drop)
            .map_err(err("amqp ack"))
    }

    async fn retry(self: Box<Self>, delay: Duration) -> Result<(), BrokerError> {
        let mut headers = self.d.properties.headers().clone().unwrap_or_default();
        headers.insert(
            s(DELIVERY_HEADER),
            long_string(&(self.deliveries + 1).to_string()),
        );
        let properties = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_headers(headers);
        let properties = match self.d.properties.message_id() {
            Some(id) => properties.with_message_id(id.clone()),
            None => properties,
        };
        let confirm = self
            .channel
            .basic_publish(
                s(""),
                s(&retry_queue(&self.plan, delay)),
                BasicPublishOptions::default(),
                &self.d.data,
                properties,
            )
            .await
            .map_err(err("amqp retry publish"))?
            .await
            .map_err(err("amqp retry confirm"))?;
        if !matches!(confirm, Confirmation::Ack(_)) {
            return Err(BrokerError(format!("amqp retry confirm: {confirm:?}")));
        }
        self.d
            .acker
            .ack(BasicAckOptions::default())
            .await
            .map(drop)
            .map_err(err("amqp ack"))
    }

    async fn dead(self: Box<Self>, _reason: &str) -> Result<(), BrokerError> {
        self.d
            .acker
            .reject(BasicRejectOptions { requeue: false })
            .await
            .map(drop)
            .map_err(err("amqp reject"))
    }

    async fn release(self: Box<Self>) -> Result<(), BrokerError> {
        let requeue = BasicNackOptions {
            multiple: false,
            requeue: true,
        };
        self.d
            .acker
            .nack(requeue)
            .await
            .map(drop)
            .map_err(err("amqp nack"))
    }
}

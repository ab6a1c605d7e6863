//! A RabbitMQ consumer (lapin): an exclusive queue bound with `#` to the topic exchange
//! `<topic>`.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, channel};

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use tokio::runtime::Runtime;

use super::proxy::Proxy;
use super::{Broker, Got};

pub const ADDR: &str = "127.0.0.1:5672";

pub struct Amqp {
    proxy: Proxy,
}

fn text(v: &AMQPValue) -> String {
    match v {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.as_str().to_string(),
        other => format!("{other:?}"),
    }
}

impl Broker for Amqp {
    const KIND: &'static str = "amqp";

    fn start(rt: &Runtime, topic: &str) -> (Self, Receiver<Got>) {
        let (tx, rx) = channel();
        let mut consumer = rt.block_on(async {
            let url = format!("amqp://guest:guest@{ADDR}/%2f");
            let conn = Connection::connect(&url, ConnectionProperties::default())
                .await
                .expect("RabbitMQ runs on 127.0.0.1:5672 (scripts/test.sh starts it)");
            let ch = conn.create_channel().await.expect("channel");
            // The same declaration as the server's: whoever comes first creates it.
            let durable = ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            };
            ch.exchange_declare(
                ShortString::from(topic),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await
            .expect("exchange");
            let exclusive = QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            };
            let q = ch
                .queue_declare(ShortString::from(""), exclusive, FieldTable::default())
                .await
                .expect("queue");
            ch.queue_bind(
                q.name().clone(),
                ShortString::from(topic),
                ShortString::from("#"),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind");
            let consumer = ch
                .basic_consume(
                    q.name().clone(),
                    ShortString::from("test"),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .expect("consume");
            // The connection lives as long as the runtime does.
            std::mem::forget(conn);
            consumer
        });
        rt.spawn(async move {
            while let Some(Ok(d)) = consumer.next().await {
                let mut props = BTreeMap::new();
                if let Some(headers) = d.properties.headers() {
                    for (k, v) in headers.inner() {
                        props.insert(k.as_str().to_string(), text(v));
                    }
                }
                props.insert(
                    "delivery_mode".into(),
                    d.properties.delivery_mode().unwrap_or(0).to_string(),
                );
                let got = Got {
                    key: d.routing_key.as_str().to_string(),
                    props,
                    body: d.data.clone(),
                    extra: d
                        .properties
                        .message_id()
                        .as_ref()
                        .map(|s| s.as_str().to_string()),
                };
                let _ = d.acker.ack(BasicAckOptions::default()).await;
                if tx.send(got).is_err() {
                    return;
                }
            }
        });
        (
            Amqp {
                proxy: Proxy::start(rt, ADDR),
            },
            rx,
        )
    }

    fn publisher_url(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.proxy.addr)
    }

    fn switch(&self) -> &dyn super::Switch {
        &self.proxy
    }
}

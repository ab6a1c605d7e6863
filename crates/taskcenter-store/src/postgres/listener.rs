//! Replicas telling each other what they did, over `LISTEN`/`NOTIFY`: the sending side
//! ([`tell`], inside the transaction that did it, so the word goes out on commit) and the
//! listening loop, one dedicated connection per replica.
//!
//! Channels: tasks added or changed for shards another replica holds (payload: sender and
//! a bit set of the shards), messages made visible (sender), and leases given back or a
//! replica joining (sender). A replica ignores its own words. After (re)connecting it
//! signals everything once, as words may have been missed meanwhile.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_postgres::{AsyncMessage, NoTls, Notification};
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::error::{map_err, unavailable};
use super::pool::{Conn, Tx};
use crate::error::StoreError;
use crate::replicas::Background;

const TASKS: &str = "taskcenter_tasks";
const QUEUE: &str = "taskcenter_queue";
const LEASES: &str = "taskcenter_leases";

/// Shortest gap between two reloads of the engine's window on account of other
/// replicas' tasks: a stream of adds elsewhere costs at most this many reloads.
const RELOAD_GAP: Duration = Duration::from_millis(100);

/// Pause before reconnecting.
const RECONNECT: Duration = Duration::from_millis(500);

/// What a replica tells the others.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Channel {
    /// Tasks of these shards (bit set) were added or changed.
    Tasks(u128),
    /// Messages became visible.
    Queue,
    /// Leases were given back, or a replica joined.
    Leases,
}

const NOTIFY: &str = "SELECT pg_notify($1, $2)";

fn word(s: &Shared, what: Channel) -> (&'static str, String) {
    match what {
        Channel::Tasks(mask) => (TASKS, format!("{} {mask:032x}", s.me)),
        Channel::Queue => (QUEUE, s.me.clone()),
        Channel::Leases => (LEASES, s.me.clone()),
    }
}

/// Tells the other replicas, when `tx` commits.
pub(crate) async fn tell(tx: &mut Tx<'_>, s: &Shared, what: Channel) -> Result<(), StoreError> {
    let (channel, payload) = word(s, what);
    tx.execute(NOTIFY, &[&channel, &payload]).await.map(drop)
}

/// Tells the other replicas now.
pub(crate) async fn tell_now(conn: &mut Conn, s: &Shared, what: Channel) -> Result<(), StoreError> {
    let (channel, payload) = word(s, what);
    conn.execute(NOTIFY, &[&channel, &payload]).await.map(drop)
}

/// The listening loop.
pub(crate) struct Listener {
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl Listener {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            stop: CancellationToken::new(),
        }
    }

    /// Listens on one connection until it fails (an error) or shutdown (`Ok`).
    async fn listen(&self) -> Result<(), StoreError> {
        let (client, mut connection) = self
            .shared
            .pool
            .config()
            .connect(NoTls)
            .await
            .map_err(map_err)?;
        let (tx, mut rx) = mpsc::unbounded_channel::<Result<Notification, StoreError>>();
        let driver = tokio::spawn(async move {
            loop {
                let message = std::future::poll_fn(|cx| connection.poll_message(cx)).await;
                // A failed connection answers at once for ever: stop at its first failure.
                let (sent, done) = match message {
                    Some(Ok(AsyncMessage::Notification(n))) => (tx.send(Ok(n)), false),
                    Some(Ok(_)) => (Ok(()), false),
                    Some(Err(e)) => (tx.send(Err(map_err(e))), true),
                    None => (
                        tx.send(Err(unavailable("the listening connection closed"))),
                        true,
                    ),
                };
                if done || sent.is_err() {
                    break;
                }
            }
        });
        let result = self.serve(&client, &mut rx).await;
        driver.abort();
        result
    }

    async fn serve(
        &self,
        client: &tokio_postgres::Client,
        rx: &mut mpsc::UnboundedReceiver<Result<Notification, StoreError>>,
    ) -> Result<(), StoreError> {
        client
            .batch_execute(&format!("LISTEN {TASKS}; LISTEN {QUEUE}; LISTEN {LEASES}"))
            .await
            .map_err(map_err)?;
        let s = &self.shared;
        // Words may have gone by while nobody listened.
        s.placement.bump();
        s.arrivals.send_modify(|n| *n = n.wrapping_add(1));
        s.keeper_poke.notify_one();
        let mut last_reload = Instant::now();
        let mut reload_pending = false;
        loop {
            let reload_at = last_reload + RELOAD_GAP;
            tokio::select! {
                message = rx.recv() => match message {
                    Some(Ok(n)) => reload_pending |= self.heard(&n),
                    Some(Err(e)) => return Err(e),
                    None => return Err(unavailable("the listening connection closed")),
                },
                _ = tokio::time::sleep_until(reload_at), if reload_pending => {
                    s.placement.bump();
                    last_reload = Instant::now();
                    reload_pending = false;
                }
                _ = self.stop.cancelled() => return Ok(()),
            }
        }
    }

    /// Acts on one word; returns whether the engine should reload its window.
    fn heard(&self, n: &Notification) -> bool {
        let s = &self.shared;
        let mut parts = n.payload().split(' ');
        if parts.next() == Some(s.me.as_str()) {
            return false;
        }
        match n.channel() {
            TASKS => {
                let mask = parts
                    .next()
                    .and_then(|hex| u128::from_str_radix(hex, 16).ok())
                    .unwrap_or(u128::MAX);
                return mask & s.placement.mask() != 0;
            }
            QUEUE => s.arrivals.send_modify(|n| *n = n.wrapping_add(1)),
            LEASES => s.keeper_poke.notify_one(),
            _ => {}
        }
        false
    }
}

#[async_trait]
impl Background for Listener {
    fn name(&self) -> &'static str {
        "postgres listener"
    }

    async fn run(&self) {
        while !self.stop.is_cancelled() {
            match self.listen().await {
                Ok(()) => break,
                Err(e) => tracing::warn!(error = %e, "listening to other replicas failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(RECONNECT) => {}
                _ = self.stop.cancelled() => break,
            }
        }
    }

    fn shutdown(&self) {
        self.stop.cancel();
    }
}

//! Serving the router over HTTP/1 with limits, so idle or half-sent connections cannot use
//! the server up: a request head must arrive in full soon after its first byte, an idle
//! keep-alive connection is closed, and the number of connections is capped.
//!
//! A connection is in one of three phases: idle (waiting for a request), reading a head
//! (bytes of a request arrived, the head is not complete), busy (a request is being
//! handled; a consume long-poll stays busy as long as it waits, so no limit cuts it). Only
//! idle and head-reading connections have deadlines. At the cap, every connection that is
//! not busy is closed to make room, so the service keeps answering under a flood.

mod connection;
mod phase;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::ConnectionLimits;
pub use connection::PeerAddr;
use connection::serve_connection;

/// How long the accept loop rests after an accept error (out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Serves `router` on `listener` until `shutdown` is cancelled; then stops accepting, closes
/// connections that are not handling a request, lets the requests in flight finish, and
/// returns once every connection is closed.
pub async fn serve_http(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let max = limits
        .max_connections
        .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let slots = Arc::new(Semaphore::new(max));
    let (shed, _) = watch::channel(0u64);
    let mut pressure = Pressure::default();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors: make room as at the cap, then rest a little.
                pressure.note(|times| {
                    tracing::warn!(error = %e, times, "cannot accept connections; closing idle ones");
                });
                shed.send_modify(|n| *n += 1);
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                pressure.note(|times| {
                    tracing::warn!(
                        max_connections = max,
                        times,
                        "connection limit reached; closing idle connections to make room"
                    );
                });
                shed.send_modify(|n| *n += 1);
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    permit = slots.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                }
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            stream,
            router.clone(),
            limits.clone(),
            shutdown.clone(),
            shed.subscribe(),
            permit,
        ));
    }
    drop(listener);
    // Every connection holds a slot until it is closed: all slots back means all closed.
    let _all = slots.acquire_many(max as u32).await;
    Ok(())
}
/// How often a flood is logged: once when it starts, then at most once a minute with the
/// number of times the limit was hit since, never once per connection.
#[derive(Debug, Default)]
struct Pressure {
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl Pressure {
    const EVERY: Duration = Duration::from_secs(60);

    fn note(&mut self, log: impl FnOnce(u64)) {
        self.unlogged += 1;
        let now = Instant::now();
        if self.last_logged.is_none_or(|at| now >= at + Self::EVERY) {
            log(self.unlogged);
            self.last_logged = Some(now);
            self.unlogged = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_flood_is_logged_once_a_minute_with_its_count() {
        let mut pressure = Pressure::default();
        let mut logged = Vec::new();
        for _ in 0..1000 {
            pressure.note(|times| logged.push(times));
        }
        assert_eq!(logged, vec![1]);
        tokio::time::advance(Duration::from_secs(61)).await;
        pressure.note(|times| logged.push(times));
        assert_eq!(logged, vec![1, 1000]);
    }
}

//! One connection: hyper serves it while a watchdog closes it when its phase's deadline
//! passes, when room is needed, or at shutdown unless it is handling a request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use super::phase::{TrackedStream, Tracker};
use crate::config::ConnectionLimits;

/// How long a closed connection's unread input is still read and thrown away, so a client
/// still sending (an oversized body) reads the answer instead of a reset connection.
/// Only time bounds it: a cap on bytes would reset a fast client on loopback before its
/// HTTP library got round to reading the answer, and thrown-away input costs no memory.
const LINGER: Duration = Duration::from_secs(2);

type BoxedResponse = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

/// The router as hyper calls it, marking each request busy while it is handled.
struct Handler {
    router: Router,
    tracker: Arc<Tracker>,
    peer: Option<PeerAddr>,
}

/// The address a request came from, as a request extension.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

impl hyper::service::Service<Request<Incoming>> for Handler {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxedResponse;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let guard = self.tracker.request_started();
        // The router is always ready: it needs no `poll_ready` before `call`.
        let mut req = req.map(Body::new);
        if let Some(peer) = self.peer {
            req.extensions_mut().insert(peer);
        }
        let answer = self.router.clone().call(req);
        Box::pin(async move {
            let response = answer.await;
            drop(guard);
            response
        })
    }
}

/// How a connection's serving ended.
enum End {
    /// Hyper finished it (the client closed, or keep-alive ended): linger, then close.
    Done,
    /// Closed by a limit, a shed or shutdown while not busy: close at once.
    Cut,
}

pub(super) async fn serve_connection(
    stream: TcpStream,
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
    mut shed: watch::Receiver<u64>,
    permit: OwnedSemaphorePermit,
) {
    let tracker = Arc::new(Tracker::new());
    let peer = stream.peer_addr().ok().map(PeerAddr);
    let io = TokioIo::new(TrackedStream::new(stream, tracker.clone()));
    let handler = Handler {
        router,
        tracker: tracker.clone(),
        peer,
    };
    let mut conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, handler);
    let mut stopping = false;
    let check = tokio::time::sleep_until(tracker.next_check(&limits));
    tokio::pin!(check);
    let end = loop {
        tokio::select! {
            served = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)) => {
                if let Err(e) = served {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break End::Done;
            }
            () = &mut check => {
                if tracker.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    break End::Cut;
                }
                check.as_mut().reset(tracker.next_check(&limits));
            }
            () = shutdown.cancelled(), if !stopping => {
                stopping = true;
                if !tracker.is_busy() {
                    break End::Cut;
                }
                Pin::new(&mut conn).graceful_shutdown();
            }
            changed = shed.changed() => {
                if changed.is_err() || !tracker.is_busy() {
                    break End::Cut;
                }
            }
        }
    };
    if matches!(end, End::Done) && !stopping {
        linger(conn.into_parts().io.into_inner().into_inner()).await;
    }
    drop(permit);
}

/// Closes the sending side, then reads and discards what the client still sends for a
/// short while, so the answer already written reaches it before the socket closes.
async fn linger(mut stream: TcpStream) {
    let _ = tokio::time::timeout(LINGER, async {
        if stream.shutdown().await.is_err() {
            return;
        }
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

//! Where one connection stands (idle, reading a request head, busy), told by its socket and
//! its handler, and the deadline that follows from it.
//!
//! Phase changes wake nobody: a request passes through three phases, and waking the
//! watchdog for each would cost every request. The watchdog looks instead at the phase's
//! deadline, and at least once a header timeout, so a head that starts while the
//! connection was idle is cut at most one header timeout late.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::config::ConnectionLimits;

/// Where a connection stands, and since when.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Idle(Instant),
    ReadingHead(Instant),
    Busy(usize),
}

/// The phase of one connection, shared by its reader, its handler and its watchdog.
#[derive(Debug)]
pub(super) struct Tracker {
    phase: Mutex<Phase>,
}

impl Tracker {
    pub(super) fn new() -> Self {
        Self {
            phase: Mutex::new(Phase::Idle(Instant::now())),
        }
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        *phase = f(*phase);
    }

    /// Bytes arrived: an idle connection starts a request head.
    fn bytes_arrived(&self) {
        if matches!(self.phase(), Phase::Idle(_)) {
            self.update(|p| match p {
                Phase::Idle(_) => Phase::ReadingHead(Instant::now()),
                other => other,
            });
        }
    }

    pub(super) fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.update(|p| match p {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        });
        RequestGuard(self.clone())
    }

    /// When the connection is closed unless its phase changes first; never while busy.
    pub(super) fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        match self.phase() {
            Phase::Idle(since) => Some(since + limits.idle_timeout),
            Phase::ReadingHead(since) => Some(since + limits.header_timeout),
            Phase::Busy(_) => None,
        }
    }

    /// When the watchdog looks again: the phase's deadline, but no later than one header
    /// timeout from now, as a phase may change meanwhile without telling it.
    pub(super) fn next_check(&self, limits: &ConnectionLimits) -> Instant {
        let soon = Instant::now() + limits.header_timeout;
        self.deadline(limits).map_or(soon, |d| d.min(soon))
    }

    pub(super) fn is_busy(&self) -> bool {
        matches!(self.phase(), Phase::Busy(_))
    }
}

/// Marks the end of a request when dropped, whether it finished or was abandoned.
pub(super) struct RequestGuard(Arc<Tracker>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.update(|p| match p {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle(Instant::now()),
        });
    }
}

/// The socket, telling the tracker when bytes arrive.
pub(super) struct TrackedStream {
    inner: TcpStream,
    tracker: Arc<Tracker>,
}

impl TrackedStream {
    pub(super) fn new(inner: TcpStream, tracker: Arc<Tracker>) -> Self {
        Self { inner, tracker }
    }

    pub(super) fn into_inner(self) -> TcpStream {
        self.inner
    }
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.tracker.bytes_arrived();
        }
        polled
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn deadlines_follow_the_phase() {
        let tracker = Arc::new(Tracker::new());
        let start = Instant::now();
        assert_eq!(
            tracker.deadline(&limits()),
            Some(start + Duration::from_secs(60))
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        tracker.bytes_arrived();
        let head = Instant::now();
        assert_eq!(
            tracker.deadline(&limits()),
            Some(head + Duration::from_secs(10))
        );
        // More bytes of the same head do not push its deadline back.
        tokio::time::advance(Duration::from_secs(3)).await;
        tracker.bytes_arrived();
        assert_eq!(
            tracker.deadline(&limits()),
            Some(head + Duration::from_secs(10))
        );
        let first = tracker.request_started();
        let second = tracker.request_started();
        assert!(tracker.is_busy());
        assert_eq!(tracker.deadline(&limits()), None);
        tracker.bytes_arrived();
        drop(first);
        assert!(tracker.is_busy(), "one request still in flight");
        tokio::time::advance(Duration::from_secs(30)).await;
        drop(second);
        let idle = Instant::now();
        assert_eq!(
            tracker.deadline(&limits()),
            Some(idle + Duration::from_secs(60))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_looks_again_within_a_header_timeout() {
        let tracker = Arc::new(Tracker::new());
        let start = Instant::now();
        // Idle for a minute at most, but a head may start any moment.
        assert_eq!(
            tracker.next_check(&limits()),
            start + Duration::from_secs(10)
        );
        tokio::time::advance(Duration::from_secs(55)).await;
        assert_eq!(
            tracker.next_check(&limits()),
            start + Duration::from_secs(60),
            "the idle deadline when it comes first"
        );
        let busy = tracker.request_started();
        assert_eq!(
            tracker.next_check(&limits()),
            Instant::now() + Duration::from_secs(10),
            "a busy connection has no deadline but is looked at again"
        );
        drop(busy);
    }
}

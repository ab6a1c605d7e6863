//! Notices that the reader of stdout went away (`taskcenter consume … | head -1`) while
//! nothing is being printed, so the consumer stops instead of waiting for a message only
//! to find the pipe closed.

use std::os::fd::AsFd;

use tokio::io::Interest;
use tokio::net::unix::pipe::Sender;

/// Resolves when stdout reports an error: the read end of its pipe is closed. Never
/// resolves for a stdout that cannot be watched (a regular file, for instance).
///
/// Watches a duplicate of the descriptor, registered as it is: stdout stays in blocking
/// mode for the writes, which go through `std::io::stdout()`.
pub async fn reader_gone() {
    let watched = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .and_then(Sender::from_owned_fd_unchecked);
    let Ok(pipe) = watched else {
        return std::future::pending().await;
    };
    loop {
        match pipe.ready(Interest::ERROR).await {
            Ok(ready) if ready.is_error() => return,
            // Woken without the error: look again a little later.
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            Err(_) => return std::future::pending().await,
        }
    }
}

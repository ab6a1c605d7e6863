//! The one shape of every background loop the service runs, whoever owns it: the firing
//! engine, the janitor and the lease sweeper of the server, and the lease keeper and
//! listener a shared store needs.
//!
//! A loop is built stopped, started by spawning [`Background::run`], and stopped by
//! [`Background::shutdown`] followed by joining that task; the server starts its loops in
//! one documented order and stops them in the reverse one.

use async_trait::async_trait;

/// A background loop: built stopped, run until asked to finish, then it lets go of what it
/// holds and returns.
#[async_trait]
pub trait Background: Send + Sync {
    /// Its name, for logs.
    fn name(&self) -> &'static str;

    /// Runs until [`Background::shutdown`], then lets go of what it holds and returns.
    async fn run(&self);

    /// Asks [`Background::run`] to finish; returns at once.
    fn shutdown(&self);
}

//! The taskcenter service: the firing engine, the built-in queue, and the HTTP API on top.
//!
//! [`serve`] takes its listener and shutdown signal as arguments, so tests bind
//! `127.0.0.1:0` and stop it without signals.

pub mod alerts;
pub mod clock;
pub mod config;
pub mod engine;
pub mod error;
pub mod fired;
pub mod http;
pub mod janitor;
pub mod loops;
pub mod queue;
pub mod relay;
pub mod series;
pub mod serve;
pub mod service;
pub mod stats;
pub mod sweeper;
pub mod telemetry;

pub use config::ServerConfig;
pub use error::ApiError;
pub use serve::serve;

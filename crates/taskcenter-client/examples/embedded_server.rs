//! The original client README's first snippet: a taskcenter server embedded in a program.
//!
//! Run with `cargo run -p taskcenter-client --example embedded_server`; stop with Ctrl-C.
//! It serves the HTTP API on 127.0.0.1:8081 with its data in `./taskcenter-data`, as
//! `taskcenter serve` does, and shuts down gracefully on Ctrl-C.

use std::sync::Arc;

use taskcenter_core::SystemClock;
use taskcenter_server::ServerConfig;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    // Per-minute alert thresholds (NAME_TOO_MANY_TASK, TOTAL_TOO_MANY_TASK), and a faster retry ladder than the default.
    let mut config = ServerConfig {
        name_alert_count: 1000,
        total_alert_count: 10_000,
        ..ServerConfig::default()
    };
    config.delivery.retry_delays_ms = vec![1_000, 5_000, 30_000];

    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let shutdown = CancellationToken::new();
    let on_ctrl_c = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        on_ctrl_c.cancel();
    });
    taskcenter_server::serve(listener, config, Arc::new(SystemClock), shutdown).await?;
    Ok(())
}

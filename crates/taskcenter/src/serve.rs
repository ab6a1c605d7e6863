//! `taskcenter serve`: runs the service until SIGTERM or SIGINT.

use std::sync::Arc;

use anyhow::Context;
use taskcenter_core::SystemClock;
use tokio_util::sync::CancellationToken;

use crate::cli::ServeArgs;
use crate::settings;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging();
    let settings = settings::load(&args)?;
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    let config = settings.config;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot bind {}", config.listen))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    taskcenter_server::serve(listener, config, Arc::new(SystemClock), shutdown).await?;
    Ok(())
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

async fn stop_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
    shutdown.cancel();
}

//! The taskcenter binary: `serve` runs the service, the other commands talk to one.

mod cli;
mod cmd;
mod consume;
mod listen;
mod output;
mod serve;
mod settings;

use clap::Parser;

/// The HTTP threads of a single add spend a large share of their time in the allocator, much
/// of it freeing on one thread what another allocated; mimalloc's per-thread heaps make
/// both cheaper than glibc's malloc. Building without the `mimalloc` feature (on by default)
/// keeps the system allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("taskcenter: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            cli::Command::Serve(args) => serve::run(args).await,
            cli::Command::Consume(args) => consume::run(args).await,
            other => cmd::run(other).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("taskcenter: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

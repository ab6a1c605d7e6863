//! What each fuzz target does with one input; the workspace's corpus-replay tests include
//! the same files, so `cargo test` runs every committed corpus input through this code.

pub mod bodies;
pub mod cron_input;

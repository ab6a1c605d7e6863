//! Where tasks, fires and deliveries live.
//!
//! The engine and the API see only the traits in [`traits`]; each backend sits in its own
//! module behind a cargo feature and is chosen from a URL by [`open`].

pub mod error;
pub mod model;
pub mod open;
pub mod replicas;
pub mod traits;

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use error::StoreError;
pub use model::*;
pub use open::open;
pub use replicas::{Background, ReplicaConfig, Replicated, Signal};
pub use traits::{QueueStore, Store, TaskStore};

#[cfg(test)]
mod fixtures;

//! Where tasks, fires and deliveries live.
//!
//! The engine and the API see only the traits in [`traits`]; each backend sits in its own
//! module behind a cargo feature and is chosen from a URL by [`open`].

pub mod background;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod coalesce;
pub(crate) mod codec;
pub mod error;
pub mod model;
pub mod open;
pub mod outbox;
pub mod policy;
pub mod replicas;
pub mod traits;

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use background::Background;
pub use error::StoreError;
pub use model::*;
pub use open::open;
pub use outbox::{OUTBOX_GROUP, OutboxOutcome, OutboxSettle, parse_fire_id};
pub use policy::{DeliveryPolicy, LeasePlan, RetryPlan};
pub use replicas::{ReplicaConfig, Replicated, Signal};
pub use traits::{QueueStore, Store, TaskStore};

#[cfg(test)]
mod fixtures;

//! The JSON bodies of taskcenter's HTTP API, shared by the server, the client library and
//! the CLI so the three can never disagree on a field name.
//!
//! Request types ignore unknown fields (old seed clients send them); the server decodes
//! them with a path-tracking decoder so a wrong type names its field.

pub mod errors;
pub mod queue;
pub mod spec;
pub mod tasks;
pub mod watch;

pub use errors::{ErrorBody, ErrorCode};
pub use queue::*;
pub use spec::TaskSpec;
pub use tasks::*;
pub use watch::*;

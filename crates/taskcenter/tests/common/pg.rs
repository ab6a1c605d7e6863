//! PostgreSQL for the end-to-end tests: each `Server` gets a database of its own when the
//! suite runs on PostgreSQL; the replica tests use one always.

pub use taskcenter_testdb::*;

//! PostgreSQL for the store tests: a fresh database per test, dropped after it.

pub use taskcenter_testdb::TestDb;

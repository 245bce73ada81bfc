//! The integration tests: one binary, every database test on SQLite and PostgreSQL.

pub mod harness;

mod foundation;

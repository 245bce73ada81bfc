//! The integration tests: one binary, every database test on SQLite and PostgreSQL.

pub mod desk;
pub mod fake_affise;
pub mod harness;
pub mod s3;
pub mod smtp;
pub mod support;

mod affiliate_panel;
mod api;
mod asking_first;
mod authorization;
mod bulk_actions;
mod catalogue_import;
mod decisions_and_replies;
mod directory_pages;
mod directory_sync;
mod export;
mod fuzz;
mod hand_over;
mod hostile_input;
mod instances;
mod limits_and_fidelity;
mod list_navigation;
mod live;
mod memory_map;
mod notifications;
mod openapi;
mod reports;
mod search;
mod sessions_and_setup;
mod shutdown;
mod streams;
mod thread;
mod ticket_list;
mod use_cases;
mod waiting;
mod wire_snapshots;

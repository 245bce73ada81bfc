//! affdesk's core: the domain (tickets, access, people and their rules), the
//! database, the attachment store and the demo data. It knows no web type: the
//! server crate turns its errors into pages and JSON, and its outcomes into emails
//! and events on the wire.

pub mod db;
pub mod domain;
pub mod error;
pub mod seed;
pub mod storage;

//! Business rules as plain functions over `&mut AnyConnection`, one function per use
//! case: each checks that its actor may act, decides inside its own transaction,
//! writes the audit entries and returns a typed outcome. No actix types here.

pub mod access;
pub mod actor;
pub mod affiliates;
pub mod attachments;
pub mod audit;
pub mod catalogue;
pub mod lifecycle;
pub mod logins;
pub mod messages;
pub mod opening;
pub mod reply_templates;
pub mod requests;
pub mod search;
pub mod secrets;
pub mod states;
pub mod stats;
pub mod threads;
pub mod ticket_counts;
pub mod ticket_filter;
pub mod ticket_list;
pub mod tickets;
pub mod users;

use chrono::{NaiveDateTime, Timelike, Utc};

pub use actor::{Actor, Partner, Staff, Via, Who};
pub use secrets::random_token;

/// The current time in UTC, to the microsecond (both backends keep microseconds).
pub fn now() -> NaiveDateTime {
    let t = Utc::now().naive_utc();
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

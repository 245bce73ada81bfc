//! Business rules as plain functions over `&mut AnyConnection`, one function per use
//! case: each checks that its actor may act, decides inside its own transaction,
//! writes the audit entries and returns a typed outcome. No actix types here.

pub mod access;
pub mod access_grants;
pub mod account;
pub mod accounts;
pub mod actor;
pub mod affiliate_side;
pub mod affiliates;
pub mod affise_push;
pub mod assignment;
pub mod attachments;
pub mod audit;
pub mod business_hours;
pub mod catalogue;
pub mod catalogue_admin;
pub mod covers;
pub mod days;
pub mod directory;
pub mod directory_sync;
pub mod effects;
pub mod import;
pub mod lifecycle;
pub mod live;
pub mod logins;
pub mod lookups;
pub mod messages;
pub mod notify;
pub mod opening;
pub mod outbox;
pub mod reply_templates;
pub mod reports;
pub mod requests;
pub mod search;
pub mod secrets;
pub mod sessions;
pub mod sla;
pub mod states;
pub mod stats;
pub mod sync_state;
pub mod threads;
pub mod ticket_counts;
pub mod ticket_filter;
pub mod ticket_list;
pub mod tickets;
pub mod users;

use chrono::{NaiveDateTime, Timelike, Utc};

pub use actor::{Actor, Partner, Staff, Via, Who};
pub use effects::{Acted, Effects};
pub use secrets::random_token;

/// The current time in UTC, to the microsecond (both backends keep microseconds).
pub fn now() -> NaiveDateTime {
    let t = Utc::now().naive_utc();
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// 1234567 -> "1,234,567".
pub fn group_digits(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

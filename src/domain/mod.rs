//! Business rules as plain functions over `&mut AnyConnection`. No actix types here.

pub mod access;
pub mod affiliates;
pub mod attachments;
pub mod audit;
pub mod catalogue;
pub mod demo;
pub mod kinds;
pub mod lifecycle;
pub mod messages;
pub mod reply_templates;
pub mod requests;
pub mod search;
pub mod secrets;
pub mod stats;
pub mod threads;
pub mod ticket_counts;
pub mod tickets;
pub mod users;

use chrono::{NaiveDateTime, Timelike, Utc};

pub use secrets::random_token;

/// The current time in UTC, to the microsecond (both backends keep microseconds).
pub fn now() -> NaiveDateTime {
    let t = Utc::now().naive_utc();
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// Who is acting: decides what a request may see and is written into audit entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An admin or manager of the admin panel.
    Staff(StaffRef),
    Affiliate(i64),
    System,
}

/// The part of a user that rules need: who, and how far they see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffRef {
    pub id: i64,
    pub name: String,
    pub is_admin: bool,
    pub sees_all_tickets: bool,
}

impl StaffRef {
    /// Managers see the tickets of their own affiliates unless granted all.
    pub fn sees_everything(&self) -> bool {
        self.is_admin || self.sees_all_tickets
    }
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Staff(_) => "user",
            Actor::Affiliate(_) => "affiliate",
            Actor::System => "system",
        }
    }
    pub fn id(&self) -> Option<i64> {
        match self {
            Actor::Staff(s) => Some(s.id),
            Actor::Affiliate(id) => Some(*id),
            Actor::System => None,
        }
    }
}

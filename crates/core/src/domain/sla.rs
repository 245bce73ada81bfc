//! Service targets: how soon, in working time, an affiliate's question gets its
//! answer and an access request its decision; and where a waiting ticket stands
//! against its target.

use chrono::{Duration, NaiveDateTime};

use super::business_hours::{BusinessHours, brief};
use super::tickets::Ticket;

#[derive(Clone, Debug, PartialEq)]
pub struct Targets {
    pub hours: BusinessHours,
    pub first_answer: Duration,
    pub decision: Duration,
}

impl Default for Targets {
    fn default() -> Targets {
        Targets {
            hours: BusinessHours::parse("mon-fri", "09:00-18:00", "UTC").unwrap_or_else(|_| BusinessHours::always()),
            first_answer: Duration::hours(4),
            decision: Duration::hours(8),
        }
    }
}

/// Where a waiting ticket stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// More than a quarter of the target left.
    OnTime { left: Duration },
    /// Less than a quarter left: the list shows it in amber.
    DueSoon { left: Duration },
    /// Past the target: red.
    Breached { by: Duration },
}

impl Standing {
    pub fn class(&self) -> &'static str {
        match self {
            Standing::OnTime { .. } => "sla-ok",
            Standing::DueSoon { .. } => "sla-soon",
            Standing::Breached { .. } => "sla-breached",
        }
    }
    pub fn text(&self) -> String {
        match self {
            Standing::OnTime { left } | Standing::DueSoon { left } => format!("due in {}", brief(*left)),
            Standing::Breached { by } => format!("late by {}", brief(*by)),
        }
    }
}

impl Targets {
    /// The target of a ticket: a decision for access requests, an answer otherwise.
    pub fn target(&self, ticket: &Ticket) -> Duration {
        if ticket.kind.is_request() && ticket.is_pending_request() { self.decision } else { self.first_answer }
    }

    /// Where a ticket waiting for the desk stands at `now`; `None` when nobody waits.
    pub fn standing(&self, ticket: &Ticket, now: NaiveDateTime) -> Option<Standing> {
        let since = ticket.waiting_since?;
        let target = self.target(ticket);
        let due = self.hours.after(since, target);
        Some(if now >= due {
            Standing::Breached { by: self.hours.between(due, now) }
        } else {
            let left = self.hours.between(now, due);
            if left * 4 < target { Standing::DueSoon { left } } else { Standing::OnTime { left } }
        })
    }

    /// "4h of working time (mon,tue,wed,thu,fri 09:00–18:00 UTC)", for pages.
    pub fn describe(&self) -> String {
        format!(
            "first answer within {}, a request decided within {} of working time ({})",
            brief(self.first_answer),
            brief(self.decision),
            self.hours.describe()
        )
    }
}

//! The Reports page's numbers, for tickets opened in a range of days: first answer
//! and resolution times per manager and per type (median and 90th percentile, in
//! working time), access-request turnaround and approval rate, and the backlog at
//! the end of each day. Read from ranges of the tickets' own time columns (no
//! message is read), so a month of a million-ticket desk is a short index scan.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::actor::Actor;
use super::business_hours::{BusinessHours, Span};
use super::states::{RequestState, TicketKind, TicketStatus};
use super::ticket_counts;
use super::tickets::Scope;
use crate::db::AnyConnection;
use crate::db::schema::{tickets, users};
use crate::error::DomainResult;

/// The longest range one report covers.
pub use super::days::MAX_DAYS;

/// Times of a group of tickets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Times {
    pub label: String,
    pub opened: i64,
    pub answered: i64,
    pub first_answer_median: Option<Duration>,
    pub first_answer_p90: Option<Duration>,
    pub resolved: i64,
    pub resolution_median: Option<Duration>,
    pub resolution_p90: Option<Duration>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Requests {
    pub opened: i64,
    pub decided: i64,
    pub approved: i64,
    pub turnaround_median: Option<Duration>,
    pub turnaround_p90: Option<Duration>,
}

impl Requests {
    /// Approved of decided, in percent.
    pub fn approval_rate(&self) -> Option<f64> {
        (self.decided > 0).then(|| self.approved as f64 * 100.0 / self.decided as f64)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: Times,
    pub by_manager: Vec<Times>,
    pub by_type: Vec<Times>,
    pub requests: Requests,
    /// Open and waiting tickets at the end of each day.
    pub backlog: Vec<(NaiveDate, i64)>,
}

/// One ticket's times, as read.
struct Row {
    manager_id: Option<i64>,
    kind: TicketKind,
    status: TicketStatus,
    request_state: Option<RequestState>,
    created_at: NaiveDateTime,
    first_answer_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    decided_at: Option<NaiveDateTime>,
}

/// The value at `q` (0.5, 0.9) of sorted durations: the nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn times(label: String, rows: &[&Row], hours: &Span) -> Times {
    // A first answer at the moment of opening is a ticket a manager opened: no wait.
    let mut first: Vec<Duration> = rows
        .iter()
        .filter_map(|r| r.first_answer_at.filter(|a| *a > r.created_at).map(|a| hours.between(r.created_at, a)))
        .collect();
    let mut resolution: Vec<Duration> = rows
        .iter()
        .filter(|r| r.status == TicketStatus::Closed)
        .filter_map(|r| r.closed_at.map(|c| hours.between(r.created_at, c)))
        .collect();
    first.sort_unstable();
    resolution.sort_unstable();
    Times {
        label,
        opened: rows.len() as i64,
        answered: first.len() as i64,
        first_answer_median: quantile(&first, 0.5),
        first_answer_p90: quantile(&first, 0.9),
        resolved: resolution.len() as i64,
        resolution_median: quantile(&resolution, 0.5),
        resolution_p90: quantile(&resolution, 0.9),
    }
}

fn start_of(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// Use case: the report of the tickets `actor` may see opened from `from` to `to`
/// (whole days, UTC), as of `now`.
pub fn build(
    conn: &mut AnyConnection,
    actor: &Actor,
    hours: &BusinessHours,
    from: NaiveDate,
    to: NaiveDate,
    now: NaiveDateTime,
) -> DomainResult<Report> {
    actor.as_staff()?;
    let scope = actor.scope();
    let (start, end) = (start_of(from), start_of(to) + Duration::days(1));
    let rows: Vec<Row> = scope
        .apply(tickets::table.into_boxed())
        .filter(tickets::created_at.ge(start))
        .filter(tickets::created_at.lt(end))
        .select((
            tickets::manager_id,
            tickets::kind,
            tickets::status,
            tickets::request_state,
            tickets::created_at,
            tickets::first_answer_at,
            tickets::closed_at,
            tickets::decided_at,
        ))
        .load::<(
            Option<i64>,
            TicketKind,
            TicketStatus,
            Option<RequestState>,
            NaiveDateTime,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        )>(conn)?
        .into_iter()
        .map(|(manager_id, kind, status, request_state, created_at, first_answer_at, closed_at, decided_at)| Row {
            manager_id,
            kind,
            status,
            request_state,
            created_at,
            first_answer_at,
            closed_at,
            decided_at,
        })
        .collect();
    // Every time measured falls between `from` and now: one run of days for all.
    let hours = &Span::new(hours, from, now.date().max(to));
    let all: Vec<&Row> = rows.iter().collect();
    let total = times("All".into(), &all, hours);

    let mut managers: BTreeMap<Option<i64>, Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        managers.entry(r.manager_id).or_default().push(r);
    }
    let ids: Vec<i64> = managers.keys().flatten().copied().collect();
    let names: BTreeMap<i64, String> =
        users::table.filter(users::id.eq_any(&ids)).select((users::id, users::name)).load(conn)?.into_iter().collect();
    let mut by_manager: Vec<Times> = managers
        .iter()
        .map(|(m, rows)| {
            let label = match m {
                Some(id) => names.get(id).cloned().unwrap_or_else(|| format!("Manager #{id}")),
                None => "No manager".to_string(),
            };
            times(label, rows, hours)
        })
        .collect();
    by_manager.sort_by(|a, b| a.label.cmp(&b.label));

    let by_type: Vec<Times> = TicketKind::ALL
        .iter()
        .map(|k| {
            let of_kind: Vec<&Row> = rows.iter().filter(|r| r.kind == *k).collect();
            times(k.label().to_string(), &of_kind, hours)
        })
        .filter(|t| t.opened > 0)
        .collect();

    let requested: Vec<&Row> = rows.iter().filter(|r| r.kind.is_request()).collect();
    let mut turnaround: Vec<Duration> =
        requested.iter().filter_map(|r| r.decided_at.map(|d| hours.between(r.created_at, d))).collect();
    turnaround.sort_unstable();
    let requests = Requests {
        opened: requested.len() as i64,
        decided: turnaround.len() as i64,
        approved: requested.iter().filter(|r| r.request_state == Some(RequestState::Approved)).count() as i64,
        turnaround_median: quantile(&turnaround, 0.5),
        turnaround_p90: quantile(&turnaround, 0.9),
    };

    let backlog = backlog(conn, &scope, from, to, now)?;
    Ok(Report { from, to, total, by_manager, by_type, requests, backlog })
}

/// Open and waiting tickets at the end of each day from `from` to `to`, worked back
/// from today's totals: those opened since a day's end were not there yet, and
/// those closed since were. Reads only what changed since `from`. (A ticket closed,
/// reopened and closed again counts by its last close.)
fn backlog(
    conn: &mut AnyConnection,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    now: NaiveDateTime,
) -> DomainResult<Vec<(NaiveDate, i64)>> {
    let start = start_of(from);
    let manager = match scope {
        Scope::Manager(m) => Some(*m),
        _ => None,
    };
    let open_now = ticket_counts::total(conn, manager, &[TicketStatus::Open, TicketStatus::Pending], &[])?;
    let mut opened_since: Vec<NaiveDateTime> = scope
        .apply(tickets::table.into_boxed())
        .filter(tickets::created_at.ge(start))
        .filter(tickets::status.ne(TicketStatus::Closed))
        .select(tickets::created_at)
        .load(conn)?;
    // Read by the close-time index alone: a condition on the status here would
    // have SQLite walk every closed ticket instead.
    let mut closed_since: Vec<(NaiveDateTime, NaiveDateTime)> = scope
        .apply(tickets::table.into_boxed())
        .filter(tickets::closed_at.ge(start))
        .select((tickets::created_at, tickets::closed_at.assume_not_null(), tickets::status))
        .load::<(NaiveDateTime, NaiveDateTime, TicketStatus)>(conn)?
        .into_iter()
        .filter(|(_, _, status)| *status == TicketStatus::Closed)
        .map(|(created, closed, _)| (created, closed))
        .collect();
    opened_since.sort_unstable();
    closed_since.sort_unstable_by_key(|c| c.1);
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let end = start_of(day) + Duration::days(1);
        if end > now + Duration::days(1) {
            break;
        }
        let opened_after = opened_since.len() - opened_since.partition_point(|c| *c < end);
        let first_closed_after = closed_since.partition_point(|c| c.1 < end);
        let closed_after_but_there = closed_since[first_closed_after..].iter().filter(|c| c.0 < end).count();
        out.push((day, open_now - opened_after as i64 + closed_after_but_there as i64));
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    Ok(out)
}

//! The filtered, paginated ticket list of both panels and the API.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;

use super::actor::Actor;
use super::states::{AuthorKind, RequestState, TicketKind, TicketStatus};
use super::ticket_filter::{Sort, TicketFilter};
use super::tickets::{Scope, Ticket};
use super::{search, ticket_counts};
use crate::db::schema::{affiliates, tickets, users};
use crate::db::{AnyConnection, Db, InWindow, Stamp, in_window, window};
use crate::error::DomainResult;

mod matches;
mod places;

use matches::{TextMatches, text_matches};
pub use places::{Cursor, place};
use places::{descending, key, key_of, ordered, past_cursor, row_past, strictly_past, tied_past};

/// Which page to read: by cursor (after / before a row, or the last page), or by
/// number (small numbers only make sense without a cursor: first visits, old links).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageAt {
    Number(u32),
    After(Cursor),
    Before(Cursor),
    Last,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    /// More than this many; counting on would take too long.
    AtLeast(i64),
}

impl Total {
    pub fn value(self) -> i64 {
        match self {
            Total::Exact(n) | Total::AtLeast(n) => n,
        }
    }
}

/// A ticket as the list shows it: with the names it only has ids for.
#[derive(Debug, Clone)]
pub struct ListedTicket {
    pub ticket: Ticket,
    pub affiliate_name: String,
    pub manager_name: Option<String>,
    /// The last public message, when the caller asked for it (`Detail::NamesAndLast`).
    pub last: Option<LastMessage>,
}

/// Who spoke last in a ticket and how it began: the list's second line.
#[derive(Debug, Clone)]
pub struct LastMessage {
    pub author: AuthorKind,
    pub preview: String,
}

impl LastMessage {
    pub fn author_label(&self) -> &'static str {
        match self.author {
            AuthorKind::Affiliate => "Affiliate",
            AuthorKind::Manager => "Manager",
            AuthorKind::System => "System",
        }
    }
}

/// Characters of the last message the list shows.
const PREVIEW_CHARS: usize = 140;

/// The ticket's last public message as the row keeps it: who wrote it, and its start
/// (written with each message, `messages::insert_message`).
fn last_message(author: Option<AuthorKind>, start: Option<String>) -> Option<LastMessage> {
    Some(LastMessage { author: author?, preview: preview(&start?) })
}

/// The start of a message on one line.
fn preview(body: &str) -> String {
    let mut out = String::with_capacity(PREVIEW_CHARS + 3);
    for word in body.split_whitespace() {
        if out.chars().count() + word.chars().count() >= PREVIEW_CHARS {
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

pub struct TicketPage {
    pub rows: Vec<ListedTicket>,
    pub has_next: bool,
    pub has_prev: bool,
    pub total: Total,
    /// The page that was read: `Last` when the one asked for lay past the end.
    pub at: PageAt,
}

impl TicketPage {
    pub fn first_cursor(&self, sort: Sort) -> Option<Cursor> {
        self.rows.first().map(|r| Cursor { at: key(sort, &r.ticket), id: r.ticket.id })
    }
    pub fn last_cursor(&self, sort: Sort) -> Option<Cursor> {
        self.rows.last().map(|r| Cursor { at: key(sort, &r.ticket), id: r.ticket.id })
    }
}

/// Counting stops here for filters the totals table cannot answer.
const COUNT_CAP: i64 = 10_000;

/// What a list asks for besides the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub sort: Sort,
    pub at: PageAt,
    pub per_page: u32,
    pub detail: Detail,
}

/// What a list reads of each row besides the ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// The ticket alone, for callers that show no names (the affiliate's list) or
    /// load the people themselves (the API): the names are left empty, and the
    /// statement joins nothing.
    Ticket,
    /// With the names and the last public message (the managers' list shows it).
    NamesAndLast,
}

/// The page of the panels' lists: one asked for past the end (a bookmark, a stale
/// link, a page number typed by hand) shows the last page instead.
pub fn page_or_last(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &TicketFilter,
    request: PageRequest,
) -> DomainResult<TicketPage> {
    let page = list(conn, actor, filter, request)?;
    if page.rows.is_empty() && request.at != PageAt::Number(1) && request.at != PageAt::Last {
        return list(conn, actor, filter, PageRequest { at: PageAt::Last, ..request });
    }
    Ok(page)
}

/// One page of the tickets the actor may see that match `filter`, with the names of
/// their affiliates and managers.
///
/// The page is found by ids alone (filter, order and cursor answered from an index),
/// and only those rows are read in full, joined to the names, in the same statement.
pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &TicketFilter,
    request: PageRequest,
) -> DomainResult<TicketPage> {
    let scope = actor.scope();
    let PageRequest { sort, at, per_page, detail } = request;
    let per_page = per_page.max(1) as i64;
    let text_ids = text_matches(conn, filter)?;
    // Reading backwards (the page before a cursor, or the last page) flips the order.
    let backwards = matches!(at, PageAt::Before(_) | PageAt::Last);
    let key_desc = descending(sort) != backwards;
    let list = || ordered(narrowed(&scope, filter, text_ids.as_ref()), sort, key_desc);
    let mut cursor = match at {
        PageAt::After(c) | PageAt::Before(c) => Some(c),
        _ => None,
    };
    let total = count(conn, &scope, filter, text_ids.as_ref())?;
    let plan_each_time = text_ids.as_ref().is_some_and(TextMatches::plan_each_time);
    if let PageAt::Number(n) = at
        && n > 1
    {
        // A numbered page is read from the row before it, found by its place alone,
        // so the page's own statement (joins and all) stays prepared at any depth.
        let before = (n as i64 - 1).saturating_mul(per_page) - 1;
        match row_at(conn, list(), sort, before, plan_each_time)? {
            Some(c) => cursor = Some(c),
            // Past the end: an empty page (the panels show the last one instead).
            None => return Ok(TicketPage { rows: Vec::new(), has_next: false, has_prev: true, total, at }),
        }
    }
    // The last page holds what is left over, not a full page.
    let take = match (at, total) {
        (PageAt::Last, Total::Exact(n)) if n % per_page != 0 => n % per_page,
        _ => per_page,
    };
    let mut rows = Vec::new();
    let mut q = list();
    match cursor {
        // PostgreSQL reads `(time, id) < (?, ?)` as one range of the index.
        Some(c) if conn.is_postgres() => q = row_past(q, sort, c, key_desc),
        Some(c) => {
            // SQLite reads that row value as a range on the time only (the id is
            // its rowid), and so walked every row tied with the cursor before it:
            // a bulk action gives thousands of tickets one `updated_at`. So the
            // tied rows past the cursor are read first, then those past its time;
            // each is one index range.
            let tied = || tied_past(list(), sort, c, key_desc);
            if tied().select(tickets::id).first::<i64>(conn).optional()?.is_some() {
                let page = window(tied().select(tickets::id), take + 1, 0).plan_each_time(plan_each_time);
                rows = with_detail(conn, in_window(tickets::id, page), detail)?;
            }
            q = strictly_past(q, sort, c.at, key_desc);
        }
        // The first page of a search for common words, found in the list's order.
        None => {
            if let Some(text) = &text_ids {
                let plain = ordered(narrowed(&scope, filter, None), sort, key_desc);
                if let Some(ids) =
                    text.first_page_by_walk(conn, plain, sort, key_desc, take as usize + 1, total.value())?
                {
                    let page = window(crate::db::ids(&ids, conn.is_postgres()), take + 1, 0);
                    rows = with_detail(conn, in_window(tickets::id, page), detail)?;
                }
            }
        }
    }
    let wanted = take + 1 - rows.len() as i64;
    if wanted > 0 {
        let page = window(q.select(tickets::id), wanted, 0).plan_each_time(plan_each_time);
        rows.extend(with_detail(conn, in_window(tickets::id, page), detail)?);
    }
    // Back in reading order (the database does not keep the inner order).
    rows.sort_by_key(|r| (key(sort, &r.ticket), r.ticket.id));
    if key_desc {
        rows.reverse();
    }
    let more = rows.len() as i64 > take;
    rows.truncate(take as usize);
    if backwards {
        rows.reverse();
    }
    let (has_next, has_prev) = match at {
        PageAt::Number(n) => (more, n > 1),
        PageAt::After(_) => (more, true),
        PageAt::Before(_) => (true, more),
        PageAt::Last => (false, more),
    };
    if text_ids.is_some() {
        // A search reads thousands of tickets: their pages are not kept mapped.
        crate::db::release_memory_map(conn)?;
    }
    Ok(TicketPage { rows, has_next, has_prev, total, at })
}

/// The place of the row `index` rows into the list (counting from 0), if it has
/// that many: the rows before it are walked in the sort's index, reading only the
/// sort key and the id, which the index holds. One small statement, kept prepared
/// (and planned once) unless the list is a search planned at each run. The columns
/// are asked for in the index's own order, so PostgreSQL hands on each entry of an
/// unfiltered list's walk as it is, without building a row of its own for each.
fn row_at(
    conn: &mut AnyConnection,
    list: tickets::BoxedQuery<'_, Db>,
    sort: Sort,
    index: i64,
    plan_each_time: bool,
) -> DomainResult<Option<Cursor>> {
    let row = match sort {
        Sort::UpdatedDesc | Sort::UpdatedAsc => {
            window(list.select((tickets::updated_at.nullable(), tickets::id)), 1, index)
                .bind_offset()
                .plan_each_time(plan_each_time)
                .get_result::<(Option<NaiveDateTime>, i64)>(conn)
        }
        Sort::CreatedDesc | Sort::CreatedAsc => {
            window(list.select((tickets::created_at.nullable(), tickets::id)), 1, index)
                .bind_offset()
                .plan_each_time(plan_each_time)
                .get_result::<(Option<NaiveDateTime>, i64)>(conn)
        }
        Sort::WaitingLongest => window(list.select((tickets::waiting_since, tickets::id)), 1, index)
            .bind_offset()
            .plan_each_time(plan_each_time)
            .get_result::<(Option<NaiveDateTime>, i64)>(conn),
    }
    .optional()?;
    // The waiting sort lists waiting tickets only, which all have the time.
    Ok(row.and_then(|(at, id)| Some(Cursor { at: at?, id })))
}

/// The tickets of `scope` matching `filter`, as a query to add order and paging to.
fn narrowed<'a>(scope: &Scope, filter: &TicketFilter, text: Option<&TextMatches>) -> tickets::BoxedQuery<'a, Db> {
    let q = filter.apply(scope.apply(tickets::table.into_boxed()));
    match text {
        Some(text) => text.apply(q),
        None => q,
    }
}

/// The tickets a window of the list found, with what `detail` asks for of each.
fn with_detail<Q>(
    conn: &mut AnyConnection,
    page: InWindow<tickets::id, Q>,
    detail: Detail,
) -> DomainResult<Vec<ListedTicket>>
where
    Q: QueryFragment<Db>,
{
    Ok(match detail {
        Detail::Ticket => tickets::table
            .filter(page)
            .select(Ticket::as_select())
            .load::<Ticket>(conn)?
            .into_iter()
            .map(|ticket| ListedTicket { ticket, affiliate_name: String::new(), manager_name: None, last: None })
            .collect(),
        Detail::NamesAndLast => tickets::table
            .inner_join(affiliates::table)
            .left_join(users::table.on(tickets::manager_id.eq(users::id.nullable())))
            .filter(page)
            .select((
                Ticket::as_select(),
                affiliates::name,
                users::name.nullable(),
                tickets::last_author_kind,
                tickets::last_preview,
            ))
            .load::<(Ticket, String, Option<String>, Option<AuthorKind>, Option<String>)>(conn)?
            .into_iter()
            .map(|(ticket, affiliate_name, manager_name, author, start)| ListedTicket {
                ticket,
                affiliate_name,
                manager_name,
                last: last_message(author, start),
            })
            .collect(),
    })
}

/// How many tickets match: from the totals table when the filter is only scope,
/// manager, status and type (instant at any size); otherwise counted, up to a cap.
/// `text_ids` are the search's matches, found once for the page and its count.
fn count(
    conn: &mut AnyConnection,
    scope: &Scope,
    filter: &TicketFilter,
    text_ids: Option<&TextMatches>,
) -> DomainResult<Total> {
    let managers: Option<Vec<Option<i64>>> = match (scope, filter.manager_ids.as_slice()) {
        (Scope::All, []) => Some(vec![None]),
        (Scope::All, ids) => Some(ids.iter().map(|m| Some(*m)).collect()),
        (Scope::Manager(m), []) => Some(vec![Some(*m)]),
        (Scope::Manager(m), ids) => Some(ids.iter().filter(|id| *id == m).map(|id| Some(*id)).collect()),
        (Scope::Affiliate(_), _) => None,
    };
    let by_groups = filter.id.is_none()
        && filter.affiliate_ids.is_empty()
        && filter.offer_ids.is_empty()
        && filter.request_states.is_empty()
        && filter.affiliate_name.is_none()
        && !filter.waiting
        && filter.text.is_empty();
    if let Some(managers) = managers.filter(|_| by_groups) {
        let mut n = 0;
        for m in managers {
            n += ticket_counts::total(conn, m, &filter.statuses(), &filter.kinds)?;
        }
        return Ok(Total::Exact(n));
    }
    let n = match text_ids {
        // The search already found them all: nothing else narrows it.
        Some(text) if *scope == Scope::All && filter.is_text_only() => text.ids.len() as i64,
        _ => narrowed(scope, filter, text_ids).select(tickets::id).limit(COUNT_CAP + 1).load::<i64>(conn)?.len() as i64,
    };
    Ok(if n > COUNT_CAP {
        Total::AtLeast(COUNT_CAP)
    } else if !filter.text.is_empty() && n >= search::MAX_MATCHES {
        Total::AtLeast(search::MAX_MATCHES)
    } else {
        Total::Exact(n)
    })
}

/// What an export writes of a ticket: its columns of the CSV and no more (the
/// description and the counters stay in the table).
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = tickets)]
pub struct ExportedTicket {
    pub id: i64,
    pub affiliate_id: i64,
    pub kind: TicketKind,
    pub status: TicketStatus,
    pub request_state: Option<RequestState>,
    pub title: String,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
}

/// One row of an export: the ticket with its affiliate's and manager's names.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub ticket: ExportedTicket,
    pub affiliate_name: String,
    pub manager_name: Option<String>,
}

/// A chunk of every ticket matching, newest activity first, after `after` (the last
/// ticket of the previous chunk): an export reads the whole list this way, one
/// index range at a time, without holding it in memory.
pub fn export_chunk(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &TicketFilter,
    after: Option<Cursor>,
    size: u32,
) -> DomainResult<Vec<ExportRow>> {
    actor.as_staff()?;
    let text_ids = text_matches(conn, filter)?;
    let mut q =
        narrowed(&actor.scope(), filter, text_ids.as_ref()).order((tickets::updated_at.desc(), tickets::id.desc()));
    if let Some(c) = after {
        q = past_cursor(q, Sort::UpdatedDesc, c, true);
    }
    let page = window(q.select(tickets::id), i64::from(size.max(1)), 0)
        .plan_each_time(text_ids.as_ref().is_some_and(TextMatches::plan_each_time));
    let mut rows: Vec<ExportRow> = tickets::table
        .inner_join(affiliates::table)
        .left_join(users::table.on(tickets::manager_id.eq(users::id.nullable())))
        .filter(in_window(tickets::id, page))
        .select((ExportedTicket::as_select(), affiliates::name, users::name.nullable()))
        .load::<(ExportedTicket, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(ticket, affiliate_name, manager_name)| ExportRow { ticket, affiliate_name, manager_name })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse((r.ticket.updated_at, r.ticket.id)));
    // Chunk after chunk an export reads the whole table: none of it kept mapped.
    crate::db::release_memory_map(conn)?;
    Ok(rows)
}

/// The ticket after `place` in a list of this filter and order, with its own place:
/// the thread's "next ticket". The place is where the ticket stood when the list
/// was read: answering it moves it to the top of "last updated first", and the
/// next ticket is still the one below where it was. One index range read.
pub fn next_after(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &TicketFilter,
    sort: Sort,
    place: Cursor,
) -> DomainResult<Option<(i64, Cursor)>> {
    let text_ids = text_matches(conn, filter)?;
    let desc = descending(sort);
    let q = ordered(narrowed(&actor.scope(), filter, text_ids.as_ref()), sort, desc);
    // Only what its place needs: the id and the sort keys, read from the index.
    let q = if conn.is_postgres() { row_past(q, sort, place, desc) } else { past_cursor(q, sort, place, desc) };
    let next: Option<(i64, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>)> =
        window(q.select((tickets::id, tickets::updated_at, tickets::created_at, tickets::waiting_since)), 1, 0)
            .plan_each_time(text_ids.as_ref().is_some_and(TextMatches::plan_each_time))
            .get_result(conn)
            .optional()?;
    if text_ids.is_some() {
        // The search read thousands of tickets: their pages are not kept mapped.
        crate::db::release_memory_map(conn)?;
    }
    Ok(next.map(|(id, updated, created, waiting)| (id, Cursor { at: key_of(sort, updated, created, waiting), id })))
}

/// Every id matching (for "apply to all N matching"), in list order.
pub fn matching_ids(conn: &mut AnyConnection, actor: &Actor, filter: &TicketFilter) -> DomainResult<Vec<i64>> {
    let text_ids = text_matches(conn, filter)?;
    let ids = narrowed(&actor.scope(), filter, text_ids.as_ref())
        .order((tickets::updated_at.desc(), tickets::id.desc()))
        .select(tickets::id)
        .load(conn)?;
    // Tens of thousands of tickets' index entries: not kept mapped.
    crate::db::release_memory_map(conn)?;
    Ok(ids)
}

/// Tickets in the viewer's scope waiting to be read by them (at most 100 counted).
pub fn unread(conn: &mut AnyConnection, viewer: &Actor) -> DomainResult<i64> {
    let q = viewer.scope().apply(tickets::table.into_boxed());
    let q = match viewer.scope() {
        Scope::Affiliate(_) => q.filter(tickets::unread_by_affiliate.gt(0)),
        _ => q.filter(tickets::unread_by_manager.gt(0)),
    };
    Ok(q.select(tickets::id).limit(100).load::<i64>(conn)?.len() as i64)
}

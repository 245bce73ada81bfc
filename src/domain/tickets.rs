//! Tickets: the model, who may see which, and the filtered, paginated list.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;

pub use super::kinds::{TicketKind, TicketStatus};
use super::{StaffRef, search, ticket_counts};
use crate::db::schema::{affiliates, tickets, users};
use crate::db::{AnyConnection, Db, InWindow, in_window, window};
use crate::error::AppResult;

#[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq)]
#[diesel(table_name = tickets)]
pub struct Ticket {
    pub id: i64,
    pub affiliate_id: i64,
    pub manager_id: Option<i64>,
    pub kind: String,
    pub status: String,
    pub request_state: Option<String>,
    pub offer_id: Option<i64>,
    pub smartlink_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub manager_answers: i32,
    pub affiliate_messages: i32,
    pub unread_by_manager: i32,
    pub unread_by_affiliate: i32,
}

impl Ticket {
    pub fn kind(&self) -> Option<TicketKind> {
        TicketKind::parse(&self.kind)
    }
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
    pub fn is_pending_request(&self) -> bool {
        self.request_state.as_deref() == Some("pending")
    }
    /// When the ticket last changed, or `None` if never since it was created.
    pub fn changed_at(&self) -> Option<NaiveDateTime> {
        (self.updated_at != self.created_at).then_some(self.updated_at)
    }
    pub fn kind_label(&self) -> &'static str {
        super::kinds::kind_label(&self.kind)
    }
    pub fn status_label(&self) -> &'static str {
        super::kinds::status_label(&self.status)
    }

    pub fn find(conn: &mut AnyConnection, id: i64) -> AppResult<Option<Ticket>> {
        Ok(tickets::table.find(id).select(Ticket::as_select()).first(conn).optional()?)
    }

    /// The ticket if `scope` may see it; otherwise `None`, as if it did not exist.
    pub fn find_visible(conn: &mut AnyConnection, scope: &Scope, id: i64) -> AppResult<Option<Ticket>> {
        Ok(Ticket::find(conn, id)?.filter(|t| scope.allows(t)))
    }
}

/// Which tickets someone may see: everything (admins, managers granted all), the
/// tickets of one manager's affiliates, or one affiliate's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Manager(i64),
    Affiliate(i64),
}

impl Scope {
    pub fn of_staff(staff: &StaffRef) -> Scope {
        if staff.sees_everything() { Scope::All } else { Scope::Manager(staff.id) }
    }

    pub fn allows(&self, ticket: &Ticket) -> bool {
        match self {
            Scope::All => true,
            Scope::Manager(m) => ticket.manager_id == Some(*m),
            Scope::Affiliate(a) => ticket.affiliate_id == *a,
        }
    }

    fn apply<'a>(&self, q: tickets::BoxedQuery<'a, Db>) -> tickets::BoxedQuery<'a, Db> {
        match self {
            Scope::All => q,
            Scope::Manager(m) => q.filter(tickets::manager_id.eq(*m)),
            Scope::Affiliate(a) => q.filter(tickets::affiliate_id.eq(*a)),
        }
    }
}

/// What the list is narrowed to. Empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketFilter {
    pub id: Option<i64>,
    pub status: Option<TicketStatus>,
    pub kinds: Vec<TicketKind>,
    pub affiliate_ids: Vec<i64>,
    pub manager_ids: Vec<i64>,
    pub offer_ids: Vec<i64>,
    /// Search words (see `search::terms`); all must match.
    pub text: Vec<String>,
}

impl TicketFilter {
    pub fn is_empty(&self) -> bool {
        *self == TicketFilter::default()
    }

    /// The tickets whose text matches, when the filter searches text: found once
    /// per request, so the page and its count do not each search again.
    fn text_matches(&self, conn: &mut AnyConnection) -> AppResult<Option<TextMatches>> {
        if self.text.is_empty() {
            return Ok(None);
        }
        let ids = search::newest_matches(conn, &self.text)?;
        Ok(Some(TextMatches { ids, postgres: conn.is_postgres() }))
    }

    /// Only the text narrows the list (beyond the scope).
    fn is_text_only(&self) -> bool {
        !self.text.is_empty() && TicketFilter { text: Vec::new(), ..self.clone() }.is_empty()
    }

    /// Single values are compared with `=` rather than `IN (...)`: the same SQL text
    /// every time, so the database keeps the prepared statement.
    fn apply<'a>(&self, mut q: tickets::BoxedQuery<'a, Db>, text: Option<&TextMatches>) -> tickets::BoxedQuery<'a, Db> {
        if let Some(id) = self.id {
            q = q.filter(tickets::id.eq(id));
        }
        if let Some(s) = self.status {
            q = q.filter(tickets::status.eq(s.as_str()));
        }
        match self.kinds.as_slice() {
            [] => {}
            [k] => q = q.filter(tickets::kind.eq(k.as_str())),
            kinds => q = q.filter(tickets::kind.eq_any(kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>())),
        }
        match self.affiliate_ids.as_slice() {
            [] => {}
            [a] => q = q.filter(tickets::affiliate_id.eq(*a)),
            ids => q = q.filter(tickets::affiliate_id.eq_any(ids.to_vec())),
        }
        match self.manager_ids.as_slice() {
            [] => {}
            [m] => q = q.filter(tickets::manager_id.eq(*m)),
            ids => q = q.filter(tickets::manager_id.eq_any(ids.to_vec())),
        }
        match self.offer_ids.as_slice() {
            [] => {}
            [o] => q = q.filter(tickets::offer_id.eq(*o)),
            ids => q = q.filter(tickets::offer_id.eq_any(ids.to_vec())),
        }
        if let Some(text) = text {
            q = text.apply(q);
        }
        q
    }
}

/// The tickets a text search found (at most `search::MAX_MATCHES`, newest first).
struct TextMatches {
    ids: Vec<i64>,
    postgres: bool,
}

impl TextMatches {
    /// PostgreSQL's one plan for any list of ids looks each of them up; when they
    /// are the newest tickets, walking the time index finds a page in a fraction of
    /// that. Only a plan made for the ids at hand knows which.
    fn plan_each_time(&self) -> bool {
        self.postgres
    }

    /// Narrows a query to these tickets with one bound value rather than thousands of
    /// placeholders: an array on PostgreSQL (`= ANY($1)`), a JSON array on SQLite.
    fn apply<'a>(&self, q: tickets::BoxedQuery<'a, Db>) -> tickets::BoxedQuery<'a, Db> {
        if self.postgres { q.filter(tickets::id.eq_any(self.ids.clone())) } else { q.filter(sqlite_id_in(&self.ids)) }
    }
}

/// `tickets.id IN (...)` for SQLite with the ids as one JSON array: one statement
/// text for any number of ids, so it is parsed once and kept.
type SqliteIdIn = diesel::expression::SqlLiteral<
    diesel::sql_types::Bool,
    diesel::expression::UncheckedBind<
        diesel::expression::SqlLiteral<diesel::sql_types::Bool>,
        diesel::dsl::AsExprOf<String, diesel::sql_types::Text>,
    >,
>;

fn sqlite_id_in(ids: &[i64]) -> SqliteIdIn {
    let json = serde_json::to_string(ids).expect("numbers serialise");
    diesel::dsl::sql::<diesel::sql_types::Bool>("`tickets`.`id` IN (SELECT value FROM json_each(")
        .bind::<diesel::sql_types::Text, _>(json)
        .sql("))")
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Last activity first: what needs attention now.
    #[default]
    UpdatedDesc,
    UpdatedAsc,
    CreatedDesc,
    CreatedAsc,
}

impl Sort {
    pub const ALL: [(Sort, &'static str); 4] = [
        (Sort::UpdatedDesc, "Last updated first"),
        (Sort::UpdatedAsc, "Least recently updated first"),
        (Sort::CreatedDesc, "Newest first"),
        (Sort::CreatedAsc, "Oldest first"),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::UpdatedDesc => "updated_desc",
            Sort::UpdatedAsc => "updated_asc",
            Sort::CreatedDesc => "created_desc",
            Sort::CreatedAsc => "created_asc",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL.iter().map(|(s, _)| *s).find(|x| x.as_str() == s)
    }

    fn descending(self) -> bool {
        matches!(self, Sort::UpdatedDesc | Sort::CreatedDesc)
    }

    fn key(self, t: &Ticket) -> NaiveDateTime {
        match self {
            Sort::UpdatedDesc | Sort::UpdatedAsc => t.updated_at,
            Sort::CreatedDesc | Sort::CreatedAsc => t.created_at,
        }
    }
}

/// A position in the sorted list: the sort value and id of a boundary row. Pages
/// are read from it by an index range scan, so a deep page costs what page 1 does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: NaiveDateTime,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at.and_utc().timestamp_micros(), self.id)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (micros, id) = s.split_once('.')?;
        let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
        Some(Cursor { at, id: id.parse().ok()? })
    }
}

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
}

pub struct TicketPage {
    pub rows: Vec<ListedTicket>,
    pub has_next: bool,
    pub has_prev: bool,
    pub total: Total,
}

impl TicketPage {
    pub fn first_cursor(&self, sort: Sort) -> Option<Cursor> {
        self.rows.first().map(|r| Cursor { at: sort.key(&r.ticket), id: r.ticket.id })
    }
    pub fn last_cursor(&self, sort: Sort) -> Option<Cursor> {
        self.rows.last().map(|r| Cursor { at: sort.key(&r.ticket), id: r.ticket.id })
    }
}

/// Counting stops here for filters the totals table cannot answer.
const COUNT_CAP: i64 = 10_000;

/// One page of the tickets `scope` may see that match `filter`, with the names of
/// their affiliates and managers.
///
/// The page is found by ids alone (filter, order and cursor answered from an index),
/// and only those rows are read in full, joined to the names, in the same statement.
pub fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    filter: &TicketFilter,
    sort: Sort,
    at: PageAt,
    per_page: u32,
) -> AppResult<TicketPage> {
    let per_page = per_page.max(1) as i64;
    let text_ids = filter.text_matches(conn)?;
    let desc = sort.descending();
    // Reading backwards (the page before a cursor, or the last page) flips the order.
    let backwards = matches!(at, PageAt::Before(_) | PageAt::Last);
    let key_desc = desc != backwards;
    let mut q = filter.apply(scope.apply(tickets::table.into_boxed()), text_ids.as_ref());
    q = match (sort, key_desc) {
        (Sort::UpdatedDesc | Sort::UpdatedAsc, true) => q.order((tickets::updated_at.desc(), tickets::id.desc())),
        (Sort::UpdatedDesc | Sort::UpdatedAsc, false) => q.order((tickets::updated_at.asc(), tickets::id.asc())),
        (Sort::CreatedDesc | Sort::CreatedAsc, true) => q.order((tickets::created_at.desc(), tickets::id.desc())),
        (Sort::CreatedDesc | Sort::CreatedAsc, false) => q.order((tickets::created_at.asc(), tickets::id.asc())),
    };
    if let PageAt::After(c) | PageAt::Before(c) = at {
        q = past_cursor(q, sort, c, key_desc);
    }
    let offset = match at {
        PageAt::Number(n) => (n.max(1) as i64 - 1) * per_page,
        _ => 0,
    };
    let total = count(conn, scope, filter, text_ids.as_ref())?;
    // The last page holds what is left over, not a full page.
    let take = match (at, total) {
        (PageAt::Last, Total::Exact(n)) if n % per_page != 0 => n % per_page,
        _ => per_page,
    };
    let page = window(q.select(tickets::id), take + 1, offset)
        .plan_each_time(text_ids.as_ref().is_some_and(TextMatches::plan_each_time));
    // Back in reading order (the database does not keep the inner order).
    let mut rows = with_names(conn, in_window(tickets::id, page))?;
    rows.sort_by_key(|r| (sort.key(&r.ticket), r.ticket.id));
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
    Ok(TicketPage { rows, has_next, has_prev, total })
}

/// The tickets a window of the list found, with their affiliate's and manager's names.
fn with_names<Q>(conn: &mut AnyConnection, page: InWindow<tickets::id, Q>) -> AppResult<Vec<ListedTicket>>
where
    Q: QueryFragment<Db>,
{
    Ok(tickets::table
        .inner_join(affiliates::table)
        .left_join(users::table.on(tickets::manager_id.eq(users::id.nullable())))
        .select((Ticket::as_select(), affiliates::name, users::name.nullable()))
        .filter(page)
        .load::<(Ticket, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(ticket, affiliate_name, manager_name)| ListedTicket { ticket, affiliate_name, manager_name })
        .collect())
}

/// Rows strictly past the cursor in the direction of reading. Written as
/// `key <= c AND (key < c OR id < c.id)` so both databases bound an index range.
fn past_cursor(q: tickets::BoxedQuery<'_, Db>, sort: Sort, c: Cursor, descending: bool) -> tickets::BoxedQuery<'_, Db> {
    match (sort, descending) {
        (Sort::UpdatedDesc | Sort::UpdatedAsc, true) => {
            q.filter(tickets::updated_at.le(c.at)).filter(tickets::updated_at.lt(c.at).or(tickets::id.lt(c.id)))
        }
        (Sort::UpdatedDesc | Sort::UpdatedAsc, false) => {
            q.filter(tickets::updated_at.ge(c.at)).filter(tickets::updated_at.gt(c.at).or(tickets::id.gt(c.id)))
        }
        (Sort::CreatedDesc | Sort::CreatedAsc, true) => {
            q.filter(tickets::created_at.le(c.at)).filter(tickets::created_at.lt(c.at).or(tickets::id.lt(c.id)))
        }
        (Sort::CreatedDesc | Sort::CreatedAsc, false) => {
            q.filter(tickets::created_at.ge(c.at)).filter(tickets::created_at.gt(c.at).or(tickets::id.gt(c.id)))
        }
    }
}

/// How many tickets match: from the totals table when the filter is only scope,
/// manager, status and type (instant at any size); otherwise counted, up to a cap.
/// `text_ids` are the search's matches, found once for the page and its count.
fn count(
    conn: &mut AnyConnection,
    scope: &Scope,
    filter: &TicketFilter,
    text_ids: Option<&TextMatches>,
) -> AppResult<Total> {
    let by_groups = filter.id.is_none()
        && filter.affiliate_ids.is_empty()
        && filter.offer_ids.is_empty()
        && filter.text.is_empty()
        && !matches!(scope, Scope::Affiliate(_));
    if by_groups {
        let kinds: Vec<&str> = filter.kinds.iter().map(|k| k.as_str()).collect();
        let status = filter.status.map(|s| s.as_str());
        let managers: Vec<Option<i64>> = match (scope, filter.manager_ids.as_slice()) {
            (Scope::All, []) => vec![None],
            (Scope::All, ids) => ids.iter().map(|m| Some(*m)).collect(),
            (Scope::Manager(m), []) => vec![Some(*m)],
            (Scope::Manager(m), ids) => ids.iter().filter(|id| *id == m).map(|id| Some(*id)).collect(),
            (Scope::Affiliate(_), _) => unreachable!("handled above"),
        };
        let mut n = 0;
        for m in managers {
            n += ticket_counts::total(conn, m, status, &kinds)?;
        }
        return Ok(Total::Exact(n));
    }
    let n = match text_ids {
        // The search already found them all: nothing else narrows it.
        Some(text) if *scope == Scope::All && filter.is_text_only() => text.ids.len() as i64,
        _ => filter
            .apply(scope.apply(tickets::table.into_boxed()), text_ids)
            .select(tickets::id)
            .limit(COUNT_CAP + 1)
            .load::<i64>(conn)?
            .len() as i64,
    };
    Ok(if n > COUNT_CAP {
        Total::AtLeast(COUNT_CAP)
    } else if !filter.text.is_empty() && n >= search::MAX_MATCHES {
        Total::AtLeast(search::MAX_MATCHES)
    } else {
        Total::Exact(n)
    })
}

/// Every id matching (for "apply to all N matching"), in list order.
pub fn matching_ids(conn: &mut AnyConnection, scope: &Scope, filter: &TicketFilter) -> AppResult<Vec<i64>> {
    let text_ids = filter.text_matches(conn)?;
    Ok(filter
        .apply(scope.apply(tickets::table.into_boxed()), text_ids.as_ref())
        .order((tickets::updated_at.desc(), tickets::id.desc()))
        .select(tickets::id)
        .load(conn)?)
}

//! The managers' ticket list: reading its page and sort from the URL (the filter
//! is the domain's), and what the template needs to show one page of it.

use std::sync::Arc;

use crate::domain::ticket_filter::{FieldError, Sort, TicketFilter};
use crate::domain::ticket_list::{Cursor, Detail, ListedTicket, PageAt, PageRequest, TicketPage, Total};
use crate::domain::tickets::{RequestState, TicketKind, TicketStatus};
use crate::domain::users::UserSummary;
use crate::http::filter_params::FilterParams;
use crate::http::paths;
use crate::http::query::Params;

pub const PER_PAGE_CHOICES: [u32; 5] = [10, 25, 50, 100, 500];
pub const DEFAULT_PER_PAGE: u32 = 25;

/// The checked list request: what to show, and what was wrong with the rest.
#[derive(Clone, Debug)]
pub struct ListRequest {
    pub raw: Params,
    pub filter: TicketFilter,
    pub sort: Sort,
    pub at: PageAt,
    pub page: u32,
    pub per_page: u32,
    pub errors: Vec<FieldError>,
}

impl ListRequest {
    pub fn parse(raw: Params) -> ListRequest {
        let (mut filter, mut errors) = TicketFilter::parse(&raw);
        let sort = match raw.one("sort") {
            None => Sort::default(),
            Some(s) => Sort::parse(s).unwrap_or_else(|| {
                errors.push(FieldError::new("sort", format!("Unknown sort order \"{s}\".")));
                Sort::default()
            }),
        };
        // "Waiting longest first" lists the tickets that are waiting.
        filter.waiting |= sort == Sort::WaitingLongest;
        let per_page = match raw.one("per_page") {
            None => DEFAULT_PER_PAGE,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if PER_PAGE_CHOICES.contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "per_page",
                        format!("Per page must be 10, 25, 50, 100 or 500, not \"{v}\"."),
                    ));
                    DEFAULT_PER_PAGE
                }
            },
        };
        let mut page = match raw.one("page") {
            None => 1,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    errors.push(FieldError::new("page", format!("Page must be 1 or more, not \"{v}\".")));
                    1
                }
            },
        };
        let cursor = |name: &str, errors: &mut Vec<FieldError>| {
            raw.one(name).and_then(|c| {
                Cursor::decode(c).or_else(|| {
                    errors.push(FieldError::new("page", "That page link is damaged; showing the first page."));
                    None
                })
            })
        };
        let at = if raw.one("last").is_some() {
            PageAt::Last
        } else if let Some(c) = cursor("after", &mut errors) {
            PageAt::After(c)
        } else if let Some(c) = cursor("before", &mut errors) {
            PageAt::Before(c)
        } else {
            PageAt::Number(page)
        };
        if errors.iter().any(|e| e.field == "page") && !matches!(at, PageAt::Number(_)) {
            page = 1;
        }
        ListRequest { raw, filter, sort, at, page, per_page, errors }
    }

    /// The search text as typed (the panel's `q`, or the API's `search`).
    pub fn text(&self) -> Option<&str> {
        self.raw.one("q").or(self.raw.one("search"))
    }

    pub fn page_request(&self) -> PageRequest {
        PageRequest { sort: self.sort, at: self.at, per_page: self.per_page, detail: Detail::NamesAndLast }
    }

    pub fn error_for(&self, field: &str) -> Option<&str> {
        // The API's names mean the same fields of the form.
        let alias = match field {
            "affiliate_id" => "pid",
            "q" => "search",
            _ => field,
        };
        self.errors.iter().find(|e| e.field == field || e.field == alias).map(|e| e.message.as_str())
    }

    /// The filter part of the query string (no paging), to build links from.
    pub fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.filter.pairs(self.text());
        if self.sort != Sort::default() {
            pairs.push(("sort", self.sort.as_str().to_string()));
        }
        if self.per_page != DEFAULT_PER_PAGE {
            pairs.push(("per_page", self.per_page.to_string()));
        }
        pairs
    }

    /// Where in the list this page is (`page`, and the cursor that reads it).
    pub fn position_pairs(&self) -> Vec<(&'static str, String)> {
        let page = ("page", self.page.to_string());
        match self.at {
            PageAt::Number(1) => vec![],
            PageAt::Number(_) => vec![page],
            PageAt::After(c) => vec![("after", c.encode()), page],
            PageAt::Before(c) => vec![("before", c.encode()), page],
            PageAt::Last => vec![("last", "1".into()), page],
        }
    }

    pub fn has_filters(&self) -> bool {
        !self.filter.is_empty()
    }
}

pub use crate::http::paths::query_string;

/// Everything the results part of the page shows.
pub struct TicketListView {
    pub request: ListRequest,
    pub rows: Vec<ListedTicket>,
    pub total: Total,
    pub page: u32,
    pub pages: Option<u32>,
    pub first_url: Option<String>,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    pub last_url: Option<String>,
    pub self_url: String,
    /// Shared with the instance's kept copy (`http::lookups`), not copied per page.
    pub managers: Arc<Vec<UserSummary>>,
    pub show_manager_filter: bool,
    /// Who tickets can be handed to (the bulk bar's Assign), everyone on staff.
    pub assignees: Arc<Vec<UserSummary>>,
    /// The reader, for the "My tickets" queue of who sees every queue.
    pub my_id: i64,
    /// The service targets, for each waiting ticket's standing.
    pub sla: crate::domain::sla::Targets,
    pub now: chrono::NaiveDateTime,
    pub csrf: String,
    /// Rows the last action changed or skipped, marked in the table.
    pub marked: Vec<i64>,
    /// The list's filter and order as a query string, for each row's link.
    list_query: String,
}

impl TicketListView {
    pub fn build(
        request: ListRequest,
        page: TicketPage,
        managers: Arc<Vec<UserSummary>>,
        show_manager_filter: bool,
        csrf: String,
    ) -> TicketListView {
        let base = request.filter_pairs();
        let link = |extra: Vec<(&'static str, String)>| {
            let mut p = base.clone();
            p.extend(extra);
            let qs = query_string(&p);
            paths::admin_tickets(&qs)
        };
        let per_page = request.per_page as i64;
        let pages = match page.total {
            Total::Exact(n) => Some(((n + per_page - 1) / per_page).max(1) as u32),
            Total::AtLeast(_) => None,
        };
        // The page read may be the last one instead of one past the end.
        let number = match page.at {
            PageAt::Last => pages.unwrap_or(request.page),
            _ => request.page,
        };
        let prev_url = match page.first_cursor(request.sort) {
            _ if !page.has_prev => None,
            Some(c) if number > 2 => Some(link(vec![("before", c.encode()), ("page", (number - 1).to_string())])),
            _ => Some(link(vec![])),
        };
        let next_url = match page.last_cursor(request.sort) {
            Some(c) if page.has_next => Some(link(vec![("after", c.encode()), ("page", (number + 1).to_string())])),
            _ => None,
        };
        let first_url = page.has_prev.then(|| link(vec![]));
        let last_url = match pages {
            Some(p) if page.has_next => Some(link(vec![("last", "1".into()), ("page", p.to_string())])),
            _ => None,
        };
        let self_url = match page.at {
            PageAt::Number(1) => link(vec![]),
            PageAt::Number(_) => link(vec![("page", number.to_string())]),
            PageAt::After(c) => link(vec![("after", c.encode()), ("page", number.to_string())]),
            PageAt::Before(c) => link(vec![("before", c.encode()), ("page", number.to_string())]),
            PageAt::Last => link(vec![("last", "1".to_string()), ("page", number.to_string())]),
        };
        TicketListView {
            list_query: query_string(&base),
            total: page.total,
            rows: page.rows,
            page: number,
            pages,
            first_url,
            prev_url,
            next_url,
            last_url,
            self_url,
            managers,
            show_manager_filter,
            assignees: Arc::default(),
            my_id: 0,
            sla: crate::domain::sla::Targets::default(),
            now: crate::domain::now(),
            csrf,
            request,
            marked: Vec::new(),
        }
    }

    pub fn kinds(&self) -> Vec<(&'static str, &'static str, bool)> {
        TicketKind::ALL.iter().map(|k| (k.as_str(), k.label(), self.request.filter.kinds.contains(k))).collect()
    }

    pub fn request_states(&self) -> Vec<(&'static str, &'static str, bool)> {
        RequestState::ALL
            .iter()
            .map(|s| (s.as_str(), s.label(), self.request.filter.request_states.contains(s)))
            .collect()
    }

    pub fn sorts(&self) -> Vec<(&'static str, &'static str, bool)> {
        Sort::ALL.iter().map(|(s, l)| (s.as_str(), *l, *s == self.request.sort)).collect()
    }

    pub fn per_page_choices(&self) -> Vec<(u32, bool)> {
        PER_PAGE_CHOICES.iter().map(|n| (*n, *n == self.request.per_page)).collect()
    }

    /// Where a waiting ticket stands against its target.
    pub fn standing(&self, t: &crate::domain::tickets::Ticket) -> Option<crate::domain::sla::Standing> {
        self.sla.standing(t, self.now)
    }

    pub fn status_is(&self, s: &str) -> bool {
        self.request.filter.status.map(TicketStatus::as_str) == Some(s)
    }

    /// What was typed into a field of the filter form, as typed.
    pub fn raw(&self, field: &str) -> &str {
        let r = &self.request.raw;
        match field {
            "affiliate_id" => r.one("affiliate_id").or(r.one("pid")),
            "q" => self.request.text(),
            _ => r.one(field),
        }
        .unwrap_or("")
    }

    pub fn manager_selected(&self, id: &i64) -> bool {
        self.request.filter.manager_ids.contains(id)
    }

    /// Managers the filter names that the select does not list (a bookmark, a
    /// manager since removed): kept as options, so the form says what is applied.
    pub fn unlisted_managers(&self) -> Vec<i64> {
        self.request
            .filter
            .manager_ids
            .iter()
            .copied()
            .filter(|id| !self.managers.iter().any(|m| m.id == *id))
            .collect()
    }

    pub fn total_text(&self) -> String {
        match self.total {
            Total::Exact(1) => "1 ticket".into(),
            Total::Exact(n) => format!("{} tickets", group_digits(n)),
            Total::AtLeast(n) if !self.request.filter.text.is_empty() => {
                format!(
                    "more than {} tickets (a text search looks at the {} newest matches)",
                    group_digits(n),
                    group_digits(n)
                )
            }
            Total::AtLeast(n) => format!("more than {} tickets", group_digits(n)),
        }
    }

    pub fn total_value(&self) -> i64 {
        self.total.value()
    }

    pub fn is_exact(&self) -> bool {
        matches!(self.total, Total::Exact(_))
    }

    pub fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        self.request.filter_pairs()
    }

    /// The page position, for the bulk form: after an action the list stays here.
    pub fn position_pairs(&self) -> Vec<(&'static str, String)> {
        self.request.position_pairs()
    }

    pub fn is_marked(&self, id: &i64) -> bool {
        self.marked.contains(id)
    }

    /// The folded filters are open when one of them is in use.
    pub fn more_filters_used(&self) -> bool {
        let f = &self.request.filter;
        !f.manager_ids.is_empty()
            || !f.offer_ids.is_empty()
            || !f.kinds.is_empty()
            || !f.request_states.is_empty()
            || (f.waiting && self.request.sort != Sort::WaitingLongest)
            || self.request.per_page != DEFAULT_PER_PAGE
            || ["manager_id", "offer_id", "type", "request_state", "per_page"]
                .iter()
                .any(|f| self.request.error_for(f).is_some())
    }

    /// A ticket's thread, knowing this list (its filter, order and the ticket's
    /// place) for "next ticket".
    pub fn thread_url(&self, ticket: &crate::domain::tickets::Ticket) -> String {
        let place = crate::domain::ticket_list::place(self.request.sort, ticket);
        thread_url_from(ticket.id, &self.list_query, Some(place))
    }

    /// Every ticket of this filter as CSV.
    pub fn export_url(&self) -> String {
        let pairs = self.request.filter.pairs(self.request.text());
        paths::tickets_export(&query_string(&pairs))
    }
}

pub use crate::domain::group_digits;

/// `/admin/tickets/7?from=<the list's query>&at=<its place>`: the thread remembers
/// the list it was opened from and where in it the ticket stood, so it can offer
/// the next ticket and the way back.
pub fn thread_url(id: i64, list_pairs: &[(&str, String)], place: Option<Cursor>) -> String {
    thread_url_from(id, &query_string(list_pairs), place)
}

/// `thread_url` with the list's query already encoded (a page's rows share it).
fn thread_url_from(id: i64, list_query: &str, place: Option<Cursor>) -> String {
    let mut pairs = Vec::new();
    if !list_query.is_empty() {
        pairs.push(("from", list_query.to_string()));
    }
    if let Some(place) = place {
        pairs.push(("at", place.encode()));
    }
    paths::admin_ticket(id, &query_string(&pairs))
}

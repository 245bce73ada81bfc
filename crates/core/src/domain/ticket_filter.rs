//! What a ticket list is narrowed to, and how that narrows the query. The server
//! reads it from the parameters of the admin list, the affiliate's Support list,
//! the API list and a bulk action on "all matching" (`http::filter_params`).

use diesel::prelude::*;

use super::states::{RequestState, TicketKind, TicketStatus};
use super::tickets::Scope;
use crate::db::schema::tickets;
use crate::db::{Db, any_of};

/// A value a person or client sent that could not be used, and why, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The parameter as it was named in the request.
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError { field, message: message.into() }
    }
}

/// Empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketFilter {
    pub id: Option<i64>,
    pub status: Option<TicketStatus>,
    pub kinds: Vec<TicketKind>,
    pub request_states: Vec<RequestState>,
    pub affiliate_ids: Vec<i64>,
    pub manager_ids: Vec<i64>,
    pub offer_ids: Vec<i64>,
    /// Search words (see `search::terms`); all must match.
    pub text: Vec<String>,
    /// Part of an affiliate's name (the panel's affiliate field takes an ID or a name).
    pub affiliate_name: Option<String>,
    /// Only tickets waiting for a manager's answer.
    pub waiting: bool,
    /// `status=open` takes the tickets waiting on the affiliate too (the API: an
    /// Affise client knows only open and closed).
    pub open_includes_pending: bool,
}

diesel::define_sql_function!(
    /// SQL `lower()`: both databases have it.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// `LIKE` pattern for "contains `text`", case-insensitive on both databases, with
/// the pattern characters of the text taken literally.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

impl TicketFilter {
    pub fn is_empty(&self) -> bool {
        *self == TicketFilter::default()
    }

    /// Only the text narrows the list (beyond the scope).
    pub(crate) fn is_text_only(&self) -> bool {
        !self.text.is_empty() && TicketFilter { text: Vec::new(), ..self.clone() }.is_empty()
    }

    /// The statuses asked for; none means any.
    pub fn statuses(&self) -> Vec<TicketStatus> {
        match self.status {
            None => Vec::new(),
            Some(TicketStatus::Open) if self.open_includes_pending => vec![TicketStatus::Open, TicketStatus::Pending],
            Some(s) => vec![s],
        }
    }

    /// Single values are compared with `=`, short lists with `IN (?, …)` kept
    /// prepared (`any_of`): the same SQL text every time, so the database keeps the
    /// prepared statement.
    pub(crate) fn apply<'a>(&self, mut q: tickets::BoxedQuery<'a, Db>) -> tickets::BoxedQuery<'a, Db> {
        if let Some(id) = self.id {
            q = q.filter(tickets::id.eq(id));
        }
        match self.statuses().as_slice() {
            [] => {}
            [s] => q = q.filter(tickets::status.eq(*s)),
            several => q = q.filter(any_of(tickets::status, several.to_vec())),
        }
        match self.kinds.as_slice() {
            [] => {}
            [k] => q = q.filter(tickets::kind.eq(*k)),
            kinds => q = q.filter(any_of(tickets::kind, kinds.to_vec())),
        }
        match self.request_states.as_slice() {
            [] => {}
            [s] => q = q.filter(tickets::request_state.eq(*s)),
            states => q = q.filter(any_of(tickets::request_state, states.to_vec())),
        }
        match self.affiliate_ids.as_slice() {
            [] => {}
            [a] => q = q.filter(tickets::affiliate_id.eq(*a)),
            ids => q = q.filter(any_of(tickets::affiliate_id, ids.to_vec())),
        }
        match self.manager_ids.as_slice() {
            [] => {}
            [m] => q = q.filter(tickets::manager_id.eq(*m)),
            ids => q = q.filter(any_of(tickets::manager_id, ids.to_vec())),
        }
        match self.offer_ids.as_slice() {
            [] => {}
            [o] => q = q.filter(tickets::offer_id.eq(*o)),
            ids => q = q.filter(any_of(tickets::offer_id, ids.to_vec())),
        }
        if let Some(name) = &self.affiliate_name {
            use crate::db::schema::affiliates;
            let named = affiliates::table
                .filter(lower(affiliates::name).like(contains_pattern(name)).escape('\\'))
                .select(affiliates::id);
            q = q.filter(tickets::affiliate_id.eq_any(named));
        }
        if self.waiting {
            q = q.filter(tickets::waiting_since.is_not_null());
        }
        q
    }
}

impl Scope {
    pub(crate) fn apply<'a>(&self, q: tickets::BoxedQuery<'a, Db>) -> tickets::BoxedQuery<'a, Db> {
        match self {
            Scope::All => q,
            Scope::Manager(m) => q.filter(tickets::manager_id.eq(*m)),
            Scope::Affiliate(a) => q.filter(tickets::affiliate_id.eq(*a)),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Last activity first: what needs attention now.
    #[default]
    UpdatedDesc,
    UpdatedAsc,
    CreatedDesc,
    CreatedAsc,
    /// Tickets waiting for an answer, the longest waiting first (implies `waiting`).
    WaitingLongest,
}

impl Sort {
    pub const ALL: [(Sort, &'static str); 5] = [
        (Sort::UpdatedDesc, "Last updated first"),
        (Sort::UpdatedAsc, "Least recently updated first"),
        (Sort::CreatedDesc, "Newest first"),
        (Sort::CreatedAsc, "Oldest first"),
        // The targets count from when the affiliate began to wait: the longest
        // waiting is the closest to (or furthest past) its target.
        (Sort::WaitingLongest, "Closest to breach (waiting longest)"),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::UpdatedDesc => "updated_desc",
            Sort::UpdatedAsc => "updated_asc",
            Sort::CreatedDesc => "created_desc",
            Sort::CreatedAsc => "created_asc",
            Sort::WaitingLongest => "waiting",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL.iter().map(|(s, _)| *s).find(|x| x.as_str() == s)
    }
}

//! What a ticket list is narrowed to, read from the parameters of the admin list,
//! the affiliate's Support list, the API list and a bulk action on "all matching"
//! by one parser that knows both the panel's names and the API's.

use diesel::prelude::*;

use super::search;
use super::states::{RequestState, TicketKind, TicketStatus};
use super::tickets::Scope;
use crate::db::schema::tickets;
use crate::db::{Db, any_of};
use crate::params::Params;

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

/// The names a filter is read from: the panel's first, then the API's.
const ID: &str = "id";
const STATUS: &str = "status";
const TYPE: &str = "type";
const REQUEST_STATE: &str = "request_state";
const AFFILIATE: [&str; 2] = ["affiliate_id", "pid"];
const MANAGER: &str = "manager_id";
const OFFER: &str = "offer_id";
const TEXT: [&str; 2] = ["q", "search"];
const WAITING: &str = "waiting";

impl TicketFilter {
    /// Reads a filter; what cannot be used is left out and explained.
    pub fn parse(p: &Params) -> (TicketFilter, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut filter = TicketFilter {
            id: ids(p, ID, &mut errors).into_iter().next(),
            manager_ids: ids(p, MANAGER, &mut errors),
            offer_ids: ids(p, OFFER, &mut errors),
            ..Default::default()
        };
        // The panel's affiliate field takes an ID or a name; the API's `pid` only IDs.
        for v in p.all(AFFILIATE[0]) {
            let v = v.trim();
            if !v.is_empty() && v.parse::<i64>().is_err() {
                match v.chars().count() {
                    n if n > 100 => {
                        errors.push(FieldError::new(AFFILIATE[0], "An affiliate name is at most 100 characters."))
                    }
                    _ => filter.affiliate_name = Some(v.to_string()),
                }
            }
        }
        let numeric = p.all(AFFILIATE[0]).into_iter().map(str::trim).filter(|v| v.parse::<i64>().is_ok());
        filter.affiliate_ids.extend(ids_in(numeric, AFFILIATE[0], &mut errors));
        filter.affiliate_ids.extend(ids(p, AFFILIATE[1], &mut errors));
        filter.waiting = matches!(p.one(WAITING), Some("1" | "true"));
        if let Some(s) = p.one(STATUS) {
            match TicketStatus::parse(s) {
                Some(status) => filter.status = Some(status),
                None => errors.push(FieldError::new(
                    STATUS,
                    format!("Unknown status \"{s}\": status must be open, pending or closed."),
                )),
            }
        }
        for k in p.all(TYPE) {
            match TicketKind::parse_any(k) {
                Some(kind) if !filter.kinds.contains(&kind) => filter.kinds.push(kind),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    TYPE,
                    format!(
                        "Unknown question type \"{k}\". Known types: general (common), financial, technical, \
                         other, offer_request, smartlink_request."
                    ),
                )),
            }
        }
        for s in p.all(REQUEST_STATE) {
            match RequestState::parse(s) {
                Some(state) if !filter.request_states.contains(&state) => filter.request_states.push(state),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    REQUEST_STATE,
                    format!("Unknown request state \"{s}\": use pending, approved or rejected."),
                )),
            }
        }
        for name in TEXT {
            if let Some(q) = p.one(name) {
                filter.text = search::terms(q);
                if filter.text.is_empty() {
                    errors.push(FieldError::new(name, "Search for words: letters or digits."));
                }
                break;
            }
        }
        (filter, errors)
    }

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

    /// The filter as parameters of the panel's list, to build links from.
    pub fn pairs(&self, text: Option<&str>) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(id) = self.id {
            pairs.push((ID, id.to_string()));
        }
        if let Some(s) = self.status {
            pairs.push((STATUS, s.as_str().to_string()));
        }
        for k in &self.kinds {
            pairs.push((TYPE, k.as_str().to_string()));
        }
        for s in &self.request_states {
            pairs.push((REQUEST_STATE, s.as_str().to_string()));
        }
        for a in &self.affiliate_ids {
            pairs.push((AFFILIATE[0], a.to_string()));
        }
        if let Some(name) = &self.affiliate_name {
            pairs.push((AFFILIATE[0], name.clone()));
        }
        for m in &self.manager_ids {
            pairs.push((MANAGER, m.to_string()));
        }
        for o in &self.offer_ids {
            pairs.push((OFFER, o.to_string()));
        }
        if let Some(q) = text.filter(|_| !self.text.is_empty()) {
            pairs.push((TEXT[0], q.to_string()));
        }
        if self.waiting {
            pairs.push((WAITING, "1".into()));
        }
        pairs
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

fn label(name: &str) -> &str {
    match name {
        "id" => "Ticket ID",
        "affiliate_id" => "Affiliate ID",
        "manager_id" => "Manager ID",
        "offer_id" => "Offer ID",
        other => other,
    }
}

/// Whole numbers above 0 under `name`.
fn ids(p: &Params, name: &'static str, errors: &mut Vec<FieldError>) -> Vec<i64> {
    ids_in(p.all(name), name, errors)
}

fn ids_in<'a>(values: impl IntoIterator<Item = &'a str>, name: &'static str, errors: &mut Vec<FieldError>) -> Vec<i64> {
    let mut out = Vec::new();
    for v in values {
        match v.parse::<i64>() {
            Ok(n) if n > 0 => out.push(n),
            // The API's name for affiliates is Affise's, and so is its wording.
            _ if name == "pid" => {
                errors.push(FieldError::new(name, format!("pid must hold integers above 0, not \"{v}\"")))
            }
            _ => errors
                .push(FieldError::new(name, format!("{} must be a whole number above 0, not \"{v}\".", label(name)))),
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> (TicketFilter, Vec<FieldError>) {
        TicketFilter::parse(&Params::from_query(q))
    }

    #[test]
    fn panel_and_api_names_mean_the_same() {
        let (panel, e1) = parse("status=open&type=general&affiliate_id=7&q=payout");
        let (api, e2) = parse("status=open&type[]=common&pid[]=7&search=payout");
        assert!(e1.is_empty() && e2.is_empty());
        assert_eq!(panel, api);
        assert_eq!(panel.kinds, vec![TicketKind::General]);
    }

    proptest::proptest! {
        /// Any query is a filter and a list of what was wrong, and the filter's own
        /// link reads back as the same filter.
        #[test]
        fn any_query_parses_and_round_trips(q in ".{0,200}") {
            let (filter, _) = parse(&q);
            let text = q.clone();
            let link: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(filter.pairs(Params::from_query(&text).one("q").or(Params::from_query(&text).one("search"))))
                .finish();
            let (again, errors) = parse(&link);
            proptest::prop_assert!(errors.is_empty(), "{link}: {errors:?}");
            proptest::prop_assert_eq!(again, filter);
        }

        #[test]
        fn ids_and_states_of_every_kind(ids in proptest::collection::vec(-5i64..1_000_000_000_000, 0..4), s in "(open|closed|x|)") {
            let q: Vec<String> = ids.iter().map(|i| format!("pid[]={i}")).chain([format!("status={s}")]).collect();
            let (filter, errors) = parse(&q.join("&"));
            let good: Vec<i64> = ids.iter().copied().filter(|i| *i > 0).collect();
            proptest::prop_assert_eq!(&filter.affiliate_ids, &good);
            proptest::prop_assert_eq!(errors.len(), ids.len() - good.len() + usize::from(s == "x"));
        }
    }

    #[test]
    fn bad_values_are_named() {
        let (f, errors) = parse("status=maybe&type=bogus&request_state=later&id=abc&pid=x");
        assert!(f.is_empty());
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["id", "pid", "status", "type", "request_state"]);
    }
}

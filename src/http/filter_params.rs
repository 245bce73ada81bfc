//! A ticket filter read from request parameters by one parser that knows both the
//! panel's names and the API's, and written back as the panel's link parameters.

use affdesk_core::domain::search;
use affdesk_core::domain::states::{RequestState, TicketKind, TicketStatus};
use affdesk_core::domain::ticket_filter::{FieldError, TicketFilter};

use super::query::Params;

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

/// Reading a filter from parameters and writing it back as link parameters.
pub trait FilterParams: Sized {
    /// Reads a filter; what cannot be used is left out and explained.
    fn parse(p: &Params) -> (Self, Vec<FieldError>);
    /// The filter as parameters of the panel's list, to build links from.
    fn pairs(&self, text: Option<&str>) -> Vec<(&'static str, String)>;
}

impl FilterParams for TicketFilter {
    fn parse(p: &Params) -> (TicketFilter, Vec<FieldError>) {
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

    fn pairs(&self, text: Option<&str>) -> Vec<(&'static str, String)> {
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

//! The managers' ticket list: reading its filters from the URL, and what the
//! template needs to show one page of it.

use serde::Deserialize;

use crate::domain::search;
use crate::domain::tickets::{
    Cursor, ListedTicket, PageAt, Sort, TicketFilter, TicketKind, TicketPage, TicketStatus, Total,
};
use crate::domain::users::UserSummary;

pub const PER_PAGE_CHOICES: [u32; 5] = [10, 25, 50, 100, 500];
pub const DEFAULT_PER_PAGE: u32 = 25;

/// The list's query string, as typed: every value is checked before it is used.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct ListQuery {
    pub id: Option<String>,
    pub status: Option<String>,
    #[serde(rename = "type", default)]
    pub kinds: Vec<String>,
    pub affiliate_id: Option<String>,
    pub manager_id: Option<String>,
    pub offer_id: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub last: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The checked list request: what to show, and what was wrong with the rest.
#[derive(Clone, Debug)]
pub struct ListRequest {
    pub raw: ListQuery,
    pub filter: TicketFilter,
    pub sort: Sort,
    pub at: PageAt,
    pub page: u32,
    pub per_page: u32,
    pub errors: Vec<FieldError>,
}

fn clean(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn positive_id(raw: &Option<String>, field: &'static str, label: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let v = clean(raw)?;
    match v.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errors.push(FieldError { field, message: format!("{label} must be a whole number above 0, not \"{v}\".") });
            None
        }
    }
}

impl ListRequest {
    pub fn parse(raw: ListQuery) -> ListRequest {
        let mut errors = Vec::new();
        let mut filter = TicketFilter {
            id: positive_id(&raw.id, "id", "Ticket ID", &mut errors),
            affiliate_ids: positive_id(&raw.affiliate_id, "affiliate_id", "Affiliate ID", &mut errors)
                .into_iter()
                .collect(),
            manager_ids: positive_id(&raw.manager_id, "manager_id", "Manager ID", &mut errors).into_iter().collect(),
            offer_ids: positive_id(&raw.offer_id, "offer_id", "Offer ID", &mut errors).into_iter().collect(),
            ..Default::default()
        };
        if let Some(s) = clean(&raw.status) {
            match TicketStatus::parse(s) {
                Some(st) => filter.status = Some(st),
                None => errors.push(FieldError {
                    field: "status",
                    message: format!("Unknown status \"{s}\": choose Opened or Closed."),
                }),
            }
        }
        for k in raw.kinds.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
            match TicketKind::parse(k) {
                Some(kind) if !filter.kinds.contains(&kind) => filter.kinds.push(kind),
                Some(_) => {}
                None => errors.push(FieldError { field: "type", message: format!("Unknown question type \"{k}\".") }),
            }
        }
        if let Some(q) = clean(&raw.q) {
            filter.text = search::terms(q);
            if filter.text.is_empty() {
                errors.push(FieldError { field: "q", message: "Search for words: letters or digits.".into() });
            }
        }
        let sort = match clean(&raw.sort) {
            None => Sort::default(),
            Some(s) => Sort::parse(s).unwrap_or_else(|| {
                errors.push(FieldError { field: "sort", message: format!("Unknown sort order \"{s}\".") });
                Sort::default()
            }),
        };
        let per_page = match clean(&raw.per_page) {
            None => DEFAULT_PER_PAGE,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if PER_PAGE_CHOICES.contains(&n) => n,
                _ => {
                    errors.push(FieldError {
                        field: "per_page",
                        message: format!("Per page must be 10, 25, 50, 100 or 500, not \"{v}\"."),
                    });
                    DEFAULT_PER_PAGE
                }
            },
        };
        let mut page = match clean(&raw.page) {
            None => 1,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    errors.push(FieldError { field: "page", message: format!("Page must be 1 or more, not \"{v}\".") });
                    1
                }
            },
        };
        let cursor = |v: &Option<String>, errors: &mut Vec<FieldError>| {
            clean(v).and_then(|c| {
                Cursor::decode(c).or_else(|| {
                    errors.push(FieldError {
                        field: "page",
                        message: "That page link is damaged; showing the first page.".into(),
                    });
                    None
                })
            })
        };
        let at = if clean(&raw.last).is_some() {
            PageAt::Last
        } else if let Some(c) = cursor(&raw.after, &mut errors) {
            PageAt::After(c)
        } else if let Some(c) = cursor(&raw.before, &mut errors) {
            PageAt::Before(c)
        } else {
            PageAt::Number(page)
        };
        if errors.iter().any(|e| e.field == "page") && !matches!(at, PageAt::Number(_)) {
            page = 1;
        }
        ListRequest { raw, filter, sort, at, page, per_page, errors }
    }

    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// The filter part of the query string (no paging), to build links from.
    pub fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let r = &self.raw;
        for (name, v) in [
            ("id", &r.id),
            ("status", &r.status),
            ("affiliate_id", &r.affiliate_id),
            ("manager_id", &r.manager_id),
            ("offer_id", &r.offer_id),
            ("q", &r.q),
        ] {
            if let Some(v) = clean(v) {
                pairs.push((name, v.to_string()));
            }
        }
        for k in &self.filter.kinds {
            pairs.push(("type", k.as_str().to_string()));
        }
        if self.sort != Sort::default() {
            pairs.push(("sort", self.sort.as_str().to_string()));
        }
        if self.per_page != DEFAULT_PER_PAGE {
            pairs.push(("per_page", self.per_page.to_string()));
        }
        pairs
    }

    pub fn has_filters(&self) -> bool {
        !self.filter.is_empty()
    }
}

pub fn query_string(pairs: &[(&str, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}

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
    pub managers: Vec<UserSummary>,
    pub show_manager_filter: bool,
    pub csrf: String,
}

impl TicketListView {
    pub fn build(
        request: ListRequest,
        page: TicketPage,
        managers: Vec<UserSummary>,
        show_manager_filter: bool,
        csrf: String,
    ) -> TicketListView {
        let base = request.filter_pairs();
        let link = |extra: Vec<(&'static str, String)>| {
            let mut p = base.clone();
            p.extend(extra);
            let qs = query_string(&p);
            if qs.is_empty() { "/admin/tickets".to_string() } else { format!("/admin/tickets?{qs}") }
        };
        let per_page = request.per_page as i64;
        let pages = match page.total {
            Total::Exact(n) => Some(((n + per_page - 1) / per_page).max(1) as u32),
            Total::AtLeast(_) => None,
        };
        let number = match request.at {
            PageAt::Last => pages.unwrap_or(request.page),
            _ => request.page,
        };
        let prev_url = page.has_prev.then(|| {
            if number <= 2 {
                link(vec![])
            } else {
                let c = page.first_cursor(request.sort).expect("a page with rows before it has rows");
                link(vec![("before", c.encode()), ("page", (number - 1).to_string())])
            }
        });
        let next_url = page.has_next.then(|| {
            let c = page.last_cursor(request.sort).expect("a page with rows after it has rows");
            link(vec![("after", c.encode()), ("page", (number + 1).to_string())])
        });
        let first_url = page.has_prev.then(|| link(vec![]));
        let last_url = match pages {
            Some(p) if page.has_next => Some(link(vec![("last", "1".into()), ("page", p.to_string())])),
            _ => None,
        };
        let self_url = match request.at {
            PageAt::Number(1) => link(vec![]),
            _ => {
                let mut extra = vec![];
                if let Some(v) = clean(&request.raw.after) {
                    extra.push(("after", v.to_string()))
                }
                if let Some(v) = clean(&request.raw.before) {
                    extra.push(("before", v.to_string()))
                }
                if clean(&request.raw.last).is_some() {
                    extra.push(("last", "1".to_string()))
                }
                extra.push(("page", number.to_string()));
                link(extra)
            }
        };
        TicketListView {
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
            csrf,
            request,
        }
    }

    pub fn kinds(&self) -> Vec<(&'static str, &'static str, bool)> {
        TicketKind::ALL.iter().map(|k| (k.as_str(), k.label(), self.request.filter.kinds.contains(k))).collect()
    }

    pub fn sorts(&self) -> Vec<(&'static str, &'static str, bool)> {
        Sort::ALL.iter().map(|(s, l)| (s.as_str(), *l, *s == self.request.sort)).collect()
    }

    pub fn per_page_choices(&self) -> Vec<(u32, bool)> {
        PER_PAGE_CHOICES.iter().map(|n| (*n, *n == self.request.per_page)).collect()
    }

    pub fn status_is(&self, s: &str) -> bool {
        self.request.filter.status.map(|x| x.as_str()) == Some(s)
    }

    pub fn raw(&self, field: &str) -> &str {
        let r = &self.request.raw;
        let v = match field {
            "id" => &r.id,
            "affiliate_id" => &r.affiliate_id,
            "manager_id" => &r.manager_id,
            "offer_id" => &r.offer_id,
            "q" => &r.q,
            _ => &None,
        };
        v.as_deref().unwrap_or("")
    }

    pub fn manager_selected(&self, id: &i64) -> bool {
        self.request.filter.manager_ids.contains(id)
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

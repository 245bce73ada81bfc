//! The panels' addresses, built in one place: handlers, templates and redirects ask
//! here instead of writing paths by hand, so a route's shape is stated once.

use crate::domain::catalogue_admin::CatalogueKind;
use crate::domain::states::AccountKind;

/// A query string from names and values, each value encoded.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}

/// `path`, with `?query` when there is one.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() { path.to_string() } else { format!("{path}?{query}") }
}

/// The managers' ticket list with an encoded query (filter, order, page).
pub fn admin_tickets(query: &str) -> String {
    with_query("/admin/tickets", query)
}

/// A ticket's thread in the admin panel, with an encoded query (`from`, `at`).
pub fn admin_ticket(id: i64, query: &str) -> String {
    with_query(&format!("/admin/tickets/{id}"), query)
}

/// The affiliate's Support list with an encoded query.
pub fn affiliate_tickets(query: &str) -> String {
    with_query("/affiliate/tickets", query)
}

pub fn affiliate_ticket(id: i64) -> String {
    format!("/affiliate/tickets/{id}")
}

/// Where a thread's reply box says that someone is typing.
pub fn typing(panel: AccountKind, id: i64) -> String {
    match panel {
        AccountKind::User => format!("/admin/tickets/{id}/typing"),
        AccountKind::Affiliate => format!("/affiliate/tickets/{id}/typing"),
    }
}

pub fn tickets_export(query: &str) -> String {
    with_query("/admin/tickets/export", query)
}

pub fn admin_affiliate(id: i64) -> String {
    format!("/admin/affiliates/{id}")
}

/// A page of the admin's affiliates, searched for `q`.
pub fn admin_affiliates(q: &str, page: i64) -> String {
    admin_affiliates_query(&query_string(&[("q", q.to_string()), ("page", page.to_string())]))
}

fn admin_affiliates_query(query: &str) -> String {
    with_query("/admin/affiliates", query)
}

/// The offers or Smartlinks page, or one of them.
pub fn catalogue(kind: CatalogueKind, id: Option<i64>) -> String {
    match id {
        Some(id) => format!("/admin/{}/{id}", kind.path()),
        None => format!("/admin/{}", kind.path()),
    }
}

/// A page of the offers or Smartlinks, searched for `q`.
pub fn catalogue_page(kind: CatalogueKind, q: &str, page: i64) -> String {
    with_query(&catalogue(kind, None), &query_string(&[("q", q.to_string()), ("page", page.to_string())]))
}

pub fn template(id: i64) -> String {
    format!("/admin/templates/{id}")
}

/// The Import page for one kind of file.
pub fn import(kind_word: &str) -> String {
    with_query("/admin/import", &query_string(&[("kind", kind_word.to_string())]))
}

pub fn reports_export(from: &str, to: &str) -> String {
    with_query("/admin/reports/export", &query_string(&[("from", from.to_string()), ("to", to.to_string())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_the_routes_do() {
        assert_eq!(admin_tickets(""), "/admin/tickets");
        assert_eq!(admin_tickets("status=open"), "/admin/tickets?status=open");
        assert_eq!(admin_ticket(7, ""), "/admin/tickets/7");
        assert_eq!(admin_affiliates("a&b", 2), "/admin/affiliates?q=a%26b&page=2");
        assert_eq!(catalogue(CatalogueKind::Smartlink, Some(3)), "/admin/smartlinks/3");
        assert_eq!(typing(AccountKind::Affiliate, 4), "/affiliate/tickets/4/typing");
        assert_eq!(import("offers"), "/admin/import?kind=offers");
    }
}

//! The list's filter as CSV, from the panel and from the API.

use crate::db_test;
use crate::support::*;

db_test!(the_filter_exports_as_csv, |app| {
    app.seed_demo();
    // Text a spreadsheet would misread: commas, quotes, a formula.
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    affiliate.get("/affiliate/tickets/new").await;
    let tricky = "=HYPERLINK(\"http://evil.example\",\"pay, now\")";
    let page = affiliate
        .post_multipart("/affiliate/tickets", &[("type", "financial"), ("title", tricky), ("body", "x")], &[])
        .await;
    assert_eq!(page.status, 303);
    // In a locale that separates cells with ';', an unquoted "x;=1+1" would be two cells.
    affiliate.get("/affiliate/tickets/new").await;
    let page = affiliate
        .post_multipart("/affiliate/tickets", &[("type", "financial"), ("title", "x;=1+1"), ("body", "x")], &[])
        .await;
    assert_eq!(page.status, 303);
    let mut c = app.login_admin("manager1@affdesk.test").await;
    let resp = c.http.get(app.url("/admin/tickets/export?status=open&type=financial")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers().get("content-type").unwrap(), "text/csv; charset=utf-8");
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "\"id\",\"created\",\"updated\",\"status\",\"type\",\"request_state\",\"affiliate_id\",\"affiliate\",\"manager\",\"title\""
    );
    assert!(lines.iter().all(|l| l.starts_with('"') && l.ends_with('"')), "every cell is quoted");
    let m1 = user_id(&app, "manager1@affdesk.test");
    let expected = ids_where(&app, &format!("manager_id = {m1} AND status = 'open' AND type = 'financial'"));
    let ids: Vec<i64> =
        lines[1..].iter().map(|l| l.split(',').next().unwrap().trim_matches('"').parse().unwrap()).collect();
    assert_eq!(ids, expected, "the list's rows, in the list's order, only the manager's own");
    let list = c.get("/admin/tickets?status=open&type=financial").await;
    assert!(list.contains(&format!("{} tickets", expected.len())) || expected.len() == 1);
    let own = app.newest_ticket().0;
    if expected.contains(&own) {
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"pay, now\"\")\""), "{csv}");
    }
    // The API's export takes the API's names; a bad filter is the API's 400.
    let mut conn = app.conn();
    let user = affdesk::domain::users::User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
    let key = affdesk::domain::users::User::issue_api_key(&mut conn, user.id).unwrap();
    drop(conn);
    let http = reqwest::Client::new();
    let resp = http
        .get(app.url("/3.0/admin/tickets/export?type[]=financial&status=open"))
        .header("API-Key", &key)
        .send()
        .await;
    let body = resp.unwrap().text().await.unwrap();
    let all = ids_where(&app, "status = 'open' AND type = 'financial'");
    assert_eq!(body.split("\r\n").filter(|l| !l.is_empty()).count(), all.len() + 1);
    assert!(body.contains("\"'=HYPERLINK("), "the affiliate's ticket, escaped");
    assert!(body.contains(",\"x;=1+1\"\r\n"), "a ';' in a cell stays inside its quotes");
    let bad = http.get(app.url("/3.0/admin/tickets/export?status=maybe")).header("API-Key", &key).send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    // The whole desk: every ticket once.
    let resp = http.get(app.url("/3.0/admin/tickets/export")).header("API-Key", &key).send().await.unwrap();
    let body = resp.text().await.unwrap();
    let mut seen: Vec<i64> = body
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').next().unwrap().trim_matches('"').parse().unwrap())
        .collect();
    let total = seen.len();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!((seen.len(), total as i64), (total, app.count("tickets")));
});

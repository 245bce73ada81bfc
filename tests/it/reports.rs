//! Service targets and the Reports page, on tickets with known times (a fixed
//! clock in 2020, before any demo ticket): working time counted, medians and 90th
//! percentiles, request turnaround and approval, the backlog day by day, and the
//! same numbers as CSV.

use affdesk::domain::business_hours::BusinessHours;
use affdesk::domain::reports;
use affdesk::domain::states::TicketStatus;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::RunQueryDsl;

use crate::db_test;
use crate::desk::Find;
use crate::harness::TestApp;
use crate::support::*;

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

/// A ticket of affiliate 1 (manager 1's) with the given times.
fn ticket(app: &TestApp, kind: &str, state: &str, created: &str, answered: Option<&str>, closed: Option<&str>) -> i64 {
    let q = |v: Option<&str>| v.map(|s| format!("'{s}:00'")).unwrap_or_else(|| "NULL".into());
    let status = if closed.is_some() { "closed" } else { "open" };
    let request = if state.is_empty() { "NULL".to_string() } else { format!("'{state}'") };
    let decided = if state == "approved" || state == "rejected" { q(closed) } else { "NULL".into() };
    let mut conn = app.conn();
    diesel::sql_query(format!(
        "INSERT INTO tickets (affiliate_id, manager_id, type, status, request_state, title, description, created_at, \
         updated_at, first_answer_at, closed_at, decided_at) \
         SELECT 1, manager_id, '{kind}', '{status}', {request}, 'Report', 'Times', '{created}:00', '{created}:00', {}, {}, {decided} \
         FROM affiliates WHERE id = 1",
        q(answered),
        q(closed)
    ))
    .execute(&mut *conn as &mut affdesk::db::AnyConnection)
    .unwrap();
    drop(conn);
    scalar(app, "SELECT MAX(id) AS n FROM tickets")
}

db_test!(reports_count_working_time_from_the_tickets_times, |app| {
    app.seed_demo();
    // Monday 2020-01-06 .. Friday 2020-01-10, working 09:00-18:00 UTC.
    ticket(&app, "technical", "", "2020-01-06 09:00", Some("2020-01-06 10:00"), Some("2020-01-06 12:00"));
    ticket(&app, "technical", "", "2020-01-06 17:00", Some("2020-01-07 11:00"), None); // 1h + 2h = 3h
    ticket(&app, "financial", "", "2020-01-10 17:30", Some("2020-01-13 09:30"), None); // across a weekend: 1h
    ticket(&app, "offer_request", "approved", "2020-01-07 09:00", Some("2020-01-07 09:00"), Some("2020-01-07 13:00"));
    ticket(&app, "offer_request", "rejected", "2020-01-08 09:00", None, Some("2020-01-09 09:00")); // 9h
    ticket(&app, "offer_request", "pending", "2020-01-09 09:00", None, None);
    {
        let mut conn = app.conn();
        affdesk::domain::ticket_counts::rebuild(&mut conn).unwrap();
    }
    let hours = BusinessHours::parse("mon-fri", "09:00-18:00", "UTC").unwrap();
    let admin = {
        let mut conn = app.conn();
        affdesk::domain::users::User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap()
    };
    let actor = admin.actor(affdesk::domain::Via::Panel);
    let day = |d: u32| NaiveDate::from_ymd_opt(2020, 1, d).unwrap();
    let report = {
        let mut conn = app.conn();
        reports::build(&mut conn, &actor, &hours, day(6), day(10), at("2020-01-10 20:00")).unwrap()
    };
    let total = &report.total;
    // Resolved: the closed question (3h) and the two decided requests (4h, 9h).
    assert_eq!((total.opened, total.answered, total.resolved), (6, 3, 3), "{total:?}");
    // First answers: 1h, 3h, 1h (the request answered at its opening is left out).
    assert_eq!(total.first_answer_median, Some(Duration::hours(1)));
    assert_eq!(total.first_answer_p90, Some(Duration::hours(3)));
    assert_eq!((total.resolution_median, total.resolution_p90), (Some(Duration::hours(4)), Some(Duration::hours(9))));
    let technical = report.by_type.iter().find(|t| t.label == "Technical question").unwrap();
    assert_eq!((technical.opened, technical.first_answer_median), (2, Some(Duration::hours(1))));
    assert_eq!(report.by_manager.len(), 1, "all of manager 1");
    let r = &report.requests;
    assert_eq!((r.opened, r.decided, r.approved), (3, 2, 1));
    assert_eq!(r.approval_rate(), Some(50.0));
    assert_eq!((r.turnaround_median, r.turnaround_p90), (Some(Duration::hours(4)), Some(Duration::hours(9))));
    // Open and waiting at the end of each day: the ones opened by then, less the closed.
    let counts: Vec<i64> = report.backlog.iter().map(|(_, n)| *n).collect();
    assert_eq!(counts, vec![1, 1, 2, 2, 3]);
    assert_eq!(report.backlog[0].0, day(6));
});

db_test!(the_reports_page_and_its_csv_say_the_same, |app| {
    app.seed_demo();
    ticket(&app, "technical", "", "2020-01-06 09:00", Some("2020-01-06 11:00"), Some("2020-01-06 12:00"));
    let mut admin = app.login_admin("admin@affdesk.test").await;
    let page = admin.get("/admin/reports?from=2020-01-06&to=2020-01-10").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Maria Keller") && page.contains("2h 00m") && page.contains("<polyline"), "{}", page.body);
    assert!(page.contains("href=\"/admin/reports\" aria-current=\"page\""));
    let csv = admin.get("/admin/reports/export?from=2020-01-06&to=2020-01-10").await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.body.starts_with("\"section\",\"group\",\"opened\""), "{}", csv.body);
    assert!(
        csv.body.contains("\"manager\",\"Maria Keller\",\"1\",\"1\",\"2.00\",\"2.00\",\"1\",\"3.00\""),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("\"backlog\",\"2020-01-06\",\"0\""), "{}", csv.body);
    // A bad range is said next to the field; the CSV answers 400 with the reason.
    let page = admin.get("/admin/reports?from=2020-02-01&to=2020-01-01").await;
    assert!(page.contains("From must not be after To.") && page.contains("value=\"2020-02-01\""));
    assert!(!page.contains("<polyline"));
    let csv = admin.get("/admin/reports/export?from=2019-01-01&to=2020-06-01").await;
    assert_eq!(csv.status, 400);
    assert!(csv.contains("at most 366 days"));
    // A manager sees their own tickets only.
    let mut john = app.login_admin("manager2@affdesk.test").await;
    let page = john.get("/admin/reports?from=2020-01-06&to=2020-01-10").await;
    assert!(!page.contains("Maria Keller"), "another manager's numbers");
});

db_test!(waiting_tickets_show_where_they_stand_against_the_target, |app| {
    app.seed_demo();
    let now = affdesk::domain::now();
    let late = app.find(Find { affiliate: Some(1), status: Some(TicketStatus::Open), ..Find::default() })[0].0;
    let fresh = app.find(Find { affiliate: Some(1), status: Some(TicketStatus::Open), ..Find::default() })[1].0;
    {
        let mut conn = app.conn();
        for (id, since) in [(late, now - Duration::days(30)), (fresh, now)] {
            diesel::sql_query(format!(
                "UPDATE tickets SET waiting_since = '{}', type = 'technical', request_state = NULL WHERE id = {id}",
                since.format("%Y-%m-%d %H:%M:%S")
            ))
            .execute(&mut *conn as &mut affdesk::db::AnyConnection)
            .unwrap();
        }
    }
    let mut admin = app.login_admin("admin@affdesk.test").await;
    let list = admin.get(&format!("/admin/tickets?id={late}")).await;
    assert!(list.contains("class=\"sla sla-breached\""), "{}", list.body);
    assert!(list.contains("late by"));
    let list = admin.get(&format!("/admin/tickets?id={fresh}")).await;
    assert!(list.contains("class=\"sla sla-ok\"") && list.contains("due in 4h 00m"), "{}", list.body);
    assert!(admin.get("/admin/tickets").await.contains("Closest to breach"));
});

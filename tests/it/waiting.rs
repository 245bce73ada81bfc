//! Waiting on the affiliate: "Send and wait" leaves the open queue until the
//! affiliate replies; a ticket that waits too long closes with a notice; Affise
//! clients read such a ticket as open, with `pending` saying the rest.

use serde_json::Value;

use affdesk::domain::states::{MailEvent, TicketKind, TicketStatus};

use crate::db_test;
use crate::desk::Find;
use crate::support::{assert_counts_consistent, row_ids};

fn admin_key(app: &crate::harness::TestApp) -> String {
    let mut conn = app.conn();
    let u = affdesk::domain::users::User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
    affdesk::domain::users::User::issue_api_key(&mut conn, u.id).unwrap()
}

async fn get_json(app: &crate::harness::TestApp, key: &str, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new().get(app.url(path)).header("API-Key", key).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

db_test!(send_and_wait_leaves_the_open_queue_until_the_affiliate_replies, |app| {
    app.seed_demo();
    let first_open_technical = Find {
        affiliate: Some(1),
        status: Some(TicketStatus::Open),
        kind: Some(TicketKind::Technical),
        ..Find::default()
    };
    let t = app.find(first_open_technical)[0];
    let ticket = t.0;
    let mut manager = app.login_admin("admin@affdesk.test").await;
    manager.get(&format!("/admin/tickets/{ticket}")).await;
    let sent = manager
        .post_multipart(
            &format!("/admin/tickets/{ticket}/messages"),
            &[("body", "Please send us a screenshot."), ("then", "wait")],
            &[],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(app.ticket(t).status, TicketStatus::Pending);
    assert_counts_consistent(&app);
    assert!(row_ids(&manager.get("/admin/tickets?status=pending&per_page=500").await.body).contains(&ticket));
    assert!(!row_ids(&manager.get("/admin/tickets?status=open&per_page=500").await.body).contains(&ticket));
    assert!(manager.get(&format!("/admin/tickets/{ticket}")).await.contains("Waiting on the affiliate"));
    // Affise clients: open, and pending says the rest; status=open lists it.
    let key = admin_key(&app);
    let (status, body) = get_json(&app, &key, &format!("/3.0/admin/ticket/{ticket}")).await;
    assert_eq!(status, 200);
    assert_eq!((body["ticket"]["status"].as_str(), body["ticket"]["pending"].as_bool()), (Some("open"), Some(true)));
    let (_, body) = get_json(&app, &key, "/3.0/admin/tickets?status=open&limit=500").await;
    let listed = ticket.to_string();
    assert!(body["tickets"].as_array().unwrap().iter().any(|t| t["id"].as_str() == Some(listed.as_str())));
    // The affiliate reads it as theirs to answer; their reply opens it again.
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    assert!(affiliate.get(&format!("/affiliate/tickets/{ticket}")).await.contains("Waiting for your reply"));
    let replied = affiliate
        .post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &[("body", "Here it is.")], &[])
        .await;
    assert_eq!(replied.status, 303);
    assert_eq!(app.ticket(t).status, TicketStatus::Open);
    assert_counts_consistent(&app);
    // Over the API: wait=1; with close=1 too it is refused and changes nothing.
    let http = reqwest::Client::new();
    let comment = |form: Vec<(&'static str, &'static str)>| {
        http.post(app.url(&format!("/3.0/admin/ticket/{ticket}/comment"))).header("API-Key", &key).form(&form).send()
    };
    let resp = comment(vec![("text", "Both?"), ("close", "1"), ("wait", "1")]).await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(app.ticket(t).status, TicketStatus::Open);
    let resp = comment(vec![("text", "Over to you."), ("wait", "1")]).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(app.ticket(t).status, TicketStatus::Pending);
});

db_test!(a_ticket_that_waits_too_long_closes_with_a_notice, |app| {
    app.seed_demo();
    let open = app.find(Find { affiliate: Some(1), status: Some(TicketStatus::Open), ..Find::default() });
    let (old, recent) = (open[0], open[1]);
    let days_ago = |days| affdesk::domain::now() - chrono::Duration::days(days);
    app.waiting_on_affiliate_since(old, days_ago(10));
    app.waiting_on_affiliate_since(recent, days_ago(2));
    let mails = app.emails(MailEvent::TicketClosed);
    let cutoff = affdesk::domain::now() - chrono::Duration::days(7);
    let (closed, effects) = {
        let mut conn = app.conn();
        affdesk::domain::lifecycle::close_unanswered(&mut conn, cutoff, 7).unwrap().into_parts()
    };
    assert_eq!(closed, 1);
    assert!(effects.wakes_live(), "the chores wake the live bus: the lists watching hear of the close");
    assert_eq!(app.ticket(old).status, TicketStatus::Closed);
    assert_eq!(app.ticket(recent).status, TicketStatus::Pending);
    assert_counts_consistent(&app);
    let notice = app.last_message(old);
    assert!(notice.starts_with("Closed after 7 days without a reply"), "{notice}");
    assert_eq!(app.emails(MailEvent::TicketClosed), mails + 1);
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    assert!(affiliate.get(&format!("/affiliate/tickets/{}", old.0)).await.contains("Closed after 7 days"));
});

//! The manager's working day: Reject taking access away however it was granted,
//! replies that never send a placeholder, decisions with a message in one submit,
//! collisions. (Moving through the list: `list_navigation.rs`.)

use affdesk::domain::access::{self, Decision};
use affdesk::domain::lifecycle::{Outcome, Skip};
use affdesk::domain::users::User;
use affdesk::domain::{Actor, Via};
use serde_json::Value;

use crate::db_test;
use crate::harness::TestApp;
use crate::support::*;

fn staff(app: &TestApp, email: &str) -> Actor {
    let mut conn = app.conn();
    User::find_by_email(&mut conn, email).unwrap().unwrap().actor(Via::Panel)
}

fn exec(app: &TestApp, sql: &str) {
    use diesel::prelude::*;
    let mut conn = app.conn();
    diesel::sql_query(sql).execute(&mut *conn as &mut affdesk::db::AnyConnection).unwrap();
}

/// The offer and affiliate of an offer request.
fn target(app: &TestApp, ticket: i64) -> (i64, i64) {
    (
        scalar(app, &format!("SELECT offer_id AS n FROM tickets WHERE id = {ticket}")),
        scalar(app, &format!("SELECT affiliate_id AS n FROM tickets WHERE id = {ticket}")),
    )
}

fn grant(app: &TestApp, ticket: i64) -> String {
    let (offer, affiliate) = target(app, ticket);
    text(
        app,
        &format!(
            "SELECT COALESCE(MAX(state), 'none') AS t FROM offer_access WHERE offer_id = {offer} AND affiliate_id = {affiliate}"
        ),
    )
}

/// Access to the ticket's offer enabled by hand, as a manager does in the admin panel.
fn enable_by_hand(app: &TestApp, ticket: i64) {
    let (offer, affiliate) = target(app, ticket);
    exec(app, &format!("DELETE FROM offer_access WHERE offer_id = {offer} AND affiliate_id = {affiliate}"));
    exec(
        app,
        &format!(
            "INSERT INTO offer_access (offer_id, affiliate_id, state, source, updated_at) \
             VALUES ({offer}, {affiliate}, 'enabled', 'manual', '2026-01-01 00:00:00')"
        ),
    );
}

fn last_system_message(app: &TestApp, ticket: i64) -> String {
    text(
        app,
        &format!(
            "SELECT body AS t FROM messages WHERE ticket_id = {ticket} AND author_kind = 'system' ORDER BY id DESC LIMIT 1"
        ),
    )
}

/// The value of a hidden field of a page.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
    body[start..start + body[start..].find('"').unwrap()].to_string()
}

db_test!(reject_takes_access_away_however_it_was_granted, |app| {
    app.seed_demo();
    let admin = staff(&app, "admin@affdesk.test");
    let pending = ids_where(&app, "type = 'offer_request' AND request_state = 'pending'");
    let mut conn = app.conn();

    // A pending request for an offer enabled by hand: Reject disables it and says so.
    let by_hand = pending[0];
    enable_by_hand(&app, by_hand);
    assert_eq!(access::decide(&mut conn, &admin, by_hand, Decision::Reject, None).settled().unwrap(), Outcome::Done);
    assert_eq!(grant(&app, by_hand), "disabled");
    assert!(last_system_message(&app, by_hand).contains("granted by hand, was revoked"));
    let audit = text(
        &app,
        &format!("SELECT detail AS t FROM audit_log WHERE ticket_id = {by_hand} AND action = 'revoke_access'"),
    );
    assert!(audit.contains("revoked manual access to offer #"), "{audit}");

    // Access from an earlier approved ticket goes too.
    let earlier = pending[1];
    let (offer, affiliate) = target(&app, earlier);
    exec(&app, &format!("DELETE FROM offer_access WHERE offer_id = {offer} AND affiliate_id = {affiliate}"));
    exec(
        &app,
        &format!(
            "INSERT INTO offer_access (offer_id, affiliate_id, state, source, updated_at) \
             VALUES ({offer}, {affiliate}, 'enabled', 'ticket', '2026-01-01 00:00:00')"
        ),
    );
    assert_eq!(access::decide(&mut conn, &admin, earlier, Decision::Reject, None).settled().unwrap(), Outcome::Done);
    assert_eq!(grant(&app, earlier), "disabled");
    assert!(last_system_message(&app, earlier).contains("granted by an approved request, was revoked"));

    // An approved request, rejected later: rejected, closed, no access.
    let approved = pending[2];
    access::decide(&mut conn, &admin, approved, Decision::Approve, None).settled().unwrap();
    assert_eq!(grant(&app, approved), "enabled");
    assert_eq!(access::decide(&mut conn, &admin, approved, Decision::Reject, None).settled().unwrap(), Outcome::Done);
    assert_eq!(grant(&app, approved), "disabled");
    assert_eq!(
        text(&app, &format!("SELECT request_state || '/' || status AS t FROM tickets WHERE id = {approved}")),
        "rejected/closed"
    );

    // Rejected with nothing left to take: skipped. Enabled by hand afterwards: revoked.
    assert_eq!(
        access::decide(&mut conn, &admin, approved, Decision::Reject, None).settled().unwrap(),
        Outcome::Skipped(Skip::AlreadyRejected)
    );
    enable_by_hand(&app, approved);
    assert_eq!(access::decide(&mut conn, &admin, approved, Decision::Reject, None).settled().unwrap(), Outcome::Done);
    assert_eq!(grant(&app, approved), "disabled");
    assert!(last_system_message(&app, approved).starts_with("Access revoked by"));
    // Approve never runs on a decided request.
    assert_eq!(
        access::decide(&mut conn, &admin, approved, Decision::Approve, None).settled().unwrap(),
        Outcome::Skipped(Skip::AlreadyDecided)
    );
    drop(conn);
    assert_counts_consistent(&app);
});

db_test!(reject_in_the_thread_revokes_access_granted_by_hand, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "type = 'offer_request' AND request_state = 'pending'")[0];
    enable_by_hand(&app, ticket);
    let mut c = app.login_admin("admin@affdesk.test").await;
    let page = c.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(page.contains("granted by hand, is revoked"), "the Reject button says what it will do");
    let page = c
        .post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("action", "reject"), ("body", "")], &[])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(grant(&app, ticket), "disabled");
    let affiliate = scalar(&app, &format!("SELECT affiliate_id AS n FROM tickets WHERE id = {ticket}"));
    let email = text(&app, &format!("SELECT email AS t FROM affiliates WHERE id = {affiliate}"));
    let mut them = app.login_affiliate(&email).await;
    let offer = target(&app, ticket).0;
    let offers = them.get("/affiliate/offers").await;
    assert!(!offers.contains(&format!("id=\"offers-{offer}\"")) || offers.contains("Rejected "), "no access left");
});

db_test!(demo_data_holds_no_state_the_app_forbids, |app| {
    app.seed_demo();
    // No request is pending for something the affiliate already has.
    for table in [("offer_access", "offer_id"), ("smartlink_access", "smartlink_id")] {
        let clashes = scalar(
            &app,
            &format!(
                "SELECT COUNT(*) AS n FROM tickets t JOIN {0} a ON a.{1} = t.{1} AND a.affiliate_id = t.affiliate_id \
                 WHERE t.request_state = 'pending' AND a.state = 'enabled'",
                table.0, table.1
            ),
        );
        assert_eq!(clashes, 0, "pending requests for enabled {}", table.0);
    }
    // One pending request per affiliate and target at most, for premoderated targets only.
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) AS n FROM (SELECT affiliate_id, offer_id, smartlink_id FROM tickets \
             WHERE request_state = 'pending' GROUP BY affiliate_id, offer_id, smartlink_id HAVING COUNT(*) > 1) d"
        ),
        0
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) AS n FROM tickets t JOIN offers o ON o.id = t.offer_id WHERE o.privacy <> 'premoderated'"
        ),
        0
    );
    assert!(!ids_where(&app, "request_state = 'pending'").is_empty(), "pending requests to decide");
    // Only open tickets wait, and every open ticket whose last word is the affiliate's does.
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) AS n FROM tickets WHERE status = 'closed' AND waiting_since IS NOT NULL"),
        0
    );
    assert!(!ids_where(&app, "waiting_since IS NOT NULL").is_empty());
});

db_test!(a_reply_with_an_unfilled_variable_is_not_sent, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "type = 'general' AND status = 'open'")[0];
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get(&format!("/admin/tickets/{ticket}")).await;
    let before = scalar(&app, &format!("SELECT COUNT(*) AS n FROM messages WHERE ticket_id = {ticket}"));
    let typed = "Hi,\n\nyou now have access to {offer.title} ({offer.id}).";
    let page = c.post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", typed)], &[]).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Replace {offer.title}, {offer.id} with their values"), "the variables are named");
    assert!(page.contains("id=\"reply-body-error\""), "next to the field");
    assert!(page.contains("you now have access to {offer.title} ({offer.id}).</textarea>"), "the text is kept");
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) AS n FROM messages WHERE ticket_id = {ticket}")), before);

    // The API refuses it the same way.
    let key = {
        let mut conn = app.conn();
        let u = User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
        User::issue_api_key(&mut conn, u.id).unwrap()
    };
    let resp = reqwest::Client::new()
        .post(app.url(&format!("/3.0/admin/ticket/{ticket}/comment")))
        .header("API-Key", &key)
        .form(&[("text", typed)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("{offer.title}"), "{body}");
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) AS n FROM messages WHERE ticket_id = {ticket}")), before);
    // An internal note may quote a variable: affiliates never read it.
    let page = c
        .post_multipart(
            &format!("/admin/tickets/{ticket}/messages"),
            &[("body", "Template uses {offer.title}"), ("internal", "1")],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
});

db_test!(a_template_replaces_the_text_and_without_script_asks_first, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "type = 'general' AND status = 'open'")[0];
    let template = scalar(&app, "SELECT MIN(id) AS n FROM reply_templates WHERE title = 'Looking into it'");
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get(&format!("/admin/tickets/{ticket}")).await;
    // With script: the box's new content is the template alone, marked as such.
    let field = c.htmx_get(&format!("/admin/tickets/{ticket}/template?template_id={template}")).await;
    assert!(field.contains(&format!("we are looking into ticket #{ticket}")));
    assert!(field.contains("data-template-text="), "the page can tell untouched template text");
    // Without script: over typed text it asks, then replaces.
    let path = format!("/admin/tickets/{ticket}/messages");
    let t = template.to_string();
    let page =
        c.post_multipart(&path, &[("body", "My own words"), ("template_id", &t), ("use_template", "1")], &[]).await;
    assert!(page.contains("Replace it with the template"));
    assert!(page.contains("My own words</textarea>"));
    let page = c
        .post_multipart(&path, &[("body", "My own words"), ("template_id", &t), ("use_template", "replace")], &[])
        .await;
    assert!(!page.contains("My own words"));
    assert!(page.contains(&format!("we are looking into ticket #{ticket}")));
});

db_test!(approve_and_send_is_one_submit, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "type = 'offer_request' AND request_state = 'pending'")[0];
    let mut c = app.login_admin("admin@affdesk.test").await;
    let path = format!("/admin/tickets/{ticket}/messages");
    let page = c.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(page.contains("Approve and send") && page.contains("Reject and send"));
    // An empty text keeps the form and decides nothing.
    let page = c.post_multipart(&path, &[("body", " "), ("then", "approve")], &[]).await;
    assert_eq!(page.status, 422);
    assert_eq!(text(&app, &format!("SELECT request_state AS t FROM tickets WHERE id = {ticket}")), "pending");
    let page = c.post_multipart(&path, &[("body", "Welcome aboard!"), ("then", "approve")], &[]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        text(&app, &format!("SELECT request_state || '/' || status AS t FROM tickets WHERE id = {ticket}")),
        "approved/closed"
    );
    assert_eq!(grant(&app, ticket), "enabled");
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT COUNT(*) AS n FROM messages WHERE ticket_id = {ticket} AND body = 'Welcome aboard!'")
        ),
        1
    );
    let thread = c.get(page.location.as_deref().unwrap()).await;
    assert!(thread.contains("Reply sent and request approved."));
    // Reject and send on another: rejected with the message.
    let other = ids_where(&app, "type = 'offer_request' AND request_state = 'pending'")[0];
    let page = c
        .post_multipart(
            &format!("/admin/tickets/{other}/messages"),
            &[("body", "Not this time."), ("then", "reject")],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(text(&app, &format!("SELECT request_state AS t FROM tickets WHERE id = {other}")), "rejected");
    assert_counts_consistent(&app);
});

db_test!(thread_actions_keep_the_typed_reply_and_closing_a_pending_request_asks, |app| {
    app.seed_demo();
    let question = ids_where(&app, "type = 'general' AND status = 'open'")[0];
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get(&format!("/admin/tickets/{question}")).await;
    // htmx: the conversation comes back with the text still in the box.
    let page = c
        .htmx_multipart(
            &format!("/admin/tickets/{question}/messages"),
            &[("body", "Half-written answer"), ("action", "close")],
        )
        .await;
    assert_eq!(page.status, 200);
    let body = page.body;
    assert!(body.contains("Half-written answer</textarea>"), "the text stays");
    assert!(body.contains(&format!("Ticket {question} closed.")));
    assert_eq!(text(&app, &format!("SELECT status AS t FROM tickets WHERE id = {question}")), "closed");
    // Without script: the text survives the redirect.
    let page = c
        .post_multipart(
            &format!("/admin/tickets/{question}/messages"),
            &[("body", "Still writing"), ("action", "reopen")],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    let page = c.get(page.location.as_deref().unwrap()).await;
    assert!(page.contains("Still writing</textarea>") && page.contains(&format!("Ticket {question} reopened.")));

    // Closing a pending request asks whether to reject it; nothing changes yet.
    let request = ids_where(&app, "type = 'offer_request' AND request_state = 'pending'")[0];
    let path = format!("/admin/tickets/{request}/messages");
    c.get(&format!("/admin/tickets/{request}")).await;
    let page = c.post_multipart(&path, &[("body", ""), ("action", "close")], &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Reject it as you close it?"));
    assert_eq!(text(&app, &format!("SELECT status AS t FROM tickets WHERE id = {request}")), "open");
    let page = c.post_multipart(&path, &[("body", ""), ("action", "close"), ("confirm", "1")], &[]).await;
    assert_eq!(page.status, 303);
    assert_eq!(
        text(&app, &format!("SELECT status || '/' || request_state AS t FROM tickets WHERE id = {request}")),
        "closed/pending"
    );
    assert_counts_consistent(&app);
});

db_test!(bulk_close_asks_about_pending_requests, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get("/admin/tickets").await;
    let request = ids_where(&app, "type = 'offer_request' AND request_state = 'pending'")[0];
    let question = ids_where(&app, "type = 'general' AND status = 'open'")[0];
    let ids = [("ids", request.to_string()), ("ids", question.to_string())];
    let mut form: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.push(("action", "close"));
    let page = c.htmx_post("/admin/tickets/bulk", &form).await;
    assert!(page.contains("Reject the pending request and close"), "{}", page.body);
    assert_eq!(text(&app, &format!("SELECT status AS t FROM tickets WHERE id = {question}")), "open");
    let mut form: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.extend([("action", "close_reject"), ("confirm", "1")]);
    let page = c.htmx_post("/admin/tickets/bulk", &form).await;
    assert!(page.contains("Closed #"), "{}", page.body);
    assert_eq!(
        text(&app, &format!("SELECT status || '/' || request_state AS t FROM tickets WHERE id = {request}")),
        "closed/rejected"
    );
    assert_eq!(text(&app, &format!("SELECT status AS t FROM tickets WHERE id = {question}")), "closed");
    assert_counts_consistent(&app);
});

db_test!(a_reply_does_not_go_through_blindly_after_a_change, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "affiliate_id = 1 AND type = 'general' AND status = 'open'")[0];
    let mut manager = app.login_admin("admin@affdesk.test").await;
    let page = manager.get(&format!("/admin/tickets/{ticket}")).await;
    let seen = [
        ("seen_message", hidden(&page.body, "seen_message")),
        ("seen_status", hidden(&page.body, "seen_status")),
        ("seen_request", hidden(&page.body, "seen_request")),
    ];
    // Meanwhile the affiliate writes again.
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    let sent =
        affiliate.post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &[("body", "Any news?")], &[]).await;
    assert_eq!(sent.status, 303);
    let before = scalar(&app, &format!("SELECT COUNT(*) AS n FROM messages WHERE ticket_id = {ticket}"));
    let mut fields: Vec<(&str, &str)> = seen.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fields.push(("body", "We fixed it."));
    let path = format!("/admin/tickets/{ticket}/messages");
    let page = manager.post_multipart(&path, &fields, &[]).await;
    assert_eq!(page.status, 409);
    assert!(page.contains("While you were writing, the affiliate replied."), "{}", page.body);
    assert!(page.contains("We fixed it.</textarea>"), "the text is kept");
    assert!(page.contains("Any news?"), "the new message shows");
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) AS n FROM messages WHERE ticket_id = {ticket}")), before);
    // Sent again from the refreshed form, it goes through.
    let fresh = [
        ("seen_message", hidden(&page.body, "seen_message")),
        ("seen_status", hidden(&page.body, "seen_status")),
        ("seen_request", hidden(&page.body, "seen_request")),
    ];
    let mut fields: Vec<(&str, &str)> = fresh.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fields.push(("body", "We fixed it."));
    let page = manager.post_multipart(&path, &fields, &[]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) AS n FROM messages WHERE ticket_id = {ticket}")), before + 1);
});

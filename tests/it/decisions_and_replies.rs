//! The manager's working day: Reject taking access away however it was granted,
//! replies that never send a placeholder, decisions with a message in one submit,
//! collisions. (Moving through the list: `list_navigation.rs`.)

use affdesk::domain::lifecycle::{Outcome, Skip};
use affdesk::domain::states::{AccessGrant, AccessSource, AuditAction, RequestState, TicketStatus};
use serde_json::Value;

use crate::db_test;
use crate::desk::{AffiliateAccount, OfferId, StaffMember, TicketId};
use crate::harness::TestApp;
use crate::support::assert_counts_consistent;

/// A manager with one affiliate, and offers to ask for.
struct Desk {
    maria: StaffMember,
    shop: AffiliateAccount,
    offers: Vec<OfferId>,
}

fn desk(app: &TestApp, offers: usize) -> Desk {
    let boss = app.with_admin("boss@network.test");
    let maria = app.with_manager("maria@network.test");
    let shop = app.with_affiliate_of(&maria, "shop@partners.test");
    let offers = (0..offers).map(|n| app.with_offer(&boss, &format!("Offer {n}"))).collect();
    Desk { maria, shop, offers }
}

impl Desk {
    /// The affiliate's access to an offer now.
    fn grant(&self, app: &TestApp, offer: OfferId) -> Option<AccessGrant> {
        app.offer_access(offer.0, self.shop.id).map(|(grant, _)| grant)
    }

    /// Every message of a thread, oldest first, as the manager reads it.
    fn bodies(&self, app: &TestApp, t: TicketId) -> Vec<String> {
        let thread = app.as_manager(&self.maria).thread(t).unwrap();
        thread.entries.into_iter().map(|e| e.message.body).collect()
    }
}

/// The value of a hidden field of a page.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
    body[start..start + body[start..].find('"').unwrap()].to_string()
}

db_test!(reject_takes_access_away_however_it_was_granted, |app| {
    let d = desk(&app, 3);
    let maria = app.as_manager(&d.maria);
    let ask = |offer: OfferId| app.as_affiliate(&d.shop).asks_for(offer, "I run SEO traffic");

    // A pending request for an offer enabled by hand: Reject disables it and says so.
    let by_hand = ask(d.offers[0]);
    app.grant_by_hand(d.offers[0].0, d.shop.id);
    assert_eq!(maria.reject(by_hand).unwrap(), Outcome::Done);
    assert_eq!(d.grant(&app, d.offers[0]), Some(AccessGrant::Disabled));
    assert!(app.last_system_message(by_hand).contains("granted by hand, was revoked"));
    let audit = app.audit_detail(by_hand, AuditAction::RevokeAccess);
    assert!(audit.contains("revoked manual access to offer #"), "{audit}");

    // Access from an earlier approved ticket goes too.
    let earlier = ask(d.offers[1]);
    app.granted(d.offers[1].0, d.shop.id, AccessSource::Ticket);
    assert_eq!(maria.reject(earlier).unwrap(), Outcome::Done);
    assert_eq!(d.grant(&app, d.offers[1]), Some(AccessGrant::Disabled));
    assert!(app.last_system_message(earlier).contains("granted by an approved request, was revoked"));

    // An approved request, rejected later: rejected, closed, no access.
    let approved = ask(d.offers[2]);
    assert_eq!(maria.approve(approved).unwrap(), Outcome::Done);
    assert_eq!(d.grant(&app, d.offers[2]), Some(AccessGrant::Enabled));
    assert_eq!(maria.reject(approved).unwrap(), Outcome::Done);
    assert_eq!(d.grant(&app, d.offers[2]), Some(AccessGrant::Disabled));
    let t = app.ticket(approved);
    assert_eq!((t.request_state, t.status), (Some(RequestState::Rejected), TicketStatus::Closed));

    // Rejected with nothing left to take: skipped. Enabled by hand afterwards: revoked.
    assert_eq!(maria.reject(approved).unwrap(), Outcome::Skipped(Skip::AlreadyRejected));
    app.grant_by_hand(d.offers[2].0, d.shop.id);
    assert_eq!(maria.reject(approved).unwrap(), Outcome::Done);
    assert_eq!(d.grant(&app, d.offers[2]), Some(AccessGrant::Disabled));
    assert!(app.last_system_message(approved).starts_with("Access revoked by"));
    // Approve never runs on a decided request.
    assert_eq!(maria.approve(approved).unwrap(), Outcome::Skipped(Skip::AlreadyDecided));
    assert_counts_consistent(&app);
});

db_test!(reject_in_the_thread_revokes_access_granted_by_hand, |app| {
    let d = desk(&app, 1);
    let offer = d.offers[0];
    let request = app.as_affiliate(&d.shop).asks_for(offer, "I run SEO traffic");
    app.grant_by_hand(offer.0, d.shop.id);
    let mut c = app.browser_as(&d.maria).await;
    let page = c.get(&format!("/admin/tickets/{}", request.0)).await;
    assert!(page.contains("granted by hand, is revoked"), "the Reject button says what it will do");
    let page = c
        .post_multipart(&format!("/admin/tickets/{}/messages", request.0), &[("action", "reject"), ("body", "")], &[])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(d.grant(&app, offer), Some(AccessGrant::Disabled));
    let mut them = app.browser_of(&d.shop).await;
    let offers = them.get("/affiliate/offers").await;
    assert!(offers.contains(&format!("id=\"offers-{}\"", offer.0)), "the offer is listed: {}", offers.body);
    assert!(offers.contains("Rejected "), "with the request's answer, and no access left");
});

db_test!(a_reply_with_an_unfilled_variable_is_not_sent, |app| {
    let d = desk(&app, 0);
    let ticket = app.as_affiliate(&d.shop).asks("Tracking", "Clicks are not counted.");
    let mut c = app.browser_as(&d.maria).await;
    c.get(&format!("/admin/tickets/{}", ticket.0)).await;
    let before = app.messages_in(ticket, false);
    let typed = "Hi,\n\nyou now have access to {offer.title} ({offer.id}).";
    let page = c.post_multipart(&format!("/admin/tickets/{}/messages", ticket.0), &[("body", typed)], &[]).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Replace {offer.title}, {offer.id} with their values"), "the variables are named");
    assert!(page.contains("id=\"reply-body-error\""), "next to the field");
    assert!(page.contains("you now have access to {offer.title} ({offer.id}).</textarea>"), "the text is kept");
    assert_eq!(app.messages_in(ticket, false), before);

    // The API refuses it the same way.
    let resp = reqwest::Client::new()
        .post(app.url(&format!("/3.0/admin/ticket/{}/comment", ticket.0)))
        .header("API-Key", app.api_key_of(&d.maria))
        .form(&[("text", typed)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("{offer.title}"), "{body}");
    assert_eq!(app.messages_in(ticket, false), before);
    // An internal note may quote a variable: affiliates never read it.
    let page = c
        .post_multipart(
            &format!("/admin/tickets/{}/messages", ticket.0),
            &[("body", "Template uses {offer.title}"), ("internal", "1")],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(app.last_message(ticket), "Template uses {offer.title}");
});

db_test!(a_template_replaces_the_text_and_without_script_asks_first, |app| {
    let d = desk(&app, 0);
    let ticket = app.as_affiliate(&d.shop).asks("Tracking", "Clicks are not counted.");
    let template = app.with_template(&d.maria, "Looking into it", "Hello, we are looking into ticket #{ticket.id}.");
    let mut c = app.browser_as(&d.maria).await;
    c.get(&format!("/admin/tickets/{}", ticket.0)).await;
    let filled = format!("we are looking into ticket #{}", ticket.0);
    // With script: the box's new content is the template alone, marked as such.
    let field = c.htmx_get(&format!("/admin/tickets/{}/template?template_id={template}", ticket.0)).await;
    assert!(field.contains(&filled), "{}", field.body);
    assert!(field.contains("data-template-text="), "the page can tell untouched template text");
    // Without script: over typed text it asks, then replaces.
    let path = format!("/admin/tickets/{}/messages", ticket.0);
    let t = template.to_string();
    let page =
        c.post_multipart(&path, &[("body", "My own words"), ("template_id", &t), ("use_template", "1")], &[]).await;
    assert!(page.contains("Replace it with the template"));
    assert!(page.contains("My own words</textarea>"));
    let page = c
        .post_multipart(&path, &[("body", "My own words"), ("template_id", &t), ("use_template", "replace")], &[])
        .await;
    assert!(!page.contains("My own words"));
    assert!(page.contains(&filled));
});

db_test!(approve_and_send_is_one_submit, |app| {
    let d = desk(&app, 2);
    let ticket = app.as_affiliate(&d.shop).asks_for(d.offers[0], "I run SEO traffic");
    let mut c = app.browser_as(&d.maria).await;
    let path = format!("/admin/tickets/{}/messages", ticket.0);
    let page = c.get(&format!("/admin/tickets/{}", ticket.0)).await;
    assert!(page.contains("Approve and send") && page.contains("Reject and send"));
    // An empty text keeps the form and decides nothing.
    let page = c.post_multipart(&path, &[("body", " "), ("then", "approve")], &[]).await;
    assert_eq!(page.status, 422);
    assert_eq!(app.ticket(ticket).request_state, Some(RequestState::Pending));
    let page = c.post_multipart(&path, &[("body", "Welcome aboard!"), ("then", "approve")], &[]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let t = app.ticket(ticket);
    assert_eq!((t.request_state, t.status), (Some(RequestState::Approved), TicketStatus::Closed));
    assert_eq!(d.grant(&app, d.offers[0]), Some(AccessGrant::Enabled));
    assert_eq!(d.bodies(&app, ticket).iter().filter(|b| *b == "Welcome aboard!").count(), 1);
    let thread = c.get(page.location.as_deref().unwrap()).await;
    assert!(thread.contains("Reply sent and request approved."));
    // Reject and send on another: rejected with the message.
    let other = app.as_affiliate(&d.shop).asks_for(d.offers[1], "And this one?");
    let page = c
        .post_multipart(
            &format!("/admin/tickets/{}/messages", other.0),
            &[("body", "Not this time."), ("then", "reject")],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(app.ticket(other).request_state, Some(RequestState::Rejected));
    assert!(d.bodies(&app, other).contains(&"Not this time.".to_string()));
    assert_counts_consistent(&app);
});

db_test!(thread_actions_keep_the_typed_reply_and_closing_a_pending_request_asks, |app| {
    let d = desk(&app, 1);
    let question = app.as_affiliate(&d.shop).asks("Tracking", "Clicks are not counted.");
    let mut c = app.browser_as(&d.maria).await;
    c.get(&format!("/admin/tickets/{}", question.0)).await;
    // htmx: the conversation comes back with the text still in the box.
    let page = c
        .htmx_multipart(
            &format!("/admin/tickets/{}/messages", question.0),
            &[("body", "Half-written answer"), ("action", "close")],
        )
        .await;
    assert_eq!(page.status, 200);
    let body = page.body;
    assert!(body.contains("Half-written answer</textarea>"), "the text stays");
    assert!(body.contains(&format!("Ticket {} closed.", question.0)));
    assert_eq!(app.ticket(question).status, TicketStatus::Closed);
    // Without script: the text survives the redirect.
    let page = c
        .post_multipart(
            &format!("/admin/tickets/{}/messages", question.0),
            &[("body", "Still writing"), ("action", "reopen")],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    let page = c.get(page.location.as_deref().unwrap()).await;
    assert!(page.contains("Still writing</textarea>") && page.contains(&format!("Ticket {} reopened.", question.0)));
    assert_eq!(app.ticket(question).status, TicketStatus::Open);

    // Closing a pending request asks whether to reject it; nothing changes yet.
    let request = app.as_affiliate(&d.shop).asks_for(d.offers[0], "I run SEO traffic");
    let path = format!("/admin/tickets/{}/messages", request.0);
    c.get(&format!("/admin/tickets/{}", request.0)).await;
    let page = c.post_multipart(&path, &[("body", ""), ("action", "close")], &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Reject it as you close it?"));
    assert_eq!(app.ticket(request).status, TicketStatus::Open);
    let page = c.post_multipart(&path, &[("body", ""), ("action", "close"), ("confirm", "1")], &[]).await;
    assert_eq!(page.status, 303);
    let t = app.ticket(request);
    assert_eq!((t.status, t.request_state), (TicketStatus::Closed, Some(RequestState::Pending)));
    assert_counts_consistent(&app);
});

db_test!(bulk_close_asks_about_pending_requests, |app| {
    let d = desk(&app, 1);
    let request = app.as_affiliate(&d.shop).asks_for(d.offers[0], "I run SEO traffic");
    let question = app.as_affiliate(&d.shop).asks("Tracking", "Clicks are not counted.");
    let mut c = app.browser_as(&d.maria).await;
    c.get("/admin/tickets").await;
    let ids = [("ids", request.0.to_string()), ("ids", question.0.to_string())];
    let mut form: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.push(("action", "close"));
    let page = c.htmx_post("/admin/tickets/bulk", &form).await;
    assert!(page.contains("Reject the pending request and close"), "{}", page.body);
    assert_eq!(app.ticket(question).status, TicketStatus::Open);
    let mut form: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.extend([("action", "close_reject"), ("confirm", "1")]);
    let page = c.htmx_post("/admin/tickets/bulk", &form).await;
    assert!(page.contains("Closed #"), "{}", page.body);
    let t = app.ticket(request);
    assert_eq!((t.status, t.request_state), (TicketStatus::Closed, Some(RequestState::Rejected)));
    assert_eq!(app.ticket(question).status, TicketStatus::Closed);
    assert_counts_consistent(&app);
});

db_test!(a_reply_does_not_go_through_blindly_after_a_change, |app| {
    let d = desk(&app, 0);
    let ticket = app.as_affiliate(&d.shop).asks("Tracking", "Clicks are not counted.");
    let mut manager = app.browser_as(&d.maria).await;
    let page = manager.get(&format!("/admin/tickets/{}", ticket.0)).await;
    let seen = [
        ("seen_message", hidden(&page.body, "seen_message")),
        ("seen_status", hidden(&page.body, "seen_status")),
        ("seen_request", hidden(&page.body, "seen_request")),
    ];
    // Meanwhile the affiliate writes again.
    let mut affiliate = app.browser_of(&d.shop).await;
    affiliate.get(&format!("/affiliate/tickets/{}", ticket.0)).await;
    let sent = affiliate
        .post_multipart(&format!("/affiliate/tickets/{}/messages", ticket.0), &[("body", "Any news?")], &[])
        .await;
    assert_eq!(sent.status, 303);
    let before = app.messages_in(ticket, false);
    let mut fields: Vec<(&str, &str)> = seen.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fields.push(("body", "We fixed it."));
    let path = format!("/admin/tickets/{}/messages", ticket.0);
    let page = manager.post_multipart(&path, &fields, &[]).await;
    assert_eq!(page.status, 409);
    assert!(page.contains("While you were writing, the affiliate replied."), "{}", page.body);
    assert!(page.contains("We fixed it.</textarea>"), "the text is kept");
    assert!(page.contains("Any news?"), "the new message shows");
    assert_eq!(app.messages_in(ticket, false), before);
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
    assert_eq!(app.messages_in(ticket, false), before + 1);
    assert_eq!(app.last_message(ticket), "We fixed it.");
});

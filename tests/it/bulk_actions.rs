//! The ticket list's bulk actions: Close, Activate, Reject and Remove on ticked
//! tickets or on all matching a filter, asked first where they cannot be undone,
//! refused without the form's token, and safe when two run at once.

use affdesk::domain::access::Decision;
use affdesk::domain::lifecycle::{Outcome, Skip};
use affdesk::domain::states::{AccessGrant, AccessSource, AuditAction, RequestState, TicketKind, TicketStatus};
use affdesk::domain::{Via, access, users::User};

use crate::db_test;
use crate::desk::{Find, TicketId};
use crate::support::{PNG, Settle, assert_counts_consistent, row_ids};

/// Tickets of a kind in a status.
fn of(kind: TicketKind, status: TicketStatus) -> Find {
    Find { kind: Some(kind), status: Some(status), ..Find::default() }
}

db_test!(bulk_close_reports_and_audits, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get("/admin/tickets").await;
    let ids = |f| app.find(f).into_iter().map(|t| t.0).collect::<Vec<i64>>();
    let open = ids(of(TicketKind::General, TicketStatus::Open));
    let closed = ids(of(TicketKind::General, TicketStatus::Closed));
    let pick = [open[0], open[1], open[2], closed[0]];
    let mut form: Vec<(&str, String)> = vec![("action", "close".into())];
    for id in pick {
        form.push(("ids", id.to_string()));
    }
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = c.post("/admin/tickets/bulk", &fields).await;
    assert_eq!(page.status, 303);
    let list = c.get(page.location.as_deref().unwrap()).await;
    let mut changed = [open[0], open[1], open[2]];
    changed.sort_unstable();
    let summary =
        format!("Closed #{}, #{}, #{}; skipped #{}: already closed", changed[0], changed[1], changed[2], closed[0]);
    assert!(list.contains(&summary), "summary shown: {summary}");
    // The rows the action touched are marked where the list shows them.
    for id in pick.iter().filter(|id| row_ids(&list.body).contains(id)) {
        let marker = format!("id=\"ticket-{id}\" class=\"");
        let class = list.body.split(&marker).nth(1).and_then(|rest| rest.split('"').next()).unwrap_or("");
        assert!(class.split_whitespace().any(|c| c == "marked"), "row {id} marked: {class:?}");
    }
    assert!(list.contains(" marked\""), "some row is marked");
    for id in pick {
        assert_eq!(app.ticket(TicketId(id)).status, TicketStatus::Closed);
    }
    assert_eq!(app.audited_as(AuditAction::Close, "bulk"), 3);
    assert_counts_consistent(&app);
    // With htmx the rows come back in place, with the banner out of band.
    let more = ids(Find { status: Some(TicketStatus::Open), ..Find::default() });
    let page = c
        .htmx_post(
            "/admin/tickets/bulk",
            &[("action", "close"), ("ids", &more[0].to_string()), ("status", "closed"), ("per_page", "500")],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.contains("hx-swap-oob") && page.contains(&format!("Closed #{}", more[0])));
    assert!(row_ids(&page.body).contains(&more[0]), "the closed ticket shows in the closed list");
});

db_test!(bulk_activate_and_reject_decide_requests, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get("/admin/tickets").await;
    let pending = app.find(Find {
        kind: Some(TicketKind::OfferRequest),
        request_state: Some(RequestState::Pending),
        ..Find::default()
    });
    let general = app.find(Find { kind: Some(TicketKind::General), ..Find::default() })[0].0;
    let (ta, tb) = (pending[0], pending[1]);
    let (a, b) = (ta.0, tb.0);
    let state_of = |t: TicketId| {
        let ticket = app.ticket(t);
        (ticket.request_state, ticket.status)
    };
    let page = c
        .htmx_post(
            "/admin/tickets/bulk",
            &[("action", "activate"), ("ids", &a.to_string()), ("ids", &general.to_string())],
        )
        .await;
    assert!(page.contains(&format!("Approved #{a}; skipped #{general}: not an access request")), "{}", page.body);
    assert_eq!(state_of(ta), (Some(RequestState::Approved), TicketStatus::Closed));
    // The decision's system message has one label in the list and in the thread.
    let list = c.get(&format!("/admin/tickets?id={a}")).await;
    assert!(list.contains("<b>System:</b> Request approved by"), "{}", list.body);
    assert!(c.get(&format!("/admin/tickets/{a}")).await.contains("<strong>System</strong>"));
    let (offer, affiliate) = (app.ticket(ta).offer_id.unwrap(), app.ticket(ta).affiliate_id);
    assert_eq!(app.offer_access(offer, affiliate), Some((AccessGrant::Enabled, AccessSource::Ticket)));
    assert_eq!(app.last_system_message(ta), "Request approved by Alex Admin.");
    assert_eq!(app.audited(AuditAction::Approve, Some(&[ta])), 1);
    // Approving again is skipped; rejecting the approved request takes the access away.
    let page = c.htmx_post("/admin/tickets/bulk", &[("action", "activate"), ("ids", &a.to_string())]).await;
    assert!(page.contains(&format!("Nothing approved; skipped #{a}: already decided")), "{}", page.body);
    let page = c.htmx_post("/admin/tickets/bulk", &[("action", "reject"), ("ids", &a.to_string())]).await;
    assert!(page.contains(&format!("Rejected #{a}")), "{}", page.body);
    assert_eq!(app.offer_access(offer, affiliate), Some((AccessGrant::Disabled, AccessSource::Ticket)));
    assert_eq!(state_of(ta), (Some(RequestState::Rejected), TicketStatus::Closed));
    let said = app.last_system_message(ta);
    assert!(said.contains("granted by an approved request, was revoked"), "{said}");
    assert_eq!(app.audited(AuditAction::RevokeAccess, Some(&[ta])), 1);
    // Nothing is left to take away: a second Reject changes nothing.
    let page = c.htmx_post("/admin/tickets/bulk", &[("action", "reject"), ("ids", &a.to_string())]).await;
    assert!(page.contains(&format!("skipped #{a}: already rejected, nothing to revoke")), "{}", page.body);

    // Reject disables access that had been enabled by hand.
    let (offer_b, affiliate_b) = (app.ticket(tb).offer_id.unwrap(), app.ticket(tb).affiliate_id);
    app.grant_by_hand(offer_b, affiliate_b);
    let page = c.htmx_post("/admin/tickets/bulk", &[("action", "reject"), ("ids", &b.to_string())]).await;
    assert!(page.contains(&format!("Rejected #{b}")));
    assert_eq!(app.offer_access(offer_b, affiliate_b).map(|(grant, _)| grant), Some(AccessGrant::Disabled));
    assert_eq!(state_of(tb), (Some(RequestState::Rejected), TicketStatus::Closed));
    assert_counts_consistent(&app);
});

db_test!(bulk_remove_asks_first_then_removes_everything, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get("/admin/tickets/new").await;
    let page = c
        .post_multipart(
            "/admin/tickets",
            &[
                ("affiliate_id", "2"),
                ("type", "technical"),
                ("title", "Zebrafish screenshot attached"),
                ("body", "See the file."),
            ],
            &[("shot.png", PNG.to_vec())],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let t_file = app.newest_ticket();
    let with_file = t_file.0;
    let key = app.attachment_keys(t_file).remove(0);
    let path = app.data_dir.join("attachments").join(&key[..2]).join(&key);
    assert!(path.exists(), "the attachment was stored");
    let t_other = app.find(Find { kind: Some(TicketKind::General), ..Find::default() })[0];
    let other = t_other.0;
    c.get("/admin/tickets").await;
    // A stale selection also names a ticket gone since: the question counts the two.
    let ids = [
        ("action", "remove"),
        ("ids", &with_file.to_string()[..]),
        ("ids", &other.to_string()[..]),
        ("ids", "987654321"),
    ];
    let ask = c.post("/admin/tickets/bulk", &ids).await;
    assert_eq!(ask.status, 200);
    assert!(ask.contains("Remove 2 tickets?"), "{}", ask.body);
    assert!(ask.contains("This is permanent"));
    assert!(app.exists(t_file) && app.exists(t_other), "nothing removed yet");
    let mut confirmed = ids.to_vec();
    confirmed.push(("confirm", "1"));
    let done = c.post("/admin/tickets/bulk", &confirmed).await;
    assert_eq!(done.status, 303);
    assert!(!app.exists(t_file) && !app.exists(t_other));
    assert_eq!(app.messages_in(t_file, false) + app.messages_in(t_other, false), 0);
    assert_eq!(app.attachments_stored(), 0);
    assert!(!path.exists(), "the file is gone");
    assert_eq!(app.audited(AuditAction::Remove, None), 2);
    let page = c.get("/admin/tickets?q=zebrafish").await;
    assert!(row_ids(&page.body).is_empty(), "removed tickets leave the search index");
    assert_counts_consistent(&app);
});

db_test!(bulk_all_matching_and_scope, |app| {
    app.seed_demo();
    let m1 = app.staff("manager1@affdesk.test").id;
    let mut c = app.login_admin("manager1@affdesk.test").await;
    c.get("/admin/tickets").await;
    let open_general = of(TicketKind::General, TicketStatus::Open);
    let ids = |f| app.find(f).into_iter().map(|t| t.0).collect::<Vec<i64>>();
    let mine_now = || ids(Find { manager: Some(m1), ..open_general });
    let mine = mine_now();
    assert!(!mine.is_empty());
    let all = [("action", "close"), ("all_matching", "1"), ("status", "open"), ("type", "general")];
    // Asked once, with the count; nothing changes until confirmed.
    let ask = c.htmx_post("/admin/tickets/bulk", &all).await;
    let n = if mine.len() == 1 { "1 ticket".to_string() } else { format!("{} tickets", mine.len()) };
    assert!(ask.contains(&format!("Close {n}?")), "{}", ask.body);
    assert_eq!(mine_now(), mine);
    let confirmed: Vec<(&str, &str)> = all.iter().copied().chain([("confirm", "1")]).collect();
    let page = c.htmx_post("/admin/tickets/bulk", &confirmed).await;
    let mut sorted = mine.clone();
    sorted.sort_unstable();
    let named: Vec<String> = sorted.iter().take(10).map(|id| format!("#{id}")).collect();
    assert!(page.contains(&named.join(", ")), "{}", page.body);
    assert!(page.contains("Closed "), "{}", page.body);
    assert!(mine_now().is_empty());
    assert!(!ids(Find { not_manager: Some(m1), ..open_general }).is_empty(), "others untouched");
    // Tickets of another manager are reported, not changed.
    let theirs = ids(Find { not_manager: Some(m1), status: Some(TicketStatus::Open), ..Find::default() })[0];
    let page = c
        .htmx_post("/admin/tickets/bulk", &[("action", "close"), ("ids", &theirs.to_string()), ("ids", "99999999")])
        .await;
    assert!(
        page.contains(&format!("Nothing closed; not changed #{theirs}, #99999999: not found or not yours")),
        "{}",
        page.body
    );
    assert_eq!(app.ticket(TicketId(theirs)).status, TicketStatus::Open);
    assert_counts_consistent(&app);
});

db_test!(bulk_without_csrf_is_refused, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let t = app.find(Find { status: Some(TicketStatus::Open), ..Find::default() })[0];
    let open = t.0;
    let form = vec![("action".to_string(), "close".to_string()), ("ids".to_string(), open.to_string())];
    let page = c.post_raw("/admin/tickets/bulk", &form).await;
    assert_eq!(page.status, 403);
    assert_eq!(app.ticket(t).status, TicketStatus::Open);
    assert_eq!(app.audit_entries(), 0);
});

db_test!(concurrent_activate_and_reject_end_rejected, |app| {
    app.seed_demo();
    let pending = app.find(Find { request_state: Some(RequestState::Pending), ..Find::default() });
    for t in pending.iter().take(3).copied() {
        let id = t.0;
        let mut handles = Vec::new();
        for (email, decision) in
            [("admin@affdesk.test", Decision::Approve), ("manager1@affdesk.test", Decision::Reject)]
        {
            let pool = app.pool.clone();
            let email = email.to_string();
            handles.push(std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                let mut user = User::find_by_email(&mut conn, &email).unwrap().unwrap();
                user.sees_all_tickets = true;
                let actor = user.actor(Via::Panel);
                access::decide(&mut conn, &actor, id, decision, None).settled().unwrap()
            }));
        }
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        // Reject always runs; Approve runs first or finds the request rejected. Either
        // way the request ends rejected, with one system message per decision made.
        assert_eq!(results[1], Outcome::Done, "{results:?}");
        assert!(matches!(results[0], Outcome::Done | Outcome::Skipped(Skip::AlreadyDecided)), "{results:?}");
        let decisions = results.iter().filter(|r| **r == Outcome::Done).count() as i64;
        assert_eq!(app.ticket(t).request_state, Some(RequestState::Rejected));
        assert_eq!(app.messages_in(t, true), decisions);
    }
    assert_counts_consistent(&app);
});

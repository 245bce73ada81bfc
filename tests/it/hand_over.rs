//! Handing tickets to another manager: many from the list, one from its thread;
//! the queues, the totals and the thread follow, the affiliate is not told, and a
//! manager who cannot take tickets is refused in words.

use crate::db_test;
use crate::support::*;

db_test!(tickets_are_handed_over_in_bulk_and_back_from_the_thread, |app| {
    app.seed_demo();
    let m1 = user_id(&app, "manager1@affdesk.test");
    let m2 = user_id(&app, "manager2@affdesk.test");
    let mine = ids_where(&app, &format!("manager_id = {m1} AND status = 'open'"));
    let (a, b) = (mine[0], mine[1]);
    let mails = app.count("outbox");
    let mut maria = app.login_admin("manager1@affdesk.test").await;
    maria.get("/admin/tickets").await;
    let bar = maria.get("/admin/tickets").await;
    assert!(bar.contains("name=\"assign_to\"") && bar.contains(&format!("<option value=\"{m2}\">")), "{}", bar.body);
    let done = maria
        .post(
            "/admin/tickets/bulk",
            &[("action", "assign"), ("assign_to", &m2.to_string()), ("ids", &a.to_string()), ("ids", &b.to_string())],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(ids_where(&app, &format!("id IN ({a}, {b}) AND manager_id = {m2}")).len(), 2);
    assert_counts_consistent(&app);
    assert_eq!(app.count("outbox"), mails, "the affiliates are not told");
    let list = maria.get("/admin/tickets?per_page=500").await;
    assert!(!row_ids(&list.body).contains(&a), "out of the giver's queue");
    let (low, high) = (a.min(b), a.max(b));
    assert!(list.contains(&format!("Assigned #{low}, #{high}")), "{}", list.body);
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'assign' AND ticket_id IN ({a}, {b})")
        ),
        2
    );
    // The taker sees them, with an internal note saying who handed them over.
    let mut john = app.login_admin("manager2@affdesk.test").await;
    assert!(row_ids(&john.get("/admin/tickets?per_page=500").await.body).contains(&a));
    let thread = john.get(&format!("/admin/tickets/{a}")).await;
    assert!(thread.contains("Handed to") && thread.contains("Internal note"), "{}", thread.body);
    let mut affiliate_email = text(
        &app,
        &format!("SELECT a.email AS t FROM affiliates a JOIN tickets t ON t.affiliate_id = a.id WHERE t.id = {a}"),
    );
    affiliate_email.make_ascii_lowercase();
    let mut affiliate = app.login_affiliate(&affiliate_email).await;
    assert!(!affiliate.get(&format!("/affiliate/tickets/{a}")).await.contains("Handed to"), "the note stays inside");

    // Back from the thread: the taker no longer sees it and lands on their list.
    let form = john.get(&format!("/admin/tickets/{a}/assign")).await;
    assert_eq!(form.status, 200);
    assert!(form.contains(&format!("<option value=\"{m1}\">")) && !form.contains(&format!("<option value=\"{m2}\">")));
    let back = john.post(&format!("/admin/tickets/{a}/assign"), &[("assign_to", &m1.to_string())]).await;
    assert_eq!(back.status, 303);
    assert_eq!(back.location.as_deref(), Some("/admin/tickets"));
    assert!(john.get("/admin/tickets").await.contains(&format!("Ticket #{a} handed to Maria Keller.")));
    assert_eq!(ids_where(&app, &format!("id = {a} AND manager_id = {m1}")), vec![a]);
    assert_counts_consistent(&app);
});

db_test!(handing_over_to_nobody_or_to_a_disabled_manager_is_refused_in_words, |app| {
    app.seed_demo();
    let m1 = user_id(&app, "manager1@affdesk.test");
    let m2 = user_id(&app, "manager2@affdesk.test");
    let ticket = ids_where(&app, &format!("manager_id = {m1}"))[0];
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get("/admin/people").await;
    assert_eq!(admin.post(&format!("/admin/people/{m2}/disable"), &[]).await.status, 303);
    let mut maria = app.login_admin("manager1@affdesk.test").await;
    maria.get(&format!("/admin/tickets/{ticket}/assign")).await;
    let page = maria.post(&format!("/admin/tickets/{ticket}/assign"), &[("assign_to", "")]).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Choose the manager to hand the ticket to."));
    let page = maria.post(&format!("/admin/tickets/{ticket}/assign"), &[("assign_to", &m2.to_string())]).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("is disabled: enable them first"), "{}", page.body);
    let page = maria.post(&format!("/admin/tickets/{ticket}/assign"), &[("assign_to", "987654")]).await;
    assert_eq!(page.status, 422);
    maria.get("/admin/tickets").await;
    let page = maria
        .htmx_post("/admin/tickets/bulk", &[("action", "assign"), ("assign_to", ""), ("ids", &ticket.to_string())])
        .await;
    assert!(page.contains("Choose the manager to assign the tickets to."));
    assert_eq!(ids_where(&app, &format!("id = {ticket} AND manager_id = {m1}")), vec![ticket], "nothing changed");
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'assign'"), 0);
    // Another manager's ticket: the in-panel 404, nothing moved.
    let other = ids_where(&app, &format!("manager_id <> {m1}"))[0];
    let page = maria.post(&format!("/admin/tickets/{other}/assign"), &[("assign_to", &m1.to_string())]).await;
    assert_eq!(page.status, 404);
    assert_eq!(ids_where(&app, &format!("id = {other} AND manager_id = {m1}")), Vec::<i64>::new());
});

db_test!(a_manager_who_covers_others_sees_every_queue_while_the_setting_is_on, |app| {
    app.seed_demo();
    let m1 = user_id(&app, "manager1@affdesk.test");
    let m2 = user_id(&app, "manager2@affdesk.test");
    let marias = ids_where(&app, &format!("manager_id = {m1}"))[0];
    let mut john = app.login_admin("manager2@affdesk.test").await;
    assert!(!row_ids(&john.get(&format!("/admin/tickets?id={marias}")).await.body).contains(&marias));
    assert!(!john.get("/admin/tickets").await.contains(">All tickets</a>"), "one queue, no switch");
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get("/admin/people").await;
    let on = admin.post(&format!("/admin/people/{m2}/queues"), &[("all", "1")]).await;
    assert_eq!(on.status, 303);
    assert!(admin.get("/admin/people").await.contains("every queue</span>"));
    // At once, in the session John already has.
    let list = john.get(&format!("/admin/tickets?id={marias}")).await;
    assert_eq!(row_ids(&list.body), vec![marias]);
    let list = john.get("/admin/tickets").await;
    assert!(list.contains(&format!("href=\"/admin/tickets?status=open&amp;manager_id={m2}\">My tickets</a>")));
    assert!(john.get(&format!("/admin/tickets/{marias}")).await.status == 200);
    admin.post(&format!("/admin/people/{m2}/queues"), &[("all", "0")]).await;
    assert_eq!(john.get(&format!("/admin/tickets/{marias}")).await.status, 404);
    // An admin sees every queue anyway: said, nothing changed.
    let admin_id = user_id(&app, "admin@affdesk.test");
    let page = admin.post(&format!("/admin/people/{admin_id}/queues"), &[("all", "1")]).await;
    assert_eq!(page.status, 400);
    assert!(page.contains("sees every queue already"));
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'queues'"), 2);
});

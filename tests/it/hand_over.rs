//! Handing tickets to another manager: many from the list, one from its thread;
//! the queues, the totals and the thread follow, the affiliate is not told, and a
//! manager who cannot take tickets is refused in words.

use affdesk::domain::states::AuditAction;

use crate::db_test;
use crate::desk::TicketId;
use crate::support::{assert_counts_consistent, row_ids};

db_test!(tickets_are_handed_over_in_bulk_and_back_from_the_thread, |app| {
    app.seed_demo();
    let (manager1, manager2) = (app.staff("manager1@affdesk.test"), app.staff("manager2@affdesk.test"));
    let (m1, m2) = (manager1.id, manager2.id);
    let mine = app.tickets_with(&manager1, true);
    let (ta, tb) = (mine[0], mine[1]);
    let (a, b) = (ta.0, tb.0);
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
    assert_eq!((app.ticket(ta).manager_id, app.ticket(tb).manager_id), (Some(m2), Some(m2)));
    assert_counts_consistent(&app);
    assert_eq!(app.count("outbox"), mails, "the affiliates are not told");
    let list = maria.get("/admin/tickets?per_page=500").await;
    assert!(!row_ids(&list.body).contains(&a), "out of the giver's queue");
    let (low, high) = (a.min(b), a.max(b));
    assert!(list.contains(&format!("Assigned #{low}, #{high}")), "{}", list.body);
    assert_eq!(app.audited(AuditAction::Assign, Some(&[ta, tb])), 2);
    // The taker sees them, with an internal note saying who handed them over.
    let mut john = app.login_admin("manager2@affdesk.test").await;
    assert!(row_ids(&john.get("/admin/tickets?per_page=500").await.body).contains(&a));
    let thread = john.get(&format!("/admin/tickets/{a}")).await;
    assert!(thread.contains("Handed to") && thread.contains("Internal note"), "{}", thread.body);
    let mut affiliate = app.login_affiliate(&app.affiliate_of(ta).email.to_ascii_lowercase()).await;
    assert!(!affiliate.get(&format!("/affiliate/tickets/{a}")).await.contains("Handed to"), "the note stays inside");

    // Back from the thread: the taker no longer sees it and lands on their list.
    let form = john.get(&format!("/admin/tickets/{a}/assign")).await;
    assert_eq!(form.status, 200);
    assert!(form.contains(&format!("<option value=\"{m1}\">")) && !form.contains(&format!("<option value=\"{m2}\">")));
    let back = john.post(&format!("/admin/tickets/{a}/assign"), &[("assign_to", &m1.to_string())]).await;
    assert_eq!(back.status, 303);
    assert_eq!(back.location.as_deref(), Some("/admin/tickets"));
    assert!(john.get("/admin/tickets").await.contains(&format!("Ticket #{a} handed to Maria Keller.")));
    assert_eq!(app.ticket(ta).manager_id, Some(m1));
    assert_counts_consistent(&app);
});

db_test!(handing_over_to_nobody_or_to_a_disabled_manager_is_refused_in_words, |app| {
    app.seed_demo();
    let (manager1, m2) = (app.staff("manager1@affdesk.test"), app.staff("manager2@affdesk.test").id);
    let m1 = manager1.id;
    let t = app.tickets_with(&manager1, false)[0];
    let ticket = t.0;
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
    assert_eq!(app.ticket(t).manager_id, Some(m1), "nothing changed");
    assert_eq!(app.audited(AuditAction::Assign, None), 0);
    // Another manager's ticket: the in-panel 404, nothing moved.
    let other = app.tickets_not_with(&manager1)[0];
    let before = app.ticket(other).manager_id;
    let page = maria.post(&format!("/admin/tickets/{}/assign", other.0), &[("assign_to", &m1.to_string())]).await;
    assert_eq!(page.status, 404);
    assert_eq!(app.ticket(other).manager_id, before);
});

db_test!(a_manager_who_covers_others_sees_every_queue_while_the_setting_is_on, |app| {
    app.seed_demo();
    let m2 = app.staff("manager2@affdesk.test").id;
    let marias = app.tickets_with(&app.staff("manager1@affdesk.test"), false)[0].0;
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
    let admin_id = app.staff("admin@affdesk.test").id;
    let page = admin.post(&format!("/admin/people/{admin_id}/queues"), &[("all", "1")]).await;
    assert_eq!(page.status, 400);
    assert!(page.contains("sees every queue already"));
    assert_eq!(app.audited(AuditAction::Queues, None), 2);
});

db_test!(a_holiday_cover_gives_the_same_affiliates_back_on_its_day, |app| {
    app.seed_demo();
    let (maria, admin_staff) = (app.staff("manager1@affdesk.test"), app.staff("admin@affdesk.test"));
    let (m1, m2) = (maria.id, app.staff("manager2@affdesk.test").id);
    let marias = app.tickets_with(&maria, false);
    let hers = app.affiliates_with(&maria);
    let her_affiliates = hers.len() as i64;
    assert!(her_affiliates > 0);
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get("/admin/people").await;
    // Bad days are said, and nothing moves.
    let today = affdesk::domain::now().date();
    for (until, why) in
        [(today.to_string(), "Until must be a day after today"), ("soon".to_string(), "Until must be a date")]
    {
        let sent = admin
            .post("/admin/people/hand-over", &[("from", &m1.to_string()), ("to", &m2.to_string()), ("until", &until)])
            .await;
        assert_eq!(sent.status, 303);
        assert!(admin.get("/admin/people").await.contains(why), "{why}");
        assert_eq!(app.tickets_with(&maria, false), marias);
    }
    let back_on = today + chrono::Duration::days(7);
    let sent = admin
        .post(
            "/admin/people/hand-over",
            &[("from", &m1.to_string()), ("to", &m2.to_string()), ("until", &back_on.to_string())],
        )
        .await;
    assert_eq!(sent.status, 303);
    let page = admin.get("/admin/people").await;
    assert!(page.contains(&format!("covered until {back_on}")), "{}", page.body);
    assert!(page.contains(&format!("Maria Keller's {her_affiliates} affiliates are with")), "{}", page.body);
    assert_eq!(app.tickets_with(&maria, false), Vec::<TicketId>::new());
    // Meanwhile one of them is given to someone else for good: that one stays there.
    let moved_on = &hers[0];
    app.give_affiliate(moved_on, &admin_staff);
    // Before its day nothing goes back; on its day the others do, with their tickets.
    let mut conn = app.conn();
    let day_before = (back_on - chrono::Duration::days(1)).and_hms_opt(23, 0, 0).unwrap();
    assert_eq!(affdesk::domain::covers::end_due(&mut conn, day_before).unwrap(), 0);
    let back = affdesk::domain::covers::end_due(&mut conn, back_on.and_hms_opt(0, 5, 0).unwrap()).unwrap();
    drop(conn);
    assert_eq!(back as i64, her_affiliates - 1);
    assert_eq!(app.affiliate(moved_on).manager_id, Some(admin_staff.id));
    let back_with_them: Vec<TicketId> =
        marias.iter().copied().filter(|t| app.ticket(*t).affiliate_id != moved_on.id).collect();
    assert_eq!(app.tickets_with(&maria, false), back_with_them, "her tickets came back with her affiliates");
    assert_counts_consistent(&app);
    assert!(!admin.get("/admin/people").await.contains("Give back now"), "the cover is over");
});

//! A network's own people and affiliates through the panels: an invitation taken
//! up, a password reset (same answer for any address, single-use, expiring), a
//! password change, a hand-over, disabling, and managers kept to their own affiliates.

use affdesk::domain::states::{AffiliateStatus, AuditAction, MailEvent};

use crate::db_test;
use crate::support::{assert_counts_consistent, row_ids};

db_test!(an_invited_manager_sets_a_password_and_logs_in, |app| {
    app.seed_demo();
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get("/admin/people").await;
    // Wrong fields come back next to the field, and nothing is created.
    let refused = admin.post("/admin/people", &[("email", "not an email"), ("name", ""), ("role", "boss")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("id=\"invite-email-error\""), "{}", refused.body);
    assert!(refused.contains("id=\"invite-role-error\""));
    let taken = admin
        .post("/admin/people", &[("email", "manager1@affdesk.test"), ("name", "Again"), ("role", "manager")])
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.contains("already has an account"));
    assert!(!app.has_staff("nina@network.test"));
    let sent = admin
        .post("/admin/people", &[("email", "Nina@Network.test"), ("name", "Nina Roth"), ("role", "manager")])
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert!(app.has_staff("nina@network.test"), "the email is kept as lower case");
    assert_eq!(app.emails_to(MailEvent::Invitation, "nina@network.test"), 1);
    // Only the hash of the token is kept.
    let token = app.link_sent_to("nina@network.test");
    assert_eq!(token.len(), 64);
    assert!(!app.link_kept_in_clear(&token));
    // The link's page, a password too short, then the right one.
    let mut nina = app.client();
    let page = nina.get(&format!("/admin/password?token={token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("nina@network.test") && page.contains("Welcome: set your password"));
    let short = nina.post("/admin/password", &[("token", &token), ("password", "short"), ("repeat", "short")]).await;
    assert_eq!(short.status, 422);
    assert!(short.contains("Use at least 10 characters."));
    let set = nina
        .post(
            "/admin/password",
            &[("token", &token), ("password", "nina's long secret"), ("repeat", "nina's long secret")],
        )
        .await;
    assert_eq!(set.status, 303);
    assert_eq!(set.location.as_deref(), Some("/admin/login"));
    // The link works once; the affiliate panel never takes a user's link.
    let again = nina.get(&format!("/admin/password?token={token}")).await;
    assert_eq!(again.status, 410);
    assert!(again.contains("already used"));
    assert_eq!(nina.get(&format!("/affiliate/password?token={token}")).await.status, 410);
    nina.login("/admin/login", "nina@network.test", "nina's long secret").await;
    assert_eq!(nina.get("/admin/tickets").await.status, 200);
    // Managers do not see the People page.
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    assert_eq!(manager.get("/admin/people").await.status, 403);
});

db_test!(a_password_reset_tells_nothing_and_ends_every_session, |app| {
    app.seed_demo();
    let mut logged_in = app.login_affiliate("affiliate2@affdesk.test").await;
    let mut someone = app.client();
    someone.get("/affiliate/password/forgot").await;
    let known = someone.post("/affiliate/password/forgot", &[("email", "affiliate2@affdesk.test")]).await;
    someone.get("/affiliate/password/forgot").await;
    let unknown = someone.post("/affiliate/password/forgot", &[("email", "nobody@affdesk.test")]).await;
    assert_eq!((known.status, unknown.status), (200, 200));
    let words = |b: &str| b.replace("affiliate2@affdesk.test", "X").replace("nobody@affdesk.test", "X");
    assert_eq!(words(&known.body).len(), words(&unknown.body).len(), "the same answer for any address");
    assert_eq!(app.emails_to(MailEvent::PasswordReset, "affiliate2@affdesk.test"), 1);
    assert_eq!(app.emails_to(MailEvent::PasswordReset, "nobody@affdesk.test"), 0);
    // At most three emails an hour for one account.
    for _ in 0..4 {
        someone.get("/affiliate/password/forgot").await;
        someone.post("/affiliate/password/forgot", &[("email", "affiliate2@affdesk.test")]).await;
    }
    assert_eq!(app.emails_to(MailEvent::PasswordReset, "affiliate2@affdesk.test"), 3);
    // The newest link sets the password; earlier ones stop working; the old session ends.
    let token = app.link_sent_to("affiliate2@affdesk.test");
    let mut owner = app.client();
    owner.get(&format!("/affiliate/password?token={token}")).await;
    let set = owner
        .post(
            "/affiliate/password",
            &[("token", &token), ("password", "a brand new pass"), ("repeat", "a brand new pass")],
        )
        .await;
    assert_eq!(set.status, 303);
    assert_eq!(app.unused_links(), 0, "the earlier links stop working too");
    let after = logged_in.get("/affiliate/tickets").await;
    assert_eq!(after.status, 303, "the session of the old password ended");
    owner.login("/affiliate/login", "affiliate2@affdesk.test", "a brand new pass").await;
    // An expired link says so.
    someone.get("/admin/password/forgot").await;
    someone.post("/admin/password/forgot", &[("email", "manager2@affdesk.test")]).await;
    let expired = app.link_sent_to("manager2@affdesk.test");
    app.expire_links();
    let page = someone.get(&format!("/admin/password?token={expired}")).await;
    assert_eq!(page.status, 410);
    assert!(page.contains("This link has expired."));
});

db_test!(a_password_change_asks_for_the_old_one, |app| {
    app.seed_demo();
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    manager.get("/admin/profile").await;
    let wrong = manager
        .post(
            "/admin/profile/password",
            &[("old_password", "guess"), ("new_password", "new password 1"), ("repeat_password", "new password 1")],
        )
        .await;
    assert_eq!(wrong.status, 303);
    let page = manager.get("/admin/profile").await;
    assert!(page.contains("Current password: This is not your current password."), "{}", page.body);
    let done = manager
        .post(
            "/admin/profile/password",
            &[
                ("old_password", affdesk::seed::DEMO_PASSWORD),
                ("new_password", "new password 1"),
                ("repeat_password", "new password 1"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert!(manager.get("/admin/profile").await.contains("Your password is changed."));
    let mut again = app.client();
    again.login("/admin/login", "manager1@affdesk.test", "new password 1").await;
});

db_test!(a_hand_over_moves_affiliates_and_tickets_and_keeps_the_totals, |app| {
    app.seed_demo();
    let (first, second) = (app.staff("manager1@affdesk.test"), app.staff("manager2@affdesk.test"));
    let (m1, m2) = (first.id, second.id);
    let affiliates = app.affiliates_with(&first).len();
    let tickets = app.tickets_with(&first, false).len();
    let second_had = (app.affiliates_with(&second).len(), app.tickets_with(&second, false).len());
    assert!(affiliates > 0 && tickets > 0);
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get("/admin/people").await;
    let same = admin.post("/admin/people/hand-over", &[("from", &m1.to_string()), ("to", &m1.to_string())]).await;
    assert_eq!(same.status, 303);
    assert!(admin.get("/admin/people").await.contains("Choose another manager"));
    let done = admin.post("/admin/people/hand-over", &[("from", &m1.to_string()), ("to", &m2.to_string())]).await;
    assert_eq!(done.status, 303);
    assert!(
        admin
            .get("/admin/people")
            .await
            .contains(&format!("Handed over {affiliates} affiliates and {tickets} tickets."))
    );
    assert!(app.affiliates_with(&first).is_empty() && app.tickets_with(&first, false).is_empty());
    assert_eq!(
        (app.affiliates_with(&second).len(), app.tickets_with(&second, false).len()),
        (second_had.0 + affiliates, second_had.1 + tickets)
    );
    assert_counts_consistent(&app);
    assert_eq!(app.audited(AuditAction::HandOver, None), 1);
    // Manager 2 now sees those tickets; manager 1 none.
    let mut m1_client = app.login_admin("manager1@affdesk.test").await;
    assert!(row_ids(&m1_client.get("/admin/tickets").await.body).is_empty());
});

db_test!(managers_keep_to_their_own_affiliates_and_disabling_logs_out, |app| {
    app.seed_demo();
    let first = app.staff("manager1@affdesk.test");
    let mine = app
        .affiliates_with(&first)
        .into_iter()
        .find(|a| app.affiliate(a).status == AffiliateStatus::Active)
        .expect("an active affiliate of theirs");
    let own = mine.id;
    let other = app.affiliates_with(&app.staff("manager2@affdesk.test"))[0].id;
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    let list = manager.get("/admin/affiliates").await;
    assert!(list.contains(&format!("id=\"affiliate-{own}\"")));
    assert!(!list.contains(&format!("id=\"affiliate-{other}\"")));
    assert_eq!(manager.get(&format!("/admin/affiliates/{other}")).await.status, 404);
    // A new affiliate of a manager is theirs; a duplicate email is named.
    manager.get("/admin/affiliates/new").await;
    let dup = manager
        .post("/admin/affiliates", &[("email", "affiliate1@affdesk.test"), ("name", "Copy"), ("status", "active")])
        .await;
    assert_eq!(dup.status, 422);
    assert!(dup.contains("is already the email of affiliate"), "{}", dup.body);
    let made = manager
        .post(
            "/admin/affiliates",
            &[("email", "fresh@partner.test"), ("name", "Fresh Partner"), ("status", "on_moderation")],
        )
        .await;
    assert_eq!(made.status, 303);
    assert!(app.affiliates_with(&first).iter().any(|a| a.email == "fresh@partner.test"), "theirs");
    // Disabling an affiliate ends their sessions at once.
    let email = mine.email.clone();
    let mut partner = app.login_affiliate(&email).await;
    assert_eq!(partner.get("/affiliate/tickets").await.status, 200);
    manager.get(&format!("/admin/affiliates/{own}")).await;
    assert_eq!(manager.post(&format!("/admin/affiliates/{own}/disable"), &[]).await.status, 303);
    assert_eq!(partner.get("/affiliate/tickets").await.status, 303);
    let mut again = app.client();
    again.get("/affiliate/login").await;
    let refused =
        again.post("/affiliate/login", &[("email", &email), ("password", affdesk::seed::DEMO_PASSWORD)]).await;
    assert_eq!(refused.status, 401);
    // Invited to the panel: the email goes out through the outbox.
    manager.get(&format!("/admin/affiliates/{own}")).await;
    assert_eq!(manager.post(&format!("/admin/affiliates/{own}/invite"), &[]).await.status, 303);
    assert_eq!(app.emails_to(MailEvent::Invitation, &email), 1);
});

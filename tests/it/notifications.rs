//! Email notifications through the outbox, delivered to a real SMTP server: who
//! gets what, that internal notes never leave, opt-outs, an SMTP server that is
//! down and comes back, a sender killed between sending and marking, and
//! permanent refusals marked failed with the server's answer.

use std::time::Duration;

use affdesk::config::Config;
use affdesk::domain::outbox;
use affdesk::domain::states::{AuditAction, MailEvent, OutboxState, TicketKind, TicketStatus};
use affdesk::domain::{now, outbox::Mail};
use serde_json::Value;

use crate::db_test;
use crate::desk::{AffiliateAccount, Find, StaffMember};
use crate::harness::{Backend, TestApp};
use crate::smtp::{SmtpSink, free_port};

/// The app sending through `smtp_url`, retrying after a second.
fn with_smtp(smtp_url: String) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.mail.smtp_url = Some(smtp_url);
        c.mail.public_url = "https://desk.example.com".into();
        c.mail.retry_after = Duration::from_secs(1);
        c.mail.lease = Duration::from_secs(1);
    }
}

async fn start(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    if backend == Backend::Postgres && std::env::var("TEST_POSTGRES_URL").is_err() {
        assert!(std::env::var("CI").is_err(), "CI must set TEST_POSTGRES_URL");
        return None;
    }
    Some(TestApp::start_with(backend, tweak).await)
}

/// Runs a notification test on both backends, each with its own SMTP server.
macro_rules! mail_test {
    ($name:ident, |$app:ident, $sink:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[actix_web::test]
            #[cfg_attr(no_smtp, ignore = "needs an SMTP server: apt install python3-aiosmtpd")]
            async fn sqlite() {
                let Some($sink) = SmtpSink::start() else { return };
                let Some($app) = start(Backend::Sqlite, with_smtp($sink.url())).await else { return };
                $body
            }
            #[actix_web::test]
            #[cfg_attr(no_smtp, ignore = "needs an SMTP server: apt install python3-aiosmtpd")]
            #[cfg_attr(all(no_postgres, not(no_smtp)), ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
            async fn postgres() {
                let Some($sink) = SmtpSink::start() else { return };
                let Some($app) = start(Backend::Postgres, with_smtp($sink.url())).await else { return };
                $body
            }
        }
    };
}

async fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !ok() {
        assert!(started.elapsed() < Duration::from_secs(20), "waited 20 s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn field<'a>(m: &'a Value, name: &str) -> &'a str {
    m[name].as_str().unwrap_or("")
}

/// A manager and one affiliate of theirs.
fn team(app: &TestApp) -> (StaffMember, AffiliateAccount) {
    let maria = app.with_manager("maria@network.test");
    let shop = app.with_affiliate_of(&maria, "shop@partners.test");
    (maria, shop)
}

fn in_state(app: &TestApp, state: OutboxState) -> usize {
    app.outbox().iter().filter(|m| m.state == state).count()
}

mail_test!(each_change_emails_whoever_should_hear_of_it, |app, sink| {
    let (maria, shop) = team(&app);
    // The affiliate opens a ticket: their manager hears of it.
    let mut affiliate = app.browser_of(&shop).await;
    affiliate.get("/affiliate/tickets/new").await;
    let opened = affiliate
        .post_multipart(
            "/affiliate/tickets",
            &[("type", "technical"), ("title", "Postback & <tags> broken"), ("body", "Since 9:00 no postbacks.")],
            &[],
        )
        .await;
    assert_eq!(opened.status, 303);
    let ticket = app.newest_ticket().0;
    let got = sink.wait_for(1).await;
    let first = &got[0];
    assert_eq!(first["to"], serde_json::json!([maria.email]));
    assert!(field(first, "subject").contains("Postback & <tags> broken"), "{first}");
    assert!(field(first, "text").contains("Since 9:00 no postbacks."));
    assert!(field(first, "text").contains(&format!("https://desk.example.com/admin/tickets/{ticket}")));
    assert!(field(first, "html").contains(&format!("href=\"https://desk.example.com/admin/tickets/{ticket}\"")));
    let html = field(first, "html");
    assert!(html.contains("Postback &#38; &#60;tags&#62; broken") && !html.contains("<tags>"), "escaped: {html}");

    // An internal note tells nobody; the reply tells the affiliate, without the note.
    let mut manager = app.browser_as(&maria).await;
    manager.get(&format!("/admin/tickets/{ticket}")).await;
    let path = format!("/admin/tickets/{ticket}/messages");
    let note =
        manager.post_multipart(&path, &[("body", "Secret: the advertiser is late"), ("internal", "1")], &[]).await;
    assert_eq!(note.status, 303);
    let reply = manager.post_multipart(&path, &[("body", "Fixed, please check.")], &[]).await;
    assert_eq!(reply.status, 303);
    let got = sink.wait_for(2).await;
    let second = &got[1];
    assert_eq!(second["to"], serde_json::json!([shop.email]));
    assert!(field(second, "text").contains("Fixed, please check."));
    assert!(field(second, "text").contains(&format!("https://desk.example.com/affiliate/tickets/{ticket}")));
    for m in &got {
        let all = m.to_string();
        assert!(!all.contains("Secret"), "an internal note reached an email: {all}");
    }
    assert_ne!(first["message_id"], second["message_id"]);

    // The affiliate switches replies off: the next reply sends nothing; a close still does.
    affiliate.get("/affiliate/profile").await;
    let saved = affiliate
        .post("/affiliate/profile/notifications", &[("email", "ticket_closed"), ("email", "request_decided")])
        .await;
    assert_eq!(saved.status, 303);
    let page = affiliate.get("/affiliate/profile").await;
    assert!(!page.contains("value=\"manager_reply\" checked"), "the choice shows");
    manager.post_multipart(&path, &[("body", "One more thing.")], &[]).await;
    let closed = manager.post_multipart(&path, &[("body", ""), ("action", "close")], &[]).await;
    assert_eq!(closed.status, 303);
    let got = sink.wait_for(3).await;
    assert!(field(&got[2], "subject").starts_with("Ticket closed"), "{}", got[2]);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let got = sink.messages();
    assert_eq!(got.len(), 3, "no email for the switched-off reply: {got:#?}");
    assert!(!got.iter().any(|m| m.to_string().contains("One more thing.")));
    wait_until("every email marked sent", || app.outbox().iter().all(|m| m.state == OutboxState::Sent)).await;
});

mail_test!(a_decision_and_its_reply_are_one_email_and_a_bulk_decision_one_per_affiliate, |app, sink| {
    let boss = app.with_admin("boss@network.test");
    let (maria, shop) = team(&app);
    let offers: Vec<_> = (0..3).map(|n| app.with_offer(&boss, &format!("Offer {n}"))).collect();
    let [first, second, third] = [0, 1, 2].map(|n| app.as_affiliate(&shop).asks_for(offers[n], "Please").0);
    let asked = sink.wait_for(3).await;
    assert!(asked.iter().all(|m| m["to"] == serde_json::json!([maria.email])), "the manager heard of each");
    let mut manager = app.browser_as(&maria).await;
    // "Approve and send": one email, the decision in its subject, the reply in it.
    manager.get(&format!("/admin/tickets/{first}")).await;
    let sent = manager
        .post_multipart(
            &format!("/admin/tickets/{first}/messages"),
            &[("body", "Approved: the cap is 50 a day."), ("then", "approve")],
            &[],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let got = sink.wait_for(4).await;
    assert_eq!(got[3]["to"], serde_json::json!([shop.email]));
    assert!(
        field(&got[3], "subject").contains(&format!("#{first}")) && field(&got[3], "subject").ends_with("was approved")
    );
    assert!(field(&got[3], "text").contains("Approved: the cap is 50 a day."));
    // Bulk Activate of two of their requests: one email naming both.
    manager.get("/admin/tickets").await;
    let ids = [("action", "activate"), ("ids", &second.to_string()[..]), ("ids", &third.to_string()[..])];
    assert_eq!(manager.post("/admin/tickets/bulk", &ids).await.status, 303);
    let got = sink.wait_for(5).await;
    assert_eq!(field(&got[4], "subject"), "2 of your requests were approved");
    let body = field(&got[4], "text");
    assert!(body.contains(&format!("#{second} ")) && body.contains(&format!("#{third} ")), "{body}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sink.messages().len(), 5, "no second email for any of these: {:#?}", sink.messages());
});

mail_test!(a_refused_recipient_is_marked_failed_with_the_answer, |app, sink| {
    let boss = app.with_admin("boss@network.test");
    let maria = app.with_manager("maria@network.test");
    let bounce = app.with_affiliate_of(&maria, "bounce@affdesk.test");
    let ticket = app.as_affiliate(&bounce).asks("Payout", "Where is March?").0;
    let mut manager = app.browser_as(&maria).await;
    manager.get(&format!("/admin/tickets/{ticket}")).await;
    manager.post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "Hello")], &[]).await;
    wait_until("the email to fail", || in_state(&app, OutboxState::Failed) == 1).await;
    let failed: Mail = app.outbox().into_iter().find(|m| m.state == OutboxState::Failed).unwrap();
    let error = failed.last_error.clone().unwrap_or_default();
    assert!(error.contains("550") || error.contains("No such mailbox"), "{error}");
    let bounced = serde_json::json!(["bounce@affdesk.test"]);
    assert!(!sink.messages().iter().any(|m| m["to"] == bounced), "nothing reached the bounce");
    // Admins see it with the reason, and can send it again; managers cannot see it.
    let mut admin = app.browser_as(&boss).await;
    let page = admin.get("/admin/outbox?state=failed").await;
    assert!(page.contains("bounce@affdesk.test") && page.contains("No such mailbox"), "{}", page.body);
    assert!(page.contains("Reply, to the affiliate"), "the kind in words");
    let retried = admin.post(&format!("/admin/outbox/{}/retry", failed.id), &[]).await;
    assert_eq!(retried.status, 303);
    wait_until("the retry to fail again", || {
        app.outbox().iter().any(|m| m.id == failed.id && m.attempts >= 1 && m.state == OutboxState::Failed)
    })
    .await;
    assert_eq!(manager.get("/admin/outbox").await.status, 403);
});

db_test!(while_smtp_is_down_the_outbox_keeps_every_email_and_sends_each_once, needs_smtp, |app| {
    // The app above has no SMTP server; this one sends to a port where none listens yet.
    if !crate::smtp::available() {
        return;
    }
    let port = free_port();
    let backend = app.backend;
    drop(app);
    let Some(app) = start(backend, with_smtp(format!("smtp://127.0.0.1:{port}"))).await else { return };
    let (maria, shop) = team(&app);
    let mut manager = app.browser_as(&maria).await;
    for n in 0..3 {
        let ticket = app.as_affiliate(&shop).asks(&format!("Question {n}"), "Any news?").0;
        manager.get(&format!("/admin/tickets/{ticket}")).await;
        let sent = manager
            .post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", &format!("Reply {n}"))], &[])
            .await;
        assert_eq!(sent.status, 303);
    }
    // Three new tickets to the manager, three replies to the affiliate.
    let queued = app.outbox().len();
    assert_eq!(queued, 6);
    wait_until("a failed attempt at each", || app.outbox().iter().all(|m| m.attempts >= 1 && m.last_error.is_some()))
        .await;
    assert_eq!(in_state(&app, OutboxState::Pending), queued, "kept, not dropped");
    // The server comes back: each email arrives once.
    let sink = SmtpSink::start_on(port);
    let got = sink.wait_for(queued).await;
    wait_until("all marked sent", || in_state(&app, OutboxState::Sent) == queued).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got_later = sink.messages();
    assert_eq!(got_later.len(), queued, "each email once: {got:#?}");
    let mut ids: Vec<&str> = got_later.iter().map(|m| field(m, "message_id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), queued);
});

db_test!(a_sender_killed_before_marking_sends_at_most_once_more_with_the_same_id, needs_smtp, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    let backend = app.backend;
    drop(app);
    // No sender in the app: this test plays the senders itself.
    let Some(app) = start(backend, |c| c.mail.public_url = "https://desk.example.com".into()).await else { return };
    let (_maria, shop) = team(&app);
    // The new ticket's email to the manager: the one email there is.
    app.as_affiliate(&shop).asks("Once", "Only one email.");
    let config = affdesk::mail::MailConfig {
        smtp_url: Some(sink.url()),
        from: "affdesk <affdesk@localhost>".into(),
        public_url: "https://desk.example.com".into(),
        attempts: 8,
        retry_after: Duration::from_secs(1),
        poll: Duration::from_millis(200),
        lease: Duration::from_secs(1),
    };
    let smtp = affdesk::mail::transport(&sink.url()).unwrap();
    // A sender takes the email and sends it, then dies before marking it.
    let claimed = {
        let mut conn = app.conn();
        outbox::claim_due(&mut conn, now(), chrono::Duration::seconds(1), 10).unwrap()
    };
    assert_eq!(claimed.len(), 1);
    use lettre::AsyncTransport;
    smtp.send(affdesk::mail::compose(&claimed[0], &config).unwrap()).await.unwrap();
    // Another sender finds it after the lease and sends it again, once, with the same id.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(affdesk::mail::send_due(&app.pool, &smtp, &config).await.unwrap(), 1);
    assert_eq!(affdesk::mail::send_due(&app.pool, &smtp, &config).await.unwrap(), 0, "nothing left to send");
    let got = sink.wait_for(2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["message_id"], got[1]["message_id"]);
    assert_eq!(app.outbox().iter().map(|m| m.state).collect::<Vec<_>>(), vec![OutboxState::Sent]);
});

db_test!(without_smtp_the_outbox_fills_and_admins_see_it, |app| {
    let boss = app.with_admin("boss@network.test");
    let (maria, shop) = team(&app);
    let ticket = app.as_affiliate(&shop).asks("Payout", "Where is March?").0;
    let mut manager = app.browser_as(&maria).await;
    manager.get(&format!("/admin/tickets/{ticket}")).await;
    manager.post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "Queued")], &[]).await;
    // The new ticket's email to the manager and the reply's to the affiliate.
    assert_eq!(in_state(&app, OutboxState::Pending), 2);
    let mut admin = app.browser_as(&boss).await;
    let page = admin.get("/admin/outbox").await;
    assert!(page.contains("Email is off") && page.contains(&shop.email), "{}", page.body);
    // The command line lists them and queues a retry.
    if app.backend == Backend::Sqlite {
        let db = format!("sqlite://{}", app.data_dir.join("affdesk.db").display());
        let run = |args: &[&str]| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_affdesk"))
                .args(["--database-url", &db])
                .args(args)
                .output()
                .unwrap();
            (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string())
        };
        let (ok, listed) = run(&["outbox"]);
        assert!(ok && listed.contains("pending: 2") && listed.contains(&shop.email), "{listed}");
        let id = app.outbox()[0].id;
        let (ok, said) = run(&["outbox", "--retry", &id.to_string()]);
        assert!(ok && said.contains("will be sent again"), "{said}");
        let (ok, failed) = run(&["outbox", "--failed"]);
        assert!(ok && !failed.contains(&shop.email), "{failed}");
    }
    // The bulk close of many tickets writes one email per affiliate, naming each of
    // their tickets, in one go (banned affiliates get none, nor those who switched
    // closing emails off), and one live event and one audit entry per ticket.
    let several = app.with_affiliate_of(&maria, "several@partners.test");
    let quiet = app.with_affiliate_of(&maria, "quiet@partners.test");
    let banned = app.with_affiliate_of(&maria, "banned@partners.test");
    let theirs = [app.as_affiliate(&several).asks("One", "First."), app.as_affiliate(&several).asks("Two", "Second.")];
    app.as_affiliate(&quiet).asks("Three", "Third.");
    app.as_affiliate(&banned).asks("Four", "Fourth.");
    app.switches_off(&quiet, &[MailEvent::TicketClosed]);
    app.ban(&maria, &banned);
    let open = app.find(Find { status: Some(TicketStatus::Open), kind: Some(TicketKind::General), ..Find::default() });
    assert_eq!(open.len(), 5);
    // Told: the shop and the affiliate with several tickets.
    let told = 2;
    let before = app.outbox().len();
    let events_before = app.live_events();
    let audits_before = app.audited(AuditAction::Close, None);
    let mut form: Vec<(&str, String)> = vec![("action", "close".into())];
    form.extend(open.iter().map(|t| ("ids", t.0.to_string())));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin.get("/admin/tickets").await;
    admin.post("/admin/tickets/bulk", &fields).await;
    assert_eq!(app.outbox().len(), before + told);
    assert_eq!(app.live_events(), events_before + open.len());
    assert_eq!(app.audited(AuditAction::Close, None), audits_before + open.len() as i64);
    assert!(app.find(Find { status: Some(TicketStatus::Open), ..Find::default() }).is_empty());
    let closing = |to: &AffiliateAccount| -> Vec<Mail> {
        app.outbox().into_iter().filter(|m| m.event == MailEvent::TicketClosed && m.recipient_id == to.id).collect()
    };
    assert!(closing(&quiet).is_empty(), "an affiliate who switched closing emails off got one");
    assert!(closing(&banned).is_empty(), "a banned affiliate got one");
    let digest = closing(&several);
    assert_eq!(digest.len(), 1, "one email for all their tickets");
    assert_eq!(digest[0].ticket_count, 2);
    for t in &theirs {
        assert!(digest[0].body.contains(&format!("#{} ", t.0)), "#{} listed: {}", t.0, digest[0].body);
    }
});

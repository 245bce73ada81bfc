//! Email notifications through the outbox, delivered to a real SMTP server: who
//! gets what, that internal notes never leave, opt-outs, an SMTP server that is
//! down and comes back, a sender killed between sending and marking, and
//! permanent refusals marked failed with the server's answer.

use std::time::Duration;

use affdesk::config::Config;
use affdesk::domain::now;
use affdesk::domain::outbox;
use serde_json::Value;

use crate::db_test;
use crate::harness::{Backend, TestApp};
use crate::smtp::{SmtpSink, free_port};
use crate::support::*;

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

mail_test!(each_change_emails_whoever_should_hear_of_it, |app, sink| {
    app.seed_demo();
    let manager_email =
        text(&app, "SELECT u.email AS t FROM users u JOIN affiliates a ON a.manager_id = u.id WHERE a.id = 1");
    // The affiliate opens a ticket: their manager hears of it.
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    affiliate.get("/affiliate/tickets/new").await;
    let opened = affiliate
        .post_multipart(
            "/affiliate/tickets",
            &[("type", "technical"), ("title", "Postback & <tags> broken"), ("body", "Since 9:00 no postbacks.")],
            &[],
        )
        .await;
    assert_eq!(opened.status, 303);
    let ticket = scalar(&app, "SELECT MAX(id) AS n FROM tickets");
    let got = sink.wait_for(1).await;
    let first = &got[0];
    assert_eq!(first["to"], serde_json::json!([manager_email]));
    assert!(field(first, "subject").contains("Postback & <tags> broken"), "{first}");
    assert!(field(first, "text").contains("Since 9:00 no postbacks."));
    assert!(field(first, "text").contains(&format!("https://desk.example.com/admin/tickets/{ticket}")));
    assert!(field(first, "html").contains(&format!("href=\"https://desk.example.com/admin/tickets/{ticket}\"")));
    let html = field(first, "html");
    assert!(html.contains("Postback &#38; &#60;tags&#62; broken") && !html.contains("<tags>"), "escaped: {html}");

    // An internal note tells nobody; the reply tells the affiliate, without the note.
    let mut manager = app.login_admin(&manager_email).await;
    manager.get(&format!("/admin/tickets/{ticket}")).await;
    let path = format!("/admin/tickets/{ticket}/messages");
    let note =
        manager.post_multipart(&path, &[("body", "Secret: the advertiser is late"), ("internal", "1")], &[]).await;
    assert_eq!(note.status, 303);
    let reply = manager.post_multipart(&path, &[("body", "Fixed, please check.")], &[]).await;
    assert_eq!(reply.status, 303);
    let got = sink.wait_for(2).await;
    let second = &got[1];
    assert_eq!(second["to"], serde_json::json!(["affiliate1@affdesk.test"]));
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
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM outbox WHERE state <> 'sent'"), 0);
});

mail_test!(a_decision_and_its_reply_are_one_email_and_a_bulk_decision_one_per_affiliate, |app, sink| {
    app.seed_demo();
    let pending = |affiliate: i64| {
        ids_where(&app, &format!("request_state = 'pending' AND type = 'offer_request' AND affiliate_id = {affiliate}"))
    };
    // An affiliate with two pending requests, and another with one.
    let two = scalar(
        &app,
        "SELECT t.affiliate_id AS n FROM tickets t JOIN affiliates a ON a.id = t.affiliate_id \
         WHERE t.request_state = 'pending' AND t.type = 'offer_request' AND a.status <> 'banned' \
         GROUP BY t.affiliate_id HAVING COUNT(*) > 2 ORDER BY t.affiliate_id LIMIT 1",
    );
    let email = text(&app, &format!("SELECT email AS t FROM affiliates WHERE id = {two}"));
    let [first, second, third] = pending(two)[..3] else { panic!("three pending requests") };
    let mut admin = app.login_admin("admin@affdesk.test").await;
    // "Approve and send": one email, the decision in its subject, the reply in it.
    admin.get(&format!("/admin/tickets/{first}")).await;
    let sent = admin
        .post_multipart(
            &format!("/admin/tickets/{first}/messages"),
            &[("body", "Approved: the cap is 50 a day."), ("then", "approve")],
            &[],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let got = sink.wait_for(1).await;
    assert_eq!(got[0]["to"], serde_json::json!([email]));
    assert!(
        field(&got[0], "subject").contains(&format!("#{first}")) && field(&got[0], "subject").ends_with("was approved")
    );
    assert!(field(&got[0], "text").contains("Approved: the cap is 50 a day."));
    // Bulk Activate of two of their requests: one email naming both.
    admin.get("/admin/tickets").await;
    let ids = [("action", "activate"), ("ids", &second.to_string()[..]), ("ids", &third.to_string()[..])];
    assert_eq!(admin.post("/admin/tickets/bulk", &ids).await.status, 303);
    let got = sink.wait_for(2).await;
    assert_eq!(field(&got[1], "subject"), "2 of your requests were approved");
    let body = field(&got[1], "text");
    assert!(body.contains(&format!("#{second} ")) && body.contains(&format!("#{third} ")), "{body}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sink.messages().len(), 2, "no second email for any of these: {:#?}", sink.messages());
});

mail_test!(a_refused_recipient_is_marked_failed_with_the_answer, |app, sink| {
    app.seed_demo();
    let ticket = ids_where(&app, "affiliate_id = 2 AND status = 'open'")[0];
    {
        use diesel::prelude::*;
        let mut conn = app.conn();
        diesel::sql_query("UPDATE affiliates SET email = 'bounce@affdesk.test' WHERE id = 2")
            .execute(&mut *conn as &mut affdesk::db::AnyConnection)
            .unwrap();
    }
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get(&format!("/admin/tickets/{ticket}")).await;
    admin.post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "Hello")], &[]).await;
    wait_until("the email to fail", || scalar(&app, "SELECT COUNT(*) AS n FROM outbox WHERE state = 'failed'") == 1)
        .await;
    let error = text(&app, "SELECT last_error AS t FROM outbox WHERE state = 'failed'");
    assert!(error.contains("550") || error.contains("No such mailbox"), "{error}");
    assert!(sink.messages().is_empty());
    // Admins see it with the reason, and can send it again; managers cannot see it.
    let page = admin.get("/admin/outbox?state=failed").await;
    assert!(page.contains("bounce@affdesk.test") && page.contains("No such mailbox"), "{}", page.body);
    assert!(page.contains("Reply, to the affiliate"), "the kind in words");
    let id = scalar(&app, "SELECT id AS n FROM outbox WHERE state = 'failed'");
    let retried = admin.post(&format!("/admin/outbox/{id}/retry"), &[]).await;
    assert_eq!(retried.status, 303);
    wait_until("the retry to fail again", || {
        scalar(&app, &format!("SELECT CAST(attempts AS BIGINT) AS n FROM outbox WHERE id = {id}")) >= 1
            && text(&app, &format!("SELECT state AS t FROM outbox WHERE id = {id}")) == "failed"
    })
    .await;
    let mut manager = app.login_admin("manager1@affdesk.test").await;
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
    app.seed_demo();
    let tickets = ids_where(&app, "affiliate_id = 1 AND status = 'open'");
    let mut admin = app.login_admin("admin@affdesk.test").await;
    for (n, ticket) in tickets.iter().take(3).enumerate() {
        admin.get(&format!("/admin/tickets/{ticket}")).await;
        let sent = admin
            .post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", &format!("Reply {n}"))], &[])
            .await;
        assert_eq!(sent.status, 303);
    }
    wait_until("a failed attempt", || {
        scalar(&app, "SELECT COUNT(*) AS n FROM outbox WHERE attempts >= 1 AND last_error IS NOT NULL") >= 3
    })
    .await;
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'"), 3, "kept, not dropped");
    // The server comes back: each email arrives once.
    let sink = SmtpSink::start_on(port);
    let got = sink.wait_for(3).await;
    wait_until("all marked sent", || scalar(&app, "SELECT COUNT(*) AS n FROM outbox WHERE state = 'sent'") == 3).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got_later = sink.messages();
    assert_eq!(got_later.len(), 3, "each email once: {got:#?}");
    let mut ids: Vec<&str> = got_later.iter().map(|m| field(m, "message_id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
});

db_test!(a_sender_killed_before_marking_sends_at_most_once_more_with_the_same_id, needs_smtp, |app| {
    let Some(sink) = SmtpSink::start() else { return };
    let backend = app.backend;
    drop(app);
    // No sender in the app: this test plays the senders itself.
    let Some(app) = start(backend, |c| c.mail.public_url = "https://desk.example.com".into()).await else { return };
    app.seed_demo();
    let ticket = ids_where(&app, "affiliate_id = 1 AND status = 'open'")[0];
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get(&format!("/admin/tickets/{ticket}")).await;
    admin.post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "Once")], &[]).await;
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
    assert_eq!(text(&app, "SELECT state AS t FROM outbox"), "sent");
});

db_test!(without_smtp_the_outbox_fills_and_admins_see_it, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "affiliate_id = 1 AND status = 'open'")[0];
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get(&format!("/admin/tickets/{ticket}")).await;
    admin.post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "Queued")], &[]).await;
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'"), 1);
    let page = admin.get("/admin/outbox").await;
    assert!(page.contains("Email is off") && page.contains("affiliate1@affdesk.test"), "{}", page.body);
    // The command line lists it and queues a retry.
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
        assert!(ok && listed.contains("pending: 1") && listed.contains("affiliate1@affdesk.test"), "{listed}");
        let id = scalar(&app, "SELECT id AS n FROM outbox");
        let (ok, said) = run(&["outbox", "--retry", &id.to_string()]);
        assert!(ok && said.contains("will be sent again"), "{said}");
        let (ok, failed) = run(&["outbox", "--failed"]);
        assert!(ok && !failed.contains("affiliate1@affdesk.test"), "{failed}");
    }
    // The bulk close of many tickets writes one email per affiliate, naming each of
    // their tickets, in one go (banned affiliates get none, nor those who switched
    // closing emails off), and one live event and one audit entry per ticket.
    let open = ids_where(&app, "status = 'open' AND type = 'general'");
    let quiet = scalar(&app, &format!("SELECT affiliate_id AS n FROM tickets WHERE id = {}", open[0]));
    {
        use diesel::RunQueryDsl;
        let mut conn = app.conn();
        diesel::sql_query(format!(
            "INSERT INTO notification_optouts (recipient_kind, recipient_id, event) VALUES ('affiliate', {quiet}, 'ticket_closed')"
        ))
        .execute(&mut *conn as &mut affdesk::db::AnyConnection)
        .unwrap();
    }
    let before = scalar(&app, "SELECT COUNT(*) AS n FROM outbox");
    let events_before = scalar(&app, "SELECT COUNT(*) AS n FROM live_events");
    let audits_before = scalar(&app, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'close'");
    let told = scalar(
        &app,
        &format!(
            "SELECT COUNT(DISTINCT t.affiliate_id) AS n FROM tickets t JOIN affiliates a ON a.id = t.affiliate_id \
             WHERE t.status = 'open' AND t.type = 'general' AND a.status <> 'banned' AND a.id <> {quiet}"
        ),
    );
    assert!(told > 0 && told < open.len() as i64, "{told} of {}", open.len());
    // An affiliate with several of these tickets, to read their one email.
    let several = scalar(
        &app,
        &format!(
            "SELECT t.affiliate_id AS n FROM tickets t JOIN affiliates a ON a.id = t.affiliate_id \
             WHERE t.status = 'open' AND t.type = 'general' AND a.status <> 'banned' AND a.id <> {quiet} \
             GROUP BY t.affiliate_id HAVING COUNT(*) > 1 ORDER BY t.affiliate_id LIMIT 1"
        ),
    );
    let theirs = ids_where(&app, &format!("status = 'open' AND type = 'general' AND affiliate_id = {several}"));
    let mut form: Vec<(&str, String)> = vec![("action", "close".into())];
    form.extend(open.iter().map(|id| ("ids", id.to_string())));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin.get("/admin/tickets").await;
    admin.post("/admin/tickets/bulk", &fields).await;
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM outbox"), before + told);
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM live_events"), events_before + open.len() as i64);
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'close'"),
        audits_before + open.len() as i64
    );
    assert_eq!(ids_where(&app, "status = 'open' AND type = 'general'"), Vec::<i64>::new());
    let mailed = scalar(
        &app,
        &format!("SELECT COUNT(*) AS n FROM outbox WHERE event = 'ticket_closed' AND recipient_id = {quiet}"),
    );
    assert_eq!(mailed, 0, "an affiliate who switched closing emails off got one");
    let digest = format!("FROM outbox WHERE event = 'ticket_closed' AND recipient_id = {several}");
    assert_eq!(scalar(&app, &format!("SELECT COUNT(*) AS n {digest}")), 1, "one email for all their tickets");
    assert_eq!(scalar(&app, &format!("SELECT CAST(ticket_count AS BIGINT) AS n {digest}")), theirs.len() as i64);
    let body = text(&app, &format!("SELECT body AS t {digest}"));
    for id in &theirs {
        assert!(body.contains(&format!("#{id} ")), "#{id} listed: {body}");
    }
});

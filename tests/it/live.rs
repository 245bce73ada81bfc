//! Live updates over Server-Sent Events: a manager hears of their affiliates'
//! tickets within a second and never of another manager's; a reconnect catches up
//! from `Last-Event-ID`; a thread hears its messages and who is typing; nobody
//! listens to a ticket they may not see.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db_test;
use crate::harness::{Client, TestApp};
use crate::support::*;

/// An open event stream, read in the background.
struct Stream {
    text: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listen(app: &TestApp, client: &Client, path: &str, last_event: Option<i64>) -> Stream {
    let mut req = client.http.get(app.url(path));
    if let Some(id) = last_event {
        req = req.header("Last-Event-ID", id.to_string());
    }
    let mut resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    let task = actix_web::rt::spawn(async move {
        while let Ok(Some(chunk)) = resp.chunk().await {
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    Stream { text, task }
}

impl Stream {
    fn now(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Whether `needle` arrives within `within`.
    async fn hears(&self, needle: &str, within: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < within {
            if self.now().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// The id of the last event received.
    fn last_id(&self) -> i64 {
        self.now().lines().filter_map(|l| l.strip_prefix("id: ")).filter_map(|v| v.parse().ok()).max().unwrap_or(0)
    }
}

async fn open_ticket(app: &TestApp, affiliate: i64, title: &str) -> i64 {
    let email = text(app, &format!("SELECT email AS t FROM affiliates WHERE id = {affiliate}"));
    let mut c = app.login_affiliate(&email).await;
    c.get("/affiliate/tickets/new").await;
    let page =
        c.post_multipart("/affiliate/tickets", &[("type", "general"), ("title", title), ("body", "Hello")], &[]).await;
    assert_eq!(page.status, 303, "{}", page.body);
    scalar(app, &format!("SELECT MAX(id) AS n FROM tickets WHERE affiliate_id = {affiliate}"))
}

fn active_affiliate_of(app: &TestApp, manager_email: &str) -> i64 {
    scalar(
        app,
        &format!(
            "SELECT MIN(a.id) AS n FROM affiliates a JOIN users u ON u.id = a.manager_id \
             WHERE u.email = '{manager_email}' AND a.status = 'active'"
        ),
    )
}

db_test!(a_manager_hears_of_their_affiliates_tickets_and_no_others, |app| {
    app.seed_demo();
    let mine = active_affiliate_of(&app, "manager1@affdesk.test");
    let theirs = active_affiliate_of(&app, "manager2@affdesk.test");
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    let list = manager.get("/admin/tickets").await;
    assert!(list.contains("sse-connect=\"/admin/events?since="), "the list listens");
    let stream = listen(&app, &manager, "/admin/events?list=status%3Dopen", None).await;

    let ticket = open_ticket(&app, mine, "Live one").await;
    assert!(stream.hears(&format!("\"ticket\":{ticket}"), Duration::from_secs(1)).await, "{}", stream.now());
    assert!(stream.hears("1 new or updated ticket — show", Duration::from_secs(1)).await);
    assert!(
        stream.hears("event: unread\ndata: <span class=\"nav-count\"", Duration::from_secs(1)).await,
        "the unread count"
    );
    assert!(stream.now().contains("href=\"/admin/tickets?status=open\""), "the banner shows the list as it was");
    let other = open_ticket(&app, theirs, "Not for manager1").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !stream.now().contains(&format!("\"ticket\":{other}")),
        "another manager's ticket leaked: {}",
        stream.now()
    );
    assert!(!stream.now().contains("Not for manager1"));

    // Disconnected, the manager misses a reply; reconnecting with Last-Event-ID catches up.
    let seen = stream.last_id();
    drop(stream);
    let email = text(&app, &format!("SELECT email AS t FROM affiliates WHERE id = {mine}"));
    let mut affiliate = app.login_affiliate(&email).await;
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    affiliate.post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &[("body", "More")], &[]).await;
    let again = listen(&app, &manager, "/admin/events", Some(seen)).await;
    assert!(again.hears(&format!("\"ticket\":{ticket}"), Duration::from_secs(1)).await, "{}", again.now());
    assert!(again.last_id() > seen);
});

db_test!(an_open_thread_hears_its_messages_and_who_is_typing, |app| {
    app.seed_demo();
    let mine = active_affiliate_of(&app, "manager1@affdesk.test");
    let ticket = open_ticket(&app, mine, "Typing test").await;
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    let page = manager.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(page.contains("sse-connect=\"/admin/events?since=") && page.contains(&format!("ticket={ticket}\"")));
    let stream = listen(&app, &manager, &format!("/admin/events?ticket={ticket}"), None).await;
    let email = text(&app, &format!("SELECT email AS t FROM affiliates WHERE id = {mine}"));
    let mut affiliate = app.login_affiliate(&email).await;
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    let typing = affiliate.post(&format!("/affiliate/tickets/{ticket}/typing"), &[]).await;
    assert_eq!(typing.status, 204);
    let name = text(&app, &format!("SELECT name AS t FROM affiliates WHERE id = {mine}"));
    assert!(stream.hears(&format!("{name} is replying…"), Duration::from_secs(1)).await, "{}", stream.now());
    affiliate.post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &[("body", "Live reply")], &[]).await;
    assert!(stream.hears(&format!("event: thread\ndata: {ticket}"), Duration::from_secs(1)).await);
    // The thread's changing parts, for the page to swap in, hold the reply.
    let parts = manager.htmx_get(&format!("/admin/tickets/{ticket}/live")).await;
    assert!(parts.contains("Live reply") && parts.contains("hx-swap-oob=\"true\""));

    // A manager's internal note and typing are for managers: the affiliate hears neither.
    let theirs = listen(&app, &affiliate, &format!("/affiliate/events?ticket={ticket}"), None).await;
    manager.get(&format!("/admin/tickets/{ticket}")).await;
    manager.post(&format!("/admin/tickets/{ticket}/typing"), &[]).await;
    manager
        .post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "note"), ("internal", "1")], &[])
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!theirs.now().contains("event: thread") && !theirs.now().contains("is replying"), "{}", theirs.now());
    manager.post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "Public answer")], &[]).await;
    assert!(theirs.hears("event: thread", Duration::from_secs(1)).await, "the affiliate hears the answer");

    // Nobody listens to a ticket they may not see.
    let theirs_ticket = ids_where(&app, &format!("affiliate_id <> {mine}"))[0];
    let refused =
        affiliate.http.get(app.url(&format!("/affiliate/events?ticket={theirs_ticket}"))).send().await.unwrap();
    assert_eq!(refused.status(), 404);
});

db_test!(every_admin_page_shows_the_unread_count, |app| {
    app.seed_demo();
    let m1 = user_id(&app, "manager1@affdesk.test");
    let mut c = app.login_admin("manager1@affdesk.test").await;
    // A page without live events loads the count once; the list keeps it live.
    for path in ["/admin/templates", "/admin/stats/daily", "/admin/profile", "/admin/offers"] {
        let page = c.get(path).await;
        assert!(page.contains("id=\"unread-count\" hx-get=\"/admin/unread\""), "{path}");
    }
    assert!(c.get("/admin/tickets").await.contains("id=\"unread-count\" sse-swap=\"unread\""));
    let unread =
        scalar(&app, &format!("SELECT COUNT(*) AS n FROM tickets WHERE manager_id = {m1} AND unread_by_manager > 0"));
    assert!(unread > 0);
    let badge = c.get("/admin/unread").await;
    assert_eq!(badge.status, 200);
    let shown = if unread >= 100 { "99+".to_string() } else { unread.to_string() };
    assert!(badge.contains(&format!(">{shown}</span>")), "{} for {unread}", badge.body);
    // Nothing unread: no badge at all.
    {
        use diesel::RunQueryDsl;
        let mut conn = app.conn();
        diesel::sql_query(format!("UPDATE tickets SET unread_by_manager = 0 WHERE manager_id = {m1}"))
            .execute(&mut *conn as &mut affdesk::db::AnyConnection)
            .unwrap();
    }
    assert_eq!(c.get("/admin/unread").await.body, "");
});

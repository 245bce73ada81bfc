//! Live event streams re-check their session: a logged-out session, a disabled
//! user or affiliate stops hearing events within seconds. Streams are counted: a
//! session keeps its newest few, the instance refuses past its cap, and a flood of
//! streams from one cookie leaves `/healthz` answering.

use std::time::{Duration, Instant};

use crate::db_test;
use crate::desk::Find;
use crate::harness::{Backend, Client, TestApp};
use crate::support::*;

/// An open stream, read in the background: `ended` resolves when the server ends it.
struct Open {
    done: tokio::task::JoinHandle<()>,
}

async fn open(app: &TestApp, client: &Client, path: &str) -> Open {
    let mut resp = client.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    let done = actix_web::rt::spawn(async move { while let Ok(Some(_)) = resp.chunk().await {} });
    Open { done }
}

impl Open {
    /// Whether the server ends the stream within `within`.
    async fn ends_within(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, &mut self.done).await.is_ok()
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.done.abort();
    }
}

/// The check runs every 3 seconds; a stream ends within one round and a bit.
const WITHIN: Duration = Duration::from_secs(8);

db_test!(a_stream_ends_with_its_session_or_its_account, |app| {
    app.seed_demo();
    let ticket = app.find(Find { affiliate: Some(1), ..Find::default() })[0].0;
    // Logged out in another tab: the stream of that session ends.
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    let mut stream = open(&app, &manager, "/admin/events?list=").await;
    assert!(!stream.ends_within(Duration::from_millis(500)).await, "a live session's stream stays open");
    manager.get("/admin/tickets").await;
    manager.post("/admin/logout", &[]).await;
    assert!(stream.ends_within(WITHIN).await, "the logged-out session's stream ended");
    // A disabled user's streams end, whichever session they are in.
    let mut manager2 = app.login_admin("manager2@affdesk.test").await;
    let mut stream = open(&app, &manager2, "/admin/events?list=").await;
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get("/admin/people").await;
    let m2 = user_id(&app, "manager2@affdesk.test");
    assert_eq!(admin.post(&format!("/admin/people/{m2}/disable"), &[]).await.status, 303);
    assert!(stream.ends_within(WITHIN).await, "the disabled user's stream ended");
    assert_eq!(manager2.get("/admin/tickets").await.status, 303);
    // A disabled affiliate's thread stream ends too.
    let affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let mut stream = open(&app, &affiliate, &format!("/affiliate/events?since=0&ticket={ticket}")).await;
    admin.get("/admin/affiliates/1").await;
    assert_eq!(admin.post("/admin/affiliates/1/disable", &[]).await.status, 303);
    assert!(stream.ends_within(WITHIN).await, "the disabled affiliate's stream ended");
});

db_test!(a_session_keeps_its_newest_streams, |app| {
    app.seed_demo();
    let manager = app.login_admin("manager1@affdesk.test").await;
    let mut first = open(&app, &manager, "/admin/events?list=").await;
    let mut others = Vec::new();
    for _ in 0..4 {
        others.push(open(&app, &manager, "/admin/events?list=").await);
    }
    assert!(!first.ends_within(Duration::from_millis(300)).await, "five streams are allowed");
    let _sixth = open(&app, &manager, "/admin/events?list=").await;
    assert!(first.ends_within(Duration::from_secs(2)).await, "the sixth closed the oldest");
    for o in &mut others {
        assert!(!o.ends_within(Duration::from_millis(50)).await);
    }
});

#[actix_web::test]
async fn the_instance_refuses_streams_past_its_cap_and_a_flood_leaves_it_answering() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.max_streams = 3).await;
    app.seed_demo();
    let a = app.login_admin("manager1@affdesk.test").await;
    let b = app.login_admin("manager2@affdesk.test").await;
    let _kept = [
        open(&app, &a, "/admin/events?list=").await,
        open(&app, &a, "/admin/events?list=").await,
        open(&app, &b, "/admin/events?list=").await,
    ];
    let refused = b.http.get(app.url("/admin/events?list=")).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    drop(_kept);
    // A flood of streams from one cookie: each new one closes that session's oldest,
    // so the instance holds five of them and keeps answering.
    let app = TestApp::start_with(Backend::Sqlite, |c| c.max_streams = 50).await;
    app.seed_demo();
    let flood = app.login_admin("manager1@affdesk.test").await;
    let mut open_streams = Vec::new();
    for _ in 0..300 {
        let resp = flood.http.get(app.url("/admin/events?list=")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        open_streams.push(resp);
    }
    let started = Instant::now();
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2), "/healthz answered in {:?}", started.elapsed());
    let other = app.login_admin("manager2@affdesk.test").await;
    let resp = other.http.get(app.url("/admin/events?list=")).send().await.unwrap();
    assert_eq!(resp.status(), 200, "another person still gets a stream");
}

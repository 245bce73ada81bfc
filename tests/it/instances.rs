//! Several instances on one database, with attachments in a real S3-compatible
//! server (moto): files stored as objects and nowhere else, uploaded through one
//! instance and downloaded through another, refused uploads and removed tickets
//! leaving no object, orphans swept; one login for all instances; the API limit
//! counted for the deployment; live events crossing instances; instances started
//! at once migrating once; health and readiness.

use std::time::Duration;

use affdesk::domain::states::TicketStatus;

use crate::desk::Find;
use crate::harness::{Backend, TestApp};
use crate::s3::S3Server;
use crate::support::*;

/// A small real PNG.
const PNG: &[u8] = crate::support::PNG;

async fn app_with_s3(
    backend: Backend,
    s3: &S3Server,
    tweak: impl FnOnce(&mut affdesk::config::Config),
) -> Option<TestApp> {
    if backend == Backend::Postgres && std::env::var("TEST_POSTGRES_URL").is_err() {
        assert!(std::env::var("CI").is_err(), "CI must set TEST_POSTGRES_URL");
        return None;
    }
    let storage = s3.storage();
    Some(
        TestApp::start_with(backend, move |c| {
            c.storage = Some(storage);
            tweak(c)
        })
        .await,
    )
}

fn local_files(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|e| e.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    walk(&app.data_dir.join("attachments")) + walk(&app.data_dir.join("uploads"))
}

async fn attachments_live_in_the_bucket(backend: Backend) {
    let Some(mut s3) = S3Server::start().await else { return };
    let Some(app) = app_with_s3(backend, &s3, |_| {}).await else { return };
    app.seed_demo();
    let ticket = app.find(Find { affiliate: Some(1), status: Some(TicketStatus::Open), ..Find::default() })[0].0;
    let mut manager = app.login_admin("admin@affdesk.test").await;
    manager.get(&format!("/admin/tickets/{ticket}")).await;
    let sent = manager
        .post_multipart(
            &format!("/admin/tickets/{ticket}/messages"),
            &[("body", "The report")],
            &[("report.png", PNG.to_vec())],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let keys = s3.keys().await;
    let stored = app.newest_attachment_file().1;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].ends_with(&stored), "{keys:?} holds {stored}");
    assert_eq!(local_files(&app), 0, "nothing stays on the instance's disk");
    // The affiliate downloads the very bytes.
    let id = app.newest_attachment();
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let resp = affiliate.http.get(app.url(&format!("/affiliate/attachments/{id}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], PNG.len().to_string().as_str());
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);
    // A refused upload leaves no object and no row.
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    let refused = affiliate
        .post_multipart(
            &format!("/affiliate/tickets/{ticket}/messages"),
            &[("body", "fake")],
            &[("fake.png", b"not a picture".to_vec())],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(s3.keys().await.len(), 1);
    assert_eq!(app.attachments_stored(), 1);
    // Removing the ticket removes its object.
    manager.get("/admin/tickets").await;
    let removed = manager
        .post("/admin/tickets/bulk", &[("action", "remove"), ("ids", &ticket.to_string()), ("confirm", "1")])
        .await;
    assert_eq!(removed.status, 303);
    assert!(s3.keys().await.is_empty(), "the object went with its ticket");
    // An object no row names (a crash between upload and commit) is swept.
    let orphan = format!("{}/{}", "ab", "ab".repeat(16));
    let put = reqwest::Client::new()
        .put(format!("{}/{}/{orphan}", s3.endpoint(), s3.bucket))
        .body("left behind")
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let store = affdesk::config::open_store_at(Some(&s3.storage()), &app.data_dir).unwrap();
    let swept = {
        let mut conn = app.conn();
        affdesk::domain::attachments::sweep_orphans(&mut conn, store.as_ref(), Duration::ZERO).unwrap()
    };
    assert_eq!(swept, 1);
    assert!(s3.keys().await.is_empty());
    drop(store);
    // Health follows the bucket.
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    s3.stop();
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 503, "the bucket is gone");
}

#[actix_web::test]
#[cfg_attr(no_moto, ignore = "needs moto, an S3 server: set AFFDESK_MOTO_SERVER (see .ci/run)")]
async fn attachments_live_in_the_bucket_sqlite() {
    attachments_live_in_the_bucket(Backend::Sqlite).await;
}

#[actix_web::test]
#[cfg_attr(no_moto, ignore = "needs moto, an S3 server: set AFFDESK_MOTO_SERVER (see .ci/run)")]
#[cfg_attr(all(no_postgres, not(no_moto)), ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
async fn attachments_live_in_the_bucket_postgres() {
    attachments_live_in_the_bucket(Backend::Postgres).await;
}

/// Two instances on one PostgreSQL database and one bucket.
#[actix_web::test]
#[cfg_attr(no_moto, ignore = "needs moto, an S3 server: set AFFDESK_MOTO_SERVER (see .ci/run)")]
#[cfg_attr(all(no_postgres, not(no_moto)), ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
async fn two_instances_serve_as_one() {
    let Some(s3) = S3Server::start().await else { return };
    let Some(a) = app_with_s3(Backend::Postgres, &s3, |c| c.api_rate_limit = 5).await else { return };
    a.seed_demo();
    let storage = s3.storage();
    let b = a
        .another_instance(move |c| {
            c.storage = Some(storage);
            c.api_rate_limit = 5;
        })
        .await;
    // One login works on both: the session is in the database.
    let mut on_a = a.login_admin("admin@affdesk.test").await;
    let ticket = ids_where(&a, "affiliate_id = 1 AND status = 'open'")[0];
    on_a.get(&format!("/admin/tickets/{ticket}")).await;
    let mut on_b = b.client();
    on_b.http = on_a.http.clone();
    let page = on_b.get(&format!("/admin/tickets/{ticket}")).await;
    assert_eq!(page.status, 200, "the session from A works on B");

    // A file uploaded through A downloads through B.
    let sent = on_a
        .post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "Via A")], &[("a.png", PNG.to_vec())])
        .await;
    assert_eq!(sent.status, 303);
    let id = a.newest_attachment();
    let got = on_a.http.get(b.url(&format!("/admin/attachments/{id}"))).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), PNG);

    // The API limit holds for both together: 5 a minute, alternating instances.
    let key = {
        let mut conn = a.conn();
        let u = affdesk::domain::users::User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
        affdesk::domain::users::User::issue_api_key(&mut conn, u.id).unwrap()
    };
    let http = reqwest::Client::new();
    let mut codes = Vec::new();
    let mut waits = Vec::new();
    for n in 0..7 {
        let base = if n % 2 == 0 { &a.base } else { &b.base };
        let resp = http.get(format!("{base}/3.0/admin/tickets?limit=1")).header("API-Key", &key).send().await.unwrap();
        codes.push(resp.status().as_u16());
        if let Some(wait) = resp.headers().get("Retry-After") {
            waits.push(wait.to_str().unwrap().parse::<u64>().unwrap());
        }
    }
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 5, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 2, "{codes:?}");
    // Refused within the minute that began with the first request: the rest of it.
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(waits.iter().all(|w| (55..=60).contains(w)), "{waits:?}");

    // A reply through A reaches a browser listening on B.
    let mut resp = on_a.http.get(b.url(&format!("/admin/events?ticket={ticket}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let heard = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = heard.clone();
    let reader = actix_web::rt::spawn(async move {
        while let Ok(Some(chunk)) = resp.chunk().await {
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let email = a.affiliate(&crate::desk::AffiliateAccount { id: 1, email: String::new() }).email;
    let mut affiliate = a.login_affiliate(&email).await;
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    affiliate.post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &[("body", "From A")], &[]).await;
    let started = std::time::Instant::now();
    while !heard.lock().unwrap().contains("event: thread") {
        assert!(started.elapsed() < Duration::from_secs(2), "B never heard: {}", heard.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    reader.abort();
}

/// The staff and the quick replies, which each instance keeps between pages: a
/// template saved through one instance, and a manager added from the command line,
/// show on the other instance's next pages.
#[actix_web::test]
#[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
async fn lookups_changed_elsewhere_show_on_every_instance() {
    let Some(a) = TestApp::start_postgres().await else { return };
    a.seed_demo();
    let b = a.another_instance(|_| {}).await;
    let mut on_a = a.login_admin("admin@affdesk.test").await;
    let mut on_b = b.client();
    on_b.http = on_a.http.clone();
    let ticket = ids_where(&a, "status = 'open'")[0];
    let thread = format!("/admin/tickets/{ticket}");
    // B reads (and keeps) both lists, once its listener is surely up (connecting, it
    // forgets what it kept: a change may have gone unheard).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!on_b.get(&thread).await.contains(">Sent from A</option>"));
    assert!(!on_b.get("/admin/tickets").await.contains(">Newly Hired ("));

    on_a.get("/admin/templates/new").await;
    let saved = on_a.post("/admin/templates", &[("title", "Sent from A"), ("body", "Hello")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    {
        // As `affdesk user add` does it: no instance is involved.
        let mut conn = a.conn();
        let role = affdesk::domain::states::Role::Manager;
        let (_, effects) =
            affdesk::domain::users::User::create(&mut conn, "hired@affdesk.test", "Newly Hired", role, "long-password")
                .unwrap()
                .into_parts();
        assert!(effects.changes_lookups(), "the change says what it asks of an instance");
    }
    let started = std::time::Instant::now();
    loop {
        let template = on_b.get(&thread).await.contains(">Sent from A</option>");
        let manager = on_b.get("/admin/tickets").await.contains(">Newly Hired (");
        if template && manager {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "B still shows the old lists: template {template}, manager {manager}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Instances started at the same moment on an empty database: one runs the
/// migrations, the other waits for it; both serve.
#[actix_web::test]
#[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
async fn instances_started_together_migrate_once() {
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").is_err(), "CI must set TEST_POSTGRES_URL");
        return;
    };
    use diesel::prelude::*;
    let name = format!("affdesk_race_{}", affdesk::domain::random_token(6));
    let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    let db = affdesk::db::DbUrl::Postgres(url.to_string());
    let starts: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || affdesk::open_database(&db, 2).map(|_| ()))
        })
        .collect();
    let results: Vec<_> = starts.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres")).unwrap().count();
    let pool = affdesk::db::build_pool(&db, 1).unwrap();
    let applied = scalar_on(&pool, "SELECT COUNT(*) AS n FROM __diesel_schema_migrations");
    assert_eq!(applied, migrations as i64);
    drop(pool);
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).unwrap();
}

fn scalar_on(pool: &affdesk::db::DbPool, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = pool.get().unwrap();
    diesel::sql_query(sql).get_result::<N>(&mut *conn as &mut affdesk::db::AnyConnection).unwrap().n
}

/// Behind a load balancer every request comes from its address: login throttling
/// counts the client's address from `X-Forwarded-For`, but only from a trusted proxy.
#[actix_web::test]
async fn login_throttling_counts_the_clients_behind_the_balancer() {
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.login_attempts = 2;
        c.login_attempts_per_address = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.seed_demo();
    // Two failures from one client (on different accounts) throttle that client only.
    assert_eq!(attempt(&app, "198.51.100.1", "manager1@affdesk.test").await, 401);
    assert_eq!(attempt(&app, "198.51.100.1", "manager2@affdesk.test").await, 401);
    assert_eq!(attempt(&app, "198.51.100.1", "manager3@affdesk.test").await, 429);
    assert_eq!(attempt(&app, "198.51.100.2", "admin@affdesk.test").await, 401, "another client behind the same proxy");
}

/// A failed login from `from`, as the balancer forwards it; the status.
async fn attempt(app: &TestApp, from: &str, email: &str) -> u16 {
    let mut c = app.client();
    c.get("/admin/login").await;
    let form = [("email", email), ("password", "wrong"), ("csrf_token", c.csrf.as_str())];
    let resp = c
        .http
        .post(app.url("/admin/login"))
        .header("X-Forwarded-For", format!("203.0.113.9, {from}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

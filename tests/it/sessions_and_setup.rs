//! The base: migrations, logins, sessions, CSRF, headers, demo data, health.

use affdesk::db::schema::{sessions, users};
use diesel::prelude::*;

use crate::db_test;
use crate::harness::{Backend, TestApp};
use crate::support::{Settle, ids_where, scalar, text};

#[test]
fn migration_folders_hold_the_same_versions() {
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
}

db_test!(migrations_create_every_table, |app| {
    for table in [
        "users",
        "affiliates",
        "offers",
        "smartlinks",
        "offer_access",
        "smartlink_access",
        "tickets",
        "messages",
        "attachments",
        "reply_templates",
        "daily_stats",
        "audit_log",
        "sessions",
    ] {
        assert_eq!(app.count(table), 0, "{table} exists and is empty");
    }
    // Running them again is a no-op.
    let mut conn = app.conn();
    assert_eq!(affdesk::db::run_migrations(&mut conn).unwrap(), 0);
    drop(conn);
    if app.backend == Backend::Postgres {
        // Autovacuum visits tickets after a hundredth of them changed, not a fifth,
        // so the list's deep pages stay reads of its indexes alone.
        let options =
            text(&app, "SELECT array_to_string(reloptions, ',') AS t FROM pg_class WHERE relname = 'tickets'");
        assert!(options.contains("autovacuum_vacuum_scale_factor=0.01"), "{options}");
        assert!(options.contains("autovacuum_vacuum_insert_scale_factor=0.01"), "{options}");
        // The API's request counts stay out of the write-ahead log.
        assert_eq!(text(&app, "SELECT relpersistence::text AS t FROM pg_class WHERE relname = 'api_usage'"), "u");
    }
});

db_test!(demo_seed_is_complete_and_idempotent, |app| {
    app.seed_demo();
    let tickets = app.count("tickets");
    assert_eq!(tickets, 200);
    assert_eq!(app.count("users"), 4);
    assert_eq!(app.count("affiliates"), 20);
    assert!(app.count("reply_templates") >= 10);
    assert!(app.count("daily_stats") >= 20 * 90);
    assert!(app.count("messages") >= 200);
    assert!(app.count("tickets WHERE type = 'offer_request' AND request_state = 'pending'") >= 5);
    assert!(app.count("tickets WHERE type = 'smartlink_request' AND request_state = 'pending'") >= 2);
    for kind in ["general", "financial", "technical", "other", "offer_request", "smartlink_request"] {
        assert!(app.count(&format!("tickets WHERE type = '{kind}'")) > 0, "tickets of type {kind}");
    }
    assert!(app.count("messages WHERE internal") > 0, "internal notes");
    assert!(app.count("messages WHERE author_kind = 'system'") > 0, "system messages");
    // Every affiliate has tickets, and each ticket's manager is its affiliate's.
    assert_eq!(app.count("affiliates a WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.affiliate_id = a.id)"), 0);
    assert_eq!(app.count("tickets t JOIN affiliates a ON a.id = t.affiliate_id WHERE t.manager_id <> a.manager_id"), 0);
    // affiliate1 has premoderated offers it has neither access to nor asked for.
    assert!(
        app.count(
            "offers o WHERE o.privacy = 'premoderated' AND o.status = 'active' \
             AND NOT EXISTS (SELECT 1 FROM offer_access x WHERE x.offer_id = o.id AND x.affiliate_id = 1) \
             AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.offer_id = o.id AND t.affiliate_id = 1)"
        ) >= 1
    );
    app.seed_demo();
    assert_eq!(app.count("tickets"), tickets, "seeding again adds nothing");
    assert_eq!(app.count("users"), 4);
    // New rows after explicit-id seeding still get fresh ids.
    let mut conn = app.conn();
    let user = affdesk::domain::users::User::create(
        &mut conn,
        "new@affdesk.test",
        "New",
        affdesk::domain::users::Role::Manager,
        "long-password",
    )
    .settled()
    .unwrap();
    assert!(user.id > 4);
});

// Whole-table rules of the demonstration data, so they are said in SQL.
db_test!(demo_data_holds_no_state_the_app_forbids, |app| {
    app.seed_demo();
    // No request is pending for something the affiliate already has.
    for table in [("offer_access", "offer_id"), ("smartlink_access", "smartlink_id")] {
        let clashes = scalar(
            &app,
            &format!(
                "SELECT COUNT(*) AS n FROM tickets t JOIN {0} a ON a.{1} = t.{1} AND a.affiliate_id = t.affiliate_id \
                 WHERE t.request_state = 'pending' AND a.state = 'enabled'",
                table.0, table.1
            ),
        );
        assert_eq!(clashes, 0, "pending requests for enabled {}", table.0);
    }
    // One pending request per affiliate and target at most, for premoderated targets only.
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) AS n FROM (SELECT affiliate_id, offer_id, smartlink_id FROM tickets \
             WHERE request_state = 'pending' GROUP BY affiliate_id, offer_id, smartlink_id HAVING COUNT(*) > 1) d"
        ),
        0
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) AS n FROM tickets t JOIN offers o ON o.id = t.offer_id WHERE o.privacy <> 'premoderated'"
        ),
        0
    );
    assert!(!ids_where(&app, "request_state = 'pending'").is_empty(), "pending requests to decide");
    // Only open tickets wait, and every open ticket whose last word is the affiliate's does.
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) AS n FROM tickets WHERE status = 'closed' AND waiting_since IS NOT NULL"),
        0
    );
    assert!(!ids_where(&app, "waiting_since IS NOT NULL").is_empty());
    // The demo load keeps every ticket's last public message as the messages say.
    let differing = scalar(
        &app,
        "SELECT count(*) AS n FROM tickets t WHERE t.last_preview IS DISTINCT FROM (SELECT substr(m.body, 1, 600) \
         FROM messages m WHERE m.ticket_id = t.id AND NOT m.internal ORDER BY m.id DESC LIMIT 1) \
         OR t.last_author_kind IS DISTINCT FROM (SELECT m.author_kind FROM messages m \
         WHERE m.ticket_id = t.id AND NOT m.internal ORDER BY m.id DESC LIMIT 1)",
    );
    assert_eq!(differing, 0);
});

db_test!(admin_login_logout, |app| {
    app.seed_demo();
    let mut c = app.client();
    // Not logged in: the panel sends to the login page and remembers where to go back.
    let page = c.get("/admin/tickets?status=open").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/admin/login?next=%2Fadmin%2Ftickets%3Fstatus%3Dopen"));

    let login = c.get("/admin/login").await;
    assert!(login.contains("name=\"csrf_token\""));
    let wrong = c.post("/admin/login", &[("email", "admin@affdesk.test"), ("password", "nope")]).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.contains("Wrong email or password."));
    let unknown = c.post("/admin/login", &[("email", "ghost@affdesk.test"), ("password", "nope")]).await;
    assert!(unknown.contains("Wrong email or password."));

    let ok = c
        .post(
            "/admin/login",
            &[("email", "Admin@Affdesk.test"), ("password", "demo-password"), ("next", "/admin/templates")],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location.as_deref(), Some("/admin/templates"));
    let page = c.get("/admin/tickets").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Alex Admin"));
    assert_eq!(page.headers.get("cache-control").unwrap(), "no-store");

    let out = c.post("/admin/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(c.get("/admin/tickets").await.status, 303, "logged out");
    assert_eq!(app.count("sessions WHERE state LIKE '%user:%'"), 0, "the session row is gone");
});

db_test!(login_never_follows_a_foreign_next, |app| {
    app.seed_demo();
    // Browsers drop tabs and newlines from a Location: `/\t/evil.example` is `//evil.example`.
    for next in ["//evil.example/x", "/\t/evil.example", "/\n/x", "/\\evil.example", "https://evil.example/"] {
        let mut c = app.client();
        let form = c.get(&format!("/admin/login?next={}", affdesk::web::url_encode(next))).await;
        assert_eq!(form.status, 200, "{next:?}");
        let ok = c
            .post("/admin/login", &[("email", "admin@affdesk.test"), ("password", "demo-password"), ("next", next)])
            .await;
        assert_eq!(ok.location.as_deref(), Some("/admin/tickets"), "{next:?}");
    }
});

db_test!(affiliate_login_and_panel_separation, |app| {
    app.seed_demo();
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    assert_eq!(affiliate.get("/affiliate/tickets").await.status, 200);
    // An affiliate session cannot reach the admin panel, nor a manager's the affiliate panel.
    assert_eq!(affiliate.get("/admin/tickets").await.status, 303);
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    assert_eq!(manager.get("/affiliate/tickets").await.status, 303);
    assert_eq!(manager.get("/admin/tickets").await.status, 200);
    // Managers cannot log in to the affiliate panel with their own credentials.
    let mut c = app.client();
    c.get("/affiliate/login").await;
    let page = c.post("/affiliate/login", &[("email", "manager1@affdesk.test"), ("password", "demo-password")]).await;
    assert_eq!(page.status, 401);
});

db_test!(banned_affiliate_is_refused, |app| {
    app.seed_demo();
    let mut c = app.login_affiliate("affiliate2@affdesk.test").await;
    let mut conn = app.conn();
    affdesk::domain::affiliates::Affiliate::set_status(&mut conn, 2, affdesk::domain::states::AffiliateStatus::Banned)
        .unwrap();
    assert_eq!(c.get("/affiliate/tickets").await.status, 303, "session ends at once");
    let mut fresh = app.client();
    fresh.get("/affiliate/login").await;
    let page =
        fresh.post("/affiliate/login", &[("email", "affiliate2@affdesk.test"), ("password", "demo-password")]).await;
    assert_eq!(page.status, 401);
});

db_test!(disabled_user_loses_access_on_next_request, |app| {
    app.seed_demo();
    let mut c = app.login_admin("manager2@affdesk.test").await;
    assert_eq!(c.get("/admin/tickets").await.status, 200);
    let mut conn = app.conn();
    let id: i64 =
        users::table.filter(users::email.eq("manager2@affdesk.test")).select(users::id).first(&mut conn).unwrap();
    affdesk::domain::users::User::set_disabled(&mut conn, id, true).unwrap();
    let page = c.get("/admin/tickets").await;
    assert_eq!(page.status, 303);
    assert!(page.location.unwrap().starts_with("/admin/login"));
    let mut again = app.client();
    again.get("/admin/login").await;
    let page = again.post("/admin/login", &[("email", "manager2@affdesk.test"), ("password", "demo-password")]).await;
    assert_eq!(page.status, 401);
});

db_test!(idle_and_absolute_session_expiry, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    assert_eq!(c.get("/admin/tickets").await.status, 200);
    let mut conn = app.conn();
    let long_ago = affdesk::domain::now() - chrono::Duration::hours(3);
    diesel::update(sessions::table).set(sessions::last_seen_at.eq(long_ago)).execute(&mut conn).unwrap();
    assert_eq!(c.get("/admin/tickets").await.status, 303, "idle session expired");

    let mut c = app.login_admin("admin@affdesk.test").await;
    assert_eq!(c.get("/admin/tickets").await.status, 200);
    let past = affdesk::domain::now() - chrono::Duration::seconds(1);
    diesel::update(sessions::table).set(sessions::expires_at.eq(past)).execute(&mut conn).unwrap();
    assert_eq!(c.get("/admin/tickets").await.status, 303, "absolute expiry reached");
});

db_test!(session_id_changes_at_login, |app| {
    app.seed_demo();
    let mut c = app.client();
    c.get("/admin/login").await;
    let before: Vec<String> = sessions::table.select(sessions::id).load(&mut app.conn()).unwrap();
    assert_eq!(before.len(), 1, "the login page keeps the CSRF token in a session");
    c.post("/admin/login", &[("email", "admin@affdesk.test"), ("password", "demo-password")]).await;
    let after: Vec<String> = sessions::table.select(sessions::id).load(&mut app.conn()).unwrap();
    assert_eq!(after.len(), 1);
    assert_ne!(before, after, "a new session key after login");
});

db_test!(post_without_csrf_is_refused_and_changes_nothing, |app| {
    app.seed_demo();
    let mut c = app.client();
    c.get("/admin/login").await;
    // Login without token.
    let form = vec![
        ("email".to_string(), "admin@affdesk.test".to_string()),
        ("password".to_string(), "demo-password".to_string()),
    ];
    let page = c.post_raw("/admin/login", &form).await;
    assert_eq!(page.status, 403);
    assert_eq!(app.count("users WHERE last_login_at IS NOT NULL"), 0);
    // Wrong token, then a token from another site's Origin.
    let mut bad = form.clone();
    bad.push(("csrf_token".into(), "0".repeat(64)));
    assert_eq!(c.post_raw("/admin/login", &bad).await.status, 403);
    let mut good = form.clone();
    good.push(("csrf_token".into(), c.csrf.clone()));
    let resp = c
        .http
        .post(app.url("/admin/login"))
        .header("Origin", "https://evil.example")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(crate::harness::serde_html_form_encode(&good))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(app.count("users WHERE last_login_at IS NOT NULL"), 0);
    // Logged in, logout without token keeps the session.
    let mut c = app.login_admin("admin@affdesk.test").await;
    let page = c.post_raw("/admin/logout", &[]).await;
    assert_eq!(page.status, 403);
    assert_eq!(c.get("/admin/tickets").await.status, 200, "still logged in");
    // The htmx header form of the token works; a wrong one does not.
    let resp = c.http.post(app.url("/admin/logout")).header("X-CSRF-Token", "wrong").send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let resp = c.http.post(app.url("/admin/logout")).header("X-CSRF-Token", c.csrf.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 303);
});

db_test!(security_headers_404_and_health, |app| {
    let mut c = app.client();
    let page = c.get("/admin/login").await;
    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline")
    );
    assert_eq!(page.headers.get("x-content-type-options").unwrap(), "nosniff");
    assert!(page.headers.get("referrer-policy").is_some());
    let missing = c.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.contains("Page not found"));
    assert_eq!(c.get("/healthz").await.status, 200);
    let js = c.get("/static/htmx-2.0.8.min.js").await;
    assert_eq!(js.status, 200);
    assert!(js.headers.get("cache-control").unwrap().to_str().unwrap().contains("max-age"));
    assert_eq!(c.get("/static/nope.js").await.status, 404);
});

/// PostgreSQL goes away and comes back: /healthz says 503 quickly, then 200 again
/// without a restart.
#[actix_web::test]
#[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
async fn health_follows_the_database_down_and_back() {
    let Some(app) = TestApp::start_postgres().await else { return };
    let mut c = app.client();
    assert_eq!(c.get("/healthz").await.status, 200);
    app.pg_drop_database();
    let started = std::time::Instant::now();
    let page = c.get("/healthz").await;
    assert_eq!(page.status, 503);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "answered quickly");
    let page = c.get("/admin/login").await;
    assert!(page.status == 503 || page.status == 200, "the login page does not hang: {}", page.status);
    app.pg_create_database();
    assert_eq!(c.get("/healthz").await.status, 200, "recovered by itself");
}

/// A database that goes away is an outage (503), never a logout; when it is back,
/// the dead connections are replaced and the pages answer again by themselves.
#[actix_web::test]
#[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
async fn an_outage_is_never_a_logout() {
    let Some(app) = TestApp::start_postgres().await else { return };
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    assert_eq!(c.get("/admin/tickets").await.status, 200);
    app.pg_drop_database();
    for path in ["/admin/tickets", "/admin/profile"] {
        let page = c.get(path).await;
        assert_eq!(page.status, 503, "{path}: {:?}", page.location);
        assert!(page.location.is_none(), "not sent to the login page");
    }
    app.pg_create_database();
    let mut answered = 0;
    for _ in 0..30 {
        if c.get("/admin/login").await.status == 200 {
            answered += 1;
            if answered == 3 {
                break;
            }
        }
    }
    assert_eq!(answered, 3, "every dead connection was replaced");
    assert_eq!(c.get("/healthz").await.status, 200);
}

#[test]
#[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
fn wrong_postgres_password_is_reported_as_such() {
    let Ok(base) = std::env::var("TEST_POSTGRES_URL") else { return };
    let mut url = url::Url::parse(&base).unwrap();
    url.set_username("no_such_role_affdesk").unwrap();
    let err = match affdesk::db::build_pool(&affdesk::db::DbUrl::Postgres(url.to_string()), 1) {
        Ok(_) => panic!("connecting as an unknown role must fail"),
        Err(e) => e,
    };
    assert!(err.contains("cannot connect to PostgreSQL"), "{err}");
    assert!(err.contains("no_such_role_affdesk"), "the server's own words are kept: {err}");
}

#[test]
fn database_urls_are_checked() {
    use affdesk::db::DbUrl;
    assert!(matches!(DbUrl::parse("sqlite://data/x.db"), Ok(DbUrl::Sqlite(_))));
    assert!(matches!(DbUrl::parse("postgres://u@h/db"), Ok(DbUrl::Postgres(_))));
    let err = DbUrl::parse("mysql://u:secret@h/db").unwrap_err();
    assert!(err.contains("unsupported database URL") && !err.contains("secret"), "{err}");
    assert!(DbUrl::parse("sqlite://").is_err());
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct AutoCheckpoint {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    wal_autocheckpoint: i32,
}

/// `affdesk demo` on its one connection loads through a rollback journal and
/// leaves the file in WAL mode again, with every document searchable.
#[test]
fn the_demo_load_leaves_a_searchable_database_in_wal_mode() {
    use affdesk::db::AnyConnection;
    let dir = tempfile::tempdir().unwrap();
    let url = affdesk::db::DbUrl::Sqlite(dir.path().join("affdesk.db"));
    let pool = affdesk::open_database(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let options = affdesk::seed::DemoOptions { tickets: 300 };
    let summary = affdesk::seed::seed(&mut conn, &options, &mut |_| {}).unwrap();
    assert!(summary.seeded);
    let c: &mut AnyConnection = &mut conn;
    let mode: JournalMode = diesel::sql_query("PRAGMA journal_mode").get_result(c).unwrap();
    assert_eq!(mode.journal_mode, "wal");
    let documents: Count = diesel::sql_query("SELECT count(*) AS n FROM ticket_search").get_result(c).unwrap();
    assert_eq!(documents.n, 300);
    let words: Count = diesel::sql_query("SELECT count(*) AS n FROM search_terms").get_result(c).unwrap();
    assert!(words.n > 50, "the vocabulary holds the documents' words: {}", words.n);
    let hits = affdesk::domain::search::newest_matches(c, &["postback".to_string()]).unwrap();
    assert!(!hits.is_empty());
}

/// The server's SQLite connections never checkpoint on commit; its background task
/// copies the log into the database file within seconds.
#[actix_web::test]
async fn the_server_checkpoints_sqlite_in_the_background() {
    use affdesk::db::AnyConnection;
    let app = TestApp::start(crate::harness::Backend::Sqlite).await;
    {
        let mut conn = app.conn();
        let c: &mut AnyConnection = &mut conn;
        let auto: AutoCheckpoint = diesel::sql_query("PRAGMA wal_autocheckpoint").get_result(c).unwrap();
        assert_eq!(auto.wal_autocheckpoint, 0);
    }
    let file = match &app.database {
        affdesk::db::DbUrl::Sqlite(path) => path.clone(),
        _ => unreachable!(),
    };
    let before = std::fs::metadata(&file).unwrap().len();
    app.seed_demo();
    let mut grown = false;
    for _ in 0..50 {
        if std::fs::metadata(&file).unwrap().len() > before {
            grown = true;
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(grown, "the demo's pages reached the database file from the log");
}

#[derive(QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    n: i32,
}

/// SQLite is built to plan a statement once, whatever values it is run with: with
/// its default it planned every statement with a bound `LIMIT` (each `.first()`,
/// the session's lookup on every request) anew at every run.
#[actix_web::test]
async fn sqlite_plans_stay_prepared_whatever_the_bound_values() {
    use affdesk::db::AnyConnection;
    let app = TestApp::start(crate::harness::Backend::Sqlite).await;
    let mut conn = app.conn();
    let c: &mut AnyConnection = &mut conn;
    let found: CompileOption =
        diesel::sql_query("SELECT count(*) AS n FROM pragma_compile_options WHERE compile_options = 'ENABLE_QPSG'")
            .get_result(c)
            .unwrap();
    assert_eq!(found.n, 1, "SQLite built with SQLITE_ENABLE_QPSG (.cargo/config.toml)");
}

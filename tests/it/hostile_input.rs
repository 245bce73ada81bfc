//! Tried as an attacker and as a careless client would: forms without their token
//! in any body type, bodies past their cap, hostile text and file names, guessing
//! passwords, and the API's strictness. Every refusal changes nothing.

use affdesk::domain::states::{MailEvent, TicketStatus};
use serde_json::Value;

use crate::db_test;
use crate::desk::{Find, TicketId};
use crate::harness::{Backend, TestApp};
use crate::support::*;

/// Sends a raw request head (and a little body) and reads the answer's head. Async:
/// the test's runtime also serves the app.
async fn raw_status(app: &TestApp, head: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let _ = s.write_all(body).await;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 8192];
    let read = async {
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if got.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), read).await;
    let text = String::from_utf8_lossy(&got).to_string();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

fn multipart_body(boundary: &str, parts: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in parts {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

db_test!(every_post_proves_its_token_whatever_the_body, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get("/admin/tickets").await;
    let ticket = app.find(Find { status: Some(TicketStatus::Open), ..Find::default() })[0].0;
    let before = (app.count("tickets"), app.count("messages"), app.count("audit_log"));
    let send = |path: &str, content_type: &str, body: String| {
        c.http.post(app.url(path)).header("Content-Type", content_type.to_string()).body(body).send()
    };
    // The bulk action, logout and key routes take no multipart body at all.
    let remove = multipart_body("X", &[("action", "remove"), ("confirm", "1"), ("ids", &ticket.to_string())]);
    for path in ["/admin/tickets/bulk", "/admin/logout", "/admin/profile/api-key", "/admin/templates"] {
        let resp = send(path, "multipart/form-data; boundary=X", remove.clone()).await.unwrap();
        assert_eq!(resp.status().as_u16(), 415, "{path}");
    }
    // A form with files must carry its token first; a body of another type is refused.
    let reply = multipart_body("Y", &[("body", "no token here"), ("csrf_token", "forged")]);
    let resp =
        send(&format!("/admin/tickets/{ticket}/messages"), "multipart/form-data; boundary=Y", reply).await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let resp =
        send("/admin/tickets/bulk", "text/plain", format!("action=remove&confirm=1&ids={ticket}")).await.unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    let resp = send(
        "/admin/tickets/bulk",
        "application/x-www-form-urlencoded",
        format!("action=remove&confirm=1&ids={ticket}"),
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!((app.count("tickets"), app.count("messages"), app.count("audit_log")), before);
    // The session still works: nothing above logged it out.
    assert_eq!(c.get("/admin/tickets").await.status, 200);
});

db_test!(bodies_past_their_cap_are_refused_before_they_are_read, |app| {
    app.seed_demo();
    let ticket = app.find(Find { affiliate: Some(1), ..Find::default() })[0].0;
    let before = (app.count("messages"), app.count("attachments"));
    // Declared far over the cap: refused on the header, without reading a byte of body.
    for (path, content_type) in [
        (format!("/affiliate/tickets/{ticket}/messages"), "multipart/form-data; boundary=Z"),
        ("/admin/templates".to_string(), "application/x-www-form-urlencoded"),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: 104857600\r\n\r\n"
        );
        let (status, text) = raw_status(&app, &head, b"").await;
        assert_eq!(status, 413, "{path}: {text}");
        assert!(text.to_ascii_lowercase().contains("content-security-policy"), "{path}: headers on the 413");
    }
    // More parts than any form of ours has.
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    let fields: Vec<(String, String)> = (0..40).map(|i| (format!("f{i}"), "x".to_string())).collect();
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = affiliate.post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &pairs, &[]).await;
    assert_eq!(page.status, 413);
    // Six files: refused in words, nothing kept.
    let six: Vec<(&str, Vec<u8>)> = (0..6).map(|_| ("a.png", PNG.to_vec())).collect();
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    let page =
        affiliate.post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &[("body", "Six")], &six).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("At most 5 files"));
    assert_eq!((app.count("messages"), app.count("attachments")), before);
    assert!(std::fs::read_dir(app.data_dir.join("attachments/tmp")).unwrap().next().is_none(), "no temporary left");
});

db_test!(every_answer_carries_the_security_headers, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get("/admin/tickets").await;
    let plain = reqwest::Client::new();
    let answers = vec![
        ("csrf 403", c.http.post(app.url("/admin/templates")).form(&[("title", "x")]).send().await.unwrap()),
        ("404 for a word id", c.http.get(app.url("/admin/tickets/abc")).send().await.unwrap()),
        (
            "415",
            c.http.post(app.url("/admin/logout")).header("Content-Type", "text/plain").body("x").send().await.unwrap(),
        ),
        ("api 405", plain.delete(app.url("/3.0/admin/tickets")).send().await.unwrap()),
        ("api 401", plain.get(app.url("/3.0/admin/tickets")).send().await.unwrap()),
        ("page", c.http.get(app.url("/admin/tickets")).send().await.unwrap()),
        ("health", plain.get(app.url("/healthz")).send().await.unwrap()),
    ];
    for (what, resp) in answers {
        let h = resp.headers();
        for name in ["content-security-policy", "x-content-type-options", "x-frame-options", "permissions-policy"] {
            assert!(h.get(name).is_some(), "{what}: {name}");
        }
        assert_eq!(h.get("cache-control").unwrap(), "no-store", "{what}");
        assert!(h.get("strict-transport-security").is_none(), "{what}: no HSTS over plain HTTP");
    }
    let css = plain.get(app.url("/static/app.css")).send().await.unwrap();
    assert!(css.headers().get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
});

#[actix_web::test]
async fn https_deployments_get_hsts() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.secure_cookies = true).await;
    let resp = reqwest::Client::new().get(app.url("/admin/login")).send().await.unwrap();
    assert!(resp.headers().get("strict-transport-security").unwrap().to_str().unwrap().contains("max-age="));
}

async fn throttled(backend: Backend) {
    let app = TestApp::start_with(backend, |c| {
        c.login_attempts = 3;
        c.login_attempts_per_address = 6;
    })
    .await;
    app.seed_demo();
    let mut c = app.client();
    c.get("/admin/login").await;
    for _ in 0..3 {
        let page = c.post("/admin/login", &[("email", "admin@affdesk.test"), ("password", "guess")]).await;
        assert_eq!(page.status, 401);
    }
    // The right password is not even looked at now for this account...
    let page = c.post("/admin/login", &[("email", "admin@affdesk.test"), ("password", "demo-password")]).await;
    assert_eq!(page.status, 429);
    let wait: u64 = page.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait));
    assert!(page.contains("Too many failed logins for this account") && page.contains("name=\"password\""));
    assert!(page.contains("Email me a link to log in"), "the owner is offered the unlock link");
    // ...but another account logs in from the same address.
    let mut colleague = app.client();
    colleague.get("/admin/login").await;
    let page =
        colleague.post("/admin/login", &[("email", "manager1@affdesk.test"), ("password", "demo-password")]).await;
    assert_eq!(page.status, 303, "someone else's guesses do not lock out the office");
    // The owner has the unlock link emailed and logs in with it and the right password.
    c.get("/admin/login").await;
    let asked = c.post("/admin/login/unlock", &[("email", "admin@affdesk.test")]).await;
    assert_eq!(asked.status, 303);
    let link = app.newest_link(MailEvent::LoginUnlock);
    assert!(link.starts_with("/admin/login?unlock="), "{link}");
    let token = link.split("unlock=").nth(1).unwrap().to_string();
    let page = c.get(&link).await;
    assert!(page.contains(&format!("name=\"unlock\" value=\"{token}\"")), "{}", page.body);
    let wrong =
        c.post("/admin/login", &[("email", "admin@affdesk.test"), ("password", "guess"), ("unlock", &token)]).await;
    assert_eq!(wrong.status, 401, "the link lets the password be checked, not skipped");
    let page = c
        .post("/admin/login", &[("email", "admin@affdesk.test"), ("password", "demo-password"), ("unlock", &token)])
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(app.used_links(), 1, "the unlock link is used up");
    // The link never sets a password.
    assert_eq!(app.client().get(&format!("/admin/password?token={token}")).await.status, 410);
    // An address guessing at many accounts is held back, per panel.
    let mut guesser = app.client();
    guesser.get("/admin/login").await;
    for i in 0..2 {
        let page =
            guesser.post("/admin/login", &[("email", &format!("nobody{i}@affdesk.test")), ("password", "x")]).await;
        assert_eq!(page.status, 401);
    }
    let page = guesser.post("/admin/login", &[("email", "manager2@affdesk.test"), ("password", "demo-password")]).await;
    assert_eq!(page.status, 429);
    assert!(page.contains("from this address") && !page.contains("Email me a link"), "{}", page.body);
    let mut affiliate = app.client();
    affiliate.get("/affiliate/login").await;
    let page = affiliate
        .post("/affiliate/login", &[("email", "affiliate1@affdesk.test"), ("password", "demo-password")])
        .await;
    assert_eq!(page.status, 303, "the affiliate panel counts its own");
    // Counted in the database, so every instance sees it; once the failures are
    // older than the window, the right password works again.
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM login_failures WHERE account NOT LIKE 'reset:%'"), 6);
    let mut conn = app.conn();
    use diesel::prelude::*;
    diesel::sql_query("UPDATE login_failures SET at = at - INTERVAL '16 minutes'")
        .execute(&mut *conn as &mut affdesk::db::AnyConnection)
        .or_else(|_| {
            diesel::sql_query("UPDATE login_failures SET at = datetime(at, '-16 minutes')")
                .execute(&mut *conn as &mut affdesk::db::AnyConnection)
        })
        .unwrap();
    drop(conn);
    guesser.get("/admin/login").await;
    let page = guesser.post("/admin/login", &[("email", "manager2@affdesk.test"), ("password", "demo-password")]).await;
    assert_eq!(page.status, 303);
}

#[actix_web::test]
async fn failed_logins_are_throttled_sqlite() {
    throttled(Backend::Sqlite).await;
}

#[actix_web::test]
#[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
async fn failed_logins_are_throttled_postgres() {
    if TestApp::start_postgres().await.is_some() {
        throttled(Backend::Postgres).await;
    }
}

async fn api_get(app: &TestApp, key: &str, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = reqwest::Client::new().get(app.url(path)).header("API-Key", key).send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

fn admin_key(app: &TestApp) -> String {
    let mut conn = app.conn();
    let u = affdesk::domain::users::User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
    affdesk::domain::users::User::issue_api_key(&mut conn, u.id).unwrap()
}

db_test!(the_api_is_strict_and_says_what_it_answers, |app| {
    app.seed_demo();
    let key = admin_key(&app);
    let http = reqwest::Client::new();
    // A known address with another method: 405, the methods it answers, the envelope.
    for (method, path, allow) in [
        (reqwest::Method::GET, "/3.0/admin/ticket", "POST"),
        (reqwest::Method::DELETE, "/3.0/admin/tickets", "GET"),
        (reqwest::Method::PUT, "/3.0/admin/ticket/1/close", "POST"),
    ] {
        let resp = http.request(method.clone(), app.url(path)).header("API-Key", &key).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 405, "{method} {path}");
        assert_eq!(resp.headers().get("allow").unwrap(), allow);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], 2);
    }
    // Integers out of range are refused, never read as page 1.
    for q in ["page=99999999999", "page=-1", "limit=0", "limit=abc", "pid[]=99999999999999999999", "page=1.5"] {
        let (status, _, body) = api_get(&app, &key, &format!("/3.0/admin/tickets?{q}")).await;
        assert_eq!(status, 400, "{q}: {body}");
    }
    // next_page as Affise sends it: an integer, left out on the last page.
    let total = app.count("tickets");
    let (_, _, first) = api_get(&app, &key, "/3.0/admin/tickets?limit=100").await;
    assert_eq!(first["pagination"]["next_page"], 2);
    let last = (total + 99) / 100;
    let (_, _, end) = api_get(&app, &key, &format!("/3.0/admin/tickets?limit=100&page={last}")).await;
    assert!(end["pagination"].get("next_page").is_none(), "{}", end["pagination"]);
    // Files sent as files[] are attachments too.
    let ticket = app.find(Find { status: Some(TicketStatus::Open), ..Find::default() })[0].0;
    let form = reqwest::multipart::Form::new()
        .text("text", "See the screenshot")
        .part("files[]", reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("shot.png"));
    let resp = http
        .post(app.url(&format!("/3.0/admin/ticket/{ticket}/comment")))
        .header("API-Key", &key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(app.attachments_named("shot.png"), 1);
});

const XSS: [&str; 6] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "<svg onload=alert(1)>",
    "\" hx-post=\"/admin/logout\" hx-trigger=\"load",
    "<a href=\"javascript:alert(1)\">x</a>",
];

db_test!(hostile_text_is_shown_as_text_everywhere, |app| {
    app.seed_demo();
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    for payload in XSS {
        affiliate.get("/affiliate/tickets/new").await;
        let page = affiliate
            .post_multipart("/affiliate/tickets", &[("type", "other"), ("title", payload), ("body", payload)], &[])
            .await;
        assert_eq!(page.status, 303, "{payload}");
    }
    let ticket = app.newest_ticket().0;
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get("/admin/templates/new").await;
    admin.post("/admin/templates", &[("title", XSS[0]), ("body", XSS[1])]).await;
    let pages = [
        admin.get("/admin/tickets?affiliate_id=1").await.body,
        admin.get(&format!("/admin/tickets/{ticket}")).await.body,
        admin.get("/admin/templates").await.body,
        admin.get(&format!("/admin/tickets?q={}", affdesk::web::url_encode(XSS[0]))).await.body,
        admin.htmx_get("/admin/tickets?affiliate_id=1").await.body,
        affiliate.get("/affiliate/tickets").await.body,
        affiliate.get(&format!("/affiliate/tickets/{ticket}")).await.body,
    ];
    for (i, page) in pages.iter().enumerate() {
        for bad in ["<script>alert", "<img src=x", "<svg onload", "href=\"javascript:", "hx-post=\"/admin/logout\""] {
            assert!(!page.contains(bad), "page {i} shows {bad} as markup");
        }
    }
    // Stored exactly as typed: escaping is the page's job, not the database's.
    assert_eq!(app.ticket(TicketId(ticket)).title, XSS[5]);
});

db_test!(sql_in_any_parameter_is_only_a_value, |app| {
    app.seed_demo();
    let mut admin = app.login_admin("admin@affdesk.test").await;
    let key = admin_key(&app);
    let before = (app.count("tickets"), app.count("messages"));
    for payload in
        ["' OR 1=1 --", "1; DROP TABLE tickets", "\") OR (\"a\"=\"a", "1 UNION SELECT password_hash FROM users"]
    {
        let v = affdesk::web::url_encode(payload);
        for field in
            ["id", "q", "affiliate_id", "manager_id", "offer_id", "type", "status", "sort", "page", "per_page", "after"]
        {
            let page = admin.get(&format!("/admin/tickets?{field}={v}")).await;
            assert_eq!(page.status, 200, "{field}={payload}");
            assert!(!page.contains("$argon2"), "{field}={payload}");
        }
        for field in ["search", "pid[]", "status", "type[]", "manager_id[]"] {
            let (status, _, body) = api_get(&app, &key, &format!("/3.0/admin/tickets?{field}={v}")).await;
            assert!(status == 200 || status == 400, "{field}={payload}: {status}");
            assert!(!body.to_string().contains("$argon2"));
        }
    }
    assert_eq!((app.count("tickets"), app.count("messages")), before);
});

db_test!(hostile_files_are_refused_or_renamed, |app| {
    app.seed_demo();
    let ticket = app.find(Find { affiliate: Some(1), ..Find::default() })[0].0;
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let path = format!("/affiliate/tickets/{ticket}/messages");
    let long = format!("{}.png", "n".repeat(1000));
    let long_kept = format!("{}.png", "n".repeat(196));
    for (name, keeps) in [
        ("../../etc/passwd.png", "passwd.png"),
        ("photo\u{202E}gnp.png", "photognp.png"),
        (long.as_str(), long_kept.as_str()),
    ] {
        affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
        let page = affiliate.post_multipart(&path, &[("body", "file")], &[(name, PNG.to_vec())]).await;
        assert_eq!(page.status, 303, "{name:?}");
        let kept = app.newest_attachment_file().0;
        assert_eq!(kept, keeps);
    }
    let before = (app.count("messages"), app.count("attachments"));
    // Control characters in a part's header are not HTTP the form reader accepts.
    for name in ["a\u{0}b.png", "ctrl\u{7}\u{1b}.png"] {
        affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
        let page = affiliate.post_multipart(&path, &[("body", "file")], &[(name, PNG.to_vec())]).await;
        assert_eq!(page.status, 400, "{name:?}");
    }
    for (name, content) in [
        ("page.png", b"<html><script>alert(1)</script></html>".to_vec()),
        ("vector.png", b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec()),
        ("empty.gif", Vec::new()),
        ("real.exe", PNG.to_vec()),
    ] {
        affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
        let page = affiliate.post_multipart(&path, &[("body", "file")], &[(name, content)]).await;
        assert_eq!(page.status, 422, "{name}");
    }
    // A body cut off in the middle of a file.
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    let token = affiliate.csrf.clone();
    let body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--B\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\ncut\r\n--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"cut.png\"\r\n\r\n"
    );
    let mut bytes = body.into_bytes();
    bytes.extend_from_slice(PNG);
    let resp = affiliate
        .http
        .post(app.url(&path))
        .header("Content-Type", "multipart/form-data; boundary=B")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!((app.count("messages"), app.count("attachments")), before);
    let stored = std::fs::read_dir(app.data_dir.join("attachments/tmp")).unwrap().count();
    assert_eq!(stored, 0, "no partial file left");
});

#[actix_web::test]
async fn a_client_trickling_its_body_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start_with(Backend::Sqlite, |c| c.body_timeout = std::time::Duration::from_secs(2)).await;
    app.seed_demo();
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = "POST /admin/templates HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n";
    s.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // One byte every 300 ms, as long as the server listens.
    while started.elapsed() < std::time::Duration::from_secs(15) {
        if s.write_all(b"a").await.is_err() {
            break;
        }
        if let Ok(Ok(n)) = tokio::time::timeout(std::time::Duration::from_millis(300), s.read(&mut buf)).await {
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(6), "cut off at the deadline");
}

db_test!(files_a_crash_left_behind_are_swept, |app| {
    app.seed_demo();
    let ticket = app.find(Find { affiliate: Some(1), ..Find::default() })[0].0;
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    let page = affiliate
        .post_multipart(
            &format!("/affiliate/tickets/{ticket}/messages"),
            &[("body", "kept")],
            &[("k.png", PNG.to_vec())],
        )
        .await;
    assert_eq!(page.status, 303);
    let root = app.data_dir.join("attachments");
    let kept = app.newest_attachment_file().1;
    // What a process killed mid-upload or mid-commit leaves: a temporary, and a file no row names.
    std::fs::create_dir_all(root.join("ab")).unwrap();
    let stray = root.join("ab").join("abababababababababab");
    let temp = root.join("tmp").join("killed.part");
    for path in [&stray, &temp] {
        let f = std::fs::File::create(path).unwrap();
        f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600)).unwrap();
    }
    let store = affdesk::storage::LocalStore::new(root.clone()).unwrap();
    let mut conn = app.conn();
    let removed =
        affdesk::domain::attachments::sweep_orphans(&mut conn, &store, std::time::Duration::from_secs(600)).unwrap();
    assert_eq!(removed, 2);
    assert!(!stray.exists() && !temp.exists());
    assert!(root.join(&kept[..2]).join(&kept).exists(), "a file its row names stays");
});

db_test!(a_retried_submit_adds_its_reply_once, |app| {
    app.seed_demo();
    let ticket = app.find(Find { affiliate: Some(1), ..Find::default() })[0].0;
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let page = affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    let marker = "name=\"submission\" value=\"";
    let at = page.body.find(marker).expect("the form carries a one-time token") + marker.len();
    let token = page.body[at..at + page.body[at..].find('"').unwrap()].to_string();
    let before = app.count("messages");
    let path = format!("/affiliate/tickets/{ticket}/messages");
    for _ in 0..2 {
        let page = affiliate
            .post_multipart(&path, &[("submission", &token), ("body", "Sent twice")], &[("p.png", PNG.to_vec())])
            .await;
        assert_eq!(page.status, 303);
    }
    assert_eq!(app.count("messages"), before + 1);
    assert_eq!(app.attachments_named("p.png"), 1);
    // The API's way of saying the same: an Idempotency-Key header.
    let key = admin_key(&app);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let resp = reqwest::Client::new()
            .post(app.url(&format!("/3.0/admin/ticket/{ticket}/comment")))
            .header("API-Key", &key)
            .header("Idempotency-Key", "retry-7f3a9c21")
            .form(&[("text", "Once only")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        ids.push(resp.json::<Value>().await.unwrap()["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(app.count("messages"), before + 2);
    let files = walk_files(&app.data_dir.join("attachments"));
    assert_eq!(files, app.count("attachments"), "the second copy's file was not kept");
});

fn walk_files(dir: &std::path::Path) -> i64 {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { walk_files(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

//! What a security probe and Affise's own clients found: text with a NUL character,
//! one-line titles, API multipart forms with too many parts or huge part names.

use affdesk::domain::states::ActorKind;
use serde_json::Value;

use crate::db_test;
use crate::desk::{Find, TicketId};
use crate::harness::TestApp;
use crate::support::*;

fn admin_key(app: &TestApp) -> String {
    let mut conn = app.conn();
    let u = affdesk::domain::users::User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
    affdesk::domain::users::User::issue_api_key(&mut conn, u.id).unwrap()
}

async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

db_test!(text_with_a_nul_character_is_a_clear_400_everywhere, |app| {
    app.seed_demo();
    let key = admin_key(&app);
    let http = reqwest::Client::new();
    let tickets = app.count("tickets");
    let messages = app.count("messages");
    // The API: a form body, a query, a multipart field; each the documented error JSON.
    let (status, body) = json_of(
        http.post(app.url("/3.0/admin/ticket"))
            .header("API-Key", &key)
            .form(&[("pid", "1"), ("type", "common"), ("title", "Hello"), ("description", "a\0b")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["status"], 2);
    assert!(body["error"].as_str().unwrap().contains("NUL"), "{body}");
    let (status, body) =
        json_of(http.get(app.url("/3.0/admin/tickets?q=x%00y")).header("API-Key", &key).send().await.unwrap()).await;
    assert_eq!((status, body["status"].as_i64()), (400, Some(2)), "{body}");
    let ticket = app.find(Find { affiliate: Some(1), ..Find::default() })[0].0;
    let form = reqwest::multipart::Form::new().text("text", "evil\0text");
    let (status, body) = json_of(
        http.post(app.url(&format!("/3.0/admin/ticket/{ticket}/comment")))
            .header("API-Key", &key)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["status"].as_i64()), (400, Some(2)), "{body}");
    // The panels: a multipart form, a url-encoded form, an address.
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    affiliate.get("/affiliate/tickets/new").await;
    let page = affiliate
        .post_multipart("/affiliate/tickets", &[("type", "general"), ("title", "Nul\0title"), ("body", "x")], &[])
        .await;
    assert_eq!(page.status, 400);
    assert!(page.contains("NUL character"), "{}", page.body);
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    manager.get("/admin/templates/new").await;
    let page = manager.post("/admin/templates", &[("title", "T"), ("body", "with \0 inside")]).await;
    assert_eq!(page.status, 400);
    assert!(page.contains("NUL character"));
    let page = manager.get("/admin/tickets?q=a%00b").await;
    assert_eq!(page.status, 400);
    assert!(page.contains("NUL character"));
    assert_eq!((app.count("tickets"), app.count("messages")), (tickets, messages), "nothing was written");
});

db_test!(a_title_is_one_line, |app| {
    app.seed_demo();
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    affiliate.get("/affiliate/tickets/new").await;
    let page = affiliate
        .post_multipart(
            "/affiliate/tickets",
            &[("type", "general"), ("title", "Line one\r\nLine two\rthree\nfour"), ("body", "x")],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(app.ticket(app.newest_ticket()).title, "Line one Line two three four");
});

db_test!(api_multipart_forms_have_a_part_count_and_names_count_toward_the_cap, |app| {
    app.seed_demo();
    let key = admin_key(&app);
    let http = reqwest::Client::new();
    let templates = app.count("reply_templates");
    let boundary = "xBOUNDARYx";
    // Sent without a length, as a stream: the caps must hold on what arrives.
    let send = |body: Vec<u8>| {
        let head = format!(
            "POST /3.0/admin/template HTTP/1.1\r\nHost: affdesk.test\r\nAPI-Key: {key}\r\n\
             Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let mut chunked = Vec::new();
        for c in body.chunks(64 * 1024) {
            chunked.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            chunked.extend_from_slice(c);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        raw_exchange(&app, head, chunked, std::time::Duration::from_secs(30))
    };
    // 20,000 empty parts (about 1 MB): refused at the 33rd part.
    let mut body = String::new();
    for i in 0..20_000 {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"p{i}\"\r\n\r\n\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let (status, answer) = send(body.into_bytes()).await;
    assert_eq!(status, 413, "{answer}");
    let json = raw_json(&answer);
    assert!(json["error"].as_str().unwrap_or_default().contains("more than 32 fields"), "{answer}");
    // Two parts whose names alone pass 1 MB.
    let name = "n".repeat(600 * 1024);
    let mut body = Vec::new();
    for _ in 0..2 {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\nx\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let (status, answer) = send(body).await;
    assert!(status == 413 || status == 400, "{answer:.300}");
    assert_eq!(raw_json(&answer)["status"], 2, "{answer:.300}");
    assert_eq!(app.count("reply_templates"), templates);
    // A proper multipart form still works.
    let form = reqwest::multipart::Form::new().text("title", "From multipart").text("text", "Body");
    let (status, json) = json_of(
        http.post(app.url("/3.0/admin/template")).header("API-Key", &key).multipart(form).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{json}");
});

db_test!(an_idempotency_key_is_its_authors_and_its_texts, |app| {
    app.seed_demo();
    let ticket = app.find(Find { affiliate: Some(1), ..Find::default() })[0].0;
    let admin = admin_key(&app);
    let manager = {
        let mut conn = app.conn();
        let m = affdesk::domain::users::User::find_by_email(&mut conn, "manager1@affdesk.test").unwrap().unwrap();
        affdesk::domain::users::User::issue_api_key(&mut conn, m.id).unwrap()
    };
    let http = reqwest::Client::new();
    let comment = |key: &str, path: String, text: &'static str| {
        http.post(app.url(&path))
            .header("API-Key", key)
            .header("Idempotency-Key", "shared-key-123")
            .form(&[("text", text)])
            .send()
    };
    let (status, first) =
        json_of(comment(&admin, format!("/3.0/admin/ticket/{ticket}/comment"), "The admin's").await.unwrap()).await;
    assert_eq!(status, 200, "{first}");
    // The affiliate's manager sends the same key: their own message, never the admin's.
    let (status, theirs) =
        json_of(comment(&manager, format!("/3.0/admin/ticket/{ticket}/comment"), "The manager's").await.unwrap()).await;
    assert_eq!(status, 200, "{theirs}");
    assert_ne!(theirs["id"], first["id"]);
    let body_of = |v: &Value| app.message_body(v["id"].as_str().unwrap().parse().unwrap());
    assert_eq!(body_of(&theirs), "The manager's");
    assert_eq!(body_of(&first), "The admin's");
    // The same author's repeat gets their own result; other text under the key is refused.
    let (_, again) =
        json_of(comment(&admin, format!("/3.0/admin/ticket/{ticket}/comment"), "The admin's").await.unwrap()).await;
    assert_eq!(again["id"], first["id"]);
    let before = app.count("messages");
    let (status, other) =
        json_of(comment(&admin, format!("/3.0/admin/ticket/{ticket}/comment"), "Something else").await.unwrap()).await;
    assert_eq!(status, 409, "{other}");
    assert_eq!(other["status"], 2);
    assert_eq!(app.count("messages"), before);
});

db_test!(typing_notices_are_one_per_person_every_few_seconds, |app| {
    app.seed_demo();
    let ticket = app.find(Find { affiliate: Some(1), ..Find::default() })[0].0;
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    manager.get(&format!("/admin/tickets/{ticket}")).await;
    for _ in 0..20 {
        let page = affiliate.htmx_post(&format!("/affiliate/tickets/{ticket}/typing"), &[]).await;
        assert!(page.status < 300, "{}", page.status);
    }
    manager.htmx_post(&format!("/admin/tickets/{ticket}/typing"), &[]).await;
    assert_eq!(app.typing_notices(ActorKind::Affiliate), 1, "twenty notices in a burst are one row");
    assert_eq!(app.typing_notices(ActorKind::User), 1, "another person's notice is their own");
});

/// Two instances started at once with `--demo` on one empty PostgreSQL database
/// both come up: the seeding waits its turn under the migration lock.
#[actix_web::test]
#[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
async fn two_demo_instances_start_at_once_on_an_empty_postgres() {
    use diesel::{Connection, RunQueryDsl};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").is_err(), "CI must set TEST_POSTGRES_URL");
        return;
    };
    let name = format!("affdesk_demo_{}", affdesk::domain::random_token(6));
    let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    let mut servers = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let port = crate::smtp::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_affdesk"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--database-url", url.as_str()])
            .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--secret", "two-demo-instances-secret-0123456789ab"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        servers.push((child, dir));
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut up = [false, false];
    while up.contains(&false) && started.elapsed() < Duration::from_secs(120) {
        for (i, base) in bases.iter().enumerate() {
            up[i] = up[i] || http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200);
            if let Ok(Some(status)) = servers[i].0.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = servers[i].0.stderr.take() {
                    std::io::Read::read_to_string(&mut e, &mut err).unwrap();
                }
                panic!("instance {i} exited with {status}: {err}");
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (child, _) in &mut servers {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(up, [true, true], "both instances came up");
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).unwrap();
}

db_test!(thirty_wrong_passwords_for_one_account_do_not_lock_out_another, |app| {
    app.seed_demo();
    let mut guesser = app.client();
    guesser.get("/admin/login").await;
    for _ in 0..30 {
        let page = guesser.post("/admin/login", &[("email", "admin@affdesk.test"), ("password", "guess")]).await;
        assert!(page.status == 401 || page.status == 429);
    }
    let mut colleague = app.client();
    colleague.get("/admin/login").await;
    let page =
        colleague.post("/admin/login", &[("email", "manager1@affdesk.test"), ("password", "demo-password")]).await;
    assert_eq!(page.status, 303, "the same address, another account: let in");
});

db_test!(api_objects_carry_what_affise_clients_read, |app| {
    app.seed_demo();
    let key = admin_key(&app);
    let http = reqwest::Client::new();
    let get = |path: String| http.get(app.url(&path)).header("API-Key", &key).send();
    // An offer request on an offer from Affise: Affise's id and words.
    let ticket = ids_where(&app, "type = 'offer_request' AND offer_id IS NOT NULL")[0];
    let offer = scalar(&app, &format!("SELECT offer_id AS n FROM tickets WHERE id = {ticket}"));
    let mut conn = app.conn();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE offers SET affise_id = '5f00000000000000000000ff', privacy = 'premoderated', status = 'paused', \
             payout = 1250, currency = 'EUR' WHERE id = {offer}"
        )),
        &mut *conn as &mut affdesk::db::AnyConnection,
    )
    .unwrap();
    drop(conn);
    let (status, body) = json_of(get(format!("/3.0/admin/ticket/{ticket}")).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let o = &body["ticket"]["offer"];
    assert_eq!(o["offer_id"], "5f00000000000000000000ff");
    assert_eq!(o["id"], offer);
    assert_eq!((o["privacy"].as_str(), o["status"].as_str()), (Some("protected"), Some("suspended")));
    assert_eq!(o["payments"][0]["currency"], "EUR");
    assert_eq!(o["payments"][0]["payouts"].as_f64(), Some(12.5));
    assert_eq!(o["created_at"].as_str().map(str::len), Some(19));
    assert!(body["ticket"]["smartlink"].is_null());
    let m = &body["ticket"]["partner"]["manager"];
    assert!(m["roles"].as_array().unwrap().iter().any(|r| r == "ROLE_MANAGER_AFFILIATE"), "{m}");
    assert!(m["created_at"].is_string() && m["updated_at"].is_string() && m.get("last_login_at").is_some(), "{m}");
    // A Smartlink request names its Smartlink.
    let ticket = ids_where(&app, "type = 'smartlink_request' AND smartlink_id IS NOT NULL")[0];
    let smartlink = scalar(&app, &format!("SELECT smartlink_id AS n FROM tickets WHERE id = {ticket}"));
    let name = text(&app, &format!("SELECT name AS t FROM smartlinks WHERE id = {smartlink}"));
    let (_, body) = json_of(get(format!("/3.0/admin/ticket/{ticket}")).await.unwrap()).await;
    assert_eq!(body["ticket"]["smartlink"]["id"], smartlink);
    assert_eq!(body["ticket"]["smartlink"]["title"], name.as_str());
    // (Absolute attachment links: api::everything_a_manager_does_can_be_automated.)
    // type[]=payment_request is read as financial.
    let (status, body) =
        json_of(get("/3.0/admin/tickets?type[]=payment_request&limit=500".into()).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let tickets = body["tickets"].as_array().unwrap();
    assert!(!tickets.is_empty() && tickets.iter().all(|t| t["type"] == "financial"));
    // A key in the URL is refused unless the server is told to take it.
    let resp = http.get(app.url(&format!("/3.0/admin/tickets?API-Key={key}"))).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
});

#[actix_web::test]
async fn a_key_in_the_url_is_taken_when_the_server_says_so() {
    let app = TestApp::start_with(crate::harness::Backend::Sqlite, |c| c.api_key_in_url = true).await;
    app.seed_demo();
    let key = admin_key(&app);
    for name in ["API-Key", "api-key"] {
        let resp = reqwest::get(app.url(&format!("/3.0/admin/tickets?{name}={key}&limit=1"))).await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{name}");
    }
    let resp = reqwest::get(app.url("/3.0/admin/tickets?api-key=wrong")).await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

db_test!(a_removed_tickets_ids_are_never_handed_out_again, |app| {
    app.seed_demo();
    let key = admin_key(&app);
    let http = reqwest::Client::new();
    let open = |title: &'static str| {
        let form = [("pid", "1"), ("type", "general"), ("title", title), ("description", "Sync by id.")];
        http.post(app.url("/3.0/admin/ticket")).header("API-Key", &key).form(&form).send()
    };
    let (status, body) = json_of(open("First").await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let first: i64 = body["ticket"]["id"].as_str().unwrap().parse().unwrap();
    let first_message = *app.message_ids(TicketId(first)).last().expect("its first message");
    // The newest ticket removed, with its messages...
    let mut admin = app.login_admin("admin@affdesk.test").await;
    admin.get("/admin/tickets").await;
    let removed =
        admin.post("/admin/tickets/bulk", &[("action", "remove"), ("ids", &first.to_string()), ("confirm", "1")]).await;
    assert_eq!(removed.status, 303);
    assert!(!app.exists(TicketId(first)));
    // ...the next ticket and message get new ids, never the removed ones.
    let (_, body) = json_of(open("Second").await.unwrap()).await;
    let second: i64 = body["ticket"]["id"].as_str().unwrap().parse().unwrap();
    assert!(second > first, "ticket {second} after removed {first}");
    let second_message = app.message_ids(TicketId(second))[0];
    assert!(second_message > first_message, "message {second_message} after removed {first_message}");
});

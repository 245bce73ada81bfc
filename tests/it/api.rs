//! The Affise-compatible API: JSON shapes and types, filters, errors, scope, races.

use serde_json::Value;

use affdesk::domain::states::{AccessGrant, RequestState, TicketKind, TicketStatus};

use crate::db_test;
use crate::desk::{Find, TicketId};
use crate::harness::TestApp;
use crate::support::{PNG, Settle, assert_counts_consistent};

/// Ticket ids in the list's order.
fn ids(app: &TestApp, find: Find) -> Vec<i64> {
    app.find(find).into_iter().map(|t| t.0).collect()
}

/// Pending requests of one kind, in the list's order.
fn pending(app: &TestApp, kind: TicketKind) -> Vec<i64> {
    ids(app, Find { kind: Some(kind), request_state: Some(RequestState::Pending), ..Find::default() })
}

/// The affiliate's access to the offer a request asked for.
fn grant_of(app: &TestApp, request: i64) -> Option<AccessGrant> {
    let t = app.ticket(TicketId(request));
    app.offer_access(t.offer_id.expect("an offer request"), t.affiliate_id).map(|(grant, _)| grant)
}

fn key_for(app: &TestApp, email: &str) -> String {
    let mut conn = app.conn();
    if let Some(u) = affdesk::domain::users::User::find_by_email(&mut conn, email).unwrap() {
        affdesk::domain::users::User::issue_api_key(&mut conn, u.id).unwrap()
    } else {
        let a = affdesk::domain::affiliates::Affiliate::find_by_email(&mut conn, email).unwrap().unwrap();
        affdesk::domain::affiliates::Affiliate::issue_api_key(&mut conn, a.id).unwrap()
    }
}

async fn get(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new().get(app.url(path)).header("API-Key", key).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, key: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = reqwest::Client::new().post(app.url(path)).header("API-Key", key).form(form).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn assert_error(body: &Value, contains: &str) {
    assert_eq!(body["status"], 2, "{body}");
    let m = body["message"].as_str().unwrap();
    assert_eq!(body["error"].as_str().unwrap(), m);
    assert!(m.contains(contains), "{m} should say {contains}");
}

db_test!(ticket_objects_have_the_contract_types, |app| {
    app.seed_demo();
    let key = key_for(&app, "admin@affdesk.test");
    let (status, body) = get(&app, &key, "/3.0/admin/tickets?limit=500").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], 1);
    assert_eq!(body["pagination"], serde_json::json!({"per_page": 500, "total_count": 200, "page": 1}));
    let tickets = body["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 200);
    let ids: Vec<i64> = tickets.iter().map(|t| t["id"].as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(ids, self::ids(&app, Find::default()));
    for t in tickets {
        assert!(t["id"].is_string() && t["status"].is_string() && t["type"].is_string() && t["title"].is_string());
        assert!(t["description"].is_string() && t["created"].is_string());
        assert!(t["updated"].is_string() || t["updated"].is_null());
        assert!(t["attachments"].is_array());
        assert!(t["comments"]["answers"].is_i64() && t["comments"]["unread"].is_i64());
        let p = &t["partner"];
        assert!(p["id"].is_i64() && p["email"].is_string() && p["login"].is_string() && p["status"].is_string());
        assert!(p["created_at"].is_string() && p["updated_at"].is_string());
        assert!(p.get("api_key").is_none() && p.get("password_hash").is_none(), "no secrets");
        let m = &p["manager"];
        assert!(
            m["id"].is_string()
                && m["type"] == "affiliate_manager"
                && m["roles"].is_array()
                && m.get("password_hash").is_none()
        );
        let created = t["created"].as_str().unwrap();
        assert!(chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%d %H:%M:%S").is_ok(), "{created}");
        assert_ne!(t["type"], "general", "general is called common");
        if t["type"] == "offer_request" {
            let o = &t["offer"];
            assert!(
                o["id"].is_i64()
                    && o["offer_id"].is_string()
                    && o["privacy"].is_string()
                    && o["required_approval"].is_boolean()
            );
            assert!(t["title"].as_str().unwrap().starts_with("Connect offer "));
        } else {
            assert!(t["offer"].is_null());
        }
    }
    // One ticket, and `updated` null when never changed.
    let mut conn = app.conn();
    let new_id = {
        use affdesk::domain::affiliates::Affiliate;
        use affdesk::domain::opening::{self, NewQuestion};
        use affdesk::domain::{Via, tickets::TicketKind};
        let store = affdesk::storage::LocalStore::new(app.data_dir.join("attachments")).unwrap();
        let actor = Affiliate::find(&mut conn, 1).unwrap().unwrap().actor(Via::Panel);
        let question =
            NewQuestion { affiliate_id: None, kind: TicketKind::General, title: "Fresh".into(), body: "New".into() };
        opening::open_question(&mut conn, &store, &actor, question, Vec::new()).settled().unwrap().unwrap().id
    };
    let (status, body) = get(&app, &key, &format!("/3.0/admin/ticket/{new_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], new_id.to_string());
    assert_eq!(body["ticket"]["id"], new_id.to_string());
    assert!(body["ticket"]["updated"].is_null());
    assert_eq!(body["ticket"]["type"], "common");
    assert_eq!(body["ticket"]["partner"]["id"], 1);
});

db_test!(filters_in_both_bracket_forms_and_scope, |app| {
    app.seed_demo();
    let key = key_for(&app, "admin@affdesk.test");
    let (_, body) = get(&app, &key, "/3.0/admin/tickets?type[]=common&type[]=financial&status=open&limit=500").await;
    let ids: Vec<i64> =
        body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().parse().unwrap()).collect();
    let kinds = Some(&[TicketKind::General, TicketKind::Financial][..]);
    assert_eq!(ids, self::ids(&app, Find { kind_in: kinds, status: Some(TicketStatus::Open), ..Find::default() }));
    let (_, body) = get(&app, &key, "/3.0/admin/tickets?pid[0]=1&pid[1]=2&limit=500").await;
    assert_eq!(
        body["pagination"]["total_count"].as_i64().unwrap(),
        self::ids(&app, Find { affiliate_in: Some(&[1, 2]), ..Find::default() }).len() as i64
    );
    let (_, body) = get(&app, &key, "/3.0/admin/tickets?limit=10&page=2").await;
    let ids: Vec<i64> =
        body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(ids, self::ids(&app, Find::default())[10..20].to_vec());
    let (_, body) = get(&app, &key, "/3.0/admin/tickets?search=postback&limit=500").await;
    assert_eq!(body["pagination"]["total_count"].as_i64().unwrap() as usize, body["tickets"].as_array().unwrap().len());

    let m1 = app.staff("manager1@affdesk.test").id;
    let mkey = key_for(&app, "manager1@affdesk.test");
    let (_, body) = get(&app, &mkey, "/3.0/admin/tickets?limit=500").await;
    assert_eq!(
        body["pagination"]["total_count"].as_i64().unwrap(),
        self::ids(&app, Find { manager: Some(m1), ..Find::default() }).len() as i64
    );
    let theirs = self::ids(&app, Find { not_manager: Some(m1), ..Find::default() })[0];
    let (status, body) = get(&app, &mkey, &format!("/3.0/admin/ticket/{theirs}")).await;
    assert_eq!(status, 404);
    assert_error(&body, "Not found");
});

db_test!(errors_use_the_envelope, |app| {
    app.seed_demo();
    let key = key_for(&app, "admin@affdesk.test");
    let (status, body) = get(&app, "", "/3.0/admin/tickets").await;
    assert_eq!(status, 401);
    assert_error(&body, "Token is necessary");
    let (status, body) = get(&app, "wrong", "/3.0/admin/tickets").await;
    assert_eq!(status, 401);
    assert_error(&body, "not valid");
    let resp = reqwest::Client::new().get(app.url(&format!("/3.0/admin/tickets?api-key={key}"))).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_error(&resp.json().await.unwrap(), "API-Key header");
    for (query, says) in [
        ("limit=501", "limit must be between 1 and 500"),
        ("type[]=bogus", "Unknown question type \"bogus\""),
        ("status=maybe", "status must be open, pending or closed"),
        ("pid[]=x", "pid must hold integers"),
        ("page=0", "page must be 1 or more"),
    ] {
        let (status, body) = get(&app, &key, &format!("/3.0/admin/tickets?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_error(&body, says);
    }
    let general = ids(&app, Find { kind: Some(TicketKind::General), ..Find::default() })[0];
    let (status, body) = post(&app, &key, &format!("/3.0/admin/ticket/{general}/offer"), &[("do", "approve")]).await;
    assert_eq!(status, 400);
    assert_error(&body, "is not an offer access request");
    let pending = pending(&app, TicketKind::OfferRequest)[0];
    let (status, body) = post(&app, &key, &format!("/3.0/admin/ticket/{pending}/offer"), &[("do", "maybe")]).await;
    assert_eq!(status, 400);
    assert_error(&body, "do must be approve or reject");
    let (status, body) = post(&app, &key, &format!("/3.0/admin/ticket/{pending}/offer"), &[]).await;
    assert_eq!(status, 400);
    assert_error(&body, "do is required");
    // A disabled user's key stops working at once.
    let mut conn = app.conn();
    affdesk::domain::users::User::set_disabled(&mut conn, app.staff("admin@affdesk.test").id, true).unwrap();
    let (status, _) = get(&app, &key, "/3.0/admin/tickets").await;
    assert_eq!(status, 401);
});

db_test!(approve_and_reject_through_the_api, |app| {
    app.seed_demo();
    let key = key_for(&app, "admin@affdesk.test");
    let offer_ticket = pending(&app, TicketKind::OfferRequest)[0];
    // The fields may come in the query string of the POST too.
    let (status, body) = post(&app, &key, &format!("/3.0/admin/ticket/{offer_ticket}/offer?do=approve"), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, serde_json::json!({"status": 1, "message": "Request is successfully"}));
    let t = app.ticket(TicketId(offer_ticket));
    assert_eq!((t.request_state, t.status), (Some(RequestState::Approved), TicketStatus::Closed));
    let audited = app.audit_detail(TicketId(offer_ticket), affdesk::domain::states::AuditAction::Approve);
    assert_eq!(audited, "api", "the audit says the API did it");
    // Approving twice is a conflict; Reject takes the granted access away again.
    let (status, body) =
        post(&app, &key, &format!("/3.0/admin/ticket/{offer_ticket}/offer"), &[("do", "approve")]).await;
    assert_eq!(status, 409);
    assert_error(&body, "already decided");
    let (status, body) =
        post(&app, &key, &format!("/3.0/admin/ticket/{offer_ticket}/offer"), &[("do", "reject")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(grant_of(&app, offer_ticket), Some(AccessGrant::Disabled));
    let (status, body) =
        post(&app, &key, &format!("/3.0/admin/ticket/{offer_ticket}/offer"), &[("do", "reject")]).await;
    assert_eq!(status, 409);
    assert_error(&body, "already rejected");
    let smartlink_ticket = pending(&app, TicketKind::SmartlinkRequest)[0];
    let form = reqwest::multipart::Form::new().text("do", "reject");
    let resp = reqwest::Client::new()
        .post(app.url(&format!("/3.0/admin/ticket/{smartlink_ticket}/smartlink")))
        .header("API-Key", &key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["message"], "SmartLink privacy is updated");
    assert_eq!(app.ticket(TicketId(smartlink_ticket)).request_state, Some(RequestState::Rejected));
    assert_counts_consistent(&app);
});

db_test!(the_api_race_gives_one_200_and_one_409, |app| {
    app.seed_demo();
    let key = key_for(&app, "admin@affdesk.test");
    let pending = pending(&app, TicketKind::OfferRequest);
    // Two approvals at once: one approves, the other finds it decided.
    for id in pending.iter().take(2) {
        let path = format!("/3.0/admin/ticket/{id}/offer");
        let (a, b) =
            tokio::join!(post(&app, &key, &path, &[("do", "approve")]), post(&app, &key, &path, &[("do", "approve")]));
        let mut codes = [a.0, b.0];
        codes.sort();
        assert_eq!(codes, [200, 409], "{a:?} {b:?}");
    }
    // Approve and Reject at once end rejected, without access, whichever runs first:
    // Reject after Approve revokes; Approve after Reject is a conflict.
    for id in pending.iter().skip(2).take(2) {
        let path = format!("/3.0/admin/ticket/{id}/offer");
        let (a, r) =
            tokio::join!(post(&app, &key, &path, &[("do", "approve")]), post(&app, &key, &path, &[("do", "reject")]));
        assert_eq!(r.0, 200, "{r:?}");
        assert!(a.0 == 200 || a.0 == 409, "{a:?}");
        assert_eq!(app.ticket(TicketId(*id)).request_state, Some(RequestState::Rejected));
        assert_eq!(grant_of(&app, *id), Some(AccessGrant::Disabled));
    }
    assert_counts_consistent(&app);
});

db_test!(partner_asks_for_an_offer, |app| {
    app.seed_demo();
    let key = key_for(&app, "affiliate1@affdesk.test");
    // A premoderated offer nobody asked for yet.
    let offer = app.with_offer(&app.staff("admin@affdesk.test"), "Fresh promo").0;
    let (status, body) = post(&app, &key, "/3.0/partner/activation/offer", &[("offer_id", &offer.to_string())]).await;
    assert_eq!(status, 400);
    assert_error(&body, "comment is required");
    let (status, body) =
        post(&app, &key, "/3.0/partner/activation/offer", &[("offer_id", &offer.to_string()), ("comment", "SEO")])
            .await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"status": 1, "message": "Request is successfully"}));
    assert_eq!(app.ticket(app.newest_ticket()).title, format!("Connect offer Fresh promo ({offer})"));
    let (status, body) =
        post(&app, &key, "/3.0/partner/activation/offer", &[("offer_id", &offer.to_string()), ("comment", "again")])
            .await;
    assert_eq!(status, 409);
    assert_error(&body, "already asked");
    let (status, _) =
        post(&app, &key, "/3.0/partner/activation/offer", &[("offer_id", "999999"), ("comment", "x")]).await;
    assert_eq!(status, 404);
    // A partner key is not an admin key, and vice versa: a valid key of the wrong
    // kind is not allowed (403), which is not the same as a wrong key (401).
    let (status, body) = get(&app, &key, "/3.0/admin/tickets").await;
    assert_eq!(status, 403);
    assert_error(&body, "not allowed with an affiliate's API key");
    let admin = key_for(&app, "admin@affdesk.test");
    let (status, body) =
        post(&app, &admin, "/3.0/partner/activation/offer", &[("offer_id", &offer.to_string()), ("comment", "x")])
            .await;
    assert_eq!(status, 403);
    assert_error(&body, "not allowed with a manager's API key");
    let (status, _) = get(&app, "no-such-key", "/3.0/admin/tickets").await;
    assert_eq!(status, 401);
});

db_test!(everything_a_manager_does_can_be_automated, |app| {
    app.seed_demo();
    let key = key_for(&app, "admin@affdesk.test");
    // Open a ticket with a file.
    let form = reqwest::multipart::Form::new()
        .text("pid", "4")
        .text("type", "technical")
        .text("title", "Pixel check")
        .text("description", "Please verify the pixel.")
        .part("files", reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("pixel.png"));
    let resp = reqwest::Client::new()
        .post(app.url("/3.0/admin/ticket"))
        .header("API-Key", &key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let id: i64 = body["ticket"]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(body["ticket"]["partner"]["id"], 4);
    let url = body["ticket"]["attachments"][0].as_str().unwrap().to_string();
    // Absolute, on the desk's public URL (the tests' is http://affdesk.test).
    let path = url.strip_prefix("http://affdesk.test").expect("an absolute link on the public URL");
    let resp = reqwest::Client::new().get(app.url(path)).header("API-Key", &key).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);
    // A bad file refuses the whole request and leaves nothing.
    let before = app.messages_in(TicketId(id), false);
    let form = reqwest::multipart::Form::new()
        .text("text", "x")
        .part("files", reqwest::multipart::Part::bytes(b"text".to_vec()).file_name("a.png"));
    let resp = reqwest::Client::new()
        .post(app.url(&format!("/3.0/admin/ticket/{id}/comment")))
        .header("API-Key", &key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(app.messages_in(TicketId(id), false), before);
    // A yes/no field with another value is refused, never read as "no": a typo must
    // not publish an internal note to the affiliate.
    for (field, value) in [("internal", "banana"), ("close", "yes please"), ("internal", "2")] {
        let (status, body) =
            post(&app, &key, &format!("/3.0/admin/ticket/{id}/comment"), &[("text", "secret"), (field, value)]).await;
        assert_eq!(status, 400, "{field}={value}");
        assert_error(&body, &format!("{field} must be 1 or 0"));
    }
    assert_eq!(app.messages_in(TicketId(id), false), before);
    // Comment, note, read the thread.
    let (status, _) =
        post(&app, &key, &format!("/3.0/admin/ticket/{id}/comment"), &[("text", "Checked, all good.")]).await;
    assert_eq!(status, 200);
    let (status, _) =
        post(&app, &key, &format!("/3.0/admin/ticket/{id}/comment"), &[("text", "note to self"), ("internal", "1")])
            .await;
    assert_eq!(status, 200);
    let (_, body) = get(&app, &key, &format!("/3.0/admin/ticket/{id}/comments")).await;
    let comments = body["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 3);
    assert_eq!(comments[2]["internal"], true);
    assert!(comments[0]["id"].is_string() && comments[0]["created"].is_string());
    // Close, close again (409), reopen, remove.
    let (status, body) = post(&app, &key, &format!("/3.0/admin/ticket/{id}/close"), &[]).await;
    assert_eq!((status, body["message"].as_str().unwrap()), (200, "Ticket is closed"));
    let (status, _) = post(&app, &key, &format!("/3.0/admin/ticket/{id}/close"), &[]).await;
    assert_eq!(status, 409);
    let (status, _) = post(&app, &key, &format!("/3.0/admin/ticket/{id}/reopen"), &[]).await;
    assert_eq!(status, 200);
    let (status, _) = post(&app, &key, &format!("/3.0/admin/ticket/{id}/remove"), &[]).await;
    assert_eq!(status, 200);
    assert!(!app.exists(TicketId(id)));
    let (status, _) = get(&app, &key, &format!("/3.0/admin/ticket/{id}")).await;
    assert_eq!(status, 404);
    assert_counts_consistent(&app);
    // Templates.
    let (status, body) =
        post(&app, &key, "/3.0/admin/template", &[("title", "API made"), ("text", "Hi {affiliate.name}")]).await;
    assert_eq!(status, 200, "{body}");
    let tid = body["template"]["id"].as_str().unwrap().to_string();
    let (status, _) = post(&app, &key, "/3.0/admin/template", &[("title", "API made"), ("text", "dup")]).await;
    assert_eq!(status, 409);
    let (status, _) = post(&app, &key, "/3.0/admin/template", &[("title", ""), ("text", "x")]).await;
    assert_eq!(status, 400);
    let (status, body) = post(&app, &key, "/3.0/admin/template", &[("title", "T"), ("text", "{offer.url}")]).await;
    assert_eq!(status, 400);
    assert_error(&body, "{offer.url} is not a variable");
    let (status, body) =
        post(&app, &key, &format!("/3.0/admin/template/{tid}"), &[("title", "API made 2"), ("text", "Changed")]).await;
    assert_eq!((status, body["template"]["text"].as_str().unwrap()), (200, "Changed"));
    let (_, body) = get(&app, &key, "/3.0/admin/templates").await;
    assert!(body["templates"].as_array().unwrap().iter().any(|t| t["title"] == "API made 2"));
    let (status, _) = post(&app, &key, &format!("/3.0/admin/template/{tid}/remove"), &[]).await;
    assert_eq!(status, 200);
    let (status, _) = post(&app, &key, &format!("/3.0/admin/template/{tid}/remove"), &[]).await;
    assert_eq!(status, 404);
    // Another manager's affiliate cannot get a ticket from this manager.
    let mkey = key_for(&app, "manager1@affdesk.test");
    let theirs = app.with_affiliate_of(&app.with_manager("omar@network.test"), "blog@partners.test").id;
    let (status, _) = post(
        &app,
        &mkey,
        "/3.0/admin/ticket",
        &[("pid", &theirs.to_string()), ("type", "common"), ("title", "x"), ("description", "y")],
    )
    .await;
    assert_eq!(status, 400);
});

db_test!(profile_pages_regenerate_keys_shown_once, |app| {
    app.seed_demo();
    let mut manager = app.login_admin("manager1@affdesk.test").await;
    let page = manager.get("/admin/profile").await;
    assert!(page.contains("Regenerate API key"));
    let page = manager.post("/admin/profile/api-key", &[]).await;
    assert_eq!(page.status, 200);
    let key = page.body.split("<code class=\"api-key\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert_eq!(key.len(), 40);
    assert_eq!(get(&app, &key, "/3.0/admin/tickets?limit=1").await.0, 200);
    assert!(!manager.get("/admin/profile").await.contains(&key), "shown only once");
    assert!(!app.api_key_kept_in_clear(&key), "only the hash is stored");
    // A new key stops the old one.
    manager.post("/admin/profile/api-key", &[]).await;
    assert_eq!(get(&app, &key, "/3.0/admin/tickets?limit=1").await.0, 401);

    let mut affiliate = app.login_affiliate("affiliate2@affdesk.test").await;
    affiliate.get("/affiliate/profile").await;
    let page = affiliate.post("/affiliate/profile/api-key", &[]).await;
    let key = page.body.split("<code class=\"api-key\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let (status, _) = post(&app, &key, "/3.0/partner/activation/offer", &[("offer_id", "1"), ("comment", "x")]).await;
    assert_ne!(status, 401);
    let mut conn = app.conn();
    affdesk::domain::affiliates::Affiliate::set_status(&mut conn, 2, affdesk::domain::states::AffiliateStatus::Banned)
        .unwrap();
    let (status, _) = post(&app, &key, "/3.0/partner/activation/offer", &[("offer_id", "1"), ("comment", "x")]).await;
    assert_eq!(status, 401, "a banned affiliate's key stops at once");
});

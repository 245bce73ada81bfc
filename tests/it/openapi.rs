//! The OpenAPI document against the real API: every documented method answers,
//! and real responses match the documented schemas (so the two cannot drift).

use affdesk::domain::states::{RequestState, TicketKind, TicketStatus};
use serde_json::Value;

use crate::db_test;
use crate::desk::Find;
use crate::harness::TestApp;
use crate::support::*;

fn spec() -> Value {
    serde_json::from_str(affdesk::api::OPENAPI).expect("openapi.json is JSON")
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &spec["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// A small validator for the parts of OpenAPI 3.0 the document uses.
fn check(spec: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(spec, schema);
    if value.is_null() {
        assert!(schema["nullable"] == true, "{at}: null where the document does not allow it");
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(spec, s, value, at);
        }
        return;
    }
    let ty = schema["type"].as_str().unwrap_or("object");
    let ok = match ty {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        other => panic!("{at}: type {other} not handled"),
    };
    assert!(ok, "{at}: expected {ty}, got {value}");
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        assert!(options.contains(value), "{at}: {value} is not one of {options:?}");
    }
    if ty == "array"
        && let Some(items) = schema.get("items")
    {
        for (i, v) in value.as_array().unwrap().iter().enumerate() {
            check(spec, items, v, &format!("{at}[{i}]"));
        }
    }
    if ty == "object" {
        let props = schema.get("properties").and_then(Value::as_object);
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let r = r.as_str().unwrap();
            assert!(value.get(r).is_some(), "{at}: required field {r} is missing");
        }
        if let Some(props) = props {
            for (k, v) in value.as_object().unwrap() {
                let s = props.get(k).unwrap_or_else(|| panic!("{at}: field {k} is not documented"));
                check(spec, s, v, &format!("{at}.{k}"));
            }
        }
    }
}

fn response_schema<'a>(spec: &'a Value, path: &str, method: &str, status: u16) -> &'a Value {
    let op = &spec["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is documented");
    let resp = &op["responses"][status.to_string()];
    assert!(resp.is_object(), "{method} {path} documents status {status}");
    &resp["content"]["application/json"]["schema"]
}

async fn call(app: &TestApp, key: &str, method: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let client = reqwest::Client::new();
    let req = if method == "get" { client.get(app.url(path)) } else { client.post(app.url(path)).form(form) };
    let resp = req.header("API-Key", key).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

db_test!(real_responses_match_the_document, |app| {
    app.seed_demo();
    let spec = spec();
    let key = {
        let mut conn = app.conn();
        let u = affdesk::domain::users::User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
        affdesk::domain::users::User::issue_api_key(&mut conn, u.id).unwrap()
    };
    let partner = {
        let mut conn = app.conn();
        affdesk::domain::affiliates::Affiliate::issue_api_key(&mut conn, 1).unwrap()
    };
    let pending = app.find(Find {
        kind: Some(TicketKind::OfferRequest),
        request_state: Some(RequestState::Pending),
        ..Find::default()
    })[0]
        .0
        .to_string();
    let pending_sl = app.find(Find {
        kind: Some(TicketKind::SmartlinkRequest),
        request_state: Some(RequestState::Pending),
        ..Find::default()
    })[0]
        .0
        .to_string();
    let general =
        app.find(Find { kind: Some(TicketKind::General), status: Some(TicketStatus::Open), ..Find::default() })[0]
            .0
            .to_string();
    let template = scalar(&app, "SELECT MIN(id) AS n FROM reply_templates").to_string();
    let offer = scalar(
        &app,
        "SELECT MIN(o.id) AS n FROM offers o WHERE o.privacy = 'premoderated' AND o.status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM offer_access x WHERE x.offer_id = o.id AND x.affiliate_id = 1) \
         AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.offer_id = o.id AND t.affiliate_id = 1)",
    )
    .to_string();
    // (documented path, method, real path, form, key, expected status)
    type Case<'a> = (&'a str, &'a str, String, Vec<(&'a str, &'a str)>, &'a str, u16);
    let cases: Vec<Case> = vec![
        ("/3.0/admin/tickets", "get", "/3.0/admin/tickets?limit=50".into(), vec![], &key, 200),
        ("/3.0/admin/tickets", "get", "/3.0/admin/tickets?limit=900".into(), vec![], &key, 400),
        ("/3.0/admin/tickets", "get", "/3.0/admin/tickets".into(), vec![], "nope", 401),
        ("/3.0/admin/ticket/{id}", "get", format!("/3.0/admin/ticket/{pending}"), vec![], &key, 200),
        ("/3.0/admin/ticket/{id}", "get", "/3.0/admin/ticket/99999999".into(), vec![], &key, 404),
        ("/3.0/admin/ticket/{id}/comments", "get", format!("/3.0/admin/ticket/{general}/comments"), vec![], &key, 200),
        (
            "/3.0/admin/ticket/{id}/comment",
            "post",
            format!("/3.0/admin/ticket/{general}/comment"),
            vec![("text", "hello")],
            &key,
            200,
        ),
        (
            "/3.0/admin/ticket/{id}/offer",
            "post",
            format!("/3.0/admin/ticket/{pending}/offer"),
            vec![("do", "approve")],
            &key,
            200,
        ),
        (
            "/3.0/admin/ticket/{id}/offer",
            "post",
            format!("/3.0/admin/ticket/{pending}/offer"),
            vec![("do", "approve")],
            &key,
            409,
        ),
        (
            "/3.0/admin/ticket/{id}/smartlink",
            "post",
            format!("/3.0/admin/ticket/{pending_sl}/smartlink"),
            vec![("do", "reject")],
            &key,
            200,
        ),
        ("/3.0/admin/ticket/{id}/close", "post", format!("/3.0/admin/ticket/{general}/close"), vec![], &key, 200),
        ("/3.0/admin/ticket/{id}/reopen", "post", format!("/3.0/admin/ticket/{general}/reopen"), vec![], &key, 200),
        (
            "/3.0/admin/ticket",
            "post",
            "/3.0/admin/ticket".into(),
            vec![("pid", "1"), ("type", "common"), ("title", "t"), ("description", "d")],
            &key,
            200,
        ),
        ("/3.0/admin/templates", "get", "/3.0/admin/templates".into(), vec![], &key, 200),
        ("/3.0/admin/template", "post", "/3.0/admin/template".into(), vec![("title", "Doc"), ("text", "x")], &key, 200),
        (
            "/3.0/admin/template/{id}",
            "post",
            format!("/3.0/admin/template/{template}"),
            vec![("title", "Doc 2"), ("text", "y")],
            &key,
            200,
        ),
        (
            "/3.0/admin/template/{id}/remove",
            "post",
            format!("/3.0/admin/template/{template}/remove"),
            vec![],
            &key,
            200,
        ),
        (
            "/3.0/partner/activation/offer",
            "post",
            "/3.0/partner/activation/offer".into(),
            vec![("offer_id", &offer), ("comment", "c")],
            &partner,
            200,
        ),
        ("/3.0/admin/ticket/{id}/remove", "post", format!("/3.0/admin/ticket/{general}/remove"), vec![], &key, 200),
    ];
    let mut covered = std::collections::HashSet::new();
    for (doc_path, method, path, form, k, expected) in cases {
        let (status, body) = call(&app, k, method, &path, &form).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        let schema = response_schema(&spec, doc_path, method, status);
        check(&spec, schema, &body, &format!("{method} {path}"));
        covered.insert((doc_path.to_string(), method.to_string()));
    }
    // Every documented method answers (no "No such API method"), and the ones with
    // JSON bodies were checked above.
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let real = path.replace("{id}", "1");
            let (status, body) = call(&app, &key, method, &real, &[]).await;
            assert!(
                !body["message"].as_str().unwrap_or("").starts_with("No such API method"),
                "{method} {path} is routed ({status})"
            );
            let json = ops[method]["responses"]["200"]["content"].get("application/json").is_some();
            let special = path.ends_with("openapi.json") || path.contains("attachments") || path.ends_with("export");
            assert!(
                !json || special || covered.contains(&(path.clone(), method.clone())),
                "{method} {path} has a response check"
            );
        }
    }
    // And every routed method is documented.
    for (method, path) in affdesk::api::API_ROUTES {
        let documented = spec["paths"].get(*path).and_then(|ops| ops.get(method.to_lowercase())).is_some();
        assert!(documented, "{method} {path} is in the OpenAPI document");
    }
    let (status, body) = call(&app, &key, "get", "/3.0/admin/nothing", &[]).await;
    assert_eq!(status, 404);
    assert!(body["message"].as_str().unwrap().starts_with("No such API method"));
    let served: Value = reqwest::get(app.url("/3.0/openapi.json")).await.unwrap().json().await.unwrap();
    assert_eq!(served, spec);
});

#[actix_web::test]
async fn rate_limit_answers_429_with_retry_after_sqlite() {
    rate_limit_answers_429_with_retry_after(crate::harness::Backend::Sqlite).await;
}

/// PostgreSQL counts in the database, for every instance together.
#[actix_web::test]
#[cfg_attr(no_postgres, ignore = "needs PostgreSQL: set TEST_POSTGRES_URL")]
async fn rate_limit_answers_429_with_retry_after_postgres() {
    if std::env::var("TEST_POSTGRES_URL").is_err() {
        assert!(std::env::var("CI").is_err(), "CI must set TEST_POSTGRES_URL");
        return;
    }
    rate_limit_answers_429_with_retry_after(crate::harness::Backend::Postgres).await;
}

async fn rate_limit_answers_429_with_retry_after(backend: crate::harness::Backend) {
    let app = TestApp::start_with(backend, |c| c.api_rate_limit = 3).await;
    app.seed_demo();
    let key = {
        let mut conn = app.conn();
        let u = affdesk::domain::users::User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
        affdesk::domain::users::User::issue_api_key(&mut conn, u.id).unwrap()
    };
    for _ in 0..3 {
        assert_eq!(call(&app, &key, "get", "/3.0/admin/tickets?limit=1", &[]).await.0, 200);
    }
    let resp = reqwest::Client::new().get(app.url("/3.0/admin/tickets")).header("API-Key", &key).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let wait: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 2);
    assert!(body["message"].as_str().unwrap().contains("Too many requests"));
}

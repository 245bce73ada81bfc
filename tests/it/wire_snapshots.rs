//! What clients receive, held as snapshots (`tests/it/snapshots/`): an API ticket
//! object and the htmx fragment of a bulk action's question. Both backends compare
//! against the same snapshot, so they must answer alike. Times and tokens vary from
//! run to run and are replaced before comparing. After an intended change, review
//! the new snapshot with `cargo insta review` (or `INSTA_UPDATE=always cargo test`
//! and read the diff).

use serde_json::Value;

use crate::db_test;

/// "2026-12-06 04:23:16" and the like become "[time]"; everything else stays.
fn without_times(v: Value) -> Value {
    match v {
        Value::String(s) if looks_like_time(&s) => Value::String("[time]".into()),
        Value::Array(items) => Value::Array(items.into_iter().map(without_times).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, without_times(v))).collect()),
        other => other,
    }
}

fn looks_like_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 16 && b[4] == b'-' && b[7] == b'-' && (b[10] == b' ' || b[10] == b'T') && b[13] == b':'
}

/// The CSRF token and the form's one-time submission token vary; their names stay.
fn without_tokens(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("value=\"") {
        let (before, after) = rest.split_at(at + 7);
        out.push_str(before);
        let end = after.find('"').unwrap_or(after.len());
        let value = &after[..end];
        let field = before.rsplit("name=\"").next().and_then(|n| n.split('"').next()).unwrap_or("");
        out.push_str(if field == "csrf_token" && before.contains("name=\"csrf_token\"") { "[token]" } else { value });
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

db_test!(an_api_ticket_object, |app| {
    let maria = app.with_manager("maria@network.test");
    let shop = app.with_affiliate_of(&maria, "shop@partners.test");
    let t = app.as_affiliate(&shop).asks("Payout is late", "Where is the March payout?");
    app.as_manager(&maria).reply(t, "It leaves on Friday.").unwrap();
    let key = app.api_key_of(&maria);
    let resp = reqwest::Client::new()
        .get(app.url(&format!("/3.0/admin/ticket/{}", t.0)))
        .header("API-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    insta::assert_json_snapshot!("api_ticket_object", without_times(body));
});

db_test!(the_question_before_a_bulk_remove, |app| {
    let maria = app.with_manager("maria@network.test");
    let shop = app.with_affiliate_of(&maria, "shop@partners.test");
    let a = app.as_affiliate(&shop).asks("One", "First question.");
    let b = app.as_affiliate(&shop).asks("Two", "Second question.");
    let mut browser = app.browser_as(&maria).await;
    browser.get("/admin/tickets").await;
    let (a, b) = (a.0.to_string(), b.0.to_string());
    let page = browser.htmx_post("/admin/tickets/bulk", &[("action", "remove"), ("ids", &a), ("ids", &b)]).await;
    assert_eq!(page.status, 200);
    insta::assert_snapshot!("bulk_remove_question_fragment", without_tokens(&page.body));
});

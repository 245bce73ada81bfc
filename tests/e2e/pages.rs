//! The main pages as a whole: axe-core finds no serious or critical problem, they fit
//! a laptop and a phone, they work from the keyboard, and their screenshots are saved.

use std::path::Path;

use serde_json::Value;

use crate::browser::Browser;
use crate::{AFFILIATE, MANAGER};

/// axe-core, vendored from npm (MPL-2.0, see assets/axe-LICENSE.txt).
const AXE: &str = include_str!("assets/axe.min.js");

/// The pages whose screenshots the README shows.
const SCREENSHOTS: [&str; 6] = ["list", "thread", "templates", "statistics", "affiliate-support", "affiliate-offers"];

const LAPTOP: (u32, u32) = (1366, 768);
const PHONE: (u32, u32) = (390, 844);

/// Runs every check on each main page of both panels.
pub async fn check_main_pages(b: &Browser, ticket: i64, screenshots: &Path) {
    let admin = [
        ("list", "/admin/tickets".to_string()),
        ("thread", format!("/admin/tickets/{ticket}")),
        ("templates", "/admin/templates".to_string()),
        ("statistics", "/admin/stats/daily?affiliate_id=1".to_string()),
        ("add-ticket", "/admin/tickets/new".to_string()),
        ("affiliates", "/admin/affiliates".to_string()),
        ("offers", "/admin/offers".to_string()),
        ("offer", "/admin/offers/1".to_string()),
        ("smartlinks", "/admin/smartlinks".to_string()),
        ("reports", "/admin/reports".to_string()),
        ("hand-over", format!("/admin/tickets/{ticket}/assign")),
        ("affiliate-beside", format!("/admin/tickets/{ticket}/affiliate")),
    ];
    // What only admins see.
    let admin_only = [
        ("people", "/admin/people".to_string()),
        ("import", "/admin/import".to_string()),
        ("new-offer", "/admin/offers/new".to_string()),
        ("affiliate-edit", "/admin/affiliates/1".to_string()),
    ];
    let affiliate = [
        ("affiliate-support", "/affiliate/tickets".to_string()),
        ("affiliate-thread", format!("/affiliate/tickets/{ticket}")),
        ("affiliate-offers", "/affiliate/offers".to_string()),
        ("affiliate-smartlinks", "/affiliate/smartlinks".to_string()),
        ("affiliate-new-ticket", "/affiliate/tickets/new".to_string()),
    ];
    let mut problems = Vec::new();
    b.client.delete_all_cookies().await.unwrap();
    for login in ["/admin/login", "/affiliate/login"] {
        problems.extend(check_page(b, login, None, screenshots).await);
    }
    b.log_in("admin", MANAGER).await;
    for (name, path) in &admin {
        problems.extend(check_page(b, path, Some(name), screenshots).await);
    }
    b.log_in("admin", "admin@affdesk.test").await;
    for (name, path) in &admin_only {
        problems.extend(check_page(b, path, Some(name), screenshots).await);
    }
    b.log_in("affiliate", AFFILIATE).await;
    for (name, path) in &affiliate {
        problems.extend(check_page(b, path, Some(name), screenshots).await);
    }
    assert!(problems.is_empty(), "problems on the main pages:\n{}", problems.join("\n"));
}

async fn check_page(b: &Browser, path: &str, screenshot: Option<&str>, dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    b.resize(LAPTOP.0, LAPTOP.1).await;
    b.goto(path).await;
    b.find("main").await;
    if b.location().await != path {
        problems.push(format!("{path}: ended up at {}", b.location().await));
    }
    if b.scrolls_sideways().await {
        problems.push(format!("{path}: the page scrolls sideways at {}×{}", LAPTOP.0, LAPTOP.1));
    }
    for v in axe_violations(b).await {
        problems.push(format!("{path}: {v}"));
    }
    if let Some(name) = screenshot.filter(|n| SCREENSHOTS.contains(n)) {
        b.screenshot(dir, name).await;
    }
    b.resize(PHONE.0, PHONE.1).await;
    b.goto(path).await;
    b.find("main").await;
    if b.scrolls_sideways().await {
        problems.push(format!("{path}: the page scrolls sideways on a {}×{} phone", PHONE.0, PHONE.1));
    }
    if screenshot == Some("list") {
        b.screenshot(dir, "list-phone").await;
    }
    b.resize(LAPTOP.0, LAPTOP.1).await;
    problems
}

/// The serious and critical axe-core findings on the current page, one line each.
async fn axe_violations(b: &Browser) -> Vec<String> {
    b.run_script(&format!("{AXE}\n;return true;")).await;
    let result = b
        .run_async_script(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')})`)))
               .catch(e => done(['axe failed: ' + e]));",
        )
        .await;
    match result {
        Value::Array(items) => items.into_iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect(),
        other => vec![format!("axe answered {other}")],
    }
}

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const SPACE: &str = "\u{E00D}";

/// Logging in, reaching the content and ticking a row with the keyboard alone, with
/// the focus visible at each step.
pub async fn keyboard_only(b: &Browser) {
    b.client.delete_all_cookies().await.unwrap();
    b.goto("/admin/login").await;
    // The email field has focus on arrival.
    let focused = b.client.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("email"));
    focused.send_keys(MANAGER).await.unwrap();
    focused.send_keys(TAB).await.unwrap();
    let password = b.client.active_element().await.unwrap();
    assert_eq!(password.attr("id").await.unwrap().as_deref(), Some("password"));
    assert!(focus_is_visible(b).await, "the password field shows focus");
    password.send_keys(&format!("{}{ENTER}", crate::server::PASSWORD)).await.unwrap();
    b.wait_location("log in", |l| l.starts_with("/admin/tickets")).await;

    // The first Tab lands on the skip link, which shows itself.
    b.find("body").await.send_keys(TAB).await.unwrap();
    let skip = b.client.active_element().await.unwrap();
    assert_eq!(skip.text().await.unwrap(), "Skip to content");
    assert!(focus_is_visible(b).await, "the skip link shows focus");

    // Tabbing on reaches a row's checkbox; Space ticks it.
    let first_box = b.find("#bulk tbody input[name=ids]").await;
    let first_id = first_box.attr("value").await.unwrap().unwrap();
    for _ in 0..80 {
        let here = b.client.active_element().await.unwrap();
        if here.attr("name").await.unwrap().as_deref() == Some("ids") {
            break;
        }
        here.send_keys(TAB).await.unwrap();
    }
    let here = b.client.active_element().await.unwrap();
    assert_eq!(here.attr("value").await.unwrap(), Some(first_id), "Tab reaches the first row's checkbox");
    assert!(focus_is_visible(b).await, "the checkbox shows focus");
    here.send_keys(SPACE).await.unwrap();
    assert!(here.is_selected().await.unwrap(), "Space ticks the row");
}

/// The focused element draws an outline (or a ring) that a sighted keyboard user sees.
async fn focus_is_visible(b: &Browser) -> bool {
    let v = b
        .run_script(
            "const s = getComputedStyle(document.activeElement);
             return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';",
        )
        .await;
    v == Value::Bool(true)
}

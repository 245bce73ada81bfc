//! A network bringing its own people, in the browser: an admin invites a manager,
//! who sets a password from the emailed link and logs in; an admin hands one
//! manager's affiliates and tickets to another, who then has them.

use diesel::prelude::*;

use crate::browser::Browser;
use crate::server::Server;

const ADMIN: &str = "admin@affdesk.test";
const INVITED: &str = "nina.roth@network.test";
const INVITED_PASSWORD: &str = "nina's own long password";

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn text(server: &Server, sql: &str) -> String {
    let mut conn = server.db();
    diesel::sql_query(sql).get_result::<Text>(&mut *conn).unwrap().t
}

fn number(server: &Server, sql: &str) -> i64 {
    let mut conn = server.db();
    diesel::sql_query(sql).get_result::<Number>(&mut *conn).unwrap().n
}

/// Journey: invite → set password → log in.
pub async fn invite_set_password_log_in(b: &Browser, server: &Server) {
    b.log_in("admin", ADMIN).await;
    b.goto("/admin/people").await;
    b.fill("#invite-email", "not an address").await;
    b.fill("#invite-name", "Nina Roth").await;
    // The browser's own check would stop an address without "@"; the server's
    // answer next to the field is what a script-less or older browser shows.
    b.run_script("document.getElementById('invite-email').type = 'text'; return true;").await;
    b.click("section[aria-labelledby=invite-title] button[type=submit]").await;
    b.wait_text("#invite-email-error", "Enter an email address").await;
    b.fill("#invite-email", INVITED).await;
    b.fill("#invite-name", "Nina Roth").await;
    b.select("#invite-role", "manager").await;
    b.click("section[aria-labelledby=invite-title] button[type=submit]").await;
    b.wait_text("#flash", INVITED).await;
    b.wait_text("table", "Nina Roth").await;

    // The link from the email, as the invited manager opens it in a fresh browser session.
    let link = text(
        server,
        &format!("SELECT link_path AS t FROM outbox WHERE recipient_email = '{INVITED}' ORDER BY id DESC LIMIT 1"),
    );
    assert!(link.starts_with("/admin/password?token="), "{link}");
    b.client.delete_all_cookies().await.unwrap();
    b.goto(&link).await;
    b.wait_text("main", INVITED).await;
    b.fill("#password", "too short").await;
    b.fill("#repeat", "too short").await;
    b.run_script("document.getElementById('password').removeAttribute('minlength'); document.getElementById('repeat').removeAttribute('minlength'); return true;").await;
    b.click("main button[type=submit]").await;
    b.wait_text("#password-error", "at least 10 characters").await;
    b.fill("#password", INVITED_PASSWORD).await;
    b.fill("#repeat", INVITED_PASSWORD).await;
    b.click("main button[type=submit]").await;
    b.wait_location("the login page", |l| l.ends_with("/admin/login")).await;
    b.fill("#email", INVITED).await;
    b.fill("#password", INVITED_PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_location("the ticket list", |l| l.contains("/admin/tickets")).await;
    b.wait_text("header", "Nina Roth").await;
    // The link is spent.
    b.goto(&link).await;
    b.wait_text("main", "already used").await;
}

/// Journey: hand a manager's affiliates and tickets to another (the invited one).
pub async fn hand_over(b: &Browser, server: &Server) {
    let from = number(server, "SELECT id AS n FROM users WHERE email = 'manager2@affdesk.test'");
    let to = number(server, &format!("SELECT id AS n FROM users WHERE email = '{INVITED}'"));
    let affiliates = number(server, &format!("SELECT COUNT(*) AS n FROM affiliates WHERE manager_id = {from}"));
    let tickets = number(server, &format!("SELECT COUNT(*) AS n FROM tickets WHERE manager_id = {from}"));
    assert!(affiliates > 0 && tickets > 0);
    b.log_in("admin", ADMIN).await;
    b.goto("/admin/people").await;
    b.select("#hand-from", &from.to_string()).await;
    b.select("#hand-to", &to.to_string()).await;
    b.click("#hand-over button[type=submit]").await;
    b.wait_text("#flash", &format!("Handed over {affiliates} affiliates and {tickets} tickets")).await;
    b.wait_text(&format!("#person-{to}"), &affiliates.to_string()).await;
    // The new manager sees them in their own lists.
    b.client.delete_all_cookies().await.unwrap();
    b.goto("/admin/login").await;
    b.fill("#email", INVITED).await;
    b.fill("#password", INVITED_PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_location("the ticket list", |l| l.contains("/admin/tickets")).await;
    b.goto("/admin/affiliates").await;
    b.wait_text("main", &format!("{affiliates} affiliate")).await;
    b.goto(&format!("/admin/tickets?manager_id={to}&status=")).await;
    b.wait_for("#results table.tickets tbody tr").await;
    assert_eq!(number(server, &format!("SELECT COUNT(*) AS n FROM tickets WHERE manager_id = {from}")), 0);
}

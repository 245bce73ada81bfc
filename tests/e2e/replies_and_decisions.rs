//! A manager's working day in the browser: Back and Forward, a dense list, replies
//! that never send a placeholder, templates that replace, decisions with a message,
//! Reject taking access away, collisions, the list staying on its page, the
//! keyboard, and the phone.

use affdesk::domain::Via;
use affdesk::domain::affiliates::Affiliate;
use affdesk::domain::messages::{self, Draft};
use affdesk::storage::LocalStore;
use serde_json::json;

use crate::browser::Browser;
use crate::server::Server;
use crate::{AFFILIATE, MANAGER};

const ENTER: &str = "\u{E007}";
const CONTROL: &str = "\u{E009}";
const ESCAPE: &str = "\u{E00C}";

/// The ids of the list's rows, in order.
async fn row_ids(b: &Browser) -> Vec<i64> {
    b.wait_idle().await;
    let ids = b
        .run_script("return [...document.querySelectorAll('#results table.tickets tbody tr')].map(tr => tr.id);")
        .await;
    let ids: Vec<String> = serde_json::from_value(ids).unwrap();
    ids.iter().map(|id| id.trim_start_matches("ticket-").parse().unwrap()).collect()
}

/// Presses keys wherever the focus is, as a person does (WebDriver key actions;
/// the modifier keys in `keys` are held until the end).
async fn press(b: &Browser, keys: &str) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut actions = KeyActions::new("keyboard".into());
    let mut held = Vec::new();
    for c in keys.chars() {
        if c == CONTROL_KEY {
            actions = actions.then(KeyAction::Down { value: c });
            held.push(c);
            continue;
        }
        actions = actions.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
    }
    for c in held {
        actions = actions.then(KeyAction::Up { value: c });
    }
    b.client.perform_actions(actions).await.unwrap();
}

const CONTROL_KEY: char = '\u{E009}';

async fn flashes(b: &Browser) -> usize {
    b.run_script("return document.querySelectorAll('.flash-success, .flash-info').length;").await.as_u64().unwrap()
        as usize
}

/// Waits for a `window.confirm` and answers it.
async fn answer_confirm(b: &Browser, accept: bool) -> String {
    let started = std::time::Instant::now();
    loop {
        if let Ok(text) = b.client.get_alert_text().await {
            if accept {
                b.client.accept_alert().await.unwrap();
            } else {
                b.client.dismiss_alert().await.unwrap();
            }
            return text;
        }
        assert!(started.elapsed().as_secs() < 10, "no confirmation was asked");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn wait_value(b: &Browser, css: &str, ok: impl Fn(&str) -> bool, what: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let v = b.value(css).await;
        if ok(&v) {
            return v;
        }
        assert!(started.elapsed().as_secs() < 15, "{css} never {what}; it holds {v:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn template_value(b: &Browser, title: &str) -> String {
    for option in b.find_all("#template_id option").await {
        if option.text().await.unwrap() == title {
            return option.attr("value").await.unwrap().unwrap();
        }
    }
    panic!("no quick-reply template titled {title}");
}

/// An open general question of affiliate1, opened from the list.
async fn open_question(b: &Browser) -> i64 {
    b.goto("/admin/tickets?type=general&status=open&affiliate_id=1").await;
    let id = row_ids(b).await[0];
    b.click(&format!("#ticket-{id} a.title")).await;
    b.wait_location("open the thread", |l| l.starts_with(&format!("/admin/tickets/{id}"))).await;
    b.find("#reply-body").await;
    id
}

/// At 1366×768 a dozen rows show without scrolling; Back, Forward and reload
/// after filtering and paging bring back whole pages.
pub async fn density_and_history(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    b.resize(1366, 768).await;
    b.goto("/admin/tickets").await;
    let visible = b
        .run_script(
            "return [...document.querySelectorAll('#results table.tickets tbody tr')]
                .filter(tr => tr.getBoundingClientRect().bottom <= window.innerHeight).length;",
        )
        .await;
    assert!(visible.as_u64().unwrap() >= 12, "{visible} rows fit a 1366×768 screen");
    let one_line = b
        .run_script(
            "const a = document.querySelector('#results tbody tr a.title');
             return a.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(a).lineHeight || 20);",
        )
        .await;
    assert_eq!(one_line, json!(true), "titles take one line");

    b.select("#f-status", "open").await;
    b.wait_location("filter", |l| l.contains("status=open")).await;
    let page1 = row_ids(b).await;
    b.click("nav.pager a[rel=next]").await;
    b.wait_location("page", |l| l.contains("&page=2")).await;
    let page2 = row_ids(b).await;
    assert_ne!(page1, page2);

    b.client.back().await.unwrap();
    b.wait_location("go back to page 1", |l| l.contains("status=open") && !l.contains("&page=2")).await;
    b.find("#filters").await;
    b.find("header.topbar").await;
    assert_eq!(row_ids(b).await, page1, "Back shows page 1 whole");
    assert_eq!(b.value("#f-status").await, "open");
    b.client.back().await.unwrap();
    b.wait_location("go back to the plain list", |l| l == "/admin/tickets").await;
    b.find("#filters").await;
    assert_eq!(b.value("#f-status").await, "");
    b.client.forward().await.unwrap();
    b.wait_location("go forward", |l| l.contains("status=open") && !l.contains("&page=2")).await;
    b.find("header.topbar").await;
    b.client.forward().await.unwrap();
    b.wait_location("go forward to page 2", |l| l.contains("&page=2")).await;
    b.find("#filters").await;
    assert_eq!(row_ids(b).await, page2, "Forward shows page 2 whole");
    b.client.refresh().await.unwrap();
    b.find("#filters").await;
    assert_eq!(row_ids(b).await, page2, "a reload too");
    b.assert_clean_console("Back and Forward").await;
}

/// A template whose variables the ticket cannot fill is not sent; picking a
/// template replaces untouched text at once and asks before replacing typing.
pub async fn templates_and_placeholders(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    let ticket = open_question(b).await;
    let messages_before = b.find_all(".thread > li").await.len();

    // Typed text: picking a template asks first; "no" keeps the text.
    b.fill("#reply-body", "My own words").await;
    let looking = template_value(b, "Looking into it").await;
    b.select("#template_id", &looking).await;
    let asked = answer_confirm(b, false).await;
    assert!(asked.contains("Replace the text you typed"), "{asked}");
    assert_eq!(b.value("#reply-body").await, "My own words");
    // "Yes" replaces it.
    b.select("#template_id", "").await;
    b.select("#template_id", &looking).await;
    answer_confirm(b, true).await;
    let filled = wait_value(b, "#reply-body", |v| v.contains("looking into ticket"), "held the template").await;
    assert!(!filled.contains("My own words"));

    // Untouched template text is replaced without asking, never stacked.
    let approved = template_value(b, "Offer approved").await;
    b.select("#template_id", &approved).await;
    let filled = wait_value(b, "#reply-body", |v| v.contains("{offer.title}"), "held the second template").await;
    assert!(!filled.contains("looking into ticket"), "templates do not stack: {filled}");
    b.wait_text("#reply-body-field .flash-warning", "{offer.title}").await;
    let grown = b
        .run_script("const t = document.getElementById('reply-body'); return t.scrollHeight <= t.clientHeight + 4;")
        .await;
    assert_eq!(grown, json!(true), "the box shows the whole template");

    // Send refuses it: the variables are named next to the box, the text stays.
    b.click("#reply button[data-send]").await;
    b.wait_text("#reply-body-error", "{offer.title}").await;
    assert!(b.value("#reply-body").await.contains("{offer.title}"), "the text is kept");
    assert_eq!(b.find_all(".thread > li").await.len(), messages_before, "nothing was sent");
    assert!(!b.text(".thread").await.contains("{offer.title}"));
    let _ = ticket;
    b.assert_clean_console("templates and placeholders").await;
}

/// affiliate1 asks for a premoderated offer; returns the offer and the ticket.
async fn request_an_offer(b: &Browser) -> (String, i64) {
    b.log_in("affiliate", AFFILIATE).await;
    b.goto("/affiliate/offers").await;
    let mut row = None;
    for tr in b.find_all("main table tbody tr").await {
        if tr.find(fantoccini::Locator::Css("form.request-form")).await.is_ok() {
            row = Some(tr.attr("id").await.unwrap().unwrap());
            break;
        }
    }
    let row = row.expect("an offer affiliate1 can ask for");
    let offer = row.trim_start_matches("offers-").to_string();
    b.fill(&format!("#comment-{offer}"), "Native ads, about 5k clicks a day.").await;
    b.click(&format!("#{row} button[type=submit]")).await;
    let flash = b.wait_text("#flash", "Request sent to your manager").await;
    assert_eq!(flashes(b).await, 1, "one banner");
    let ticket = flash
        .rsplit("ticket ")
        .next()
        .and_then(|s| s.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok())
        .unwrap_or_else(|| panic!("a ticket number in {flash:?}"));
    (offer, ticket)
}

/// Approve and send is one submit; the thread shows one banner.
pub async fn approve_and_send(b: &Browser) {
    let (offer, ticket) = request_an_offer(b).await;
    b.log_in("admin", MANAGER).await;
    b.goto(&format!("/admin/tickets/{ticket}")).await;
    b.wait_text("#decision-effects", "Approve:").await;
    b.fill("#reply-body", "Welcome aboard, the offer is yours.").await;
    b.click("#reply button[name=then][value=approve]").await;
    b.wait_text("#flash", "Reply sent and request approved.").await;
    assert_eq!(flashes(b).await, 1, "one banner");
    b.wait_text(".facts", "approved").await;
    b.wait_text(".thread", "Welcome aboard, the offer is yours.").await;
    b.log_in("affiliate", AFFILIATE).await;
    b.goto("/affiliate/offers").await;
    b.wait_text(&format!("#offers-{offer}"), "Approved").await;
    b.assert_clean_console("approve and send").await;
}

/// Reject takes away access that a manager granted by hand.
pub async fn reject_revokes_access_granted_by_hand(b: &Browser, server: &Server) {
    let (offer, ticket) = request_an_offer(b).await;
    {
        use diesel::prelude::*;
        let mut conn = server.db();
        let sql = format!(
            "INSERT INTO offer_access (offer_id, affiliate_id, state, source, updated_at) \
             VALUES ({offer}, 1, 'enabled', 'manual', '2026-01-01 00:00:00') \
             ON CONFLICT (offer_id, affiliate_id) DO UPDATE SET state = 'enabled', source = 'manual'"
        );
        diesel::sql_query(sql).execute(&mut *conn).unwrap();
    }
    b.goto("/affiliate/offers").await;
    b.wait_text(&format!("#offers-{offer}"), "Available").await;
    b.log_in("admin", MANAGER).await;
    b.goto(&format!("/admin/tickets/{ticket}")).await;
    b.wait_text("#decision-effects", "granted by hand, is revoked").await;
    b.fill("#reply-body", "Kept while deciding").await;
    b.click(".page-head button[value=reject]").await;
    b.wait_text("#flash", &format!("Request in ticket {ticket} rejected.")).await;
    assert_eq!(b.value("#reply-body").await, "Kept while deciding", "the typed reply stays");
    b.wait_text(".thread", "granted by hand, was revoked").await;
    b.log_in("affiliate", AFFILIATE).await;
    b.goto("/affiliate/offers").await;
    b.wait_text(&format!("#offers-{offer}"), "Rejected").await;
    b.assert_clean_console("reject revoking access").await;
}

/// Someone replies while the manager writes: Send does not go through blindly.
pub async fn collision(b: &Browser, server: &Server) {
    b.log_in("admin", MANAGER).await;
    let ticket = open_question(b).await;
    b.fill("#reply-body", "We fixed the postback.").await;
    {
        let mut conn = server.db();
        let store = LocalStore::new(server.data_dir.join("attachments")).unwrap();
        let affiliate = Affiliate::find(&mut conn, 1).unwrap().unwrap().actor(Via::Panel);
        // Written from outside the server: it hears of it as of another instance's.
        let _effects =
            messages::reply(&mut conn, &store, &affiliate, ticket, Draft::new("Any news on this?"), false, Vec::new())
                .unwrap();
    }
    b.click("#reply button[data-send]").await;
    b.wait_text("#reply-body-field .flash-warning", "While you were writing, the affiliate replied.").await;
    assert_eq!(b.value("#reply-body").await, "We fixed the postback.", "the text is kept");
    b.wait_text(".thread", "Any news on this?").await;
    b.click("#reply button[data-send]").await;
    b.wait_text("#flash", "Reply sent.").await;
    b.wait_text(".thread li.from-manager:last-child", "We fixed the postback.").await;
    b.assert_clean_console("collision").await;
}

/// A bulk action on page 3 leaves the list on page 3, saying what it did.
pub async fn bulk_on_page_three(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    b.goto("/admin/tickets?status=open&per_page=10").await;
    b.click("nav.pager a[rel=next]").await;
    b.wait_text("#match-count", "page 2").await;
    b.click("nav.pager a[rel=next]").await;
    b.wait_text("#match-count", "page 3").await;
    // A question (closing a pending request would ask about it first).
    let questions = b
        .run_script(
            "return [...document.querySelectorAll('#results tbody tr')]
                .filter(tr => !tr.querySelector('.badge-pending')).map(tr => tr.id);",
        )
        .await;
    let questions: Vec<String> = serde_json::from_value(questions).unwrap();
    let id: i64 = questions[0].trim_start_matches("ticket-").parse().unwrap();
    b.click(&format!("#ticket-{id} input[name=ids]")).await;
    b.click("#bulk button[name=action][value=close]").await;
    b.wait_text("#flash", &format!("Closed #{id}")).await;
    assert!(b.text("#match-count").await.contains("page 3"), "still page 3");
    assert!(b.location().await.contains("page=3"));
    // Closed, it has left this filter; the page shows what is open now.
    assert!(!row_ids(b).await.contains(&id));
    b.assert_clean_console("bulk on page 3").await;
}

/// Three tickets answered with the keyboard alone: j/k/x/Enter in the list, r,
/// Ctrl+Enter and n in the thread; ? lists the keys; typing is never taken for a key.
pub async fn keyboard_triage(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    b.goto("/admin/tickets?status=open&type=technical").await;
    let ids = row_ids(b).await;
    assert!(ids.len() >= 3);
    // Typing into a field is typing.
    b.click("#f-q").await;
    press(b, "jjx").await;
    assert_eq!(b.value("#f-q").await, "jjx");
    assert_eq!(b.find_all("tr.current").await.len(), 0, "no shortcut fired while typing");
    b.fill("#f-q", "").await;
    b.run_script("document.activeElement.blur(); return true;").await;

    press(b, "?").await;
    b.wait_for("dialog#keys-dialog[open]").await;
    press(b, ESCAPE).await;
    press(b, "j").await;
    press(b, "x").await;
    assert!(b.find(&format!("#ticket-{} input[name=ids]", ids[0])).await.is_selected().await.unwrap());
    press(b, "x").await;
    press(b, "j").await;
    press(b, "k").await;
    assert!(b.find(&format!("#ticket-{}", ids[0])).await.attr("class").await.unwrap().unwrap().contains("current"));
    press(b, ENTER).await;
    for (n, expected) in ids.iter().take(3).enumerate() {
        b.wait_location("open the ticket", |l| l.starts_with(&format!("/admin/tickets/{expected}"))).await;
        b.find("#reply-body").await;
        press(b, "r").await;
        press(b, &format!("Looking at it now ({n}).")).await;
        press(b, &format!("{CONTROL}{ENTER}")).await;
        b.wait_text("#flash", "Reply sent").await;
        b.wait_text(".thread li.from-manager:last-child", &format!("Looking at it now ({n}).")).await;
        let focus = b.run_script("return document.activeElement ? document.activeElement.id : '';").await;
        assert_ne!(focus, json!("reply-body"), "after a send the keys are the page's again");
        if n < 2 {
            press(b, "n").await;
        }
    }
    b.assert_clean_console("keyboard triage").await;
}

/// Without a reload: the list says that tickets came in, and an open thread shows
/// the affiliate typing and then their reply.
pub async fn live_updates(b: &Browser, server: &Server) {
    use affdesk::domain::opening::{self, NewQuestion};
    use affdesk::domain::states::TicketKind;
    b.log_in("admin", MANAGER).await;
    b.goto("/admin/tickets?status=open").await;
    b.wait_for("#results").await;
    let store = LocalStore::new(server.data_dir.join("attachments")).unwrap();
    let ticket = {
        let mut conn = server.db();
        let affiliate = Affiliate::find(&mut conn, 1).unwrap().unwrap().actor(Via::Panel);
        let question = NewQuestion {
            affiliate_id: None,
            kind: TicketKind::Technical,
            title: "Live: clicks dropped".into(),
            body: "Since noon we see no clicks.".into(),
        };
        opening::open_question(&mut conn, &store, &affiliate, question, Vec::new()).unwrap().into_parts().0.unwrap().id
    };
    b.wait_text("#live-banner", "1 new or updated ticket — show").await;
    b.click("#live-banner a").await;
    b.wait_location("show the list again", |l| l.starts_with("/admin/tickets?status=open")).await;
    b.wait_text(&format!("#ticket-{ticket}"), "Live: clicks dropped").await;

    b.click(&format!("#ticket-{ticket} a.title")).await;
    b.find("#reply-body").await;
    b.fill("#reply-body", "Looking").await;
    {
        let mut conn = server.db();
        let affiliate = Affiliate::find(&mut conn, 1).unwrap().unwrap().actor(Via::Panel);
        // Written from outside the server: it hears of it as of another instance's.
        let _effects = affdesk::domain::live::typing(&mut conn, &affiliate, ticket).unwrap();
    }
    b.wait_text("#typing", "is replying").await;
    {
        let mut conn = server.db();
        let affiliate = Affiliate::find(&mut conn, 1).unwrap().unwrap().actor(Via::Panel);
        // Written from outside the server: it hears of it as of another instance's.
        let _effects =
            messages::reply(&mut conn, &store, &affiliate, ticket, Draft::new("It is back now!"), false, Vec::new())
                .unwrap();
    }
    b.wait_text("#thread-messages", "It is back now!").await;
    assert_eq!(b.text("#typing").await, "", "the reply came: nobody is replying any more");
    assert_eq!(b.value("#reply-body").await, "Looking", "what the manager is typing stays");
    b.assert_clean_console("live updates").await;
}

/// Save and Cancel sit on one line, the same height, on the forms that have both.
pub async fn form_buttons_line_up(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    for path in ["/admin/templates/new", "/admin/tickets/new"] {
        b.goto(path).await;
        let aligned = b
            .run_script(
                "const row = document.querySelector('main form .buttons');
                 const [a, c] = [row.querySelector('button.primary'), row.querySelector('a.button')]
                   .map(e => e.getBoundingClientRect());
                 return Math.abs(a.top - c.top) < 1 && Math.abs(a.height - c.height) < 1;",
            )
            .await;
        assert_eq!(aligned, json!(true), "Save and Cancel line up on {path}");
    }
    b.assert_clean_console("form buttons").await;
}

/// On a phone the lists are cards: what matters shows without scrolling sideways.
pub async fn phone_cards(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    b.resize(390, 844).await;
    b.goto("/admin/tickets").await;
    let card = b
        .run_script(
            "const tr = document.querySelector('#results tbody tr');
             const seen = c => { const e = tr.querySelector(c); if (!e) return false;
               const r = e.getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; };
             return { grid: getComputedStyle(tr).display, title: seen('.title-col'), affiliate: seen('.affiliate-col'),
                      status: seen('.status-col'), waiting: seen('.waiting-col'),
                      wide: document.documentElement.scrollWidth > window.innerWidth };",
        )
        .await;
    assert_eq!(
        card,
        json!({ "grid": "grid", "title": true, "affiliate": true, "status": true, "waiting": true, "wide": false }),
        "a ticket card on a phone"
    );
    b.log_in("affiliate", AFFILIATE).await;
    b.goto("/affiliate/tickets").await;
    let card = b
        .run_script(
            "const tr = document.querySelector('main tbody tr');
             return { display: getComputedStyle(tr).display,
                      wide: document.documentElement.scrollWidth > window.innerWidth };",
        )
        .await;
    assert_eq!(card, json!({ "display": "block", "wide": false }), "the affiliate's tickets as cards");
    b.resize(1366, 768).await;
    b.assert_clean_console("phone cards").await;
}

/// Ticking "Internal note" puts the form in note mode: tinted, its button says
/// "Add note", the buttons that would answer the affiliate hide. Escape leaves the
/// reply box, so the page's keys work again.
pub async fn note_mode_and_escape(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    b.goto("/admin/tickets?status=open&type=technical").await;
    let ticket = row_ids(b).await[0];
    b.goto(&format!("/admin/tickets/{ticket}")).await;
    let send = "#reply button[data-send]";
    assert_eq!(b.text(send).await, "Send");
    let tint = "return getComputedStyle(document.getElementById('reply')).backgroundColor;";
    let plain = b.run_script(tint).await;
    b.click("#reply input[name=internal]").await;
    assert_eq!(b.text(send).await, "Add note");
    assert!(!b.find("#reply button[name=then][value=close]").await.is_displayed().await.unwrap());
    assert_ne!(b.run_script(tint).await, plain, "the note editor looks different");
    b.click("#reply input[name=internal]").await;
    assert_eq!(b.text(send).await, "Send");
    assert!(b.find("#reply button[name=then][value=close]").await.is_displayed().await.unwrap());
    // Escape leaves any field (the checkbox, then the reply box); "r" goes back in.
    press(b, ESCAPE).await;
    press(b, "r").await;
    press(b, "Half a thought").await;
    press(b, ESCAPE).await;
    let focus = b.run_script("return document.activeElement ? document.activeElement.id : '';").await;
    assert_ne!(focus, json!("reply-body"));
    press(b, "r").await;
    let focus = b.run_script("return document.activeElement ? document.activeElement.id : '';").await;
    assert_eq!(focus, json!("reply-body"));
    assert_eq!(b.value("#reply-body").await, "Half a thought", "what was typed stays");
    b.fill("#reply-body", "").await;
    b.assert_clean_console("note mode").await;
}

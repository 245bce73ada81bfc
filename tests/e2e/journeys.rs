//! The journeys of a manager and an affiliate, clicked through the real pages.
//! Journeys 1–3 run twice: with JavaScript (htmx swaps) and without (plain forms).

use fantoccini::Locator;

use crate::browser::Browser;
use crate::server::Server;
use crate::{AFFILIATE, Files, MANAGER};

const ENTER: &str = "\u{E007}";

/// One row of the manager's ticket table, as a person reads it.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: i64,
    affiliate: String,
    kind: String,
    status: String,
}

/// Reads the table in one script, after htmx has finished, so a swap can never land halfway
/// through the reading.
async fn rows(b: &Browser) -> Vec<Row> {
    b.wait_idle().await;
    let table = b
        .run_script(
            "const cell = (tr, c) => (tr.querySelector(c) || {}).innerText || '';
             return [...document.querySelectorAll('#results table.tickets tbody tr')]
                .map(tr => [tr.id, cell(tr, 'td.affiliate-col'), cell(tr, 'td.type-col'),
                            cell(tr, 'td.status-col .badge')].map(s => s.trim()));",
        )
        .await;
    let table: Vec<Vec<String>> = serde_json::from_value(table).expect("rows as lists of cell texts");
    table
        .into_iter()
        .map(|cells| Row {
            id: cells[0].trim_start_matches("ticket-").parse().expect("row id"),
            affiliate: cells[1].clone(),
            kind: cells[2].clone(),
            status: cells[3].clone(),
        })
        .collect()
}

fn ids(rows: &[Row]) -> Vec<i64> {
    rows.iter().map(|r| r.id).collect()
}

/// Without script a filter change needs the Apply button; with htmx the change itself
/// swaps the table.
async fn apply_if_no_script(b: &Browser) {
    if !b.javascript() {
        b.click("#filters button[type=submit]").await;
    }
}

/// Journey 1: Filter by status + type + affiliate, page, reload, clear.
pub async fn filter_and_page(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    b.goto("/admin/tickets").await;
    let everything = b.text("#match-count").await;
    let mut headers = Vec::new();
    for th in b.find_all("#results table.tickets thead th[scope=col]").await {
        headers.push(th.text().await.unwrap());
    }
    assert_eq!(headers[1..4], ["ID", "Title and last message", "Affiliate"], "a real table with column headers");
    assert!(!headers.iter().any(|h| h == "Manager"), "a manager who sees only their affiliates has no Manager column");

    b.select("#f-status", "open").await;
    apply_if_no_script(b).await;
    b.wait_location("carry status=open", |l| l.contains("status=open")).await;
    b.click("details.more-filters summary").await;
    b.click("#filters input[name=type][value=general]").await;
    apply_if_no_script(b).await;
    b.wait_location("carry type=general", |l| l.contains("type=general")).await;
    if b.find("details.more-filters").await.attr("open").await.unwrap().is_none() {
        b.click("details.more-filters summary").await;
    }
    b.select("#f-per-page", "10").await;
    apply_if_no_script(b).await;
    b.wait_location("carry per_page=10", |l| l.contains("per_page=10")).await;

    let first = rows(b).await;
    assert_eq!(first.len(), 10, "a full first page of open general questions");
    for r in &first {
        assert_eq!((r.status.as_str(), r.kind.as_str()), ("Opened", "General question"), "{r:?}");
    }

    b.click("nav.pager a[rel=next]").await;
    b.wait_text("#match-count", "page 2").await;
    let here = b.wait_location("still carry the filters on page 2", |l| l.contains("page=2")).await;
    assert!(here.contains("status=open") && here.contains("type=general"), "{here}");
    let second = rows(b).await;
    assert!(!second.is_empty());
    for r in &second {
        assert_eq!((r.status.as_str(), r.kind.as_str()), ("Opened", "General question"), "{r:?}");
        assert!(!first.iter().any(|f| f.id == r.id), "page 2 repeats ticket {}", r.id);
    }

    // Narrow to one affiliate: typing the ID and pressing Enter submits the form either way.
    let affiliate = first[0].affiliate.rsplit('#').next().unwrap().trim().to_string();
    b.fill("#f-affiliate", &format!("{affiliate}{ENTER}")).await;
    let filtered_at =
        b.wait_location("carry the affiliate", |l| l.contains(&format!("affiliate_id={affiliate}"))).await;
    let narrowed = rows(b).await;
    assert!(!narrowed.is_empty());
    for r in &narrowed {
        assert!(r.affiliate.ends_with(&format!("#{affiliate}")), "{r:?}");
        assert_eq!((r.status.as_str(), r.kind.as_str()), ("Opened", "General question"), "{r:?}");
    }

    // A reload (or a shared link) shows the same view with the same filters filled in.
    b.client.refresh().await.unwrap();
    assert_eq!(b.location().await, filtered_at);
    assert_eq!(ids(&rows(b).await), ids(&narrowed));
    assert_eq!(b.value("#f-status").await, "open");
    assert_eq!(b.value("#f-affiliate").await, affiliate);
    assert!(b.find("#filters input[name=type][value=general]").await.is_selected().await.unwrap());

    b.click(".filter-buttons a[href='/admin/tickets']").await;
    b.wait_location("drop the filters", |l| l == "/admin/tickets").await;
    assert_eq!(b.value("#f-status").await, "");
    assert_eq!(b.text("#match-count").await, everything);
}

/// Journey 2: Tick three open tickets and close them; the summary shows and the rows say Closed,
/// in place when htmx is on.
pub async fn bulk_close(b: &Browser) {
    b.log_in("admin", MANAGER).await;
    b.goto("/admin/tickets").await;
    let open: Vec<i64> = rows(b).await.iter().filter(|r| r.status == "Opened").map(|r| r.id).take(3).collect();
    assert_eq!(open.len(), 3, "three open tickets on the first page");
    if b.javascript() {
        b.mark_page().await;
    }
    for id in &open {
        b.click(&format!("#ticket-{id} input[name=ids]")).await;
    }
    b.click("#bulk button[name=action][value=close]").await;
    let mut sorted = open.clone();
    sorted.sort_unstable();
    let named: Vec<String> = sorted.iter().map(|id| format!("#{id}")).collect();
    b.wait_text("#flash", &format!("Closed {}", named.join(", "))).await;
    for id in &open {
        b.wait_text(&format!("#ticket-{id} td.status-col"), "Closed").await;
        let class = b.find(&format!("#ticket-{id}")).await.attr("class").await.unwrap().unwrap_or_default();
        assert!(class.contains("marked"), "the changed row is marked: {class}");
    }
    if b.javascript() {
        assert!(b.still_same_page().await, "the bulk action swapped the table instead of reloading the page");
    }
}

/// Journey 3: Affiliate opens a ticket with a screenshot; the manager answers with a quick-reply
/// template and a file; the affiliate sees the answer as unread, reads it, downloads the file.
pub async fn ticket_conversation(b: &Browser, files: &Files) -> i64 {
    let title = format!("Postback stopped firing ({})", if b.javascript() { "htmx" } else { "no script" });
    b.log_in("affiliate", AFFILIATE).await;
    b.goto("/affiliate/tickets").await;
    b.click("a[href='/affiliate/tickets/new']").await;
    b.select("#t-type", "technical").await;
    b.fill("#t-title", &title).await;
    b.fill("#t-body", "Since this morning our tracker gets no postbacks for offer 12.").await;
    b.attach("#t-files", &files.screenshot).await;
    b.click("main form button.primary").await;
    let at = b
        .wait_location("open the new ticket", |l| {
            l.strip_prefix("/affiliate/tickets/").is_some_and(|rest| rest.parse::<i64>().is_ok())
        })
        .await;
    let id: i64 = at.rsplit('/').next().unwrap().parse().unwrap();
    b.wait_text("h1", &title).await;
    let banners = b.run_script("return document.querySelectorAll('.flash').length;").await;
    assert_eq!(banners, serde_json::json!(1), "one banner after opening a ticket");
    b.wait_text(".thread .attachments", "receipt.png").await;

    b.log_in("admin", MANAGER).await;
    b.goto("/admin/tickets").await;
    let row = format!("#ticket-{id}");
    b.wait_text(&row, "1 new").await;
    assert_eq!(b.find(&row).await.attr("class").await.unwrap().as_deref(), Some("has-unread"));
    b.wait_text(&format!("{row} .preview"), "Since this morning our tracker").await;
    b.click(&format!("{row} a.title")).await;
    b.wait_text("h1", &title).await;
    b.wait_text(".thread .attachments", "receipt.png").await;

    let template = template_value(b, "Looking into it").await;
    b.select("#template_id", &template).await;
    if !b.javascript() {
        b.click("button[name=use_template]").await;
    }
    wait_value(b, "#reply-body", &format!("we are looking into ticket #{id}")).await;
    if b.javascript() {
        b.mark_page().await;
    }
    b.attach("#reply-files", &files.report).await;
    b.click("#reply button.primary").await;
    b.wait_text(".thread li.from-manager:last-child", "will get back to you within 24 hours").await;
    b.wait_text(".thread li.from-manager:last-child .attachments", "report.zip").await;
    if b.javascript() {
        assert!(b.still_same_page().await, "the reply swapped the conversation in place");
    }

    b.log_in("affiliate", AFFILIATE).await;
    b.goto("/affiliate/tickets").await;
    assert_eq!(b.find(&row).await.attr("class").await.unwrap().as_deref(), Some("has-unread"));
    b.click(&format!("{row} .title-col a")).await;
    b.wait_text(".thread", "will get back to you within 24 hours").await;
    for old in std::fs::read_dir(&b.downloads).unwrap().flatten() {
        std::fs::remove_file(old.path()).unwrap();
    }
    b.click(".thread li.from-manager:last-child .attachments a").await;
    let downloaded = wait_for_download(b, "report.zip").await;
    assert_eq!(downloaded, std::fs::read(&files.report).unwrap(), "the downloaded file is the one attached");
    b.goto("/affiliate/tickets").await;
    assert_ne!(b.find(&row).await.attr("class").await.unwrap().as_deref(), Some("has-unread"), "read now");
    id
}

async fn template_value(b: &Browser, title: &str) -> String {
    for option in b.find_all("#template_id option").await {
        if option.text().await.unwrap() == title {
            return option.attr("value").await.unwrap().unwrap();
        }
    }
    panic!("no quick-reply template titled {title}");
}

async fn wait_value(b: &Browser, css: &str, needle: &str) {
    let started = std::time::Instant::now();
    while !b.value(css).await.contains(needle) {
        assert!(started.elapsed().as_secs() < 15, "{css} never held {needle:?}; it holds {:?}", b.value(css).await);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn wait_for_download(b: &Browser, name: &str) -> Vec<u8> {
    let path = b.downloads.join(name);
    let started = std::time::Instant::now();
    loop {
        if let Ok(bytes) = std::fs::read(&path) {
            let partial = std::fs::read_dir(&b.downloads)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"));
            if !partial {
                return bytes;
            }
        }
        assert!(started.elapsed().as_secs() < 15, "{name} was not downloaded");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Journey 4: Affiliate asks for a premoderated offer; the manager activates it from the list;
/// the affiliate's offers page says approved.
pub async fn access_request(b: &Browser) {
    b.log_in("affiliate", AFFILIATE).await;
    b.goto("/affiliate/offers").await;
    let mut offer_row = None;
    for tr in b.find_all("main table tbody tr").await {
        if tr.find(Locator::Css("form.request-form")).await.is_ok() {
            offer_row = Some(tr.attr("id").await.unwrap().unwrap());
            break;
        }
    }
    let offer_row = offer_row.expect("a premoderated offer affiliate1 can ask for");
    let offer_id = offer_row.trim_start_matches("offers-").to_string();
    b.fill(&format!("#comment-{offer_id}"), "Email traffic to our own list, about 20k a week.").await;
    b.click(&format!("#{offer_row} button[type=submit]")).await;
    let flash = b.wait_text("#flash", "Request sent to your manager").await;
    let ticket: i64 = flash
        .rsplit("ticket ")
        .next()
        .and_then(|s| s.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok())
        .unwrap_or_else(|| panic!("a ticket number in {flash:?}"));
    b.wait_text(&format!("#{offer_row}"), "Request pending").await;

    b.log_in("admin", MANAGER).await;
    b.goto("/admin/tickets?type=offer_request&status=open").await;
    let row = format!("#ticket-{ticket}");
    b.wait_text(&format!("{row} td.status-col"), "pending").await;
    b.click(&format!("{row} button[formaction$='/activate']")).await;
    b.wait_text("#flash", &format!("Request in ticket {ticket} approved.")).await;
    b.goto(&format!("/admin/tickets?id={ticket}")).await;
    b.wait_text(&format!("{row} td.status-col"), "approved").await;
    b.wait_text(&format!("{row} td.status-col"), "Closed").await;

    b.log_in("affiliate", AFFILIATE).await;
    b.goto("/affiliate/offers").await;
    b.wait_text(&format!("#{offer_row}"), "Approved").await;
}

/// Journey 5: From a thread, Statistics opens the affiliate's daily chart and table.
pub async fn statistics_from_thread(b: &Browser, ticket: i64) {
    b.log_in("admin", MANAGER).await;
    b.goto(&format!("/admin/tickets/{ticket}")).await;
    let affiliate = b.text(".facts a[href^='/admin/tickets?affiliate_id=']").await;
    b.click("main a[href^='/admin/stats/daily?affiliate_id=']").await;
    b.wait_location("open the statistics", |l| l.starts_with("/admin/stats/daily?affiliate_id=")).await;
    b.wait_text("h1", &affiliate).await;
    b.find("svg[role=img]").await;
    assert!(!b.find_all("table.stats tbody tr").await.is_empty(), "a row per day");
}

/// Journey 6: A text file renamed .png is refused next to the field; no ticket, no file is kept.
pub async fn wrong_attachment(b: &Browser, server: &Server, files: &Files) {
    let stored_before = server.attachment_files();
    let title = "Here are my notes";
    b.log_in("affiliate", AFFILIATE).await;
    b.goto("/affiliate/tickets/new").await;
    b.fill("#t-title", title).await;
    b.fill("#t-body", "See the attached notes.").await;
    b.attach("#t-files", &files.fake_png).await;
    b.click("main form button.primary").await;
    let error = b.wait_text("#t-files-error", "notes.png").await;
    assert!(!error.trim().is_empty());
    assert_eq!(b.value("#t-title").await, title, "what was typed is kept");
    assert_eq!(
        b.find("#t-files").await.attr("aria-describedby").await.unwrap().as_deref(),
        Some("t-files-error"),
        "the error is tied to its field"
    );
    b.goto("/affiliate/tickets").await;
    assert!(!b.text("main").await.contains(title), "no ticket was saved");
    assert_eq!(server.attachment_files(), stored_before, "no file was stored");
}

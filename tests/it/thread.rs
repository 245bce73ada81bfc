//! Ticket threads: replies, attachments and their refusals, downloads, internal
//! notes, quick-reply templates, and the affiliate's side of a thread.

use affdesk::domain::states::TicketStatus;

use crate::db_test;
use crate::desk::{AffiliateAccount, StaffMember, Team, TicketId};
use crate::harness::TestApp;
use crate::support::{PNG, assert_counts_consistent};

/// A manager, an affiliate of theirs and the affiliate's open question.
struct Thread {
    boss: StaffMember,
    maria: StaffMember,
    shop: AffiliateAccount,
    ticket: TicketId,
}

fn thread(app: &TestApp) -> Thread {
    let Team { boss, maria, shop } = app.with_team();
    let ticket = app.as_affiliate(&shop).asks("Postback is silent", "Since 9:00 no postbacks.");
    Thread { boss, maria, shop, ticket }
}

fn attachment_files(app: &crate::harness::TestApp) -> usize {
    let dir = app.data_dir.join("attachments");
    walk(&dir)
}

fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum()
}

db_test!(manager_replies_with_a_file_and_the_affiliate_downloads_it, |app| {
    let Thread { maria, shop, ticket: t, .. } = thread(&app);
    let ticket = t.0;
    let mut manager = app.browser_as(&maria).await;
    let page = manager.get(&format!("/admin/tickets/{ticket}")).await;
    assert_eq!(page.status, 200);
    assert_eq!(app.ticket(t).unread_by_manager, 0, "opening marks read");
    let answers = app.ticket(t).manager_answers;
    let page = manager
        .post_multipart(
            &format!("/admin/tickets/{ticket}/messages"),
            &[("body", "Here is the report:\nhttps://example.com/r?a=1 <script>")],
            &[("report.png", PNG.to_vec())],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(app.ticket(t).manager_answers, answers + 1);
    assert!(app.ticket(t).unread_by_affiliate > 0);
    let attachment = app.newest_attachment();
    let thread = manager.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(thread.contains("<a href=\"https://example.com/r?a=1\""), "links are clickable");
    assert!(thread.contains("&#60;script&#62;") && !thread.contains("<script>\n"), "text is escaped");

    let mut affiliate = app.browser_of(&shop).await;
    let list = affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    assert_eq!(list.status, 200);
    assert!(list.contains("report.png"));
    assert!(
        list.contains(&format!("<img class=\"thumb\" src=\"/affiliate/attachments/{attachment}\"")),
        "a picture is shown as a thumbnail"
    );
    assert_eq!(app.ticket(t).unread_by_affiliate, 0, "read by the affiliate");
    let resp = affiliate.http.get(app.url(&format!("/affiliate/attachments/{attachment}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert!(resp.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"report.png\""));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);

    // Another affiliate, and a manager of other affiliates, get 404.
    let omar = app.with_manager("omar@network.test");
    let blog = app.with_affiliate_of(&omar, "blog@partners.test");
    let mut other = app.browser_of(&blog).await;
    assert_eq!(other.get(&format!("/affiliate/attachments/{attachment}")).await.status, 404);
    let page = other.get(&format!("/affiliate/tickets/{ticket}")).await;
    assert_eq!(page.status, 404);
    assert!(
        page.contains(&format!("There is no ticket #{ticket} among yours")) && page.contains("aria-label=\"Main\"")
    );
    let mut wrong_manager = app.browser_as(&omar).await;
    assert_eq!(wrong_manager.get(&format!("/admin/attachments/{attachment}")).await.status, 404);
    let page = wrong_manager.get(&format!("/admin/tickets/{ticket}")).await;
    assert_eq!(page.status, 404);
    assert!(page.contains(&format!("Ticket #{ticket} is not in your queue")), "said in words");
    assert!(page.contains("<nav aria-label=\"Main\">") && page.contains("Back to the tickets"), "inside the panel");
    assert!(!page.contains("Postback is silent"), "nothing of the ticket shown");
    let before = app.messages_in(t, false);
    wrong_manager.csrf = manager.csrf.clone();
    let page = wrong_manager.post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "hi")], &[]).await;
    assert!(page.status == 404 || page.status == 403, "{}", page.status);
    assert_eq!(app.messages_in(t, false), before);
});

db_test!(refused_attachments_leave_nothing_behind, |app| {
    let Thread { maria, ticket: t, .. } = thread(&app);
    let ticket = t.0;
    let mut c = app.browser_as(&maria).await;
    c.get(&format!("/admin/tickets/{ticket}")).await;
    let messages = app.messages_in(t, false);
    let big = {
        let mut v = PNG.to_vec();
        v.resize(5 * 1024 * 1024 + 1, 0);
        v
    };
    let six: Vec<(&str, Vec<u8>)> = (0..6).map(|_| ("a.png", PNG.to_vec())).collect();
    // (the files attached, the error shown next to the field)
    type Case<'a> = (Vec<(&'a str, Vec<u8>)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("notes.png", b"just some text, not an image".to_vec())],
            "notes.png: the content is not a JPEG, PNG, GIF, PDF or ZIP",
        ),
        (
            vec![("notes.txt", b"text".to_vec())],
            "notes.txt: only .jpg, .png, .gif, .pdf and .zip files can be attached.",
        ),
        (six, "At most 5 files can be attached to one message."),
        (vec![("big.png", big)], "big.png: larger than 5 MB"),
        (vec![("empty.png", Vec::new())], "empty.png: the file is empty."),
        (vec![("ok.png", PNG.to_vec()), ("fake.gif", b"GIF? no".to_vec())], "fake.gif: the content is not"),
    ];
    for (files, message) in cases {
        let page =
            c.post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "With files")], &files).await;
        assert_eq!(page.status, 422, "{message}");
        assert!(page.contains(message), "{message}: {}", &page.body[..page.body.len().min(300)]);
        assert!(page.contains("With files"), "the text typed is kept");
        assert_eq!(app.messages_in(t, false), messages, "no message saved");
        assert_eq!(app.attachments_stored(), 0);
        assert_eq!(attachment_files(&app), 0, "no file left in the store, temporary or not");
    }
    // Exactly 5 MB is accepted.
    let mut max = PNG.to_vec();
    max.resize(5 * 1024 * 1024, 0);
    let page = c
        .post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "Max size")], &[("max.png", max)])
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(attachment_files(&app), 1);
    // An invoice as a PDF is taken, listed without a thumbnail, and downloads as a PDF.
    let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let page = c
        .post_multipart(
            &format!("/admin/tickets/{ticket}/messages"),
            &[("body", "Invoice")],
            &[("invoice.pdf", pdf.clone())],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let id = app.newest_attachment();
    let thread = c.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(
        thread.contains("invoice.pdf") && !thread.contains(&format!("class=\"thumb\" src=\"/admin/attachments/{id}\""))
    );
    let resp = c.http.get(app.url(&format!("/admin/attachments/{id}"))).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert!(resp.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"), "never inline");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &pdf[..]);
});

db_test!(internal_notes_stay_with_managers, |app| {
    let Thread { maria, shop, ticket: t, .. } = thread(&app);
    let ticket = t.0;
    let mut manager = app.browser_as(&maria).await;
    manager.get(&format!("/admin/tickets/{ticket}")).await;
    let page = manager
        .post_multipart(
            &format!("/admin/tickets/{ticket}/messages"),
            &[("body", "Secret: check fraud score"), ("internal", "1")],
            &[("note.png", PNG.to_vec())],
        )
        .await;
    assert_eq!(page.status, 303);
    let attachment = app.newest_attachment();
    assert!(manager.get(&format!("/admin/tickets/{ticket}")).await.contains("Secret: check fraud score"));
    let mut affiliate = app.browser_of(&shop).await;
    let page = affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    assert!(!page.contains("Secret: check fraud score") && !page.contains("note.png"));
    assert_eq!(affiliate.get(&format!("/affiliate/attachments/{attachment}")).await.status, 404);
});

db_test!(affiliate_reply_reopens_a_closed_ticket, |app| {
    let Thread { maria, shop, ticket: t, .. } = thread(&app);
    let ticket = t.0;
    app.as_manager(&maria).close(t).unwrap();
    let mut affiliate = app.browser_of(&shop).await;
    let page = affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    assert!(page.contains("replying opens it again"));
    let unread = app.ticket(t).unread_by_manager;
    let page = affiliate
        .post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &[("body", "One more question")], &[])
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(app.ticket(t).status, TicketStatus::Open);
    assert_eq!(app.ticket(t).unread_by_manager, unread + 1);
    assert_counts_consistent(&app);
    // An empty reply is explained.
    let page = affiliate.post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &[("body", "  ")], &[]).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Write a message."));
});

db_test!(quick_reply_templates_fill_variables, |app| {
    let Thread { boss, maria, shop, ticket: general } = thread(&app);
    let offer = app.with_offer(&boss, "Summer promo");
    let request = app.as_affiliate(&shop).asks_for(offer, "I run SEO traffic").0;
    let greeting = app.with_template(
        &maria,
        "Offer approved",
        "Hi {affiliate.name}, you can run {offer.title} ({offer.id}) now.\n{manager.name}",
    );
    let mut c = app.browser_as(&maria).await;
    c.get(&format!("/admin/tickets/{request}")).await;
    let name = app.affiliate(&shop).name;
    let page = c.htmx_get(&format!("/admin/tickets/{request}/template?template_id={greeting}")).await;
    assert!(
        page.contains(&format!("Hi {name}")) && page.contains("Summer promo") && page.contains("maria"),
        "{}",
        page.body
    );
    // No offer on a general ticket: the variable stays and the form warns.
    let page = c.htmx_get(&format!("/admin/tickets/{}/template?template_id={greeting}", general.0)).await;
    assert!(
        page.contains("{offer.title}") && page.contains("has no value for {offer.title}, {offer.id}"),
        "{}",
        page.body
    );
    // Without JavaScript: the "Use template" button re-shows the form, nothing is sent.
    let before = app.messages_in(TicketId(request), false);
    let page = c
        .post_multipart(
            &format!("/admin/tickets/{request}/messages"),
            &[("body", ""), ("template_id", &greeting.to_string()), ("use_template", "1")],
            &[],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Summer promo"));
    assert_eq!(app.messages_in(TicketId(request), false), before);
});

db_test!(reply_and_close_and_htmx_append, |app| {
    let Thread { maria, ticket: t, .. } = thread(&app);
    let ticket = t.0;
    let mut c = app.browser_as(&maria).await;
    c.get(&format!("/admin/tickets/{ticket}")).await;
    let form = reqwest::multipart::Form::new().text("body", "Fixed now.").text("close", "1");
    let resp = c
        .http
        .post(app.url(&format!("/admin/tickets/{ticket}/messages")))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", c.csrf.clone())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(body.trim_start().starts_with("<div id=\"conversation\">") || body.contains("id=\"conversation\""));
    assert!(body.contains("Fixed now.") && body.contains("Reply sent and ticket closed."));
    assert!(
        body.contains("rows=\"7\"></textarea>") && body.contains("<textarea id=\"reply-body\""),
        "the form is cleared"
    );
    assert_eq!(app.ticket(t).status, TicketStatus::Closed);
    assert_counts_consistent(&app);
});

db_test!(a_banner_shows_once, |app| {
    let Thread { maria, shop, ticket: t, .. } = thread(&app);
    let ticket = t.0;
    let mut c = app.browser_as(&maria).await;
    c.get(&format!("/admin/tickets/{ticket}")).await;
    let done = c.post(&format!("/admin/tickets/{ticket}/close"), &[]).await;
    assert_eq!(done.status, 303);
    let page = c.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(page.contains(&format!("Ticket {ticket} closed.")));
    assert_eq!(page.body.matches("id=\"flash\"").count(), 1, "one banner region");
    // An affiliate's new ticket opens on its thread with one banner too.
    let mut affiliate = app.browser_of(&shop).await;
    affiliate.get("/affiliate/tickets/new").await;
    let sent =
        affiliate.post_multipart("/affiliate/tickets", &[("type", "other"), ("title", "Hi"), ("body", "x")], &[]).await;
    let page = affiliate.get(sent.location.as_deref().unwrap()).await;
    assert!(page.contains("was sent to your manager"));
    assert_eq!(page.body.matches("id=\"flash\"").count(), 1);
});

db_test!(the_affiliate_is_shown_beside_the_thread, |app| {
    let Thread { boss, maria, shop, ticket: t } = thread(&app);
    let ticket = t.0;
    let other = app.as_affiliate(&shop).asks("Payout", "Where is March?").0;
    let offer = app.with_offer(&boss, "Summer promo");
    app.grant_by_hand(offer.0, shop.id);
    let mut manager = app.browser_as(&maria).await;
    let thread = manager.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(thread.contains(&format!("hx-get=\"/admin/tickets/{ticket}/affiliate\"")), "loaded beside the thread");
    // The panel alone for htmx, a page of its own without scripts.
    let panel = manager.htmx_get(&format!("/admin/tickets/{ticket}/affiliate")).await;
    assert_eq!(panel.status, 200);
    assert!(!panel.contains("<html"), "a fragment");
    let name = app.affiliate(&shop).name;
    assert!(panel.contains(&name));
    assert!(panel.contains(&format!("href=\"/admin/tickets/{other}\"")), "their other open tickets");
    assert!(!panel.contains(&format!("href=\"/admin/tickets/{ticket}\">#")), "not this one");
    assert_eq!(
        panel.body.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap().matches("<tr>").count(),
        7
    );
    assert!(panel.contains(&format!("Offer <a href=\"/admin/offers/{}", offer.0)), "the access granted is listed");
    let page = manager.get(&format!("/admin/tickets/{ticket}/affiliate")).await;
    assert!(page.contains("<html") && page.contains("Back to ticket"));
    // Another manager's affiliate: nothing of them.
    let omar = app.with_manager("omar@network.test");
    let mut other_manager = app.browser_as(&omar).await;
    let refused = other_manager.get(&format!("/admin/tickets/{ticket}/affiliate")).await;
    assert_eq!(refused.status, 404);
    assert!(!refused.contains(&name));
});

db_test!(an_htmx_request_that_fails_gets_a_banner_not_a_page, |app| {
    let Thread { maria, .. } = thread(&app);
    let mut c = app.browser_as(&maria).await;
    c.get("/admin/tickets").await;
    // A stale link followed by htmx: the error lands in the flash area, the part of
    // the page the request aimed at is left alone.
    let page = c.htmx_get("/admin/tickets/999999").await;
    assert_eq!(page.status, 404);
    assert_eq!(page.headers.get("hx-retarget").and_then(|v| v.to_str().ok()), Some("#flash"));
    assert_eq!(page.headers.get("hx-reswap").and_then(|v| v.to_str().ok()), Some("innerHTML"));
    assert!(
        page.headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html")),
        "{:?}",
        page.headers
    );
    let banner = page.body.trim();
    assert!(banner.starts_with("<div class=\"flash flash-error\" role=\"alert\">"), "{banner}");
    assert!(banner.contains("Ticket #999999 is not in your queue"), "{banner}");
    assert!(!banner.contains("<nav") && !banner.contains("id=\"conversation\""), "no page inside the banner: {banner}");
});

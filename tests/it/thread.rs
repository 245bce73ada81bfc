//! Ticket threads: replies, attachments and their refusals, downloads, internal
//! notes, quick-reply templates, and the affiliate's side of a thread.

use crate::db_test;
use crate::support::*;

fn attachment_files(app: &crate::harness::TestApp) -> usize {
    let dir = app.data_dir.join("attachments");
    walk(&dir)
}

fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum()
}

db_test!(manager_replies_with_a_file_and_the_affiliate_downloads_it, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "affiliate_id = 1 AND status = 'open' AND type = 'general'")[0];
    let mut manager = app.login_admin("admin@affdesk.test").await;
    let page = manager.get(&format!("/admin/tickets/{ticket}")).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        scalar(&app, &format!("SELECT CAST(unread_by_manager AS BIGINT) AS n FROM tickets WHERE id = {ticket}")),
        0,
        "opening marks read"
    );
    let answers =
        scalar(&app, &format!("SELECT CAST(manager_answers AS BIGINT) AS n FROM tickets WHERE id = {ticket}"));
    let page = manager
        .post_multipart(
            &format!("/admin/tickets/{ticket}/messages"),
            &[("body", "Here is the report:\nhttps://example.com/r?a=1 <script>")],
            &[("report.png", PNG.to_vec())],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        scalar(&app, &format!("SELECT CAST(manager_answers AS BIGINT) AS n FROM tickets WHERE id = {ticket}")),
        answers + 1
    );
    assert!(
        scalar(&app, &format!("SELECT CAST(unread_by_affiliate AS BIGINT) AS n FROM tickets WHERE id = {ticket}")) > 0
    );
    let attachment = scalar(&app, "SELECT MAX(id) AS n FROM attachments");
    let thread = manager.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(thread.contains("<a href=\"https://example.com/r?a=1\""), "links are clickable");
    assert!(thread.contains("&#60;script&#62;") && !thread.contains("<script>\n"), "text is escaped");

    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let list = affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    assert_eq!(list.status, 200);
    assert!(list.contains("report.png"));
    assert!(
        list.contains(&format!("<img class=\"thumb\" src=\"/affiliate/attachments/{attachment}\"")),
        "a picture is shown as a thumbnail"
    );
    assert_eq!(
        scalar(&app, &format!("SELECT CAST(unread_by_affiliate AS BIGINT) AS n FROM tickets WHERE id = {ticket}")),
        0,
        "read by the affiliate"
    );
    let resp = affiliate.http.get(app.url(&format!("/affiliate/attachments/{attachment}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert!(resp.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"report.png\""));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);

    // Another affiliate, and a manager of other affiliates, get 404.
    let mut other = app.login_affiliate("affiliate2@affdesk.test").await;
    assert_eq!(other.get(&format!("/affiliate/attachments/{attachment}")).await.status, 404);
    let page = other.get(&format!("/affiliate/tickets/{ticket}")).await;
    assert_eq!(page.status, 404);
    assert!(
        page.contains(&format!("There is no ticket #{ticket} among yours")) && page.contains("aria-label=\"Main\"")
    );
    let stranger = scalar(
        &app,
        &format!(
            "SELECT MIN(id) AS n FROM users WHERE kind = 'manager' AND id <> (SELECT manager_id FROM tickets WHERE id = {ticket})"
        ),
    );
    let email = text(&app, &format!("SELECT email AS t FROM users WHERE id = {stranger}"));
    let mut wrong_manager = app.login_admin(&email).await;
    assert_eq!(wrong_manager.get(&format!("/admin/attachments/{attachment}")).await.status, 404);
    let page = wrong_manager.get(&format!("/admin/tickets/{ticket}")).await;
    assert_eq!(page.status, 404);
    assert!(page.contains(&format!("Ticket #{ticket} is not in your queue")), "said in words");
    assert!(page.contains("<nav aria-label=\"Main\">") && page.contains("Back to the tickets"), "inside the panel");
    let title = text(&app, &format!("SELECT title AS t FROM tickets WHERE id = {ticket}"));
    assert!(
        !page
            .contains(&title.replace('&', "&#38;").replace('<', "&#60;").replace('\"', "&#34;").replace('\'', "&#39;")),
        "nothing of the ticket shown"
    );
    let before = scalar(&app, "SELECT COUNT(*) AS n FROM messages");
    wrong_manager.csrf = manager.csrf.clone();
    let page = wrong_manager.post_multipart(&format!("/admin/tickets/{ticket}/messages"), &[("body", "hi")], &[]).await;
    assert!(page.status == 404 || page.status == 403, "{}", page.status);
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM messages"), before);
});

db_test!(refused_attachments_leave_nothing_behind, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "status = 'open'")[0];
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get(&format!("/admin/tickets/{ticket}")).await;
    let messages = scalar(&app, "SELECT COUNT(*) AS n FROM messages");
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
        assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM messages"), messages, "no message saved");
        assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM attachments"), 0);
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
    let id = scalar(&app, "SELECT MAX(id) AS n FROM attachments");
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
    app.seed_demo();
    let ticket = ids_where(&app, "affiliate_id = 1")[0];
    let mut manager = app.login_admin("admin@affdesk.test").await;
    manager.get(&format!("/admin/tickets/{ticket}")).await;
    let page = manager
        .post_multipart(
            &format!("/admin/tickets/{ticket}/messages"),
            &[("body", "Secret: check fraud score"), ("internal", "1")],
            &[("note.png", PNG.to_vec())],
        )
        .await;
    assert_eq!(page.status, 303);
    let attachment = scalar(&app, "SELECT MAX(id) AS n FROM attachments");
    assert!(manager.get(&format!("/admin/tickets/{ticket}")).await.contains("Secret: check fraud score"));
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let page = affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    assert!(!page.contains("Secret: check fraud score") && !page.contains("note.png"));
    assert_eq!(affiliate.get(&format!("/affiliate/attachments/{attachment}")).await.status, 404);
});

db_test!(affiliate_reply_reopens_a_closed_ticket, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "affiliate_id = 1 AND status = 'closed'")[0];
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let page = affiliate.get(&format!("/affiliate/tickets/{ticket}")).await;
    assert!(page.contains("replying opens it again"));
    let unread =
        scalar(&app, &format!("SELECT CAST(unread_by_manager AS BIGINT) AS n FROM tickets WHERE id = {ticket}"));
    let page = affiliate
        .post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &[("body", "One more question")], &[])
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(text(&app, &format!("SELECT status AS t FROM tickets WHERE id = {ticket}")), "open");
    assert_eq!(
        scalar(&app, &format!("SELECT CAST(unread_by_manager AS BIGINT) AS n FROM tickets WHERE id = {ticket}")),
        unread + 1
    );
    assert_counts_consistent(&app);
    // An empty reply is explained.
    let page = affiliate.post_multipart(&format!("/affiliate/tickets/{ticket}/messages"), &[("body", "  ")], &[]).await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Write a message."));
});

db_test!(quick_reply_templates_fill_variables, |app| {
    app.seed_demo();
    let general = ids_where(&app, "type = 'general'")[0];
    let request = ids_where(&app, "type = 'offer_request'")[0];
    let greeting = scalar(&app, "SELECT id AS n FROM reply_templates WHERE title = 'Offer approved'");
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get(&format!("/admin/tickets/{request}")).await;
    let offer_title = text(
        &app,
        &format!("SELECT o.title AS t FROM offers o JOIN tickets t ON t.offer_id = o.id WHERE t.id = {request}"),
    );
    let name = text(
        &app,
        &format!("SELECT a.name AS t FROM affiliates a JOIN tickets t ON t.affiliate_id = a.id WHERE t.id = {request}"),
    );
    let page = c.htmx_get(&format!("/admin/tickets/{request}/template?template_id={greeting}")).await;
    assert!(
        page.contains(&format!("Hi {name}")) && page.contains(&offer_title) && page.contains("Alex Admin"),
        "{}",
        page.body
    );
    // No offer on a general ticket: the variable stays and the form warns.
    let page = c.htmx_get(&format!("/admin/tickets/{general}/template?template_id={greeting}")).await;
    assert!(
        page.contains("{offer.title}") && page.contains("has no value for {offer.title}, {offer.id}"),
        "{}",
        page.body
    );
    // Without JavaScript: the "Use template" button re-shows the form, nothing is sent.
    let before = scalar(&app, "SELECT COUNT(*) AS n FROM messages");
    let page = c
        .post_multipart(
            &format!("/admin/tickets/{request}/messages"),
            &[("body", ""), ("template_id", &greeting.to_string()), ("use_template", "1")],
            &[],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.contains(&offer_title));
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM messages"), before);
});

db_test!(reply_and_close_and_htmx_append, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "status = 'open' AND type = 'technical'")[0];
    let mut c = app.login_admin("admin@affdesk.test").await;
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
    assert_eq!(text(&app, &format!("SELECT status AS t FROM tickets WHERE id = {ticket}")), "closed");
    assert_counts_consistent(&app);
});

db_test!(a_banner_shows_once, |app| {
    app.seed_demo();
    let ticket = ids_where(&app, "status = 'open'")[0];
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get(&format!("/admin/tickets/{ticket}")).await;
    let done = c.post(&format!("/admin/tickets/{ticket}/close"), &[]).await;
    assert_eq!(done.status, 303);
    let page = c.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(page.contains(&format!("Ticket {ticket} closed.")));
    assert_eq!(page.body.matches("id=\"flash\"").count(), 1, "one banner region");
    // An affiliate's new ticket opens on its thread with one banner too.
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    affiliate.get("/affiliate/tickets/new").await;
    let sent =
        affiliate.post_multipart("/affiliate/tickets", &[("type", "other"), ("title", "Hi"), ("body", "x")], &[]).await;
    let page = affiliate.get(sent.location.as_deref().unwrap()).await;
    assert!(page.contains("was sent to your manager"));
    assert_eq!(page.body.matches("id=\"flash\"").count(), 1);
});

db_test!(the_affiliate_is_shown_beside_the_thread, |app| {
    app.seed_demo();
    let tickets = ids_where(&app, "affiliate_id = 1 AND status = 'open'");
    let (ticket, other) = (tickets[0], tickets[1]);
    let mut manager = app.login_admin("admin@affdesk.test").await;
    let thread = manager.get(&format!("/admin/tickets/{ticket}")).await;
    assert!(thread.contains(&format!("hx-get=\"/admin/tickets/{ticket}/affiliate\"")), "loaded beside the thread");
    // The panel alone for htmx, a page of its own without scripts.
    let panel = manager.htmx_get(&format!("/admin/tickets/{ticket}/affiliate")).await;
    assert_eq!(panel.status, 200);
    assert!(!panel.contains("<html"), "a fragment");
    let name = text(&app, "SELECT name AS t FROM affiliates WHERE id = 1");
    assert!(panel.contains(&name));
    assert!(panel.contains(&format!("href=\"/admin/tickets/{other}\"")), "their other open tickets");
    assert!(!panel.contains(&format!("href=\"/admin/tickets/{ticket}\">#")), "not this one");
    assert_eq!(
        panel.body.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap().matches("<tr>").count(),
        7
    );
    let granted = scalar(&app, "SELECT COUNT(*) AS n FROM offer_access WHERE affiliate_id = 1 AND state = 'enabled'");
    assert_eq!(granted > 0, panel.contains("Offer <a href=\"/admin/offers/"), "access listed when there is some");
    let page = manager.get(&format!("/admin/tickets/{ticket}/affiliate")).await;
    assert!(page.contains("<html") && page.contains("Back to ticket"));
    // Another manager's affiliate: nothing of them.
    let stranger = text(
        &app,
        &format!(
            "SELECT email AS t FROM users WHERE kind = 'manager' AND id <> (SELECT manager_id FROM tickets WHERE id = {ticket}) ORDER BY id LIMIT 1"
        ),
    );
    let mut other_manager = app.login_admin(&stranger).await;
    let refused = other_manager.get(&format!("/admin/tickets/{ticket}/affiliate")).await;
    assert_eq!(refused.status, 404);
    assert!(!refused.contains(&name));
});

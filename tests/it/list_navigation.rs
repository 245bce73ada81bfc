//! Moving through the list in a working day: a bulk action that stays on its page,
//! waiting time, the last message on each row, finding affiliates by name,
//! Back/Forward restores and the thread's next ticket.

use affdesk::domain::states::TicketStatus;

use crate::db_test;
use crate::desk::{Find, TicketId};
use crate::support::row_ids;

db_test!(a_bulk_action_on_page_three_stays_on_page_three, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let page = c.get("/admin/tickets?per_page=10&page=3").await;
    assert!(page.contains("page 3 of"), "{}", page.body);
    let on_page = row_ids(&page.body);
    let first = on_page[0].to_string();
    let page = c
        .htmx_post("/admin/tickets/bulk", &[("per_page", "10"), ("page", "3"), ("action", "close"), ("ids", &first)])
        .await;
    assert!(page.contains("page 3 of"), "the list stays on page 3");
    assert!(page.contains(&format!("#{first}")), "the summary names the ticket");
    assert!(
        page.contains(&format!("id=\"ticket-{first}\" class=\"")) && page.contains(" marked\""),
        "the row is marked"
    );
    // Without script: redirected to page 3.
    let page =
        c.post("/admin/tickets/bulk", &[("per_page", "10"), ("page", "3"), ("action", "close"), ("ids", &first)]).await;
    assert_eq!(page.status, 303);
    let to = page.location.unwrap();
    assert!(to.contains("page=3") && to.contains("per_page=10"), "{to}");
});

db_test!(waiting_tickets_sort_longest_first_and_leave_when_answered, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let page = c.get("/admin/tickets?sort=waiting&per_page=100").await;
    let listed = row_ids(&page.body);
    // Longest waiting first, then by id; those not waiting are not listed.
    let mut waiting: Vec<(chrono::NaiveDateTime, i64)> = app
        .find(Find::default())
        .into_iter()
        .map(|t| app.ticket(t))
        .filter_map(|t| t.waiting_since.map(|since| (since, t.id)))
        .collect();
    waiting.sort();
    let expected: Vec<i64> = waiting.into_iter().take(100).map(|(_, id)| id).collect();
    assert_eq!(listed, expected);
    assert!(page.contains("class=\"waiting"), "waiting time shown");
    // A manager's answer ends the wait; the affiliate's next message starts it again.
    let longest = listed[0];
    let reply = c.post_multipart(&format!("/admin/tickets/{longest}/messages"), &[("body", "Answered.")], &[]).await;
    assert_eq!(reply.status, 303);
    assert!(app.ticket(TicketId(longest)).waiting_since.is_none(), "the answer ends the wait");
    assert!(!row_ids(&c.get("/admin/tickets?sort=waiting&per_page=100").await.body).contains(&longest));
    let mut them = app.login_affiliate(&app.affiliate_of(TicketId(longest)).email).await;
    them.get(&format!("/affiliate/tickets/{longest}")).await;
    them.post_multipart(&format!("/affiliate/tickets/{longest}/messages"), &[("body", "Thanks, one more thing")], &[])
        .await;
    assert!(app.ticket(TicketId(longest)).waiting_since.is_some(), "their message starts it again");
    // The list's second line says who spoke last.
    let page = c.get(&format!("/admin/tickets?id={longest}")).await;
    assert!(page.contains("<b>Affiliate:</b> Thanks, one more thing"), "{}", page.body);
});

db_test!(each_row_shows_the_last_public_message_kept_on_the_ticket, |app| {
    app.seed_demo();
    let open = app.find(Find { status: Some(TicketStatus::Open), ..Find::default() });
    let id = open.iter().map(|t| t.0).max().expect("an open ticket");
    let mut c = app.login_admin("admin@affdesk.test").await;
    c.get(&format!("/admin/tickets/{id}")).await;
    let reply = c
        .post_multipart(&format!("/admin/tickets/{id}/messages"), &[("body", "We raised the cap to 500 a day.")], &[])
        .await;
    assert_eq!(reply.status, 303);
    // A note is not the conversation: the row still shows the reply.
    let note = c
        .post_multipart(
            &format!("/admin/tickets/{id}/messages"),
            &[("body", "Check their traffic source first"), ("internal", "1")],
            &[],
        )
        .await;
    assert_eq!(note.status, 303);
    assert_eq!(app.last_message(TicketId(id)), "Check their traffic source first", "the note is kept");
    let page = c.get(&format!("/admin/tickets?id={id}")).await;
    assert!(page.contains("<b>Manager:</b> We raised the cap to 500 a day."), "{}", page.body);
    assert!(!page.contains("Check their traffic source"), "a note never shows in the list");
});

db_test!(affiliates_are_found_by_name_in_every_affiliate_field, |app| {
    app.seed_demo();
    let (first, second) = (app.staff("manager1@affdesk.test"), app.staff("manager2@affdesk.test"));
    let theirs = app.affiliates_with(&first);
    let (id, name) = (theirs[0].id, app.affiliate(&theirs[0]).name);
    let part: String = name.split_whitespace().last().unwrap().to_lowercase();
    let mut c = app.login_admin("manager1@affdesk.test").await;
    // The list filter: the tickets of affiliates whose name holds the text.
    let page = c.get(&format!("/admin/tickets?affiliate_id={part}&per_page=100")).await;
    let ids = row_ids(&page.body);
    assert!(!ids.is_empty());
    let matching: Vec<i64> = theirs
        .iter()
        .filter(|a| app.affiliate(a).name.to_lowercase().contains(&part))
        .flat_map(|a| app.find(Find { affiliate: Some(a.id), manager: Some(first.id), ..Find::default() }))
        .map(|t| t.0)
        .collect();
    for id in &ids {
        assert!(matching.contains(id), "ticket {id} is not of an affiliate named like {part}");
    }
    // Suggestions: only the manager's own affiliates.
    let suggestions = c.htmx_get(&format!("/admin/affiliates/suggest?affiliate_id={part}")).await;
    assert!(suggestions.contains(&format!("<option value=\"{id}\">")), "{}", suggestions.body);
    assert!(!app.find(Find { not_manager: Some(first.id), ..Find::default() }).is_empty());
    let stranger = app.affiliate(&app.affiliates_with(&second)[0]).name;
    let theirs = c.htmx_get(&format!("/admin/affiliates/suggest?affiliate_id={}", url_part(&stranger))).await;
    assert!(!theirs.contains(&stranger), "another manager's affiliate is never suggested");
    // Statistics and the new-ticket form take the full name too.
    let stats = c.get(&format!("/admin/stats/daily?affiliate_id={}", url_part(&name))).await;
    assert!(stats.contains(&format!("#{id}</small></h1>")), "{}", stats.body);
    let page = c.get("/admin/tickets/new").await;
    assert_eq!(page.status, 200);
    let created = c
        .post_multipart(
            "/admin/tickets",
            &[("affiliate_id", &name), ("type", "general"), ("title", "Found by name"), ("body", "Hello")],
            &[],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let made = app.ticket(app.newest_ticket());
    assert_eq!((made.title.as_str(), made.affiliate_id), ("Found by name", id));
});

fn url_part(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

db_test!(back_and_forward_get_the_whole_page, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let fragment = c.htmx_get("/admin/tickets?status=open").await;
    assert!(!fragment.contains("<html"), "an htmx swap gets the fragment");
    let restored = c
        .get_with("/admin/tickets?status=open", &[("HX-Request", "true"), ("HX-History-Restore-Request", "true")])
        .await;
    assert!(restored.contains("<html") && restored.contains("id=\"filters\""), "a history restore gets the page");
    let thread = app.find(Find { status: Some(TicketStatus::Open), ..Find::default() })[0].0;
    let restored = c
        .get_with(
            &format!("/admin/tickets/{thread}"),
            &[("HX-Request", "true"), ("HX-History-Restore-Request", "true")],
        )
        .await;
    assert!(restored.contains("<html"), "a thread too");
});

db_test!(the_thread_links_the_next_ticket_of_its_list, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let list = c.get("/admin/tickets?status=open&type=technical").await;
    let rows = row_ids(&list.body);
    assert!(rows.len() >= 2);
    let link = |body: &str, id: i64| {
        let marker = format!("/admin/tickets/{id}?from=status%3Dopen%26type%3Dtechnical&#38;at=");
        body.split(&marker).nth(1).map(|rest| rest.split('"').next().unwrap_or("").to_string())
    };
    let at = link(&list.body, rows[0]).expect("the row links its thread with the list and its place");
    // Answering the ticket moves it to the top; the next ticket is still the one below its old place.
    let thread = c.get(&format!("/admin/tickets/{}?from=status%3Dopen%26type%3Dtechnical&at={at}", rows[0])).await;
    assert!(link(&thread.body, rows[1]).is_some(), "next is the second row: {}", thread.body);
    let reply = c
        .post_multipart(
            &format!("/admin/tickets/{}/messages", rows[0]),
            &[("body", "On it."), ("at", &at), ("from", "status=open&type=technical")],
            &[],
        )
        .await;
    assert_eq!(reply.status, 303);
    let thread = c.get(reply.location.as_deref().unwrap()).await;
    assert!(link(&thread.body, rows[1]).is_some(), "still the second row after the reply: {}", thread.body);
    assert!(thread.contains("href=\"/admin/tickets?status=open&#38;type=technical\""), "the way back");
});

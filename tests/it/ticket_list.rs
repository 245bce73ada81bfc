//! The managers' ticket list: filters against the database, scope, pagination,
//! bad input. (Its bulk actions: `bulk_actions.rs`.)

use crate::db_test;
use crate::support::*;

db_test!(every_filter_matches_the_database, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let m2 = user_id(&app, "manager2@affdesk.test");
    let offer = scalar(&app, "SELECT MIN(offer_id) AS n FROM tickets WHERE offer_id IS NOT NULL");
    let other_offer = scalar(&app, "SELECT MAX(offer_id) AS n FROM tickets WHERE offer_id IS NOT NULL");
    let some_id = scalar(&app, "SELECT MAX(id) AS n FROM tickets");
    let cases: Vec<(String, String)> = vec![
        ("".into(), "1 = 1".into()),
        ("status=open".into(), "status = 'open'".into()),
        ("status=closed".into(), "status = 'closed'".into()),
        ("type=financial&type=technical".into(), "type IN ('financial', 'technical')".into()),
        ("type=offer_request".into(), "type = 'offer_request'".into()),
        ("affiliate_id=3".into(), "affiliate_id = 3".into()),
        (format!("manager_id={m2}"), format!("manager_id = {m2}")),
        (format!("offer_id={offer}"), format!("offer_id = {offer}")),
        (format!("offer_id={offer}&offer_id={other_offer}"), format!("offer_id IN ({offer}, {other_offer})")),
        (format!("id={some_id}"), format!("id = {some_id}")),
        (format!("status=open&type=general&type=other&manager_id={m2}"), format!("status = 'open' AND type IN ('general', 'other') AND manager_id = {m2}")),
        ("q=POSTBACK".into(), "(lower(title) LIKE '%postback%' OR id IN (SELECT ticket_id FROM messages WHERE lower(body) LIKE '%postback%'))".into()),
        ("q=postback&status=open".into(), "status = 'open' AND (lower(title) LIKE '%postback%' OR id IN (SELECT ticket_id FROM messages WHERE lower(body) LIKE '%postback%'))".into()),
        ("q=casino royale".into(), "(lower(title) LIKE '%casino royale%')".into()),
    ];
    for (query, condition) in cases {
        let page = c.get(&format!("/admin/tickets?per_page=500&{query}")).await;
        assert_eq!(page.status, 200, "{query}");
        let expected = ids_where(&app, &condition);
        assert_eq!(row_ids(&page.body), expected, "rows for ?{query}");
        let n = expected.len();
        let total = if n == 1 { "1 ticket".to_string() } else { format!("{n} tickets") };
        assert!(page.contains(&format!("<strong>{total}</strong>")), "count for ?{query}: {total}");
    }
    // Sorting by creation, oldest first (demo ids grow with creation time).
    let page = c.get("/admin/tickets?per_page=500&sort=created_asc").await;
    let rows = row_ids(&page.body);
    let mut sorted = rows.clone();
    sorted.sort();
    assert_eq!(rows, sorted, "oldest first");
    assert_eq!(rows.len(), 200);
});

db_test!(a_manager_sees_only_their_affiliates, |app| {
    app.seed_demo();
    let m1 = user_id(&app, "manager1@affdesk.test");
    let m2 = user_id(&app, "manager2@affdesk.test");
    let mut c = app.login_admin("manager1@affdesk.test").await;
    let page = c.get("/admin/tickets?per_page=500").await;
    assert_eq!(row_ids(&page.body), ids_where(&app, &format!("manager_id = {m1}")));
    // Filters never widen the scope.
    let page = c.get(&format!("/admin/tickets?per_page=500&manager_id={m2}")).await;
    assert!(row_ids(&page.body).is_empty());
    assert!(page.contains("<strong>0 tickets</strong>"));
    // The Manager filter is a select of names: theirs; a bookmarked other stays named.
    assert!(page.contains(&format!("<option value=\"{m1}\">Maria Keller ({m1})</option>")), "{}", page.body);
    assert!(page.contains(&format!("<option value=\"{m2}\" selected>Manager #{m2}</option>")));
    assert!(!page.contains("name=\"manager_id\" type=\"text\""));
    let other = ids_where(&app, &format!("manager_id = {m2}"))[0];
    let page = c.get(&format!("/admin/tickets?id={other}")).await;
    assert!(row_ids(&page.body).is_empty());
    let other_affiliate = scalar(&app, &format!("SELECT affiliate_id AS n FROM tickets WHERE id = {other}"));
    let page = c.get(&format!("/admin/tickets?affiliate_id={other_affiliate}")).await;
    assert!(row_ids(&page.body).is_empty());
});

db_test!(pages_walk_the_whole_list_both_ways, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let all = ids_where(&app, "status = 'closed'");
    let mut seen = Vec::new();
    let mut url = "/admin/tickets?status=closed&per_page=10".to_string();
    let mut pages = 0;
    let mut urls = Vec::new();
    loop {
        let page = c.get(&url).await;
        assert_eq!(page.status, 200);
        let rows = row_ids(&page.body);
        assert!(rows.len() <= 10);
        pages += 1;
        assert!(page.contains(&format!("Page {pages} of {}", all.len().div_ceil(10))), "page number {pages}");
        seen.extend(rows);
        urls.push(url.clone());
        match link_with_text(&page.body, "Next ›") {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(seen, all, "every ticket once, in order");
    // Backwards from the last page gives the same pages.
    let last = c.get(&urls[urls.len() - 1]).await;
    let prev = link_with_text(&last.body, "‹ Previous").expect("a previous link");
    let page = c.get(&prev).await;
    assert_eq!(row_ids(&page.body), all[(pages - 2) * 10..(pages - 1) * 10].to_vec());
    // The Last link from page 1.
    let first = c.get("/admin/tickets?status=closed&per_page=10").await;
    let last_link = link_with_text(&first.body, "Last »").expect("a last link");
    let page = c.get(&last_link).await;
    assert_eq!(row_ids(&page.body), all[(pages - 1) * 10..].to_vec());
    assert!(link_with_text(&page.body, "Next ›").is_none());
    // A page number without a cursor still works (old bookmarks).
    let page = c.get("/admin/tickets?status=closed&per_page=10&page=2").await;
    assert_eq!(row_ids(&page.body), all[10..20].to_vec());
});

db_test!(numbered_pages_are_slices_of_the_whole_list_in_every_order, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    for sort in ["updated_desc", "updated_asc", "created_desc", "created_asc", "waiting"] {
        for filter in ["", "&status=open", "&q=postback"] {
            let whole = row_ids(&c.get(&format!("/admin/tickets?per_page=500&sort={sort}{filter}")).await.body);
            assert!(whole.len() > 10, "more than one page: sort={sort}{filter}");
            let mut paged = Vec::new();
            for n in 1..=whole.len().div_ceil(10) {
                let page = c.get(&format!("/admin/tickets?per_page=10&sort={sort}{filter}&page={n}")).await;
                assert_eq!(page.status, 200);
                assert!(page.contains(&format!("Page {n} of ")), "page {n}, sort={sort}{filter}");
                paged.extend(row_ids(&page.body));
            }
            assert_eq!(paged, whole, "pages by number, sort={sort}{filter}");
        }
    }
});

db_test!(pages_run_through_tickets_that_share_a_time, |app| {
    app.seed_demo();
    // A bulk action gives many tickets one time: 35 closed tickets here share one
    // updated, created and waiting time, so pages start and end inside the group.
    let tied: Vec<i64> = ids_where(&app, "status = 'closed'")[5..40].to_vec();
    let ids = tied.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let from = format!("(SELECT updated_at FROM tickets WHERE id = {})", tied[0]);
    {
        use diesel::RunQueryDsl;
        let mut conn = app.conn();
        diesel::sql_query(format!(
            "UPDATE tickets SET updated_at = {from}, created_at = {from}, waiting_since = {from} WHERE id IN ({ids})"
        ))
        .execute(&mut *conn as &mut affdesk::db::AnyConnection)
        .unwrap();
    }
    let mut c = app.login_admin("admin@affdesk.test").await;
    for sort in ["updated_desc", "updated_asc", "created_desc", "created_asc", "waiting"] {
        for filter in ["", "&status=closed"] {
            let whole = row_ids(&c.get(&format!("/admin/tickets?per_page=500&sort={sort}{filter}")).await.body);
            let mut by_number = Vec::new();
            for n in 1..=whole.len().div_ceil(10) {
                let page = c.get(&format!("/admin/tickets?per_page=10&sort={sort}{filter}&page={n}")).await;
                by_number.extend(row_ids(&page.body));
            }
            assert_eq!(by_number, whole, "pages by number, sort={sort}{filter}");
            let mut by_link = Vec::new();
            let mut url = format!("/admin/tickets?per_page=10&sort={sort}{filter}");
            loop {
                let page = c.get(&url).await;
                assert_eq!(page.status, 200);
                by_link.extend(row_ids(&page.body));
                match link_with_text(&page.body, "Next ›") {
                    Some(next) if by_link.len() < whole.len() => url = next,
                    _ => break,
                }
            }
            assert_eq!(by_link, whole, "pages by Next, sort={sort}{filter}");
        }
    }
    let closed = row_ids(&c.get("/admin/tickets?per_page=500&sort=updated_desc&status=closed").await.body);
    assert!(tied.iter().all(|id| closed.contains(id)), "the tied tickets are in the list walked");
    // The thread's "Next ticket" walks the same order through the tied group.
    let list = c.get("/admin/tickets?status=closed").await;
    let marker = format!("/admin/tickets/{}?from=", closed[0]);
    let rest = list.body.split(&marker).nth(1).expect("the first row links its thread");
    let mut url = format!("{marker}{}", rest.split('"').next().unwrap_or("")).replace("&#38;", "&");
    for expected in closed.iter().take(50) {
        assert!(url.starts_with(&format!("/admin/tickets/{expected}?")), "{url} is not ticket {expected}");
        let thread = c.get(&url).await;
        assert_eq!(thread.status, 200);
        url = link_with_text(&thread.body, "Next ticket ›").expect("a next ticket").replace("&#38;", "&");
    }
});

db_test!(bad_filter_values_are_explained_not_fatal, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    for (query, message) in [
        ("id=abc", "Ticket ID must be a whole number above 0, not &#34;abc&#34;."),
        ("type=bogus", "Unknown question type &#34;bogus&#34;."),
        ("page=0", "Page must be 1 or more, not &#34;0&#34;."),
        ("per_page=7", "Per page must be 10, 25, 50, 100 or 500, not &#34;7&#34;."),
        ("status=maybe", "Unknown status &#34;maybe&#34;"),
        ("after=garbage", "That page link is damaged"),
        ("affiliate_id=-4", "Affiliate ID must be a whole number above 0"),
    ] {
        let page = c.get(&format!("/admin/tickets?{query}")).await;
        assert_eq!(page.status, 200, "{query}");
        assert!(page.contains(message), "{query}: {message}");
        assert_eq!(row_ids(&page.body).len(), 25, "a sensible list for {query}");
    }
    let page = c.get("/admin/tickets?q=%22%22%3F").await;
    assert!(page.contains("Search for words"));
});

db_test!(htmx_gets_only_the_results, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let page = c.htmx_get("/admin/tickets?status=open").await;
    assert_eq!(page.status, 200);
    assert!(page.body.trim_start().starts_with("<div id=\"results\""));
    assert!(!page.contains("<html"));
    assert_eq!(row_ids(&page.body), ids_where(&app, "status = 'open'")[..25].to_vec());
    let empty = c.get("/admin/tickets?q=zzzznothing").await;
    assert!(empty.contains("No tickets match these filters") && empty.contains("Clear the filters"));
});

db_test!(add_puts_the_ticket_on_top, |app| {
    app.seed_demo();
    let mut c = app.login_admin("manager1@affdesk.test").await;
    let form = c.get("/admin/tickets/new").await;
    assert_eq!(form.status, 200);
    // Someone else's affiliate, and missing fields, are explained next to the fields.
    let theirs = scalar(
        &app,
        "SELECT MIN(id) AS n FROM affiliates WHERE manager_id <> (SELECT id FROM users WHERE email = 'manager1@affdesk.test')",
    );
    let page = c
        .post_multipart(
            "/admin/tickets",
            &[("affiliate_id", &theirs.to_string()), ("type", "general"), ("title", ""), ("body", "x")],
            &[],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.contains(&format!("There is no affiliate with ID {theirs} among yours."))
            && page.contains("Enter a title.")
    );
    let before = scalar(&app, "SELECT COUNT(*) AS n FROM tickets");
    let mine = scalar(
        &app,
        "SELECT MIN(id) AS n FROM affiliates WHERE manager_id = (SELECT id FROM users WHERE email = 'manager1@affdesk.test')",
    );
    let page = c
        .post_multipart(
            "/admin/tickets",
            &[
                ("affiliate_id", &mine.to_string()),
                ("type", "financial"),
                ("title", "Your invoice <b>April</b>"),
                ("body", "Please check."),
            ],
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(scalar(&app, "SELECT COUNT(*) AS n FROM tickets"), before + 1);
    let list = c.get("/admin/tickets").await;
    let new_id = scalar(&app, "SELECT MAX(id) AS n FROM tickets");
    assert_eq!(row_ids(&list.body)[0], new_id, "on top of the list");
    assert!(list.contains("Your invoice &#60;b&#62;April&#60;/b&#62;"), "escaped");
    assert_counts_consistent(&app);
});

db_test!(a_page_past_the_end_shows_the_last_page, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let open = ids_where(&app, "status = 'open'");
    let last_open = open[(open.len() - 1) / 25 * 25..].to_vec();
    let of_affiliate = ids_where(&app, "affiliate_id = 1");
    let far_future = affdesk::domain::ticket_list::Cursor {
        at: chrono::NaiveDate::from_ymd_opt(2999, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap(),
        id: 1,
    }
    .encode();
    for (query, expected) in [
        ("status=open&page=999999".to_string(), last_open.clone()),
        ("status=open&page=4294967295".to_string(), last_open.clone()),
        ("affiliate_id=1&page=5".to_string(), of_affiliate.clone()),
        // A stale cursor: after a row older than every ticket, before one newer than all.
        ("status=open&after=1.1&page=3".to_string(), last_open.clone()),
        (format!("status=open&before={far_future}&page=2"), last_open.clone()),
    ] {
        let page = c.get(&format!("/admin/tickets?{query}")).await;
        assert_eq!(page.status, 200, "{query}");
        assert_eq!(row_ids(&page.body), expected, "{query}: the last page");
        let htmx = c.htmx_get(&format!("/admin/tickets?{query}")).await;
        assert_eq!((htmx.status, row_ids(&htmx.body)), (200, expected), "{query} with htmx");
    }
    // With nothing to show, an empty list with a way back.
    let page = c.get("/admin/tickets?id=999999&page=7").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("No tickets match these filters") && page.contains("Clear the filters"));
    // The affiliate's Support list too.
    let mut affiliate = app.login_affiliate("affiliate1@affdesk.test").await;
    let page = affiliate.get("/affiliate/tickets?page=999").await;
    assert_eq!(page.status, 200);
    let shown = of_affiliate.iter().filter(|id| page.contains(&format!("/affiliate/tickets/{id}\""))).count();
    assert_eq!(shown, of_affiliate.len().min(25));
});

db_test!(access_requests_filter_by_their_state, |app| {
    app.seed_demo();
    let mut c = app.login_admin("admin@affdesk.test").await;
    let page = c.get("/admin/tickets?request_state=pending&per_page=100").await;
    assert_eq!(row_ids(&page.body), ids_where(&app, "request_state = 'pending'"));
    assert!(page.contains("value=\"pending\" checked"), "the box stays ticked");
    assert!(page.contains("href=\"/admin/tickets?request_state=pending\""), "the shortcut");
    let page = c.get("/admin/tickets?request_state=approved&request_state=rejected&per_page=100").await;
    assert_eq!(row_ids(&page.body), ids_where(&app, "request_state IN ('approved', 'rejected')"));
    let page = c.get("/admin/tickets?request_state=later").await;
    assert!(page.contains("Unknown request state &#34;later&#34;"));
    // The API reads the same filter.
    let mut conn = app.conn();
    let user = affdesk::domain::users::User::find_by_email(&mut conn, "admin@affdesk.test").unwrap().unwrap();
    let key = affdesk::domain::users::User::issue_api_key(&mut conn, user.id).unwrap();
    drop(conn);
    let resp = reqwest::Client::new()
        .get(app.url("/3.0/admin/tickets?request_state[]=pending&limit=500"))
        .header("API-Key", &key)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    let ids: Vec<i64> =
        body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(ids, ids_where(&app, "request_state = 'pending'"));
});
